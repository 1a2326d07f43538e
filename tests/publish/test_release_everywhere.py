"""The release manager's run, from a fresh clone: one TOML pipeline builds a wheel and an sdist, an npm
tarball and an OCI image layout, logs in to the local registry, and delivers each to its own server
(pypiserver, Verdaccio, Debian's docker-registry, all on 127.0.0.1). Each is then fetched back by its own
ecosystem's client (pip, npm, skopeo), the terminal, `runs show` and JUnit say where each went, and no
token reaches any sink."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from _leaks import find_bytes
from _servers.pypi import PackageIndex, build_command, offline_pip_env, pip_install, write_source
from _servers.registry import Registry
from _servers.verdaccio import NpmRegistry

pytestmark = pytest.mark.slow

GRYT = [sys.executable, "-c", "from gryt.cli import main; main()"]
LAYOUT_SCRIPT = Path(__file__).resolve().parents[1] / "_servers" / "oci_layout.py"
VERSION = "2.4.0"


def git(*args: str, cwd: Path) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=60,
    )


def write_origin(origin: Path, name: str, index: PackageIndex, npm: NpmRegistry, registry: Registry) -> None:
    """A project with a Python package, an npm package, an image's files and the release pipeline; its
    build outputs (dist/) are ignored, so a clone starts without them."""
    write_source(origin / "py", name, VERSION)
    web = origin / "web"
    web.mkdir()
    package = {"name": f"@gryt-e2e/{name}", "version": VERSION, "main": "index.js", "license": "MIT"}
    (web / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    (web / "index.js").write_text(f"module.exports = {{ version: {json.dumps(VERSION)} }};\n")
    (origin / "image").mkdir()
    (origin / "image" / "hello.sh").write_text("echo hello from the image\n")
    (origin / "tools").mkdir()
    shutil.copy(LAYOUT_SCRIPT, origin / "tools" / "build_image.py")
    (origin / ".gitignore").write_text("dist/\n.gryt/gryt.db*\n.gryt/logs/\n")
    build_wheel = build_command(Path("py"), Path("dist/python"))
    build_image = [sys.executable, "tools/build_image.py", "image", "dist/image", "--tag", VERSION]
    pipelines = origin / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    (pipelines / "release.toml").write_text(
        f"""\
[pipeline]
name = "release"
parallel = true

[[auth]]
type = "docker-registry"
id = "registry"
registry = "{registry.host}"
method = "api"

[[runners]]
id = "python"
steps = [{{ id = "wheel", cmd = {json.dumps(build_wheel)} }}]

[[runners]]
id = "npm"
steps = [
  {{ id = "dist", cmd = ["mkdir", "-p", "dist/npm"] }},
  {{ id = "pack", cmd = ["npm", "pack", "--pack-destination", "../dist/npm"], cwd = "web" }},
]

[[runners]]
id = "image"
steps = [{{ id = "layout", cmd = {json.dumps(build_image)} }}]

[[destinations]]
id = "index"
type = "pypi"
repository_url = "{index.upload_url}"
username = "{index.username}"
artifacts = ["dist/python/*"]

[[destinations]]
id = "npm"
type = "npm"
registry = "{npm.url}"
artifacts = ["dist/npm/*.tgz"]

[[destinations]]
id = "image"
type = "oci-image"
repository = "{registry.host}/e2e/{name}"
tags = ["{VERSION}", "latest"]
artifacts = ["dist/image"]

[artifacts]
paths = ["dist/python/*.whl", "dist/python/*.tar.gz", "dist/npm/*.tgz", "dist/image"]
"""
    )


def test_one_pipeline_delivers_a_wheel_an_npm_package_and_an_image(
    pypi_server: PackageIndex, npm_registry: NpmRegistry, basic_registry: Registry, tmp_path: Path
) -> None:
    skopeo = shutil.which("skopeo")
    if skopeo is None or shutil.which("npm") is None:
        pytest.skip("skopeo and npm are needed (.ci/install-skopeo.sh, .ci/install-verdaccio.sh)")
    name = "gryt_e2e_" + secrets.token_hex(4)
    origin, clone = tmp_path / "origin", tmp_path / "clone"
    write_origin(origin, name, pypi_server, npm_registry, basic_registry)
    git("init", "-q", cwd=origin)
    git("add", ".", cwd=origin)
    git("commit", "-q", "-m", "release pipeline", cwd=origin)
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    assert not (clone / "dist").exists()

    home = tmp_path / "home"
    home.mkdir()
    env = {
        **npm_registry.npm_env(tmp_path / "npm-client"),
        **offline_pip_env(home),
        "TMPDIR": str(tmp_path),
        "NO_COLOR": "1",
        "PYPI_TOKEN": pypi_server.token,
        "NPM_TOKEN": npm_registry.token,
        "DOCKER_USERNAME": basic_registry.username,
        "DOCKER_TOKEN": basic_registry.token,
    }
    env = {k: v for k, v in env.items() if k not in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    run = subprocess.run(
        [*GRYT, "run", "release", "--junit", "junit.xml"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    run_id = run.stdout.splitlines()[-1].split()[1]
    shown = subprocess.run(
        [*GRYT, "runs", "show", run_id, "--json"],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    record: dict[str, Any] = json.loads(shown.stdout)
    rows = {(r["destination_id"], Path(r["artifact"]).name): r for r in record["destination_runs"]}
    wheel, sdist = f"{name}-{VERSION}-py2.py3-none-any.whl", f"{name}-{VERSION}.tar.gz"
    tarball = f"gryt-e2e-{name}-{VERSION}.tgz"
    assert sorted(rows) == sorted([("image", "image"), ("index", sdist), ("index", wheel), ("npm", tarball)])
    assert {r["status"] for r in rows.values()} == {"success"}

    # pip installs the wheel from the index, and it imports
    venv = tmp_path / "venv"
    installed = pip_install(pypi_server, f"{name}=={VERSION}", venv)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    imported = subprocess.run(
        [str(venv / "bin" / "python"), "-c", f"import {name}; print({name}.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert imported.stdout.strip() == VERSION, imported.stderr

    # npm installs the package from the registry, and node requires it
    consumer = tmp_path / "consumer"
    consumer.mkdir()
    npm_env = npm_registry.npm_env(tmp_path / "npm-consumer")
    spec = f"@gryt-e2e/{name}@{VERSION}"
    got = subprocess.run(
        ["npm", "install", "--no-save", "--registry", npm_registry.url, spec],
        cwd=consumer,
        env=npm_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert got.returncode == 0, got.stderr
    required = subprocess.run(
        ["node", "-e", f"console.log(require({json.dumps(f'@gryt-e2e/{name}')}).version)"],
        cwd=consumer,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert required.stdout.strip() == VERSION, required.stderr

    # skopeo sees the image under both tags with the digest the run reported
    image = rows[("image", "image")]["details"]
    authfile = tmp_path / "skopeo-auth.json"
    login = base64.b64encode(f"{basic_registry.username}:{basic_registry.token}".encode()).decode()
    authfile.write_text(json.dumps({"auths": {basic_registry.host: {"auth": login}}}))
    for tag in (VERSION, "latest"):
        ref = f"docker://{basic_registry.host}/e2e/{name}:{tag}"
        inspected = subprocess.run(
            [skopeo, "inspect", "--tls-verify=false", "--authfile", str(authfile), ref],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert inspected.returncode == 0, inspected.stderr
        assert json.loads(inspected.stdout)["Digest"] == image["digest"]

    # the terminal, runs show and JUnit say where each artifact went
    went = {line.split()[1]: line.split(" -> ")[1] for line in run.stdout.splitlines() if " -> " in line}
    assert went[f"dist/python/{wheel}"].endswith(f"/{wheel}") or wheel in went[f"dist/python/{wheel}"]
    assert went[f"dist/npm/{tarball}"] == rows[("npm", tarball)]["details"]["url"]
    assert went["dist/image"] == image["url"]
    table = subprocess.run(
        [*GRYT, "runs", "show", run_id], cwd=clone, env=env, capture_output=True, text=True, check=True
    ).stdout
    assert image["url"] in table
    cases = ET.parse(clone / "junit.xml").getroot().findall("testsuite[@name='deliver']/testcase")
    outs = {str(case.get("name")): case.findtext("system-out") or "" for case in cases}
    assert sorted(outs) == ["image", "index", "npm"]
    assert f"dist/image -> {image['url']}" in outs["image"]

    # no token anywhere: output, database, logs, JUnit, home, temp files
    tokens = [pypi_server.token, npm_registry.token, basic_registry.token, login]
    needles = [t.encode() for t in tokens]
    assert not [t[:12] for t in tokens if t in run.stdout + run.stderr + shown.stdout + table]
    assert find_bytes(clone, needles) == []
    assert find_bytes(home, needles) == []
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(("gryt", "tmp"))]
    assert [hit for p in leftovers for hit in find_bytes(p, needles)] == []
    assert os.environ.get("NPM_TOKEN") != npm_registry.token

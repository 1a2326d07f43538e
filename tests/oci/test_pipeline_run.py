"""`gryt run` end to end in a subprocess, from the user's side: an `[[auth]] type = "docker-registry"` step
logs in, a step builds the files and an OCI image layout (tests/_servers/oci_layout.py), then the `oci`
and `oci-image` destinations push them. skopeo checks the pushed image's digest; no secret (the token,
its base64 login, the bearer tokens the token server issued) reaches any sink. A SIGINT in the middle of
a blob upload ends the run `interrupted` with no tag in the registry."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _leaks import find_bytes
from _servers.registry import Registry

from .conftest import LAYOUT_SCRIPT, Skopeo

GRYT = [sys.executable, "-c", "from gryt.cli import main; main()"]

MAKE_FILES = (
    "import pathlib; d = pathlib.Path('dist/files'); d.mkdir(parents=True); "
    "(d / 'notes.txt').write_text('release notes'); (d / 'app.bin').write_bytes(bytes(range(256)) * 8)"
)


def write_project(
    root: Path, registry: Registry, namespace: str, *, filler: int = 0, chunk_size: int = 8 << 20
) -> None:
    (root / "src").mkdir(parents=True)
    (root / "src" / "main.sh").write_text("echo hello\n")
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    python = json.dumps(sys.executable)
    build = [sys.executable, str(LAYOUT_SCRIPT), "src", "dist/image", "--tag", "1.0", "--filler", str(filler)]
    (pipelines / "release.toml").write_text(
        f"""
[pipeline]
name = "release"

[[auth]]
type = "docker-registry"
id = "registry"
registry = "{registry.host}"
method = "api"

[[runners]]
id = "build"
steps = [
  {{ id = "files", cmd = [{python}, "-c", {json.dumps(MAKE_FILES)}] }},
  {{ id = "image", cmd = {json.dumps(build)} }},
]

[[destinations]]
id = "files"
type = "oci"
repository = "{registry.host}/{namespace}/files"
tag = "1.0"
artifacts = ["dist/files/*"]

[[destinations]]
id = "image"
type = "oci-image"
repository = "{registry.host}/{namespace}/app"
tags = ["1.0", "latest"]
chunk_size = {chunk_size}
artifacts = ["dist/image"]

[artifacts]
paths = ["dist/files/*", "dist/image"]
"""
    )


def user_env(registry: Registry, tmp_path: Path) -> dict[str, str]:
    home, tmp = tmp_path / "home", tmp_path / "tmp"  # home: made by the isolated_user fixture
    tmp.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    env.update(
        HOME=str(home),
        TMPDIR=str(tmp),
        DOCKER_USERNAME=registry.username,
        DOCKER_TOKEN=registry.token,
        NO_COLOR="1",
    )
    return env


def test_login_build_and_push_both(registry: Registry, skopeo: Skopeo, tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, registry, "run")
    env = user_env(registry, tmp_path)
    issued_before = len(registry.token_server.issued) if registry.token_server else 0
    proc = subprocess.run(
        [*GRYT, "run", "release", "--json", "--junit", "junit.xml"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    assert result["status"] == "success"

    files = result["destinations"]["files"]
    assert [(r["artifact"], r["status"]) for r in files] == [
        ("dist/files/app.bin", "success"),
        ("dist/files/notes.txt", "success"),
    ]
    assert files[0]["ref"] == f"{registry.host}/run/files:1.0"
    (image,) = result["destinations"]["image"]
    built_digest = result["runners"]["build"]["image"]["stdout"].strip()
    assert image["status"] == "success"
    assert image["digest"] == built_digest
    assert image["refs"] == [f"{registry.host}/run/app:1.0", f"{registry.host}/run/app:latest"]
    assert skopeo.inspect(f"{registry.host}/run/app:latest")["Digest"] == built_digest
    raw = skopeo.run(
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--authfile",
        str(skopeo.authfile),
        f"docker://{files[0]['ref']}",
    )
    assert "sha256:" + hashlib.sha256(raw.encode()).hexdigest() == files[0]["digest"]
    assert registry.tags("run/files") == ["1.0"]
    assert sorted(registry.tags("run/app")) == ["1.0", "latest"]

    shown = subprocess.run(
        [*GRYT, "runs", "show", result["run_id"], "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr.decode(errors="replace")[-2000:]
    assert image["digest"] in shown.stdout.decode()

    secrets = [registry.token.encode(), base64.b64encode(f"{registry.username}:{registry.token}".encode())]
    if registry.token_server is not None:
        issued = registry.token_server.issued[issued_before:]
        assert issued, "the push fetched bearer tokens"
        secrets += [token.encode() for token in issued]
    for stream in (proc.stdout, proc.stderr, shown.stdout, shown.stderr):
        for secret in secrets:
            assert secret not in stream
    assert (project / "junit.xml").exists()
    assert list((project / ".gryt").rglob("destination+image.log"))
    assert find_bytes(project, secrets) == []
    assert find_bytes(tmp_path / "home", secrets) == []
    assert find_bytes(tmp_path / "tmp", secrets) == [], "the run-scoped Docker config was left behind"


def _size(path: Path) -> int:
    """The size of an upload's data file; 0 once the registry has finished (and removed) the upload."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def test_sigint_during_a_blob_upload_leaves_no_tag(basic_registry: Registry, tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_project(project, basic_registry, "sigint", filler=32 << 20, chunk_size=8192)
    uploads = (
        basic_registry.log.parent
        / "data"
        / "docker"
        / "registry"
        / "v2"
        / "repositories"
        / "sigint"
        / "app"
        / "_uploads"
    )
    env = user_env(basic_registry, tmp_path)
    gryt = subprocess.Popen(
        [*GRYT, "run", "release", "--json"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(_size(p) > 1 << 20 for p in uploads.glob("*/data")):
            assert gryt.poll() is None, gryt.communicate()[1].decode(errors="replace")[-2000:]
            assert time.monotonic() < deadline, "the filler layer's upload never started"
            time.sleep(0.01)
        gryt.send_signal(signal.SIGINT)
        _stdout, stderr = gryt.communicate(timeout=60)
    finally:
        if gryt.poll() is None:
            gryt.kill()
            gryt.wait()
    assert gryt.returncode == 130, stderr.decode(errors="replace")[-2000:]
    assert basic_registry.tags("sigint/app") == []
    assert basic_registry.tags("sigint/files") == ["1.0"], "the destination before the image had finished"
    listed = subprocess.run(
        [*GRYT, "runs", "list", "--json"], cwd=project, env=env, capture_output=True, timeout=60, check=False
    )
    (run,) = json.loads(listed.stdout)
    assert run["status"] == "interrupted", run
    assert find_bytes(tmp_path / "tmp", [basic_registry.token.encode()]) == [], (
        "the run-scoped Docker config was left behind"
    )

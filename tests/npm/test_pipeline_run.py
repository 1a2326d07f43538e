"""`gryt run` with an `npm` destination, end to end in a subprocess: a step packs the package, the
destination publishes the tarball to Verdaccio, npm installs it back; the token's bytes appear in no sink
(stdout/stderr, --json, `runs show`, the database, the logs, JUnit, the temp dir) and the run-scoped
npm config is gone afterwards."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from _servers.verdaccio import NpmRegistry

from .conftest import install_and_require, unique_name, view, write_package

GRYT = [sys.executable, "-c", "from gryt.cli import main; main()"]


def write_project(root: Path, registry: NpmRegistry, name: str) -> None:
    write_package(root / "pkg", name, "0.3.0")
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    (pipelines / "release.toml").write_text(
        f"""
[pipeline]
name = "release"

[[runners]]
id = "build"
steps = [
  {{ id = "leak", cmd = ["sh", "-c", "echo token=$NPM_TOKEN; echo err=$NPM_TOKEN >&2"] }},
  {{ id = "pack", cmd = ["sh", "-c", "mkdir -p dist && npm pack ./pkg --pack-destination dist"] }},
]

[[destinations]]
type = "npm"
id = "registry"
registry = "{registry.url}"
artifacts = ["dist/*.tgz"]

[artifacts]
paths = ["dist/*.tgz"]
"""
    )


def files_with(roots: list[Path], needle: bytes) -> list[str]:
    hits = []
    for root in roots:
        for dirpath, _dirs, names in os.walk(root):
            for name in names:
                path = Path(dirpath, name)
                if path.is_file() and not path.is_symlink() and needle in path.read_bytes():
                    hits.append(str(path))
    return hits


def test_run_publishes_and_leaks_nothing(npm_registry: NpmRegistry, tmp_path: Path) -> None:
    project, home, tmp = tmp_path / "project", tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    name = unique_name("gryt")
    write_project(project, npm_registry, name)
    env = {k: v for k, v in os.environ.items() if not k.lower().startswith("npm_config_")}
    env.update(HOME=str(home), TMPDIR=str(tmp), NPM_TOKEN=npm_registry.token, NO_COLOR="1")
    env["npm_config_cache"] = str(tmp_path / "user-npm-cache")  # the pack step's cache, outside TMPDIR

    proc = subprocess.run(
        [*GRYT, "run", "release", "--json", "--junit", str(project / "junit.xml")],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=180,
        check=False,
    )

    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-2000:]
    result = json.loads(proc.stdout)
    assert result["status"] == "success"
    steps = result["runners"]["build"]
    assert "token=***" in steps["leak"]["stdout"]
    assert "err=***" in steps["leak"]["stderr"]
    [item] = result["destinations"]["registry"]
    assert item["status"] == "success", item
    assert (item["artifact"], item["name"], item["version"]) == (
        "dist/" + name[1:].replace("/", "-") + "-0.3.0.tgz",
        name,
        "0.3.0",
    )
    assert item["url"] == f"{npm_registry.url}{name}/0.3.0"

    shown = subprocess.run(
        [*GRYT, "runs", "show", result["run_id"], "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr.decode(errors="replace")[-2000:]
    assert name in shown.stdout.decode()

    logs = list((project / ".gryt" / "logs").rglob("destination+registry.log"))
    assert len(logs) == 1
    log = logs[0].read_text()
    assert "$ " in log and " publish " in log and "--userconfig=" in log
    assert f"{name}@0.3.0" in log  # npm's own notices

    token = npm_registry.token.encode()
    for stream in (proc.stdout, proc.stderr, shown.stdout, shown.stderr):
        assert token not in stream
    assert (project / "junit.xml").is_file()
    assert list(project.rglob("*.db")), "the run was recorded in a database file"
    assert files_with([project, home, tmp], token) == []
    assert list(tmp.iterdir()) == [], "the run-scoped npm config folder was removed"
    assert not (home / ".npmrc").exists()

    manifest = view(npm_registry, tmp_path, f"{name}@0.3.0")
    assert manifest is not None and manifest["dist"]["integrity"] == item["digest"]
    assert install_and_require(npm_registry, tmp_path, f"{name}@0.3.0", name) == {
        "name": name,
        "version": "0.3.0",
    }

"""The `oci` step cache against the real test registries: machine A (one project folder) stores its
steps' entries, machine B (another folder, nothing cached locally) gets them back byte for byte without
running the steps; a corrupt remote entry is a warning and a miss; rejected credentials are one warning
line and the run still succeeds, with no secret in any sink."""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from _leaks import find_bytes
from _servers.registry import Registry

from gryt_oci.cache import TAG_PREFIX

from .conftest import write_login

GRYT = [sys.executable, "-c", "from gryt.cli import main; main()"]

BUILD = """\
import pathlib, sys
src = pathlib.Path("src/data.txt").read_bytes()
out = pathlib.Path("out")
(out / "lib").mkdir(parents=True, exist_ok=True)
(out / "lib" / "app.bin").write_bytes(src * 300 + bytes(range(256)))
(out / "copy.bin").write_bytes(src * 300 + bytes(range(256)))
(out / "tool.sh").write_text("#!/bin/sh\\necho tool\\n")
(out / "tool.sh").chmod(0o755)
with open(sys.argv[1], "a") as count:
    count.write("build\\n")
print("built", len(src))
"""


def make_machine(root: Path, repository: str, marker: Path, content: bytes, *, local: bool = True) -> Path:
    """A project as a fresh checkout on one machine: the sources, the pipeline, the cache config."""
    (root / "src").mkdir(parents=True)
    (root / "src" / "data.txt").write_bytes(content)
    (root / "build.py").write_text(BUILD)
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    (root / ".gryt" / "config.toml").write_text(
        f'cache = "oci"\ncache_options = {{ repository = "{repository}", local = {str(local).lower()} }}\n'
    )
    cmd = json.dumps([sys.executable, "build.py", str(marker)])
    (pipelines / "ci.toml").write_text(
        f"""
[[runners]]
id = "build"
steps = [
  {{ id = "compile", cmd = {cmd}, inputs = ["src/**", "build.py"], outputs = ["out"] }},
]
"""
    )
    return root


def run(project: Path, docker_config: Path) -> tuple[dict[str, Any], subprocess.CompletedProcess[bytes]]:
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    env.update(DOCKER_CONFIG=str(docker_config), NO_COLOR="1")
    proc = subprocess.run(
        [*GRYT, "run", "ci", "--json"], cwd=project, env=env, capture_output=True, timeout=180, check=False
    )
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout)
    return result, proc


def outputs(project: Path) -> dict[str, tuple[bytes, int]]:
    """Every output file: its bytes and permission bits."""
    return {
        str(p.relative_to(project)): (p.read_bytes(), p.stat().st_mode & 0o777)
        for p in sorted((project / "out").rglob("*"))
        if p.is_file()
    }


def test_a_second_machine_gets_hits_from_the_registry(registry: Registry, tmp_path: Path) -> None:
    repository = f"{registry.host}/cache/hits"
    marker = tmp_path / "executions.txt"
    content = secrets.token_bytes(64)  # this test's own blobs: no other test shares them
    login = write_login(tmp_path / "docker", registry)
    machine_a = make_machine(tmp_path / "a", repository, marker, content)
    first, _ = run(machine_a, login)
    assert (machine_a / ".gryt" / "cache" / "entries").is_dir(), "local = true (the default) keeps a copy"
    assert first["runners"]["build"]["compile"]["status"] == "success"
    assert marker.read_text() == "build\n"

    machine_b = make_machine(tmp_path / "b", repository, marker, content)
    second, proc = run(machine_b, login)
    step = second["runners"]["build"]["compile"]
    assert step["status"] == "cached", second
    assert marker.read_text() == "build\n", "the step did not run again"
    assert outputs(machine_b) == outputs(machine_a)
    assert outputs(machine_b)["out/tool.sh"][1] == 0o755
    assert "built 64" in step["stdout"]
    assert second["warnings"] == []
    tags = registry.tags("cache/hits")
    assert len(tags) == 1 and tags[0].startswith(TAG_PREFIX)

    # the hit was copied to machine B's local store, read first: no registry needed for it any more
    shutil.rmtree(machine_b / "out")
    third, _ = run(machine_b, write_login(tmp_path / "wrong", registry, token="gryttok-not-the-token"))
    assert third["runners"]["build"]["compile"]["status"] == "cached"
    assert third["warnings"] == [] and outputs(machine_b) == outputs(machine_a)

    leaked = [registry.token.encode(), base64.b64encode(f"{registry.username}:{registry.token}".encode())]
    if registry.token_server is not None:
        leaked += [token.encode() for token in registry.token_server.issued]
    assert not [s for s in leaked if s in proc.stdout or s in proc.stderr]
    assert find_bytes(machine_a, leaked) == [] and find_bytes(machine_b, leaked) == []


def test_a_corrupt_remote_entry_is_a_warning_and_a_miss(basic_registry: Registry, tmp_path: Path) -> None:
    repository = f"{basic_registry.host}/cache/corrupt"
    marker = tmp_path / "executions.txt"
    content = secrets.token_bytes(64)
    login = write_login(tmp_path / "docker", basic_registry)
    machine_a = make_machine(tmp_path / "a", repository, marker, content, local=False)
    run(machine_a, login)
    assert not (machine_a / ".gryt" / "cache" / "entries").exists(), "local = false keeps no local copy"
    expected = outputs(machine_a)
    blob = _stored_blob(basic_registry, expected["out/copy.bin"][0])
    blob.write_bytes(b"tampered" + blob.read_bytes()[8:])

    machine_b = make_machine(tmp_path / "b", repository, marker, content, local=False)
    result, _ = run(machine_b, login)
    assert result["runners"]["build"]["compile"]["status"] == "success"
    assert marker.read_text() == "build\nbuild\n", "the step ran again"
    assert outputs(machine_b) == expected
    (warning,) = result["warnings"]
    assert warning.startswith("step cache: build/compile: ") and "does not have the content" in warning


def test_rejected_credentials_are_one_warning_and_the_step_runs(
    basic_registry: Registry, tmp_path: Path
) -> None:
    wrong = "gryttok-wrong-" + secrets.token_urlsafe(12)
    login = write_login(tmp_path / "docker", basic_registry, token=wrong)
    marker = tmp_path / "executions.txt"
    project = make_machine(tmp_path / "a", f"{basic_registry.host}/cache/denied", marker, b"data")
    result, proc = run(project, login)
    assert result["status"] == "success"
    assert marker.read_text() == "build\n"
    rejected = f"registry {basic_registry.host} rejected the credentials for user {basic_registry.username}: HTTP 401"
    lookup, store = result["warnings"]
    assert lookup.startswith(f"step cache: build/compile: {rejected}") and lookup.endswith(
        "; running the step"
    )
    assert store.startswith(f"step cache: build/compile: not stored: kept in the local copy only: {rejected}")
    secret = [wrong.encode(), base64.b64encode(f"{basic_registry.username}:{wrong}".encode())]
    assert not [s for s in secret if s in proc.stdout or s in proc.stderr]
    assert find_bytes(project, secret) == []


def _stored_blob(registry: Registry, content: bytes) -> Path:
    """The file the registry serves for a blob with `content` (its filesystem storage)."""
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    path = registry.log.parent / "data" / "docker/registry/v2/blobs/sha256" / digest[:2] / digest / "data"
    assert path.is_file(), f"no blob {digest[:12]} in the registry's storage"
    shutil.copy(path, path.with_name("original"))
    return path

"""Helpers for the gryt-npm tests: real packages made by `npm pack`, and npm as a client of the test
registry (`npm view`, `npm install` into a fresh folder, then `node` requiring what was installed)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

from _servers.verdaccio import NpmRegistry


def unique_name(scope: str | None = None) -> str:
    """A package name no other test uses (they share one registry per session)."""
    base = f"gryt-test-{uuid.uuid4().hex[:10]}"
    return f"@{scope}/{base}" if scope else base


def write_package(folder: Path, name: str, version: str, **extra: Any) -> Path:
    """A package folder whose `index.js` exports `{name, version}`."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {"name": name, "version": version, "main": "index.js", "license": "MIT", **extra}
    (folder / "package.json").write_text(json.dumps(manifest, indent=2))
    (folder / "index.js").write_text(f"module.exports = {json.dumps({'name': name, 'version': version})};\n")
    return folder


def npm(
    registry: NpmRegistry, tmp: Path, *args: str, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run npm as an anonymous client of `registry`, isolated from the user's npm configuration."""
    return subprocess.run(
        ["npm", *args, "--registry", registry.url],
        cwd=cwd or tmp,
        env=registry.npm_env(tmp / "npm-client"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def view(registry: NpmRegistry, tmp: Path, spec: str) -> dict[str, Any] | None:
    """`npm view SPEC --json` from the registry: the version's manifest, or None when it is not there."""
    proc = npm(registry, tmp, "view", spec, "--json")
    if proc.returncode != 0:
        assert "E404" in proc.stdout + proc.stderr, proc.stderr
        return None
    data = json.loads(proc.stdout)
    manifest: dict[str, Any] = data[-1] if isinstance(data, list) else data
    return manifest


def install_and_require(registry: NpmRegistry, tmp: Path, spec: str, name: str) -> dict[str, Any]:
    """`npm install SPEC` into a fresh folder, then what `require(name)` gives in node."""
    app = tmp / f"app-{uuid.uuid4().hex[:6]}"
    app.mkdir(parents=True)
    (app / "package.json").write_text('{"name": "app", "version": "1.0.0", "private": true}')
    proc = npm(registry, tmp, "install", spec, "--no-package-lock", cwd=app)
    assert proc.returncode == 0, proc.stderr[-2000:]
    node = subprocess.run(
        ["node", "-e", f"console.log(JSON.stringify(require({json.dumps(name)})))"],
        cwd=app,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result: dict[str, Any] = json.loads(node.stdout)
    return result


def npm_pack(folder: Path, into: Path, tmp: Path, registry: NpmRegistry) -> Path:
    """`npm pack` of `folder` into `into`: the tarball it wrote."""
    into.mkdir(parents=True, exist_ok=True)
    proc = npm(registry, tmp, "pack", str(folder), "--pack-destination", str(into), "--json")
    assert proc.returncode == 0, proc.stderr[-2000:]
    filename: str = json.loads(proc.stdout)[0]["filename"]
    return into / filename

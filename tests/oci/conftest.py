"""gryt-oci test support: Docker configs holding a registry login, run contexts that point at them, images
built by `tests/_servers/oci_layout.py` and a `skopeo` wrapper (the real client that checks the pushes).

The registries are `basic_registry` and `bearer_registry` from `_servers.registry`; `registry` runs a
test against each.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from _servers.registry import Registry

from gryt.context import RunContext

LAYOUT_SCRIPT = Path(__file__).resolve().parents[1] / "_servers" / "oci_layout.py"


def write_login(folder: Path, registry: Registry, *, token: str | None = None) -> Path:
    """A Docker config folder whose config.json holds `registry`'s login (its token, or `token`)."""
    folder.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{registry.username}:{token or registry.token}".encode()).decode("ascii")
    (folder / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    return folder


def context_with(config_dir: Path) -> RunContext:
    """A run context as after a docker-registry auth step: DOCKER_CONFIG exported to the run."""
    return RunContext(env={"DOCKER_CONFIG": str(config_dir)})


def build_image(src: Path, out: Path, *, fmt: str = "oci", tag: str = "1.0", filler: int = 0) -> str:
    """Run the layout builder as a pipeline step would; returns the manifest digest it printed."""
    argv = [sys.executable, str(LAYOUT_SCRIPT), str(src), str(out), "--format", fmt, "--tag", tag]
    proc = subprocess.run(
        [*argv, "--filler", str(filler)], capture_output=True, text=True, timeout=120, check=True
    )
    return proc.stdout.strip()


def make_files(folder: Path) -> dict[str, bytes]:
    """A text file, a JSON file and a binary file with every byte value, written to `folder`."""
    files = {
        "notes.txt": b"release notes\n",
        "meta.json": b'{"version": "1.0"}\n',
        "blob.bin": bytes(range(256)) * 40,
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


@dataclass
class Skopeo:
    """skopeo with a registry's login in an auth file; plain http (the test registries have no TLS)."""

    binary: str
    authfile: Path
    context: RunContext
    """A run context holding the same login, as a docker-registry auth step leaves it."""

    def run(self, *args: str) -> str:
        proc = subprocess.run([self.binary, *args], capture_output=True, text=True, timeout=120, check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def inspect(self, ref: str, *, raw: bool = False) -> dict[str, Any]:
        flags = ["--raw"] if raw else []
        out = self.run(
            "inspect", *flags, "--tls-verify=false", "--authfile", str(self.authfile), f"docker://{ref}"
        )
        data: dict[str, Any] = json.loads(out)
        return data

    def copy_to_dir(self, ref: str, folder: Path) -> list[str]:
        """`skopeo copy` to a `dir:` folder (blobs kept as they are); returns the digests of the config and
        layers it wrote, each checked against its file's content."""
        self.run(
            "copy",
            "--src-tls-verify=false",
            "--src-authfile",
            str(self.authfile),
            f"docker://{ref}",
            f"dir:{folder}",
        )
        manifest = json.loads((folder / "manifest.json").read_bytes())
        digests = [manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])]
        for digest in digests:
            assert "sha256:" + hashlib.sha256((folder / digest[7:]).read_bytes()).hexdigest() == digest
        return digests


def source_digests(image: Path, fmt: str) -> list[str]:
    """The config and layer digests of an image as the step wrote it (docker save: hashed from the tar)."""
    if fmt in ("oci-tar", "docker-save-oci"):
        layout = image.with_name(image.name + ".unpacked")
        with tarfile.open(image) as archive:
            archive.extractall(layout, filter="data") if hasattr(
                tarfile, "data_filter"
            ) else archive.extractall(layout)
        image = layout
    if fmt != "docker-save":
        index = json.loads((image / "index.json").read_text())
        manifest = json.loads((image / "blobs" / "sha256" / index["manifests"][0]["digest"][7:]).read_bytes())
        return [manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])]
    with tarfile.open(image) as archive:
        entry = json.load(archive.extractfile("manifest.json"))[0]  # type: ignore[arg-type]
        names = [entry["Config"], *entry["Layers"]]
        return ["sha256:" + hashlib.sha256(archive.extractfile(n).read()).hexdigest() for n in names]  # type: ignore[union-attr]


@pytest.fixture(params=["basic", "bearer"])
def registry(request: pytest.FixtureRequest) -> Registry:
    """Each of the two test registries in turn."""
    found: Registry = request.getfixturevalue(f"{request.param}_registry")
    return found


@pytest.fixture
def login(registry: Registry, tmp_path: Path) -> Path:
    """A Docker config folder with the registry's login."""
    return write_login(tmp_path / "docker", registry)


@pytest.fixture
def skopeo(login: Path) -> Skopeo:
    binary = shutil.which("skopeo")
    if binary is None:
        pytest.skip("skopeo is not installed (.ci/install-skopeo.sh installs it)")
    return Skopeo(binary, login / "config.json", context_with(login))


@pytest.fixture
def skopeo_basic(basic_registry: Registry, tmp_path: Path) -> Skopeo:
    """skopeo logged in to `basic_registry`; its `context` is a run context with the same login."""
    binary = shutil.which("skopeo")
    if binary is None:
        pytest.skip("skopeo is not installed (.ci/install-skopeo.sh installs it)")
    login = write_login(tmp_path / "docker-basic", basic_registry)
    return Skopeo(binary, login / "config.json", context_with(login))


@pytest.fixture(autouse=True)
def isolated_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No Docker config of the machine's user is read: HOME is a fresh folder, the variables unset."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    for name in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE"):
        monkeypatch.delenv(name, raising=False)
    return home

"""The `npm` destination against a real Verdaccio on 127.0.0.1: what it publishes is fetched back with
`npm view` and `npm install` + `require()`; every failure is an error item with npm's own message."""

from __future__ import annotations

import json
import os
import socket
import sys
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _servers.verdaccio import NpmRegistry

from gryt.testing import GrytProject, PluginSandbox
from gryt_npm import NpmDestination, plugin

from .conftest import install_and_require, npm_pack, unique_name, view, write_package

pytest_plugins = ["gryt.testing"]


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, npm_registry: NpmRegistry) -> Path:
    """HOME and TMPDIR under tmp_path, NPM_TOKEN set: returns the temp dir the destination uses."""
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setenv("NPM_TOKEN", npm_registry.token)
    for name in [k for k in os.environ if k.lower().startswith("npm_config_")]:
        monkeypatch.delenv(name)
    return tmp


def pipeline(registry: NpmRegistry, package: str, **keys: Any) -> dict[str, Any]:
    """A pipeline whose step runs `npm pack` in the package folder `package` (the user's build), and
    whose `npm` destination publishes the tarball it made."""
    pack = f"npm pack ./{package} --pack-destination dist --registry {registry.url}"
    return {
        "runners": [
            {"id": "build", "steps": [{"id": "pack", "cmd": ["sh", "-c", f"mkdir -p dist && {pack}"]}]}
        ],
        "destinations": [{"type": "npm", "id": "npm", "registry": registry.url, **keys}],
        "artifacts": {"paths": ["dist/*.tgz"]},
    }


def test_publishes_the_tarball_a_step_packed(
    gryt_plugins: PluginSandbox,
    gryt_project: GrytProject,
    npm_registry: NpmRegistry,
    isolated: Path,
    tmp_path: Path,
) -> None:
    gryt_plugins(plugin)
    name = unique_name()
    write_package(gryt_project.root / "pkg", name, "1.2.0")
    gryt_project.write_pipeline("release", pipeline(npm_registry, "pkg"))

    result = gryt_project.run("release")

    assert result["status"] == "success", result
    [item] = result["destinations"]["npm"]
    assert item["status"] == "success", item
    assert item["artifact"] == f"dist/{name}-1.2.0.tgz"
    assert (item["name"], item["version"], item["tag"], item["dry_run"]) == (name, "1.2.0", "latest", False)
    assert item["url"] == f"{npm_registry.url}{name}/1.2.0"
    manifest = view(npm_registry, tmp_path, f"{name}@1.2.0")
    assert manifest is not None
    assert manifest["dist"]["integrity"] == item["digest"]
    assert manifest["dist"]["tarball"] == item["tarball"]
    assert install_and_require(npm_registry, tmp_path, f"{name}@1.2.0", name) == {
        "name": name,
        "version": "1.2.0",
    }
    assert list(isolated.iterdir()) == [], "the run-scoped npm config was removed"
    assert not (tmp_path / "home" / ".npmrc").exists()
    assert all(
        npm_registry.token.encode() not in f.read_bytes()
        for f in (tmp_path / "home").rglob("*")
        if f.is_file()
    )
    assert npm_registry.token not in gryt_project.database_text()


def test_publishes_a_scoped_folder_with_tag_and_access(
    gryt_plugins: PluginSandbox,
    gryt_project: GrytProject,
    npm_registry: NpmRegistry,
    isolated: Path,
    tmp_path: Path,
) -> None:
    gryt_plugins(plugin)
    name = unique_name("gryt")
    write_package(gryt_project.root / "pkg", name, "2.0.0-beta.1")
    gryt_project.write_pipeline(
        "release",
        {
            "runners": [{"id": "build", "steps": [{"id": "noop", "cmd": [sys.executable, "-c", "pass"]}]}],
            "destinations": [
                {"type": "npm", "id": "npm", "registry": npm_registry.url, "tag": "beta", "access": "public"}
            ],
            "artifacts": {"paths": ["pkg"]},
        },
    )

    result = gryt_project.run("release")

    [item] = result["destinations"]["npm"]
    assert item["status"] == "success", item
    assert (item["artifact"], item["name"], item["tag"]) == ("pkg", name, "beta")
    manifest = view(npm_registry, tmp_path, name)
    assert manifest is not None
    assert manifest["dist-tags"]["beta"] == "2.0.0-beta.1"
    assert install_and_require(npm_registry, tmp_path, f"{name}@beta", name)["version"] == "2.0.0-beta.1"


def test_dry_run_publishes_nothing(
    gryt_plugins: PluginSandbox,
    gryt_project: GrytProject,
    npm_registry: NpmRegistry,
    isolated: Path,
    tmp_path: Path,
) -> None:
    gryt_plugins(plugin)
    name = unique_name()
    write_package(gryt_project.root / "pkg", name, "1.0.0")
    gryt_project.write_pipeline("release", pipeline(npm_registry, "pkg", dry_run=True))

    result = gryt_project.run("release")

    [item] = result["destinations"]["npm"]
    assert item["status"] == "success", item
    assert item["dry_run"] is True
    assert item["digest"].startswith("sha512-")
    assert "url" not in item
    assert view(npm_registry, tmp_path, f"{name}@1.0.0") is None
    assert list(isolated.iterdir()) == []


def publish(registry: NpmRegistry, artifacts: list[Path], **keys: Any) -> list[dict[str, Any]]:
    """`NpmDestination.publish` from Python, without a run (as a script would call it)."""
    return NpmDestination("npm", {"registry": registry.url, **keys}).publish(artifacts)


def test_an_existing_version_is_a_clear_error(
    npm_registry: NpmRegistry, isolated: Path, tmp_path: Path
) -> None:
    name = unique_name()
    tarball = npm_pack(
        write_package(tmp_path / "pkg", name, "1.0.0"), tmp_path / "dist", tmp_path, npm_registry
    )
    assert publish(npm_registry, [tarball])[0]["status"] == "success"

    [item] = publish(npm_registry, [tarball])

    assert item["status"] == "error"
    assert item["error"].startswith(f"{name}@1.0.0 is already on {npm_registry.url}; publish a new version (")
    assert "previously published" in item["error"]
    assert "\n" not in item["error"]
    assert list(isolated.iterdir()) == []


def test_a_wrong_token_is_rejected_with_npms_message(
    npm_registry: NpmRegistry, isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "gryt-wrong-token-" + "x" * 20
    monkeypatch.setenv("MY_NPM_TOKEN", wrong)
    name = unique_name()
    folder = write_package(tmp_path / "pkg", name, "1.0.0")

    [item] = publish(npm_registry, [folder], token_env_var="MY_NPM_TOKEN")

    assert item["status"] == "error"
    assert item["error"].startswith(
        f"{npm_registry.url} did not accept the token in MY_NPM_TOKEN (token_env_var): E401"
    )
    assert wrong not in json.dumps(item)
    assert view(npm_registry, tmp_path, name) is None


def test_a_missing_token_publishes_nothing(
    npm_registry: NpmRegistry, isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NPM_TOKEN")
    name = unique_name()
    folder = write_package(tmp_path / "pkg", name, "1.0.0")

    [item] = publish(npm_registry, [folder])

    assert item == {
        "artifact": str(folder),
        "status": "error",
        "error": f"environment variable NPM_TOKEN is not set (token_env_var); it must hold the npm token for {npm_registry.url}",
    }
    assert list(isolated.iterdir()) == []


def test_one_bad_artifact_stops_the_others_before_publishing(
    npm_registry: NpmRegistry, isolated: Path, tmp_path: Path
) -> None:
    name = unique_name()
    good = write_package(tmp_path / "good", name, "1.0.0")
    private = write_package(tmp_path / "private", unique_name(), "1.0.0", private=True)

    items = publish(npm_registry, [good, private])

    assert [i["status"] for i in items] == ["skipped", "error"]
    assert "npm refuses to publish" in items[1]["error"]
    assert items[0]["error"].startswith(f"not published: {private} failed its checks")
    assert view(npm_registry, tmp_path, name) is None


def test_an_unreachable_registry_is_a_clear_error(
    isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, npm_registry: NpmRegistry
) -> None:
    monkeypatch.setenv("npm_config_fetch_retries", "0")  # npm's own retries would take minutes
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = f"http://127.0.0.1:{port}/"
    folder = write_package(tmp_path / "pkg", unique_name(), "1.0.0")

    [item] = NpmDestination("npm", {"registry": down}).publish([folder])

    assert item["status"] == "error"
    assert item["error"].startswith(f"registry {down} is unreachable: ECONNREFUSED"), item["error"]
    assert list(isolated.iterdir()) == []


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers: the registry URL."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def test_a_registry_that_never_answers_times_out(silent_server: str, isolated: Path, tmp_path: Path) -> None:
    folder = write_package(tmp_path / "pkg", unique_name(), "1.0.0")

    [item] = NpmDestination("npm", {"registry": silent_server, "timeout": 3}).publish([folder])

    assert item["status"] == "error"
    assert (
        item["error"]
        == f"npm publish of {item['name']}@1.0.0 to {silent_server} did not finish within 3 s (timeout)"
    )
    assert list(isolated.iterdir()) == []


def test_a_token_exported_earlier_in_the_run_is_used(
    npm_registry: NpmRegistry, isolated: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The token may come from the run's context (what an auth step exported), not gryt's environment;
    it becomes a secret of the run as soon as it is read."""
    from gryt.context import RunContext

    monkeypatch.delenv("NPM_TOKEN")
    name = unique_name()
    folder = write_package(tmp_path / "pkg", name, "1.0.0")
    destination = NpmDestination("npm", {"registry": npm_registry.url})
    destination.context = RunContext(env={"NPM_TOKEN": npm_registry.token + "\n"})

    [item] = destination.publish([folder])

    assert item["status"] == "success", item
    assert destination.context.masker.mask(npm_registry.token) == "***"
    assert view(npm_registry, tmp_path, f"{name}@1.0.0") is not None

"""What the `npm` destination checks before publishing: its config keys, the registry URL, and each
artifact's package.json (folders, real `npm pack` tarballs, and what is neither)."""

from __future__ import annotations

import io
import json
import os
import re
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest
from _servers.verdaccio import NpmRegistry
from typer.testing import CliRunner

from gryt.cli import app
from gryt.errors import ConfigError
from gryt.testing import assert_valid_plugin
from gryt_npm import NpmDestination, plugin
from gryt_npm.destination import parse_registry
from gryt_npm.package import PackageError, read_package

from .conftest import npm_pack, write_package


def test_plugin_is_valid() -> None:
    assert_valid_plugin(plugin)


@pytest.mark.parametrize(
    ("url", "normalized", "auth_key"),
    [
        ("https://npm.example.com", "https://npm.example.com/", "//npm.example.com/"),
        ("http://127.0.0.1:4873/", "http://127.0.0.1:4873/", "//127.0.0.1:4873/"),
        (
            "https://Example.COM/api/npm/team//",
            "https://example.com/api/npm/team/",
            "//example.com/api/npm/team/",
        ),
        ("http://[::1]:4873", "http://[::1]:4873/", "//[::1]:4873/"),
    ],
)
def test_registry_url_and_its_credential_key(url: str, normalized: str, auth_key: str) -> None:
    assert parse_registry(url, "npm.registry") == (normalized, auth_key)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("npm.example.com", "expected an http(s) URL"),
        ("ftp://npm.example.com/", "expected an http(s) URL"),
        ("https://user:secret@npm.example.com/", "put no credentials in the URL"),
        ("https://npm.example.com/?x=1", "no query or fragment"),
        ("https://npm.example.com:99999/", "invalid port"),
    ],
)
def test_bad_registry_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        NpmDestination("npm", {"registry": url})


def test_config_keys_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"npm\.access"):
        NpmDestination("npm", {"registry": "https://npm.example.com/", "access": "private"})
    with pytest.raises(ConfigError, match=r"npm\.timeout"):
        NpmDestination("npm", {"registry": "https://npm.example.com/", "timeout": 0})
    with pytest.raises(ConfigError, match="registry"):
        NpmDestination("npm", {})
    pipelines = tmp_path / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    (pipelines / "release.toml").write_text(
        '[[runners]]\nid = "b"\nsteps = [{ id = "s", cmd = ["true"] }]\n\n'
        '[[destinations]]\ntype = "npm"\nid = "npm"\nregistry = "https://npm.example.com/"\ndryrun = true\n'
    )
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["validate", "release"])
    assert result.exit_code != 0
    assert "dryrun" in result.output and "dry_run" in result.output


def test_reads_a_folder_and_the_tarball_npm_packs_from_it(npm_registry: NpmRegistry, tmp_path: Path) -> None:
    folder = write_package(tmp_path / "pkg", "@team/widget", "1.0.0-rc.1")
    tarball = npm_pack(folder, tmp_path / "dist", tmp_path, npm_registry)
    for path, is_tarball in ((folder, False), (tarball, True)):
        package = read_package(path)
        assert (package.name, package.version, package.tarball) == ("@team/widget", "1.0.0-rc.1", is_tarball)
        assert package.spec == "@team/widget@1.0.0-rc.1"


def make_tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def test_a_tarball_with_another_top_folder_is_read(tmp_path: Path) -> None:
    manifest = json.dumps({"name": "x-pkg", "version": "3.1.4"}).encode()
    tarball = make_tarball(
        tmp_path / "x.tgz", {"x-pkg/package.json": manifest, "x-pkg/lib/package.json": b"{}"}
    )
    assert read_package(tarball).version == "3.1.4"


def write_file(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def make_dir(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing.tgz", "artifact not found"),
        (lambda d: make_dir(d / "empty"), "folder without a package.json"),
        (lambda d: write_package(d / "p", "p", "1.0.0", private=True), '"private": true'),
        (lambda d: write_file(d / "a.zip", b"PK"), "neither a package folder nor"),
        (lambda d: write_file(d / "a.tgz", b"not gzip"), "not a readable npm pack tarball"),
        (lambda d: make_tarball(d / "b.tgz", {"package/index.js": b""}), "holds no package.json"),
        (lambda d: make_tarball(d / "c.tgz", {"package/package.json": b"{"}), "is not valid JSON"),
        (lambda d: make_tarball(d / "d.tgz", {"package/package.json": b"[]"}), "is not a JSON object"),
        (
            lambda d: make_tarball(d / "e.tgz", {"package/package.json": b'{"version": "1.0.0"}'}),
            "has no name",
        ),
        (lambda d: make_tarball(d / "f.tgz", {"package/package.json": b'{"name": "f"}'}), "has no version"),
        (
            lambda d: make_tarball(d / "g.tgz", {"package/package.json": b'{"name": "a b", "version": "1"}'}),
            "not a valid npm package name",
        ),
    ],
)
def test_what_is_not_a_publishable_package_is_refused(make, message: str, tmp_path: Path) -> None:
    with pytest.raises(PackageError, match=re.escape(message)):
        read_package(make(tmp_path))


FAKE_NPM = """#!{python}
import json, os, sys
args = sys.argv[1:]
userconfig = next(a.split("=", 1)[1] for a in args if a.startswith("--userconfig="))
with open({capture!r}, "w") as out:
    json.dump({{
        "args": args,
        "cwd": os.getcwd(),
        "npmrc": open(userconfig).read(),
        "mode": os.stat(userconfig).st_mode & 0o777,
        "dir_mode": os.stat(os.path.dirname(userconfig)).st_mode & 0o777,
        "token": os.environ.get("CI_NPM_TOKEN"),
    }}, out)
sys.stderr.write("npm ERR! code E403\\nnpm ERR! 403 Forbidden - PUT - You do not have permission to publish \\"x\\"\\n")
sys.exit(1)
"""


def test_npm_gets_the_token_only_through_its_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake npm records what it was given: the token is in its environment and referenced from a
    private run-scoped config, never in its arguments; an error without JSON is read from stderr."""
    bin_dir, tmp, capture = tmp_path / "bin", tmp_path / "tmp", tmp_path / "capture.json"
    bin_dir.mkdir()
    tmp.mkdir()
    fake = bin_dir / "npm"
    fake.write_text(FAKE_NPM.format(python=sys.executable, capture=str(capture)))
    fake.chmod(0o755)
    token = "gryt-fake-token-" + "q" * 24
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("CI_NPM_TOKEN", token)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    folder = write_package(tmp_path / "pkg", "x", "1.0.0")

    [item] = NpmDestination(
        "npm", {"registry": "https://npm.example.com/team", "token_env_var": "CI_NPM_TOKEN", "tag": "next"}
    ).publish([folder])

    seen = json.loads(capture.read_text())
    assert token not in " ".join(seen["args"])
    assert seen["args"][:8] == [
        "publish",
        str(folder),
        "--registry",
        "https://npm.example.com/team/",
        "--tag",
        "next",
        "--json",
        "--logs-max=0",
    ]
    assert seen["token"] == token
    assert seen["npmrc"].splitlines()[0] == "registry=https://npm.example.com/team/"
    assert "//npm.example.com/team/:_authToken=${CI_NPM_TOKEN}" in seen["npmrc"].splitlines()
    assert token not in seen["npmrc"]
    assert (seen["mode"], seen["dir_mode"]) == (0o600, 0o700)
    assert Path(seen["cwd"]).parent == tmp
    assert list(tmp.iterdir()) == [], "the run-scoped folder was removed"
    assert item["status"] == "error"
    assert item["error"] == (
        'npm publish of x@1.0.0 to https://npm.example.com/team/ failed: E403 403 Forbidden - PUT - You do not have permission to publish "x"'
    )

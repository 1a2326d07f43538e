"""Config, names and credentials without a registry: repository and tag parsing, declared keys (typos
caught before a run), Docker config lookup in every form gryt-oci reads, and a plugin that loads cheaply."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from _imports import loaded

from gryt.errors import ConfigError
from gryt_oci.artifact import OciArtifactDestination
from gryt_oci.credentials import CredentialsError, find_credentials
from gryt_oci.image import OciImageDestination
from gryt_oci.reference import Repository, parse_repository


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "127.0.0.1:5000/team/app",
            Repository("127.0.0.1:5000", "127.0.0.1:5000", "team/app", loopback=True),
        ),
        ("localhost/app", Repository("localhost", "localhost", "app", loopback=True)),
        ("[::1]:5000/a/b/c", Repository("[::1]:5000", "[::1]:5000", "a/b/c", loopback=True)),
        ("GHCR.io/acme/app", Repository("ghcr.io", "ghcr.io", "acme/app", loopback=False)),
        ("app", Repository("docker.io", "registry-1.docker.io", "library/app", loopback=False)),
        ("docker.io/acme/app", Repository("docker.io", "registry-1.docker.io", "acme/app", loopback=False)),
    ],
)
def test_repository_names(value: str, expected: Repository) -> None:
    assert parse_repository(value) == expected


def test_plain_http_only_for_loopback_or_insecure() -> None:
    assert parse_repository("127.0.0.1:5000/a").base_urls(False) == [
        "https://127.0.0.1:5000",
        "http://127.0.0.1:5000",
    ]
    assert parse_repository("registry.lan:5000/a").base_urls(False) == ["https://registry.lan:5000"]
    assert parse_repository("registry.lan:5000/a").base_urls(True) == [
        "https://registry.lan:5000",
        "http://registry.lan:5000",
    ]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"repository": "http://127.0.0.1:5000/a", "tag": "1"},
            "oci.repository: write the repository without a scheme",
        ),
        (
            {"repository": "127.0.0.1:5000/a:1.0", "tag": "1"},
            "oci.repository: give the repository without a tag",
        ),
        (
            {"repository": "127.0.0.1:5000/Team/App", "tag": "1"},
            'oci.repository: "Team/App" is not a valid repository',
        ),
        ({"repository": "127.0.0.1:5000/a", "tag": "-x"}, 'oci.tag: "-x" is not a valid tag'),
        ({"repository": "127.0.0.1:5000/a"}, "oci.tag"),
        (
            {"repository": "127.0.0.1:5000/a", "tag": "1", "tagz": "2"},
            'oci.tagz: unknown key (did you mean "tag"?)',
        ),
        ({"repository": "127.0.0.1:5000/a", "tag": "1", "timeout": 0}, "oci.timeout"),
        ({"repository": "127.0.0.1:5000/a", "tag": "1", "chunk_size": 10}, "oci.chunk_size"),
    ],
)
def test_artifact_config_errors(config: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        OciArtifactDestination("oci", config)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("tags", "message"),
    [
        ([], "image.tags: give at least one tag"),
        (["1.0", "1.0"], "image.tags: a tag is listed twice"),
        (["ok", "no way"], r"image.tags\[1\]"),
    ],
)
def test_image_tags_are_checked(tags: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        OciImageDestination("image", {"repository": "127.0.0.1:5000/a", "tags": tags})


def test_gryt_validate_catches_a_typo(tmp_path: Path) -> None:
    pipelines = tmp_path / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    (pipelines / "p.toml").write_text(
        '[[runners]]\nid = "r"\nsteps = [{ id = "s", cmd = ["true"] }]\n\n'
        '[[destinations]]\ntype = "oci-image"\nrepository = "127.0.0.1:5000/a"\ntags = ["1"]\nref_nam = "x"\n'
    )
    proc = subprocess.run(
        [sys.executable, "-c", "from gryt.cli import main; main()", "validate", "p"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0
    assert "ref_nam" in proc.stdout + proc.stderr and "ref_name" in proc.stdout + proc.stderr


def write_config(folder: Path, data: object) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(data))
    return folder


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def password(repo: Repository, env: dict[str, str]) -> str:
    found = find_credentials(repo, env, timeout=5)
    assert found is not None
    return found.password


def test_credentials_in_every_spelling(tmp_path: Path) -> None:
    repo = parse_repository("127.0.0.1:5000/team/app")
    for key in ("127.0.0.1:5000", "https://127.0.0.1:5000", "http://127.0.0.1:5000/v2/"):
        folder = write_config(
            tmp_path / key.replace("/", "_"), {"auths": {key: {"auth": b64("bob:s3cret-token")}}}
        )
        found = find_credentials(repo, {"DOCKER_CONFIG": str(folder)}, timeout=5)
        assert found is not None and (found.username, found.password) == ("bob", "s3cret-token"), key
    folder = write_config(
        tmp_path / "fields", {"auths": {"127.0.0.1:5000": {"username": "u", "password": "p-word"}}}
    )
    found = find_credentials(repo, {"DOCKER_CONFIG": str(folder)}, timeout=5)
    assert found is not None and (found.username, found.password) == ("u", "p-word")
    folder = write_config(
        tmp_path / "identity", {"auths": {"127.0.0.1:5000": {"identitytoken": "refresh-me"}}}
    )
    found = find_credentials(repo, {"DOCKER_CONFIG": str(folder)}, timeout=5)
    assert found is not None and found.identity_token == "refresh-me"
    assert set(found.secrets()) == {"refresh-me"}
    hub = parse_repository("acme/app")
    folder = write_config(
        tmp_path / "hub", {"auths": {"https://index.docker.io/v1/": {"auth": b64("octo:hub-token")}}}
    )
    found = find_credentials(hub, {"DOCKER_CONFIG": str(folder)}, timeout=5)
    assert found is not None and found.password == "hub-token"


def test_run_scoped_config_first_then_auth_file_then_home(tmp_path: Path) -> None:
    repo = parse_repository("127.0.0.1:5000/team/app")
    home = tmp_path / "home"
    write_config(home / ".docker", {"auths": {"127.0.0.1:5000": {"auth": b64("home:home-token")}}})
    scoped = write_config(tmp_path / "scoped", {"auths": {"127.0.0.1:5000": {"auth": b64("run:run-token")}}})
    other = write_config(tmp_path / "other", {"auths": {}})
    auth_file = write_config(
        tmp_path / "podman", {"auths": {"127.0.0.1:5000": {"auth": b64("pod:pod-token")}}}
    )
    assert password(repo, {"HOME": str(home)}) == "home-token"
    assert password(repo, {"HOME": str(home), "DOCKER_CONFIG": str(scoped)}) == "run-token"
    env = {
        "HOME": str(home),
        "DOCKER_CONFIG": str(other),
        "REGISTRY_AUTH_FILE": str(auth_file / "config.json"),
    }
    assert password(repo, env) == "pod-token"
    assert find_credentials(parse_repository("ghcr.io/a/b"), env, timeout=5) is None


def test_credential_helper(tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    helper = bin_dir / "docker-credential-fake"
    helper.write_text(
        f"#!{sys.executable}\n"
        "import json, sys\n"
        "server = sys.stdin.read().strip()\n"
        "if sys.argv[1] != 'get' or server != '127.0.0.1:5000':\n"
        "    print('credentials not found in native keychain'); sys.exit(1)\n"
        "print(json.dumps({'ServerURL': server, 'Username': 'helped', 'Secret': 'helper-secret'}))\n"
    )
    helper.chmod(helper.stat().st_mode | stat.S_IXUSR)
    folder = write_config(
        tmp_path / "docker", {"auths": {}, "credHelpers": {"127.0.0.1:5000": "fake"}, "credsStore": "fake"}
    )
    env = {"DOCKER_CONFIG": str(folder), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    found = find_credentials(parse_repository("127.0.0.1:5000/a"), env, timeout=10)
    assert found is not None and (found.username, found.password) == ("helped", "helper-secret")
    assert find_credentials(parse_repository("ghcr.io/a/b"), env, timeout=10) is None
    with pytest.raises(
        CredentialsError,
        match=r"credential helper docker-credential-fake \(credsStore/credHelpers\) is not on PATH",
    ):
        find_credentials(
            parse_repository("127.0.0.1:5000/a"),
            {"DOCKER_CONFIG": str(folder), "PATH": str(tmp_path)},
            timeout=10,
        )


def test_broken_config_is_named(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(CredentialsError, match=f"Docker config {tmp_path / 'config.json'} is not valid JSON"):
        find_credentials(parse_repository("127.0.0.1:5000/a"), {"DOCKER_CONFIG": str(tmp_path)}, timeout=5)


def test_plugin_is_valid_and_cheap_to_load() -> None:
    from gryt.testing import assert_valid_plugin
    from gryt_oci import plugin

    assert_valid_plugin(plugin)
    heavy = ["ssl", "urllib.request", "http.client", "tarfile", "hashlib"]
    assert loaded("import gryt_oci.plugin, gryt_oci.artifact, gryt_oci.image, gryt_oci.cache", heavy) == []
    listed = subprocess.run(
        [sys.executable, "-c", "from gryt.cli import main; main()", "plugins", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "oci-image" in listed.stdout and "gryt-oci" in listed.stdout

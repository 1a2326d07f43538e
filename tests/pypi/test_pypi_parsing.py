"""The plugin's contract, its config checks, and the pure parts: simple API pages, `.pypirc` sections, URL
guesses. No server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gryt.context import RunContext
from gryt.errors import ConfigError
from gryt.testing import GrytProject, PluginSandbox, assert_valid_plugin
from gryt_pypi import plugin
from gryt_pypi.destination import PypiDestination
from gryt_pypi.index import (
    DEFAULT_REPOSITORY_URL,
    IndexRequestError,
    Response,
    parse_listing,
    read_pypirc,
    simple_roots,
    without_credentials,
)

pytest_plugins = ["gryt.testing"]


def test_plugin_is_valid() -> None:
    assert_valid_plugin(plugin)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"skip_exsting": True}, 'index.skip_exsting: unknown key (did you mean "skip_existing"?)'),
        (
            {"trusted_publishing": "yes"},
            'index.trusted_publishing: expected one of "auto", True, False, got "yes"',
        ),
        ({"repository_url": "upload.example.invalid"}, "index.repository_url: expected an http(s) URL"),
        ({"simple_url": "pypi"}, "index.simple_url: expected an http(s) URL, got a repository name"),
        ({"timeout": 0}, "index.timeout: expected a positive number"),
        ({"token_env_var": " "}, "index.token_env_var: expected a non-empty string"),
    ],
)
def test_bad_config_is_rejected_before_anything_runs(config: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        PypiDestination("index", config)
    assert str(caught.value).startswith(message), str(caught.value)


def test_gryt_validate_catches_a_typo(
    gryt_plugins: PluginSandbox, gryt_project: GrytProject, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from gryt.cli import app

    gryt_plugins(plugin)
    gryt_project.write_pipeline(
        "release",
        {
            "runners": [{"id": "b", "steps": [{"id": "s", "cmd": ["true"]}]}],
            "destinations": [{"type": "pypi", "id": "index", "repositry_url": "testpypi"}],
        },
    )
    monkeypatch.chdir(gryt_project.root)
    result = CliRunner().invoke(app, ["validate", "release"])
    assert result.exit_code != 0
    assert 'did you mean "repository_url"' in result.output


def test_defaults_name_the_public_index() -> None:
    dest = PypiDestination("index")
    assert dest.config["repository_url"] is None
    assert dest.config["token_env_var"] == "PYPI_TOKEN"
    assert dest.config["trusted_publishing"] == "auto"
    assert (dest.config["skip_existing"], dest.config["check"], dest.config["attestations"]) == (False,) * 3


def test_files_that_are_not_distributions_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYPI_TOKEN", raising=False)
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    odd = tmp_path / "noversion.whl"
    odd.write_text("x")
    items = PypiDestination("index").publish([notes, odd])
    assert [i["status"] for i in items] == ["error", "error"]
    assert items[0]["error"] == f"not a wheel or sdist (.whl, .tar.gz, .zip): {notes}"
    assert items[1]["error"].startswith("not a distribution file name: ")


def test_missing_token_says_which_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PYPI_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    wheel = tmp_path / "demo-1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel")
    dest = PypiDestination("index", {"token_env_var": "RELEASE_TOKEN"})
    dest.context = RunContext()
    [item] = dest.publish([wheel])
    assert item["status"] == "error"
    assert item["error"].startswith("environment variable RELEASE_TOKEN is not set (token_env_var)")
    assert (item["name"], item["version"]) == ("demo", "1.0")
    assert item["digest"].startswith("sha256:")


def test_html_listing_gives_absolute_file_urls() -> None:
    page = (
        b'<html><body><a href="../../packages/demo-1.0.tar.gz#sha256=ab">demo-1.0.tar.gz</a><br>'
        b'<a href="/files/demo-1.0-py3-none-any.whl#sha256=cd" data-requires-python="">'
        b"demo-1.0-py3-none-any.whl</a></body></html>"
    )
    answer = Response(200, "OK", "text/html", page, "http://127.0.0.1:8/simple/demo/")
    assert parse_listing(answer) == {
        "demo-1.0.tar.gz": "http://127.0.0.1:8/packages/demo-1.0.tar.gz",
        "demo-1.0-py3-none-any.whl": "http://127.0.0.1:8/files/demo-1.0-py3-none-any.whl",
    }


def test_json_listing_pep_691() -> None:
    body = b'{"meta": {"api-version": "1.0"}, "name": "demo", "files": [{"filename": "demo-1.0.tar.gz", "url": "../../+f/1/demo-1.0.tar.gz", "hashes": {}}]}'
    answer = Response(200, "OK", "application/vnd.pypi.simple.v1+json", body, "http://h:1/u/i/+simple/demo/")
    assert parse_listing(answer) == {"demo-1.0.tar.gz": "http://h:1/u/i/+f/1/demo-1.0.tar.gz"}


@pytest.mark.parametrize(
    ("upload", "simple", "roots"),
    [
        ("http://127.0.0.1:8/", None, ["http://127.0.0.1:8/simple/", "http://127.0.0.1:8/+simple/"]),
        ("http://h/alice/dev", None, ["http://h/alice/dev/simple/", "http://h/alice/dev/+simple/"]),
        ("https://h/legacy/", None, ["https://h/simple/"]),
        ("https://u:p@h/legacy/", None, ["https://h/simple/"]),
        ("https://h/x/", "https://other/simple", ["https://other/simple/"]),
    ],
)
def test_simple_roots_guessed_from_the_upload_url(upload: str, simple: str | None, roots: list[str]) -> None:
    assert simple_roots(upload, simple) == roots


def test_credentials_are_dropped_from_urls() -> None:
    assert without_credentials("https://user:pw@h:8443/x/") == "https://h:8443/x/"
    assert without_credentials(DEFAULT_REPOSITORY_URL) == DEFAULT_REPOSITORY_URL


def test_pypirc_sections(tmp_path: Path) -> None:
    pypirc = tmp_path / ".pypirc"
    pypirc.write_text(
        "[distutils]\nindex-servers =\n  pypi\n  internal\n\n"
        "[pypi]\nusername = __token__\npassword = pypi-100%-secret\n\n"
        "[internal]\nrepository = https://packages.example.invalid/upload/\nusername = ci\n"
    )
    pypi = read_pypirc(pypirc, "pypi")
    assert (pypi.repository, pypi.username, pypi.password) == (
        DEFAULT_REPOSITORY_URL,
        "__token__",
        "pypi-100%-secret",
    )
    internal = read_pypirc(pypirc, "internal")
    assert (internal.repository, internal.username, internal.password) == (
        "https://packages.example.invalid/upload/",
        "ci",
        None,
    )
    assert read_pypirc(tmp_path / "missing", "testpypi").repository is not None
    with pytest.raises(IndexRequestError) as caught:
        read_pypirc(pypirc, "interal")
    assert (
        str(caught.value)
        == f'repository "interal" is not a section of the .pypirc: {pypirc} has the sections distutils, pypi, internal'
    )
    with pytest.raises(IndexRequestError) as missing:
        read_pypirc(tmp_path / "missing", "internal")
    assert "does not exist" in str(missing.value)


def test_the_token_is_masked_from_the_start_of_the_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from gryt import CommandStep, Pipeline, Runner

    token = "pypi-grytsecret-known-before-the-run"
    monkeypatch.setenv("PYPI_TOKEN", token)
    printer = CommandStep("print", {"cmd": ["sh", "-c", 'echo "token=$PYPI_TOKEN"']})
    index = PypiDestination("index", {"repository_url": "http://user:urlpass-5e1f@127.0.0.1:9/legacy/"})
    assert index.known_secrets() == [token, "urlpass-5e1f"]
    result = Pipeline([Runner([printer], id="build")], destinations=[index], root=tmp_path).execute()
    assert result["runners"]["build"]["print"]["stdout"] == "token=***\n"

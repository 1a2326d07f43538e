"""Trusted publishing against a loopback server speaking the protocol: the CI's token endpoint is asked
for an identity token with the index's audience, the index's mint endpoint trades it for an upload token,
and twine uploads with that token to pypiserver (behind the same host). No token shows in any sink."""

from __future__ import annotations

from pathlib import Path

import pytest
from _servers.pypi import build_dists, pip_install, write_source

from gryt.context import RunContext
from gryt_pypi.destination import PypiDestination

from .conftest import AUDIENCE, REFUSED, TrustedIndex, gryt_run, unique_name, write_project

pytestmark = pytest.mark.slow


def oidc_env(index: TrustedIndex) -> dict[str, str]:
    return {
        "ACTIONS_ID_TOKEN_REQUEST_URL": index.token_url,
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": index.request_token,
    }


def test_run_mints_a_token_and_uploads_with_it(trusted_index: TrustedIndex, tmp_path: Path) -> None:
    name, version = unique_name(), "5.0.0"
    project = tmp_path / "project"
    build_dists(write_source(tmp_path / "src", name, version), project / "dist")
    write_project(project, {"repository_url": trusted_index.upload_url})
    seen = len(trusted_index.requests)

    run = gryt_run(project, oidc_env(trusted_index))

    assert run.proc.returncode == 0, run.proc.stderr.decode(errors="replace")[-3000:]
    assert [item["status"] for item in run.items] == ["success", "success"]
    exchange = trusted_index.requests[seen:]
    assert [r["endpoint"] for r in exchange] == ["audience", "token", "mint"]
    assert exchange[1]["audience"] == AUDIENCE
    assert exchange[1]["api-version"] == "2.0"  # the query of ACTIONS_ID_TOKEN_REQUEST_URL is kept
    assert exchange[2]["token"] == trusted_index.identity
    log = next((project / ".gryt" / "logs").rglob("destination+index.log")).read_text()
    assert "as __token__ (trusted publishing)" in log
    installed = pip_install(trusted_index.upstream, f"{name}=={version}", tmp_path / "venv")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    minted = trusted_index.upstream.token
    assert run.leaks([trusted_index.request_token, trusted_index.identity, minted]) == []


def test_refused_exchange_is_an_error_with_the_index_reason(
    trusted_index: TrustedIndex, tmp_path: Path, clean_env: Path
) -> None:
    files = build_dists(write_source(tmp_path / "src", unique_name(), "0.1.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository_url": trusted_index.upload_url})
    dest.context = RunContext(env=oidc_env(trusted_index))
    trusted_index.refuse = True
    try:
        items = dest.publish(files)
    finally:
        trusted_index.refuse = False

    assert [item["status"] for item in items] == ["error", "error"]
    # the reason phrase of 422 is "Unprocessable Entity" before Python 3.13, "Unprocessable Content" since
    origin = trusted_index.upload_url.rstrip("/")
    assert items[0]["error"].startswith(f"{origin} refused the OIDC token (HTTP 422 Unprocessable ")
    assert items[0]["error"].endswith(f"): {REFUSED}")
    assert trusted_index.identity in dest.context.masker
    assert trusted_index.request_token in dest.context.masker


def test_token_in_environment_wins_over_auto_trusted_publishing(
    trusted_index: TrustedIndex, tmp_path: Path, clean_env: Path
) -> None:
    files = build_dists(write_source(tmp_path / "src", unique_name(), "0.2.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository_url": trusted_index.upload_url})
    dest.context = RunContext(env={**oidc_env(trusted_index), "PYPI_TOKEN": trusted_index.upstream.token})
    seen = len(trusted_index.requests)

    items = dest.publish(files)

    assert [item["status"] for item in items] == ["success", "success"]
    assert trusted_index.requests[seen:] == []  # no exchange: the token was used


def test_trusted_publishing_true_without_oidc_variables_is_an_error(tmp_path: Path, clean_env: Path) -> None:
    files = build_dists(write_source(tmp_path / "src", unique_name(), "0.3.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository_url": "http://127.0.0.1:9/", "trusted_publishing": True})

    items = dest.publish(files)

    assert {item["error"] for item in items} == {
        "trusted publishing needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN"
        " (GitHub Actions with `permissions: id-token: write`)"
    }


def test_trusted_publishing_refuses_plain_http_to_another_host(tmp_path: Path, clean_env: Path) -> None:
    files = build_dists(write_source(tmp_path / "src", unique_name(), "0.4.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository_url": "http://index.example.invalid/"})
    env = {
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/t",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "ghreq-x",
    }
    dest.context = RunContext(env=env)

    items = dest.publish(files)

    assert items[0]["error"] == (
        "trusted publishing needs an https repository_url, got http://index.example.invalid"
    )

"""The `github-release` destination against the fake GitHub REST API on 127.0.0.1: the exact requests
(release by tag, drafts from the list, create, update, delete, upload to the uploads host), what ends up
on the release (assets downloaded back), replace/fail/skip on re-runs, rate limits and refusals."""

from __future__ import annotations

import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from _servers.github import GithubServer

from gryt.context import RunContext
from gryt.errors import ConfigError
from gryt_github.api import API_VERSION, GithubApi, GithubError
from gryt_github.release import GithubReleaseDestination


@pytest.fixture
def repo(monkeypatch: pytest.MonkeyPatch, github_server: GithubServer) -> str:
    """A repository no other test uses; the token in GITHUB_TOKEN, no Actions variables."""
    monkeypatch.setenv("GITHUB_TOKEN", github_server.token)
    for name in ("GITHUB_REPOSITORY", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_API_URL"):
        monkeypatch.delenv(name, raising=False)
    return f"team/app-{uuid.uuid4().hex[:8]}"


def files(tmp_path: Path, **contents: str) -> list[Path]:
    paths = []
    for name, text in contents.items():
        path = tmp_path / "dist" / name.replace("_", ".")
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


def publish(server: GithubServer, repo: str, artifacts: list[Path], **config: Any) -> list[dict[str, Any]]:
    dest = GithubReleaseDestination(
        "release", {"repository": repo, "tag": "v1.0", "api_url": server.api_url, **config}
    )
    dest.context = RunContext()
    return dest.publish(artifacts)


def calls(server: GithubServer, repo: str) -> list[tuple[str, str, str]]:
    """(host, method, path relative to the repository, with the upload name) of each request."""
    base = f"/repos/{repo}"
    return [
        (r.host, r.method, r.path[len(base) :] + (f"?name={r.query['name']}" if "name" in r.query else ""))
        for r in server.for_repo(repo)
    ]


def download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as resp:
        data: bytes = resp.read()
        return data


def test_creates_the_release_and_uploads_each_file_to_the_uploads_host(github_server, repo, tmp_path):
    artifacts = files(tmp_path, app_whl="wheel bytes")
    results = publish(github_server, repo, artifacts, prerelease=True, generate_notes=True)

    release = github_server.release(repo, "v1.0")
    assert release is not None and release["body"] == "Generated notes"
    assert calls(github_server, repo) == [
        ("api", "GET", "/releases/tags/v1.0"),
        ("api", "GET", "/releases"),
        ("api", "POST", "/releases"),
        ("uploads", "POST", f"/releases/{release['id']}/assets?name=app.whl"),
    ]
    create = github_server.for_repo(repo)[2]
    assert create.json() == {
        "tag_name": "v1.0",
        "name": "v1.0",
        "draft": False,
        "prerelease": True,
        "generate_release_notes": True,
    }
    upload = github_server.for_repo(repo)[3]
    assert upload.body == b"wheel bytes"
    assert upload.headers["content-type"] == "application/octet-stream"
    for request in github_server.for_repo(repo):
        assert request.headers["authorization"] == f"Bearer {github_server.token}"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["x-github-api-version"] == API_VERSION
    [item] = results
    assert item["status"] == "success" and item["artifact"] == str(artifacts[0])
    assert item["replaced"] is False and item["name"] == "app.whl" and item["size"] == 11
    assert item["url"].endswith(f"/{repo}/releases/download/v1.0/app.whl")
    assert download(item["url"]) == b"wheel bytes"


def test_a_rerun_updates_the_release_and_replaces_the_asset(github_server, repo, tmp_path):
    [artifact] = files(tmp_path, app_tar_gz="one")
    publish(github_server, repo, [artifact])
    first = len(github_server.for_repo(repo))
    artifact.write_text("two")
    notes = tmp_path / "NOTES.md"
    notes.write_text("Fixed everything\n")

    [item] = publish(github_server, repo, [artifact], name="Release 1.0", notes_file=str(notes), draft=True)

    release = github_server.release(repo, "v1.0")
    assert release is not None
    old_asset = github_server.for_repo(repo)[first - 1]
    assert [(m, p) for _h, m, p in calls(github_server, repo)[first:]] == [
        ("GET", "/releases/tags/v1.0"),
        ("PATCH", f"/releases/{release['id']}"),
        ("DELETE", f"/releases/assets/{int(release['id']) + 1}"),
        ("POST", f"/releases/{release['id']}/assets?name=app.tar.gz"),
    ]
    assert old_asset.query["name"] == "app.tar.gz"
    assert github_server.for_repo(repo)[first + 1].json() == {
        "name": "Release 1.0",
        "body": "Fixed everything\n",
        "draft": True,
        "prerelease": False,
    }
    assert github_server.for_repo(repo)[-1].headers["content-type"] == "application/gzip"
    assert item["status"] == "success" and item["replaced"] is True
    assert github_server.asset_bytes(repo, "v1.0") == {"app.tar.gz": b"two"}
    assert download(item["url"]) == b"two"


def test_a_draft_hidden_from_the_tag_endpoint_is_found_in_the_list_and_updated(github_server, repo, tmp_path):
    draft = github_server.add_release(repo, "v1.0", draft=True)
    [artifact] = files(tmp_path, app_zip="z")

    [item] = publish(github_server, repo, [artifact], draft=True)

    assert [(m, p) for _h, m, p in calls(github_server, repo)] == [
        ("GET", "/releases/tags/v1.0"),
        ("GET", "/releases"),
        ("PATCH", f"/releases/{draft['id']}"),
        ("POST", f"/releases/{draft['id']}/assets?name=app.zip"),
    ]
    assert github_server.for_repo(repo)[1].query == {"per_page": "100"}
    assert item["status"] == "success"
    assert [r for r in github_server.releases.values() if r["_repo"] == repo] == [draft]


def test_fail_mode_refuses_before_changing_anything(github_server, repo, tmp_path):
    github_server.add_release(repo, "v1.0")
    github_server.add_asset(repo, "v1.0", "b.txt", b"old")
    artifacts = files(tmp_path, a_txt="a", b_txt="b")

    results = publish(github_server, repo, artifacts, on_existing_asset="fail")

    assert [m for _h, m, _p in calls(github_server, repo)] == ["GET"]
    assert [r["status"] for r in results] == ["error", "error"]
    assert results[0]["error"] == 'release v1.0 already has the asset(s) b.txt (on_existing_asset = "fail")'
    assert github_server.asset_bytes(repo, "v1.0") == {"b.txt": b"old"}


def test_skip_mode_keeps_an_existing_asset_and_uploads_the_others(github_server, repo, tmp_path):
    github_server.add_release(repo, "v1.0")
    kept = github_server.add_asset(repo, "v1.0", "b.txt", b"old")
    artifacts = files(tmp_path, a_txt="a", b_txt="b")

    results = publish(github_server, repo, artifacts, on_existing_asset="skip")

    assert [r["status"] for r in results] == ["success", "success"]
    assert results[1]["kept"] is True and results[1]["url"] == kept["browser_download_url"]
    assert github_server.asset_bytes(repo, "v1.0") == {"a.txt": b"a", "b.txt": b"old"}
    assert [m for _h, m, _p in calls(github_server, repo)] == ["GET", "PATCH", "POST"]


def test_a_duplicate_asset_is_a_422_with_its_code(github_server, repo):
    release = github_server.add_release(repo, "v1.0")
    github_server.add_asset(repo, "v1.0", "a.txt", b"a")
    api = GithubApi(github_server.api_url, github_server.token, timeout=10, rate_limit_wait=0)
    upload = release["upload_url"].split("{")[0] + "?name=a.txt"

    with pytest.raises(GithubError) as caught:
        api.call("POST", upload, data=b"again", content_type="text/plain", ok=(201,))

    assert caught.value.status == 422 and caught.value.codes == ("already_exists",)
    assert str(caught.value).endswith(": HTTP 422: Validation Failed (already_exists)")


def test_rate_limit_with_retry_after_zero_is_retried(github_server, repo, tmp_path):
    [artifact] = files(tmp_path, a_txt="a")
    with github_server.lock:
        github_server.rate_limited.append((429, {"Retry-After": "0"}))

    [item] = publish(github_server, repo, [artifact])

    assert item["status"] == "success"
    methods = [(m, p) for _h, m, p in calls(github_server, repo)]
    assert methods[:2] == [("GET", "/releases/tags/v1.0"), ("GET", "/releases/tags/v1.0")]


def test_rate_limit_beyond_the_allowed_wait_fails_with_one_line_and_changes_nothing(
    github_server, repo, tmp_path
):
    [artifact] = files(tmp_path, a_txt="a")
    reset = str(int(time.time()) + 3600)
    with github_server.lock:
        github_server.rate_limited.append((403, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}))

    [item] = publish(github_server, repo, [artifact], rate_limit_wait=5)

    assert item["status"] == "error"
    assert item["error"].startswith(
        f"GET /repos/{repo}/releases/tags/v1.0: rate limited by the GitHub API (HTTP 403)"
    )
    assert item["error"].endswith("more than rate_limit_wait = 5 s allows: retry later")
    assert github_server.release(repo, "v1.0") is None


def test_a_bad_token_is_one_line(github_server, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_wrong-token-value")
    [artifact] = files(tmp_path, a_txt="a")

    [item] = publish(github_server, repo, [artifact])

    assert item["error"] == f"GET /repos/{repo}/releases/tags/v1.0: HTTP 401: Bad credentials"


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ("no-token", "no token: set GITHUB_TOKEN (a secret of the workflow)"),
        ("folder", "is a folder: a release asset is one file (archive a folder first)"),
        ("same-name", "would both be the asset a.txt"),
        ("no-tag", "no tag: set `tag`, or run on a tag push (GITHUB_REF_TYPE=tag)"),
        ("bad-api-env", "GITHUB_API_URL: expected an http(s) URL"),
    ],
)
def test_refusals_send_no_request(github_server, repo, tmp_path, monkeypatch, setup, message):
    [artifact] = files(tmp_path, a_txt="a")
    artifacts = [artifact]
    config: dict[str, Any] = {}
    if setup == "no-token":
        monkeypatch.delenv("GITHUB_TOKEN")
    elif setup == "folder":
        artifacts = [tmp_path / "dist"]
    elif setup == "same-name":
        other = tmp_path / "other" / "a.txt"
        other.parent.mkdir()
        other.write_text("b")
        artifacts = [artifact, other]
    elif setup == "bad-api-env":
        monkeypatch.setenv("GITHUB_API_URL", "not a url")
        config["api_url"] = None
    else:
        config["tag"] = None

    results = publish(github_server, repo, artifacts, **config)

    assert all(r["status"] == "error" and message in r["error"] for r in results)
    assert github_server.for_repo(repo) == []


def test_actions_variables_give_repository_tag_and_api_url(github_server, repo, tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_REPOSITORY", repo)
    monkeypatch.setenv("GITHUB_REF_TYPE", "tag")
    monkeypatch.setenv("GITHUB_REF_NAME", "v2.0")
    monkeypatch.setenv("GITHUB_API_URL", github_server.api_url)
    [artifact] = files(tmp_path, a_txt="a")
    dest = GithubReleaseDestination("release", {})
    dest.context = RunContext()

    [item] = dest.publish([artifact])

    assert item["status"] == "success" and item["tag"] == "v2.0"
    assert github_server.asset_bytes(repo, "v2.0") == {"a.txt": b"a"}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"repository": "no-slash"}, "release.repository: expected OWNER/NAME, got 'no-slash'"),
        ({"api_url": "ftp://x"}, "release.api_url: expected an http(s) URL"),
        ({"on_existing_asset": "overwrite"}, 'expected one of "replace", "fail", "skip"'),
    ],
)
def test_bad_config_is_a_config_error(config, message):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        GithubReleaseDestination("release", config)


def test_rate_limited_every_time_gives_up_after_three_attempts(github_server, repo, tmp_path):
    [artifact] = files(tmp_path, a_txt="a")
    with github_server.lock:
        github_server.rate_limited.extend([(429, {"Retry-After": "0"})] * 3)

    [item] = publish(github_server, repo, [artifact])

    assert item["error"] == (
        f"GET /repos/{repo}/releases/tags/v1.0: rate limited by the GitHub API (HTTP 429) 3 times in a row: retry later"
    )
    assert len(github_server.for_repo(repo)) == 3

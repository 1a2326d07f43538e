"""SimpleVersioning against real git repositories created in temporary folders."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import gryt
from gryt.data import SqliteData
from gryt.errors import ConfigError, GrytError
from gryt.versioning import SimpleVersioning, Versioning, VersioningError


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the machine's git configuration and identity variables out of every test."""
    config = tmp_path_factory.mktemp("gitconfig") / "config"
    config.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in (
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
    ):
        monkeypatch.delenv(name, raising=False)


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def make_repo(path: Path, *, commits: int = 1, tags: tuple[str, ...] = ()) -> Path:
    """A git repository with `commits` commits and lightweight and annotated `tags` on HEAD."""
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q")
    git(path, "config", "user.name", "Test User")
    git(path, "config", "user.email", "test@example.invalid")
    for index in range(commits):
        (path / "file.txt").write_text(f"change {index}\n")
        git(path, "add", "file.txt")
        git(path, "commit", "-q", "-m", f"change {index}")
    for number, tag in enumerate(tags):
        if number % 2:
            git(path, "tag", "-a", "-m", f"tag {tag}", tag)
        else:
            git(path, "tag", tag)
    return path


def tag_names(repo: Path) -> set[str]:
    return set(git(repo, "tag", "--list").split())


def assert_one_line(error: BaseException) -> None:
    message = str(error)
    assert message
    assert "\n" not in message
    assert "Traceback" not in message
    assert "fatal:" not in message


def test_is_a_versioning_and_exported_from_gryt(tmp_path: Path) -> None:
    versioning = gryt.SimpleVersioning(make_repo(tmp_path / "repo"))
    assert isinstance(versioning, Versioning)
    assert gryt.Versioning is Versioning
    with pytest.raises(TypeError):
        Versioning()  # type: ignore[abstract]


def test_no_tags_starts_at_zero(tmp_path: Path) -> None:
    versioning = SimpleVersioning(make_repo(tmp_path / "repo", tags=("latest", "release-candidate")))
    assert versioning.current_version() == "0.0.0"
    assert versioning.bump_version("patch") == "0.0.1"
    assert versioning.bump_version("minor") == "0.1.0"
    assert versioning.bump_version("major") == "1.0.0"
    assert versioning.bump_version("prerelease") == "0.0.1-rc.1"


def test_v_prefixed_tags_use_numeric_precedence_and_keep_the_prefix(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("v1.2.3", "v1.10.0", "v1.9.7"))
    versioning = SimpleVersioning(str(repo))
    assert versioning.current_version() == "v1.10.0"
    assert versioning.bump_version("patch") == "v1.10.1"
    assert versioning.bump_version("minor") == "v1.11.0"
    assert versioning.bump_version("major") == "v2.0.0"
    assert versioning.bump_version("minor", prerelease="beta") == "v1.11.0-beta.1"


def test_plain_tags_stay_plain(tmp_path: Path) -> None:
    versioning = SimpleVersioning(make_repo(tmp_path / "repo", tags=("1.2.3",)))
    assert versioning.current_version() == "1.2.3"
    assert versioning.bump_version("major") == "2.0.0"
    assert versioning.bump_version("prerelease") == "1.2.4-rc.1"


def test_style_follows_the_highest_tag(tmp_path: Path) -> None:
    versioning = SimpleVersioning(make_repo(tmp_path / "repo", tags=("v0.9.0", "1.0.0")))
    assert versioning.current_version() == "1.0.0"
    assert versioning.bump_version("patch") == "1.0.1"


def test_non_version_tags_are_ignored(tmp_path: Path) -> None:
    noise = (
        "v2",
        "3",
        "v01.2.3",
        "4.0rc",
        "release-9.0.0",
        "V5.0.0",
        "6.0.0-",
        "latest",
        "7.0.0-rc.01",
        "8.0.RC1",
    )
    versioning = SimpleVersioning(make_repo(tmp_path / "repo", tags=("v1.4.0", *noise)))
    assert versioning.current_version() == "v1.4.0"
    assert versioning.bump_version("minor") == "v1.5.0"


def test_prerelease_precedence(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("1.2.3", "1.2.4-rc.2", "1.2.4-rc.10", "1.2.4-beta.11"))
    versioning = SimpleVersioning(repo)
    assert versioning.current_version() == "1.2.4-rc.10"
    git(repo, "tag", "1.2.4")
    assert versioning.current_version() == "1.2.4"
    git(repo, "tag", "1.2.5-alpha+build.7")
    assert versioning.current_version() == "1.2.5-alpha+build.7"


def test_release_cycle_with_prereleases(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("v1.2.3",))
    versioning = SimpleVersioning(repo)
    steps = [("prerelease", "v1.2.4-rc.1"), ("prerelease", "v1.2.4-rc.2"), ("patch", "v1.2.4")]
    for level, expected in steps:
        version = versioning.bump_version(level)
        assert version == expected
        assert expected not in tag_names(repo), "bump_version must not tag"
        versioning.tag_release(version, f"release {version}")
        assert versioning.current_version() == expected


def test_bump_rejects_unknown_levels(tmp_path: Path) -> None:
    versioning = SimpleVersioning(make_repo(tmp_path / "repo", tags=("v1.0.0",)))
    with pytest.raises(ConfigError, match=r'did you mean "minor"') as caught:
        versioning.bump_version("minr")
    assert "major, minor, patch, prerelease" in str(caught.value)
    assert_one_line(caught.value)
    with pytest.raises(ConfigError, match="prerelease label"):
        versioning.bump_version("prerelease", prerelease="rc 1")


def test_tag_release_creates_an_annotated_tag_on_head(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commits=2, tags=("v0.1.0",))
    release = SimpleVersioning(repo).tag_release("v0.2.0", "Second release")
    head = git(repo, "rev-parse", "HEAD")
    assert release == {"version": "0.2.0", "tag": "v0.2.0", "commit": head}
    assert git(repo, "cat-file", "-t", "v0.2.0") == "tag"
    assert git(repo, "rev-parse", "v0.2.0^{commit}") == head
    assert git(repo, "tag", "-l", "--format=%(contents:subject)", "v0.2.0") == "Second release"


def test_tag_release_applies_the_project_style_and_a_default_message(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("v1.0.0",))
    release = SimpleVersioning(repo).tag_release("1.1.0", "")
    assert release["tag"] == "v1.1.0"
    assert "1.1.0" not in tag_names(repo)
    assert git(repo, "tag", "-l", "--format=%(contents:subject)", "v1.1.0") == "Release v1.1.0"


def test_tag_release_refuses_existing_tags(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("v1.0.0", "2.0.0"))
    versioning = SimpleVersioning(repo)
    with pytest.raises(VersioningError, match=r"tag v1\.0\.0 already exists") as caught:
        versioning.tag_release("v1.0.0", "again")
    assert_one_line(caught.value)
    with pytest.raises(VersioningError, match=r"already tagged as 2\.0\.0"):
        versioning.tag_release("v2.0.0", "same version, other style")
    with pytest.raises(VersioningError, match=r"already tagged as v1\.0\.0"):
        versioning.tag_release("1.0.0+build.5", "same precedence")
    assert tag_names(repo) == {"v1.0.0", "2.0.0"}


@pytest.mark.parametrize(
    "bad", ["1", "v1.2rc", "1.2.post", "01.2.3", "1.2.3-", "", " 1.2.3", "1.2.3\n", "latest"]
)
def test_tag_release_validates_the_version(tmp_path: Path, bad: str) -> None:
    repo = make_repo(tmp_path / "repo")
    with pytest.raises(ConfigError, match="invalid version") as caught:
        SimpleVersioning(repo).tag_release(bad, "x")
    assert_one_line(caught.value)
    assert tag_names(repo) == set()


def test_tag_release_records_the_release(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("v3.1.4",))
    with SqliteData(tmp_path / "gryt.db") as data:
        versioning = SimpleVersioning(repo, data=data)
        release = versioning.tag_release(versioning.bump_version("minor"), "Minor release")
        rows = data.query("SELECT version, tag, commit_sha, message FROM versions")
    assert rows == [
        {
            "version": "3.2.0",
            "tag": "v3.2.0",
            "commit_sha": git(repo, "rev-parse", "HEAD"),
            "message": "Minor release",
        }
    ]
    assert release["commit"] == rows[0]["commit_sha"]


def test_failed_tag_records_nothing(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("v1.0.0",))
    with SqliteData(tmp_path / "gryt.db") as data:
        with pytest.raises(VersioningError):
            SimpleVersioning(repo, data=data).tag_release("v1.0.0", "again")
        assert data.query("SELECT * FROM versions") == []


def test_not_a_git_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    versioning = SimpleVersioning(folder)
    for call in (versioning.current_version, lambda: versioning.tag_release("1.0.0", "x")):
        with pytest.raises(VersioningError, match="not a git repository") as caught:
            call()
        assert_one_line(caught.value)
        assert isinstance(caught.value, GrytError)


def test_missing_repository_folder_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="repository folder does not exist") as caught:
        SimpleVersioning(tmp_path / "nowhere").current_version()
    assert_one_line(caught.value)


def test_repository_without_commits(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commits=0)
    versioning = SimpleVersioning(repo)
    assert versioning.current_version() == "0.0.0"
    assert versioning.bump_version("minor") == "0.1.0"
    with pytest.raises(VersioningError, match="has no commits yet") as caught:
        versioning.tag_release("0.1.0", "first")
    assert_one_line(caught.value)


def test_git_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = make_repo(tmp_path / "repo")
    empty = tmp_path / "empty-path"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(VersioningError, match="git is not installed") as caught:
        SimpleVersioning(repo).current_version()
    assert_one_line(caught.value)


def test_missing_identity_is_explained(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    git(repo, "config", "--unset", "user.name")
    git(repo, "config", "--unset", "user.email")
    git(repo, "config", "user.useConfigOnly", "true")
    with pytest.raises(VersioningError, match=r"user\.name") as caught:
        SimpleVersioning(repo).tag_release("1.0.0", "x")
    assert_one_line(caught.value)


def test_other_git_failures_are_one_line(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    with pytest.raises(VersioningError, match=r"git tag failed in .*not a valid tag name") as caught:
        SimpleVersioning(repo).tag_release("1.0.0-x.lock", "git refuses names ending in .lock")
    assert_one_line(caught.value)


def test_git_location_variables_do_not_redirect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = make_repo(tmp_path / "ours", tags=("v1.0.0",))
    other = make_repo(tmp_path / "other", tags=("v9.0.0",))
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    assert SimpleVersioning(ours).current_version() == "v1.0.0"


def test_gryt_ci_1x_release_shortcuts(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", commits=2, tags=("v1.2.3",))
    versioning = SimpleVersioning(repo)
    assert versioning.bump_version() == "v1.2.4"  # no level means patch
    head = git(repo, "rev-parse", "HEAD")
    assert versioning.get_last_commit_hash() == head
    release = versioning.tag_with_last_commit("Hotfix")
    assert release == {"version": "1.2.4", "tag": "v1.2.4", "commit": head}  # the next patch, not the hash
    assert git(repo, "tag", "-l", "--format=%(contents:subject)", "v1.2.4") == "Hotfix"
    with pytest.raises(VersioningError, match="has no commits yet"):
        SimpleVersioning(make_repo(tmp_path / "empty", commits=0)).get_last_commit_hash()


@pytest.mark.parametrize(
    ("tags", "current", "bumps"),
    [
        (("26.1", "26.2.0rc1"), "26.2.0rc1", {"patch": "26.2.0", "minor": "26.2.0", "major": "27.0.0"}),
        (("v26.2.0rc1",), "v26.2.0rc1", {"prerelease": "v26.2.0rc2", "patch": "v26.2.0"}),
        (
            ("26.1", "26.2"),
            "26.2",
            {"patch": "26.2.1", "minor": "26.3", "major": "27.0", "prerelease": "26.2.1rc1"},
        ),
        (("1.0", "1.0.post1"), "1.0.post1", {"patch": "1.0.1", "minor": "1.1"}),
        (("2.0.dev3",), "2.0.dev3", {"patch": "2.0", "prerelease": "2.0rc1"}),
        (("1.9.0", "1.10rc2"), "1.10rc2", {"minor": "1.10", "patch": "1.10"}),
    ],
)
def test_pep440_tags(tmp_path: Path, tags: tuple[str, ...], current: str, bumps: dict[str, str]) -> None:
    versioning = SimpleVersioning(make_repo(tmp_path / "repo", tags=tags))
    assert versioning.current_version() == current
    for level, expected in bumps.items():
        assert versioning.bump_version(level) == expected, level
    assert versioning.bump_version("minor", prerelease="beta").split("b")[-1] == "1"


def test_pep440_release_cycle_is_always_higher(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("26.2.0rc1",))
    versioning = SimpleVersioning(repo)
    for level, expected in [("prerelease", "26.2.0rc2"), ("patch", "26.2.0"), ("patch", "26.2.1")]:
        version = versioning.bump_version(level)
        assert version == expected
        versioning.tag_release(version)
        assert versioning.current_version() == expected
    with pytest.raises(VersioningError, match=r"already tagged as 26\.2\.1"):
        versioning.tag_release("26.2.1.0")  # the same release as PEP 440 compares it
    with pytest.raises(ConfigError, match="use a, b or rc"):
        versioning.bump_version("prerelease", prerelease="gamma")
    with pytest.raises(ConfigError, match="would not be higher"):
        SimpleVersioning(make_repo(tmp_path / "rc", tags=("1.0rc1",))).bump_version("prerelease", "a")


def test_semver_and_pep440_tags_are_ordered_together(tmp_path: Path) -> None:
    versioning = SimpleVersioning(make_repo(tmp_path / "repo", tags=("v1.2.3", "1.3rc1", "1.2.9")))
    assert versioning.current_version() == "1.3rc1"
    assert versioning.bump_version("patch") == "1.3"
    git(tmp_path / "repo", "tag", "v1.3.0")
    assert versioning.current_version() == "v1.3.0"  # 1.3 released, as written
    assert versioning.bump_version("prerelease") == "v1.3.1rc1"  # a PEP 440 project stays PEP 440


def test_check_release_refuses_dirty_trees_and_tagged_heads(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", tags=("v1.0.0", "latest"))
    versioning = SimpleVersioning(repo)
    with pytest.raises(VersioningError, match=r"HEAD is already tagged v1\.0\.0;") as caught:
        versioning.check_release()
    assert_one_line(caught.value)
    (repo / "file.txt").write_text("new\n")
    git(repo, "commit", "-q", "-am", "next")
    (repo / "untracked.txt").write_text("build output\n")
    versioning.check_release()  # untracked files do not count
    (repo / "file.txt").write_text("edited\n")
    with pytest.raises(VersioningError, match=r"uncommitted changes \(file\.txt\)"):
        versioning.check_release()

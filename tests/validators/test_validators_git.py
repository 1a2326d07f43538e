"""`git` validator against real repositories in temp dirs (isolated from the user's git config)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gryt.errors import ConfigError
from gryt_validators.git import GitValidator

Git = Callable[..., str]


def test_clean_repo_on_main_passes(make_repo: Callable[..., Path]) -> None:
    repo = make_repo()
    assert GitValidator(clean=True, branch="main", path=str(repo)).run() == []


def test_default_path_is_the_current_directory(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo()
    (repo / "new.txt").write_text("x")
    monkeypatch.chdir(repo)
    [issue] = GitValidator(clean=True).run()
    assert issue.kind == "git_dirty"
    assert issue.details == {"paths": ["new.txt"], "count": 1}


def test_modified_and_untracked_files_are_listed(make_repo: Callable[..., Path], git: Git) -> None:
    repo = make_repo()
    (repo / "README.md").write_text("changed\n")
    (repo / "dir with space").mkdir()
    (repo / "dir with space" / "untracked file.txt").write_text("x")
    (repo / "ignored.log").write_text("x")
    (repo / ".gitignore").write_text("*.log\n")
    git(repo, "add", ".gitignore")
    [issue] = GitValidator(clean=True, path=str(repo)).run()
    assert issue.kind == "git_dirty"
    assert issue.details is not None
    assert sorted(issue.details["paths"]) == [".gitignore", "README.md", "dir with space/untracked file.txt"]
    assert issue.details["count"] == 3
    assert "3 uncommitted or untracked changes" in issue.message
    assert "ignored.log" not in issue.message


def test_many_changes_list_only_the_first_few(make_repo: Callable[..., Path]) -> None:
    repo = make_repo()
    for index in range(8):
        (repo / f"f{index}.txt").write_text("x")
    [issue] = GitValidator(clean=True, path=str(repo)).run()
    assert issue.details is not None
    assert issue.details["count"] == 8
    assert len(issue.details["paths"]) == 5
    assert issue.message.endswith(", ...")


def test_dirty_tree_ignored_unless_clean_requested(make_repo: Callable[..., Path]) -> None:
    repo = make_repo()
    (repo / "new.txt").write_text("x")
    assert GitValidator(path=str(repo)).run() == []


def test_branch_globs(make_repo: Callable[..., Path], git: Git) -> None:
    repo = make_repo()
    git(repo, "switch", "-q", "-c", "feature/login")
    [issue] = GitValidator(branch="main", path=str(repo)).run()
    assert issue.kind == "git_branch"
    assert issue.name == "feature/login"
    assert issue.details == {"found": "feature/login", "required": ["main"]}
    assert "feature/login does not match main" in issue.message
    assert GitValidator(branch="feature/*", path=str(repo)).run() == []
    assert GitValidator(branch=["main", "feature/*"], path=str(repo)).run() == []


def test_detached_head_fails_branch_check(make_repo: Callable[..., Path], git: Git) -> None:
    repo = make_repo()
    git(repo, "checkout", "-q", "--detach", "HEAD")
    [issue] = GitValidator(branch="*", path=str(repo)).run()
    assert issue.kind == "git_branch"
    assert "detached" in issue.message


def test_tag_on_head(make_repo: Callable[..., Path], git: Git) -> None:
    repo = make_repo()
    [issue] = GitValidator(tag=True, path=str(repo)).run()
    assert issue.kind == "git_tag"
    head = git(repo, "rev-parse", "--short", "HEAD").strip()
    assert issue.message == f"HEAD ({head}) is not tagged"
    git(repo, "tag", "-a", "v1.0.0", "-m", "release")
    assert GitValidator(tag=True, path=str(repo)).run() == []
    (repo / "next.txt").write_text("x")
    git(repo, "add", "next.txt")
    git(repo, "commit", "-q", "-m", "after the tag")
    [issue] = GitValidator(tag=True, path=str(repo)).run()
    assert issue.kind == "git_tag"


def test_lightweight_tag_counts(make_repo: Callable[..., Path], git: Git) -> None:
    repo = make_repo()
    git(repo, "tag", "1.2.3")
    assert GitValidator(tag=True, path=str(repo)).run() == []


def test_every_problem_is_reported_at_once(make_repo: Callable[..., Path], git: Git) -> None:
    repo = make_repo()
    git(repo, "switch", "-q", "-c", "wip")
    (repo / "scratch.txt").write_text("x")
    issues = GitValidator(clean=True, branch="main", tag=True, path=str(repo)).run()
    assert [i.kind for i in issues] == ["git_dirty", "git_branch", "git_tag"]


def test_repo_without_commits(make_repo: Callable[..., Path]) -> None:
    repo = make_repo(commit=False)
    assert GitValidator(clean=True, branch="main", path=str(repo)).run() == []
    [issue] = GitValidator(tag=True, path=str(repo)).run()
    assert issue.kind == "git_tag"


def test_not_a_repository(tmp_path: Path, git_env: None) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    [issue] = GitValidator(clean=True, branch="main", tag=True, path=str(plain)).run()
    assert issue.kind == "git_missing"
    assert issue.message == f"{plain} is not a git repository"
    [issue] = GitValidator(path=str(tmp_path / "does-not-exist")).run()
    assert issue.kind == "git_missing"
    assert "No such file or directory" in issue.message


def test_inside_the_git_dir_is_not_a_work_tree(make_repo: Callable[..., Path]) -> None:
    repo = make_repo()
    [issue] = GitValidator(path=str(repo / ".git")).run()
    assert issue.kind == "git_missing"
    assert "not a work tree" in issue.message


def test_git_not_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    [issue] = GitValidator().run()
    assert issue.kind == "git_missing"
    assert "git is not installed" in issue.message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"branch": ["main", ""]}, r'branch\[1\]: expected a non-empty string, got ""'),
        ({"branch": ""}, 'branch: expected a non-empty string, got ""'),
        ({"branch": 1}, "expected a string or a list"),
        ({"clean": "yes"}, "expected a boolean"),
    ],
)
def test_bad_config(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        GitValidator(**kwargs)  # type: ignore[arg-type]

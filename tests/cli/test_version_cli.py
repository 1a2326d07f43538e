"""`gryt version bump`: PEP 440 tags, and --tag's refusals (dirty tree, tagged HEAD), --force and --dry-run."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import write

GIT_ENV = {
    "GIT_AUTHOR_NAME": "gryt tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "gryt tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
        env={**GIT_ENV, "PATH": "/usr/bin:/bin"},
    )
    return done.stdout.strip()


@pytest.fixture
def repo(project: Path) -> Path:
    """A project whose only commit is tagged `26.2.0rc1`, as a Python project tags."""
    git(project, "init", "-q")
    write(project / "README.md", "hello\n")
    git(project, "add", "README.md")
    git(project, "commit", "-q", "-m", "initial")
    git(project, "tag", "26.2.0rc1")
    return project


def commit(repo: Path, text: str) -> None:
    write(repo / "README.md", text)
    git(repo, "commit", "-q", "-am", text.strip())


def test_pep440_patch_after_a_release_candidate_releases_it(gryt, repo: Path) -> None:
    assert gryt("version", "current", cwd=repo, env=GIT_ENV).stdout.strip() == "26.2.0rc1"
    for level, expected in (("patch", "26.2.0"), ("minor", "26.2.0"), ("prerelease", "26.2.0rc2")):
        done = gryt("version", "bump", level, cwd=repo, env=GIT_ENV)
        assert (done.code, done.stdout.strip()) == (0, expected), done.stderr
    done = gryt("version", "bump", "minor", "--pre", "b", cwd=repo, env=GIT_ENV)
    assert done.stdout.strip() == "26.3.0b1"  # as many numbers as the current tag


def test_tag_refuses_a_tagged_head_and_a_dirty_tree_unless_forced(gryt, repo: Path) -> None:
    refused = gryt("version", "bump", "patch", "--tag", cwd=repo, env=GIT_ENV)
    assert refused.code == 2
    assert "HEAD is already tagged 26.2.0rc1" in refused.stderr and "--force" in refused.stderr
    commit(repo, "fix\n")
    write(repo / "README.md", "uncommitted\n")
    dirty = gryt("version", "bump", "patch", "--tag", cwd=repo, env=GIT_ENV)
    assert dirty.code == 2 and "uncommitted changes (README.md)" in dirty.stderr
    assert git(repo, "tag", "--list") == "26.2.0rc1"
    forced = gryt("version", "bump", "patch", "--tag", "--force", cwd=repo, env=GIT_ENV)
    assert forced.code == 0, forced.stderr
    assert forced.stdout.strip() == "26.2.0"
    assert git(repo, "tag", "--list").split() == ["26.2.0", "26.2.0rc1"]
    recorded = json.loads(gryt("db", "--table", "versions", cwd=repo).stdout)["versions"]
    assert [(r["version"], r["tag"]) for r in recorded] == [("26.2.0", "26.2.0")]


def test_dry_run_checks_and_shows_without_tagging(gryt, repo: Path) -> None:
    commit(repo, "fix\n")
    head = git(repo, "rev-parse", "HEAD")
    dry = gryt("version", "bump", "patch", "--tag", "--dry-run", cwd=repo, env=GIT_ENV)
    assert dry.code == 0, dry.stderr
    assert dry.stdout.strip() == "26.2.0"
    assert f"would tag 26.2.0 at {head[:12]}" in dry.stderr
    assert git(repo, "tag", "--list") == "26.2.0rc1"
    assert not (repo / ".gryt" / "gryt.db").exists()  # nothing recorded either
    write(repo / "README.md", "uncommitted\n")
    dirty = gryt("version", "bump", "patch", "--dry-run", cwd=repo, env=GIT_ENV)
    assert dirty.code == 2 and "uncommitted changes" in dirty.stderr

"""Versions read from git tags: find the current one, compute the next, tag a release.

Tags are semver (`1.2.3`, `1.2.4-rc.1`) or PEP 440 as Python projects write them (`26.2`, `26.2.0rc1`,
`1.0.post1`). The version numbers themselves (parsing, order, bumping) are `gryt.versions`';
`SimpleVersioning` applies them to a repository's tags through the `git` command.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gryt.errors import ConfigError, GrytError
from gryt.masking import shorten
from gryt.versions import (
    AnyVersion,
    Pep440Version,
    Version,
    bump_any,
    check_level,
    format_any,
    order_key,
    split_any,
)

if TYPE_CHECKING:
    from gryt.data import Data

__all__ = ["SimpleVersioning", "Versioning", "VersioningError"]

GIT_TIMEOUT = 60.0


# Variables that would point git at another repository than the one we were given.
_GIT_LOCATION_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
)


class VersioningError(GrytError):
    """git could not do what versioning asked: no repository, no commits, git missing, tag exists."""


class Versioning(ABC):
    """Where a project's version comes from and how a release is marked."""

    @abstractmethod
    def current_version(self) -> str:
        """The project's current version string."""

    @abstractmethod
    def bump_version(self, level: str, prerelease: str | None = None) -> str:
        """The version string that follows the current one at `level`; marks nothing."""

    @abstractmethod
    def tag_release(self, version: str, message: str | None = None) -> dict[str, str]:
        """Mark `version` as released; returns `version`, `tag` and `commit`."""


@dataclass(frozen=True)
class _Tag:
    name: str
    prefix: str
    version: AnyVersion


class SimpleVersioning(Versioning):
    """Versions from git tags (`v1.2.3`, `1.2.3`, PEP 440 `26.2.0rc1`; others are ignored); none means 0.0.0.

    New versions follow the style of the highest tag: `v` prefixed when it is, PEP 440 when it is. With
    `data`, every tagged release is recorded in the `versions` table.
    """

    def __init__(self, repo: str | os.PathLike[str] = ".", data: Data | None = None) -> None:
        self.repo = Path(repo)
        self.data = data

    def _run_git(self, *args: str) -> subprocess.CompletedProcess[str]:
        if not self.repo.is_dir():
            raise ConfigError(f"{self.repo}: repository folder does not exist")
        env = {k: v for k, v in os.environ.items() if k not in _GIT_LOCATION_VARS}
        env.update(LC_ALL="C", LANGUAGE="C", GIT_TERMINAL_PROMPT="0")
        try:
            return subprocess.run(
                ["git", "-C", str(self.repo), *args],
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                stdin=subprocess.DEVNULL,
                env=env,
                timeout=GIT_TIMEOUT,
                check=False,
            )
        except FileNotFoundError:
            raise VersioningError("git is not installed or not on PATH; versioning reads git tags") from None
        except subprocess.TimeoutExpired:
            raise VersioningError(
                f"git {args[0]} did not finish within {GIT_TIMEOUT:g} s in {self.repo}"
            ) from None
        except OSError as exc:
            raise VersioningError(f"cannot run git: {exc.strerror or exc}") from None

    def _failure(self, command: str, stderr: str) -> VersioningError:
        """A one-line error for a failed git command, without git's raw multi-line output."""
        lowered = stderr.lower()
        if "not a git repository" in lowered:
            return VersioningError(
                f"{self.repo}: not a git repository (run `git init` there or pass repo=...)"
            )
        if "dubious ownership" in lowered:
            return VersioningError(
                f"{self.repo}: git refuses a repository owned by another user "
                "(see `git config --global --add safe.directory`)"
            )
        if "tell me who you are" in lowered or "auto-detect email" in lowered or "empty ident" in lowered:
            return VersioningError(
                "git has no author identity for the tag; set `git config user.name` and `git config user.email`"
            )
        lines = [line.strip() for line in stderr.splitlines() if line.strip()]
        reason = lines[-1] if lines else "no error output"
        for marker in ("fatal: ", "error: "):
            reason = reason.removeprefix(marker)
        return VersioningError(f"git {command} failed in {self.repo}: {shorten(reason, 200)}")

    def _git(self, *args: str) -> str:
        proc = self._run_git(*args)
        if proc.returncode != 0:
            raise self._failure(args[0], proc.stderr)
        return proc.stdout

    def _tags(self, *refs: str) -> list[_Tag]:
        """Every version tag of the repository (or those pointing at `refs`); other tags are skipped.

        Once any tag is PEP 440 only (`26.2`, `26.2.0rc1`), the project is a PEP 440 one: its plain
        `X.Y.Z` tags are read as PEP 440 too, so the next prerelease is `26.2.1rc1`, not `26.2.1-rc.1`.
        """
        points_at = [arg for ref in refs for arg in ("--points-at", ref)]
        output = self._git("for-each-ref", "--format=%(refname:strip=2)", *points_at, "refs/tags")
        tags = []
        for name in output.splitlines():
            try:
                prefix, version = split_any(name)
            except ConfigError:
                continue
            tags.append(_Tag(name, prefix, version))
        if any(isinstance(t.version, Pep440Version) for t in tags):
            tags = [_as_pep440(t) for t in tags]
        return tags

    def _latest(self) -> _Tag | None:
        """The highest version tag; equal precedence goes to the lexically greatest name (deterministic)."""
        return _highest(self._tags())

    def current_version(self) -> str:
        """The highest version tag as written (`v1.2.3`, `1.2.3`, `26.2.0rc1`), or `0.0.0` without any."""
        latest = self._latest()
        return latest.name if latest is not None else "0.0.0"

    def bump_version(self, level: str = "patch", prerelease: str | None = None) -> str:
        """The next version in the project's tag style (`v` and PEP 440 kept), without creating a tag."""
        check_level(level)
        latest = self._latest()
        current: AnyVersion = latest.version if latest is not None else Version(0, 0, 0)
        prefix = latest.prefix if latest is not None else ""
        return format_any(bump_any(current, level, prerelease), prefix)

    def get_last_commit_hash(self) -> str:
        """The full hash of `HEAD`; VersioningError when the repository has no commits."""
        head = self._run_git("rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        if head.returncode != 0:
            if head.stderr.strip():
                raise self._failure("rev-parse", head.stderr)
            raise VersioningError(f"{self.repo} has no commits yet")
        return head.stdout.strip()

    def tag_with_last_commit(self, message: str | None = None) -> dict[str, str]:
        """Tag `HEAD` with the next patch version (gryt-ci 1.x's release shortcut); see `tag_release`."""
        return self.tag_release(self.bump_version("patch"), message)

    def check_release(self) -> None:
        """Refuse a release from a work tree with uncommitted changes to tracked files, or from a `HEAD`
        that already carries a version tag; VersioningError says which."""
        changed = self._git("status", "--porcelain", "--untracked-files=no").splitlines()
        if changed:
            first = changed[0][3:]
            more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
            raise VersioningError(
                f"{self.repo} has uncommitted changes ({first}{more}); commit or stash them, or use --force"
            )
        tagged = self._tags("HEAD")
        if tagged:
            names = ", ".join(sorted(t.name for t in tagged))
            raise VersioningError(f"HEAD is already tagged {names}; commit something new, or use --force")

    def tag_release(self, version: str, message: str | None = None) -> dict[str, str]:
        """Create an annotated tag for `version` on HEAD and record it; fails if it is already tagged.

        Without a `v` in `version` the tag follows the project's style (`1.2.4` becomes `v1.2.4`
        when the latest tag has a `v`).
        """
        given_prefix, parsed = split_any(version)
        if message is not None and not isinstance(message, str):
            raise ConfigError(f"tag message must be a string, got {type(message).__name__}")
        tags = self._tags()
        latest = _highest(tags)
        prefix = given_prefix or (latest.prefix if latest is not None else "")
        tag = format_any(parsed, prefix)
        for existing in tags:
            if existing.name == tag:
                raise VersioningError(f"tag {tag} already exists in {self.repo}; choose a new version")
            if order_key(existing.version) == order_key(parsed):
                raise VersioningError(f"version {parsed} is already tagged as {existing.name} in {self.repo}")
        try:
            commit = self.get_last_commit_hash()
        except VersioningError as exc:
            raise VersioningError(f"cannot tag {tag}: {exc}") from None
        text = message if message and message.strip() else f"Release {tag}"
        proc = self._run_git("tag", "--annotate", "--message", text, tag, commit)
        if proc.returncode != 0:
            if "already exists" in proc.stderr:
                raise VersioningError(f"tag {tag} already exists in {self.repo}; choose a new version")
            raise self._failure("tag", proc.stderr)
        release = {"version": format_any(parsed), "tag": tag, "commit": commit}
        if self.data is not None:
            try:
                self.data.insert(
                    "versions",
                    {"version": release["version"], "tag": tag, "commit_sha": commit, "message": text},
                )
            except sqlite3.Error as exc:
                raise VersioningError(
                    f"tagged {tag} but could not record it in the database: {exc}"
                ) from None
        return release


def _highest(tags: list[_Tag]) -> _Tag | None:
    return max(tags, key=lambda t: (order_key(t.version), t.name)) if tags else None


def _as_pep440(tag: _Tag) -> _Tag:
    """A plain semver release tag (`26.2.0`) read as PEP 440; prereleases keep their semver reading."""
    version = tag.version
    if isinstance(version, Version) and not version.prerelease and not version.build:
        return _Tag(tag.name, tag.prefix, Pep440Version((version.major, version.minor, version.patch)))
    return tag

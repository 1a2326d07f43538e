"""`git`: the project is a git work tree, optionally clean, on a matching branch, at a tagged commit."""

from __future__ import annotations

import fnmatch
import shutil
from typing import TYPE_CHECKING

from gryt.config import ConfigKey
from gryt.validators import Issue, Validator

if TYPE_CHECKING:
    from gryt.command import CommandResult

GIT_TIMEOUT = 30.0
"""Seconds any single git command may take before it is killed."""

SHOWN_PATHS = 5
"""How many changed paths a `git_dirty` message lists."""

_READ_ONLY_ENV = {"GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
"""`git status` must not take the index lock nor prompt; C locale keeps messages parseable."""


class GitValidator(Validator):
    """Report a missing repository, a dirty work tree, a branch outside the globs, an untagged HEAD."""

    name = "git"
    summary = "The project is a git work tree: clean, on a matching branch, tagged HEAD"
    config_keys = (
        ConfigKey("clean", bool, False, "Require no uncommitted or untracked changes"),
        ConfigKey(
            "branch",
            (str, list),
            None,
            'Glob (or list of globs) the branch must match, e.g. "release/*"',
            items=str,
            non_empty=True,
        ),
        ConfigKey("tag", bool, False, "Require a tag pointing at HEAD"),
        ConfigKey("path", str, ".", "Directory inside the repository; relative to the project root"),
    )

    def __init__(
        self,
        clean: bool = False,
        branch: str | list[str] | None = None,
        tag: bool = False,
        path: str = ".",
    ) -> None:
        super().__init__(clean=clean, branch=branch, tag=tag, path=path)
        patterns = self.options["branch"]
        if isinstance(patterns, str):
            patterns = [patterns]
        self.clean: bool = self.options["clean"]
        self.branches: list[str] | None = None if patterns is None else list(patterns)
        self.tag: bool = self.options["tag"]
        self.path: str = self.options["path"]

    def run(self) -> list[Issue]:
        git = shutil.which("git")
        if git is None:
            return [Issue("git_missing", self.path, "git is not installed (not found on PATH)")]
        probe = self._git(git, "rev-parse", "--is-inside-work-tree")
        if probe.error is not None or probe.returncode != 0 or probe.stdout.strip() != "true":
            where = "the project directory" if self.path == "." else self.path
            reason = (probe.error or probe.first_line()).removeprefix("fatal: ")
            if probe.returncode == 0:
                reason = "inside the .git directory, not a work tree"
            suffix = f" ({reason})" if reason and "not a git repository" not in reason else ""
            return [Issue("git_missing", self.path, f"{where} is not a git repository{suffix}")]
        issues: list[Issue] = []
        for check in (self._check_clean, self._check_branch, self._check_tag):
            issue = check(git)
            if issue is not None:
                issues.append(issue)
        return issues

    def _git(self, git: str, *args: str) -> CommandResult:
        from gryt.command import run_short_command

        argv = [git, "-C", self.path, *args]
        label = "`" + " ".join(["git", *args]) + "`"
        return run_short_command(argv, timeout=GIT_TIMEOUT, extra_env=_READ_ONLY_ENV, label=label)

    def _check_clean(self, git: str) -> Issue | None:
        if not self.clean:
            return None
        status = self._git(git, "status", "--porcelain=v1", "-z", "--untracked-files=all")
        if status.error is not None or status.returncode != 0:
            reason = status.error or status.first_line()
            return Issue("git_dirty", self.path, f"cannot read the work tree status: {reason}")
        paths = _porcelain_paths(status.stdout)
        if not paths:
            return None
        shown = ", ".join(paths[:SHOWN_PATHS]) + (", ..." if len(paths) > SHOWN_PATHS else "")
        plural = "change" if len(paths) == 1 else "changes"
        message = f"work tree has {len(paths)} uncommitted or untracked {plural}: {shown}"
        return Issue("git_dirty", self.path, message, {"paths": paths[:SHOWN_PATHS], "count": len(paths)})

    def _check_branch(self, git: str) -> Issue | None:
        if self.branches is None:
            return None
        wanted = " or ".join(self.branches)
        ref = self._git(git, "symbolic-ref", "--short", "-q", "HEAD")
        if ref.error is not None or ref.returncode not in (0, 1):
            reason = ref.error or ref.first_line()
            return Issue("git_branch", "HEAD", f"cannot read the current branch: {reason}")
        branch = ref.stdout.strip() if ref.returncode == 0 else None
        details = {"found": branch, "required": list(self.branches)}
        if branch is None:
            return Issue(
                "git_branch", "HEAD", f"HEAD is detached, expected a branch matching {wanted}", details
            )
        if any(fnmatch.fnmatchcase(branch, pattern) for pattern in self.branches):
            return None
        return Issue("git_branch", branch, f"branch {branch} does not match {wanted}", details)

    def _check_tag(self, git: str) -> Issue | None:
        if not self.tag:
            return None
        head = self._git(git, "rev-parse", "--verify", "-q", "--short", "HEAD")
        if head.error is not None or head.returncode != 0:
            reason = head.error or head.first_line() or "no commit yet"
            return Issue("git_tag", "HEAD", f"HEAD is not tagged: {reason}")
        commit = head.stdout.strip()
        tags = self._git(git, "tag", "--points-at", "HEAD")
        if tags.error is not None or tags.returncode != 0:
            reason = tags.error or tags.first_line()
            return Issue("git_tag", "HEAD", f"cannot list the tags of HEAD: {reason}", {"commit": commit})
        if tags.stdout.strip():
            return None
        return Issue("git_tag", "HEAD", f"HEAD ({commit}) is not tagged", {"commit": commit})


def _porcelain_paths(output: str) -> list[str]:
    """Paths from `git status --porcelain=v1 -z` (renames list the new path; the old one is skipped)."""
    paths: list[str] = []
    entries = output.split("\0")
    index = 0
    while index < len(entries):
        entry = entries[index]
        index += 1
        if len(entry) < 4:
            continue
        paths.append(entry[3:])
        if entry[0] in "RC":
            index += 1
    return paths

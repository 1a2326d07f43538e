"""`files`: paths that must exist (as a file, a directory, or either), relative to the project root."""

from __future__ import annotations

import stat
from pathlib import Path

from gryt.config import ConfigKey
from gryt.validators import Issue, Validator

KINDS = ("any", "file", "dir")
_NOUNS = {"any": "path", "file": "file", "dir": "directory"}


class FileValidator(Validator):
    """Report every path that is missing or is not of the expected kind.

    Relative paths resolve against the current directory; the CLI runs from the project root.
    """

    name = "files"
    summary = "Files or directories exist (relative to the project root)"
    config_keys = (
        ConfigKey(
            "paths",
            list,
            [],
            "Paths that must exist; relative to the project root",
            items=str,
            non_empty=True,
        ),
        ConfigKey("kind", str, "any", 'What each path must be: "any", "file" or "dir"', choices=KINDS),
    )

    def __init__(self, paths: list[str] | None = None, kind: str = "any") -> None:
        super().__init__(paths=[] if paths is None else paths, kind=kind)
        self.paths: list[str] = list(self.options["paths"])
        self.kind: str = self.options["kind"]

    def run(self) -> list[Issue]:
        issues: list[Issue] = []
        for raw in self.paths:
            found, error = _inspect(Path(raw).expanduser())
            if error is not None:
                message = f"cannot check {raw}: {error}"
            elif found is None:
                message = f"{_NOUNS[self.kind]} {raw} does not exist"
            elif self.kind not in ("any", found):
                what = "a directory" if found == "dir" else "not a directory"
                message = f"{raw} is {what}, expected {'a file' if self.kind == 'file' else 'a directory'}"
            else:
                continue
            details = {"path": raw, "expected": self.kind, "found": found}
            issues.append(Issue("file_missing", raw, message, details))
        return issues


def _inspect(path: Path) -> tuple[str | None, str | None]:
    """("dir" | "file" | None, error): what `path` is (following symlinks), or why it cannot be told."""
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    except OSError as exc:
        return None, exc.strerror or str(exc)
    return ("dir" if stat.S_ISDIR(mode) else "file"), None

"""What a plugin's own `gryt` sub-command (a `gryt.commands` entry point) uses from core: gryt's one-line
error reporting, the project, a pipeline's plan, JSON on the real stdout, a generated file kept current,
and the distributions a generated CI job installs, pinned.

Import it inside the command function: `gryt --help` lists plugin commands without importing them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import typer

from gryt.cli._common import open_project, print_json, reporting

__all__ = ["open_project", "pinned", "plan", "print_json", "reporting", "write_generated"]


def plan(pipeline: str | None) -> dict[str, Any]:
    """The `gryt plan --json` document of `pipeline` (a file, or a name in the pipelines folder; None: the
    project's only pipeline), as documented in docs/cli.md."""
    from gryt.cli.plan import build_plan

    return build_plan(pipeline)


def pinned(distributions: Iterable[str]) -> list[str]:
    """`NAME==VERSION` for each of `distributions` at the version installed here (NAME alone when it is
    not installed), sorted by name: what a generated CI job installs to run as this machine does."""
    from importlib import metadata

    pins = []
    for name in sorted(set(distributions)):
        try:
            pins.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pins.append(name)
    return pins


def write_generated(target: Path, text: str, *, check: bool, command: str) -> bool:
    """Keep `target` holding `text` (a file gryt generates and the user commits). True when it was written;
    False when it already held `text` (said on stdout). With `check`, writes nothing: a missing or different
    file is one line on stderr naming `command` (what regenerates it) and exit code 1."""
    from gryt.errors import ConfigError
    from gryt.project import display_path

    shown = display_path(target)
    try:
        current: str | None = target.read_text(encoding="utf-8")
    except FileNotFoundError:
        current = None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ConfigError(f"{shown}: cannot read: {reason}") from None
    if current == text:
        typer.echo(f"{shown} is up to date")
        return False
    if check:
        state = "missing" if current is None else "out of date"
        typer.echo(f"gryt: {shown} is {state}: run `{command}` and commit it", err=True)
        raise typer.Exit(1)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot write: {exc.strerror or exc}") from None
    return True

"""Exceptions gryt raises on purpose; each carries the CLI exit code it maps to."""

from __future__ import annotations


def one_line(exc: BaseException, *, with_type: bool = True) -> str:
    """`Type: first line of the message` (or just the line, `with_type=False`): how gryt reports an
    exception it caught in one line of a message, a result or a warning."""
    lines = str(exc).strip().splitlines()
    if not with_type:
        return " ".join(" ".join(lines).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


class GrytError(Exception):
    """Base of gryt's own errors: the message is one line a user can act on."""

    exit_code = 2


class ConfigError(GrytError, ValueError):
    """Bad input: a pipeline file, a config key, a value of the wrong type (exit 2)."""


class PluginError(GrytError):
    """A plugin type that is unknown, disabled or provided by a broken plugin (exit 2)."""


class CacheError(GrytError):
    """A step cache store could not do what was asked (unreachable, full, unsupported, exit 2).

    During a run gryt warns and runs the step as on a miss; `gryt cache` reports it and exits 2.
    """


class Interrupted(GrytError):
    """The run was stopped by SIGINT (exit 130) or SIGTERM (exit 143)."""

    def __init__(self, message: str = "interrupted", exit_code: int = 130) -> None:
        super().__init__(message)
        self.exit_code = exit_code

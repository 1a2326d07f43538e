"""Allowed failures: a step or runner whose failure is recorded (status `error`, `allowed: true`) and
reported as a warning, but fails neither its runner nor the run, so dependants still run.

`allow_failure = true` allows any failure; `allow_failure = { exit_codes = [3, 4] }` only those exit
codes (as GitLab's `allow_failure: exit_codes`). An interrupted step is never an allowed failure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeAlias

from gryt.config import describe, did_you_mean
from gryt.errors import ConfigError
from gryt.status import ERROR


@dataclass(frozen=True)
class AllowFailure:
    """Which failures are allowed: any (`exit_codes` None) or only these exit codes."""

    exit_codes: tuple[int, ...] | None = None

    def allows(self, result: Mapping[str, Any]) -> bool:
        """True when `result` is a failure (status `error`) this policy allows."""
        if result.get("status") != ERROR:
            return False
        if self.exit_codes is None:
            return True
        code = result.get("returncode")
        return isinstance(code, int) and not isinstance(code, bool) and code in self.exit_codes

    def describe(self) -> bool | dict[str, list[int]]:
        """The policy as written in TOML: `true`, or `{"exit_codes": [...]}`."""
        return True if self.exit_codes is None else {"exit_codes": list(self.exit_codes)}


AllowFailureSpec: TypeAlias = "bool | Mapping[str, Any] | Iterable[int] | AllowFailure | None"
"""What `allow_failure=` takes: a boolean, `{"exit_codes": [...]}`, a list of exit codes or a policy."""


def parse_allow_failure(value: AllowFailureSpec, where: str) -> AllowFailure | None:
    """The policy for an `allow_failure` value, None when failures are not allowed; ConfigError
    (`where.allow_failure: ...`) for anything else."""
    path = f"{where}.allow_failure" if where else "allow_failure"
    if value is None or value is False:
        return None
    if value is True:
        return AllowFailure()
    if isinstance(value, AllowFailure):
        return value
    if isinstance(value, Mapping):
        unknown = [k for k in value if k != "exit_codes"]
        if unknown:
            key = str(unknown[0])
            raise ConfigError(
                f"{path}.{key}: unknown key{did_you_mean(key, ['exit_codes'])}; accepted keys: exit_codes"
            )
        if "exit_codes" not in value:
            raise ConfigError(f"{path}.exit_codes: required key is missing (a list like [3, 4])")
        return AllowFailure(_codes(value["exit_codes"], f"{path}.exit_codes"))
    if isinstance(value, (list, tuple)):
        return AllowFailure(_codes(value, path))
    raise ConfigError(
        f"{path}: expected a boolean or a table like {{ exit_codes = [3] }}, got {describe(value)}"
    )


def _codes(values: Any, path: str) -> tuple[int, ...]:
    if not isinstance(values, (list, tuple)) or not values:
        raise ConfigError(f"{path}: expected a non-empty list of exit codes, got {describe(values)}")
    for index, code in enumerate(values):
        if isinstance(code, bool) or not isinstance(code, int) or not 0 <= code <= 255:
            raise ConfigError(
                f"{path}[{index}]: expected an exit code between 0 and 255, got {describe(code)}"
            )
    return tuple(values)

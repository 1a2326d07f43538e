"""Conditions: the `if` of runners, steps, auth steps and destinations, an expression (`gryt.expressions`)
deciding whether the item runs; when it does not, the item is recorded `skipped`, with the reason
`if: EXPR was false`.

Without a status function (`success()`, `failure()`, `always()`, `cancelled()`) a condition only counts
once nothing before it failed, as if `success() and` came first: a failed need or (with `fail_fast`) a
failed step still skips the item. `always()` runs it anyway (a cleanup step), `failure()` only after a
failure (a notification). In conditions an unset `env.NAME` is null, not an error.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gryt.errors import ConfigError
from gryt.expressions import STATUS_FUNCTIONS, ExpressionError, Status, evaluate, functions, parse, truthy
from gryt.variables import CLOSE, OPEN

if TYPE_CHECKING:
    from gryt.variables import Contexts


class Condition:
    """A parsed `if`: `source` as written (a `${{ }}` around the whole of it is allowed and dropped)."""

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise ConfigError(f"expected an expression as a string, got {type(source).__name__}")
        text = source.strip()
        if text.startswith(OPEN) and text.endswith(CLOSE) and OPEN not in text[len(OPEN) :]:
            text = text[len(OPEN) : -len(CLOSE)].strip()
        self.source = text
        self.node = parse(text)
        self.uses_status = any(f in STATUS_FUNCTIONS for f in functions(self.node))
        """True when the condition calls a status function: it then decides even after a failure."""

    def check(self, contexts: Contexts) -> None:
        """ExpressionError for an unknown name (unset environment variables are allowed: null)."""
        contexts.check(self.node, self.source, strict_env=False)

    def holds(self, contexts: Contexts, status: Status) -> bool:
        """Whether the item runs, given what failed before it."""
        return truthy(evaluate(self.node, contexts.lookup, status))

    def reason(self) -> str:
        """The skip reason recorded when the condition is false."""
        return f"if: {self.source} was false"

    def __repr__(self) -> str:
        return f"Condition({self.source!r})"


def parse_condition(value: Any, where: str) -> Condition | None:
    """The condition of an `if` value (a string or a Condition; None for none), ConfigError
    `where.if: ...` (with the column) for anything else."""
    path = f"{where}.if" if where else "if"
    if value is None or isinstance(value, Condition):
        return value
    if not isinstance(value, str):
        raise ConfigError(f"{path}: expected an expression as a string, got {type(value).__name__}")
    try:
        return Condition(value)
    except ExpressionError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def decide(condition: Condition | None, contexts: Contexts | None, status: Status, earlier: str) -> str:
    """Why an item is skipped ("" to run it): `earlier` is the reason a failure before it would skip it
    ("" when nothing failed), which holds unless the condition calls a status function."""
    if condition is None:
        return earlier
    if earlier and not condition.uses_status:
        return earlier
    if contexts is None:  # used outside a run's contexts: only the status functions mean anything
        from gryt.variables import Contexts

        contexts = Contexts({})
    return "" if condition.holds(contexts, status) else condition.reason()

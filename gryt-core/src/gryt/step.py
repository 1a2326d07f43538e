"""Steps: the unit of work a runner executes in order."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

from gryt.config import resolve_config
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.data import Data
    from gryt.hook import Hook


class Step(Registrable, ABC):
    """A unit of work. `run()` returns a result dict with at least `status`.

    The runner sets `context` before `run()`; a step used on its own gets a fresh context.
    """

    def __init__(
        self,
        id: str,
        config: dict[str, Any] | None = None,
        data: Data | None = None,
        hook: Hook | None = None,
    ) -> None:
        self.id = id
        self.config: dict[str, Any] = resolve_config(self.config_keys, config, where=id)
        self.data = data
        self.hook = hook
        self.context: RunContext | None = None

    @abstractmethod
    def run(self) -> dict[str, Any]:
        """Do the work; never raise for an expected failure, return `status: "error"` instead."""

    def validate(self) -> bool:
        """False means the step is skipped (recorded as `skipped`)."""
        return True

"""Destinations publish artifacts once every runner of a run succeeded."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.config import resolve_config
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.hook import Hook


class Destination(Registrable, ABC):
    """Publish artifacts somewhere; one result dict per artifact with `artifact` and `status`."""

    def __init__(self, id: str, config: dict[str, Any] | None = None, hook: Hook | None = None) -> None:
        self.id = id
        self.config: dict[str, Any] = resolve_config(self.config_keys, config, where=id)
        self.hook = hook
        self.context: RunContext | None = None

    @abstractmethod
    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        """Publish each artifact; report failures in the dicts (`status: "error"`, `error`)."""

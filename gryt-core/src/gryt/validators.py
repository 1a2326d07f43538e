"""Environment validators: check the environment before anything runs and report every problem.

`from gryt.validators import EnvVarValidator, ToolValidator` resolves through the plugin registry
(installed by the `gryt-validators` distribution).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass
from typing import Any

from gryt.config import resolve_config
from gryt.typeinfo import Registrable


@dataclass
class Issue:
    """One problem found in the environment; `kind` is machine-readable (`env_var_missing`, ...)."""

    kind: str
    name: str
    message: str
    details: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Validator(Registrable, ABC):
    """Checks one aspect of the environment. `run()` returns issues and never raises for a finding."""

    def __init__(self, **options: Any) -> None:
        self.options: dict[str, Any] = resolve_config(
            self.config_keys, options, where=self.name or "validator"
        )

    @abstractmethod
    def run(self) -> list[Issue]:
        """Return every issue found (empty when the environment is fine)."""


def __getattr__(name: str) -> Any:
    if name.startswith("_"):  # the import system asks for `__path__` and the like: not plugin classes
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from gryt.plugins.manager import import_type

    return import_type(name, __name__)

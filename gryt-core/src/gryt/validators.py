"""Environment validators: check the environment before anything runs and report every problem.

`from gryt.validators import EnvVarValidator, ToolValidator` resolves through the plugin registry
(installed by the `gryt-validators` distribution).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from gryt.config import resolve_config
from gryt.errors import one_line
from gryt.typeinfo import Registrable, type_name


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


def run_validators(validators: Iterable[Validator]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Run every validator: its type name and the issue dicts it found, in order. A validator that raises,
    or returns something other than a list, is reported as one `validator_error` issue; the rest still run.

    The one way validators run: before a pipeline (`Pipeline.execute`) and in `gryt env-validate`.
    """
    report: list[tuple[str, list[dict[str, Any]]]] = []
    for validator in validators:
        label = type_name(validator)
        try:
            found = validator.run()
            if not isinstance(found, list):
                raise TypeError(f"run() returned {type(found).__name__}, not a list of Issue")
            issues = [i.to_dict() if isinstance(i, Issue) else dict(i) for i in found]
        except Exception as exc:  # noqa: BLE001 - a broken validator is an issue, the others still run
            issues = [Issue(kind="validator_error", name=label, message=one_line(exc)).to_dict()]
        report.append((label, issues))
    return report


def __getattr__(name: str) -> Any:
    if name.startswith("_"):  # the import system asks for `__path__` and the like: not plugin classes
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from gryt.plugins.manager import import_type

    return import_type(name, __name__)

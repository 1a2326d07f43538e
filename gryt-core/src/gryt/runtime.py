"""Runtimes provision an environment before the runners and tear it down after, always."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from gryt.config import ConfigKey, resolve_config
from gryt.typeinfo import Registrable


class Runtime(Registrable, ABC):
    """Provision before runners start, tear down after the run (also on failure or interrupt).

    `env` is applied to every step of the run.
    """

    def __init__(self, **options: Any) -> None:
        self.options: dict[str, Any] = resolve_config(self.config_keys, options, where=self.name or "runtime")
        self.env: dict[str, str] = {}

    @abstractmethod
    def provision(self) -> None: ...

    @abstractmethod
    def teardown(self) -> None: ...


class LocalRuntime(Runtime):
    """Runs steps on this machine and installs nothing; `env` and `cwd` apply to every step."""

    name = "local"
    summary = "Run steps on this machine (installs nothing)"
    config_keys = (
        ConfigKey("env", dict, {}, "Environment variables applied to every step"),
        ConfigKey("cwd", str, None, "Working directory of every step that sets none"),
    )

    def __init__(self, env: dict[str, str] | None = None, cwd: str | None = None) -> None:
        super().__init__(env=env or {}, cwd=cwd)
        self.env = {str(k): str(v) for k, v in self.options["env"].items()}
        self.cwd: str | None = self.options["cwd"]

    def provision(self) -> None:
        """Nothing to install locally."""

    def teardown(self) -> None:
        """Nothing to remove locally."""

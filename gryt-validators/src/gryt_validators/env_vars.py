"""`env-vars`: required environment variables are set and not blank. Values are never shown."""

from __future__ import annotations

import os

from gryt.config import ConfigKey
from gryt.errors import ConfigError
from gryt.validators import Issue, Validator


class EnvVarValidator(Validator):
    """Report every required environment variable that is unset or whitespace-only."""

    name = "env-vars"
    summary = "Required environment variables are set and not blank"
    config_keys = (
        ConfigKey("required", list, [], "Names of environment variables that must be set and non-blank"),
    )

    def __init__(self, required: list[str] | None = None) -> None:
        super().__init__(required=[] if required is None else required)
        names: list[str] = self.options["required"]
        for item in names:
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(f"{self.name}.required: expected variable names, got {item!r}")
        self.required: list[str] = list(names)

    def run(self) -> list[Issue]:
        issues: list[Issue] = []
        for var in self.required:
            value = os.environ.get(var)
            if value is None:
                message = f"environment variable {var} is not set"
            elif not value.strip():
                message = f"environment variable {var} is blank"
            else:
                continue
            issues.append(Issue("env_var_missing", var, message, {"set": value is not None}))
        return issues

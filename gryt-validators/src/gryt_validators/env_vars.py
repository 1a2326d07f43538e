"""`env-vars`: required environment variables are set and not blank. Values are never shown."""

from __future__ import annotations

import os

from gryt.config import ConfigKey
from gryt.validators import Issue, Validator


class EnvVarValidator(Validator):
    """Report every required environment variable that is unset or whitespace-only."""

    name = "env-vars"
    summary = "Required environment variables are set and not blank"
    config_keys = (
        ConfigKey(
            "required",
            list,
            [],
            "Names of environment variables that must be set and non-blank",
            items=str,
            non_empty=True,
        ),
    )

    def __init__(self, required: list[str] | None = None) -> None:
        super().__init__(required=[] if required is None else required)
        self.required: list[str] = list(self.options["required"])

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

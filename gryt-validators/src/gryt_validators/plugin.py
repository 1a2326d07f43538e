"""Hook implementations of gryt-validators: registers env-vars, tools, files, python and git.

Cheap to import: the validator modules load only when gryt asks for the registrations.
"""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_validators(register: Register) -> None:
    from gryt_validators.env_vars import EnvVarValidator
    from gryt_validators.files import FileValidator
    from gryt_validators.git import GitValidator
    from gryt_validators.python import PythonValidator
    from gryt_validators.tools import ToolValidator

    for cls in (EnvVarValidator, ToolValidator, FileValidator, PythonValidator, GitValidator):
        register(cls)

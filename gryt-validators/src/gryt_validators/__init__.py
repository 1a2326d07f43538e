"""gryt plugin: environment validators (env-vars, tools, files, python, git).

The classes are also importable as `from gryt.validators import ToolValidator` once installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "EnvVarValidator": "gryt_validators.env_vars",
    "ToolValidator": "gryt_validators.tools",
    "FileValidator": "gryt_validators.files",
    "PythonValidator": "gryt_validators.python",
    "GitValidator": "gryt_validators.git",
}

__all__ = [
    "EnvVarValidator",
    "FileValidator",
    "GitValidator",
    "PythonValidator",
    "ToolValidator",
    "__version__",
]


def __getattr__(name: str) -> Any:
    """Import validator classes lazily so loading the plugin stays cheap."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gryt_validators' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


if TYPE_CHECKING:
    from gryt_validators.env_vars import EnvVarValidator
    from gryt_validators.files import FileValidator
    from gryt_validators.git import GitValidator
    from gryt_validators.python import PythonValidator
    from gryt_validators.tools import ToolValidator

"""gryt plugin: steps in managed, reused Python virtual environments (step types `python` and `pytest`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["PytestStep", "PythonStep", "__version__"]


def __getattr__(name: str) -> Any:
    """Import the step classes lazily so loading the plugin stays cheap."""
    if name == "PythonStep":
        from gryt_python.step import PythonStep

        return PythonStep
    if name == "PytestStep":
        from gryt_python.pytest_step import PytestStep

        return PytestStep
    raise AttributeError(f"module 'gryt_python' has no attribute {name!r}")


if TYPE_CHECKING:
    from gryt_python.pytest_step import PytestStep
    from gryt_python.step import PythonStep

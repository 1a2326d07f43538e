"""Hook implementations of gryt-python: registers step types `python` and `pytest`."""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_steps(register: Register) -> None:
    from gryt_python.pytest_step import PytestStep
    from gryt_python.step import PythonStep

    register(PythonStep)
    register(PytestStep)

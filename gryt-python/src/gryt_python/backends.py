"""The two ways to build an environment: `uv` (creates and fills one an order of magnitude faster) when it
is installed, else the interpreter's own `venv` plus `pip`. Both give the same thing: a virtual environment
for the chosen interpreter holding the requirements, byte-compiled, and not pip itself (list `pip` in
`install` for a command that needs it). The `venv` backend installs with the pip of the Python gryt runs on
(`pip --python`), which spares the seconds `ensurepip` takes; without a pip there, the environment gets its
own."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

from gryt.command import CommandResult, run_short_command
from gryt.errors import ConfigError
from gryt.masking import Masker

BACKENDS = ("auto", "uv", "venv")
_find_uv_lock = threading.Lock()


def find_uv() -> str | None:
    """The `uv` program: on PATH, else the one the `uv` package (`gryt-python[uv]`) installed.

    One thread at a time: `find_uv_bin` reads `sysconfig`, whose first use is not thread-safe (steps that
    start together got a half-filled configuration, a TypeError)."""
    found = shutil.which("uv")
    if found is not None:
        return found
    with _find_uv_lock:
        try:
            from uv import find_uv_bin
        except ImportError:
            return None
        try:
            return str(find_uv_bin())
        except FileNotFoundError:
            return None


def resolve_backend(name: str, where: str) -> str:
    """ "uv" or "venv" for a `backend` key; ConfigError when "uv" is asked for and not installed."""
    if name == "venv":
        return "venv"
    if find_uv() is not None:
        return "uv"
    if name == "uv":
        raise ConfigError(f'{where}.backend: "uv" is not installed; pip install "gryt-python[uv]" or uv')
    return "venv"


def _gryt_pip() -> str | None:
    """Where the pip of gryt's own Python is, if it has one."""
    spec = importlib.util.find_spec("pip")
    return spec.origin if spec is not None else None


def env_python(folder: Path) -> Path:
    """The interpreter inside an environment folder."""
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def bin_dir(folder: Path) -> Path:
    return env_python(folder).parent


def create(
    backend: str, interpreter: str, folder: Path, *, timeout: float, env: Mapping[str, str], masker: Masker
) -> CommandResult:
    """Create an empty virtual environment for `interpreter` at `folder`."""
    if backend == "uv":
        uv = find_uv() or "uv"
        argv = [uv, "venv", "--quiet", "--no-project", "--python", interpreter, str(folder)]
    else:
        own_pip = [] if _gryt_pip() is None else ["--without-pip"]
        argv = [interpreter, "-m", "venv", *own_pip, str(folder)]
    return run_short_command(
        argv, timeout=timeout, env=env, masker=masker, label=f"{backend}: create {folder.name}"
    )


def install(
    backend: str,
    folder: Path,
    args: Sequence[str],
    *,
    cwd: Path,
    timeout: float,
    env: Mapping[str, str],
    masker: Masker,
) -> CommandResult:
    """Install `args` (pip's requirement arguments, also understood by `uv pip install`) into `folder`."""
    python = str(env_python(folder))
    if backend == "uv":
        argv = [find_uv() or "uv", "pip", "install", "--compile-bytecode", "--python", python, *args]
    else:
        pip = (
            [python, "-m", "pip"]
            if _gryt_pip() is None
            else [sys.executable, "-m", "pip", "--python", python]
        )
        argv = [*pip, "install", "--disable-pip-version-check", "--quiet", *args]
    return run_short_command(
        argv, timeout=timeout, env=env, cwd=cwd, masker=masker, label=f"{backend}: install"
    )

"""Pipelines written in Python: the file is imported as a fresh module, and its `PIPELINE` taken or its
`build()` called; whatever its code raises becomes one ConfigError naming the file and line."""

from __future__ import annotations

import importlib.util
import inspect
import signal
import sys
import threading
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.errors import ConfigError, GrytError, Interrupted, one_line
from gryt.project import display_path

if TYPE_CHECKING:
    from gryt.pipeline import Pipeline


def import_pipeline(path: Path) -> Pipeline:
    """Import a `.py` pipeline and take its `PIPELINE` or call its `build()`."""
    module = _import_file(path)
    from gryt.pipeline import Pipeline

    file = display_path(path)
    if hasattr(module, "PIPELINE"):
        pipeline = module.PIPELINE
        source = "PIPELINE"
    elif callable(getattr(module, "build", None)):
        build = module.build
        if _required_params(build):
            raise ConfigError(f"{file}: build() must take no required arguments")
        with _user_code(path, "build() raised"):
            pipeline = build()
        source = "build()"
    else:
        raise ConfigError(f"{file}: defines no pipeline: set PIPELINE = Pipeline(...) or define build()")
    if not isinstance(pipeline, Pipeline):
        raise ConfigError(f"{file}: {source} is {type(pipeline).__name__}, expected a gryt Pipeline")
    return pipeline


def _required_params(func: Any) -> list[str]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in params
        if p.default is inspect.Parameter.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _import_file(path: Path) -> Any:
    """Execute a pipeline script as a fresh module; its folder is importable while it loads."""
    module_name = f"gryt_pipeline_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{display_path(path)}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.parent)
    sys.path.insert(0, folder)
    sys.modules[module_name] = module
    try:
        with _user_code(path, "failed to import"):
            spec.loader.exec_module(module)
    except GrytError:
        sys.modules.pop(module_name, None)
        raise
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


@contextmanager
def _user_code(path: Path, what: str) -> Iterator[None]:
    """Run code of the pipeline file at `path`: whatever it raises becomes a ConfigError naming the file
    and line (exit 2), including `sys.exit()` and a KeyboardInterrupt it raises itself, which would
    otherwise end gryt silently with the script's exit code and nothing run.

    A real Ctrl-C meanwhile still stops gryt as an interrupt (exit 130): on the main thread a SIGINT
    handler notes the signal, so it is told apart from a `raise KeyboardInterrupt` in the file.
    """
    signalled: list[int] = []
    previous: Any = None
    if threading.current_thread() is threading.main_thread():

        def handler(signum: int, frame: Any) -> None:
            signalled.append(signum)
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    except (Exception, SystemExit, KeyboardInterrupt) as exc:  # user code: reported with its location
        if signalled:
            raise Interrupted() from None
        raise ConfigError(_located(path, exc, what)) from exc
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _located(path: Path, exc: BaseException, what: str) -> str:
    """`file:line: <what>: Type: message` using the deepest frame inside the pipeline file."""
    line: int | None = None
    if isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename) == path:
        line = exc.lineno
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if Path(frame.filename) == path:
                line = frame.lineno
    where = f"{display_path(path)}:{line}" if line else display_path(path)
    detail = exc.msg if isinstance(exc, SyntaxError) else one_line(exc, with_type=False)
    if isinstance(exc, SystemExit):
        detail = f"called sys.exit({exc.code!r})"
    return f"{where}: {what}: {type(exc).__name__}: {detail}"

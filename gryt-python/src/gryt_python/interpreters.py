"""Finding a Python interpreter for a version like "3.11" (or a path): on PATH (`python3.11`), in pyenv's
folder (`$PYENV_ROOT/versions/3.11.*`, default ~/.pyenv) and among uv's managed interpreters
(`$UV_PYTHON_INSTALL_DIR`, default ~/.local/share/uv/python). Each candidate is asked for its version, so
a pyenv shim that cannot run that version, or a broken build, is passed over. The answers are kept in a
cache file (by the binary's path, size and modification time), so a later run starts no interpreter to ask."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from gryt.command import run_short_command
from gryt.errors import ConfigError

_VERSION = re.compile(r"^\d+(\.\d+){0,2}$")
_FOLDER_VERSION = re.compile(r"(\d+\.\d+(?:\.\d+)?)")
_PROBE = "import sys; print(sys.implementation.name, '%d.%d.%d' % sys.version_info[:3], sys.executable)"
_NAMES = {"cpython": "CPython", "pypy": "PyPy", "graalpy": "GraalPy"}
PROBE_TIMEOUT = 30.0


@dataclass(frozen=True)
class Interpreter:
    """A Python that answered: its path (`sys.executable` as it reports it: the real binary behind a pyenv
    shim, a venv's python by its own path), implementation ("CPython") and full version ("3.11.7")."""

    path: str
    implementation: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.implementation} {self.version} ({self.path})"


_probed: dict[str, Interpreter | None] = {}
_lock = threading.Lock()


def _identity(path: str) -> str | None:
    """The binary behind `path` as a cache key (real path, size and modification time); None for a script
    (a pyenv shim runs whichever Python its settings name, so only asking tells)."""
    try:
        real = Path(os.path.realpath(path))
        info = real.stat()
        with real.open("rb") as binary:
            if binary.read(2) == b"#!":
                return None
    except OSError:
        return None
    return f"{real}|{info.st_size}|{info.st_mtime_ns}"


def _read_cache(cache: Path | None) -> dict[str, list[str]]:
    if cache is None:
        return {}
    try:
        value = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _remember(cache: Path, key: str, found: Interpreter) -> None:
    entries = {**_read_cache(cache), key: [found.path, found.implementation, found.version]}
    partial = cache.with_name(f"{cache.name}.{os.getpid()}.{threading.get_ident()}.partial")
    with contextlib.suppress(OSError):  # only a cache: the next run asks the interpreter again
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(entries, indent=1), encoding="utf-8")
        partial.replace(cache)


def probe(path: str, cache: Path | None = None) -> Interpreter | None:
    """What `path` says it is, or None when it does not run; asked once per process and binary, and
    once per binary while its answer is kept in the file `cache` (None: in no file)."""
    with _lock:
        if path in _probed:
            return _probed[path]
    key = _identity(path)
    cached = _read_cache(cache).get(key) if key is not None else None
    if isinstance(cached, list) and len(cached) == 3:
        found: Interpreter | None = Interpreter(*(str(part) for part in cached))
    else:
        argv = [path, "-I", "-S", "-c", _PROBE]
        out = run_short_command(argv, timeout=PROBE_TIMEOUT, label=f"{path} (version check)")
        parts = out.stdout.strip().split(" ", 2)
        found = None
        if out.ok and len(parts) == 3:
            found = Interpreter(parts[2], _NAMES.get(parts[0], parts[0]), parts[1])
            if key is not None and cache is not None:
                _remember(cache, key, found)
    with _lock:
        _probed[path] = found
    return found


def _uv_folder() -> Path:
    configured = os.environ.get("UV_PYTHON_INSTALL_DIR")
    if configured:
        return Path(configured)
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "uv" / "python"


def _folder_version(folder: Path) -> tuple[int, ...]:
    match = _FOLDER_VERSION.search(folder.name)
    return tuple(int(p) for p in match.group(1).split(".")) if match else ()


def candidates() -> list[tuple[str, str]]:
    """(version as named by its place, path) of every interpreter the three places offer, unprobed,
    newest first within each place: PATH, then pyenv, then uv. pyenv's shims on PATH are left out: its
    versions folder is searched directly (a shim is slower to ask, and answers per its settings)."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    shims = str(pyenv_root / "shims") + os.sep
    found: list[tuple[str, str]] = []
    for minor in range(30, 5, -1):
        path = shutil.which(f"python3.{minor}")
        if path is not None and not path.startswith(shims):
            found.append((f"3.{minor}", path))
    pyenv = pyenv_root / "versions"
    uv = _uv_folder()
    for root, pattern in ((pyenv, "[0-9]*"), (uv, "cpython-*")):
        folders = sorted(root.glob(pattern), key=_folder_version, reverse=True) if root.is_dir() else []
        for folder in folders:
            version = ".".join(str(p) for p in _folder_version(folder))
            binary = folder / "bin" / "python3"
            if version and binary.exists():
                found.append((version, str(binary)))
    return found


def _matches(version: str, wanted: str) -> bool:
    return (version + ".").startswith(wanted + ".")


def find_interpreter(spec: str | None, where: str, cache: Path | None = None) -> Interpreter:
    """The interpreter `spec` names: None is the Python gryt runs on; a path is used as is; a version
    ("3", "3.11", "3.11.7") is the first that answers with a matching version. ConfigError (one line,
    listing what was found) when there is none. Answers are kept in the file `cache` (see `probe`)."""
    if spec is None:
        return _require(probe(sys.executable, cache), sys.executable, where)
    text = spec.strip()
    if not _VERSION.match(text):
        path = str(Path(text).expanduser())
        if os.sep not in path:
            path = shutil.which(path) or path
        return _require(probe(path, cache), text, where)
    seen: list[str] = []
    for version, path in candidates():
        if not _matches(version, text) or path in seen:
            continue
        seen.append(path)
        found = probe(path, cache)
        if found is not None and _matches(found.version, text):
            return found
    listed = []
    for version, path in candidates():
        found = probe(path, cache) if _matches(version, text) else None
        listed.append(f"{found.version if found else version} ({path})")
    shown = ", ".join(dict.fromkeys(listed)) or "none"
    raise ConfigError(
        f"{where}.python: no Python {text} found on PATH, in pyenv's or uv's interpreters; found: {shown}"
    )


def _require(found: Interpreter | None, spec: str, where: str) -> Interpreter:
    if found is None:
        raise ConfigError(f"{where}.python: {spec!r} is not a working Python interpreter")
    return found

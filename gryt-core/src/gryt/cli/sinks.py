"""Where the `gryt` command writes: output that cannot be delivered is dropped, never a crash.

A reader that goes away (`gryt run ci --show | head -n2`), a closed stdout (`>&-`) or a full device
(`> /dev/full`) must neither stop a running step, nor turn a result into exit 1, nor end in an
"Exception ignored ... BrokenPipeError" at exit. `guard_streams()` wraps stdout and stderr so that the
first failed write marks the stream broken: later writes are dropped, and the file descriptor is pointed
at /dev/null so that the interpreter's last flush succeeds. The run goes on and exits with its own code.

`json_document()` keeps `--json` output valid: while the command runs, file descriptor 1 (and so
`sys.stdout`, `print()` and any child process that inherits it) goes to stderr, and only `document()`,
which `print_json` uses, writes to the real stdout.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any


class SafeStream:
    """A text stream that stops writing, silently, once a write or flush failed (EPIPE, ENOSPC, EBADF,
    EIO, or the file was closed); everything else is the wrapped stream's."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream
        self.broken = False

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if not self.broken:
            try:
                return self._stream.write(text)
            except (OSError, ValueError) as exc:
                self._broke(exc)
        return len(text)

    def flush(self) -> None:
        if not self.broken:
            try:
                self._stream.flush()
            except (OSError, ValueError) as exc:
                self._broke(exc)

    def close(self) -> None:
        self.flush()
        try:
            self._stream.close()
        except (OSError, ValueError) as exc:
            self._broke(exc)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)

    def _broke(self, exc: OSError | ValueError) -> None:
        """Stop writing; re-raise an encoding error, which is the caller's bug and not the sink's."""
        if isinstance(exc, UnicodeError):
            raise exc
        self.broken = True
        try:
            fd = self._stream.fileno()
        except (OSError, ValueError):
            return
        _to_devnull(fd)


def _to_devnull(fd: int) -> None:
    """Point `fd` at /dev/null, so what is still buffered for it is flushed without an error."""
    devnull = os.open(os.devnull, os.O_RDWR)
    try:
        if devnull != fd:
            os.dup2(devnull, fd)
    finally:
        if devnull != fd:
            os.close(devnull)


def guard_streams() -> None:
    """Give closed descriptors 0-2 /dev/null (so no file gryt opens becomes its stdout, and no child
    inherits a closed descriptor), then wrap stdout and stderr in `SafeStream`; once per process."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            _to_devnull(fd)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:  # the descriptor was closed when Python started: it is /dev/null now
            fd = 1 if name == "stdout" else 2
            stream = open(fd, "w", encoding="utf-8", closefd=False)  # noqa: SIM115 - lives as long as sys.stdout
        if not isinstance(stream, SafeStream):
            setattr(sys, name, SafeStream(stream))


_documents: list[IO[str]] = []


def document() -> IO[str]:
    """The stream a command's JSON document goes to: the real stdout, also inside `json_document()`."""
    return _documents[-1] if _documents else sys.stdout


@contextmanager
def json_document() -> Iterator[None]:
    """Send everything but the JSON document to stderr while the block runs (see the module docstring)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    real = SafeStream(open(saved, "w", encoding="utf-8", closefd=True))  # noqa: SIM115 - closed below
    _documents.append(real)  # type: ignore[arg-type]
    try:
        yield
    finally:
        _documents.remove(real)  # type: ignore[arg-type]
        sys.stdout.flush()  # what a plugin printed goes to stderr, not after the document
        real.flush()
        os.dup2(saved, 1)
        real.close()

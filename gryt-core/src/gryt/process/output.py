"""A command's output: decoded, masked, then kept as head + tail, logged and shown.

Each stream goes through an incremental UTF-8 decoder (invalid bytes become U+FFFD) and a streaming
masker that holds back just enough characters that a secret split across two reads is still caught.
The masked text then goes to the live display (when shown), to the full log file (when given), and to
a head + tail buffer that keeps at most `max_output` characters per stream in memory. A read of pure
ASCII is its own text: when no secret is registered and nothing is shown, such bytes skip decoding and
go to the log and the head/tail buffer as they are (only the kept head and tail are decoded at the end).

Shown output goes through `DISPLAY`, a writer thread with a bounded queue, so a terminal or pipe that
reads slowly or not at all never blocks the reading of a command's pipes (nor its timeout): see `Display`.
With a prefix, a line is shown once complete, and a line longer than `LINE_HOLD` characters in pieces.
"""

from __future__ import annotations

import codecs
import threading
import time
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import IO

from gryt.masking import MASK, Masker

DEFAULT_MAX_OUTPUT = 1024 * 1024
"""Characters of each stream kept in results and the database (head and tail halves)."""
CHUNK = 64 * 1024
"""First read size; a stream whose reads come back full grows its reads (and its pipe) up to
`gryt.process.pump.PIPE_SIZE`."""

LINE_HOLD = 64 * 1024
"""Characters of an unfinished line held back for a prefixed display; a longer line is shown in pieces
of this size, each prefixed (the log keeps the line whole)."""
_Utf8Decoder = codecs.getincrementaldecoder("utf-8")


class StreamMasker:
    """Masks secrets in a stream of text chunks, holding back `longest - 1` characters between chunks.

    Text is masked before anything is cut or shown, so the head/tail budget of `Capture` and the
    display only ever see masked text. A masked span that reaches into the held-back characters is held
    back whole: another secret overlapping its end may continue in the next chunk, and the union of
    overlapping secrets is masked.
    """

    def __init__(self, masker: Masker | None) -> None:
        self.masker = masker
        self.pending = ""

    def feed(self, text: str) -> str:
        masker = self.masker
        if masker is None or masker.pattern is None:
            out, self.pending = self.pending + text, ""
            return out
        text = self.pending + text
        cut = len(text) - (masker.longest - 1)
        if cut <= 0:
            self.pending = text
            return ""
        parts: list[str] = []
        pos = 0
        for start, end in masker.spans(text):
            if start >= cut:
                break
            if end > cut and (start > 0 or len(text) < 4 * masker.longest):
                cut = start  # a chain of overlapping secrets may go on: hold it (bounded) back whole
                break
            parts.append(text[pos:start])
            parts.append(MASK)
            pos = end
        cut = max(cut, pos)
        parts.append(text[pos:cut])
        self.pending = text[cut:]
        return "".join(parts)

    def flush(self) -> str:
        text, self.pending = self.pending, ""
        return self.masker.mask(text) if self.masker is not None else text


class Capture:
    """Keeps the first and last `limit / 2` characters of a stream and counts what was cut between.

    Pieces are text, or bytes that are pure ASCII (one byte per character), decoded only if kept. The
    tail drops whole pieces as it grows and trims the oldest kept piece once, in `text()`.
    """

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head: list[str | bytes] = []
        self.head_len = 0
        self.tail: deque[str | bytes] = deque()
        self.tail_len = 0
        self.dropped = 0

    def add(self, piece: str | bytes) -> None:
        if self.head_len < self.head_limit:
            room = self.head_limit - self.head_len
            if len(piece) <= room:
                self.head.append(piece)
                self.head_len += len(piece)
                return
            self.head.append(piece[:room])
            self.head_len += room
            piece = piece[room:]
        if not piece:
            return
        tail = self.tail
        tail.append(piece)
        self.tail_len += len(piece)
        while self.tail_len - len(tail[0]) >= self.tail_limit:
            first = tail.popleft()
            self.tail_len -= len(first)
            self.dropped += len(first)

    @property
    def cut(self) -> int:
        """Characters between the head and the tail that are no longer kept."""
        return self.dropped + max(0, self.tail_len - self.tail_limit)

    def text(self) -> str:
        excess = self.tail_len - self.tail_limit
        if excess > 0:
            self.tail[0] = self.tail[0][excess:]
            self.tail_len -= excess
            self.dropped += excess
        head = _join(self.head)
        tail = _join(self.tail)
        if not self.dropped:
            return head + tail
        return f"{head}\n[gryt: {self.dropped} characters cut here]\n{tail}"


def _join(pieces: Sequence[str | bytes] | deque[str | bytes]) -> str:
    return "".join(p if isinstance(p, str) else p.decode("ascii") for p in pieces)


class Display:
    """Writes shown output from one thread, so a slow or stalled terminal never blocks a command's pump.

    `put` queues text (at most `limit` characters in all). On a full queue it waits for the writer, but
    only while the writer makes progress (it wrote something in the last `stall` seconds) and the
    command's deadline has not passed nor its cancel flag been set; otherwise the text is dropped and
    counted, and a `[gryt: N characters of live output dropped ...]` line is shown in its place once the
    queue has room again. The log file and the result always keep everything. A write error (closed or
    broken output) turns the display off: everything after it is dropped.
    """

    def __init__(self, limit: int = 4 * 1024 * 1024, stall: float = 0.5) -> None:
        self.limit = limit
        self.stall = stall
        self._queue: deque[tuple[IO[str], str]] = deque()
        self._size = 0
        self._busy = False
        self._dropped: dict[IO[str], int] = {}
        self._progress_at = 0.0
        self._broken = False
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def put(
        self, target: IO[str], text: str, deadline: float | None = None, cancel: threading.Event | None = None
    ) -> None:
        """Queue `text` for `target`; drop it (counted) rather than wait for a stalled writer."""
        if not text:
            return
        with self._cond:
            while self._queue and self._size + len(text) > self.limit:
                now = time.monotonic()
                if (
                    self._broken
                    or now - self._progress_at >= self.stall
                    or (deadline is not None and now >= deadline)
                    or (cancel is not None and cancel.is_set())
                ):
                    self._dropped[target] = self._dropped.get(target, 0) + len(text)
                    return
                left = self.stall - (now - self._progress_at)
                self._cond.wait(left if deadline is None else min(left, deadline - now))
            if self._broken:
                return
            self._note_dropped(target)
            self._append(target, text)

    def flush(self) -> None:
        """Wait until everything queued is written, or until the writer stalls for `stall` seconds."""
        with self._cond:
            for target in tuple(self._dropped):
                self._note_dropped(target)
            while (self._queue or self._busy) and not self._broken:
                if time.monotonic() - self._progress_at >= self.stall:
                    return
                self._cond.wait(self.stall)

    def _note_dropped(self, target: IO[str]) -> None:
        dropped = self._dropped.pop(target, 0)
        if dropped:
            self._append(
                target,
                f"[gryt: {dropped} characters of live output dropped: the output was not read fast enough;"
                " the log file has them]\n",
            )

    def _append(self, target: IO[str], text: str) -> None:
        if not self._queue and not self._busy:
            self._progress_at = time.monotonic()  # an idle writer is not a stalled one
        self._queue.append((target, text))
        self._size += len(text)
        if self._thread is None:
            self._thread = threading.Thread(target=self._write_all, name="gryt-display", daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _write_all(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
                target, text = self._queue.popleft()
                self._busy = True
            try:
                target.write(text)
                target.flush()
            except (OSError, ValueError):  # closed or broken output: show nothing more
                with self._cond:
                    self._broken = True
                    self._queue.clear()
                    self._size = 0
            with self._cond:
                self._busy = False
                self._size = max(0, self._size - len(text))
                self._progress_at = time.monotonic()
                self._cond.notify_all()


DISPLAY = Display()
"""The one writer of shown output of this process (every step's, so their lines stay in order)."""


class LazyLog:
    """A UTF-8 log file created on the first write (steps without output leave no empty file).

    The log is gryt's own copy of the output, so it never fails the step: when the file cannot be
    created or written (disk full, file size limit, no permission, a file where its folder should be),
    `error` says why, what was written so far stays, and later writes are dropped.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._file: IO[bytes] | None = None
        self._lock = threading.Lock()
        self.written = False
        self.error: str | None = None

    def write(self, text: str) -> None:
        if text:
            self.write_bytes(text.encode("utf-8", "replace"))

    def write_bytes(self, data: bytes) -> None:
        """Append `data`, which must already be valid UTF-8 (ASCII bytes, or text encoded by `write`)."""
        if not data:
            return
        with self._lock:
            if self.error is not None:
                return
            try:
                if self._file is None:
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                    self._file = open(self.path, "ab")  # noqa: SIM115 - closed in close()
                self._file.write(data)
                self.written = True
            except OSError as exc:
                self.error = exc.strerror or str(exc)
                self._close()

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        if self._file is not None:
            try:
                self._file.close()
            except OSError as exc:  # the buffered rest could not be written (disk full)
                self.error = self.error or exc.strerror or str(exc)
            self._file = None


class Stream:
    """One output pipe: decode, mask, then fan out to capture, log and display."""

    def __init__(
        self,
        name: str,
        masker: Masker | None,
        *,
        limit: int,
        log: LazyLog | None,
        display: IO[str] | None,
        prefix: str | None,
        deadline: float | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.name = name
        self.secrets = masker
        self.decoder: codecs.IncrementalDecoder | None = None
        self.masker = StreamMasker(masker)
        self.limit = limit
        self.capture: Capture | None = None
        """Created on the first output (most commands of a CI run print little or nothing)."""
        self.log = log
        self.display = display
        self.prefix = prefix
        self.deadline = deadline
        self.cancel = cancel
        """The command's deadline and cancel flag: after them, shown output never waits for the screen."""
        self.partial = ""
        self.read_size = CHUNK
        self.capacity = CHUNK
        """The pipe's buffer size as far as gryt knows (grown to PIPE_SIZE for a steady writer)."""
        self.grown = False
        self.last_read = 0.0
        self.raw = display is None
        """ASCII reads may bypass decoding: nothing is shown (and, checked per read, nothing to mask)."""
        self.undecoded = False
        """The decoder holds the first bytes of an unfinished character."""

    def feed(self, data: bytes) -> None:
        if (
            self.raw
            and not self.undecoded
            and (self.secrets is None or self.secrets.pattern is None)
            and data.isascii()
        ):
            if self.capture is None:
                self.capture = Capture(self.limit)
            self.capture.add(data)
            if self.log is not None:
                self.log.write_bytes(data)
            return
        if self.decoder is None:
            self.decoder = _Utf8Decoder(errors="replace")
        text = self.decoder.decode(data)
        self.undecoded = bool(self.decoder.getstate()[0])
        self._emit(self.masker.feed(text))

    def finish(self) -> None:
        if self.decoder is None and not self.masker.pending:
            return  # only raw reads (or none): nothing held back
        tail = self.decoder.decode(b"", final=True) if self.decoder is not None else ""
        self._emit(self.masker.feed(tail) + self.masker.flush())
        if self.display is not None and self.partial:
            self._show(f"{self.prefix or ''}{self.partial}\n")
            self.partial = ""
        if self.display is not None:
            DISPLAY.flush()

    def _emit(self, text: str) -> None:
        if not text:
            return
        if self.capture is None:
            self.capture = Capture(self.limit)
        self.capture.add(text)
        if self.log is not None:
            self.log.write(text)
        if self.display is None:
            return
        if self.prefix is None:
            self._show(text)
            return
        lines = (self.partial + text).split("\n")
        partial = lines.pop()
        while len(partial) > LINE_HOLD:  # a huge line: shown in pieces, never held whole
            lines.append(partial[:LINE_HOLD])
            partial = partial[LINE_HOLD:]
        self.partial = partial
        if lines:
            self._show("".join(f"{self.prefix}{line}\n" for line in lines))

    def text(self) -> str:
        """What the result keeps of this stream: all of it, or its head and tail around a cut marker."""
        return self.capture.text() if self.capture is not None else ""

    @property
    def cut(self) -> int:
        return self.capture.cut if self.capture is not None else 0

    def _show(self, text: str) -> None:
        if self.display is not None:
            DISPLAY.put(self.display, text, self.deadline, self.cancel)

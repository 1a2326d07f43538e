"""Headless Chromium (Debian's `chromium`, `.ci/install-chromium.sh`) for the report tests: the DOM a page
has once rendered (`--dump-dom`) and a screenshot, plus a small PNG decoder to check the screenshot.

No browser driver: each call is one `chromium --headless` process with its own profile folder, kept off
the network (no background or component traffic; the report pages forbid requests themselves).
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)
TIMEOUT = 120


@dataclass
class Chromium:
    """Runs the browser with a profile under `profiles`."""

    binary: str
    profiles: Path

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        profile = self.profiles / f"profile-{len(list(self.profiles.iterdir()))}"
        done = subprocess.run(
            [self.binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    def dump_dom(self, page: Path) -> str:
        """The page's DOM after loading, serialized by the browser."""
        return self._run("--dump-dom", page.resolve().as_uri()).stdout

    def screenshot(self, page: Path, png: Path, width: int, height: int) -> Path:
        """A `width` x `height` PNG of the top of the page."""
        self._run(f"--window-size={width},{height}", f"--screenshot={png}", page.resolve().as_uri())
        return png


def chromium_in(folder: Path) -> Chromium:
    """The browser, or a skip naming the install script when it is missing."""
    binary = shutil.which(CHROMIUM)
    if binary is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/install-chromium.sh does it)")
    folder.mkdir(parents=True, exist_ok=True)
    return Chromium(binary, folder)


@dataclass(frozen=True)
class Image:
    """A decoded 8-bit RGB or RGBA PNG: `pixels` as (r, g, b) per pixel, rows top to bottom."""

    width: int
    height: int
    pixels: list[tuple[int, int, int]]


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(kind: int, line: bytearray, previous: bytearray, bpp: int) -> None:
    if kind == 1:
        for i in range(bpp, len(line)):
            line[i] = (line[i] + line[i - bpp]) & 0xFF
    elif kind == 2:
        for i in range(len(line)):
            line[i] = (line[i] + previous[i]) & 0xFF
    elif kind == 3:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
    elif kind == 4:
        for i in range(len(line)):
            left = line[i - bpp] if i >= bpp else 0
            corner = previous[i - bpp] if i >= bpp else 0
            line[i] = (line[i] + _paeth(left, previous[i], corner)) & 0xFF


def read_png(path: Path) -> Image:
    """Decode `path` (non-interlaced 8-bit RGB or RGBA, as Chromium writes its screenshots)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    offset, idat = 8, b""
    width = height = bpp = 0
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * bpp
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    for row in range(height):
        start = row * (stride + 1)
        line = bytearray(raw[start + 1 : start + 1 + stride])
        _unfilter(raw[start], line, previous, bpp)
        pixels.extend(zip(line[0::bpp], line[1::bpp], line[2::bpp], strict=True))
        previous = line
    return Image(width, height, pixels)

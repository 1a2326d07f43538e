"""Credentials in `install` arguments (`--index-url https://user:TOKEN@host/simple`, `pkg @ https://...`):
their passwords are run secrets (masked everywhere), and the arguments that hold them go to pip or uv in a
private requirements file instead of argv, which every user of the machine can read."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote

_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://([^/@\s:]*):([^/@\s]+)@")
_TAKES_URL = frozenset({"-i", "--index-url", "--extra-index-url", "-f", "--find-links"})


def url_secrets(text: str) -> list[str]:
    """The passwords (as written and decoded) and `user:password` pairs of every URL in `text`."""
    found = []
    for match in _USERINFO.finditer(text):
        user, password = match.group(1), match.group(2)
        found += [password, unquote(password), f"{user}:{password}"]
    return list(dict.fromkeys(found))


def split_private(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """(arguments safe for argv, requirement-file lines holding credentials), order kept within each.

    An option that takes a URL (`--index-url URL`) moves together with its URL, as one line.
    """
    public: list[str] = []
    private: list[str] = []
    for arg in args:
        if url_secrets(arg):
            if public and public[-1] in _TAKES_URL:
                private.append(f"{public.pop()} {arg}")
            else:
                private.append(arg)
        else:
            public.append(arg)
    return public, private


@contextmanager
def private_arguments(args: Sequence[str]) -> Iterator[list[str]]:
    """`args` with the credential-bearing ones replaced by `-r FILE`, a file only this user can read,
    deleted on exit."""
    public, private = split_private(args)
    if not private:
        yield public
        return
    import tempfile  # loads `random`: only for an install that needs a credentials file

    handle, name = tempfile.mkstemp(prefix="gryt-install-", suffix=".txt")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write("\n".join(private) + "\n")
        yield [*public, "-r", name]
    finally:
        Path(name).unlink()

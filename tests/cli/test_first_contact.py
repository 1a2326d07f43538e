"""First contact with the real `gryt` executable: what a newcomer (or a user of the original gryt) meets
first must be right: in-memory databases, an empty history, run ids, failure output, `gryt init`."""

from __future__ import annotations

import re
from pathlib import Path

from .conftest import pipeline, write

HELLO = '[[runners]]\nid = "main"\nsteps = [{ id = "hello", cmd = ["echo", "hi"] }]\n'


def _names(root: Path) -> set[str]:
    """Every file and folder name below `root`."""
    return {p.name for p in root.rglob("*")}


def test_memory_db_option_and_config_keep_nothing_on_disk(gryt, project: Path) -> None:
    pipeline(project, "hello.toml", HELLO)
    by_option = gryt("run", "hello", "--db", ":memory:", cwd=project)
    assert by_option.code == 0, by_option.stdout + by_option.stderr
    write(project / ".gryt" / "config.toml", 'db = ":memory:"\n')
    by_config = gryt("run", "hello", cwd=project)
    assert by_config.code == 0, by_config.stdout + by_config.stderr
    assert re.search(r"^run \S+ success in", by_config.stdout, re.MULTILINE)
    assert not {":memory:", "logs", "gryt.db"} & _names(project), sorted(_names(project))

    # Nothing was recorded, and reading the history neither fails nor creates anything.
    listed = gryt("runs", "list", "--json", cwd=project)
    assert (listed.code, listed.stdout.strip()) == (0, "[]"), listed.stderr
    assert not {":memory:", "logs", "gryt.db"} & _names(project)

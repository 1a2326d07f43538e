"""`gryt cache stats | prune | clear`: the project's step cache store (see docs/caching.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from gryt.cli._common import open_project, print_json, reporting

if TYPE_CHECKING:
    from gryt.cache.base import Cache

app = typer.Typer(
    name="cache",
    help="Show, prune or clear the step cache.",
    no_args_is_help=True,
    add_completion=False,
)

JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _size(count: Any) -> str:
    """Bytes as `512 B`, `1.5 MB`, ... (powers of 1000, as `max_size` reads `MB`)."""
    value = float(count) if isinstance(count, (int, float)) else 0.0
    if value < 1000:
        return f"{value:.0f} B"
    for unit in ("KB", "MB"):
        value /= 1000
        if value < 1000:
            return f"{value:.1f} {unit}"
    return f"{value / 1000:.1f} GB"


def _store() -> Cache:
    from gryt.cache.setup import open_store

    return open_store(open_project())


@app.command("stats")
def stats(as_json: JsonOption = False) -> None:
    """Entries, blobs and bytes in the step cache, and its size limit."""
    with reporting():
        found = _store().stats()
        if as_json:
            print_json(found)
            return
        for name, value in found.items():
            shown = _size(value) if name in ("bytes", "max_size") else value
            typer.echo(f"{name}: {shown}")


@app.command("prune")
def prune(as_json: JsonOption = False) -> None:
    """Evict least-recently-used entries down to the size limit, then unneeded blobs."""
    with reporting():
        _removed("pruned", _store().prune(), as_json)


@app.command("clear")
def clear(as_json: JsonOption = False) -> None:
    """Remove every entry of the step cache."""
    with reporting():
        _removed("cleared", _store().clear(), as_json)


def _removed(done: str, removed: dict[str, Any], as_json: bool) -> None:
    """What `prune` or `clear` removed: entries and bytes freed."""
    if as_json:
        print_json(removed)
    else:
        typer.echo(f"{done} {removed.get('entries', 0)} entries, {_size(removed.get('bytes'))} freed")

"""`gryt envs list|prune`: the environments gryt-python keeps under `.gryt/envs/` of the current project."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

app = typer.Typer(
    name="envs", help="Python environments of `python` and `pytest` steps (.gryt/envs).", no_args_is_help=True
)

_DAY = 86400.0


def _store() -> Any:
    from gryt.project import find_root
    from gryt_python.environments import ENVS_DIR, Store

    return Store((find_root() or Path.cwd()) / ENVS_DIR)


def _describe(folder: Path) -> dict[str, Any]:
    from gryt_python.environments import is_complete, last_used, read_stamp, size_of

    stamp = read_stamp(folder) or {}
    used = last_used(folder)
    return {
        "name": folder.name,
        "path": str(folder),
        "status": "ok" if is_complete(folder) else "incomplete",
        "python": stamp.get("version"),
        "backend": stamp.get("backend"),
        "install": stamp.get("install") or [],
        "last_used": used,
        "size": size_of(folder),
    }


def _age(stamp: float | None) -> str:
    if stamp is None:
        return "-"
    days = (time.time() - stamp) / _DAY
    return f"{days:.0f}d ago" if days >= 1 else f"{days * 24:.0f}h ago"


@app.command("list")
def list_(json_output: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the environments: name, status, Python, backend, size, last use and what was installed."""
    rows = [_describe(folder) for folder in _store().entries()]
    if json_output:
        from gryt.commands import print_json

        print_json(rows)
        return
    if not rows:
        typer.echo("no environments")
        return
    for row in rows:
        install = " ".join(row["install"]) or "-"
        typer.echo(
            f"{row['name']}  {row['status']}  python {row['python'] or '-'}  {row['backend'] or '-'}  "
            f"{row['size'] / 1e6:.1f} MB  used {_age(row['last_used'])}  {install}"
        )


@app.command("prune")
def prune(
    older_than: Annotated[
        float, typer.Option("--older-than", help="Remove those unused for this many days.", min=0)
    ] = 30.0,
    all_: Annotated[bool, typer.Option("--all", help="Remove every environment.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be removed.")] = False,
) -> None:
    """Remove incomplete environments and those unused for --older-than days (all with --all); one being
    built by a run right now is kept."""
    from gryt_python.environments import is_complete, last_used

    store = _store()
    cutoff = time.time() - older_than * _DAY
    removed = kept = 0
    for folder in store.entries():
        used = last_used(folder)
        stale = all_ or not is_complete(folder) or used is None or used < cutoff
        if not stale:
            kept += 1
            continue
        if dry_run:
            typer.echo(f"would remove {folder.name}")
            removed += 1
        elif store.remove(folder):
            typer.echo(f"removed {folder.name}")
            removed += 1
        else:
            typer.echo(f"kept {folder.name}: a run is using it")
            kept += 1
    typer.echo(f"{'would remove' if dry_run else 'removed'} {removed}, kept {kept}")

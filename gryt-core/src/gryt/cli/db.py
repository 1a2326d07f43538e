"""`gryt db [--db PATH] [--table T]`: the run database as JSON (outputs are masked when stored);
`gryt db merge FILE...`: bring the runs of other databases (e.g. one per CI job) into this one;
`gryt db sync`: send the rows runs kept while their history server was lost (`gryt.cli.db_sync`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gryt.cli._common import (
    database_path,
    history_database,
    is_memory,
    open_data,
    open_project,
    print_json,
    reporting,
    warning_line,
)
from gryt.cli.db_sync import sync


def _decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Columns named `*_json` are decoded so the output is one JSON document, not JSON in strings."""
    from gryt.histories.sql import decode

    return {key: decode(value) if key.endswith("_json") else value for key, value in row.items()}


app = typer.Typer(
    name="db",
    help="Print the database as JSON: every table (or --table) as a list of rows.",
    invoke_without_command=True,
    no_args_is_help=False,
)


@app.callback(invoke_without_command=True)
def db(
    ctx: typer.Context,
    path: Annotated[Path | None, typer.Option("--db", help="Database file (default: the project's).")] = None,
    table: Annotated[
        list[str] | None, typer.Option("--table", "-t", help="Only this table (repeatable).")
    ] = None,
) -> None:
    """Print the database as JSON: every table (or --table) as a list of rows."""
    if ctx.invoked_subcommand is not None:
        return
    with reporting():
        from gryt.config import did_you_mean
        from gryt.errors import ConfigError
        from gryt.project import display_path

        project = open_project(lenient=True)
        db_path = history_database(project, path)
        data = open_data(db_path, create=False)
        try:
            names = [
                row["name"]
                for row in data.query(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
                )
            ]
            table = table or []
            for name in table:
                if name not in names:
                    raise ConfigError(
                        f"{display_path(db_path)}: no table {name!r}{did_you_mean(name, names)}; "
                        f"tables: {', '.join(names)}"
                    )
            chosen = list(dict.fromkeys(table)) or names
            dump = {
                name: [_decode_row(row) for row in data.query(f'SELECT * FROM "{name}" ORDER BY rowid')]
                for name in chosen
            }
        finally:
            data.close()
        print_json(dump)


@app.command("merge")
def merge(
    files: Annotated[list[Path], typer.Argument(help="Databases to merge in (e.g. one per CI job).")],
    path: Annotated[
        Path | None, typer.Option("--db", help="Database merged into (default: the project's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what changed as JSON.")] = False,
) -> None:
    """Merge the runs of other databases (e.g. one per CI job) into this one, without duplicates."""
    with reporting():
        import sqlite3

        from gryt.errors import ConfigError
        from gryt.histories.select import open_remote
        from gryt.history_merge import copy_logs, merge_runs, read_sqlite_runs, relocate_logs
        from gryt.project import display_path

        project = open_project(lenient=True)
        target = database_path(project, path)
        if is_memory(target):
            raise ConfigError("--db: merging into :memory: keeps nothing; give a database file")
        sources = list(dict.fromkeys(f.expanduser().resolve() for f in files))
        for source in sources:
            if source == target.resolve():
                raise ConfigError(f"{display_path(source)}: is the database merged into; give the other ones")
        read = [(source, read_sqlite_runs(source)) for source in sources]
        copies = [copy for source, runs in read for copy in relocate_logs(runs, source, target)]
        remote = (
            None
            if path is not None
            else open_remote(project, read_only=False, warn=warning_line, fallback=False)
        )
        data = open_data(target) if remote is None else remote.as_data()
        where = display_path(target) if remote is None else remote.label
        if data is None:
            raise ConfigError(f"{where}: this history backend cannot merge runs")
        try:
            with data.transaction():
                reports = [(source, merge_runs(data, runs)) for source, runs in read]
        except sqlite3.Error as exc:
            raise ConfigError(f"{where}: merge failed, nothing changed: {exc}") from None
        except Exception as exc:
            if remote is None:
                raise
            raise ConfigError(
                f"{where}: merge failed, nothing changed: {' '.join(str(exc).split())}"
            ) from None
        finally:
            data.close()
            if remote is not None:
                remote.close()
        try:
            copy_logs(copies)
        except OSError as exc:
            raise ConfigError(
                f"{display_path(target)}: runs merged, but a log file could not be copied: {exc}"
            ) from None
        if as_json:
            print_json(
                {
                    "database": str(target) if remote is None else where,
                    "merged": [{"file": str(s), **r.to_dict()} for s, r in reports],
                }
            )
            return
        for source, report in reports:
            steps = report.rows["step_runs"]
            typer.echo(
                f"{display_path(source)}: {len(report.added)} run(s) added, {len(report.updated)} updated,"
                f" {len(report.unchanged)} unchanged ({steps} step execution(s) added)"
            )


app.command("sync")(sync)

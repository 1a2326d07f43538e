"""`gryt db [--db PATH] [--table T]`: the run database as JSON (outputs are masked when stored)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from gryt.cli._common import history_database, open_data, open_project, print_json, reporting


def _decode_row(row: dict[str, Any]) -> dict[str, Any]:
    """Columns named `*_json` are decoded so the output is one JSON document, not JSON in strings."""
    import json

    out: dict[str, Any] = {}
    for key, value in row.items():
        if key.endswith("_json") and isinstance(value, str):
            try:
                out[key] = json.loads(value)
            except (ValueError, RecursionError):  # not JSON, or nested too deeply to decode: as stored
                out[key] = value
        else:
            out[key] = value
    return out


def db(
    path: Annotated[Path | None, typer.Option("--db", help="Database file (default: the project's).")] = None,
    table: Annotated[
        list[str] | None, typer.Option("--table", "-t", help="Only this table (repeatable).")
    ] = None,
) -> None:
    """Print the database as JSON: every table (or --table) as a list of rows."""
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

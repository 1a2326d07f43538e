"""Merging run histories: the runs other databases recorded (e.g. one CI job per runner, all under one
run id) brought into one database, without duplicates.

Two halves: `read_sqlite_runs()` reads every run of a SQLite history as plain dicts (another backend
can produce the same shape), and `merge_runs()` writes such runs into a target store. A run id found in
both becomes one run holding every part's runners, steps, auth attempts and deliveries; its start is the
earliest, its end the latest, its status the worst (`running` while some part still is). Rows are told
apart by a natural key, so merging the same file twice changes nothing the second time.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.errors import ConfigError
from gryt.status import SKIPPED

if TYPE_CHECKING:
    from gryt.data import Data

RunRows = dict[str, list[dict[str, Any]]]
"""One run: table name (`pipelines`, then RUN_TABLES) -> its rows as column -> value, JSON as text."""

RUN_TABLES: dict[str, tuple[str, ...]] = {
    "runners": ("runner_id",),
    "step_runs": ("runner_id", "step_id", "start_timestamp"),
    "auth_runs": ("auth_id", "start_timestamp"),
    "destination_runs": ("destination_id", "artifact", "start_timestamp"),
    "versions": ("version", "tag", "commit_sha"),
}
"""The tables holding a run's rows besides `pipelines`, each with the columns (after `pipeline_id`) that
identify a row: the same step started at the same moment is the same execution, whichever file it is in."""

STATUS_RANK = {"success": 0, "error": 1, "auth_failed": 2, "invalid_env": 3, "interrupted": 4, "running": 5}
"""Run statuses from best to worst: a merged run has the worst status of its parts."""


def read_sqlite_runs(path: Path) -> dict[str, RunRows]:
    """Every run of the SQLite history at `path` by run id, as `RunRows` (autoincrement `id` columns left
    out). The file is only read: a database of an older schema is migrated in an in-memory copy; one of a
    newer schema, or a file that is no gryt database, is a ConfigError naming the file."""
    from gryt.data import DatabaseFault
    from gryt.schema import SCHEMA_VERSION, ensure_schema, missing_tables, stored_version

    if not path.is_file():
        raise ConfigError(f"{path}: no database file here")
    memory = sqlite3.connect(":memory:", isolation_level=None)
    try:
        try:
            source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
            try:
                version = stored_version(source)
                if version > SCHEMA_VERSION:
                    raise ConfigError(
                        f"{path}: written by a newer gryt (schema version {version}, this gryt reads up to"
                        f" {SCHEMA_VERSION}); merge it with that gryt, or upgrade (pip install -U gryt-core)"
                    )
                source.backup(memory)
            finally:
                source.close()
            ensure_schema(memory)
        except sqlite3.DatabaseError as exc:
            raise DatabaseFault(f"{path}: not a gryt database ({exc})") from None
        missing = missing_tables(memory)
        if missing:
            raise DatabaseFault(f"{path}: not a gryt database (no table {', '.join(missing)})")
        memory.row_factory = sqlite3.Row
        runs: dict[str, RunRows] = {}
        for row in memory.execute("SELECT * FROM pipelines ORDER BY start_timestamp, pipeline_id"):
            runs[row["pipeline_id"]] = {"pipelines": [dict(row)], **{table: [] for table in RUN_TABLES}}
        for table in RUN_TABLES:
            for row in memory.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                values = dict(row)
                values.pop("id", None)
                run = runs.get(values.get("pipeline_id") or "")
                if run is not None:
                    run[table].append(values)
        return runs
    finally:
        memory.close()


@dataclass
class MergeReport:
    """What one `merge_runs` call changed: run ids added or updated, and rows added per table."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(RUN_TABLES, 0))

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "unchanged": self.unchanged, "rows": self.rows}


def merge_runs(data: Data, runs: Mapping[str, RunRows]) -> MergeReport:
    """Write `runs` into `data` in one transaction (nothing is written when any row fails)."""
    report = MergeReport()
    with data.transaction():
        for run_id, parts in runs.items():
            added = 0
            for table in RUN_TABLES:
                count = _merge_table(data, run_id, table, parts.get(table, []))
                report.rows[table] += count
                added += count
            changed = _merge_run_row(data, run_id, parts["pipelines"][0])
            if changed == "added":
                report.added.append(run_id)
            elif changed == "updated" or added:
                report.updated.append(run_id)
            else:
                report.unchanged.append(run_id)
    return report


def _merge_table(data: Data, run_id: str, table: str, rows: list[dict[str, Any]]) -> int:
    """Insert the rows of `table` the target lacks (by natural key); a runner already there is replaced
    by the part's row when that one started later (the job ran again). A destination keeps one `skipped`
    row (each `--no-deliver` job records one) and none once another part delivered it. Returns how many
    rows changed."""
    key = RUN_TABLES[table]
    changed = 0
    for row in rows:
        if table == "destination_runs":
            skip, dropped = _settle_delivery(data, run_id, row)
            changed += dropped
            if skip:
                continue
        where = {"pipeline_id": run_id, **{column: row.get(column) for column in key}}
        clauses = " AND ".join(f"{c} IS ?" for c in where)
        found = data.query(f"SELECT * FROM {table} WHERE {clauses}", list(where.values()))
        if not found:
            data.insert(table, row)
            changed += 1
        elif table == "runners" and _later(row, found[0]) and _differs(row, found[0]):
            data.update(table, {k: v for k, v in row.items() if k not in where}, where)
            changed += 1
    return changed


def _settle_delivery(data: Data, run_id: str, row: Mapping[str, Any]) -> tuple[bool, int]:
    """(whether to leave `row` out, how many skipped rows it replaced) for a `destination_runs` row."""
    where = (run_id, row.get("destination_id"))
    statuses = data.query(
        "SELECT status FROM destination_runs WHERE pipeline_id = ? AND destination_id IS ?", where
    )
    if row.get("status") == SKIPPED:
        return bool(statuses), 0
    skipped = sum(1 for r in statuses if r["status"] == SKIPPED)
    if skipped:
        data.query(
            "DELETE FROM destination_runs WHERE pipeline_id = ? AND destination_id IS ? AND status = ?",
            (*where, SKIPPED),
        )
    return False, skipped


def _later(row: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    return str(row.get("start_timestamp") or "") >= str(other.get("start_timestamp") or "")


def _differs(row: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    return any(other.get(k) != v for k, v in row.items() if k != "id")


def _merge_run_row(data: Data, run_id: str, row: Mapping[str, Any]) -> str:
    """Add the `pipelines` row, or fold it into the one there: "added", "updated" or "unchanged"."""
    found = data.query("SELECT * FROM pipelines WHERE pipeline_id = ?", (run_id,))
    if not found:
        data.insert("pipelines", dict(row))
        return "added"
    merged = combine_run_rows(found[0], row)
    changes = {k: v for k, v in merged.items() if found[0].get(k) != v}
    if not changes:
        return "unchanged"
    data.update("pipelines", changes, {"pipeline_id": run_id})
    return "updated"


def combine_run_rows(mine: Mapping[str, Any], theirs: Mapping[str, Any]) -> dict[str, Any]:
    """Two parts' `pipelines` rows of one run as one: earliest start, latest end, worst status (and its
    error), the runners each selected together, issues, warnings and deliveries of both. The duration is
    that of the part spanning the whole run, else the time between the merged start and end."""
    merged = dict(mine)
    starts = [s for s in (mine.get("start_timestamp"), theirs.get("start_timestamp")) if s]
    ends = [e for e in (mine.get("end_timestamp"), theirs.get("end_timestamp")) if e]
    merged["start_timestamp"] = min(starts) if starts else None
    merged["end_timestamp"] = max(ends) if ends else None
    worst = max((mine, theirs), key=lambda r: STATUS_RANK.get(str(r.get("status")), 1))
    merged["status"] = worst.get("status")
    merged["error"] = worst.get("error") or mine.get("error") or theirs.get("error")
    if merged["status"] == "success":
        merged["error"] = None
    span = (merged["start_timestamp"], merged["end_timestamp"])
    same = [
        part for part in (mine, theirs) if (part.get("start_timestamp"), part.get("end_timestamp")) == span
    ]
    if same:  # one part spans the whole run: its measured duration, finer than the timestamps' milliseconds
        merged["duration"] = same[0].get("duration")
    elif merged["start_timestamp"] and merged["end_timestamp"]:
        merged["duration"] = _seconds_between(merged["start_timestamp"], merged["end_timestamp"])
    merged["config_json"] = _combine_config(mine.get("config_json"), theirs.get("config_json"))
    for column in ("issues_json", "warnings_json"):
        merged[column] = _combine_lists(mine.get(column), theirs.get(column))
    merged["destinations_json"] = _combine_deliveries(
        mine.get("destinations_json"), theirs.get("destinations_json")
    )
    return merged


def _seconds_between(start: str, end: str) -> float | None:
    from datetime import datetime

    try:
        begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
        finish = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        return None
    return round((finish - begin).total_seconds(), 6)


def _load(text: Any) -> Any:
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _dump(value: Any) -> str:
    from gryt.json_text import to_json

    return to_json(value)


def _combine_config(mine: Any, theirs: Any) -> Any:
    """The run's config with `selected` the runners either part ran (None: one part ran them all)."""
    a, b = _load(mine), _load(theirs)
    if not isinstance(a, dict) or not isinstance(b, dict):
        return mine if mine is not None else theirs
    if a.get("selected") is None or b.get("selected") is None:
        selected = None
    else:
        selected = sorted(set(a["selected"]) | set(b["selected"]))
    if a.get("selected") == selected:
        return mine
    return _dump({**a, "selected": selected})


def _combine_lists(mine: Any, theirs: Any) -> Any:
    a, b = _load(mine), _load(theirs)
    if not isinstance(a, list) or not isinstance(b, list):
        return mine if mine is not None else theirs
    extra = [item for item in b if item not in a]
    return _dump(a + extra) if extra else mine


def _combine_deliveries(mine: Any, theirs: Any) -> Any:
    """Results by destination id: a destination's results from the part that did not skip it."""
    a, b = _load(mine), _load(theirs)
    if not isinstance(a, dict) or not isinstance(b, dict):
        return mine if mine is not None else theirs
    merged = dict(a)
    for destination, items in b.items():
        if destination not in merged or (_all_skipped(merged[destination]) and not _all_skipped(items)):
            merged[destination] = items
    return mine if merged == a else _dump(merged)


def _all_skipped(items: Any) -> bool:
    return isinstance(items, list) and all(isinstance(i, dict) and i.get("status") == SKIPPED for i in items)


def relocate_logs(runs: Mapping[str, RunRows], source: Path, target: Path) -> list[tuple[Path, Path]]:
    """Point the `log_path` of `runs` at the target's log folder for each log file found beside the
    source database (`<its folder>/logs/<run id>/`, where the job that wrote it kept it), and return the
    (found, destination) copies to make once the rows are written. A log not found there keeps its path."""
    copies: list[tuple[Path, Path]] = []
    for run_id, parts in runs.items():
        for table in ("step_runs", "destination_runs"):
            for row in parts.get(table, []):
                recorded = row.get("log_path")
                if not recorded:
                    continue
                name = Path(str(recorded)).name
                found = source.parent / "logs" / run_id / name
                if not found.is_file():
                    continue
                destination = target.parent / "logs" / run_id / name
                row["log_path"] = str(destination)
                if found.resolve() != destination.resolve():
                    copies.append((found, destination))
    return copies


def copy_logs(copies: list[tuple[Path, Path]]) -> None:
    """Make the copies `relocate_logs` listed; a log already at its destination is kept."""
    for found, destination in copies:
        if not destination.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(found, destination)

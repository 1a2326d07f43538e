"""One run spread over several machines (CI jobs): every job runs some runners under a shared run id
(`gryt run --runner X --no-deliver --run-id ID`), a final job merges their databases (`gryt db merge`)
and delivers once (`gryt run --deliver-only --run-id ID`). This module checks run ids and runs that
final delivery as one more part of the merged run."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.errors import ConfigError, GrytError
from gryt.status import SUCCESS

if TYPE_CHECKING:
    from gryt.data import SqliteData

RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""A run id given on the command line: it names a log folder, so letters, digits, `.`, `_`, `-`."""


class NotDelivered(GrytError):
    """`--deliver-only` for a run that did not succeed: nothing is published (exit 1, as a failed run)."""

    exit_code = 1


def check_run_id(run_id: str, data: SqliteData | None, *, exists: bool) -> str:
    """`run_id` when it is well-formed and recorded in `data` (`exists`) or not yet (a new part)."""
    if not RUN_ID.fullmatch(run_id):
        raise ConfigError(
            f"--run-id {run_id!r}: use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    if data is None:
        return run_id
    found = bool(data.query("SELECT 1 FROM pipelines WHERE pipeline_id = ?", (run_id,)))
    where = str(data.path) if data.path is not None else ":memory:"
    if exists and not found:
        raise ConfigError(
            f"--run-id {run_id}: no such run in {where}; merge the jobs' databases first (gryt db merge)"
        )
    if not exists and found:
        raise ConfigError(
            f"--run-id {run_id}: already recorded in {where}; give each job its own database (--db)"
            " and merge them with gryt db merge"
        )
    return run_id


def check_complete(data: SqliteData, run_id: str, pipeline: Any) -> None:
    """Refuse to deliver run `run_id` unless it succeeded and recorded every runner of `pipeline`."""
    run = data.query("SELECT status, error FROM pipelines WHERE pipeline_id = ?", (run_id,))[0]
    recorded = {
        r["runner_id"] for r in data.query("SELECT runner_id FROM runners WHERE pipeline_id = ?", (run_id,))
    }
    if run["status"] != SUCCESS:
        reason = f": {run['error']}" if run["error"] else ""
        raise NotDelivered(f"run {run_id} ended {run['status']}{reason}; not delivered")
    missing = [r.id for r in pipeline.runners if r.id not in recorded]
    if missing:
        raise ConfigError(
            f"run {run_id}: no record of runner(s) {', '.join(missing)}; merge every job's database first"
            " (gryt db merge)"
        )


@contextmanager
def delivery_part(pipeline: Any, data: SqliteData, run_id: str) -> Iterator[None]:
    """While the block runs `pipeline` (auth, validators and delivery only, no runner), it records into a
    scratch database beside `data`; the part is then merged into run `run_id` of `data`, logs included."""
    from gryt.data import SqliteData
    from gryt.history_merge import copy_logs, merge_runs, read_sqlite_runs, relocate_logs

    assert data.path is not None
    check_complete(data, run_id, pipeline)
    scratch = Path(tempfile.mkdtemp(prefix=".gryt-deliver-", dir=data.path.parent))
    try:
        part = SqliteData(scratch / "gryt.db")
        pipeline.data = part
        pipeline.select([])
        try:
            yield
        finally:
            part.close()
        runs = read_sqlite_runs(scratch / "gryt.db")
        copies = relocate_logs(runs, scratch / "gryt.db", data.path)
        merge_runs(data, runs)
        copy_logs(copies)
    finally:
        shutil.rmtree(scratch)

"""`gryt runs list` and `gryt runs show RUN_ID`: the run history kept in the project database."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gryt.cli._common import (
    format_duration,
    make_console,
    open_project,
    print_json,
    read_history,
    reporting,
)
from gryt.status import AUTH_FAILED, CACHED, ERROR, INTERRUPTED, INVALID_ENV, RUNNING, SKIPPED, SUCCESS
from gryt.testcounts import counts_suffix

if TYPE_CHECKING:
    from rich.text import Text

    from gryt.histories import History

app = typer.Typer(
    name="runs",
    help="Show past runs from the project database.",
    no_args_is_help=True,
    add_completion=False,
)

STATUS_STYLES = {
    SUCCESS: "green",
    CACHED: "green",
    ERROR: "red",
    INVALID_ENV: "red",
    AUTH_FAILED: "red",
    INTERRUPTED: "yellow",
    RUNNING: "cyan",
    "abandoned": "magenta",
    SKIPPED: "dim",
}


def run_status(run: dict[str, Any]) -> str:
    """The stored status, or `abandoned` for a `running` run whose process is gone."""
    return "abandoned" if run.get("abandoned") else str(run.get("status") or "-")


def styled(status: str, *, allowed: bool = False) -> Text:
    """`status` in its colour, as a Text: a status read from the database is never parsed as markup.
    An allowed failure reads `error (allowed)`, in yellow."""
    from rich.text import Text

    if allowed:
        return Text(f"{status} (allowed)", style="yellow")
    return Text(status, style=STATUS_STYLES.get(status, ""))


def plain(value: Any) -> Text:
    """A table cell or line part holding user-controlled text (names, ids, errors) exactly as written:
    a Text is never parsed as Rich markup, so `ci[/x]` cannot crash a view and `rel[prod]` stays visible."""
    from rich.text import Text

    return Text(str(value))


def short_time(stamp: Any) -> str:
    """`2026-11-27T09:06:15.123Z` -> `2026-11-27 09:06:15` (local time)."""
    if not isinstance(stamp, str) or not stamp:
        return "-"
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if when.tzinfo is not None:
        when = when.astimezone()
    return when.strftime("%Y-%m-%d %H:%M:%S")


@app.command("list")
def list_(
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs (0: all).")] = 20,
    pipeline: Annotated[
        str | None, typer.Option("--pipeline", "-p", help="Only runs of this pipeline name.")
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Database file (default: the project's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """List the latest runs: id, pipeline, status, start, duration."""
    with reporting():
        project = open_project(lenient=True)
        history = read_history(project, db)
        runs: list[dict[str, Any]] = []
        if history is not None:
            try:
                runs = history.list_runs(limit, pipeline)
            finally:
                history.close()
        if as_json:
            print_json(runs)
            return
        if not runs:
            typer.echo("No runs yet." if pipeline is None else f"No runs of pipeline {pipeline!r}.")
            return
        from rich.table import Table

        table = Table(box=None, header_style="bold")
        for column in ("run id", "pipeline", "status", "start", "duration"):
            table.add_column(column, no_wrap=column != "pipeline")
        for run in runs:
            table.add_row(
                plain(run["run_id"]),
                plain(run.get("name") or "-"),
                styled(run_status(run)),
                short_time(run.get("start_timestamp")),
                format_duration(run.get("duration")),
            )
        make_console().print(table)


@app.command("show")
def show(
    run_id: Annotated[
        str,
        typer.Argument(help="Run id: a unique prefix or suffix of one is enough; `last` is the newest run."),
    ],
    db: Annotated[Path | None, typer.Option("--db", help="Database file (default: the project's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run as JSON.")] = False,
    junit: Annotated[
        Path | None, typer.Option("--junit", help="Also write the run as JUnit XML to this file.")
    ] = None,
) -> None:
    """Show one run: every runner, step, auth result and destination."""
    with reporting():
        from gryt.errors import ConfigError

        project = open_project(lenient=True)
        history = read_history(project, db)
        if history is None:
            raise ConfigError(f"no run {run_id!r}: no runs recorded yet")
        try:
            run = history.get_run(resolve_run_id(history, run_id))
        finally:
            history.close()
        if run is None:  # deleted between the two queries
            raise ConfigError(f"no run {run_id!r}; see `gryt runs list`")
        if junit is not None:
            from gryt.junit import stored_result, write_junit

            target = junit.expanduser().resolve()
            try:
                write_junit(stored_result(run), target, str(run.get("name") or "gryt"))
            except OSError as exc:
                raise ConfigError(
                    f"--junit {target}: cannot write JUnit XML: {exc.strerror or exc}"
                ) from None
        if as_json:
            print_json(run)
            return
        render_run(run)


LAST = "last"
"""The `gryt runs show` argument that means the newest run."""
CANDIDATES_SHOWN = 5


def resolve_run_id(history: History, given: str) -> str:
    """The full id `given` names: itself, `last`, or the one run whose id starts or ends with it.

    No match, or several, is a ConfigError (several: the candidates are listed).
    """
    from gryt.errors import ConfigError

    where = history.label
    if not given:
        raise ConfigError("RUN_ID: empty; give a run id, a unique prefix or suffix of one, or `last`")
    ids = history.find_runs(given, CANDIDATES_SHOWN + 1)
    if ids == [given]:
        return given
    if given == LAST:
        newest = history.list_runs(1)
        if not newest:
            raise ConfigError(f"{where}: no run {given!r}: no runs recorded yet")
        return str(newest[0]["run_id"])
    if not ids:
        raise ConfigError(f"{where}: no run {given!r} (no id starts or ends with it); see `gryt runs list`")
    if len(ids) > 1:
        shown = ", ".join(ids[:CANDIDATES_SHOWN]) + (", ..." if len(ids) > CANDIDATES_SHOWN else "")
        raise ConfigError(f"{where}: run id {given!r} is ambiguous; it matches {shown}")
    return ids[0]


def render_run(run: dict[str, Any]) -> None:
    """A human view of one run: header, auth attempts, runners and steps, destinations, errors."""
    from rich.table import Table
    from rich.text import Text

    console = make_console()
    status = run_status(run)
    console.print(
        Text.assemble(
            ("Run ", "bold"),
            (str(run["run_id"]), "bold"),
            "  pipeline ",
            (str(run.get("name") or "-"), "bold"),
        )
    )
    console.print(
        Text.assemble(
            "status ",
            styled(status),
            f"  started {short_time(run.get('start_timestamp'))}  duration {format_duration(run.get('duration'))}",
            f"  pid {run['pid']} on {run['host']}" if run.get("pid") and run.get("host") else "",
        )
    )
    if run.get("continues_run_id"):
        console.print(f"continues run {run['continues_run_id']} (gryt run --failed)", markup=False)
    if run.get("error"):
        console.print(f"error: {run['error']}", markup=False)
    if run.get("auth"):
        auth = Table(title="auth", title_justify="left", box=None, header_style="bold")
        for column in ("auth", "type", "status", "duration", "error"):
            auth.add_column(column)
        for attempt in run["auth"]:
            raw = attempt.get("output")
            output: dict[str, Any] = raw if isinstance(raw, dict) else {}
            auth.add_row(
                plain(attempt.get("auth_id")),
                plain(attempt.get("name") or "-"),
                styled(str(attempt.get("status"))),
                format_duration(attempt.get("duration")),
                plain(output.get("error") or ""),
            )
        console.print(auth)
    steps = Table(box=None, header_style="bold")
    for column in ("runner", "step", "status", "duration", "attempts", "returncode", "error"):
        steps.add_column(column)
    steps_by_runner: dict[str, list[dict[str, Any]]] = {}
    for step in run.get("steps") or []:
        steps_by_runner.setdefault(str(step.get("runner_id")), []).append(step)
    for runner in run.get("runners") or []:
        rid = str(runner.get("runner_id"))
        rows = steps_by_runner.pop(rid, [])
        if not rows:
            steps.add_row(
                plain(rid), "-", styled(str(runner.get("status"))), format_duration(runner.get("duration"))
            )
        for step in rows:
            steps.add_row(*_step_row(rid, step))
    for rid, rows in steps_by_runner.items():
        for step in rows:
            steps.add_row(*_step_row(rid, step))
    console.print(steps)
    _render_deliveries(console, run.get("destination_runs") or [])


def _render_deliveries(console: Any, rows: list[dict[str, Any]]) -> None:
    """The deliver table: one row per destination and artifact; then `deliver/ID ARTIFACT -> WHERE` for
    each artifact published (never cut to the table's width) and each destination's log file."""
    from rich.table import Table

    from gryt.destination import went

    if not rows:
        return
    table = Table(title="deliver", title_justify="left", box=None, header_style="bold")
    for column in ("destination", "type", "artifact", "status", "duration", "error"):
        table.add_column(column)
    logs: dict[str, str] = {}
    published: list[str] = []
    for row in rows:
        status = str(row.get("status"))
        details = row.get("details")
        line = went(row.get("artifact"), details) if isinstance(details, dict) and status == SUCCESS else None
        if line is not None:
            published.append(f"deliver/{row.get('destination_id')} {line}")
        table.add_row(
            plain(row.get("destination_id")),
            plain(row.get("name") or "-"),
            plain(row.get("artifact") or "-"),
            styled(status),
            format_duration(row.get("duration")) if status != SKIPPED else "-",
            plain(row.get("error") or ""),
        )
        if row.get("log_path"):
            logs[str(row.get("destination_id"))] = str(row["log_path"])
    console.print(table)
    for line in published:
        console.print(plain(line), soft_wrap=True)
    for destination_id, path in logs.items():
        console.print(f"log {destination_id}: {path}", markup=False, highlight=False)


def _step_row(runner_id: str, step: dict[str, Any]) -> list[Text | str]:
    """One step's row; a step id recorded as `RUNNER/STEP` (used in several runners) shows as `STEP`."""
    step_id = str(step.get("step_id"))
    step_id = step_id.removeprefix(f"{runner_id}/")
    raw = step.get("output")
    output: dict[str, Any] = raw if isinstance(raw, dict) else {}
    error = str(output.get("error") or "")
    returncode = step.get("returncode")
    return [
        plain(runner_id),
        plain(step_id),
        styled(str(step.get("status")), allowed=output.get("allowed") is True).append(counts_suffix(output)),
        format_duration(step.get("duration")),
        str(step.get("attempts") if step.get("attempts") is not None else "-"),
        str(returncode) if returncode is not None else "-",
        plain(error),
    ]

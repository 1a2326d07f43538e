"""`gryt report RUN --html` and `gryt report --trend PIPELINE`: the run history as an HTML file to look at."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from gryt.cli._common import database_path, is_memory, open_project, read_history, reporting

DEFAULT_LAST = 20
MAX_LAST = 500


def _file_name(text: str) -> str:
    """`text` as a file name: anything but letters, digits, `.`, `_` and `-` becomes `_`."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "report"


def _write(target: Path, html: str) -> None:
    from gryt.errors import ConfigError
    from gryt.project import display_path

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(html, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{display_path(target)}: cannot write the report: {exc.strerror or exc}") from None
    typer.echo(display_path(target))


def report(
    run_id: Annotated[
        str | None,
        typer.Argument(
            metavar="RUN",
            help="Run id: a unique prefix or suffix of one is enough; `last` is the newest run.",
        ),
    ] = None,
    *,
    html: Annotated[
        bool, typer.Option("--html", help="Write HTML (the default, and only, format).", show_default=False)
    ] = True,
    trend: Annotated[
        str | None,
        typer.Option("--trend", metavar="PIPELINE", help="Step durations and failure rate of a pipeline."),
    ] = None,
    last: Annotated[
        int, typer.Option("--last", "-n", min=2, max=MAX_LAST, help="How many runs --trend covers.")
    ] = DEFAULT_LAST,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (default: .gryt/reports/RUN_ID.html, or trend-PIPELINE.html).",
        ),
    ] = None,
    db: Annotated[Path | None, typer.Option("--db", help="Database file (default: the project's).")] = None,
) -> None:
    """Write a run's timeline, or a pipeline's step trend, as one self-contained HTML file."""
    with reporting():
        from gryt.errors import ConfigError

        if (run_id is None) == (trend is None):
            raise ConfigError("give a RUN id (or `last`), or --trend PIPELINE, but not both")
        from gryt.histories.sqlite import SqliteHistory

        project = open_project(lenient=True)
        history = read_history(project, db)
        if history is None:
            raise ConfigError("no runs recorded yet: run a pipeline first")
        # beside the SQLite database read (`read_history` picked it, warning once), else the project's
        path = history.data.path if isinstance(history, SqliteHistory) else database_path(project, db)
        folder = (project.root / ".gryt" if path is None or is_memory(path) else path.parent) / "reports"
        try:
            if trend is not None:
                runs = history.step_trend(trend, last)
                if not runs:
                    raise ConfigError(f"no runs of pipeline {trend!r}; see `gryt runs list`")
                run = None
            else:
                from gryt.cli.runs import resolve_run_id

                run = history.get_run(resolve_run_id(history, run_id or ""))
                if run is None:  # deleted between the two queries
                    raise ConfigError(f"no run {run_id!r}; see `gryt runs list`")
        finally:
            history.close()
        if run is not None:
            from gryt.report import run_page, timeline

            page = run_page.render(timeline.gather(run))
            default = folder / f"{_file_name(str(run['run_id']))}.html"
        else:
            from gryt.report import trend as trend_data
            from gryt.report import trend_page

            page = trend_page.render(trend_data.gather(str(trend), runs))
            default = folder / f"trend-{_file_name(str(trend))}.html"
        _write(output if output is not None else default, page)

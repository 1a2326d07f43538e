"""Helpers shared by the CLI commands: error reporting, project and database opening, output."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gryt.errors import ConfigError, GrytError, Interrupted

if TYPE_CHECKING:
    from gryt.data import SqliteData
    from gryt.histories import History
    from gryt.loader import LoadedPipeline
    from gryt.project import Project


def debug_enabled(debug: bool = False) -> bool:
    """`--debug` on the command line or GRYT_DEBUG=1 in the environment: show tracebacks."""
    return debug or os.environ.get("GRYT_DEBUG") == "1"


def error_line(message: str) -> None:
    """Print `gryt: error: <message>` as one line on stderr."""
    typer.echo(f"gryt: error: {' '.join(str(message).split())}", err=True)


@contextmanager
def reporting(debug: bool = False) -> Iterator[None]:
    """Turn gryt errors into one line on stderr and their exit code (a traceback only with --debug)."""
    try:
        yield
    except GrytError as exc:
        if debug_enabled(debug):
            raise
        if isinstance(exc, Interrupted):
            typer.echo(f"gryt: {exc}", err=True)
        else:
            error_line(str(exc))
        raise typer.Exit(exc.exit_code) from None


def open_project(*, lenient: bool = False) -> Project:
    """The project around the current directory (or the current directory when there is none).

    `lenient` (read-only history commands): a broken project config is a warning and the defaults
    apply, so the run history stays readable while the config is being fixed.
    """
    from gryt.project import Project, find_root, load_project

    try:
        project = load_project()
    except ConfigError as exc:
        if not lenient:
            raise
        typer.echo(f"gryt: warning: {exc}; using the default settings", err=True)
        root = find_root()
        project = Project.defaults(root or Path.cwd().resolve(), found=root is not None)
    configure_plugins(project)
    return project


def configure_plugins(project: Project) -> None:
    """Hand `disable_plugins` from the project config to the plugin manager before its first use."""
    from gryt.plugins.manager import configure

    configure(disable_plugins=project.disable_plugins)


def is_memory(path: Path) -> bool:
    """`path` is SQLite's `:memory:` (from `--db :memory:` or `db = ":memory:"`), not a file name."""
    from gryt.project import MEMORY_DB

    return str(path) == MEMORY_DB


def open_data(path: Path, *, create: bool = True) -> SqliteData:
    """Open the SQLite database at `path` (`:memory:`: in memory); a missing file is an error unless
    `create`. Without `create` (the history commands) it is opened read-only when its schema is current."""
    from gryt.data import SqliteData

    if is_memory(path):
        return SqliteData(str(path))
    if not create and not path.exists():
        from gryt.project import display_path

        raise ConfigError(f"{display_path(path)}: no database here yet (run a pipeline or `gryt init` first)")
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot create the database folder: {exc.strerror or exc}") from None
    return SqliteData(path, read_only=not create)


def database_path(project: Project, db: Path | None) -> Path:
    """`--db` (relative to the current directory; `:memory:` stays as is) or the project's database."""
    if db is None:
        return project.db
    return db if is_memory(db) else db.expanduser().resolve()


def history_database(project: Project, db: Path | None) -> Path:
    """The database the read-only history commands read: like `database_path`, except that a configured
    database that does not exist (or is `:memory:`) falls back, with a warning, to the default
    `.gryt/gryt.db` if that one exists, so earlier runs stay readable after the `db` setting changed."""
    path = database_path(project, db)
    if db is None and (is_memory(path) or not path.exists()):
        from gryt.project import DEFAULT_DB, display_path

        default = project.root / DEFAULT_DB
        if default != path and default.is_file():
            what = (
                f'db = "{path}" keeps no history'
                if is_memory(path)
                else f"{display_path(path)}: no database there"
            )
            typer.echo(f"gryt: warning: {what}; reading {display_path(default)}", err=True)
            return default
    return path


def warning_line(message: str) -> None:
    """Print `gryt: warning: <message>` as one line on stderr."""
    typer.echo(f"gryt: warning: {' '.join(str(message).split())}", err=True)


def read_history(project: Project, db: Path | None) -> History | None:
    """The history the read-only commands read: the configured history server, else the SQLite database
    (`--db`, or as `history_database` picks it, labelled as `display_path` shows it); None when the
    project's database does not exist yet (an empty history)."""
    from gryt.histories.select import open_remote
    from gryt.histories.sqlite import SqliteHistory
    from gryt.project import display_path

    if db is None:
        remote = open_remote(project, read_only=True, warn=warning_line)
        if remote is not None:
            return remote
    path = history_database(project, db)
    if no_history_yet(path, db):
        return None
    history = SqliteHistory(open_data(path, create=False), owned=True)
    history.label = display_path(path)
    return history


def no_history_yet(path: Path, db: Path | None) -> bool:
    """The project's database (not one named by `--db`) does not exist yet: an empty history, not an error."""
    return db is None and not is_memory(path) and not path.exists()


def print_json(value: Any) -> None:
    """Write `value` as JSON on stdout, nothing else (the real stdout, also in `--json` mode: see
    `gryt.cli.sinks.json_document`)."""
    import json

    from gryt.cli.sinks import document

    out = document()
    out.write(json.dumps(value, indent=2, default=str, ensure_ascii=False) + "\n")
    out.flush()


def format_duration(seconds: Any) -> str:
    """1.234 -> `1.2s`, 75 -> `1m15s`; unknown -> `-`."""
    if not isinstance(seconds, (int, float)):
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def load_at_root(spec: str) -> tuple[Project, Path, LoadedPipeline]:
    """Open the project, resolve PIPELINE and load it with the project root as working directory."""
    from gryt.loader import load_pipeline, resolve_pipeline_path
    from gryt.project import in_folder

    project = open_project()
    path = resolve_pipeline_path(spec, project)
    with in_folder(project.root):
        return project, path, load_pipeline(path)


def escape(text: Any) -> str:
    """`text` safe to embed in Rich markup."""
    from rich.markup import escape as rich_escape

    return rich_escape(str(text))


def make_console(stderr: bool = False) -> Any:
    """A Rich console; off a terminal it is wide enough that tables are not cut to 80 columns."""
    from rich.console import Console

    console = Console(highlight=False, stderr=stderr)
    if not console.is_terminal:
        console = Console(highlight=False, stderr=stderr, width=max(console.width, 160))
    return console


def complete_pipeline(incomplete: str) -> list[str]:
    """Shell completion for PIPELINE: the names in the project's pipelines folder."""
    from gryt.loader import available_pipelines
    from gryt.project import load_project

    try:
        project = load_project()
    except GrytError:
        return []
    names = dict.fromkeys(Path(name).stem for name in available_pipelines(project))
    return [name for name in names if name.startswith(incomplete)]

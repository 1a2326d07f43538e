"""`gryt run PIPELINE`: load a pipeline, run it in the project root, show progress, record the run."""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from gryt.cli._common import (
    complete_pipeline,
    database_path,
    debug_enabled,
    make_console,
    open_data,
    open_project,
    print_json,
    reporting,
    warning_line,
)
from gryt.cli.failed import FAILED
from gryt.status import INTERRUPTED, SUCCESS

if TYPE_CHECKING:
    from gryt.cache.engine import CacheMode
    from gryt.cli.progress import Failures

EXIT_CODES: dict[str, int] = {SUCCESS: 0, INTERRUPTED: 130}
"""Pipeline status -> exit code; every other status (error, invalid_env, auth_failed) exits 1."""


SIGNAL_EXIT = {signal.SIGINT: 130, signal.SIGTERM: 143}


@contextmanager
def interrupt_signals(pipeline: Any) -> Iterator[dict[str, Any]]:
    """While running, SIGINT/SIGTERM stop the pipeline: the first politely (the engine's grace period),
    the second at once; a third, or one before the run started, raises KeyboardInterrupt.

    `state["signal"]` holds the first signal received, which decides the exit code (130 or 143).
    """
    state: dict[str, Any] = {"signal": None, "count": 0}
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    from gryt.interrupts import note_signal

    def handler(signum: int, frame: Any) -> None:
        note_signal()
        state["count"] += 1
        if state["signal"] is None:
            state["signal"] = signum
        if getattr(pipeline, "context", None) is None or state["count"] > 2:
            raise KeyboardInterrupt
        pipeline.interrupt(force=state["count"] > 1)

    previous = {sig: signal.signal(sig, handler) for sig in SIGNAL_EXIT}
    try:
        yield state
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@dataclass
class RunOptions:
    """The command-line options of `gryt run`."""

    spec: str
    parallel: bool | None = None
    max_parallel: int | None = None
    show: bool = False
    db: Path | None = None
    in_memory: bool = False
    runners: list[str] = field(default_factory=list)
    deliver: bool | None = None
    as_json: bool = False
    junit: Path | None = None
    tail: int | None = None
    debug: bool = False
    run_id: str | None = None
    deliver_only: bool = False
    failed: str | None = None
    cache: str | None = None
    no_cache: bool = False


def run(
    pipeline: Annotated[
        str,
        typer.Argument(
            help="Pipeline file, or a name in the pipelines folder.", autocompletion=complete_pipeline
        ),
    ],
    *,
    parallel: Annotated[
        bool | None,
        typer.Option(
            "--parallel/--sequential",
            help="Run runners concurrently (default: the pipeline's, then the project's setting).",
            show_default=False,
        ),
    ] = None,
    max_parallel: Annotated[
        int | None, typer.Option("--max-parallel", help="At most N runners at once.")
    ] = None,
    show: Annotated[bool, typer.Option("--show", help="Stream step output live.")] = False,
    db: Annotated[Path | None, typer.Option("--db", help="Database file (default: the project's).")] = None,
    in_memory: Annotated[
        bool, typer.Option("--in-memory", help="Keep the run in memory only (nothing recorded).")
    ] = False,
    runner: Annotated[
        list[str] | None,
        typer.Option(
            "--runner", "-r", help="Run only this runner (repeatable); no delivery unless --deliver."
        ),
    ] = None,
    deliver: Annotated[
        bool | None,
        typer.Option(
            "--deliver/--no-deliver",
            help="Publish to the destinations (default: yes, unless --runner narrows the run).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print only the pipeline result as JSON.")] = False,
    junit: Annotated[Path | None, typer.Option("--junit", help="Also write JUnit XML to this file.")] = None,
    tail: Annotated[
        int | None,
        typer.Option(
            "--tail",
            metavar="N",
            help="Output lines shown for each failed step (default: failure_tail in the config, else 20).",
            show_default=False,
        ),
    ] = None,
    failed: Annotated[
        str | None,
        typer.Option(
            FAILED,
            metavar="[RUN_ID]",
            help="Rerun only the runners that failed in that run (default: the pipeline's last run).",
            show_default=False,
        ),
    ] = None,
    cache: Annotated[
        str | None,
        typer.Option(
            "--cache",
            metavar="MODE",
            help="Step cache mode: read-write (default) or read-only (use hits, store nothing).",
            show_default=False,
        ),
    ] = None,
    no_cache: Annotated[
        bool, typer.Option("--no-cache", help="Run every step; still store what succeeds in the step cache.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run-id",
            envvar="GRYT_RUN_ID",
            help="Record under this run id (shared by the CI jobs of one run; default: a new one).",
            show_default=False,
        ),
    ] = None,
    deliver_only: Annotated[
        bool,
        typer.Option(
            "--deliver-only",
            help="Only deliver run --run-id, merged from the jobs' databases, if it succeeded.",
        ),
    ] = False,
) -> None:
    """Run a pipeline; exit 0 on success, 1 when it failed, 130 when interrupted."""
    options = RunOptions(
        spec=pipeline,
        parallel=parallel,
        max_parallel=max_parallel,
        show=show,
        db=db,
        in_memory=in_memory,
        runners=list(runner or []),
        deliver=deliver,
        as_json=as_json,
        junit=junit,
        tail=tail,
        debug=debug,
        run_id=run_id,
        deliver_only=deliver_only,
        failed=failed,
        cache=cache,
        no_cache=no_cache,
    )
    from gryt.reaper import become_subreaper

    become_subreaper()  # orphans of the steps come to gryt, so an interrupt can stop them (see _execute)
    code = 0
    with reporting(debug):
        code = _run(options)
    if code:
        raise typer.Exit(code)


def _run(opts: RunOptions) -> int:
    from gryt.errors import ConfigError
    from gryt.loader import load_pipeline, resolve_pipeline_path
    from gryt.project import MEMORY_DB, in_folder

    if opts.db is not None and opts.in_memory:
        raise ConfigError("--db and --in-memory exclude each other")
    if opts.max_parallel is not None and opts.max_parallel < 1:
        raise ConfigError(f"--max-parallel: must be at least 1, got {opts.max_parallel}")
    if opts.tail is not None and opts.tail < 0:
        raise ConfigError(f"--tail: must be at least 0, got {opts.tail}")
    if opts.deliver_only and (opts.run_id is None or opts.runners or opts.in_memory or opts.deliver is False):
        raise ConfigError(
            "--deliver-only: give --run-id; --runner, --in-memory and --no-deliver do not apply"
        )
    if opts.failed is not None and opts.deliver_only:
        raise ConfigError("--failed and --deliver-only exclude each other: --deliver-only runs no runner")
    if opts.failed is not None and opts.runners:
        raise ConfigError("--failed and --runner exclude each other: --failed picks the runners")
    if opts.failed is not None and opts.in_memory:
        raise ConfigError("--failed and --in-memory exclude each other: --failed reads the run history")
    mode = _cache_mode(opts)
    project = open_project()
    path = resolve_pipeline_path(opts.spec, project)
    if path.suffix != ".toml":  # a Python pipeline runs its own code as it loads: collect from there on
        from gryt import startup

        startup.resume()
    junit_path = opts.junit.expanduser().resolve() if opts.junit is not None else None
    if junit_path is not None:
        _check_writable(junit_path)
    data = open_data(Path(MEMORY_DB) if opts.in_memory else database_path(project, opts.db))
    if data.path is not None:
        _check_log_folder(data.path.parent / "logs", data)
    history = None
    try:
        if opts.run_id is not None:
            from gryt.fanout import check_run_id

            check_run_id(opts.run_id, None if opts.in_memory else data, exists=opts.deliver_only)

        if opts.db is None and not opts.in_memory:
            from gryt.histories.select import open_remote

            history = open_remote(project, read_only=False, warn=warning_line, local=data.path)
        with in_folder(project.root):
            loaded = load_pipeline(path, data=data)
            pipe = loaded.pipeline
            if opts.db is not None or opts.in_memory or getattr(pipe, "data", None) is None:
                pipe.data = data
            if history is not None:
                pipe.history = history
                pipe.secrets.extend(n for n in history.secret_variables if n not in pipe.secrets)
            if opts.runners:
                pipe = _select(pipe, opts.runners)
            if opts.failed is not None:
                from gryt.cli.failed import narrow_to_failed

                nothing = narrow_to_failed(pipe, opts.failed)
                if nothing:
                    typer.echo(nothing, err=opts.as_json)
                    return 0
            limit = opts.max_parallel or loaded.max_parallel or project.max_parallel
            if limit is not None:
                pipe.max_parallel = limit
            parallel = opts.parallel
            if parallel is None:
                parallel = loaded.parallel if loaded.parallel is not None else bool(project.parallel)
            if getattr(pipe, "root", None) is None:
                pipe.root = project.root
            if _declares_cache(pipe):
                from gryt.cache.setup import step_cache

                pipe.cache = step_cache(project, mode)
            if opts.deliver_only:
                from gryt.fanout import delivery_part

                assert opts.run_id is not None
                with delivery_part(pipe, data, opts.run_id):
                    result, elapsed, signal_code, logs = _execute(pipe, parallel, opts)
            else:
                result, elapsed, signal_code, logs = _execute(pipe, parallel, opts)
    finally:
        if history is not None:
            history.close()
        data.close()
    if junit_path is not None:
        from gryt.junit import write_junit

        try:
            write_junit(result, junit_path, loaded.name)
        except OSError as exc:
            raise ConfigError(f"{junit_path}: cannot write JUnit XML: {exc.strerror or exc}") from None
    if opts.as_json:
        print_json(result)
    else:
        from gryt.cli.progress import Failures

        _summary(
            result, elapsed, Failures(opts.tail if opts.tail is not None else project.failure_tail, logs)
        )
    status = str(result.get("status"))
    if status == INTERRUPTED and signal_code is not None:
        return signal_code
    return EXIT_CODES.get(status, 1)


def _cache_mode(opts: RunOptions) -> CacheMode:
    """The step cache mode the flags ask for; ConfigError for a bad `--cache` or a contradiction."""
    from gryt.config import did_you_mean
    from gryt.errors import ConfigError

    modes = ("read-write", "read-only")
    if opts.cache is not None and opts.cache not in modes:
        raise ConfigError(
            f"--cache: expected read-write or read-only, got {opts.cache!r}{did_you_mean(opts.cache, modes)}"
        )
    if opts.no_cache:
        if opts.cache == "read-only":
            raise ConfigError("--no-cache and --cache=read-only exclude each other")
        return "write-only"
    return "read-only" if opts.cache == "read-only" else "read-write"


def _declares_cache(pipeline: Any) -> bool:
    """Some step of the run declares `inputs`: only then is the step cache opened (no cost otherwise)."""
    runners = getattr(pipeline, "selected_runners", None) or getattr(pipeline, "runners", [])
    return any(getattr(step, "cache_spec", None) is not None for r in runners for step in r.steps)


def _check_log_folder(folder: Path, data: Any) -> None:
    """Create the folder of the step log files before anything runs: when something else is in its
    place (a file named `logs`) or it cannot be created, that is one line and exit 2, not a run whose
    every step reports the same error."""
    from gryt.errors import ConfigError
    from gryt.project import display_path

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        data.close()
        what = "a file is in its place" if folder.exists() and not folder.is_dir() else exc.strerror or exc
        raise ConfigError(
            f"{display_path(folder)}: cannot create the log folder ({what}); move it aside or fix its permissions"
        ) from None


def _check_writable(path: Path) -> None:
    """Fail before anything runs when the `--junit` file cannot be written (a folder, a file where a
    folder must be, no permission): opening it for appending is the test, as the writer would do it. A
    file that did not exist is removed again; folders are created as `write_junit` would."""
    from gryt.errors import ConfigError

    existed = path.exists() or path.is_symlink()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8"):
            pass
        if not existed:
            path.unlink()
    except FileExistsError:
        raise ConfigError(f"--junit {path}: cannot write JUnit XML: {path.parent} is not a folder") from None
    except OSError as exc:
        raise ConfigError(f"--junit {path}: cannot write JUnit XML: {exc.strerror or exc}") from None


def _select(pipeline: Any, runners: list[str]) -> Any:
    """Only the named runners, a matrix runner's id naming all its combinations (and nothing they need
    unless also named)."""
    from gryt.cli.progress import runner_ids
    from gryt.config import did_you_mean
    from gryt.errors import ConfigError

    groups: dict[str, list[str]] = getattr(pipeline, "groups", None) or {}
    known = [*groups, *(rid for rid, _steps in runner_ids(pipeline))]
    for name in runners:
        if name not in known:
            raise ConfigError(
                f'--runner: unknown runner "{name}"{did_you_mean(name, known)}; runners: {", ".join(known)}'
            )
    try:
        selected = pipeline.select(list(dict.fromkeys(runners)))
    except ValueError as exc:
        raise ConfigError(f"--runner: {exc}") from None
    chosen = {rid for name in runners for rid in groups.get(name, [name])}
    outside = {
        need: r.id for r in pipeline.runners if r.id in chosen for need in r.needs if need not in chosen
    }
    if outside:
        needs = ", ".join(f"{need!r} (needed by {rid!r})" for need, rid in outside.items())
        sys.stderr.write(f"gryt: not running {needs}: outside the --runner selection\n")
    return selected


def _execute(
    pipeline: Any, parallel: bool, opts: RunOptions
) -> tuple[dict[str, Any], float, int | None, dict[tuple[str, str], Path]]:
    """Execute with the right progress view; returns the result, the elapsed time, the exit code a signal
    that stopped the run calls for (130 or 143; else None) and the log files the view saw written."""
    from gryt.cli.progress import LiveProgress, PlainProgress
    from gryt.context import RunContext

    started = time.monotonic()
    show = opts.show
    context = RunContext(run_id=opts.run_id) if opts.run_id is not None else None
    deliver = True if opts.deliver_only else opts.deliver
    live = not (opts.as_json or show or debug_enabled(opts.debug)) and _is_terminal()
    view: Any = None
    if not opts.as_json:
        view = LiveProgress(pipeline) if live else PlainProgress(pipeline)
        _add_hook(pipeline, view)
    from gryt import startup
    from gryt.reaper import stop_descendants

    startup.resume()  # start-up is over: collect garbage again (gryt.startup)
    with interrupt_signals(pipeline) as state:
        try:
            if isinstance(view, LiveProgress):
                with view:
                    result = pipeline.execute(parallel=parallel, show=show, deliver=deliver, context=context)
            else:
                result = pipeline.execute(parallel=parallel, show=show, deliver=deliver, context=context)
        except KeyboardInterrupt:
            from gryt.errors import Interrupted

            stop_descendants(force=lambda: True)
            code = SIGNAL_EXIT.get(state["signal"], 130)
            raise Interrupted("terminated" if code == 143 else "interrupted", exit_code=code) from None
        if result.get("status") == INTERRUPTED:
            # what escaped the step groups (setsid daemons, reparented to gryt): a second signal skips the grace
            stop_descendants(force=lambda: state["count"] > 1)
    signal_code = SIGNAL_EXIT.get(state["signal"], 130) if state["signal"] is not None else None
    logs = view.logs if view is not None else {}
    return result, time.monotonic() - started, signal_code, logs


def _add_hook(pipeline: Any, hook: Any) -> None:
    """Attach the progress view after the pipeline's own hooks."""
    hooks = getattr(pipeline, "hooks", None)
    if isinstance(hooks, list):
        hooks.append(hook)


def _is_terminal() -> bool:
    """stdout is an interactive terminal that understands control codes (as Rich decides it).

    Rich is not imported (~10 ms) when its answer is known to be no: stdout is not a TTY and neither
    `TTY_COMPATIBLE=1` nor a non-empty `FORCE_COLOR` tells Rich to treat it as one."""
    isatty = getattr(sys.stdout, "isatty", None)
    try:
        tty = isatty is not None and isatty()
    except ValueError:  # closed
        tty = False
    if not tty and os.environ.get("TTY_COMPATIBLE") != "1" and not os.environ.get("FORCE_COLOR"):
        return False
    from rich.console import Console

    console = Console()
    return console.is_terminal and not console.is_dumb_terminal


def _summary(result: dict[str, Any], elapsed: float, failures: Failures) -> None:
    from gryt.cli.progress import render_plain_summary, render_summary

    if _is_terminal():
        render_summary(result, make_console(), elapsed, failures)
    else:
        render_plain_summary(result, sys.stdout, elapsed, failures)

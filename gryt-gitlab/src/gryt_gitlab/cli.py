"""`gryt ci gitlab [PIPELINE] [--output FILE] [--check]`: write (or check) the `.gitlab-ci.yml` that runs
the pipeline with one GitLab job per runner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(add_completion=False)

DEFAULT_OUTPUT = ".gitlab-ci.yml"


@app.command("gitlab")
def gitlab(
    pipeline: Annotated[
        str | None,
        typer.Argument(
            help="Pipeline file, or a name in the pipelines folder (default: the only one there)."
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help=f"File to write (default: {DEFAULT_OUTPUT} in the project root)."
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when the file is missing or out of date.")
    ] = False,
) -> None:
    """Write .gitlab-ci.yml: a job per runner with its needs, and a final merge and delivery job."""
    from gryt.cli._common import open_project, reporting
    from gryt.cli.plan import build_plan
    from gryt.errors import ConfigError
    from gryt.project import display_path
    from gryt_gitlab.workflow import build
    from gryt_gitlab.yamltext import dump

    with reporting():
        plan = build_plan(pipeline)
        header, document = build(plan)
        text = dump(document, header)
        target = output.expanduser().resolve() if output is not None else open_project().root / DEFAULT_OUTPUT
        shown = display_path(target)
        if check:
            try:
                current = target.read_text(encoding="utf-8")
            except FileNotFoundError:
                current = None
            except OSError as exc:
                raise ConfigError(f"{shown}: cannot read: {exc.strerror or exc}") from None
            if current != text:
                state = "missing" if current is None else "out of date"
                typer.echo(f"gryt: {shown} is {state}; run `gryt ci gitlab` and commit it", err=True)
                raise typer.Exit(1)
            typer.echo(f"{shown} is up to date")
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{shown}: cannot write: {exc.strerror or exc}") from None
        typer.echo(f"wrote {shown}: {len(document) - 3} runner job(s) and a final merge/deliver job")

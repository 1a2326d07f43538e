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
    from gryt.commands import open_project, pinned, plan, reporting, write_generated
    from gryt.project import display_path
    from gryt.yaml_text import dump
    from gryt_gitlab.workflow import build, distributions

    with reporting():
        document_plan = plan(pipeline)
        header, document = build(document_plan, pinned(distributions(document_plan)))
        text = dump(document, header=header, plain=False)
        target = output.expanduser().resolve() if output is not None else open_project().root / DEFAULT_OUTPUT
        if write_generated(target, text, check=check, command="gryt ci gitlab"):
            typer.echo(
                f"wrote {display_path(target)}: {len(document) - 3} runner job(s) and a final merge/deliver job"
            )

"""`gryt validate PIPELINE`: load and check a pipeline without running any command."""

from __future__ import annotations

from typing import Annotated

import typer

from gryt.cli._common import complete_pipeline, debug_enabled, load_at_root, reporting


def validate(
    pipeline: Annotated[
        str,
        typer.Argument(
            help="Pipeline file, or a name in the pipelines folder.", autocompletion=complete_pipeline
        ),
    ],
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Check a pipeline: TOML structure, known types, config keys, needs; nothing runs."""
    with reporting(debug):
        from gryt.project import display_path

        project, path, loaded = load_at_root(pipeline)
        runners = list(getattr(loaded.pipeline, "runners", []) or [])
        steps = sum(len(getattr(r, "steps", []) or []) for r in runners)
        parts = [f"{len(runners)} runner{'s' * (len(runners) != 1)}", f"{steps} step{'s' * (steps != 1)}"]
        for label, items in (
            ("validator", loaded.validators),
            ("auth step", getattr(loaded.pipeline, "auth_steps", None) or []),
            ("destination", getattr(loaded.pipeline, "destinations", None) or []),
        ):
            if items:
                parts.append(f"{len(items)} {label}{'s' * (len(items) != 1)}")
        typer.echo(f"ok: {display_path(path)}: pipeline {loaded.name!r}, {', '.join(parts)}")
        if debug_enabled(debug):
            typer.echo(f"project root: {project.root}", err=True)

"""`gryt env-validate PIPELINE [--json]`: run only the pipeline's validators and report every issue."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gryt.cli._common import (
    complete_pipeline,
    escape,
    load_at_root,
    make_console,
    print_json,
    reporting,
)


def env_validate(
    pipeline: Annotated[
        str,
        typer.Argument(
            help="Pipeline file, or a name in the pipelines folder.", autocompletion=complete_pipeline
        ),
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Print only the status and the issues as JSON.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Run only the pipeline's validators; exit 1 when the environment has issues."""
    with reporting(debug):
        from gryt.masking import Masker
        from gryt.project import display_path, in_folder
        from gryt.status import INVALID_ENV
        from gryt.validators import run_validators

        project, path, loaded = load_at_root(pipeline)
        masker = Masker()
        loaded.pipeline.declare_secrets(masker)
        with in_folder(project.root):
            report = [
                (masker.mask(label), masker.mask_obj(found))
                for label, found in run_validators(loaded.validators)
            ]
        issues = [issue for _label, found in report for issue in found]
        status = INVALID_ENV if issues else "ok"
        if as_json:
            print_json({"status": status, "issues": issues})
        else:
            _print_report(display_path(path), report)
        if issues:
            raise typer.Exit(1)


def _print_report(file: str, report: list[tuple[str, list[dict[str, Any]]]]) -> None:

    console = make_console()
    if not report:
        console.print(f"{escape(file)}: no validators declared; nothing to check")
        return
    total = sum(len(found) for _label, found in report)
    for label, found in report:
        if not found:
            console.print(f"[green]ok[/green]   {escape(label)}")
            continue
        console.print(f"[red]fail[/red] {escape(label)}: {len(found)} issue{'s' * (len(found) != 1)}")
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for issue in found:
            by_kind.setdefault(str(issue.get("kind")), []).append(issue)
        for kind, items in by_kind.items():
            console.print(f"     {escape(kind)}:")
            for issue in items:
                console.print(f"       - {escape(issue.get('name'))}: {escape(issue.get('message'))}")
    if total:
        console.print(f"[red]{total} issue{'s' * (total != 1)}[/red] in {escape(file)}")
    else:
        console.print(f"[green]environment ok[/green] for {escape(file)}")

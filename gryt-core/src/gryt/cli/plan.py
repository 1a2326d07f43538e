"""`gryt plan [PIPELINE]`: the pipeline as a run would execute it, without running anything: runners after
matrix expansion, `${{ }}` rendered (secrets masked), conditions and allowed failures."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from gryt.cli._common import complete_pipeline, print_json, reporting

PLAN_VERSION = 1
"""The `version` of `gryt plan --json`: raised only when a key changes meaning or goes away."""


def plan(
    pipeline: Annotated[
        str | None,
        typer.Argument(
            help="Pipeline file, or a name in the pipelines folder (default: the only one there).",
            autocompletion=complete_pipeline,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks.")] = False,
) -> None:
    """Show what a run would do: runners (matrices expanded), steps with values rendered, conditions."""
    with reporting(debug):
        document = build_plan(pipeline, brief=not as_json)
        if as_json:
            print_json(document)
        else:
            typer.echo("\n".join(plan_lines(document)))


def build_plan(spec: str | None, *, brief: bool = False) -> dict[str, Any]:
    """The plan of a pipeline file (see `resolve_plan`), read in the project root."""
    from gryt.cli._common import open_project
    from gryt.errors import ConfigError
    from gryt.loader import available_pipelines, load_pipeline, resolve_pipeline_path
    from gryt.project import in_folder

    project = open_project()
    if spec is None:
        names = available_pipelines(project)
        if len(names) != 1:
            listed = ", ".join(names) or "none"
            raise ConfigError(f"PIPELINE: give the pipeline; available: {listed}")
        spec = str(project.pipelines_dir / names[0])
    path = resolve_pipeline_path(spec, project)
    with in_folder(project.root):
        loaded = load_pipeline(path)
        pipe = loaded.pipeline
        if getattr(pipe, "root", None) is None:
            pipe.root = project.root
        parallel = loaded.parallel if loaded.parallel is not None else bool(project.parallel)
        max_parallel = loaded.max_parallel or project.max_parallel
        document = resolve_plan(pipe, parallel=parallel, max_parallel=max_parallel, brief=brief)
    try:
        document["file"] = path.resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:  # a pipeline outside the project: its absolute path
        document["file"] = str(path.resolve())
    return document


def resolve_plan(
    pipeline: Any, *, parallel: bool = False, max_parallel: int | None = None, brief: bool = False
) -> dict[str, Any]:
    """`pipeline.describe()` with every `${{ }}` rendered as a run would, plus the config of the auth steps
    and destinations, masked with every secret known before a run. `brief` leaves out config values
    equal to their type's default."""
    from gryt import requirements, variables
    from gryt.masking import Masker

    masker = Masker()
    contexts = variables.run_contexts(pipeline, variables.RUN_ID_PLACEHOLDER)
    restore = variables.apply(pipeline, contexts, masker)
    try:
        pipeline.declare_secrets(masker)
        document: dict[str, Any] = {"version": PLAN_VERSION, **pipeline.describe(parallel)}
        document["max_parallel"] = max_parallel if max_parallel is not None else pipeline.max_parallel
        document.pop("selected", None)
        document["groups"] = {name: list(ids) for name, ids in sorted(pipeline.groups.items())}
        document["plugins"] = requirements.plugins_used(pipeline)
        document["distributions"] = sorted(
            {p["distribution"] for p in document["plugins"] if p["distribution"]} | {"gryt-core"}
        )
        document["environment"] = requirements.environment(pipeline)
        for key, items in (("auth", pipeline.auth_steps), ("destinations", pipeline.destinations)):
            for described, item in zip(document[key], items, strict=True):
                described["config"] = dict(getattr(item, "config", {}) or {})
        if brief:
            for described_runner, runner in zip(document["runners"], pipeline.runners, strict=True):
                for described, step in zip(described_runner["steps"], runner.steps, strict=True):
                    described["config"] = _without_defaults(step, described["config"])
            for described, item in zip(document["destinations"], pipeline.destinations, strict=True):
                described["config"] = _without_defaults(item, described["config"])
    finally:
        restore()
    masked: dict[str, Any] = masker.mask_obj(document)
    return masked


def _without_defaults(item: Any, config: dict[str, Any]) -> dict[str, Any]:
    defaults = {key.name: key.default for key in getattr(item, "config_keys", None) or ()}
    return {k: v for k, v in config.items() if k not in defaults or defaults[k] != v}


def plan_lines(document: dict[str, Any]) -> list[str]:
    """The plan as indented lines for a terminal or a log."""
    mode = "parallel" if document.get("parallel") else "sequential"
    if document.get("max_parallel"):
        mode += f", at most {document['max_parallel']} at once"
    lines = [f"pipeline {document.get('name')} ({mode})"]
    for auth in document.get("auth") or []:
        lines.append(f"auth {auth['id']} ({auth['type']}){_extras(auth)}")
        lines.extend(f"  {key} = {_show(value)}" for key, value in (auth.get("config") or {}).items())
    for runner in document.get("runners") or []:
        needs = f" needs {', '.join(runner['needs'])}" if runner.get("needs") else ""
        lines.append(f"runner {runner['id']}{needs}{_extras(runner)}")
        for step in runner.get("steps") or []:
            lines.append(f"  step {step['id']} ({step['type']}){_extras(step)}")
            config = step.get("config") or {}
            lines.extend(
                f"    {key} = {_show(value)}" for key, value in config.items() if value not in (None, {}, [])
            )
    for destination in document.get("destinations") or []:
        lines.append(f"destination {destination['id']} ({destination['type']}){_extras(destination)}")
        config = destination.get("config") or {}
        lines.extend(
            f"  {key} = {_show(value)}" for key, value in config.items() if value not in (None, {}, [])
        )
    if document.get("artifacts"):
        lines.append(f"artifacts {_show(document['artifacts'])}")
    if document.get("secrets"):
        lines.append(f"secrets {', '.join(document['secrets'])}")
    if document.get("distributions"):
        lines.append(f"needs {', '.join(document['distributions'])}")
    return lines


def _extras(item: dict[str, Any]) -> str:
    parts = []
    if item.get("if") is not None:
        parts.append(f"if: {item['if']}")
    if item.get("allow_failure") is not None:
        parts.append(f"allow_failure: {_show(item['allow_failure'])}")
    return f"  [{'; '.join(parts)}]" if parts else ""


def _show(value: Any) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)

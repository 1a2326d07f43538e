"""`gryt run PIPELINE --failed [RUN_ID]`: the option's optional value, and narrowing the pipeline to the
runners an earlier run left to do (which ones is `gryt.rerun`'s)."""

from __future__ import annotations

import sys
from typing import Any

from typer.core import TyperCommand

FAILED = "--failed"
LAST = "last"
"""`--failed` without a value (or `--failed=last`): the newest run of the pipeline."""


class RunCommand(TyperCommand):
    """`gryt run`, whose `--failed` takes an optional value (Typer's click has none): `--failed` followed
    by nothing, by another option or by the only positional argument (the pipeline, as in
    `gryt run --failed ci`) means `--failed=last`."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        given = list(args)
        end = given.index("--") if "--" in given else len(given)
        takes_value = {
            opt for param in self.params if not getattr(param, "is_flag", True) for opt in param.opts
        } - {FAILED}
        positional: list[int] = []
        index = 0
        while index < end:
            token = given[index]
            if token in takes_value:
                index += 1
            elif not token.startswith("-"):
                positional.append(index)
            index += 1
        for index in range(end):
            following = index + 1
            if given[index] == FAILED and (
                following >= end or given[following].startswith("-") or positional == [following]
            ):
                given[index] = f"{FAILED}={LAST}"
        parsed: list[str] = super().parse_args(ctx, given)
        return parsed


def narrow_to_failed(pipeline: Any, given: str) -> str:
    """Narrow `pipeline` to the runners that did not pass in the run `given` names (`last`: the
    pipeline's newest run) and mark the new run as continuing it. Returns the line to print instead of
    running when every runner passed, else ""."""
    from gryt.cli.runs import resolve_run_id
    from gryt.errors import ConfigError
    from gryt.history import as_history
    from gryt.rerun import nothing_to_rerun, plan_rerun

    history = pipeline.history
    if history is None:
        from gryt.project import display_path

        history = as_history(pipeline.data)
        if history is None:
            raise ConfigError("--failed: this run has no history to read the earlier run from")
        if pipeline.data.path is not None:
            history.label = display_path(pipeline.data.path)
    if given == LAST:
        newest = history.list_runs(1, pipeline.name)
        if not newest:
            raise ConfigError(f"--failed: no run of pipeline {pipeline.name!r} yet; nothing to rerun")
        run_id = str(newest[0]["run_id"])
    else:
        run_id = resolve_run_id(history, given)
    run = history.get_run(run_id)
    if run is None:  # deleted since it was found
        raise ConfigError(f"--failed: no run {given!r}; see `gryt runs list`")
    rerun = plan_rerun(run, pipeline.describe())
    if not rerun.runners:
        return nothing_to_rerun(run)
    if not rerun.every_runner:
        pipeline.select(rerun.runners)
    pipeline.continues = rerun.run_id
    sys.stderr.write(f"gryt: rerunning {', '.join(rerun.runners)} (failed in run {rerun.run_id})\n")
    return ""

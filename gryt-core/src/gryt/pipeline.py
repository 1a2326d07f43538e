"""Pipelines: validators, auth steps, a runtime, runners (optionally in parallel) and destinations.

Execution order: validators (all of them; any issue ends the run as `invalid_env` before
anything else happens, `pipeline_start` included) -> `pipeline_start` -> auth steps in order (the first
failure ends the run as `auth_failed`) -> `runtime.provision()` -> runners -> delivery (only when every
runner succeeded and delivery is on: the artifacts are resolved now, then each destination publishes
what it selects; otherwise each destination is recorded `skipped` with the reason) ->
`runtime.teardown()` and `cleanup()` of every successful auth step, always -> `pipeline_end` (called
for every run, also `invalid_env` and `interrupted`).

`Pipeline` is the configuration and checks it when built (`needs_order` is the one check of the `needs`
graph, the TOML loader's too); each `execute()` is a `gryt.pipeline_run.PipelineRun`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gryt.artifacts import ArtifactEntry, ArtifactSpec, parse_entries
from gryt.context import RunContext
from gryt.errors import ConfigError
from gryt.hook import Hook
from gryt.pipeline_run import PipelineRun
from gryt.process import control_for
from gryt.runner import Runner, log_dir_for
from gryt.status import INVALID_ENV
from gryt.typeinfo import type_name
from gryt.validators import run_validators

if TYPE_CHECKING:
    from gryt.auth import Auth
    from gryt.cache.engine import StepCache
    from gryt.data import Data
    from gryt.destination import Destination
    from gryt.histories import History
    from gryt.masking import Masker
    from gryt.runtime import Runtime
    from gryt.validators import Validator


class NeedsError(ConfigError):
    """A `needs` graph that cannot run. `kind` is `self` (a runner needs itself), `unknown` (`need` is
    no runner) or `cycle` (`cycle` lists it, first id repeated last); `runner` is the runner at fault.
    The message is the one `Pipeline` reports; the loader rewords it with the key path."""

    def __init__(
        self,
        kind: Literal["self", "unknown", "cycle"],
        runner: str,
        need: str,
        cycle: Sequence[str],
        known: Sequence[str],
    ) -> None:
        self.kind = kind
        self.runner = runner
        self.need = need
        self.cycle = list(cycle)
        self.known = list(known)
        if kind == "unknown":
            message = f"runner {runner!r} needs unknown runner {need!r}; known runners: {', '.join(known) or 'none'}"
        else:
            message = f"runner needs form a cycle: {' -> '.join(self.cycle)}"
        super().__init__(message)


def needs_order(graph: Mapping[str, Sequence[str]]) -> list[str]:
    """The ids of `graph` (runner id -> the ids it needs) in declaration order, each after its needs.

    Raises NeedsError for a runner that needs itself or an unknown runner (checked runner by runner, in
    declaration order), then for the first cycle found. Iterative, so long chains need no deep recursion.
    """
    known = list(graph)
    for rid, needs in graph.items():
        for need in needs:
            if need == rid:
                raise NeedsError("self", rid, need, [rid, rid], known)
            if need not in graph:
                raise NeedsError("unknown", rid, need, [], known)
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: placed in `order`
    for root in graph:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        stack = [iter(graph[root])]
        while stack:
            for need in stack[-1]:
                mark = state.get(need)
                if mark == 2:
                    continue
                if mark == 1:
                    cycle = [*path[path.index(need) :], need]
                    raise NeedsError("cycle", cycle[0], need, cycle, known)
                state[need] = 1
                path.append(need)
                stack.append(iter(graph[need]))
                break
            else:
                stack.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
    return order


class Pipeline:
    """A whole CI run. `execute()` returns a result dict: `status`, `run_id`, `runners` (step results by
    runner), `auth`, `issues`, `destinations`, `warnings`, and `error` unless the run succeeded.

    Construction expands each runner declared with a `matrix` into one runner per combination (`groups`
    maps its id to theirs; a `needs` on it waits for all of them), then checks the graph: duplicate runner
    ids, unknown `needs` and cycles raise ConfigError (a ValueError); step ids need only be unique
    within their runner. `secrets` names environment variables whose values are masked.
    `artifacts` are the globs (or `{"path": ..., "optional": True}`) the destinations receive, resolved
    in `root` (default: the working directory at delivery) once every runner succeeded.
    """

    def __init__(  # noqa: PLR0917 - the positional order is the public API
        self,
        runners: Iterable[Runner],
        data: Data | None = None,
        runtime: Runtime | None = None,
        versioning: Any = None,
        hook: Hook | Sequence[Hook] | None = None,
        destinations: Iterable[Destination] | None = None,
        validators: Iterable[Validator] | None = None,
        auth_steps: Iterable[Auth] | None = None,
        *,
        name: str | None = None,
        max_parallel: int | None = None,
        parallel: bool | None = None,
        secrets: Iterable[str] | None = None,
        artifacts: Iterable[ArtifactEntry] | None = None,
        root: str | Path | None = None,
    ) -> None:
        self.runners: list[Runner] = list(runners)
        if data is None:
            data = next((r.data for r in self.runners if r.data is not None), None)
        self.data = data
        self.history: History | None = None
        """Where the run history goes when it is not `data` (a history server); the CLI sets it."""
        self.runtime = runtime
        self.versioning = versioning
        if hook is None:
            self.hooks: list[Hook] = []
        elif isinstance(hook, Hook):
            self.hooks = [hook]
        else:
            self.hooks = list(hook)
        self.destinations: list[Destination] = list(destinations or [])
        self.validators: list[Validator] = list(validators or [])
        self.auth_steps: list[Auth] = list(auth_steps or [])
        self.name = name or "pipeline"
        if max_parallel is not None and (
            isinstance(max_parallel, bool) or not isinstance(max_parallel, int) or max_parallel < 1
        ):
            raise ConfigError(f"max_parallel must be a positive integer, got {max_parallel!r}")
        self.max_parallel = max_parallel
        self.parallel = parallel
        """How `gryt run` runs this pipeline when no flag says (TOML `[pipeline] parallel`); `execute()`
        takes its own `parallel` argument."""
        self.secrets: list[str] = [secrets] if isinstance(secrets, str) else list(secrets or [])
        self.artifacts: list[ArtifactSpec] = parse_entries(
            [artifacts] if isinstance(artifacts, str) else list(artifacts or []), "artifacts"
        )
        self.root: Path | None = None if root is None else Path(root)
        self.context: RunContext | None = None
        self.continues: str | None = None
        """The run this one reruns the failed part of (`gryt run --failed`), recorded with the run."""
        self.cache: StepCache | None = None
        """The step cache runs use (`gryt run` sets it from the project config); None: no caching."""
        self._selected: set[str] | None = None
        self._check_graph()

    def _check_graph(self) -> None:
        for index, runner in enumerate(self.runners):
            if not isinstance(runner, Runner):
                raise ConfigError(f"runners[{index}] is not a Runner: {runner!r}")
            if runner.auto_id:
                runner.id = f"runner_{index}"
        self.groups: dict[str, list[str]] = {}
        """Matrix runner id -> the ids of its combinations' runners (what `needs` and `select` expand)."""
        expanded: list[Runner] = []
        for runner in self.runners:
            copies = runner.expand_matrix()
            if runner.matrix is not None:
                self.groups[runner.id] = [c.id for c in copies]
            expanded.extend(copies)
        self.runners = expanded
        for runner in self.runners:
            runner.needs = tuple(
                dict.fromkeys(i for need in runner.needs for i in self.groups.get(need, [need]))
            )
        owners: set[str] = set()
        step_runners: dict[str, int] = {}
        for runner in self.runners:
            if runner.id in owners:
                raise ConfigError(f"duplicate runner id {runner.id!r}")
            owners.add(runner.id)
            for step in runner.steps:
                step_runners[step.id] = step_runners.get(step.id, 0) + 1
        for runner in self.runners:
            runner.shared_step_ids = frozenset(s.id for s in runner.steps if step_runners[s.id] > 1)
        for kind, items in (("auth step", self.auth_steps), ("destination", self.destinations)):
            seen: set[str] = set()
            for item in items:
                if item.id in seen:
                    raise ConfigError(f"duplicate {kind} id {item.id!r}")
                seen.add(item.id)
        order = needs_order({r.id: r.needs for r in self.runners})
        by_id = {r.id: r for r in self.runners}
        self._order = [by_id[rid] for rid in order]

    def select(self, runner_ids: Iterable[str]) -> Pipeline:
        """Run only these runners (a matrix runner's id selects all its combinations); their needs outside
        the selection count as satisfied."""
        given = [runner_ids] if isinstance(runner_ids, str) else list(runner_ids)
        ids = [i for name in given for i in self.groups.get(name, [name])]
        known = [r.id for r in self.runners]
        unknown = [i for i in ids if i not in known]
        if unknown:
            raise ConfigError(f"unknown runner {unknown[0]!r}; known runners: {', '.join(known) or 'none'}")
        self._selected = set(ids)
        return self

    @property
    def selected_runners(self) -> list[Runner]:
        return [r for r in self.runners if self._selected is None or r.id in self._selected]

    def describe(self, parallel: bool = False) -> dict[str, Any]:
        """The run's `config_json`: the shape of the pipeline (masked before it is stored)."""
        return {
            "name": self.name,
            "parallel": parallel,
            "max_parallel": self.max_parallel,
            "selected": sorted(self._selected) if self._selected is not None else None,
            "runtime": type_name(self.runtime) if self.runtime is not None else None,
            "validators": [type_name(v) for v in self.validators],
            "auth": [_with_condition({"id": a.id, "type": type_name(a)}, a) for a in self.auth_steps],
            "runners": [r.describe() for r in self.runners],
            "destinations": [
                _with_condition(
                    {
                        "id": d.id,
                        "type": type_name(d),
                        "artifacts": _describe_specs(getattr(d, "artifact_specs", None)),
                    },
                    d,
                )
                for d in self.destinations
            ],
            "artifacts": _describe_specs(self.artifacts),
            "secrets": list(self.secrets),
        }

    def interrupt(self, force: bool = False) -> None:
        """Stop the current run: no new step starts, running commands get SIGTERM (SIGKILL if `force`,
        else after a grace). Only sets flags and sends signals, so a signal handler may call it."""
        context = self.context
        if context is not None:
            control_for(context.cancel).interrupt(force)

    def execute(
        self,
        parallel: bool = False,
        artifacts: Iterable[str | Path] | None = None,
        show: bool = False,
        *,
        context: RunContext | None = None,
        deliver: bool | None = None,
    ) -> dict[str, Any]:
        """Run the pipeline (see the module docstring for the order) and return its result.

        `artifacts` given here are paths (checked to exist when delivery starts) replacing the declared
        globs. `deliver` None delivers unless `select()` narrowed the runners; False never, True always.
        A KeyboardInterrupt is handled like `interrupt()`: the run is finished and recorded as
        `interrupted`, then the KeyboardInterrupt is re-raised.
        """
        ctx = context if context is not None else RunContext()
        if ctx.data is None:
            ctx.data = self.data
        if ctx.cache is None:
            ctx.cache = self.cache
        ctx.show = ctx.show or show
        runners = self.selected_runners
        ctx.prefix_output = ctx.prefix_output or (parallel and len(runners) > 1)
        if ctx.log_dir is None:
            ctx.log_dir = log_dir_for(self.data, ctx.run_id)
        self.context = ctx
        selected = {id(r) for r in runners}
        order = [r for r in self._order if id(r) in selected]
        no_delivery = None
        if deliver is False:
            no_delivery = "delivery turned off (--no-deliver)"
        elif deliver is None and self._selected is not None:
            no_delivery = "only the selected runners ran; --deliver delivers anyway"
        run = PipelineRun(self, ctx, order, parallel=parallel, no_delivery=no_delivery, artifacts=artifacts)
        return run.execute()

    def validate_environment(self) -> dict[str, Any]:
        """Run only the validators: `{"status": "ok" | "invalid_env", "issues": [...]}` (gryt-ci 1.x's report),
        masked with every secret known before a run (see `declare_secrets`)."""
        from gryt.masking import Masker

        masker = Masker()
        self.declare_secrets(masker)
        issues = [issue for _label, found in run_validators(self.validators) for issue in found]
        return {"status": INVALID_ENV if issues else "ok", "issues": masker.mask_obj(issues)}

    def declare_secrets(self, masker: Masker) -> None:
        """Register in `masker` every secret that is known before a run starts, so that the run's
        `config_json` (written first) and everything after it are masked with them: the values of the
        variables named in `secrets`, in gryt's environment and in the `env` of any step, destination or
        the runtime, and what each auth step and destination declares up front (`known_secrets()`, e.g.
        the token in its `token_env_var`); steps may declare theirs the same way (a password in a URL)."""
        tables: list[Any] = [os.environ, getattr(self.runtime, "env", None)]
        tables += [getattr(step, "config", {}).get("env") for runner in self.runners for step in runner.steps]
        tables += [getattr(destination, "config", {}).get("env") for destination in self.destinations]
        for env in tables:
            if isinstance(env, Mapping):
                for name in self.secrets:
                    value = env.get(name)
                    masker.add(value if isinstance(value, str) else None)
        steps = [step for runner in self.runners for step in runner.steps]
        for declarer in [*self.auth_steps, *self.destinations, *steps]:
            known = getattr(declarer, "known_secrets", None)
            for value in known() if callable(known) else ():
                masker.add(value)


def _with_condition(described: dict[str, Any], item: Any) -> dict[str, Any]:
    """`described` plus the item's `if`, when it has one."""
    condition = getattr(item, "condition", None)
    if condition is not None:
        described["if"] = condition.source
    return described


def _describe_specs(specs: list[ArtifactSpec] | None) -> list[Any] | None:
    """Artifact entries as they are recorded: globs, `{path, optional}` for the optional ones."""
    if specs is None:
        return None
    return [{"path": s.path, "optional": True} if s.optional else s.path for s in specs]

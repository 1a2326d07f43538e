"""Pipeline files -> core objects: TOML tables through the plugin registry, `.py` files by import
(`gryt.python_pipelines`).

Every error is a ConfigError whose one-line message starts with the file and the TOML key path, e.g.
`ci.toml: runners[0].steps[2].timeout: expected a number, got "ten"`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.allow_failure import parse_allow_failure
from gryt.artifacts import ArtifactSpec, parse_entries
from gryt.conditions import parse_condition
from gryt.config import ConfigKey, did_you_mean, resolve_config
from gryt.errors import ConfigError, GrytError, one_line
from gryt.matrix import expand
from gryt.project import Project, display_path, read_toml
from gryt.variables import RUN_ID_PLACEHOLDER, Contexts, has_template, render_config

if TYPE_CHECKING:
    from gryt.data import Data
    from gryt.pipeline import Pipeline

SUFFIXES = (".toml", ".py")

TOP_KEYS = (
    ConfigKey("pipeline", dict, {}, "Name, parallelism and secrets of the pipeline"),
    ConfigKey("runtime", dict, None, "The runtime that provisions the environment"),
    ConfigKey("validators", list, [], "Environment checks run before anything else"),
    ConfigKey("auth", list, [], "Auth steps run in order before the runners"),
    ConfigKey("runners", list, [], "Runners, each a list of steps"),
    ConfigKey("destinations", list, [], "Where artifacts are published after a green run"),
    ConfigKey("hooks", list, [], "Hook types that observe the run"),
    ConfigKey("artifacts", dict, {}, "What the run builds: globs resolved after the runners succeeded"),
)
PIPELINE_KEYS = (
    ConfigKey("name", str, None, "Pipeline name (default: the file stem)"),
    ConfigKey("parallel", bool, None, "Run runners concurrently"),
    ConfigKey("max_parallel", int, None, "Upper bound on concurrently running runners"),
    ConfigKey("secrets", list, [], "Environment variable names whose values are masked"),
)
RUNNER_KEYS = (
    ConfigKey("id", str, None, "Runner id (default runner_<index>)"),
    ConfigKey("needs", list, [], "Runner ids that must succeed first"),
    ConfigKey("fail_fast", bool, True, "Skip the remaining steps after a failure"),
    ConfigKey("allow_failure", (bool, dict), False, "A failure (or these exit_codes) does not fail the run"),
    ConfigKey("if", str, None, "Condition: the runner is skipped when it is false"),
    ConfigKey("matrix", dict, None, "Values to run the runner with, one runner per combination"),
    ConfigKey("steps", list, None, "The steps, run in order", required=True),
)
STEP_COMMON_KEYS = ("allow_failure", "if", "inputs", "outputs", "env_inputs")
"""Keys every step table accepts whatever its type: taken out before the type's own keys are checked."""
COMMON_KEYS = {"steps": STEP_COMMON_KEYS, "auth": ("if",), "destinations": ("if",)}
"""The same for each kind of table built by id."""
ARTIFACT_KEYS = (
    ConfigKey("paths", list, [], "Globs (or { path, optional } tables) relative to the project root"),
)


@dataclass
class LoadedPipeline:
    """A pipeline built from a file plus the file-level settings the CLI applies when running it."""

    path: Path
    name: str
    pipeline: Pipeline
    parallel: bool | None = None
    max_parallel: int | None = None
    validators: list[Any] = field(default_factory=list)


def available_pipelines(project: Project) -> list[str]:
    """File names of the pipelines in the project's pipelines folder."""
    folder = project.pipelines_dir
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if p.suffix in SUFFIXES and not p.name.startswith("_"))


def resolve_pipeline_path(spec: str, project: Project) -> Path:
    """A path as given, or a bare name looked up as NAME.toml / NAME.py in the pipelines folder."""
    given = Path(spec).expanduser()
    if given.is_file():
        return given.resolve()
    looks_like_path = given.suffix in SUFFIXES or len(given.parts) > 1
    if looks_like_path:
        if given.is_dir():
            raise ConfigError(f"{spec}: is a folder, expected a .toml or .py pipeline file")
        raise ConfigError(f"{spec}: no such pipeline file{_available_hint(project)}")
    candidates = [project.pipelines_dir / f"{spec}{suffix}" for suffix in SUFFIXES]
    found = [c for c in candidates if c.is_file()]
    if len(found) > 1:
        both = " and ".join(display_path(c) for c in found)
        raise ConfigError(f"{spec}: ambiguous pipeline name: both {both} exist; pass the file path")
    if not found:
        folder = display_path(project.pipelines_dir)
        names = [Path(n).stem for n in available_pipelines(project)]
        raise ConfigError(
            f"{spec}: no pipeline named {spec!r} in {folder}{did_you_mean(spec, names)}{_available_hint(project)}"
        )
    return found[0].resolve()


def _available_hint(project: Project) -> str:
    names = available_pipelines(project)
    if names:
        return f"; available: {', '.join(names)}"
    return "; no pipelines yet (run `gryt init` or `gryt new NAME`)"


def load_pipeline(path: Path, *, data: Data | None = None) -> LoadedPipeline:
    """Build the pipeline of a `.toml` or `.py` file; `data` is handed to the objects a TOML file builds.
    The `${{ }}` templates of both are checked (`gryt.variables.check_pipeline`)."""
    if path.suffix == ".py":
        loaded = load_python(path)
    elif path.suffix == ".toml":
        loaded = load_toml(path, data=data)
    else:
        raise ConfigError(f"{display_path(path)}: unsupported pipeline file type; use .toml or .py")
    from gryt.variables import check_pipeline

    try:
        check_pipeline(loaded.pipeline)
    except ConfigError as exc:
        raise ConfigError(f"{display_path(path)}: {exc}") from None
    return loaded


# ---------------------------------------------------------------------------------------------- TOML


class _Builder:
    """Turns one parsed TOML document into core objects; `fail` prefixes the file name."""

    def __init__(self, path: Path, data: Data | None) -> None:
        self.path = path
        self.file = display_path(path)
        self.data = data
        self.probe: Contexts | None = None
        """What a destination's or auth step's `${{ }}` renders with when it is built (see `by_id`)."""
        from gryt.plugins import get_manager

        self.registry = get_manager().registry

    def fail(self, where: str, message: str) -> ConfigError:
        return ConfigError(f"{self.file}: {where}: {message}" if where else f"{self.file}: {message}")

    def keys(self, keys: tuple[ConfigKey, ...] | None, values: Any, where: str) -> dict[str, Any]:
        """Validate a table against declared keys; messages carry the file and the key path."""
        if not isinstance(values, dict):
            raise self.fail(where, f"expected a table, got {_kind(values)}")
        try:
            return resolve_config(keys, values, where=where)
        except ConfigError as exc:
            raise ConfigError(f"{self.file}: {exc}") from None

    def tables(self, values: list[Any], where: str) -> list[dict[str, Any]]:
        for index, item in enumerate(values):
            if not isinstance(item, dict):
                raise self.fail(f"{where}[{index}]", f"expected a table, got {_kind(item)}")
        return values

    def strings(self, values: list[Any], where: str) -> list[str]:
        for index, item in enumerate(values):
            if not isinstance(item, str):
                raise self.fail(f"{where}[{index}]", f"expected a string, got {_kind(item)}")
        return values

    def lookup(self, kind: str, table: dict[str, Any], where: str, default: str | None = None) -> type:
        type_name = table.get("type", default)
        if type_name is None:
            known = ", ".join(self.registry.names(kind)) or "none installed"
            raise self.fail(f"{where}.type", f"required key is missing; known types: {known}")
        if not isinstance(type_name, str):
            raise self.fail(f"{where}.type", f"expected a string, got {_kind(type_name)}")
        try:
            return self.registry.get(kind, type_name)
        except GrytError as exc:
            raise self.fail(f"{where}.type", str(exc)) from None

    def construct(self, cls: type, where: str, *args: Any, ident: str | None = None, **kwargs: Any) -> Any:
        """Instantiate a type; its own validation errors get the key path in place of its `ident.`."""
        try:
            return cls(*args, **kwargs)
        except (GrytError, ValueError, TypeError) as exc:
            message = one_line(exc, with_type=False)
            if ident and where and message.startswith((f"{ident}.", f"{ident}:")):
                separator = "." if message[len(ident)] == "." else ":"
                raise ConfigError(f"{self.file}: {where}{separator}{message[len(ident) + 1 :]}") from None
            raise self.fail(where, message) from None

    def by_id(self, kind: str, table: dict[str, Any], where: str, default_id: str, **extra: Any) -> Any:
        """auth, destinations and steps: `id` is the id, every other key but `type` is config
        (a destination's `artifacts` too, checked here as every destination type accepts it)."""
        cls = self.lookup(kind, table, where, default="command" if kind == "steps" else None)
        ident = table.get("id", default_id)
        if not isinstance(ident, str) or not ident:
            raise self.fail(f"{where}.id", f"expected a non-empty string, got {_kind(ident)}")
        common = COMMON_KEYS.get(kind, ())
        config = {k: v for k, v in table.items() if k not in ("id", "type", *common)}
        own = config
        if kind == "destinations" and "artifacts" in config:
            self.artifacts(config["artifacts"], f"{where}.artifacts")
            own = {k: v for k, v in config.items() if k != "artifacts"}
        self.keys(getattr(cls, "config_keys", None), own, where)
        templates = None
        if kind != "steps" and self.probe is not None and has_template(config):
            # a plugin type checks its values when built: it gets them rendered (run.id as a placeholder),
            # and each run builds it again from the templates (`gryt.variables.apply`)
            try:
                templates, config = config, render_config(config, self.probe, where)
            except ConfigError as exc:
                raise ConfigError(f"{self.file}: {exc}") from None
        built = self.construct(cls, where, ident, config, ident=ident, **extra)
        if templates is not None:
            built.templates, built.build_extra = templates, extra
        if "allow_failure" in common:
            built.allow_failure = self.checked(parse_allow_failure, table.get("allow_failure"), where)
        if "if" in common:
            built.condition = self.checked(parse_condition, table.get("if"), where)
        cache = {
            name: table[name]
            for name in ("inputs", "outputs", "env_inputs")
            if name in common and name in table
        }
        if cache:  # a step without them loads no cache code
            from gryt.cache.spec import parse_cache_spec

            built.cache_spec = self.checked(lambda _v, at: parse_cache_spec(**cache, where=at), None, where)
        return built

    def checked(self, parse: Any, value: Any, where: str) -> Any:
        """`parse(value, where)` with its ConfigError prefixed by the file name."""
        try:
            return parse(value, where)
        except ConfigError as exc:
            raise ConfigError(f"{self.file}: {exc}") from None

    def artifacts(self, entries: Any, where: str) -> list[ArtifactSpec]:
        """Artifact entries (globs or `{ path, optional }` tables), errors with the file and key path."""
        if not isinstance(entries, list):
            raise self.fail(where, f"expected a list of globs, got {_kind(entries)}")
        for index, entry in enumerate(entries):
            if not isinstance(entry, (str, dict)):
                raise self.fail(f"{where}[{index}]", f"expected a glob or a table, got {_kind(entry)}")
        try:
            return parse_entries(entries, where)
        except ConfigError as exc:
            raise ConfigError(f"{self.file}: {exc}") from None

    def by_options(self, kind: str, table: dict[str, Any], where: str, default: str | None = None) -> Any:
        """validators, runtimes and hooks: every key but `type` is a keyword argument."""
        cls = self.lookup(kind, table, where, default=default)
        options = {k: v for k, v in table.items() if k != "type"}
        self.keys(getattr(cls, "config_keys", None), options, where)
        return self.construct(cls, where, ident=getattr(cls, "name", None), **options)

    def unique(self, ids: list[tuple[Any, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for ident, where in ids:
            if not isinstance(ident, str):
                continue
            if ident in seen:
                raise self.fail(f"{where}.id", f'duplicate {what} id "{ident}" (also at {seen[ident]})')
            seen[ident] = where


def load_toml(path: Path, *, data: Data | None = None) -> LoadedPipeline:
    """Read a TOML pipeline and build it through the plugin registry."""
    doc = read_toml(path)
    b = _Builder(path, data)
    top = b.keys(TOP_KEYS, doc, "")
    meta = b.keys(PIPELINE_KEYS, top["pipeline"], "pipeline")
    secrets = b.strings(meta["secrets"], "pipeline.secrets")
    max_parallel = meta["max_parallel"]
    if max_parallel is not None and max_parallel < 1:
        raise b.fail("pipeline.max_parallel", f"must be at least 1, got {max_parallel}")
    artifacts = b.artifacts(b.keys(ARTIFACT_KEYS, top["artifacts"], "artifacts")["paths"], "artifacts.paths")

    runtime = None
    if top["runtime"] is not None:
        runtime = b.by_options(
            "runtimes", b.keys(None, top["runtime"], "runtime"), "runtime", default="local"
        )
    validators = [
        b.by_options("validators", table, f"validators[{i}]")
        for i, table in enumerate(b.tables(top["validators"], "validators"))
    ]
    runtime_env = getattr(runtime, "env", None)
    b.probe = Contexts(
        {
            **os.environ,
            **({str(k): str(v) for k, v in runtime_env.items()} if isinstance(runtime_env, dict) else {}),
        },
        run_id=RUN_ID_PLACEHOLDER,
        pipeline_name=meta["name"] or path.stem,
        secrets=tuple(secrets),
    )
    auth_tables = b.tables(top["auth"], "auth")
    b.unique([(_default_id(t, "auth", i), f"auth[{i}]") for i, t in enumerate(auth_tables)], "auth")
    auth_steps = [
        b.by_id("auth", table, f"auth[{i}]", _default_id(table, "auth", i), data=data)
        for i, table in enumerate(auth_tables)
    ]
    dest_tables = b.tables(top["destinations"], "destinations")
    b.unique(
        [(_default_id(t, "destination", i), f"destinations[{i}]") for i, t in enumerate(dest_tables)],
        "destination",
    )
    destinations = [
        b.by_id("destinations", table, f"destinations[{i}]", _default_id(table, "destination", i))
        for i, table in enumerate(dest_tables)
    ]
    hook_objects = [
        b.by_options("hooks", table, f"hooks[{i}]") for i, table in enumerate(b.tables(top["hooks"], "hooks"))
    ]
    runners = _build_runners(b, top["runners"])

    from gryt.pipeline import Pipeline

    pipeline_name = meta["name"] or path.stem
    pipeline = b.construct(
        Pipeline,
        "",
        runners,
        data=data,
        runtime=runtime,
        hook=hook_objects or None,
        destinations=destinations,
        validators=validators,
        auth_steps=auth_steps,
        name=pipeline_name,
        max_parallel=max_parallel,
        parallel=meta["parallel"],
        secrets=secrets,
        artifacts=artifacts,
    )
    return LoadedPipeline(
        path=path,
        name=pipeline_name,
        pipeline=pipeline,
        parallel=meta["parallel"],
        max_parallel=max_parallel,
        validators=validators,
    )


def _build_runners(b: _Builder, tables: list[Any]) -> list[Any]:
    from gryt.runner import Runner

    runner_tables = b.tables(tables, "runners")
    if not runner_tables:
        raise b.fail("runners", "no runners: add at least one [[runners]] table with steps")
    specs = []
    for i, table in enumerate(runner_tables):
        where = f"runners[{i}]"
        spec = b.keys(RUNNER_KEYS, table, where)
        rid = spec["id"] if spec["id"] is not None else f"runner_{i}"
        if not rid:
            raise b.fail(f"{where}.id", "must not be empty")
        steps = b.tables(spec["steps"], f"{where}.steps")
        if not steps:
            raise b.fail(f"{where}.steps", "a runner needs at least one step")
        allow = b.checked(parse_allow_failure, spec["allow_failure"], where)
        condition = b.checked(parse_condition, spec["if"], where)
        needs = b.strings(spec["needs"], f"{where}.needs")
        if spec["matrix"] is not None:
            b.checked(expand, spec["matrix"], f"{where}.matrix")
        specs.append((where, rid, needs, spec["fail_fast"], steps, allow, condition, spec["matrix"]))

    b.unique([(rid, where) for where, rid, *_ in specs], "runner")
    for where, rid, _needs, _ff, steps, *_ in specs:
        b.unique(
            [(_ident(step, f"{rid}_step_{j}"), f"{where}.steps[{j}]") for j, step in enumerate(steps)], "step"
        )
    _check_needs(b, [(where, rid, needs) for where, rid, needs, *_ in specs])

    runners = []
    for where, rid, needs, fail_fast, steps, allow, condition, matrix in specs:
        step_objects = [
            b.by_id("steps", step, f"{where}.steps[{j}]", f"{rid}_step_{j}", data=b.data)
            for j, step in enumerate(steps)
        ]
        runners.append(
            b.construct(
                Runner,
                where,
                step_objects,
                ident=rid,
                data=b.data,
                config={"fail_fast": fail_fast},
                id=rid,
                needs=needs,
                allow_failure=allow,
                if_=condition,
                matrix=matrix,
            )
        )
    return runners


def _check_needs(b: _Builder, runners: list[tuple[str, str, list[str]]]) -> None:
    """The pipeline's needs check (`needs_order`), its errors reworded with the key path and a hint."""
    from gryt.pipeline import NeedsError, needs_order

    try:
        needs_order({rid: needs for _where, rid, needs in runners})
    except NeedsError as exc:
        if exc.kind == "cycle":
            raise b.fail("runners", f"needs form a cycle: {' -> '.join(exc.cycle)}") from None
        where = next(where for where, rid, _needs in runners if rid == exc.runner)
        if exc.kind == "self":
            raise b.fail(f"{where}.needs", f'runner "{exc.runner}" cannot need itself') from None
        hint = did_you_mean(exc.need, exc.known)
        raise b.fail(
            f"{where}.needs", f'unknown runner "{exc.need}"{hint}; runners: {", ".join(exc.known)}'
        ) from None


def _ident(table: dict[str, Any], default: Any) -> Any:
    return table.get("id", default)


def _default_id(table: dict[str, Any], what: str, index: int) -> Any:
    """auth steps and destinations are named after their type unless they set an `id`."""
    type_name = table.get("type")
    return table.get("id", type_name if isinstance(type_name, str) and type_name else f"{what}_{index}")


def _kind(value: Any) -> str:
    names = {str: "a string", bool: "a boolean", int: "an integer", float: "a number", list: "a list"}
    if isinstance(value, dict):
        return "a table"
    for typ, label in names.items():
        if type(value) is typ:
            return f"{label} ({value!r})" if typ is not list else label
    return type(value).__name__


def load_python(path: Path) -> LoadedPipeline:
    """A `.py` pipeline (see `gryt.python_pipelines`), named after its file unless it names itself."""
    from gryt.python_pipelines import import_pipeline

    pipeline = import_pipeline(path)
    name = pipeline.name if pipeline.name and pipeline.name != "pipeline" else path.stem
    pipeline.name = name
    return LoadedPipeline(
        path=path,
        name=name,
        pipeline=pipeline,
        parallel=getattr(pipeline, "parallel", None),
        max_parallel=getattr(pipeline, "max_parallel", None),
        validators=list(getattr(pipeline, "validators", None) or []),
    )

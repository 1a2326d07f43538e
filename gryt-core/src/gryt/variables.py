"""Variables: `${{ expr }}` in the config values of steps, destinations and auth steps, replaced when a run
starts (and checked, names included, when a pipeline is loaded).

`$VAR` and `${VAR}` are not touched (they stay for the shell); `$${{` writes a literal `${{`. A value is
written into its string, so in a `cmd` list it stays inside one argument; in a `cmd` string run with
`shell = true` it is shell-quoted. Contexts: `env.NAME`, `git.sha`, `git.short_sha`, `git.branch`,
`git.tag`, `version`, `matrix.KEY`, `run.id`, `pipeline.name`.
"""

from __future__ import annotations

import copy
import os
import shlex
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.config import did_you_mean
from gryt.errors import ConfigError, GrytError, one_line
from gryt.expressions import ExpressionError, Name, Node, evaluate, names, parse, to_text

if TYPE_CHECKING:
    from gryt.masking import Masker
    from gryt.pipeline import Pipeline

OPEN = "${{"
ESCAPED = "$${{"
CLOSE = "}}"

CONTEXTS: dict[str, tuple[str, ...] | None] = {
    "env": None,
    "git": ("sha", "short_sha", "branch", "tag"),
    "version": (),
    "matrix": None,
    "run": ("id",),
    "pipeline": ("name",),
}
"""Context name -> its keys (None: any key, checked against the values; empty: the name is the value)."""

RUN_ID_PLACEHOLDER = "<run.id>"
"""What `run.id` renders as before a run has an id (`gryt plan`, building a pipeline's objects)."""

GIT_TIMEOUT = 10.0
"""Seconds a `git` command reading `git.*` may take."""


@dataclass(frozen=True)
class Expr:
    """One `${{ ... }}` of a template: its source (between the braces), tree and where the source starts
    in the template (0-based), so errors point into the whole string."""

    source: str
    node: Node
    offset: int = 0


def parse_template(text: str) -> list[str | Expr]:
    """`text` as literal parts and expressions; `$${{` is a literal `${{`. ExpressionError when an
    expression is not closed or does not parse."""
    parts: list[str | Expr] = []
    literal: list[str] = []
    position = 0
    while True:
        start = text.find(OPEN, position)
        if start < 0:
            literal.append(text[position:])
            break
        if start > 0 and text[start - 1] == "$" and text.startswith(ESCAPED, start - 1):
            literal.append(text[position : start - 1] + OPEN)
            position = start + len(OPEN)
            continue
        literal.append(text[position:start])
        end = _closing(text, start + len(OPEN))
        if end < 0:
            raise ExpressionError("'${{' without a closing '}}'", text, start + 1)
        inner = text[start + len(OPEN) : end]
        source = inner.strip()
        offset = start + len(OPEN) + len(inner) - len(inner.lstrip())
        try:
            node = parse(source)
        except ExpressionError as exc:
            raise ExpressionError(exc.reason, text, _shift(exc, offset)) from None
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(Expr(source, node, offset))
        position = end + len(CLOSE)
    rest = "".join(literal)
    if rest:
        parts.append(rest)
    return parts


def _closing(text: str, position: int) -> int:
    """Where the `}}` closing an expression starting at `position` is (quotes skipped), or -1."""
    quote = ""
    index = position
    while index < len(text):
        char = text[index]
        if quote:
            if char == "\\":
                index += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif text.startswith(CLOSE, index):
            return index
        index += 1
    return -1


def _shift(exc: ExpressionError, offset: int) -> int | None:
    """The column of an error inside an expression, counted in the whole template."""
    return None if exc.column is None else offset + exc.column


def check_part(part: Expr, text: str, contexts: Contexts) -> None:
    """`contexts.check` for one expression of `text`, its error pointing into `text`."""
    try:
        contexts.check(part.node, part.source)
    except ExpressionError as exc:
        raise ExpressionError(exc.reason, text, _shift(exc, part.offset)) from None


def has_template(value: Any) -> bool:
    """True when a string somewhere in `value` holds `${{` (or its escape)."""
    todo = [value]  # a loop, not recursion: this runs on every step's config at the start of every run
    while todo:
        item = todo.pop()
        if isinstance(item, str):
            if OPEN in item:
                return True
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)
        elif isinstance(item, Mapping):
            todo.extend(item.values())
    return False


@dataclass
class Facts:
    """`git.*` and `version`, read from git in `root` on first use only and then kept for the run."""

    root: Path | None = None
    versioning: Any = None
    _git: dict[str, str | None] | None = None
    _version: str | None = None

    def version(self) -> str:
        """The current version (the highest version tag, without a leading `v`; `0.0.0` without one)."""
        if self._version is None:
            versioning = self.versioning
            if versioning is None:
                from gryt.versioning import SimpleVersioning

                versioning = SimpleVersioning(self.root or ".")
            try:
                current = str(versioning.current_version())
            except Exception as exc:  # noqa: BLE001 - any versioning failure is one config error
                raise ConfigError(f"version: cannot read the current version: {exc}") from None
            self._version = current[1:] if current[:1] in ("v", "V") and current[1:2].isdigit() else current
        return self._version

    def git(self) -> dict[str, str | None]:
        """`sha`, `short_sha`, `branch` (null when detached) and `tag` (a tag at HEAD, else null)."""
        if self._git is None:
            sha = _git(self.root, "rev-parse", "HEAD")
            branch = _git(self.root, "symbolic-ref", "--quiet", "--short", "HEAD")
            tags = (_git(self.root, "tag", "--points-at", "HEAD") or "").split()
            self._git = {
                "sha": sha,
                "short_sha": sha[:7] if sha else None,
                "branch": branch,
                "tag": sorted(tags)[-1] if tags else None,
            }
        return self._git


@dataclass
class Contexts:
    """The values names resolve to, for one item (a step sees its runner's `matrix`)."""

    env: Mapping[str, str]
    matrix: Mapping[str, Any] = field(default_factory=dict)
    run_id: str = ""
    pipeline_name: str = ""
    facts: Facts = field(default_factory=Facts)
    secrets: tuple[str, ...] = ()

    def check(self, node: Node, source: str, *, strict_env: bool = True) -> None:
        """ExpressionError for an unknown context or key (with a did-you-mean), and, with `strict_env`,
        for an `env.NAME` that is not set and has no default (`env.NAME || 'default'`)."""
        for name, guarded in names(node):
            root = name.parts[0]
            if root not in CONTEXTS:
                hint = did_you_mean(".".join(name.parts), self.known())
                raise ExpressionError(f"unknown variable {'.'.join(name.parts)}{hint}", source, name.column)
            self._check_keys(name, source, CONTEXTS[root], guarded, strict_env=strict_env)

    def _check_keys(
        self, name: Name, source: str, keys: tuple[str, ...] | None, guarded: bool, *, strict_env: bool
    ) -> None:
        root, rest = name.parts[0], name.parts[1:]
        full = ".".join(name.parts)
        if keys == ():
            if rest:
                raise ExpressionError(f"{root} has no keys: write {root}", source, name.column)
            return
        if len(rest) != 1:
            raise ExpressionError(f"{full}: expected {root}.NAME", source, name.column)
        key = rest[0]
        if keys is not None:
            if key not in keys:
                hint = did_you_mean(full, [f"{root}.{k}" for k in keys])
                raise ExpressionError(
                    f"unknown variable {full}{hint}; {root} has {', '.join(keys)}", source, name.column
                )
            return
        if root == "matrix" and key not in self.matrix and not guarded:
            known = ", ".join(sorted(self.matrix)) or "none (the runner has no matrix)"
            raise ExpressionError(
                f"unknown variable {full}{did_you_mean(full, [f'matrix.{k}' for k in self.matrix])}; matrix keys: {known}",
                source,
                name.column,
            )
        if root == "env" and strict_env and not guarded and key not in self.env:
            hint = did_you_mean(full, [f"env.{k}" for k in self.env])
            raise ExpressionError(
                f"environment variable {key} is not set{hint}; give a default with {full} || 'value'",
                source,
                name.column,
            )

    def known(self) -> list[str]:
        """Every name that resolves here, for did-you-means."""
        fixed = [f"{root}.{key}" if key else root for root, keys in CONTEXTS.items() for key in keys or ("",)]
        fixed = [n for n in fixed if n not in ("env", "matrix")]
        return fixed + [f"matrix.{k}" for k in self.matrix] + [f"env.{k}" for k in self.env]

    def lookup(self, name: Name) -> Any:
        """The value of a name that `check` accepted (null for an unset `env.NAME` or a missing git fact)."""
        root, rest = name.parts[0], name.parts[1:]
        if root == "env":
            return self.env.get(rest[0])
        if root == "matrix":
            return self.matrix.get(rest[0])
        if root == "run":
            return self.run_id
        if root == "pipeline":
            return self.pipeline_name
        if root == "version":
            return self.facts.version()
        return self.facts.git().get(rest[0])

    def reads_secret(self, node: Node) -> bool:
        """True when `node` reads an environment variable named in `secrets`: its value is a secret."""
        return any(n.parts[0] == "env" and n.parts[1:] and n.parts[1] in self.secrets for n, _ in names(node))


def _git(root: Path | None, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *args],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value else None


def render(
    text: str,
    contexts: Contexts,
    *,
    quote: bool = False,
    masker: Masker | None = None,
) -> str:
    """`text` with every `${{ }}` replaced by its value (shell-quoted with `quote`). A value read from a
    secret variable is added to `masker`."""
    if OPEN not in text:
        return text
    out: list[str] = []
    for part in parse_template(text):
        if isinstance(part, str):
            out.append(part)
            continue
        check_part(part, text, contexts)
        value = to_text(evaluate(part.node, contexts.lookup))
        if masker is not None and contexts.reads_secret(part.node):
            masker.add(value)
        out.append(shlex.quote(value) if quote else value)
    return "".join(out)


def render_config(
    config: Mapping[str, Any], contexts: Contexts, where: str, masker: Masker | None = None
) -> dict[str, Any]:
    """A copy of `config` with every string rendered; `cmd` as a string with `shell` true is quoted.
    ConfigError names the key path: `where.cmd[2]: ...`."""
    quote_cmd = config.get("shell") is True and isinstance(config.get("cmd"), str)
    out: dict[str, Any] = {}
    for key, value in config.items():
        out[key] = _render_value(value, contexts, f"{where}.{key}", masker, quote_cmd and key == "cmd")
    return out


def _render_value(value: Any, contexts: Contexts, where: str, masker: Masker | None, quote: bool) -> Any:
    if isinstance(value, str):
        try:
            return render(value, contexts, quote=quote, masker=masker)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    if isinstance(value, Mapping):
        return {k: _render_value(v, contexts, f"{where}.{k}", masker, False) for k, v in value.items()}
    if isinstance(value, list):
        return [_render_value(v, contexts, f"{where}[{i}]", masker, quote) for i, v in enumerate(value)]
    return value


def check_config(config: Mapping[str, Any], contexts: Contexts, where: str) -> None:
    """Parse every template of `config` and check its names, without reading git: ConfigError with the
    key path for a syntax error, an unknown name or an unset environment variable without a default."""
    for path, text in _paths(config, where):
        if OPEN not in text:
            continue
        try:
            for part in parse_template(text):
                if isinstance(part, Expr):
                    check_part(part, text, contexts)
        except ExpressionError as exc:
            raise ConfigError(f"{path}: {exc}") from None


def _paths(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _paths(item, f"{where}.{key}")
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _paths(item, f"{where}[{index}]")


# -------------------------------------------------------------------------------------- the pipeline


def configurables(pipeline: Pipeline) -> Iterator[tuple[str, Any, Mapping[str, Any]]]:
    """(where, object, matrix values) for every step, destination and auth step whose config may hold
    templates: the objects `${{ }}` applies to."""
    for runner in pipeline.runners:
        matrix = getattr(runner, "matrix_values", None) or {}
        for step in runner.steps:
            yield f"step {runner.id}/{step.id}", step, matrix
    for destination in pipeline.destinations:
        yield f"destination {destination.id}", destination, {}
    for auth in pipeline.auth_steps:
        yield f"auth {auth.id}", auth, {}


def base_env(pipeline: Pipeline) -> dict[str, str]:
    """What `env.NAME` reads: gryt's environment, then the runtime's `env`."""
    runtime_env = getattr(pipeline.runtime, "env", None)
    extra = {str(k): str(v) for k, v in runtime_env.items()} if isinstance(runtime_env, Mapping) else {}
    return {**os.environ, **extra}


def conditioned(pipeline: Pipeline) -> Iterator[tuple[str, Any, Mapping[str, Any]]]:
    """(where, object, matrix values) for every runner and every `configurables` item: what may have an `if`."""
    for runner in pipeline.runners:
        yield f"runner {runner.id}", runner, getattr(runner, "matrix_values", None) or {}
    yield from configurables(pipeline)


def check_pipeline(pipeline: Pipeline) -> None:
    """Check every template and condition of the pipeline (see `check_config`); called when a pipeline
    is loaded."""
    env = base_env(pipeline)
    for where, item, matrix in conditioned(pipeline):
        condition = getattr(item, "condition", None)
        if condition is not None:
            try:
                condition.check(Contexts(env, matrix))
            except ExpressionError as exc:
                raise ConfigError(f"{where}: if: {exc}") from None
        config = _template(item)
        if isinstance(config, Mapping) and has_template(config):
            check_config(config, Contexts(env, matrix), where)


def run_contexts(pipeline: Pipeline, run_id: str) -> Contexts:
    """The contexts of one run (without a matrix): one Facts, so git is read at most once per run. When
    a condition reads `version`, it is read now, so that an unreadable version stops the run before
    anything runs rather than deciding a condition."""
    contexts = Contexts(
        base_env(pipeline),
        {},
        run_id,
        pipeline.name,
        Facts(pipeline.root, pipeline.versioning),
        tuple(pipeline.secrets),
    )
    for where, item, _matrix in conditioned(pipeline):
        condition = getattr(item, "condition", None)
        if condition is not None and any(n.parts[0] == "version" for n, _ in names(condition.node)):
            try:
                contexts.facts.version()
            except ConfigError as exc:
                raise ConfigError(f"{where}: if: {exc}") from None
    return contexts


def apply(pipeline: Pipeline, run: Contexts, masker: Masker | None = None) -> Callable[[], None]:
    """Render every template of the pipeline with the run's contexts (the originals are kept, so each
    run renders afresh); returns a function putting the originals back. A destination or auth step the
    loader built from rendered templates (`templates`) is built again from this run's values and takes
    its place in the pipeline for the run, so what its type checks and derives when built is this run's."""
    touched: list[tuple[Any, dict[str, Any]]] = []
    swapped: list[tuple[list[Any], int, Any]] = []

    def restore() -> None:
        for item, original in touched:
            item.config = original
        for items, index, item in reversed(swapped):
            items[index] = item

    lists: list[list[Any]] = [pipeline.destinations, pipeline.auth_steps]
    try:
        for where, item, matrix in configurables(pipeline):
            config = _template(item)
            if not isinstance(config, Mapping) or not has_template(config):
                continue
            original = copy.deepcopy(dict(config))
            rendered = render_config(original, replace(run, matrix=matrix), where, masker)
            if getattr(item, "templates", None) is None:
                touched.append((item, original))
                item.config = rendered
                continue
            items, index = next(
                (group, i) for group in lists for i, other in enumerate(group) if other is item
            )
            items[index] = rebuild(item, rendered, where)
            swapped.append((items, index, item))
    except ConfigError:
        restore()
        raise
    return restore


def rebuild(item: Any, config: dict[str, Any], where: str) -> Any:
    """`item`'s type built again from `config` (its id, `if` and templates kept); its own check of a
    value is a ConfigError naming `where`."""
    try:
        fresh = type(item)(item.id, config, **getattr(item, "build_extra", {}))
    except (GrytError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {one_line(exc, with_type=False)}") from None
    fresh.condition = getattr(item, "condition", None)
    fresh.templates, fresh.build_extra = item.templates, getattr(item, "build_extra", {})
    return fresh


def _template(item: Any) -> Any:
    """The config an item's templates are read from: what the loader kept (`templates`), else its config."""
    templates = getattr(item, "templates", None)
    return templates if templates is not None else getattr(item, "config", None)

"""The plugin manager: discovers `gryt` entry points once per process and keeps the type registry.

Every plugin, gryt-core's own `builtins` included, is a module (or object) of hook implementations named
by an entry point of the `gryt` group. Loading one plugin can fail in many ways (import error, raising
register hook, bad class, unknown hook, incompatible gryt-core); each failure marks only that plugin
`error`/`incompatible` with a one-line reason, prints one warning line, and leaves the rest working.
`GRYT_STRICT_PLUGINS=1` turns such failures into a `StrictPluginError` carrying the original traceback.
"""

from __future__ import annotations

import inspect
import operator
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pluggy

from gryt import hookspecs
from gryt.config import did_you_mean
from gryt.discovery import (
    BUILTINS,
    CORE_DISTRIBUTION,
    ENTRY_POINT_GROUP,
    ENV_ALLOW,
    ENV_DISABLE,
    ENV_DISABLE_AUTOLOAD,
    ENV_STRICT,
    env_flag,
    env_names,
    scan,
)
from gryt.errors import PluginError, one_line

if TYPE_CHECKING:
    from gryt.discovery import Distribution, EntryPoint


hookimpl = pluggy.HookimplMarker("gryt")

KINDS: dict[str, str] = {
    "auth": "gryt_register_auth",
    "validators": "gryt_register_validators",
    "runtimes": "gryt_register_runtimes",
    "destinations": "gryt_register_destinations",
    "steps": "gryt_register_steps",
    "hooks": "gryt_register_hooks",
}
"""Kind of type -> the registration hook that provides it."""

KIND_LABELS: dict[str, str] = {
    "auth": "auth",
    "validators": "validator",
    "runtimes": "runtime",
    "destinations": "destination",
    "steps": "step",
    "hooks": "hook",
}
"""Kind -> the singular word used in messages (`unknown validator type "x"`)."""

BASE_CLASSES: dict[str, tuple[str, str]] = {
    "auth": ("gryt.auth", "Auth"),
    "validators": ("gryt.validators", "Validator"),
    "runtimes": ("gryt.runtime", "Runtime"),
    "destinations": ("gryt.destination", "Destination"),
    "steps": ("gryt.step", "Step"),
    "hooks": ("gryt.hook", "Hook"),
}
"""Kind -> (module, class) every registered class of that kind must subclass."""

STATUSES: tuple[str, ...] = ("ok", "disabled", "error", "incompatible")

FIRST_PARTY_TYPES: dict[tuple[str, str], str] = {
    ("auth", "fly"): "gryt-auth-fly",
    ("auth", "docker-registry"): "gryt-auth-docker",
    ("validators", "env-vars"): "gryt-validators",
    ("validators", "tools"): "gryt-validators",
    ("validators", "files"): "gryt-validators",
    ("validators", "python"): "gryt-validators",
    ("validators", "git"): "gryt-validators",
}
"""Types of the first-party plugin distributions, for "pip install ..." hints when one is missing."""

FIRST_PARTY_CLASSES: dict[str, str] = {
    "FlyAuth": "gryt-auth-fly",
    "DockerRegistryAuth": "gryt-auth-docker",
    "EnvVarValidator": "gryt-validators",
    "ToolValidator": "gryt-validators",
    "FileValidator": "gryt-validators",
    "PythonValidator": "gryt-validators",
    "GitValidator": "gryt-validators",
}
"""Class names importable from `gryt.auth` / `gryt.validators` once their distribution is installed."""

TYPE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


class StrictPluginError(RuntimeError):
    """A plugin failed to load while `GRYT_STRICT_PLUGINS=1`; chained to the original exception.

    Deliberately not a GrytError, so the CLI shows the full traceback instead of one line.
    """


@dataclass
class PluginInfo:
    """What gryt knows about one plugin (one entry point of the `gryt` group)."""

    name: str
    distribution: str
    version: str
    status: str = "ok"
    error: str | None = None
    location: str | None = None
    entry_point: str | None = None
    provides: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})
    implements: list[str] = field(default_factory=list)
    attempted: list[tuple[str, type]] = field(default_factory=list, repr=False)
    """Every (kind, class) the plugin passed to `register`, kept when it failed afterwards (for hints)."""

    def to_dict(self) -> dict[str, Any]:
        """The DESIGN §3 JSON shape of `gryt plugins list --json`."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "provides": {k: list(v) for k, v in self.provides.items()},
            "implements": list(self.implements),
            "error": self.error,
        }

    def describe(self) -> str:
        """`plugin "fly" of gryt-auth-fly 0.1.0`, for messages."""
        return f'plugin "{self.name}" of {self.distribution} {self.version}'

    def status_phrase(self) -> str:
        """Why this plugin provides nothing: `is disabled (...)`, `failed to load: ...`, ..."""
        if self.status == "disabled":
            return f"is {self.error}" if self.error else "is disabled"
        if self.status == "incompatible":
            return f"is incompatible: {self.error}"
        if self.status == "error":
            return f"failed to load: {self.error}"
        return "is loaded"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check_type(kind: str, cls: Any) -> str:
    """Check that `cls` may be registered as a `kind` type and return its type name.

    Raises PluginError (one line) when it is not a class, not a subclass of the kind's base class, or
    has no valid `name` (lower-case letters, digits and dashes).
    """
    if kind not in KINDS:
        raise PluginError(
            f'unknown kind "{kind}"{did_you_mean(kind, list(KINDS))}; kinds: {", ".join(KINDS)}'
        )
    if not isinstance(cls, type):
        raise PluginError(f"register() takes a class, got {type(cls).__name__} {cls!r}")
    module_name, base_name = BASE_CLASSES[kind]
    import importlib

    base = getattr(importlib.import_module(module_name), base_name)
    if not issubclass(cls, base):
        raise PluginError(
            f"{cls.__qualname__} is not a subclass of {module_name}.{base_name} (required for {KIND_LABELS[kind]} types)"
        )
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not name:
        raise PluginError(f"{cls.__qualname__} has no type name: set the class attribute `name`")
    if not TYPE_NAME.fullmatch(name):
        raise PluginError(
            f'{cls.__qualname__} has an invalid type name "{name}": use lower-case letters, digits and dashes'
        )
    return name


def _spec_argnames() -> dict[str, tuple[str, ...]]:
    specs: dict[str, tuple[str, ...]] = {}
    for attr in dir(hookspecs):
        func = getattr(hookspecs, attr)
        if attr.startswith("gryt_") and inspect.isfunction(func):
            specs[attr] = tuple(inspect.signature(func).parameters)
    return specs


HOOK_ARGS: dict[str, tuple[str, ...]] = _spec_argnames()
"""Every hook of the contract -> its argument names."""


def _required_args(func: Callable[..., Any]) -> list[str]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return []
    kinds = (
        inspect.Parameter.POSITIONAL_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
        inspect.Parameter.KEYWORD_ONLY,
    )
    return [p.name for p in params if p.kind in kinds and p.default is inspect.Parameter.empty]


def check_hookimpls(plugin: Any) -> list[str]:
    """Problems with a plugin's hook implementations, one line each (empty when all is well).

    Reports `@hookimpl` functions whose hook does not exist (with a did-you-mean), functions named like
    a hook but not decorated, and implementations that ask for arguments the hook does not provide.
    The `gryt_` prefix is reserved for hooks.
    """
    problems: list[str] = []
    marker = "gryt_impl"
    for attr, raw in _static_members(plugin):
        func = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else raw
        opts = getattr(func, marker, None) if callable(func) else None
        if opts is None:
            if attr.startswith("gryt_") and inspect.isfunction(func):
                if attr in HOOK_ARGS:
                    problems.append(f"{attr} is not decorated with @gryt.hookimpl")
                else:
                    problems.append(f"{attr} is not a gryt hook{_hook_hint(attr)}")
            continue
        hook_name = opts.get("specname") or attr
        if hook_name not in HOOK_ARGS:
            problems.append(f"unknown hook {hook_name}{_hook_hint(hook_name)}")
            continue
        bound = getattr(plugin, attr)
        wanted = _required_args(bound)
        unknown = [a for a in wanted if a not in HOOK_ARGS[hook_name]]
        if unknown:
            problems.append(
                f"{hook_name}({', '.join(wanted)}) asks for unknown argument(s) {', '.join(unknown)}; "
                f"the hook provides ({', '.join(HOOK_ARGS[hook_name])})"
            )
    return problems


_MODULE_CLASS_ATTRS = frozenset(name for klass in ModuleType.__mro__ for name in vars(klass))


def _static_members(plugin: Any) -> Iterator[tuple[str, Any]]:
    """(name, value) of each attribute in `dir(plugin)` as `inspect.getattr_static` returns it, by name.

    A plain module's namespace is read directly, which is much faster; a name that the module class
    itself defines still goes through getattr_static (a descriptor of the class may win).
    """
    if type(plugin) is ModuleType and "__dir__" not in vars(plugin):
        namespace = vars(plugin)
        for attr in sorted(namespace):
            if attr in _MODULE_CLASS_ATTRS:
                yield attr, inspect.getattr_static(plugin, attr)
            else:
                yield attr, namespace[attr]
        return
    for attr in sorted(dir(plugin)):
        try:
            yield attr, inspect.getattr_static(plugin, attr)
        except AttributeError:
            continue


def _hook_hint(name: str) -> str:
    hint = did_you_mean(name, list(HOOK_ARGS))
    return hint.replace('"', "") if hint else ""


class Registry:
    """Types by kind and name, remembering which plugin registered each."""

    def __init__(self, plugins: Mapping[str, PluginInfo] | None = None) -> None:
        self._types: dict[str, dict[str, tuple[type, PluginInfo]]] = {k: {} for k in KINDS}
        self._plugins: Mapping[str, PluginInfo] = plugins if plugins is not None else {}

    def conflict(self, kind: str, cls: type, plugin: PluginInfo) -> str | None:
        """Why `cls` cannot be added for `plugin` (a name taken by another plugin), or None."""
        name = check_type(kind, cls)
        existing = self._types[kind].get(name)
        if existing is None or (existing[1] is plugin and existing[0] is cls):
            return None
        other = existing[1]
        if other is plugin:
            return (
                f'{KIND_LABELS[kind]} type "{name}" is registered twice by {plugin.distribution} '
                f"({existing[0].__qualname__} and {cls.__qualname__})"
            )
        return (
            f'{KIND_LABELS[kind]} type "{name}" is registered by both {other.distribution} '
            f'(plugin "{other.name}") and {plugin.distribution} (plugin "{plugin.name}")'
        )

    def add(self, kind: str, cls: type, plugin: PluginInfo) -> None:
        """Register `cls` as a `kind` type provided by `plugin`; PluginError on a bad class or a clash."""
        problem = self.conflict(kind, cls, plugin)
        if problem is not None:
            raise PluginError(problem)
        name: str = cls.name  # type: ignore[attr-defined]
        if name not in self._types[kind]:
            self._types[kind][name] = (cls, plugin)
            plugin.provides[kind].append(name)

    def get(self, kind: str, name: str) -> type:
        """The class registered as `kind` type `name`; PluginError (one line, with a hint) otherwise."""
        if kind not in KINDS:
            raise PluginError(
                f'unknown kind "{kind}"{did_you_mean(kind, list(KINDS))}; kinds: {", ".join(KINDS)}'
            )
        entry = self._types[kind].get(name)
        if entry is None:
            raise PluginError(self.missing(kind, name))
        return entry[0]

    def missing(self, kind: str, name: str) -> str:
        """The one-line explanation of why `kind` type `name` is not available."""
        label = f'{KIND_LABELS[kind]} type "{name}"'
        plugins = list(self._plugins.values())
        for info in plugins:
            if info.status != "ok" and any(
                k == kind and getattr(c, "name", None) == name for k, c in info.attempted
            ):
                return f"{label} is provided by {info.describe()}, which {info.status_phrase()}"
        dist = FIRST_PARTY_TYPES.get((kind, name))
        if dist is not None:
            owners = [i for i in plugins if _canonical(i.distribution) == dist]
            broken = [i for i in owners if i.status != "ok"]
            if broken:
                return f"{label} is provided by {broken[0].describe()}, which {broken[0].status_phrase()}"
            if not owners:
                return f"{label} is provided by {dist}, which is not installed: pip install {dist}"
        for info in plugins:
            if info.status != "ok" and info.name == name:
                return f"{label} is probably provided by {info.describe()}, which {info.status_phrase()}"
        names = self.names(kind)
        message = f"unknown {label}{did_you_mean(name, names)}; known: {', '.join(names) or 'none'}"
        failed = [i for i in plugins if i.status != "ok"]
        if failed:
            listed = ", ".join(f"{i.name} ({i.distribution}, {i.status})" for i in failed)
            message += f"; plugins not loaded: {listed}; see `gryt plugins list`"
        return message

    def names(self, kind: str) -> list[str]:
        """Type names of one kind, sorted."""
        return sorted(self._types[kind])

    def items(self, kind: str) -> list[tuple[str, type, PluginInfo]]:
        """(name, class, plugin) of every type of one kind, sorted by name."""
        return [(name, cls, info) for name, (cls, info) in sorted(self._types[kind].items())]

    def provider(self, kind: str, name: str) -> PluginInfo | None:
        """The plugin that registered `kind` type `name`, or None."""
        entry = self._types[kind].get(name)
        return entry[1] if entry else None

    def find_class(self, class_name: str) -> type | None:
        """A registered class by its Python class name (for `from gryt.auth import FlyAuth`)."""
        for types in self._types.values():
            for cls, _plugin in types.values():
                if cls.__name__ == class_name:
                    return cls
        return None


def _core_version() -> str:
    import gryt

    return gryt.__version__


_REQUIREMENT_NAME = re.compile(r"\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")
_SIMPLE_SPECIFIER = re.compile(r"\s*(>=|<=|==|!=|<|>)\s*(\d+(?:\.\d+)*)\s*")
_RELEASE = re.compile(r"\d+(?:\.\d+)*")
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
}


def _release(text: str, length: int) -> tuple[int, ...]:
    parts = [int(p) for p in text.split(".")]
    return tuple(parts + [0] * (length - len(parts)))


def _plainly_satisfied(specifiers: str, running: str) -> bool:
    """True when `specifiers` (e.g. `>=0.1,<0.2`) are plain release comparisons that `running` (a plain
    release such as `0.1.0`) satisfies; False means "ask `packaging`", so it decides anything else."""
    if not _RELEASE.fullmatch(running):
        return False
    parts = specifiers.split(",") if specifiers.strip() else []
    checks = [_SIMPLE_SPECIFIER.fullmatch(part) for part in parts]
    if not all(checks):
        return False
    for check in checks:
        assert check is not None
        op, version = check.groups()
        length = max(running.count("."), version.count(".")) + 1
        if not _COMPARE[op](_release(running, length), _release(version, length)):
            return False
    return True


def incompatibility(dist: Distribution) -> str | None:
    """Why `dist` cannot run with this gryt-core (its `Requires-Dist` on gryt-core excludes it), or None.

    Requirements on other distributions are skipped by name and the usual `gryt-core>=X[,<Y]` is checked
    directly; `packaging` decides everything else (markers, extras, pre-releases, wildcards) and words
    the reason.
    """
    running_text = _core_version()
    pending = []
    for text in dist.requires or []:
        match = _REQUIREMENT_NAME.match(text)
        if match is not None:
            if _canonical(match.group(1)) != CORE_DISTRIBUTION:
                continue
            if _plainly_satisfied(text[match.end() :], running_text):
                continue
        pending.append(text)
    if not pending:
        return None
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    try:
        running = Version(running_text)
    except InvalidVersion:
        return None
    for text in pending:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if _canonical(req.name) != CORE_DISTRIBUTION:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        if not req.specifier.contains(running, prereleases=True):
            return f"requires gryt-core{req.specifier} (running {running})"
    return None


def _location(obj: Any, dist: Distribution | None) -> str | None:
    path = getattr(obj, "__file__", None)
    if isinstance(path, str):
        return str(Path(path).parent) if Path(path).name == "__init__.py" else path
    try:
        return inspect.getfile(obj if inspect.ismodule(obj) or isinstance(obj, type) else type(obj))
    except TypeError:
        pass
    return str(dist.locate_file("")) if dist is not None else None


_warn_lock = threading.Lock()
_warned: set[str] = set()


def _emit_warning(message: str) -> None:
    """Print `gryt: warning: message` on stderr, at most once per process for the same message."""
    with _warn_lock:
        if message in _warned:
            return
        _warned.add(message)
    sys.stderr.write(f"gryt: warning: {message}\n")
    sys.stderr.flush()


class PluginManager:
    """pluggy's manager plus gryt's bookkeeping: plugin infos and the type registry.

    `load()` registers gryt-core's built-ins first, then (with `autoload`) every `gryt` entry point,
    honouring GRYT_DISABLE_PLUGIN_AUTOLOAD / GRYT_PLUGINS / GRYT_DISABLE_PLUGINS and `disable`.
    `PluginManager(autoload=False)` holds the built-ins plus whatever `register_plugin()` adds: an
    isolated manager for tests and `gryt.testing`.
    """

    def __init__(
        self,
        *,
        autoload: bool = True,
        disable: Iterable[str] = (),
        strict: bool | None = None,
        path: Sequence[str] | None = None,
        env: Mapping[str, str] | None = None,
        warn: bool = True,
    ) -> None:
        self.pm = pluggy.PluginManager("gryt")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.registry = Registry(self.plugins)
        self.autoload = autoload
        self.disable = list(disable)
        self.env: Mapping[str, str] = env if env is not None else os.environ
        self.strict = env_flag(self.env, ENV_STRICT) if strict is None else strict
        self.path = list(path) if path is not None else None
        self.warn = warn
        self.warnings: list[str] = []
        self.loaded = False

    @property
    def hook(self) -> Any:
        """pluggy's hook relay; the engine calls lifecycle hooks through `gryt.hook.EventDispatcher`."""
        return self.pm.hook

    def load(self) -> PluginManager:
        """Register built-ins and discover plugins; runs once (later calls return immediately)."""
        if self.loaded:
            return self
        self.loaded = True
        eps = scan([ENTRY_POINT_GROUP], self.path)[ENTRY_POINT_GROUP] if self.autoload else []
        core = [ep for ep in eps if ep.name == BUILTINS and _dist_name(ep) == CORE_DISTRIBUTION]
        if core:
            self._load_entry_point(core[0], builtin=True)
        else:
            self._load_builtins_module()
        others = [ep for ep in eps if ep not in core]
        if self.autoload:
            self._check_switch_names({ep.name for ep in eps})
        for ep in others:
            self._load_entry_point(ep)
        return self

    load_entry_points = load

    def _load_builtins_module(self) -> None:
        import importlib

        module = importlib.import_module("gryt.builtins")
        info = PluginInfo(
            name=BUILTINS,
            distribution=CORE_DISTRIBUTION,
            version=_core_version(),
            entry_point="gryt.builtins",
        )
        info.location = _location(module, None)
        self.register_plugin(module, info)

    def _disabled_reason(self, name: str) -> str | None:
        if name in env_names(self.env, ENV_DISABLE):
            return f"disabled by {ENV_DISABLE}"
        if name in self.disable:
            return "disabled by disable_plugins in the project config"
        if env_flag(self.env, ENV_DISABLE_AUTOLOAD) and name not in env_names(self.env, ENV_ALLOW):
            return f"disabled by {ENV_DISABLE_AUTOLOAD}=1 (not listed in {ENV_ALLOW})"
        return None

    def _check_switch_names(self, known: set[str]) -> None:
        lists = [(ENV_DISABLE, env_names(self.env, ENV_DISABLE)), ("disable_plugins", self.disable)]
        if env_flag(self.env, ENV_DISABLE_AUTOLOAD):
            lists.append((ENV_ALLOW, env_names(self.env, ENV_ALLOW)))
        for source, names in lists:
            for name in names:
                if name not in known:
                    self._warn(f'{source} names unknown plugin "{name}"{did_you_mean(name, known)}')

    def _load_entry_point(self, ep: EntryPoint, *, builtin: bool = False) -> None:
        dist = ep.dist
        info = PluginInfo(
            name=ep.name,
            distribution=dist.name,
            version=dist.version,
            entry_point=ep.value,
        )
        if not builtin and ep.name in self.plugins:
            other = self.plugins[ep.name]
            self.plugins[f"{ep.name} ({info.distribution})"] = info
            self._fail(
                info, "error", f'plugin name "{ep.name}" is already used by {other.distribution}', None
            )
            return
        self.plugins[ep.name] = info
        if not builtin and ep.name == BUILTINS:
            self._fail(info, "error", f'plugin name "{BUILTINS}" is reserved for gryt-core', None)
            return
        reason = None if builtin else self._disabled_reason(ep.name)
        if reason is not None:
            info.status = "disabled"
            info.error = reason
            info.location = str(dist.locate_file(""))
            return
        problem = None if builtin else incompatibility(dist)
        if problem is not None:
            info.location = str(dist.locate_file(""))
            self._fail(info, "incompatible", problem, None)
            return
        try:
            obj = ep.load()
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - any import failure only disables this plugin
            info.location = str(dist.locate_file(""))
            self._fail(info, "error", f"import failed: {one_line(exc)}", exc)
            return
        info.location = _location(obj, dist)
        self.register_plugin(obj, info)

    def register_plugin(self, module: Any, info: PluginInfo | str | None = None) -> PluginInfo:
        """Register `module`'s hook implementations and the types its registration hooks register.

        Never raises for a broken plugin (unless strict): the returned info says `ok` or `error` with the
        reason, and a failed plugin keeps no type and no hook implementation.
        """
        if not self.loaded:
            self.load()
        if info is None or isinstance(info, str):
            name = info or str(getattr(module, "__name__", type(module).__name__))
            info = PluginInfo(name=name, distribution="unknown", version="unknown")
            info.location = _location(module, None)
        existing = self.plugins.get(info.name)
        if existing is not None and existing is not info:
            key = f"{info.name} ({info.distribution})"
            self.plugins[key] = info
            self._fail(
                info, "error", f'plugin name "{info.name}" is already used by {existing.distribution}', None
            )
            return info
        self.plugins[info.name] = info
        problems = check_hookimpls(module)
        if problems:
            self._fail(info, "error", "; ".join(problems), None)
            return info
        try:
            self.pm.register(module, name=info.name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self._fail(info, "error", one_line(exc), exc)
            return info
        info.implements = sorted(
            {hc.name for hc in self.pm.get_hookcallers(module) or [] if hc.name in HOOK_ARGS}
        )
        staged: list[tuple[str, type]] = []
        for kind, hook_name in KINDS.items():
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not module:
                    continue
                try:
                    impl.function(**self._register_kwargs(impl.argnames, kind, info, staged))
                except PluginError as exc:
                    self._unregister(module)
                    self._fail(info, "error", f"{hook_name}: {exc}", exc)
                    return info
                except Exception as exc:  # noqa: BLE001 - a raising hook only disables this plugin
                    self._unregister(module)
                    self._fail(info, "error", f"{hook_name} raised {one_line(exc)}", exc)
                    return info
        for kind, cls in staged:
            problem = self.registry.conflict(kind, cls, info)
            if problem is not None:
                self._unregister(module)
                self._fail(info, "error", problem, None)
                return info
        for kind, cls in staged:
            self.registry.add(kind, cls, info)
        info.status = "ok"
        info.error = None
        return info

    def _register_kwargs(
        self, argnames: Sequence[str], kind: str, info: PluginInfo, staged: list[tuple[str, type]]
    ) -> dict[str, Any]:
        def register(cls: type) -> type:
            check_type(kind, cls)
            info.attempted.append((kind, cls))
            staged.append((kind, cls))
            return cls

        return {"register": register} if "register" in argnames else {}

    def _unregister(self, module: Any) -> None:
        if self.pm.is_registered(module):
            self.pm.unregister(module)

    def _fail(self, info: PluginInfo, status: str, reason: str, exc: BaseException | None) -> None:
        info.status = status
        info.error = reason
        message = f"{info.describe()} {info.status_phrase()}"
        if self.strict:
            raise StrictPluginError(f"{message} ({ENV_STRICT}=1)") from exc
        self._warn(f"{message}; see `gryt plugins list`")

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        if self.warn:
            _emit_warning(message)


def _dist_name(ep: EntryPoint) -> str:
    return _canonical(ep.dist.name)


_lock = threading.RLock()
_manager: PluginManager | None = None
_manager_is_default = False
_configured_disable: tuple[str, ...] = ()


def configure(*, disable_plugins: Iterable[str] = ()) -> None:
    """Apply the project config's `disable_plugins` (entry-point names) to the process-wide manager.

    Call it before the first `get_manager()`; called later with a different list, the default manager
    is dropped and rebuilt on next use. A manager installed with `reset_manager(m)` is left alone.
    """
    global _configured_disable, _manager, _manager_is_default
    names = tuple(disable_plugins)
    with _lock:
        if names == _configured_disable:
            return
        _configured_disable = names
        if _manager is not None and _manager_is_default:
            _manager = None
            _manager_is_default = False


def configured_disable() -> tuple[str, ...]:
    """The `disable_plugins` list last passed to `configure()`."""
    return _configured_disable


def get_manager(*, warn: bool = True) -> PluginManager:
    """The process-wide plugin manager, loaded on first use (thread-safe; re-entrant for plugins).

    `warn=False` suppresses the warning lines of this first load (`gryt plugins list` shows them).
    """
    global _manager, _manager_is_default
    with _lock:
        if _manager is None:
            manager = PluginManager(disable=_configured_disable, warn=warn)
            _manager = manager
            _manager_is_default = True
            try:
                manager.load()
            except BaseException:
                _manager = None
                _manager_is_default = False
                raise
        return _manager


def reset_manager(manager: PluginManager | None = None) -> None:
    """Drop the process-wide manager (rebuilt on next use) or install `manager` in its place."""
    global _manager, _manager_is_default
    with _lock:
        if manager is not None and not manager.loaded:
            manager.load()
        _manager = manager
        _manager_is_default = False


@contextmanager
def use_manager(manager: PluginManager) -> Iterator[PluginManager]:
    """Install `manager` as the process-wide manager for a `with` block, then restore exactly what was
    there before (for tests and `gryt.testing`)."""
    global _manager, _manager_is_default
    with _lock:
        saved = (_manager, _manager_is_default)
    reset_manager(manager)
    try:
        yield manager
    finally:
        with _lock:
            _manager, _manager_is_default = saved


def import_type(class_name: str, module: str) -> type:
    """Resolve `from gryt.auth import FlyAuth`-style imports through the registry.

    A first-party class whose distribution is missing, disabled or broken raises ImportError saying
    which distribution to install or what is wrong; any other unknown name raises AttributeError.
    """
    if class_name.startswith("_"):
        raise AttributeError(f"module {module!r} has no attribute {class_name!r}")
    manager = get_manager()
    cls = manager.registry.find_class(class_name)
    if cls is not None:
        return cls
    for info in manager.plugins.values():
        for _kind, attempted in info.attempted:
            if attempted.__name__ == class_name and info.status != "ok":
                raise ImportError(
                    f"cannot import name {class_name!r} from {module!r}: {info.describe()} {info.status_phrase()}",
                    name=module,
                )
    dist = FIRST_PARTY_CLASSES.get(class_name)
    if dist is None:
        raise AttributeError(f"module {module!r} has no attribute {class_name!r}")
    owners = [i for i in manager.plugins.values() if _canonical(i.distribution) == dist]
    broken = [i for i in owners if i.status != "ok"]
    if broken:
        reason = f"it is provided by {broken[0].describe()}, which {broken[0].status_phrase()}"
    elif owners:
        reason = f"{dist} is installed but registers no class {class_name!r}"
    else:
        reason = f"it is provided by {dist}, which is not installed: pip install {dist}"
    raise ImportError(f"cannot import name {class_name!r} from {module!r}: {reason}", name=module)

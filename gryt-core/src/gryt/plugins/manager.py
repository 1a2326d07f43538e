"""The plugin manager: loads every `gryt` entry point once per process and fills the type registry.

Every plugin, gryt-core's own `builtins` included, is a module (or object) of hook implementations named
by an entry point of the `gryt` group. Loading one plugin can fail in many ways (import error, raising
register hook, bad class, unknown hook, incompatible gryt-core); each failure marks only that plugin
`error`/`incompatible` with a one-line reason, prints one warning line, and leaves the rest working.
`GRYT_STRICT_PLUGINS=1` turns such failures into a `StrictPluginError` carrying the original traceback.
"""

from __future__ import annotations

import inspect
import os
import sys
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

from gryt import hookspecs
from gryt.config import did_you_mean
from gryt.errors import PluginError, one_line
from gryt.interrupts import raised_by_code
from gryt.plugins import switches
from gryt.plugins.checks import HOOK_ARGS, check_hookimpls, check_type, core_version, incompatibility
from gryt.plugins.discovery import (
    BUILTINS,
    CORE_DISTRIBUTION,
    ENTRY_POINT_GROUP,
    canonical_name,
    scan,
)
from gryt.plugins.kinds import KINDS
from gryt.plugins.registry import FIRST_PARTY, PluginInfo, Registry
from gryt.plugins.switches import (
    ENV_ALLOW,
    ENV_DISABLE,
    ENV_DISABLE_AUTOLOAD,
    ENV_STRICT,
    env_flag,
    env_names,
)

if TYPE_CHECKING:
    from gryt.plugins.discovery import Distribution, EntryPoint


class StrictPluginError(RuntimeError):
    """A plugin failed to load while `GRYT_STRICT_PLUGINS=1`; chained to the original exception.

    Deliberately not a GrytError, so the CLI shows the full traceback instead of one line.
    """


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

    def _load_builtins_module(self) -> None:
        import importlib

        module = importlib.import_module("gryt.builtins")
        info = PluginInfo(
            name=BUILTINS,
            distribution=CORE_DISTRIBUTION,
            version=core_version(),
            entry_point="gryt.builtins",
        )
        info.location = _location(module, None)
        self.register_plugin(module, info)

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
        reason = None if builtin else switches.disabled_reason([ep.name], self.env, self.disable)
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
        except BaseException as exc:  # SystemExit too: any import failure only disables this plugin
            if not raised_by_code(exc):
                raise  # a real Ctrl-C
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
        for kind, spec in KINDS.items():
            hook_name = spec.hook
            for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
                if impl.plugin is not module:
                    continue
                try:
                    impl.function(**self._register_kwargs(impl.argnames, kind, info, staged))
                except PluginError as exc:
                    self._unregister(module)
                    self._fail(info, "error", f"{hook_name}: {exc}", exc)
                    return info
                except BaseException as exc:  # SystemExit too: a raising hook only disables this plugin
                    if not raised_by_code(exc):
                        raise  # a real Ctrl-C
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
    return canonical_name(ep.dist.name)


_lock = threading.RLock()
_manager: PluginManager | None = None
_manager_is_default = False


def configure(*, disable_plugins: Iterable[str] = ()) -> None:
    """Apply the project config's `disable_plugins` (entry-point names) to the process-wide manager.

    Call it before the first `get_manager()`; called later with a different list, the default manager
    is dropped and rebuilt on next use. A manager installed with `reset_manager(m)` is left alone.
    """
    global _manager, _manager_is_default
    with _lock:
        if not switches.set_configured_disable(disable_plugins):
            return
        if _manager is not None and _manager_is_default:
            _manager = None
            _manager_is_default = False


def get_manager(*, warn: bool = True) -> PluginManager:
    """The process-wide plugin manager, loaded on first use (thread-safe; re-entrant for plugins).

    `warn=False` suppresses the warning lines of this first load (`gryt plugins list` shows them).
    """
    global _manager, _manager_is_default
    with _lock:
        if _manager is None:
            manager = PluginManager(disable=switches.configured_disable(), warn=warn)
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
    dist = next((t.distribution for t in FIRST_PARTY if t.class_name == class_name), None)
    if dist is None:
        raise AttributeError(f"module {module!r} has no attribute {class_name!r}")
    owners = [i for i in manager.plugins.values() if canonical_name(i.distribution) == dist]
    broken = [i for i in owners if i.status != "ok"]
    if broken:
        reason = f"it is provided by {broken[0].describe()}, which {broken[0].status_phrase()}"
    elif owners:
        reason = f"{dist} is installed but registers no class {class_name!r}"
    else:
        reason = f"it is provided by {dist}, which is not installed: pip install {dist}"
    raise ImportError(f"cannot import name {class_name!r} from {module!r}: {reason}", name=module)

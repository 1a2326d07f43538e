"""The plugin manager: discovers `gryt` entry points once per process and keeps the type registry."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import pluggy

from gryt import hookspecs
from gryt.errors import PluginError

hookimpl = pluggy.HookimplMarker("gryt")

ENTRY_POINT_GROUP = "gryt"
BUILTINS = "builtins"

KINDS: dict[str, str] = {
    "auth": "gryt_register_auth",
    "validators": "gryt_register_validators",
    "runtimes": "gryt_register_runtimes",
    "destinations": "gryt_register_destinations",
    "steps": "gryt_register_steps",
    "hooks": "gryt_register_hooks",
}
"""Kind of type -> the registration hook that provides it."""


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "provides": {k: list(v) for k, v in self.provides.items()},
            "implements": list(self.implements),
            "error": self.error,
        }


class Registry:
    """Types by kind and name, remembering which plugin registered each."""

    def __init__(self) -> None:
        self._types: dict[str, dict[str, tuple[type, PluginInfo]]] = {k: {} for k in KINDS}

    def add(self, kind: str, cls: type, plugin: PluginInfo) -> None:
        name = getattr(cls, "name", "")
        if not isinstance(name, str) or not name:
            raise PluginError(f"{cls.__qualname__} has no type name: set the class attribute `name`")
        existing = self._types[kind].get(name)
        if existing is not None and existing[0] is not cls:
            raise PluginError(
                f'{kind} type "{name}" is registered by both {existing[1].distribution} '
                f"({existing[1].name}) and {plugin.distribution} ({plugin.name})"
            )
        self._types[kind][name] = (cls, plugin)
        plugin.provides[kind].append(name)

    def get(self, kind: str, name: str) -> type:
        try:
            return self._types[kind][name][0]
        except KeyError:
            known = ", ".join(sorted(self._types[kind])) or "none"
            raise PluginError(f'unknown {kind} type "{name}"; known: {known}') from None

    def names(self, kind: str) -> list[str]:
        return sorted(self._types[kind])

    def provider(self, kind: str, name: str) -> PluginInfo | None:
        entry = self._types[kind].get(name)
        return entry[1] if entry else None

    def find_class(self, class_name: str) -> type | None:
        for types in self._types.values():
            for cls, _plugin in types.values():
                if cls.__name__ == class_name:
                    return cls
        return None


class PluginManager:
    """pluggy's manager plus gryt's bookkeeping: plugin infos and the type registry."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("gryt")
        self.pm.add_hookspecs(hookspecs)
        self.plugins: dict[str, PluginInfo] = {}
        self.registry = Registry()

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def load_entry_points(self) -> None:
        from importlib_metadata import entry_points

        eps = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (ep.name != BUILTINS, ep.name))
        for ep in eps:
            dist = ep.dist
            info = PluginInfo(
                name=ep.name,
                distribution=dist.name if dist else "?",
                version=dist.version if dist else "?",
                entry_point=ep.value,
            )
            self.plugins[ep.name] = info
            try:
                self.register_plugin(ep.load(), info)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break gryt
                info.status = "error"
                info.error = f"{type(exc).__name__}: {exc}"

    def register_plugin(self, module: Any, info: PluginInfo) -> None:
        """Register `module`'s hook implementations and collect the types it registers."""
        self.plugins.setdefault(info.name, info)
        self.pm.register(module, name=info.name)
        info.implements = sorted(
            hc.name for hc in self.pm.get_hookcallers(module) or [] if hc.name.startswith("gryt_")
        )
        for kind, hook_name in KINDS.items():
            caller = getattr(self.pm.hook, hook_name)
            for impl in caller.get_hookimpls():
                if impl.plugin is module:
                    impl.function(register=lambda cls, kind=kind: self.registry.add(kind, cls, info))


_lock = threading.Lock()
_manager: PluginManager | None = None


def get_manager() -> PluginManager:
    """The process-wide plugin manager, loaded on first use."""
    global _manager
    with _lock:
        if _manager is None:
            manager = PluginManager()
            manager.load_entry_points()
            _manager = manager
        return _manager


def reset_manager(manager: PluginManager | None = None) -> None:
    """Drop (or replace) the process-wide manager; for tests and `gryt.testing`."""
    global _manager
    with _lock:
        _manager = manager


def import_type(class_name: str, module: str) -> type:
    """Resolve `from gryt.auth import FlyAuth`-style imports through the registry."""
    if class_name.startswith("__"):
        raise AttributeError(class_name)
    cls = get_manager().registry.find_class(class_name)
    if cls is None:
        raise ImportError(
            f"cannot import name {class_name!r} from {module!r}: no installed gryt plugin provides it"
        )
    return cls

"""The registry of types plugins provide, by kind and name, and what gryt knows about each plugin.

When a type is missing it says why in one line: a did-you-mean, the plugin that failed to load, or the
first-party distribution to install.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from gryt.config import did_you_mean
from gryt.errors import PluginError
from gryt.plugins.checks import check_type, kind_of
from gryt.plugins.discovery import canonical_name
from gryt.plugins.kinds import KINDS


class FirstPartyType(NamedTuple):
    """A type one of gryt's own plugin distributions registers, for "pip install ..." hints."""

    distribution: str
    kind: str
    name: str
    class_name: str


FIRST_PARTY: tuple[FirstPartyType, ...] = (
    FirstPartyType("gryt-auth-fly", "auth", "fly", "FlyAuth"),
    FirstPartyType("gryt-auth-docker", "auth", "docker-registry", "DockerRegistryAuth"),
    FirstPartyType("gryt-validators", "validators", "env-vars", "EnvVarValidator"),
    FirstPartyType("gryt-validators", "validators", "tools", "ToolValidator"),
    FirstPartyType("gryt-validators", "validators", "files", "FileValidator"),
    FirstPartyType("gryt-validators", "validators", "python", "PythonValidator"),
    FirstPartyType("gryt-validators", "validators", "git", "GitValidator"),
    FirstPartyType("gryt-pypi", "destinations", "pypi", "PypiDestination"),
    FirstPartyType("gryt-oci", "destinations", "oci", "OciArtifactDestination"),
    FirstPartyType("gryt-oci", "destinations", "oci-image", "OciImageDestination"),
    FirstPartyType("gryt-oci", "caches", "oci", "OciCache"),
    FirstPartyType("gryt-npm", "destinations", "npm", "NpmDestination"),
    FirstPartyType("gryt-github", "destinations", "github-release", "GithubReleaseDestination"),
    FirstPartyType("gryt-postgres", "histories", "postgresql", "PostgresHistory"),
    FirstPartyType("gryt-python", "steps", "python", "PythonStep"),
    FirstPartyType("gryt-python", "steps", "pytest", "PytestStep"),
)
"""Every type of the first-party distributions (a test checks it against what they register)."""


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
        """The JSON shape of one plugin in `gryt plugins list --json`."""
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
                f'{KINDS[kind].label} type "{name}" is registered twice by {plugin.distribution} '
                f"({existing[0].__qualname__} and {cls.__qualname__})"
            )
        return (
            f'{KINDS[kind].label} type "{name}" is registered by both {other.distribution} '
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
        kind_of(kind)
        entry = self._types[kind].get(name)
        if entry is None:
            raise PluginError(self.missing(kind, name))
        return entry[0]

    def missing(self, kind: str, name: str) -> str:
        """The one-line explanation of why `kind` type `name` is not available."""
        label = f'{KINDS[kind].label} type "{name}"'
        plugins = list(self._plugins.values())
        for info in plugins:
            if info.status != "ok" and any(
                k == kind and getattr(c, "name", None) == name for k, c in info.attempted
            ):
                return f"{label} is provided by {info.describe()}, which {info.status_phrase()}"
        dist = next((t.distribution for t in FIRST_PARTY if (t.kind, t.name) == (kind, name)), None)
        if dist is not None:
            owners = [i for i in plugins if canonical_name(i.distribution) == dist]
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

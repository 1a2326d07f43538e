"""The checks a plugin passes before anything it provides is used.

Its hook implementations (known hooks, arguments the hook provides, no wrappers), each class it registers
(subclass of its kind's base, a valid type name) and its `Requires-Dist` on gryt-core. Each check
returns or raises one line that says what is wrong.
"""

from __future__ import annotations

import inspect
import operator
import re
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

from gryt import hookspecs
from gryt.config import did_you_mean
from gryt.errors import PluginError
from gryt.plugins.discovery import CORE_DISTRIBUTION, canonical_name
from gryt.plugins.kinds import KINDS, Kind

if TYPE_CHECKING:
    from gryt.plugins.discovery import Distribution

TYPE_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")


def kind_of(name: str) -> Kind:
    """The Kind called `name`; PluginError with a did-you-mean otherwise."""
    kind = KINDS.get(name)
    if kind is None:
        raise PluginError(
            f'unknown kind "{name}"{did_you_mean(name, list(KINDS))}; kinds: {", ".join(KINDS)}'
        )
    return kind


def check_type(kind: str, cls: Any) -> str:
    """Check that `cls` may be registered as a `kind` type and return its type name.

    Raises PluginError (one line) when it is not a class, not a subclass of the kind's base class, or
    has no valid `name` (lower-case letters, digits and dashes).
    """
    spec = kind_of(kind)
    if not isinstance(cls, type):
        raise PluginError(f"register() takes a class, got {type(cls).__name__} {cls!r}")
    if not issubclass(cls, spec.base):
        base = f"{spec.base.__module__}.{spec.base.__qualname__}"
        raise PluginError(f"{cls.__qualname__} is not a subclass of {base} (required for {spec.label} types)")
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
    Wrappers are refused: lifecycle hooks are observers, called one by one. The `gryt_` prefix is
    reserved for hooks.
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
        if opts.get("hookwrapper") or opts.get("wrapper"):
            problems.append(
                f"{hook_name} is a wrapper: gryt hooks take plain implementations (order them with tryfirst/trylast)"
            )
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


def core_version() -> str:
    """The running gryt-core version, which plugins' `Requires-Dist` must admit."""
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
    running_text = core_version()
    pending = []
    for text in dist.requires or []:
        match = _REQUIREMENT_NAME.match(text)
        if match is not None:
            if canonical_name(match.group(1)) != CORE_DISTRIBUTION:
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
        if canonical_name(req.name) != CORE_DISTRIBUTION:
            continue
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        if not req.specifier.contains(running, prereleases=True):
            return f"requires gryt-core{req.specifier} (running {running})"
    return None

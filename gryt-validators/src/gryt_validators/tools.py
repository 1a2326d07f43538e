"""`tools`: executables on PATH, optionally at a minimum version read from their version output."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from typing import Any

from gryt.config import MAX_SECONDS, ConfigKey, describe, resolve_config
from gryt.errors import ConfigError
from gryt.validators import Issue, Validator

DEFAULT_TIMEOUT = 10.0
"""Seconds a version command may run before it is killed."""

_VERSION_TOKEN = re.compile(r"(?<![\d.])(\d+(?:\.\d+)+)")
"""First `x.y[.z...]` token; letters before it (`v2.1`, `go1.22`) and suffixes (`-beta`) are ignored."""

_MIN_VERSION = re.compile(r"^[vV]?(\d+(?:\.\d+)*)$")

TOOL_KEYS = (
    ConfigKey(
        "name", str, None, "Executable name looked up on PATH (or a path)", required=True, non_empty=True
    ),
    ConfigKey("min_version", str, None, 'Lowest accepted version, e.g. "1.10" (compared per component)'),
    ConfigKey(
        "version_args", list, ["--version"], "Arguments that make the tool print its version", items=str
    ),
    ConfigKey("version_regex", str, None, "Regex whose group 1 (or whole match) is the version"),
    ConfigKey(
        "timeout",
        float,
        DEFAULT_TIMEOUT,
        "Seconds before the version command is killed",
        positive=True,
        maximum=MAX_SECONDS,
    ),
)
"""Keys of one entry of `tools` (a table, or just the name as a string)."""


def parse_version(text: str) -> tuple[int, ...] | None:
    """The first `x.y[.z]` token of `text` as integers (`"rustc 1.95.0 (...)"` -> (1, 95, 0))."""
    match = _VERSION_TOKEN.search(text)
    return None if match is None else _components(match.group(1))


def format_version(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


def is_older(found: tuple[int, ...], required: tuple[int, ...]) -> bool:
    """Numeric comparison per component; missing components count as 0 (1.10 > 1.9, 2 == 2.0)."""
    width = max(len(found), len(required))
    pad = (0,) * width
    return (found + pad)[:width] < (required + pad)[:width]


def _components(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


@dataclass(frozen=True)
class ToolSpec:
    """One required tool, validated from its config entry."""

    name: str
    min_version: tuple[int, ...] | None = None
    version_args: tuple[str, ...] = ("--version",)
    version_regex: re.Pattern[str] | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_entry(cls, entry: str | dict[str, Any], where: str) -> ToolSpec:
        """Build from a TOML/Python entry: a name string or a table of TOOL_KEYS; ConfigError if bad."""
        options = resolve_config(TOOL_KEYS, {"name": entry} if isinstance(entry, str) else entry, where=where)
        name: str = options["name"]
        min_version = None
        if options["min_version"] is not None:
            match = _MIN_VERSION.match(options["min_version"].strip())
            if match is None:
                raise ConfigError(
                    f'{where}.min_version: expected a version like "1.10", got {describe(options["min_version"])}'
                )
            min_version = _components(match.group(1))
        regex = None
        if options["version_regex"] is not None:
            try:
                regex = re.compile(options["version_regex"])
            except re.error as exc:
                raise ConfigError(f"{where}.version_regex: invalid regular expression: {exc}") from None
        return cls(name, min_version, tuple(options["version_args"]), regex, float(options["timeout"]))


class ToolValidator(Validator):
    """Report tools missing from PATH and tools older than their `min_version`.

    The version command runs only when `min_version` is set, with a timeout that kills it; any
    failure to run it or to read a version is reported as a `tool_version` issue, never raised.
    """

    name = "tools"
    summary = "Executables are on PATH, optionally at a minimum version"
    config_keys = (
        ConfigKey(
            "tools",
            list,
            [],
            "Tools to check: names, or tables with name, min_version, version_args, version_regex, timeout",
            items=(str, dict),
        ),
    )

    def __init__(self, tools: list[str | dict[str, Any]] | None = None) -> None:
        super().__init__(tools=[] if tools is None else tools)
        self.tools: list[ToolSpec] = [
            ToolSpec.from_entry(entry, f"{self.name}.tools[{index}]")
            for index, entry in enumerate(self.options["tools"])
        ]

    def run(self) -> list[Issue]:
        issues: list[Issue] = []
        for spec in self.tools:
            issue = check_tool(spec)
            if issue is not None:
                issues.append(issue)
        return issues


def check_tool(spec: ToolSpec) -> Issue | None:
    """The issue with one tool, or None when it is present (and recent enough)."""
    from gryt.command import run_short_command

    path = shutil.which(spec.name)
    if path is None:
        return Issue("tool_missing", spec.name, f"{spec.name} not found on PATH", {"required": _req(spec)})
    if spec.min_version is None:
        return None
    required = format_version(spec.min_version)
    command = " ".join((spec.name, *spec.version_args))
    result = run_short_command([path, *spec.version_args], timeout=spec.timeout, label=f"`{command}`")
    error = result.error
    if error is None and result.returncode != 0:
        detail = result.first_line()
        error = f"`{command}` exited with {result.returncode}" + (f": {detail}" if detail else "")
    found = None
    if error is None:
        found = _extract(spec, result.stdout) or _extract(spec, result.stderr)
        if found is None:
            error = f"no version found in the output of `{command}`"
    if error is not None or found is None:
        details = {"found": None, "required": required, "error": error}
        return Issue(
            "tool_version", spec.name, f"{spec.name}: cannot check version {required}: {error}", details
        )
    if is_older(found, spec.min_version):
        shown = format_version(found)
        message = f"{spec.name} {shown} is older than required {required}"
        return Issue("tool_version", spec.name, message, {"found": shown, "required": required})
    return None


def _extract(spec: ToolSpec, output: str) -> tuple[int, ...] | None:
    if spec.version_regex is None:
        return parse_version(output)
    match = spec.version_regex.search(output)
    if match is None:
        return None
    text = match.group(1) if spec.version_regex.groups else match.group(0)
    return None if text is None else parse_version(text) or _single(text)


def _single(text: str) -> tuple[int, ...] | None:
    """A bare major version captured by a user regex ("20")."""
    digits = text.strip().lstrip("vV")
    return (int(digits),) if digits.isdigit() else None


def _req(spec: ToolSpec) -> str | None:
    return None if spec.min_version is None else format_version(spec.min_version)

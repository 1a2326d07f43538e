"""`gryt plugins new`: generate a ready-to-publish plugin distribution from the bundled templates.

The templates live in `gryt/templates/plugin/` (shipped in the wheel). Placeholders are written as
`{{name}}`; every file the scaffold writes is rendered from one template, so what a plugin author gets is
exactly what the tests in `tests/kit/` build, install and run.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from gryt.errors import ConfigError

SCAFFOLD_KINDS: dict[str, str] = {
    "auth": "auth",
    "destination": "destinations",
    "validator": "validators",
    "runtime": "runtimes",
    "step": "steps",
    "hooks": "hooks",
}
"""`--kind` value -> the registry kind (key of `provides` in `gryt plugins list --json`)."""

_MODULE_FILES: dict[str, str] = {
    "auth": "auth.py",
    "destination": "destination.py",
    "validator": "validator.py",
    "runtime": "runtime.py",
    "step": "step.py",
    "hooks": "hooks.py",
}

_CLASS_SUFFIX: dict[str, str] = {
    "auth": "Auth",
    "destination": "Destination",
    "validator": "Validator",
    "runtime": "Runtime",
    "step": "Step",
    "hooks": "Hook",
}

_DISTRIBUTION_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_TYPE_NAME = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


@dataclass(frozen=True)
class Names:
    """Every name derived from the distribution name the user typed."""

    distribution: str
    module: str
    type_name: str
    class_name: str
    env_prefix: str


@dataclass
class Scaffold:
    """What `create_plugin` wrote: the project folder, its names and every file (relative paths)."""

    path: Path
    kind: str
    names: Names
    files: list[Path] = field(default_factory=list)

    def report(self) -> str:
        """What was created and how to try it: the text `gryt plugins new` prints."""
        n = self.names
        lines = [
            f"Created {self.path} ({n.distribution}, module {n.module}): "
            f"{self.kind.removesuffix('s')} type {n.type_name!r} ({n.class_name})",
            *(f"  {file}" for file in self.files),
            "Next:",
            f"  cd {self.path}",
            '  pip install -e ".[test]"',
            "  pytest",
            "  gryt plugins list",
        ]
        return "\n".join(lines)


def derive_names(distribution: str, kind: str, module: str | None = None) -> Names:
    """Validate `distribution` (PEP 508) and derive module, type, class and env-var names from it.

    `gryt-slack` -> module `gryt_slack`, type `slack`, class `SlackDestination`, env prefix `SLACK`.
    """
    suffix = _kind_suffix(kind)
    if not _DISTRIBUTION_NAME.fullmatch(distribution):
        raise ConfigError(
            f"invalid distribution name {distribution!r}: use letters, digits, '-', '_' and '.', "
            "starting and ending with a letter or digit (PEP 508)"
        )
    canonical = re.sub(r"[-_.]+", "-", distribution).lower()
    module_name = module if module is not None else canonical.replace("-", "_")
    if not module_name.isidentifier() or keyword.iskeyword(module_name):
        raise ConfigError(
            f"invalid module name {module_name!r}: it must be a Python identifier (letters, digits, '_', "
            "not starting with a digit); choose another distribution name"
        )
    if module_name in {"gryt", "test", "tests"} or module_name.startswith("gryt."):
        raise ConfigError(f"invalid module name {module_name!r}: it would shadow an existing package")
    type_name = canonical.removeprefix("gryt-") or canonical
    if not _TYPE_NAME.fullmatch(type_name):
        raise ConfigError(
            f"invalid type name {type_name!r} (from {distribution!r}): a type name starts with a letter; "
            "choose another distribution name"
        )
    class_name = "".join(part.capitalize() for part in type_name.split("-")) + suffix
    env_prefix = type_name.replace("-", "_").upper()
    return Names(canonical, module_name, type_name, class_name, env_prefix)


def core_requirement(version: str | None = None) -> str:
    """The `gryt-core` version range a new plugin should declare: the running core's minor series.

    `0.1.3` -> `>=0.1,<0.2` (0.x minors may break); `1.4.0` -> `>=1.4,<2`.
    """
    from packaging.version import Version

    if version is None:
        from gryt import __version__

        version = __version__
    parsed = Version(version)
    major, minor = parsed.major, parsed.minor
    if major == 0:
        return f">=0.{minor},<0.{minor + 1}"
    return f">={major}.{minor},<{major + 1}"


def create_plugin(name: str, kind: str, path: str | Path = ".", *, module: str | None = None) -> Scaffold:
    """Write a new plugin project `path/name` of `kind`; never overwrites an existing file or folder.

    Raises ConfigError for an unknown kind, an invalid name or an existing target.
    """
    names = derive_names(name, kind, module)
    parent = Path(path)
    target = parent / name
    if target.exists() or target.is_symlink():
        raise ConfigError(f"{target} already exists; choose another name or --path (nothing was written)")
    if parent.exists() and not parent.is_dir():
        raise ConfigError(f"{parent} is not a folder")
    values = _values(names, kind)
    rendered = {dest: _render(source, values) for dest, source in _layout(names, kind).items()}
    target.mkdir(parents=True)
    scaffold = Scaffold(path=target, kind=kind, names=names)
    for relative, text in rendered.items():
        file = target / relative
        file.parent.mkdir(parents=True, exist_ok=True)
        with file.open("x", encoding="utf-8") as handle:
            handle.write(text)
        scaffold.files.append(relative)
    return scaffold


def _kind_suffix(kind: str) -> str:
    if kind not in _CLASS_SUFFIX:
        raise ConfigError(f"unknown plugin kind {kind!r}; choose one of: {', '.join(SCAFFOLD_KINDS)}")
    return _CLASS_SUFFIX[kind]


def _layout(names: Names, kind: str) -> dict[Path, str]:
    """Destination path (relative to the project) -> template name (relative to templates/plugin)."""
    package = Path("src") / names.module
    return {
        Path("pyproject.toml"): "pyproject.toml.tmpl",
        Path("README.md"): "README.md.tmpl",
        Path(".gitignore"): "gitignore.tmpl",
        package / "__init__.py": "__init__.py.tmpl",
        package / "py.typed": "py.typed.tmpl",
        package / "plugin.py": f"{kind}/plugin.py.tmpl",
        package / _MODULE_FILES[kind]: f"{kind}/module.py.tmpl",
        Path("tests") / "test_plugin.py": f"{kind}/test_plugin.py.tmpl",
    }


def _values(names: Names, kind: str) -> dict[str, str]:
    from gryt import __version__

    return {
        "distribution": names.distribution,
        "module": names.module,
        "type_name": names.type_name,
        "class_name": names.class_name,
        "env_prefix": names.env_prefix,
        "kind": kind,
        "registry_kind": SCAFFOLD_KINDS[kind],
        "module_file": _MODULE_FILES[kind].removesuffix(".py"),
        "core_requirement": core_requirement(),
        "core_version": __version__,
    }


def _render(template: str, values: dict[str, str]) -> str:
    source = resources.files("gryt") / "templates" / "plugin"
    for part in template.split("/"):
        source = source / part
    text = source.read_text(encoding="utf-8")

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ConfigError(f"template {template} uses unknown placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(substitute, text)

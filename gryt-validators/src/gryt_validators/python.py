"""`python`: the running interpreter satisfies a version specifier and can find required modules."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gryt.config import ConfigKey, describe
from gryt.errors import ConfigError
from gryt.validators import Issue, Validator

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

    from packaging.specifiers import SpecifierSet


class PythonValidator(Validator):
    """Report an interpreter outside the `version` specifier and `modules` that cannot be found.

    Modules are located with import machinery finders only: nothing is imported (not even parents).
    """

    name = "python"
    summary = "The running Python satisfies a version specifier and has the required modules"
    config_keys = (
        ConfigKey("version", str, None, 'PEP 440 specifier the interpreter must satisfy, e.g. ">=3.10"'),
        ConfigKey(
            "modules", list, [], "Importable module names that must be found (not imported)", items=str
        ),
    )

    def __init__(self, version: str | None = None, modules: list[str] | None = None) -> None:
        super().__init__(version=version, modules=[] if modules is None else modules)
        self.version: str | None = self.options["version"]
        self.specifier: SpecifierSet | None = None
        if self.version is not None:
            from packaging.specifiers import InvalidSpecifier, SpecifierSet

            try:
                self.specifier = SpecifierSet(self.version)
            except InvalidSpecifier:
                raise ConfigError(
                    f'{self.name}.version: invalid version specifier {describe(self.version)}; try ">=3.10"'
                ) from None
        for module in self.options["modules"]:
            if not all(part.isidentifier() for part in module.split(".")):
                raise ConfigError(
                    f"{self.name}.modules: expected dotted module names, got {describe(module)}"
                )
        self.modules: list[str] = list(self.options["modules"])

    def run(self) -> list[Issue]:
        import platform

        issues: list[Issue] = []
        running = platform.python_version()
        if self.specifier is not None and not self.specifier.contains(running, prereleases=True):
            message = f"Python {running} does not satisfy {self.version} ({sys.executable})"
            details = {"found": running, "required": self.version, "executable": sys.executable}
            issues.append(Issue("python_version", "python", message, details))
        for module in self.modules:
            if not module_available(module):
                message = f"module {module} cannot be found by {sys.executable}"
                issues.append(Issue("python_module", module, message, {"executable": sys.executable}))
        return issues


def module_available(name: str) -> bool:
    """Whether `name` (dotted) can be imported, found without executing any module code."""
    import importlib.util

    if name in sys.modules:
        return True
    parts = name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
        for index in range(1, len(parts)):
            if spec is None or spec.submodule_search_locations is None:
                return False
            dotted = ".".join(parts[: index + 1])
            if dotted in sys.modules:
                return True
            spec = _find_submodule(dotted, list(spec.submodule_search_locations))
    except (ImportError, ValueError):
        return False
    return spec is not None


def _find_submodule(name: str, path: Sequence[str]) -> ModuleSpec | None:
    """Ask the meta path finders for submodule `name` inside `path`, as `import` would, minus loading."""
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        spec = find_spec(name, path)
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None

"""`python`: the interpreter steps will run satisfies a version specifier and can find required modules.

That is the `python` (else `python3`) on PATH, or the one named by `interpreter`, not the interpreter
running gryt: a step's `cmd = ["python", ...]` runs whatever PATH finds.
"""

from __future__ import annotations

import json
import shutil
from typing import TYPE_CHECKING, Any

from gryt.config import MAX_SECONDS, ConfigKey, describe
from gryt.errors import ConfigError
from gryt.validators import Issue, Validator

if TYPE_CHECKING:
    from packaging.specifiers import SpecifierSet

DEFAULT_TIMEOUT = 10.0
"""Seconds the interpreter may take to answer before it is killed."""

DEFAULT_NAMES = ("python", "python3")

# Run by the target interpreter with the module names as arguments. It locates modules with the
# import system's finders only (nothing is imported, not even parents) and prints one JSON line.
# Plain syntax on purpose: an old interpreter must still get as far as reporting its version.
_PROBE = """
import json, platform, sys

def submodule(name, path):
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec(name, path) if find_spec is not None else None
        if spec is not None:
            return spec
    return None

def found(name):
    if name in sys.modules:
        return True
    import importlib.util
    parts = name.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
        for index in range(1, len(parts)):
            if spec is None or spec.submodule_search_locations is None:
                return False
            dotted = ".".join(parts[: index + 1])
            if dotted in sys.modules:
                return True
            spec = submodule(dotted, list(spec.submodule_search_locations))
    except (ImportError, ValueError):
        return False
    return spec is not None

print(json.dumps({"version": platform.python_version(), "missing": [m for m in sys.argv[1:] if not found(m)]}))
"""


class PythonValidator(Validator):
    """Report a missing interpreter, one outside the `version` specifier and `modules` it cannot find.

    The interpreter is asked in a subprocess; modules are located without being imported.
    """

    name = "python"
    summary = "The python steps run (first on PATH) satisfies a version specifier and has the modules"
    config_keys = (
        ConfigKey("version", str, None, 'PEP 440 specifier the interpreter must satisfy, e.g. ">=3.10"'),
        ConfigKey(
            "modules", list, [], "Importable module names that must be found (not imported)", items=str
        ),
        ConfigKey(
            "interpreter",
            str,
            None,
            "Interpreter to check, a name on PATH or a path (default: python, python3)",
        ),
        ConfigKey(
            "timeout",
            (int, float),
            DEFAULT_TIMEOUT,
            "Seconds before the interpreter is killed",
            positive=True,
            maximum=MAX_SECONDS,
        ),
    )

    def __init__(
        self,
        version: str | None = None,
        modules: list[str] | None = None,
        interpreter: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        super().__init__(
            version=version,
            modules=[] if modules is None else modules,
            interpreter=interpreter,
            timeout=timeout,
        )
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
        self.interpreter: str | None = self.options["interpreter"]
        if self.interpreter is not None and not self.interpreter.strip():
            raise ConfigError(f"{self.name}.interpreter: must not be empty")
        self.timeout = float(self.options["timeout"])

    def find_interpreter(self) -> str | None:
        """The executable steps would run: `interpreter`, else `python`, else `python3`, looked up on PATH."""
        for name in (self.interpreter,) if self.interpreter else DEFAULT_NAMES:
            found = shutil.which(name)
            if found is not None:
                return found
        return None

    def run(self) -> list[Issue]:
        executable = self.find_interpreter()
        if executable is None:
            wanted = repr(self.interpreter) if self.interpreter else "python or python3"
            message = f"no {wanted} found on PATH: steps that run Python would fail"
            return [Issue("python_missing", "python", message, {"interpreter": self.interpreter})]
        if self.specifier is None and not self.modules:
            return []
        answer = self._ask(executable)
        if isinstance(answer, Issue):
            return [answer]
        issues: list[Issue] = []
        found = str(answer.get("version"))
        if self.specifier is not None and not self.specifier.contains(found, prereleases=True):
            message = f"Python {found} at {executable} does not satisfy {self.version}"
            details = {"found": found, "required": self.version, "executable": executable}
            issues.append(Issue("python_version", "python", message, details))
        for module in answer.get("missing") or []:
            message = f"module {module} cannot be found by {executable}"
            issues.append(Issue("python_module", str(module), message, {"executable": executable}))
        return issues

    def _ask(self, executable: str) -> dict[str, Any] | Issue:
        """The interpreter's version and missing modules, or an issue saying why it could not tell."""
        from gryt.command import run_short_command

        done = run_short_command(
            [executable, "-c", _PROBE, *self.modules], timeout=self.timeout, label=f"{executable} -c ..."
        )
        reason = done.error
        if reason is None and done.returncode != 0:
            reason = f"exit code {done.returncode}: {done.first_line()}"
        if reason is None:
            try:
                answer = json.loads(done.stdout.strip().splitlines()[-1])
            except (ValueError, IndexError):
                answer = None
            if isinstance(answer, dict):
                return answer
            reason = "it printed no version report"
        message = f"cannot ask {executable} for its version and modules: {reason}"
        return Issue("python_missing", "python", message, {"interpreter": executable})

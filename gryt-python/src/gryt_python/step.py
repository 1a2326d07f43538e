"""Step type `python`: a command run inside a managed virtual environment (`.gryt/envs/`), built from an
interpreter, pip install arguments and requirement/lock files, and reused while none of them changes."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.command import cancel_on
from gryt.config import MAX_SECONDS, ConfigKey
from gryt.errors import ConfigError
from gryt.status import ERROR, INTERRUPTED
from gryt.step import CommandStep, empty_result
from gryt_python import backends, credentials, environments
from gryt_python.interpreters import find_interpreter

if TYPE_CHECKING:
    from gryt.context import RunContext

_FILE_OPTIONS = frozenset({"-r", "--requirement", "-c", "--constraint"})
DEFAULT_SETUP_TIMEOUT = 1800

_run_started: dict[str, float] = {}
_run_started_lock = threading.Lock()


def run_started(run_id: str) -> float:
    """When this process first prepared an environment for run `run_id` (epoch seconds)."""
    with _run_started_lock:
        return _run_started.setdefault(run_id, time.time())


def referenced_files(install: list[str]) -> list[str]:
    """The files `-r FILE`, `-c FILE` (and `--requirement=FILE`) of pip arguments name."""
    found = []
    for index, arg in enumerate(install):
        if arg in _FILE_OPTIONS and index + 1 < len(install):
            found.append(install[index + 1])
        for option in _FILE_OPTIONS:
            if arg.startswith(f"{option}=") and option.startswith("--"):
                found.append(arg.split("=", 1)[1])
    return found


class PythonStep(CommandStep):
    """Run `cmd` with the `bin` folder of a managed virtual environment first on PATH and VIRTUAL_ENV set."""

    name = "python"
    summary = "Run a command in a managed, reused virtual environment"
    config_keys: ClassVar[tuple[ConfigKey, ...]] = (
        *CommandStep.config_keys,
        ConfigKey(
            "python", str, None, 'Interpreter: a version like "3.11", or a path (default: gryt\'s own)'
        ),
        ConfigKey("install", list, [], "pip install arguments: requirements, -e .[test], -r FILE", items=str),
        ConfigKey(
            "requirements",
            list,
            [],
            "Requirement files installed with -r; their content keys the env",
            items=str,
        ),
        ConfigKey(
            "lock", list, [], "More files whose content keys the environment (not installed)", items=str
        ),
        ConfigKey("backend", str, "auto", "uv, venv, or auto (uv when installed)", choices=backends.BACKENDS),
        ConfigKey(
            "setup_timeout",
            (int, float),
            DEFAULT_SETUP_TIMEOUT,
            "Seconds to create and fill the environment",
            positive=True,
            maximum=MAX_SECONDS,
        ),
    )

    env_folder: Path | None = None
    """The environment of the current (or last) run."""

    def _check(self) -> None:
        super()._check()
        for key in ("install", "requirements", "lock"):
            if any(not item.strip() for item in self.config[key]):
                raise ConfigError(f"{self.id}.{key}: expected non-empty strings")

    def known_secrets(self) -> list[str]:
        """The passwords of URLs in `install`, masked from the start of the run."""
        return [secret for arg in self.config["install"] for secret in credentials.url_secrets(arg)]

    def install_arguments(self) -> list[str]:
        """What pip installs: `install`, then `-r FILE` for each of `requirements`."""
        args = list(self.config["install"])
        for name in self.config["requirements"]:
            args += ["-r", name]
        return args

    def environment_overrides(self, context: RunContext) -> dict[str, str] | None:
        """The run's exports, then the environment's `bin` first on PATH and VIRTUAL_ENV, then `env`."""
        extra = {**context.env}
        if self.env_folder is not None:
            base = extra.get("PATH", os.environ.get("PATH", os.defpath))
            extra["PATH"] = str(backends.bin_dir(self.env_folder)) + os.pathsep + base
            extra["VIRTUAL_ENV"] = str(self.env_folder)
        return {**extra, **self.config["env"]}

    def run(self) -> dict[str, Any]:
        if self.context is None:
            from gryt.context import RunContext

            self.context = RunContext()
        context = self.context
        for secret in self.known_secrets():
            context.add_secret(secret)
        prepared = self.prepare(context)
        if isinstance(prepared, dict):
            return prepared
        self.env_folder = prepared.folder
        result = super().run()
        result["python_env"] = {
            "path": _shown(prepared.folder),
            "python": prepared.spec.version,
            "backend": prepared.spec.backend,
            "reused": prepared.reused,
            "setup_duration": prepared.duration,
        }
        result["duration"] = round(float(result.get("duration") or 0.0) + prepared.duration, 6)
        if prepared.warning:
            result["warnings"] = [prepared.warning]
        return result

    def command(self, context: RunContext) -> list[str] | str:
        """`cmd` in the prepared environment (`command_for`), once `run()` has prepared it."""
        return super().command(context) if self.env_folder is None else self.command_for(self.env_folder)

    def command_for(self, folder: Path) -> list[str] | str:
        """The command run in the environment at `folder`: `cmd`, its program taken from the environment
        when it has one of that name (`python`, `ruff`)."""
        cmd: list[str] | str = self.config["cmd"]
        if isinstance(cmd, list) and os.sep not in cmd[0]:
            candidate = backends.bin_dir(folder) / cmd[0]
            if candidate.exists():
                return [str(candidate), *cmd[1:]]
        return cmd

    def prepare(self, context: RunContext) -> environments.Prepared | dict[str, Any]:
        """The ready environment, or the step's error result when it cannot be had."""
        cwd = Path(self.working_directory(context) or Path.cwd())
        store = environments.Store(Path.cwd() / environments.ENVS_DIR)
        try:
            interpreter = find_interpreter(self.config["python"], self.id, store.interpreters_cache)
            backend = backends.resolve_backend(self.config["backend"], self.id)
        except ConfigError as exc:
            return empty_result(ERROR, str(exc))
        install = self.install_arguments()
        files = [*referenced_files(install), *self.config["lock"]]
        try:
            spec = environments.EnvSpec(
                interpreter.path,
                interpreter.version,
                backend,
                tuple(install),
                tuple(files),
                environments.file_digests(files, cwd, self.id),
            )
            env = {**os.environ, **context.env, **self.config["env"]}
            env.pop("VIRTUAL_ENV", None)
            with cancel_on(context.cancel), credentials.private_arguments(spec.install) as args:
                return store.ensure(
                    spec,
                    install_args=args,
                    cwd=cwd,
                    recreate=environments.recreate_requested(),
                    started=run_started(context.run_id),
                    timeout=float(self.config["setup_timeout"]),
                    env=env,
                    masker=context.masker,
                    cancel=context.cancel,
                )
        except environments.Interrupted:
            return empty_result(INTERRUPTED, "interrupted")
        except environments.BuildError as exc:
            result = empty_result(ERROR, context.masker.mask(str(exc)))
            result["stdout"], result["stderr"] = exc.stdout, exc.stderr
            return result


def _shown(folder: Path) -> str:
    try:
        return str(folder.relative_to(Path.cwd()))
    except ValueError:
        return str(folder)

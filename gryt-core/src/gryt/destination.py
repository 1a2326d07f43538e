"""Destinations publish a run's artifacts once every runner succeeded (see `gryt.artifacts`)."""

from __future__ import annotations

import os
import shlex
import shutil
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.artifacts import ArtifactSpec, parse_entries
from gryt.conditions import Condition, parse_condition
from gryt.config import MAX_SECONDS, ConfigKey, resolve_config
from gryt.errors import ConfigError
from gryt.status import ERROR, SUCCESS
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.process import LazyLog


WHERE_KEYS = ("url", "ref", "path")
"""Result keys that say where a published artifact went, in the order `where()` prefers them."""


def where(item: Mapping[str, Any]) -> str | None:
    """Where one published artifact went: its result's `url`, else `ref`, else `path`; None if none."""
    for key in WHERE_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def went(artifact: Any, item: Mapping[str, Any]) -> str | None:
    """`ARTIFACT -> WHERE` for an artifact whose result (or recorded details) `item` says where it went."""
    target = where(item)
    return None if target is None else f"{artifact or '-'} -> {target}"


class Destination(Registrable, ABC):
    """Publish artifacts somewhere; one result dict per artifact with `artifact` and `status`.

    A result says where the artifact went with `url` (where it can be fetched or seen), `ref` (such as
    `registry/repo:tag`) or `path`, and may add details such as `version`, `digest` and `name`: every key
    but `artifact`, `status` and `error` is recorded as the item's details, and `where()` is what the
    summary, `gryt runs show` and JUnit show.

    Every destination accepts an `artifacts` key (globs selecting from the run's artifacts, see
    `gryt.artifacts`); it is kept in `artifact_specs`, not in `config`. During a run, `context` is the
    run's context and `log` the destination's log file: write the tool's output there.
    """

    condition: Condition | None = None
    """The destination's `if`: when false it is recorded `skipped` (the loader sets it for any type)."""

    secret_env_keys: ClassVar[tuple[str, ...]] = ()
    """Config keys naming an environment variable that holds a credential (e.g. `token_env_var`): read
    with `env_secret()`, and their values in gryt's environment are `known_secrets()` by default."""

    def __init__(
        self, id: str, config: dict[str, Any] | None = None, *, if_: str | Condition | None = None
    ) -> None:
        self.id = id
        self.condition = parse_condition(if_, id)
        values = dict(config or {})
        entries = values.pop("artifacts", None)
        self.artifact_specs: list[ArtifactSpec] | None = (
            None if entries is None else parse_entries(entries, f"{id}.artifacts")
        )
        self.config: dict[str, Any] = resolve_config(self.config_keys, values, where=id)
        self.context: RunContext | None = None
        self.log: LazyLog | None = None

    @abstractmethod
    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        """Publish each artifact; report failures in the dicts (`status: "error"`, `error`)."""

    def known_secrets(self) -> list[str]:
        """The secrets this destination can name before the run: the pipeline masks them from the start,
        so a step that prints one is masked too. Default: the values of its `secret_env_keys`."""
        return [value for key in self.secret_env_keys if (value := self.env_secret(key))]

    def env_secret(self, key: str, env: Mapping[str, str] | None = None) -> str:
        """The value, stripped, of the environment variable that config `key` names, in `env` (default:
        gryt's environment); "" when it is unset."""
        return (os.environ if env is None else env).get(str(self.config[key]), "").strip()


def _error(artifact: Path, message: str) -> dict[str, Any]:
    return {"artifact": str(artifact), "status": ERROR, "error": message}


class CommandDestination(Destination):
    """Run `cmd` once per artifact (`{artifact}`), or once for all of them (`{artifacts}`)."""

    name = "command"
    summary = "Publish by running a command: per artifact ({artifact}) or once for all ({artifacts})"
    config_keys = (
        ConfigKey(
            "cmd",
            (list, str),
            None,
            "Command with an {artifact} (once per artifact) or {artifacts} (once for all) placeholder",
            required=True,
            items=str,
        ),
        ConfigKey("shell", bool, False, "Run cmd through /bin/sh (paths are shell-quoted)"),
        ConfigKey("env", dict, {}, "Environment variables merged onto the inherited environment"),
        ConfigKey("cwd", str, None, "Working directory"),
        ConfigKey(
            "timeout",
            (int, float),
            None,
            "Seconds before the command is killed (0: no limit)",
            minimum=0,
            maximum=MAX_SECONDS,
        ),
    )

    def __init__(
        self, id: str, config: dict[str, Any] | None = None, *, if_: str | Condition | None = None
    ) -> None:
        super().__init__(id, config, if_=if_)
        cmd = self.config["cmd"]
        if isinstance(cmd, str) and not self.config["shell"]:
            raise ConfigError(f"{id}.cmd: a string needs shell = true; or give a list of arguments")
        if not cmd:
            raise ConfigError(f"{id}.cmd: the command is empty")
        text = cmd if isinstance(cmd, str) else " ".join(cmd)
        single, batch = "{artifact}" in text, "{artifacts}" in text
        if single == batch:
            raise ConfigError(
                f"{id}.cmd: must contain exactly one of the placeholders {{artifact}} (once per artifact)"
                " and {artifacts} (once for all)"
            )
        if batch and isinstance(cmd, list) and any("{artifacts}" in a and a != "{artifacts}" for a in cmd):
            raise ConfigError(f'{id}.cmd: "{{artifacts}}" must be a whole argument of the list')
        self.batch = batch

    def command_for(self, artifact: Path) -> list[str] | str:
        """The command for one artifact (`{artifact}` mode)."""
        cmd = self.config["cmd"]
        if isinstance(cmd, str):
            return cmd.replace("{artifact}", shlex.quote(str(artifact)))
        return [arg.replace("{artifact}", str(artifact)) for arg in cmd]

    def batch_command(self, artifacts: list[Path]) -> list[str] | str:
        """The one command for all artifacts (`{artifacts}` mode): one argument each, or shell-quoted."""
        cmd = self.config["cmd"]
        if isinstance(cmd, str):
            return cmd.replace("{artifacts}", " ".join(shlex.quote(str(a)) for a in artifacts))
        out: list[str] = []
        for arg in cmd:
            if arg == "{artifacts}":
                out.extend(str(a) for a in artifacts)
            else:
                out.append(arg)
        return out

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        from gryt.context import RunContext
        from gryt.process import run_command

        context = self.context if self.context is not None else RunContext()
        env = {**os.environ, **context.env, **{str(k): str(v) for k, v in self.config["env"].items()}}
        commands = (
            [(artifacts, self.batch_command(artifacts))]
            if self.batch
            else [([a], self.command_for(a)) for a in artifacts]
        )
        results: list[dict[str, Any]] = []
        for covered, command in commands:
            out = run_command(
                command,
                shell=self.config["shell"],
                env=env,
                cwd=self.config["cwd"],
                timeout=self.config["timeout"] or None,
                masker=context.masker,
                log=self.log,
                show=context.show,
                cancel=context.cancel,
            )
            for artifact in covered:
                result: dict[str, Any] = {
                    "artifact": str(artifact),
                    "status": SUCCESS if out.ok else ERROR,
                    "returncode": out.returncode,
                    "stdout": out.stdout,
                    "stderr": out.stderr,
                    "duration": round(out.duration, 6),
                }
                if not out.ok:
                    result["error"] = out.error or "failed"
                results.append(result)
        return results


class DirectoryDestination(Destination):
    """Copy each artifact (file or folder) into the folder `path`, created when missing."""

    name = "directory"
    summary = "Copy artifacts into a folder"
    config_keys = (ConfigKey("path", str, None, "Folder the artifacts are copied into", required=True),)

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        target_dir = Path(self.config["path"])
        by_name: dict[str, Path] = {}
        for artifact in map(Path, artifacts):
            other = by_name.setdefault(artifact.name, artifact)
            if other != artifact:
                message = f"{other} and {artifact} would both be copied to {target_dir / artifact.name}"
                return [{"artifact": None, "status": ERROR, "error": f"duplicate file name: {message}"}]
        results: list[dict[str, Any]] = []
        for artifact in map(Path, artifacts):
            if not artifact.exists():
                results.append(_error(artifact, f"artifact not found: {artifact}"))
                continue
            target = target_dir / artifact.name
            try:
                target_dir.mkdir(parents=True, exist_ok=True)
                if artifact.is_dir():
                    shutil.copytree(artifact, target, dirs_exist_ok=True)
                else:
                    shutil.copy2(artifact, target)
            except OSError as exc:
                results.append(_error(artifact, f"cannot copy to {target}: {exc.strerror or exc}"))
                continue
            if self.log is not None:
                self.log.write(f"copied {artifact} -> {target}\n")
            results.append({"artifact": str(artifact), "status": SUCCESS, "path": str(target)})
        return results

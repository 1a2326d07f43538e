"""Destinations publish artifacts once every runner of a run succeeded."""

from __future__ import annotations

import os
import shlex
import shutil
from abc import ABC, abstractmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.config import ConfigKey, resolve_config
from gryt.errors import ConfigError
from gryt.status import ERROR, SUCCESS
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.context import RunContext


class Destination(Registrable, ABC):
    """Publish artifacts somewhere; one result dict per artifact with `artifact` and `status`."""

    def __init__(self, id: str, config: dict[str, Any] | None = None) -> None:
        self.id = id
        self.config: dict[str, Any] = resolve_config(self.config_keys, config, where=id)
        self.context: RunContext | None = None

    @abstractmethod
    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        """Publish each artifact; report failures in the dicts (`status: "error"`, `error`)."""


def _error(artifact: Path, message: str) -> dict[str, Any]:
    return {"artifact": str(artifact), "status": ERROR, "error": message}


class CommandDestination(Destination):
    """Run `cmd` once per artifact, with `{artifact}` replaced by the artifact's path."""

    name = "command"
    summary = "Publish each artifact by running a command ({artifact} is replaced by its path)"
    config_keys = (
        ConfigKey(
            "cmd", (list, str), None, "Command with an {artifact} placeholder", required=True, items=str
        ),
        ConfigKey("shell", bool, False, "Run cmd through /bin/sh (the path is shell-quoted)"),
        ConfigKey("env", dict, {}, "Environment variables merged onto the inherited environment"),
        ConfigKey("cwd", str, None, "Working directory"),
        ConfigKey(
            "timeout", (int, float), None, "Seconds before the command is killed (0: no limit)", minimum=0
        ),
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(id, config)
        cmd = self.config["cmd"]
        if isinstance(cmd, str) and not self.config["shell"]:
            raise ConfigError(f"{id}.cmd: a string needs shell = true; or give a list of arguments")
        if not cmd:
            raise ConfigError(f"{id}.cmd: the command is empty")
        text = cmd if isinstance(cmd, str) else " ".join(cmd)
        if "{artifact}" not in text:
            raise ConfigError(f"{id}.cmd: must contain the {{artifact}} placeholder")

    def command_for(self, artifact: Path) -> list[str] | str:
        cmd = self.config["cmd"]
        if isinstance(cmd, str):
            return cmd.replace("{artifact}", shlex.quote(str(artifact)))
        return [arg.replace("{artifact}", str(artifact)) for arg in cmd]

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        from gryt.context import RunContext
        from gryt.process import run_command

        context = self.context if self.context is not None else RunContext()
        env = {**os.environ, **context.env, **{str(k): str(v) for k, v in self.config["env"].items()}}
        results: list[dict[str, Any]] = []
        for artifact in artifacts:
            out = run_command(
                self.command_for(artifact),
                shell=self.config["shell"],
                env=env,
                cwd=self.config["cwd"],
                timeout=self.config["timeout"] or None,
                masker=context.masker,
                cancel=context.cancel,
            )
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
            results.append({"artifact": str(artifact), "status": SUCCESS, "path": str(target)})
        return results

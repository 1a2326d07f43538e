"""DockerRegistryAuth: log in to a container registry for one run and leave no credential behind."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.auth import Auth
from gryt.command import run_short_command
from gryt.config import MAX_SECONDS, ConfigKey
from gryt.errors import ConfigError, GrytError
from gryt_auth_docker.docker_config import (
    CONFIG_FILE,
    RunScopedConfig,
    auth_value,
    store_in_user_config,
    user_config_dir,
)
from gryt_auth_docker.registry import parse_registry

if TYPE_CHECKING:
    from gryt.data import Data

METHODS = ("auto", "docker-cli", "api")
DEFAULT_TIMEOUT = 30
"""Seconds for the registry, docker or token_command; also used for an explicit `timeout = None`."""


class _Failure(Exception):
    """A login failure whose message is the one-line `error` of the result."""


class DockerRegistryAuth(Auth):
    """Log in to a container registry (Docker Hub, GHCR, GitLab, ECR, self-hosted) with the docker CLI
    or the Registry HTTP API, into a run-scoped Docker config exported as `DOCKER_CONFIG` and
    `REGISTRY_AUTH_FILE`; `cleanup()` deletes it."""

    name: ClassVar[str] = "docker-registry"
    summary: ClassVar[str] = "Log in to a container registry for the run (docker CLI or Registry API)"
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        ConfigKey("registry", str, "docker.io", "registry host, e.g. ghcr.io or host:5000"),
        ConfigKey("username", str, None, "user name; overrides username_env_var"),
        ConfigKey("username_env_var", str, "DOCKER_USERNAME", "environment variable holding the user name"),
        ConfigKey("token_env_var", str, "DOCKER_TOKEN", "environment variable holding the token or password"),
        ConfigKey(
            "token_command",
            list,
            None,
            "command whose stdout is the token, e.g. aws ecr get-login-password",
            items=str,
            non_empty=True,
        ),
        ConfigKey(
            "method",
            str,
            "auto",
            "auto (docker-cli when docker is on PATH), docker-cli or api",
            choices=METHODS,
        ),
        ConfigKey("insecure", bool, False, "allow plain http to a non-loopback registry"),
        ConfigKey(
            "keep", bool, False, "store the login in the user's own Docker config instead of a run-scoped one"
        ),
        ConfigKey(
            "timeout",
            (int, float),
            DEFAULT_TIMEOUT,
            "seconds to wait for the registry, docker or token_command",
            positive=True,
            maximum=MAX_SECONDS,
        ),
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None, data: Data | None = None) -> None:
        super().__init__(id, config, data)
        cfg = self.config
        if cfg["token_command"] == []:
            raise ConfigError(f"{id}.token_command: expected a command and its arguments, got []")
        self.address = parse_registry(cfg["registry"], insecure=bool(cfg["insecure"]), where=f"{id}.registry")
        self.timeout = float(cfg["timeout"] or DEFAULT_TIMEOUT)
        self.scoped: RunScopedConfig | None = None
        self._inherited: dict[str, str | None] = {}

    def authenticate(self) -> dict[str, Any]:
        """Read the credentials, log in, write the config and export it; the token never leaves stdin,
        a request header or the config file."""
        env = self._environment()
        self._discard_config()
        result: dict[str, Any] = {
            "status": "error",
            "registry": self.address.name,
            "username": None,
            "method": self._method(env),
        }
        try:
            username = self._username(env)
            result["username"] = username
            token = self._read_token(env)
            self.add_secret(auth_value(username, token))
            if result["method"] == "docker-cli":
                config_dir = self._login_docker_cli(env, username, token)
            else:
                config_dir = self._login_api(env, username, token)
        except _Failure as exc:
            result["error"] = self._clean(str(exc))
            return result
        for name, value in (
            ("DOCKER_CONFIG", str(config_dir)),
            ("REGISTRY_AUTH_FILE", str(config_dir / CONFIG_FILE)),
        ):
            self._inherited.setdefault(name, env.get(name))
            self.export(name, value)
        result["status"] = "success"
        return result

    def cleanup(self) -> None:
        """Delete the run-scoped config directory (nothing to do with `keep = true`)."""
        scoped, self.scoped = self.scoped, None
        if scoped is not None:
            scoped.remove()

    def known_secrets(self) -> list[str]:
        """The token in gryt's environment (when read from `token_env_var`), masked from the start of
        the run; a `token_command`'s token is only known once it ran."""
        if self.config["token_command"]:
            return []
        token = os.environ.get(str(self.config["token_env_var"]), "").strip()
        return [token] if token else []

    def _environment(self) -> dict[str, str]:
        """The environment later steps see: the process environment plus what the run exported so far,
        with this step's own earlier exports replaced by what it inherited (for a repeated login)."""
        env = dict(os.environ)
        if self.context is not None:
            env.update(self.context.env)
        for name, value in self._inherited.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def _method(self, env: Mapping[str, str]) -> str:
        method = str(self.config["method"] or "auto")
        if method == "auto":
            return "docker-cli" if shutil.which("docker", path=env.get("PATH")) else "api"
        return method

    def _username(self, env: Mapping[str, str]) -> str:
        if self.config["username"]:
            return str(self.config["username"])
        var = str(self.config["username_env_var"])
        value = env.get(var, "").strip()
        if not value:
            raise _Failure(
                f"environment variable {var} is not set (username_env_var); it must hold the user name"
            )
        return value

    def _read_token(self, env: Mapping[str, str]) -> str:
        command = self.config["token_command"]
        if command:
            token = self._run_token_command([str(a) for a in command], env)
        else:
            var = str(self.config["token_env_var"])
            token = env.get(var, "").strip()
            if not token:
                raise _Failure(
                    f"environment variable {var} is not set (token_env_var); it must hold the token"
                )
        self.add_secret(token)
        return token

    def _run_token_command(self, command: list[str], env: Mapping[str, str]) -> str:
        label = f"token_command {command[0]}"
        proc = run_short_command(command, timeout=self.timeout, env=env, label=label)  # stdout: the token
        if proc.timed_out:
            raise _Failure(f"{label} did not finish within {self.timeout:g} s")
        if proc.error is not None:
            raise _Failure(proc.error)
        token = proc.stdout.strip()
        self.add_secret(token)
        if proc.returncode != 0:
            raise _Failure(f"{label} exited with {proc.returncode}{_last_line(self.mask(proc.stderr))}")
        if not token:
            raise _Failure(f"{label} printed no token on stdout")
        return token

    def _prepare_config(self, env: Mapping[str, str]) -> RunScopedConfig:
        source = user_config_dir(env)
        try:
            self.scoped = RunScopedConfig.create(source, self.address.config_key)
        except (GrytError, OSError) as exc:
            raise _Failure(f"cannot prepare a run-scoped Docker config from {source}: {exc}") from None
        return self.scoped

    def _discard_config(self) -> None:
        if self.scoped is not None:
            self.scoped.remove()
            self.scoped = None

    def _login_docker_cli(self, env: Mapping[str, str], username: str, token: str) -> Path:
        docker = shutil.which("docker", path=env.get("PATH"))
        if docker is None:
            raise _Failure(
                'docker CLI not found on PATH (method = "docker-cli"); install it or use method = "api"'
            )
        config_dir = user_config_dir(env) if self.config["keep"] else self._prepare_config(env).path
        argv = [docker, "--config", str(config_dir), "login", self.address.cli_name]
        argv += ["--username", username, "--password-stdin"]
        proc = run_short_command(
            argv, timeout=self.timeout, env=env, input=token, secrets=self.secrets, label=docker
        )
        if proc.ok:
            return config_dir
        self._discard_config()
        if proc.timed_out:
            raise _Failure(f"docker login to {self.address.name} did not finish within {self.timeout:g} s")
        if proc.error is not None:
            raise _Failure(proc.error)
        detail = _last_line(proc.stderr + "\n" + proc.stdout)
        raise _Failure(f"docker login to {self.address.name} failed (exit {proc.returncode}){detail}")

    def _login_api(self, env: Mapping[str, str], username: str, token: str) -> Path:
        from gryt_auth_docker.registry_api import LoginError, login

        try:
            login(
                self.address,
                username,
                token,
                timeout=self.timeout,
                insecure=bool(self.config["insecure"]),
                add_secret=self.add_secret,
            )
        except LoginError as exc:
            raise _Failure(str(exc)) from None
        if self.config["keep"]:
            config_dir = user_config_dir(env)
            try:
                store_in_user_config(
                    config_dir, self.address.config_key, username, token, env=env, timeout=self.timeout
                )
            except (GrytError, OSError) as exc:
                raise _Failure(f"cannot save the login in {config_dir}: {exc}") from None
            return config_dir
        scoped = self._prepare_config(env)
        try:
            scoped.set_auth(self.address.config_key, username, token)
        except (GrytError, OSError) as exc:
            self._discard_config()
            raise _Failure(f"cannot write {scoped.config_file}: {exc}") from None
        return scoped.path

    def _clean(self, message: str) -> str:
        """One line, with the token masked even when no run context masks it later."""
        return self.mask(" ".join(message.split()))


def _last_line(text: str) -> str:
    """': <last non-empty line>' of a tool's (already masked) output, or ''."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return ": " + lines[-1] if lines else ""

"""Docker config files: the run-scoped config directory a login writes to, and the user's own config.

A run-scoped directory holds a copy of the source `config.json` without `credsStore` (and without a
`credHelpers` entry for the registry being logged in to), so credentials land in that file and nowhere
else; `remove()` (also run at interpreter exit as a safety net) deletes the whole directory.
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gryt.command import run_short_command
from gryt.errors import GrytError

CONFIG_FILE = "config.json"
LINKED_DIRS = ("cli-plugins", "contexts", "buildx")
"""Sub-directories of the source config that are linked, not copied: CLI plugins (buildx), contexts and
builder state keep working under the run-scoped config and hold no registry credentials."""


class DockerConfigError(GrytError):
    """A Docker config file that cannot be read or written; the message names the file."""


def user_config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The Docker config directory in effect: `$DOCKER_CONFIG`, else `~/.docker`."""
    environ = os.environ if env is None else env
    configured = environ.get("DOCKER_CONFIG")
    if configured:
        return Path(configured).expanduser()
    home = environ.get("HOME")
    return (Path(home) if home else Path.home()) / ".docker"


def auth_value(username: str, token: str) -> str:
    """The `auths` entry value Docker stores: base64 of `user:token`."""
    return base64.b64encode(f"{username}:{token}".encode()).decode("ascii")


def load_config(path: Path) -> dict[str, Any]:
    """Read a Docker `config.json`; a missing or empty file is an empty config."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise DockerConfigError(f"cannot read Docker config {path}: {exc.strerror}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise DockerConfigError(f"Docker config {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise DockerConfigError(f"Docker config {path} is not a JSON object")
    return data


def write_config(path: Path, data: Mapping[str, Any]) -> None:
    """Write `data` atomically with mode 0600 (a reader never sees a half-written credential file)."""
    import tempfile  # here, not at module level: importing the plugin stays cheap for every gryt command

    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".config.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent="\t")
            handle.write("\n")
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _auths(config: dict[str, Any]) -> dict[str, Any]:
    auths = config.get("auths")
    if not isinstance(auths, dict):
        auths = {}
        config["auths"] = auths
    return auths


class RunScopedConfig:
    """A private Docker config directory for one run; delete it with `remove()`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.config_file = path / CONFIG_FILE
        atexit.register(self.remove)

    @classmethod
    def create(cls, source_dir: Path, registry_key: str) -> RunScopedConfig:
        """Copy `source_dir`'s config.json minus credential stores into a new 0700 temp directory.

        The copy always contains an `auths` entry for `registry_key`: with no auths at all, the docker
        CLI would pick the platform's default credential store and write the login there instead.
        """
        config = load_config(source_dir / CONFIG_FILE)
        config.pop("credsStore", None)
        helpers = config.get("credHelpers")
        if isinstance(helpers, dict):
            helpers.pop(registry_key, None)
            if not helpers:
                config.pop("credHelpers")
        _auths(config).setdefault(registry_key, {})
        import tempfile  # here, not at module level: importing the plugin stays cheap for every gryt command

        scoped = cls(Path(tempfile.mkdtemp(prefix="gryt-docker-")))
        try:
            write_config(scoped.config_file, config)
            for name in LINKED_DIRS:
                target = source_dir / name
                if target.is_dir():
                    (scoped.path / name).symlink_to(target.resolve(), target_is_directory=True)
        except BaseException:
            scoped.remove()
            raise
        return scoped

    def set_auth(self, registry_key: str, username: str, token: str) -> None:
        """Store `username`/`token` for `registry_key` inline in this config."""
        config = load_config(self.config_file)
        _auths(config)[registry_key] = {"auth": auth_value(username, token)}
        write_config(self.config_file, config)

    def remove(self) -> None:
        """Delete the directory (symlinked sub-directories are unlinked, never followed)."""
        atexit.unregister(self.remove)
        if self.path.exists():
            shutil.rmtree(self.path)


def store_in_user_config(
    config_dir: Path, registry_key: str, username: str, token: str, *, env: Mapping[str, str], timeout: float
) -> None:
    """Save a login in the user's own config (`keep = true`), through its credential helper if one is set."""
    config_file = config_dir / CONFIG_FILE
    config = load_config(config_file)
    helpers = config.get("credHelpers")
    helper = helpers.get(registry_key) if isinstance(helpers, dict) else None
    helper = helper or config.get("credsStore")
    if isinstance(helper, str) and helper:
        _store_with_helper(helper, registry_key, username, token, env=env, timeout=timeout)
        entry: dict[str, Any] = {}
    else:
        entry = {"auth": auth_value(username, token)}
    _auths(config)[registry_key] = entry
    write_config(config_file, config)


def _store_with_helper(
    helper: str, registry_key: str, username: str, token: str, *, env: Mapping[str, str], timeout: float
) -> None:
    program = f"docker-credential-{helper}"
    executable = shutil.which(program, path=env.get("PATH"))
    if executable is None:
        raise DockerConfigError(f"credential helper {program} (credsStore/credHelpers) is not on PATH")
    payload = json.dumps({"ServerURL": registry_key, "Username": username, "Secret": token})
    proc = run_short_command(
        [executable, "store"],
        timeout=timeout,
        env=env,
        input=payload,
        secrets=[token, auth_value(username, token)],
        label=f"credential helper {program}",
    )
    if proc.timed_out:
        raise DockerConfigError(f"credential helper {program} did not finish within {timeout:g} s")
    if proc.error is not None:
        raise DockerConfigError(proc.error)
    if proc.returncode != 0:
        lines = [line for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
        raise DockerConfigError(
            f"credential helper {program} failed (exit {proc.returncode})"
            + (f": {lines[-1].strip()}" if lines else "")
        )

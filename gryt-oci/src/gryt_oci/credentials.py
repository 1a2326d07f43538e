"""Registry credentials from Docker config files: the run-scoped one a `docker-registry` auth step exported
(`DOCKER_CONFIG` / `REGISTRY_AUTH_FILE`), else the user's `~/.docker/config.json`.

An `auths` entry holds `auth` (base64 `user:token`), or `username`/`password`, and possibly an
`identitytoken`; a `credHelpers` entry for the registry or a `credsStore` names a
`docker-credential-<name>` helper, which is asked with `get` (the server name on stdin, JSON on stdout).
"""

from __future__ import annotations

import base64
import binascii
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gryt.command import run_short_command
from gryt.errors import GrytError
from gryt_oci.reference import Repository

CONFIG_FILE = "config.json"


class CredentialsError(GrytError):
    """A Docker config or credential helper that cannot be used; the message names it."""


@dataclass(frozen=True)
class Credentials:
    """A user name and a password/token, or an OAuth2 identity (refresh) token; `source` says where from."""

    username: str
    password: str
    identity_token: str
    source: str

    def secrets(self) -> list[str]:
        """Every value to mask: the password, the identity token and the base64 `auth` value."""
        values = [self.password, self.identity_token]
        if self.password:
            values.append(base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii"))
        return [v for v in values if v]


def config_files(env: Mapping[str, str]) -> list[Path]:
    """The files searched, in order: `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`), then
    `$REGISTRY_AUTH_FILE` (podman/skopeo's name for the same format)."""
    configured = env.get("DOCKER_CONFIG")
    if configured:
        files = [Path(configured).expanduser() / CONFIG_FILE]
    else:
        home = env.get("HOME")
        files = [(Path(home) if home else Path.home()) / ".docker" / CONFIG_FILE]
    auth_file = env.get("REGISTRY_AUTH_FILE")
    if auth_file and Path(auth_file).expanduser() not in files:
        files.append(Path(auth_file).expanduser())
    return files


def find_credentials(repository: Repository, env: Mapping[str, str], *, timeout: float) -> Credentials | None:
    """The first credentials for `repository`'s registry in `config_files(env)`; None when there are none."""
    keys = repository.config_keys()
    for path in config_files(env):
        config = _load(path)
        if not config:
            continue
        helper = _helper_for(config, keys)
        if helper is not None:
            found = _from_helper(helper, keys[0], env, timeout)
            if found is not None:
                return found
        entry = _entry_for(config.get("auths"), keys)
        if entry is not None:
            found = _from_entry(entry, path)
            if found is not None:
                return found
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CredentialsError(f"cannot read Docker config {path}: {exc.strerror or exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CredentialsError(f"Docker config {path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"Docker config {path} is not a JSON object")
    return data


def _normalize(key: str) -> str:
    """An `auths` key as a bare host: `https://host:5000/v1/` -> `host:5000`."""
    text = key.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    return text.split("/", 1)[0]


def _entry_for(auths: Any, keys: list[str]) -> dict[str, Any] | None:
    if not isinstance(auths, dict):
        return None
    for key in keys:  # exact spelling first, as Docker writes it
        if isinstance(auths.get(key), dict):
            entry: dict[str, Any] = auths[key]
            return entry
    wanted = {_normalize(k) for k in keys}
    for key, entry in auths.items():
        if isinstance(entry, dict) and _normalize(str(key)) in wanted:
            return entry
    return None


def _helper_for(config: dict[str, Any], keys: list[str]) -> str | None:
    helpers = config.get("credHelpers")
    if isinstance(helpers, dict):
        for key in keys:
            if isinstance(helpers.get(key), str) and helpers[key]:
                return str(helpers[key])
    store = config.get("credsStore")
    return store if isinstance(store, str) and store else None


def _from_entry(entry: dict[str, Any], path: Path) -> Credentials | None:
    username = str(entry.get("username") or "")
    password = str(entry.get("password") or "")
    identity = str(entry.get("identitytoken") or "")
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            decoded = base64.b64decode(auth, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise CredentialsError(
                f"Docker config {path}: an auths entry is not base64 of user:token"
            ) from None
        user, sep, secret = decoded.partition(":")
        if not sep:
            raise CredentialsError(f"Docker config {path}: an auths entry is not base64 of user:token")
        username, password = user, secret
    if not (password or identity):
        return None
    return Credentials(username, password, identity, str(path))


def _from_helper(helper: str, server: str, env: Mapping[str, str], timeout: float) -> Credentials | None:
    """Ask `docker-credential-<helper> get`; None when it has nothing for `server`."""
    program = f"docker-credential-{helper}"
    executable = shutil.which(program, path=env.get("PATH"))
    if executable is None:
        raise CredentialsError(f"credential helper {program} (credsStore/credHelpers) is not on PATH")
    proc = run_short_command(
        [executable, "get"], timeout=timeout, env=env, input=server, label=f"credential helper {program}"
    )
    if proc.timed_out:
        raise CredentialsError(f"credential helper {program} did not finish within {timeout:g} s")
    if proc.error is not None:
        raise CredentialsError(proc.error)
    if proc.returncode != 0:
        if "not found" in (proc.stdout + proc.stderr).lower():
            return None
        detail = proc.last_line()
        raise CredentialsError(
            f"credential helper {program} failed (exit {proc.returncode})" + (f": {detail}" if detail else "")
        )
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        raise CredentialsError(f"credential helper {program} did not print JSON") from None
    if not isinstance(data, dict) or not data.get("Secret"):
        return None
    username, secret = str(data.get("Username") or ""), str(data["Secret"])
    if username == "<token>":  # Docker's marker for an identity token
        return Credentials("", "", secret, f"credential helper {program}")
    return Credentials(username, secret, "", f"credential helper {program}")

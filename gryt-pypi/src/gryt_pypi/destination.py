"""PypiDestination: upload wheels and sdists to a package index with twine, one result per file."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.config import MAX_SECONDS, ConfigKey
from gryt.destination import Destination
from gryt.errors import ConfigError
from gryt.status import ERROR, SKIPPED, SUCCESS

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.process import CommandOutput
    from gryt_pypi.index import Listing

DEFAULT_TIMEOUT = 300
"""Seconds for each twine run and each request to the index, unless `timeout` says otherwise."""
DIST_SUFFIXES = (".whl", ".tar.gz", ".zip")
TOKEN_USERNAME = "__token__"


class _Failure(Exception):
    """A failure that applies to every artifact: its message is their `error`."""


@dataclass(frozen=True)
class _Dist:
    """One artifact to upload, with what its file name says."""

    path: Path
    name: str
    version: str
    digest: str


@dataclass(frozen=True)
class _Target:
    """Where and as whom to upload; `password` is a registered secret."""

    url: str
    username: str
    password: str
    credentials: str


class PypiDestination(Destination):
    """Upload the selected wheels and sdists to a package index with `twine upload` (run with this
    interpreter, its output logged and masked), the token passed through twine's environment."""

    name: ClassVar[str] = "pypi"
    summary: ClassVar[str] = "Upload wheels and sdists to a package index with twine"
    secret_env_keys: ClassVar[tuple[str, ...]] = ("token_env_var",)
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        ConfigKey(
            "repository_url",
            str,
            None,
            "upload URL of the index (default: the public index); the names pypi and testpypi work too",
            non_empty=True,
        ),
        ConfigKey(
            "repository", str, None, "section of the .pypirc to take URL and credentials from", non_empty=True
        ),
        ConfigKey("pypirc", str, None, "path of the .pypirc file (default: ~/.pypirc)", non_empty=True),
        ConfigKey(
            "username",
            str,
            None,
            "user name (default: the .pypirc section's, else __token__)",
            non_empty=True,
        ),
        ConfigKey(
            "token_env_var",
            str,
            "PYPI_TOKEN",
            "environment variable holding the token or password",
            non_empty=True,
        ),
        ConfigKey(
            "skip_existing", bool, False, "report files already on the index as existing instead of failing"
        ),
        ConfigKey("check", bool, False, "run twine check first; upload nothing when a file fails it"),
        ConfigKey("attestations", bool, False, "upload the .attestation files found next to each file"),
        ConfigKey(
            "trusted_publishing",
            (str, bool),
            "auto",
            "exchange the CI's OIDC token for an upload token: auto (when no token is set), true or false",
            choices=("auto", True, False),
        ),
        ConfigKey(
            "simple_url",
            str,
            None,
            "the index's simple API root, to see which files exist (default: derived from repository_url)",
            non_empty=True,
        ),
        ConfigKey(
            "timeout",
            (int, float),
            DEFAULT_TIMEOUT,
            "seconds for each twine run and each request to the index",
            positive=True,
            maximum=MAX_SECONDS,
        ),
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(id, config)
        for key in ("repository_url", "simple_url"):
            value = self.config[key]
            if value is not None and value not in _named() and not re.match(r"https?://[^/\s]+", value):
                raise ConfigError(f'{id}.{key}: expected an http(s) URL or "pypi"/"testpypi", got "{value}"')
        if self.config["simple_url"] in _named():
            raise ConfigError(f"{id}.simple_url: expected an http(s) URL, got a repository name")
        self.timeout = float(self.config["timeout"] or DEFAULT_TIMEOUT)

    def known_secrets(self) -> list[str]:
        """The token in `token_env_var` and a password in `repository_url`, masked from the run's start."""
        from urllib.parse import unquote, urlsplit

        password = urlsplit(str(self.config["repository_url"] or "")).password
        return [*super().known_secrets(), *([unquote(password)] if password else [])]

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        """Upload each wheel and sdist in turn: one result per artifact, failures included (never raises
        for a refused upload, an unreachable index or bad credentials)."""
        from gryt.context import RunContext

        context = self.context if self.context is not None else RunContext()
        env = {**os.environ, **context.env}
        results: list[dict[str, Any]] = []
        dists: list[_Dist] = []
        for artifact in map(Path, artifacts):
            dist, problem = _describe(artifact)
            if dist is None:
                results.append(_error(artifact, problem))
            else:
                dists.append(dist)
        if not dists:
            return results
        try:
            target = self._target(env, context)
        except _Failure as exc:
            message = context.masker.mask(str(exc))
            return results + [{**_details(d), **_error(d.path, message)} for d in dists]
        self._note(context, f"uploading to {target.url} as {target.username} ({target.credentials})")
        if self.config["check"]:
            failed = self._check(dists, env, context)
            if failed:
                for dist in dists:
                    reason = failed.get(dist.path) or "not uploaded: twine check failed for another file"
                    status = ERROR if dist.path in failed else SKIPPED
                    results.append({**_details(dist, target), "status": status, "error": reason})
                return results
        listings: dict[str, Listing | None] = {}
        for dist in dists:
            if context.cancel.is_set():
                results.append({**_details(dist, target), "status": SKIPPED, "error": "interrupted"})
                continue
            results.append(self._upload(dist, target, env, context, listings))
        return results

    def _target(self, env: Mapping[str, str], context: RunContext) -> _Target:
        """URL and credentials: `repository_url`, else the `.pypirc` section's URL, else the public index;
        a minted token (trusted publishing), else the token variable, else a password from the URL's
        `user:password@` or the section. The URL handed to twine never holds credentials."""
        from urllib.parse import unquote, urlsplit

        from gryt_pypi import oidc
        from gryt_pypi.index import IndexRequestError, read_pypirc, without_credentials

        cfg = self.config
        section_url = section_user = section_password = None
        if cfg["repository"]:
            path = Path(cfg["pypirc"] or "~/.pypirc").expanduser()
            try:
                section = read_pypirc(path, str(cfg["repository"]))
            except IndexRequestError as exc:
                raise _Failure(str(exc)) from None
            context.add_secret(section.password)
            section_url, section_user, section_password = (
                section.repository,
                section.username,
                section.password,
            )
        given = _url(cfg["repository_url"] or section_url or "pypi")
        parts = urlsplit(given)
        url_user = unquote(parts.username) if parts.username else None
        url_password = unquote(parts.password) if parts.password else None
        context.add_secret(url_password)
        url = without_credentials(given)
        var = str(cfg["token_env_var"])
        token = self.env_secret("token_env_var", env)
        context.add_secret(token)
        mode = cfg["trusted_publishing"]
        stored = url_password or section_password
        if mode is True or (mode == "auto" and not token and not stored and oidc.available(env)):
            try:
                minted = oidc.mint_token(url, env, timeout=self.timeout, add_secret=context.add_secret)
            except oidc.TrustedPublishingError as exc:
                raise _Failure(str(exc)) from None
            return _Target(url, TOKEN_USERNAME, minted, "trusted publishing")
        username = cfg["username"] or url_user or section_user or TOKEN_USERNAME
        if token:
            return _Target(url, username, token, f"token from {var}")
        if url_password:
            return _Target(url, username, url_password, "password in repository_url")
        if section_password:
            return _Target(url, username, section_password, f".pypirc section {cfg['repository']}")
        raise _Failure(
            f"environment variable {var} is not set (token_env_var); set it to an upload token, or run in"
            " GitHub Actions with `permissions: id-token: write` for trusted publishing"
        )

    def _twine(
        self, args: list[str], env: Mapping[str, str], context: RunContext, **extra: str
    ) -> CommandOutput:
        """`python -m twine ARGS` with this interpreter, output masked into the log and captured."""
        from gryt.process import run_command

        tool_env = {
            **env,
            **extra,
            "COLUMNS": "200",
            "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        }
        return run_command(
            [sys.executable, "-m", "twine", "--no-color", *args],
            env=tool_env,
            timeout=self.timeout,
            masker=context.masker,
            log=self.log,
            show=context.show,
            cancel=context.cancel,
        )

    def _check(self, dists: list[_Dist], env: Mapping[str, str], context: RunContext) -> dict[Path, str]:
        """`twine check` of every file: the failed ones with twine's message."""
        out = self._twine(["check", *(str(d.path) for d in dists)], env, context)
        if out.ok:
            return {}
        text = out.stdout + "\n" + out.stderr
        failed: dict[Path, str] = {}
        for dist in dists:
            block = re.search(
                rf"^Checking {re.escape(str(dist.path))}: FAILED\s*$(.*?)(?=^Checking |\Z)", text, re.M | re.S
            )
            if block:
                failed[dist.path] = "twine check failed: " + _one_line(block.group(1), drop_level=True)
        if not failed:  # twine failed before checking (a missing file, twine itself missing)
            reason = "twine check failed: " + (_error_text(text) or out.error or "no output")
            failed = {d.path: reason for d in dists}
        return failed

    def _upload(
        self,
        dist: _Dist,
        target: _Target,
        env: Mapping[str, str],
        context: RunContext,
        listings: dict[str, Listing | None],
    ) -> dict[str, Any]:
        """Upload one file (unless `skip_existing` finds it on the index) and say where it now is."""
        from gryt_pypi.index import is_public

        result = _details(dist, target)
        public = is_public(target.url)
        if self.config["skip_existing"] and not public:
            try:
                listing = self._listing(dist, target, listings, refresh=False)
            except _Failure as exc:
                return {**result, **_error(dist.path, f"cannot tell whether it exists: {exc}")}
            if listing is not None and dist.path.name in listing.files:
                self._note(context, f"{dist.path.name} is already on the index: not uploaded (skip_existing)")
                return {**result, "status": SUCCESS, "existing": True, "url": listing.files[dist.path.name]}
        args = ["upload", "--non-interactive", "--disable-progress-bar", "--repository-url", target.url]
        if self.config["skip_existing"] and public:
            args.append("--skip-existing")
        if self.config["attestations"]:
            args.append("--attestations")
        out = self._twine(
            [*args, str(dist.path)],
            env,
            context,
            TWINE_USERNAME=target.username,
            TWINE_PASSWORD=target.password,
        )
        text = out.stdout + "\n" + out.stderr
        if not out.ok:
            return {**result, **_error(dist.path, self._upload_error(dist, target, out, listings))}
        if re.search(rf"Skipping {re.escape(dist.path.name)} because it appears to already exist", text):
            result["existing"] = True
        result["status"] = SUCCESS
        view = re.search(r"^View at:\s*$\s*(\S+)", text, re.M)
        if view:
            result["url"] = view.group(1)
        elif not public:
            try:
                listing = self._listing(dist, target, listings, refresh=True)
            except _Failure as exc:
                self._note(context, f"uploaded, but the index could not be asked where: {exc}")
                listing = None
            if listing is not None:
                result["url"] = listing.files.get(dist.path.name, listing.page)
        return result

    def _upload_error(
        self, dist: _Dist, target: _Target, out: CommandOutput, listings: dict[str, Listing | None]
    ) -> str:
        """One line from twine's failure: the index's answer, and what to do about it."""
        from gryt_pypi.index import is_public

        if out.timed_out or out.interrupted or out.returncode is None:
            return f"twine upload {out.error}"
        detail = _error_text(out.stdout + "\n" + out.stderr) or out.error or "failed"
        if "No module named twine" in detail:
            return f"twine is not installed for {sys.executable}; install gryt-pypi with its dependencies"
        status = re.match(r"HTTPError: (\d{3}) (.*?) from \S+\s*(.*)$", detail)
        if status is None:
            return f"twine upload failed: {detail}"
        code, reason, text = status.groups()
        message = f"{target.url} refused the upload: HTTP {code} {reason}"
        if text and text != reason:
            message += f": {text}"
        if code in ("401", "403"):
            return f"{message}; check the credentials ({target.credentials}, user {target.username})"
        if code in ("400", "409") and not is_public(target.url):
            try:
                listing = self._listing(dist, target, listings, refresh=True)
            except _Failure:
                listing = None
            if listing is not None and dist.path.name in listing.files:
                return (
                    f"{message}; {dist.path.name} already exists on the index: bump the version,"
                    " or set skip_existing = true to skip files already uploaded"
                )
        return message

    def _listing(
        self, dist: _Dist, target: _Target, listings: dict[str, Listing | None], *, refresh: bool
    ) -> Listing | None:
        """The project's files on the index (asked once per project unless `refresh`)."""
        from gryt_pypi.index import IndexRequestError, project_files, simple_roots

        if refresh or dist.name not in listings:
            roots = simple_roots(target.url, self.config["simple_url"])
            try:
                listings[dist.name] = project_files(
                    roots, dist.name, auth=(target.username, target.password), timeout=self.timeout
                )
            except IndexRequestError as exc:
                raise _Failure(str(exc)) from None
        return listings[dist.name]

    def _note(self, context: RunContext, line: str) -> None:
        """A line of gryt-pypi's own in the destination's log, masked."""
        if self.log is not None:
            self.log.write(context.masker.mask(f"[gryt-pypi] {line}\n"))


def _named() -> dict[str, str]:
    """The repository names (`pypi`, `testpypi`) and their upload URLs."""
    from gryt_pypi.index import NAMED_REPOSITORIES

    return NAMED_REPOSITORIES


def _url(value: str) -> str:
    """A repository name or URL as an upload URL."""
    return _named().get(value, value)


def _describe(artifact: Path) -> tuple[_Dist | None, str]:
    """The artifact as a distribution (name and version from its file name, its SHA-256), or why not."""
    import hashlib

    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    if not artifact.name.endswith(DIST_SUFFIXES):
        return None, f"not a wheel or sdist ({', '.join(DIST_SUFFIXES)}): {artifact}"
    try:
        if artifact.name.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(artifact.name)
        else:
            name, version = parse_sdist_filename(artifact.name)
    except (InvalidWheelFilename, InvalidSdistFilename) as exc:
        return None, f"not a distribution file name: {exc}"
    digest = hashlib.sha256()
    try:
        with artifact.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        return None, f"cannot read {artifact}: {exc.strerror or exc}"
    return _Dist(artifact, str(name), str(version), f"sha256:{digest.hexdigest()}"), ""


def _details(dist: _Dist, target: _Target | None = None) -> dict[str, Any]:
    """The result keys known before uploading: what the file is and where it goes."""
    details: dict[str, Any] = {
        "artifact": str(dist.path),
        "name": dist.name,
        "version": dist.version,
        "filename": dist.path.name,
        "digest": dist.digest,
    }
    if target is not None:
        details["repository_url"] = target.url
    return details


def _error(artifact: Path, message: str) -> dict[str, Any]:
    """An error item for one artifact."""
    return {"artifact": str(artifact), "status": ERROR, "error": message}


_LEVEL = re.compile(r"^(ERROR|WARNING|INFO)\s+", re.M)


def _one_line(text: str, *, drop_level: bool = False) -> str:
    """twine's (wrapped, padded) output as one line; `drop_level` removes its log level prefixes."""
    if drop_level:
        text = _LEVEL.sub("", text)
    return " ".join(text.split())


def _error_text(text: str) -> str:
    """twine's `ERROR ...` block (its last one), as one line; '' when there is none."""
    starts = [m.end() for m in re.finditer(r"^ERROR\s+", text, re.M)]
    if not starts:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[-1] if lines else ""
    return _one_line(text[starts[-1] :], drop_level=True)

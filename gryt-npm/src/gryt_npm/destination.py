"""NpmDestination: `npm publish` each package folder or `npm pack` tarball to one registry, with the token
in a run-scoped npm config that is deleted when publishing ends."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.config import MAX_SECONDS, ConfigKey
from gryt.destination import Destination
from gryt.errors import ConfigError
from gryt.status import ERROR, SKIPPED, SUCCESS
from gryt_npm.package import NpmPackage, PackageError, read_package

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.process import CommandOutput

DEFAULT_TIMEOUT = 300
"""Seconds one `npm publish` may take before it is killed."""
ACCESS = ("public", "restricted")
_UNREACHABLE = {
    "ECONNREFUSED",
    "ECONNRESET",
    "ENOTFOUND",
    "EAI_AGAIN",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETUNREACH",
}
_AUTH = {"E401", "ENEEDAUTH"}
_CONFLICT = {"EPUBLISHCONFLICT", "E409"}
_STDERR_PREFIXES = ("npm error ", "npm ERR! ")
_STDERR_NOISE = ("code ", "syscall ", "errno ", "A complete log", "Log files were not written")


def parse_registry(value: str, where: str) -> tuple[str, str]:
    """The registry URL normalized with a trailing slash, and npm's key for its credentials in a config
    file (`//host:port/path/`, the "nerf dart"); raise ConfigError for anything but a plain http(s) URL."""
    parts = urllib.parse.urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: expected an http(s) URL such as https://npm.example.com/, got {value!r}")
    if parts.username is not None or parts.password is not None:
        raise ConfigError(f"{where}: put no credentials in the URL; the token comes from token_env_var")
    if parts.query or parts.fragment:
        raise ConfigError(f"{where}: the registry URL must have no query or fragment, got {value!r}")
    try:
        port = parts.port
    except ValueError:
        raise ConfigError(f"{where}: invalid port in {value!r}") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    netloc = host if port is None else f"{host}:{port}"
    path = parts.path.rstrip("/") + "/"
    return f"{parts.scheme}://{netloc}{path}", f"//{netloc}{path}"


class NpmDestination(Destination):
    """Publish npm packages (package folders or `npm pack` tarballs) with `npm publish` to `registry`.

    The token is read from `token_env_var`, masked for the whole run, and only ever referenced as
    `${VAR}` from a private, run-scoped npm config passed by `--userconfig`: never in argv, never in the
    user's `~/.npmrc`. That config's folder is deleted when publishing ends.
    """

    name: ClassVar[str] = "npm"
    summary: ClassVar[str] = "Publish npm package folders or npm pack tarballs with npm publish"
    secret_env_keys: ClassVar[tuple[str, ...]] = ("token_env_var",)
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        ConfigKey(
            "registry",
            str,
            None,
            "registry URL, e.g. https://npm.example.com/",
            required=True,
            non_empty=True,
        ),
        ConfigKey(
            "tag", str, "latest", "dist-tag the published version gets (npm publish --tag)", non_empty=True
        ),
        ConfigKey(
            "access",
            str,
            None,
            "public or restricted (npm publish --access; scoped packages); npm's default when unset",
            choices=ACCESS,
        ),
        ConfigKey(
            "token_env_var", str, "NPM_TOKEN", "environment variable holding the npm token", non_empty=True
        ),
        ConfigKey("dry_run", bool, False, "npm publish --dry-run: check and pack, publish nothing"),
        ConfigKey(
            "timeout",
            (int, float),
            DEFAULT_TIMEOUT,
            "seconds one npm publish may take before it is killed",
            positive=True,
            maximum=MAX_SECONDS,
        ),
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(id, config)
        self.registry, self.auth_key = parse_registry(str(self.config["registry"]), f"{id}.registry")
        self.timeout = float(self.config["timeout"] or DEFAULT_TIMEOUT)

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        """Check every artifact and the token first, then publish each in turn; failures are error items."""
        from gryt.context import RunContext

        context = self.context if self.context is not None else RunContext()
        env = {**os.environ, **context.env}
        token = self.env_secret("token_env_var", env)
        context.add_secret(token)
        npm = shutil.which("npm", path=env.get("PATH"))
        packages, problems = self._check(artifacts, token, npm)
        if problems or npm is None:
            return self._refused(artifacts, problems)
        if token:  # npm expands ${VAR} from its environment: give it the value gryt reads
            env[str(self.config["token_env_var"])] = token
        import tempfile  # here, not at module level: importing the plugin stays cheap for every gryt command

        try:
            workdir = Path(tempfile.mkdtemp(prefix="gryt-npm-"))
        except OSError as exc:
            problem = (
                f"cannot create the run-scoped npm config in {tempfile.gettempdir()}: {exc.strerror or exc}"
            )
            return self._refused(artifacts, {str(a): problem for a in artifacts})
        results: list[dict[str, Any]] = []
        try:
            config = self._write_config(workdir, bool(token))
            for package in packages:
                if context.cancel.is_set():
                    results.append(
                        self._item(package, SKIPPED, error="the run was interrupted before publishing")
                    )
                    continue
                results.append(self._publish_one(npm, package, config, env, context))
        finally:
            removal_error = _remove(workdir)
        if removal_error is not None:
            warning = f"could not remove the run-scoped npm config {workdir}: {removal_error}"
            if self.log is not None:
                self.log.write(f"[gryt] warning: {warning}\n")
            for result in results:
                result["warning"] = warning
        return results

    def _check(
        self, artifacts: list[Path], token: str, npm: str | None
    ) -> tuple[list[NpmPackage], dict[str, str]]:
        """Read every artifact's package.json; return the packages and, by artifact, what is wrong
        (everything when the token or npm is missing)."""
        packages: list[NpmPackage] = []
        problems: dict[str, str] = {}
        seen: dict[str, Path] = {}
        for artifact in artifacts:
            try:
                package = read_package(Path(artifact))
            except PackageError as exc:
                problems[str(artifact)] = str(exc)
                continue
            other = seen.setdefault(package.spec, Path(artifact))
            if other != Path(artifact):
                problems[str(artifact)] = f"{package.spec} is also the package of {other}; publish it once"
                continue
            packages.append(package)
        shared = None
        if not token and not self.config["dry_run"]:
            var = self.config["token_env_var"]
            shared = f"environment variable {var} is not set (token_env_var); it must hold the npm token for {self.registry}"
        elif npm is None:
            shared = "npm not found on PATH; install Node.js and npm"
        if shared is not None:
            problems = {str(a): problems.get(str(a), shared) for a in artifacts}
        return packages, problems

    def _refused(self, artifacts: list[Path], problems: dict[str, str]) -> list[dict[str, Any]]:
        """Nothing is published when a check failed: errors for the bad artifacts, the others skipped."""
        first = next(iter(problems))
        items: list[dict[str, Any]] = []
        for artifact in map(str, artifacts):
            if artifact in problems:
                items.append({"artifact": artifact, "status": ERROR, "error": problems[artifact]})
            else:
                reason = f"not published: {first} failed its checks ({problems[first]})"
                items.append({"artifact": artifact, "status": SKIPPED, "error": reason})
        return items

    def _write_config(self, workdir: Path, with_token: bool) -> dict[str, Path]:
        """The run-scoped npm files in `workdir` (mode 0700): a user config naming the registry and, by
        reference only, the token variable; an empty global config; a cache. A package.json makes
        `workdir` npm's project root, so no `.npmrc` of a folder above it is read."""
        userconfig = workdir / "npmrc"
        lines = [f"registry={self.registry}", "update-notifier=false", "fund=false", "audit=false"]
        if with_token:
            lines.append(f"{self.auth_key}:_authToken=${{{self.config['token_env_var']}}}")
        files = {
            "userconfig": userconfig,
            "globalconfig": workdir / "global-npmrc",
            "cache": workdir / "cache",
        }
        _write_private(userconfig, "\n".join(lines) + "\n")
        _write_private(files["globalconfig"], "")
        _write_private(workdir / "package.json", '{"private": true}\n')
        return files

    def _publish_one(
        self, npm: str, package: NpmPackage, files: dict[str, Path], env: dict[str, str], context: RunContext
    ) -> dict[str, Any]:
        from gryt.process import run_command

        argv = [
            npm,
            "publish",
            str(package.path.absolute()),
            "--registry",
            self.registry,
            "--tag",
            str(self.config["tag"]),
        ]
        if self.config["access"]:
            argv += ["--access", str(self.config["access"])]
        if self.config["dry_run"]:
            argv.append("--dry-run")
        argv += ["--json", "--logs-max=0"]
        argv += [f"--{key}={path}" for key, path in files.items()]
        if self.log is not None:
            self.log.write(context.masker.mask(f"$ {shlex.join(argv)}\n"))
        out = run_command(
            argv,
            env=env,
            cwd=str(files["userconfig"].parent),
            timeout=self.timeout,
            masker=context.masker,
            log=self.log,
            show=context.show,
            cancel=context.cancel,
        )
        report = _last_json(out.stdout)
        if not out.ok:
            item = self._item(package, ERROR, error=self._failure(package, out, report))
            item.update(returncode=out.returncode, stdout=out.stdout, stderr=out.stderr)
            return item
        details = _package_report(report, package.name)
        item = self._item(package, SUCCESS)
        if details.get("integrity"):
            item["digest"] = details["integrity"]
        if details.get("shasum"):
            item["shasum"] = details["shasum"]
        if not self.config["dry_run"]:
            basename = package.name.rsplit("/", 1)[-1]
            item["url"] = f"{self.registry}{package.name}/{package.version}"
            item["tarball"] = f"{self.registry}{package.name}/-/{basename}-{package.version}.tgz"
        return item

    def _item(self, package: NpmPackage, status: str, *, error: str | None = None) -> dict[str, Any]:
        item: dict[str, Any] = {
            "artifact": str(package.path),
            "status": status,
            "name": package.name,
            "version": package.version,
            "tag": self.config["tag"],
            "registry": self.registry,
            "dry_run": bool(self.config["dry_run"]),
        }
        if error is not None:
            item["error"] = error
        return item

    def _failure(self, package: NpmPackage, out: CommandOutput, report: Any) -> str:
        """One line saying why `npm publish` failed, with npm's own code and message."""
        what = f"npm publish of {package.spec} to {self.registry}"
        if out.timed_out:
            return f"{what} did not finish within {self.timeout:g} s (timeout)"
        if out.interrupted:
            return f"{what} was interrupted"
        if out.returncode is None:
            return f"{what} could not start: {out.error}"
        code, summary = _npm_error(report, out.stderr)
        said = " ".join(part for part in (code, summary) if part) or out.error or "failed"
        if code in _CONFLICT or "previously published" in summary or "cannot publish over" in summary:
            return f"{package.spec} is already on {self.registry}; publish a new version ({said})"
        if code in _AUTH:
            var = self.config["token_env_var"]
            return f"{self.registry} did not accept the token in {var} (token_env_var): {said}"
        if code in _UNREACHABLE:
            return f"registry {self.registry} is unreachable: {said}"
        return f"{what} failed: {said}"


def _write_private(path: Path, text: str) -> None:
    """Write `text` to a new file readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _remove(workdir: Path) -> str | None:
    """Delete the run-scoped folder; the reason when it could not be deleted."""
    try:
        shutil.rmtree(workdir)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _last_json(stdout: str) -> Any:
    """The JSON document `npm ... --json` printed last (lifecycle scripts may print before it), or None."""
    text = stdout.strip()
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n" and text[i + 1 : i + 2] == "{"]
    for start in reversed(starts):
        try:
            return json.loads(text[start:])
        except json.JSONDecodeError:
            continue
    return None


def _package_report(report: Any, name: str) -> dict[str, Any]:
    """The per-package part of npm publish's JSON (npm 11 keys it by package name, older npm does not)."""
    if isinstance(report, dict):
        inner = report.get(name)
        if isinstance(inner, dict):
            return inner
        if "id" in report:
            return report
    return {}


def _npm_error(report: Any, stderr: str) -> tuple[str, str]:
    """npm's error code and first message line: from its JSON error report, else from its stderr."""
    error = report.get("error") if isinstance(report, dict) else None
    if isinstance(error, dict) and (error.get("summary") or error.get("code")):
        summary = " ".join(str(error.get("summary") or "").split())
        return str(error.get("code") or ""), summary
    code, message = "", ""
    for line in stderr.splitlines():
        prefix = next((p for p in _STDERR_PREFIXES if line.startswith(p)), None)
        if prefix is None:
            continue
        text = line[len(prefix) :].strip()
        if text.startswith("code ") and not code:
            code = text[5:].strip()
        elif text and not message and not text.startswith(_STDERR_NOISE) and not text.startswith("at "):
            message = " ".join(text.removeprefix("need auth ").split())
    return code, message

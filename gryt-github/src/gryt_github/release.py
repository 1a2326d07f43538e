"""GithubReleaseDestination: create or update the GitHub release of a tag and upload artifacts as its assets."""

from __future__ import annotations

import mimetypes
import os
import re
import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.config import MAX_SECONDS, ConfigKey
from gryt.destination import Destination
from gryt.errors import ConfigError
from gryt.status import ERROR, SKIPPED, SUCCESS
from gryt_github.api import DEFAULT_API_URL, GithubApi, GithubError, parse_api_url

if TYPE_CHECKING:
    from gryt.context import RunContext

ON_EXISTING = ("replace", "fail", "skip")
"""What an upload does when the release already has an asset of that name."""
_COMPRESSED = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz"}
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


class GithubReleaseDestination(Destination):
    """Create the release of `tag` (or update the one that exists, draft included) and upload each
    artifact file as an asset named after the file.

    The token comes from `token_env_var` and is masked for the whole run; it travels only in the
    `Authorization` header. Everything that can be checked (token, repository, tag, files, duplicate
    names, `notes_file`, existing assets when `on_existing_asset = "fail"`) is checked before the
    release is created or changed.
    """

    name: ClassVar[str] = "github-release"
    summary: ClassVar[str] = "Create or update a GitHub release and upload artifacts as its assets"
    secret_env_keys: ClassVar[tuple[str, ...]] = ("token_env_var",)
    config_keys: ClassVar[tuple[ConfigKey, ...] | None] = (
        ConfigKey(
            "tag", str, None, "tag of the release (default: the pushed tag, GITHUB_REF_NAME)", non_empty=True
        ),
        ConfigKey(
            "repository",
            str,
            None,
            "OWNER/NAME of the repository (default: GITHUB_REPOSITORY)",
            non_empty=True,
        ),
        ConfigKey("name", str, None, "title of the release (default: the tag)"),
        ConfigKey("target_commitish", str, None, "branch or commit a new tag is created from"),
        ConfigKey("draft", bool, False, "the release is a draft"),
        ConfigKey("prerelease", bool, False, "the release is marked as a pre-release"),
        ConfigKey("generate_notes", bool, False, "GitHub generates the notes when it creates the release"),
        ConfigKey("notes_file", str, None, "file whose text is the release notes (body)", non_empty=True),
        ConfigKey(
            "on_existing_asset",
            str,
            "replace",
            "an asset of the same name exists: replace it, fail, or skip (keep it)",
            choices=ON_EXISTING,
        ),
        ConfigKey(
            "token_env_var", str, "GITHUB_TOKEN", "environment variable holding the token", non_empty=True
        ),
        ConfigKey(
            "api_url",
            str,
            None,
            "REST API root, for GitHub Enterprise Server (default: GITHUB_API_URL, else GitHub's)",
            non_empty=True,
        ),
        ConfigKey("timeout", (int, float), 60, "seconds per request", positive=True, maximum=MAX_SECONDS),
        ConfigKey(
            "rate_limit_wait",
            (int, float),
            60,
            "longest wait in seconds for a rate limit to reset before failing",
            minimum=0,
            maximum=MAX_SECONDS,
        ),
    )

    def __init__(self, id: str, config: dict[str, Any] | None = None, **kwargs: Any) -> None:
        super().__init__(id, config, **kwargs)
        repository = self.config["repository"]
        if repository is not None and not _REPOSITORY.match(repository):
            raise ConfigError(f"{id}.repository: expected OWNER/NAME, got {repository!r}")
        if self.config["api_url"] is not None:
            self.config["api_url"] = parse_api_url(self.config["api_url"], f"{id}.api_url")

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        """Check everything, find or create the release, then upload each artifact in turn."""
        from gryt.context import RunContext

        context = self.context if self.context is not None else RunContext()
        env = {**os.environ, **context.env}
        token = self.env_secret("token_env_var", env)
        context.add_secret(token)
        repository = self.config["repository"] or env.get("GITHUB_REPOSITORY", "").strip()
        tag = self.config["tag"] or (
            env.get("GITHUB_REF_NAME", "") if env.get("GITHUB_REF_TYPE") == "tag" else ""
        )
        problem = self._check(artifacts, token, repository, tag)
        try:
            api_url = self.config["api_url"] or parse_api_url(
                env.get("GITHUB_API_URL") or DEFAULT_API_URL, "GITHUB_API_URL"
            )
        except ConfigError as exc:
            problem = problem or str(exc)
        if problem is not None:
            return [_item(a, ERROR, error=problem) for a in artifacts]
        api = GithubApi(
            api_url,
            token,
            timeout=float(self.config["timeout"]),
            rate_limit_wait=float(self.config["rate_limit_wait"]),
        )
        base = f"/repos/{repository}/releases"
        try:
            release = self._release(api, base, tag, artifacts)
        except (GithubError, OSError) as exc:
            message = context.masker.mask(str(exc) if isinstance(exc, GithubError) else _os_error(exc))
            return [_item(a, ERROR, error=message) for a in artifacts]
        self._write(f"release {tag}: {release.get('html_url')}\n")
        assets = {str(a.get("name")): a for a in release.get("assets") or [] if isinstance(a, dict)}
        results: list[dict[str, Any]] = []
        for artifact in artifacts:
            if context.cancel.is_set():
                results.append(_item(artifact, SKIPPED, error="the run was interrupted before uploading"))
                continue
            results.append(self._upload(api, base, release, assets, artifact, context=context))
        return results

    def _check(self, artifacts: list[Path], token: str, repository: str, tag: str) -> str | None:
        """The first reason nothing can be published, or None."""
        if not token:
            return f"no token: set {self.config['token_env_var']} (a secret of the workflow)"
        if not _REPOSITORY.match(repository):
            return 'no repository: set `repository = "OWNER/NAME"` or GITHUB_REPOSITORY'
        if not tag:
            return "no tag: set `tag`, or run on a tag push (GITHUB_REF_TYPE=tag)"
        names: dict[str, Path] = {}
        for artifact in artifacts:
            if not artifact.is_file():
                kind = "a folder" if artifact.is_dir() else "missing"
                return f"{artifact} is {kind}: a release asset is one file (archive a folder first)"
            other = names.setdefault(artifact.name, artifact)
            if other != artifact:
                return f"{other} and {artifact} would both be the asset {artifact.name}"
        notes = self.config["notes_file"]
        if notes is not None and not Path(notes).is_file():
            return f"notes_file {notes} does not exist"
        return None

    def _release(self, api: GithubApi, base: str, tag: str, artifacts: list[Path]) -> dict[str, Any]:
        """The release of `tag` after creating or updating it; refuses clashing assets first in "fail"."""
        found = self._find(api, base, tag)
        if found is not None and self.config["on_existing_asset"] == "fail":
            existing = {str(a.get("name")) for a in found.get("assets") or [] if isinstance(a, dict)}
            clashes = sorted(a.name for a in artifacts if a.name in existing)
            if clashes:
                raise GithubError(
                    f'release {tag} already has the asset(s) {", ".join(clashes)} (on_existing_asset = "fail")'
                )
        fields: dict[str, Any] = {
            "name": self.config["name"] or tag,
            "draft": bool(self.config["draft"]),
            "prerelease": bool(self.config["prerelease"]),
        }
        if self.config["notes_file"] is not None:
            fields["body"] = Path(self.config["notes_file"]).read_text(encoding="utf-8")
        if found is None:
            fields["tag_name"] = tag
            fields["generate_release_notes"] = bool(self.config["generate_notes"])
            if self.config["target_commitish"]:
                fields["target_commitish"] = self.config["target_commitish"]
            created: dict[str, Any] = api.call("POST", base, payload=fields, ok=(201,)).body
            self._write(f"created release {tag} (id {created.get('id')})\n")
            return created
        updated: dict[str, Any] = api.call("PATCH", f"{base}/{found['id']}", payload=fields).body
        self._write(f"updated release {tag} (id {found['id']})\n")
        return updated

    def _find(self, api: GithubApi, base: str, tag: str) -> dict[str, Any] | None:
        """The release of `tag`: published ones by the tag endpoint, drafts (which it hides) from the list."""
        try:
            published: dict[str, Any] = api.call(
                "GET", f"{base}/tags/{urllib.parse.quote(tag, safe='')}"
            ).body
            return published
        except GithubError as exc:
            if exc.status != 404:
                raise
        listed = api.call("GET", f"{base}?per_page=100").body
        drafts = [r for r in listed or [] if isinstance(r, dict) and r.get("tag_name") == tag]
        return drafts[0] if drafts else None

    def _upload(
        self,
        api: GithubApi,
        base: str,
        release: dict[str, Any],
        assets: dict[str, dict[str, Any]],
        artifact: Path,
        *,
        context: RunContext,
    ) -> dict[str, Any]:
        """Upload one file (replacing or keeping an asset of its name, as configured); one result item."""
        name = artifact.name
        mode = self.config["on_existing_asset"]
        extra = {"name": name, "tag": release.get("tag_name"), "release": release.get("html_url")}
        try:
            old = assets.get(name)
            if old is not None and mode == "skip":
                self._write(f"kept {name}: already on the release\n")
                return _item(artifact, SUCCESS, url=old.get("browser_download_url"), kept=True, **extra)
            if old is not None:
                api.call("DELETE", f"{base}/assets/{old['id']}", ok=(204,))
                self._write(f"deleted the old asset {name} (id {old['id']})\n")
            data = artifact.read_bytes()
            content_type = content_type_of(name)
            target = str(release.get("upload_url") or "").split("{", 1)[0]
            if not target:
                raise GithubError(f"release {release.get('tag_name')}: the API gave no upload_url")
            query = urllib.parse.urlencode({"name": name})
            asset = api.call(
                "POST", f"{target}?{query}", data=data, content_type=content_type, ok=(201,)
            ).body
        except GithubError as exc:
            message = str(exc)
            if "already_exists" in exc.codes:
                message += f"; an asset named {name} appeared meanwhile: run again to {mode} it"
            return _item(artifact, ERROR, error=context.masker.mask(message), **extra)
        except OSError as exc:
            return _item(artifact, ERROR, error=_os_error(exc), **extra)
        url = asset.get("browser_download_url")
        self._write(f"uploaded {artifact} -> {url}\n")
        return _item(artifact, SUCCESS, url=url, size=asset.get("size"), replaced=old is not None, **extra)

    def _write(self, line: str) -> None:
        if self.log is not None:
            self.log.write(line)


def content_type_of(name: str) -> str:
    """The upload's `Content-Type`, from the file name by Python's own table (not the machine's), so the
    same file gets the same type everywhere; compressed files get their compression's type."""
    kind, encoding = mimetypes.MimeTypes().guess_type(name)
    if encoding is not None:
        return _COMPRESSED.get(encoding, "application/octet-stream")
    return kind or "application/octet-stream"


def _item(artifact: Path, status: str, **details: Any) -> dict[str, Any]:
    return {
        "artifact": str(artifact),
        "status": status,
        **{k: v for k, v in details.items() if v is not None},
    }


def _os_error(exc: OSError) -> str:
    return f"{exc.filename or 'file'}: {exc.strerror or exc}"

"""A client for the Registry HTTP API v2 (the OCI distribution API) with the standard library only: pushes,
and the pulls the step cache needs.

`connect()` finds the API (https first; plain http for loopback hosts or with `insecure`) and answers its
`WWW-Authenticate` challenge (requests go through `gryt_oci.transport`): Basic credentials on every request, or a Bearer token fetched from the
challenge's realm for scope `repository:<path>:pull,push` (with Basic credentials, or an identity token
through the OAuth2 refresh-token grant). Blobs are pushed as `POST /v2/<path>/blobs/uploads/` then one
`PUT ?digest=` (monolithic) or `PATCH` chunks and a closing `PUT`, after a `HEAD` that skips blobs the
registry already has; manifests with `PUT /v2/<path>/manifests/<tag or digest>` and their media type.

Credentials travel only in `Authorization` headers, never in a URL, and are not sent to another host
(an upload location elsewhere gets none; redirects drop the header and never go from https to http).
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from gryt_oci.credentials import Credentials
from gryt_oci.reference import Repository, is_loopback_host
from gryt_oci.transport import (
    Challenge,
    Interrupted,
    RegistryError,
    Response,
    TransportError,
    basic_authorization,
    challenges_of,
    detail_of,
    send,
    short_digest,
    with_query,
)


@dataclass(frozen=True)
class Blob:
    """Content to push: its digest, size, media type and how to open it (a binary file object)."""

    digest: str
    size: int
    media_type: str
    open: Callable[[], IO[bytes]]

    def descriptor(self, annotations: dict[str, str] | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if annotations:
            out["annotations"] = annotations
        return out

    @classmethod
    def of_bytes(cls, data: bytes, media_type: str) -> Blob:
        """Content held in memory (an empty config, a small layer), its digest computed here."""
        return cls(
            "sha256:" + hashlib.sha256(data).hexdigest(), len(data), media_type, lambda: io.BytesIO(data)
        )


class RegistryClient:
    """Pushes blobs and manifests to one repository. `note` receives progress lines for the log;
    `add_secret` every bearer token obtained; setting `cancel` stops between blobs and chunks."""

    def __init__(
        self,
        repository: Repository,
        credentials: Credentials | None,
        *,
        insecure: bool = False,
        timeout: float = 60.0,
        chunk_size: int = 8 << 20,
        add_secret: Callable[[str], None] | None = None,
        note: Callable[[str], None] | None = None,
        cancel: threading.Event | None = None,
        credential_files: str = "",
    ) -> None:
        self.repository = repository
        self.credentials = credentials
        self.insecure = insecure
        self.timeout = timeout
        self.chunk_size = chunk_size
        self.add_secret = add_secret or (lambda _value: None)
        self.note = note or (lambda _line: None)
        self.cancel = cancel
        self.credential_files = credential_files
        self.base = ""
        self.scheme = "none"
        self.authorization: str | None = None
        self.pushed_bytes = 0

    @property
    def name(self) -> str:
        return self.repository.registry

    @property
    def who(self) -> str:
        if self.credentials is None:
            return "without credentials"
        return (
            f"for user {self.credentials.username}" if self.credentials.username else "with an identity token"
        )

    def url(self, path: str) -> str:
        """The absolute URL of an API path below `/v2/<repository>/`."""
        return f"{self.base}/v2/{self.repository.path}/{path}"

    # -- login ---------------------------------------------------------------------------------------

    def connect(self) -> None:
        """Find the API and authenticate; raises RegistryError (unreachable, not a registry, rejected)."""
        reasons: list[str] = []
        probe: Response | None = None
        for base in self.repository.base_urls(self.insecure):
            try:
                probe = send(
                    "GET", f"{base}/v2/", timeout=self.timeout, body=None, headers={}, authorization=None
                )
            except TransportError as err:
                reasons.append(f"{base}: {err}")
                if err.timed_out:
                    break
                continue
            self.base = base
            break
        if probe is None:
            raise RegistryError(f"registry {self.name} is unreachable ({'; '.join(reasons)})")
        self.note(f"registry API at {self.base}/v2/ (HTTP {probe.status})\n")
        if probe.status == 200:
            return
        if probe.status != 401:
            raise RegistryError(
                f"{self.base} is not a container registry: GET /v2/ answered HTTP {probe.status}"
                + detail_of(probe)
            )
        challenges = {c.scheme: c for c in challenges_of(probe)}
        if "bearer" in challenges:
            self.scheme = "bearer"
            self._authorize_bearer(challenges["bearer"])
        elif "basic" in challenges:
            self.scheme = "basic"
            creds = self._need_credentials()
            if not creds.password:
                raise RegistryError(
                    f"registry {self.name} wants a user name and password, but {creds.source} only has an identity token"
                )
            self.authorization = basic_authorization(creds.username, creds.password)
        else:
            offered = ", ".join(challenges) or "none"
            raise RegistryError(f"registry {self.name} asks for an unsupported authentication ({offered})")
        check = self._exchange("GET", f"{self.base}/v2/", "login")
        if check.status in (401, 403):
            raise RegistryError(
                f"registry {self.name} rejected the credentials {self.who}: HTTP {check.status}{detail_of(check)}"
            )
        if check.status != 200:
            raise RegistryError(
                f"registry {self.name}: GET /v2/ answered HTTP {check.status}{detail_of(check)}"
            )

    def _need_credentials(self) -> Credentials:
        if self.credentials is None:
            raise RegistryError(
                f"registry {self.name} needs a login, and {self.credential_files or 'no Docker config'} has none"
                ' for it: add an [[auth]] step of type "docker-registry" before, or docker login'
            )
        return self.credentials

    def _authorize_bearer(self, challenge: Challenge) -> None:
        """Fetch a token for this repository's pull and push from the challenge's realm."""
        realm = challenge.params.get("realm", "")
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RegistryError(f"registry {self.name} sent a Bearer challenge without a usable realm")
        if parts.scheme == "http" and not (self.insecure or is_loopback_host(parts.netloc)):
            raise RegistryError(
                f"token server {parts.netloc} of registry {self.name} uses plain http; set insecure = true to allow it"
            )
        scope = f"repository:{self.repository.path}:pull,push"
        service = challenge.params.get("service", "")
        creds = self.credentials
        whose = f"token server of registry {self.name}"
        try:
            if creds is not None and creds.identity_token:
                form = {"grant_type": "refresh_token", "refresh_token": creds.identity_token, "scope": scope}
                if service:
                    form["service"] = service
                form["client_id"] = "gryt-oci"
                response = send(
                    "POST",
                    realm,
                    timeout=self.timeout,
                    body=urllib.parse.urlencode(form).encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    authorization=None,
                )
            else:
                query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
                if service:
                    query.append(("service", service))
                query.append(("scope", scope))
                authorization = None
                if creds is not None:
                    query.append(("account", creds.username))
                    authorization = basic_authorization(creds.username, creds.password)
                url = urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
                response = send(
                    "GET", url, timeout=self.timeout, body=None, headers={}, authorization=authorization
                )
        except TransportError as err:
            raise RegistryError(f"{whose} ({parts.netloc}) is unreachable: {err}") from None
        if response.status in (401, 403):
            if creds is None:
                self._need_credentials()
            raise RegistryError(
                f"{whose} rejected the credentials {self.who}: HTTP {response.status}{detail_of(response)}"
            )
        if response.status != 200:
            raise RegistryError(f"{whose}: unexpected HTTP {response.status}{detail_of(response)}")
        try:
            data = json.loads(response.body)
        except ValueError:
            data = None
        token = (data.get("token") or data.get("access_token")) if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise RegistryError(f"{whose} answered without a token")
        self.add_secret(token)
        self.authorization = f"Bearer {token}"

    # -- requests ------------------------------------------------------------------------------------

    def _exchange(
        self,
        method: str,
        url: str,
        what: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        sink: IO[bytes] | None = None,
    ) -> Response:
        """One request with the current authorization; an expired Bearer token is renewed once. A 200
        answer's body goes to `sink` when one is given (see `gryt_oci.transport.send`)."""
        response = self._send_authorized(method, url, what, body, headers or {}, sink=sink)
        if response.status == 401 and self.scheme == "bearer":
            challenge = next((c for c in challenges_of(response) if c.scheme == "bearer"), None)
            if challenge is not None:
                self._authorize_bearer(challenge)
                response = self._send_authorized(method, url, what, body, headers or {}, sink=sink)
        return response

    def _send_authorized(
        self,
        method: str,
        url: str,
        what: str,
        body: bytes | None,
        headers: dict[str, str],
        *,
        sink: IO[bytes] | None = None,
    ) -> Response:
        """`send` with the Authorization header for the registry's own host only."""
        same_host = urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(self.base).netloc
        try:
            return send(
                method,
                url,
                timeout=self.timeout,
                body=body,
                headers=headers,
                authorization=self.authorization if same_host else None,
                sink=sink,
            )
        except TransportError as err:
            raise RegistryError(f"{what}: registry {self.name} did not answer ({err})") from None

    def _failed(self, what: str, response: Response) -> RegistryError:
        detail = detail_of(response)
        if response.status in (401, 403):
            if not detail:  # a HEAD answer has no body: the challenge may say why (insufficient_scope)
                reasons = [c.params["error"] for c in challenges_of(response) if c.params.get("error")]
                detail = f" ({reasons[0]})" if reasons else ""
            return RegistryError(
                f"{what}: registry {self.name} refused access to {self.repository.path} {self.who}: "
                f"HTTP {response.status}{detail}"
            )
        if response.status == 404 and (not detail or "NAME_UNKNOWN" in detail):
            return RegistryError(
                f"{what}: registry {self.name} does not know repository {self.repository.path}: HTTP 404"
                f"{detail}; create it there or fix the name"
            )
        return RegistryError(f"{what}: registry {self.name} answered HTTP {response.status}{detail}")

    def check_cancel(self) -> None:
        """Raise Interrupted once the run's cancel flag is set (call it before the first tag is pushed)."""
        if self.cancel is not None and self.cancel.is_set():
            raise Interrupted("interrupted before the manifest was pushed: no tag was set or moved")

    # -- blobs and manifests -------------------------------------------------------------------------

    def blob_exists(self, digest: str) -> bool:
        what = f"checking blob {short_digest(digest)}"
        response = self._exchange("HEAD", self.url(f"blobs/{digest}"), what)
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise self._failed(what, response)

    def push_blob(self, blob: Blob) -> bool:
        """Upload `blob` unless the registry has it; True when it was uploaded."""
        self.check_cancel()
        if self.blob_exists(blob.digest):
            self.note(f"blob {blob.digest} ({blob.size} bytes) already there\n")
            return False
        what = f"uploading blob {short_digest(blob.digest)}"
        self.note(f"uploading blob {blob.digest} ({blob.size} bytes)\n")
        started = self._exchange("POST", self.url("blobs/uploads/"), what, body=b"")
        if started.status != 202:
            raise self._failed(what, started)
        location = self._location(started, what)
        with blob.open() as handle:
            if blob.size <= self.chunk_size:
                data = handle.read()
            else:
                location = self._send_chunks(handle, blob.size, location, what)
                data = b""
        closing = self._exchange(
            "PUT",
            with_query(location, {"digest": blob.digest}),
            what,
            body=data,
            headers={"Content-Type": "application/octet-stream"},
        )
        if closing.status not in (201, 204):
            raise self._failed(what, closing)
        self.pushed_bytes += blob.size
        return True

    def _send_chunks(self, handle: IO[bytes], size: int, location: str, what: str) -> str:
        offset = 0
        while offset < size:
            self.check_cancel()
            chunk = handle.read(self.chunk_size)
            if not chunk:
                raise RegistryError(f"{what}: the file ended after {offset} of {size} bytes")
            response = self._exchange(
                "PATCH",
                location,
                what,
                body=chunk,
                headers={
                    "Content-Type": "application/octet-stream",
                    "Content-Range": f"{offset}-{offset + len(chunk) - 1}",
                },
            )
            if response.status != 202:
                raise self._failed(what, response)
            location = self._location(response, what)
            offset += len(chunk)
        return location

    def _location(self, response: Response, what: str) -> str:
        location = response.headers.get("Location")
        if not location:
            raise RegistryError(f"{what}: registry {self.name} gave no upload location")
        return urllib.parse.urljoin(f"{self.base}/", location)

    def push_manifest(self, reference: str, media_type: str, body: bytes) -> str:
        """PUT the manifest under `reference` (a tag or its digest); returns its digest."""
        digest = "sha256:" + hashlib.sha256(body).hexdigest()
        shown = f"@{short_digest(reference)}" if reference.startswith("sha256:") else f":{reference}"
        what = f"pushing manifest {self.repository.path}{shown}"
        response = self._exchange(
            "PUT", self.url(f"manifests/{reference}"), what, body=body, headers={"Content-Type": media_type}
        )
        if response.status not in (200, 201):
            raise self._failed(what, response)
        self.note(f"manifest {digest} ({media_type}) -> {self.repository.path}{shown}\n")
        return digest

    # -- pulling (the step cache) --------------------------------------------------------------------

    def manifest_exists(self, reference: str, accept: str) -> bool:
        """HEAD the manifest `reference` (a tag): True when the registry has it, False on 404."""
        what = f"checking manifest {self.repository.path}:{reference}"
        response = self._exchange(
            "HEAD", self.url(f"manifests/{reference}"), what, headers={"Accept": accept}
        )
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise self._failed(what, response)

    def fetch_manifest(self, reference: str, accept: str) -> bytes | None:
        """The manifest `reference` (a tag) as the registry stores it; None when it has none (404)."""
        what = f"pulling manifest {self.repository.path}:{reference}"
        response = self._exchange("GET", self.url(f"manifests/{reference}"), what, headers={"Accept": accept})
        if response.status == 404:
            return None
        if response.status != 200:
            raise self._failed(what, response)
        return response.body

    def fetch_blob(self, digest: str, sink: IO[bytes]) -> None:
        """Copy the blob `digest` into `sink` (the caller checks the content against the digest)."""
        what = f"pulling blob {short_digest(digest)}"
        response = self._exchange("GET", self.url(f"blobs/{digest}"), what, sink=sink)
        if response.status != 200:
            raise self._failed(what, response)

"""What the `oci` and `oci-image` destinations share: the registry keys, credentials registered as run
secrets, the connected client, and results that name where the pushed content now is."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gryt.config import MAX_SECONDS, ConfigKey
from gryt.destination import Destination
from gryt.status import ERROR, SUCCESS
from gryt_oci.reference import parse_repository

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt_oci.client import RegistryClient
    from gryt_oci.credentials import Credentials
    from gryt_oci.reference import Repository

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})

REPOSITORY_KEY = ConfigKey(
    "repository",
    str,
    None,
    "registry host and repository path, e.g. ghcr.io/acme/app or 127.0.0.1:5000/team/app",
    required=True,
    non_empty=True,
)
CONNECTION_KEYS = (
    ConfigKey(
        "insecure", bool, False, "allow plain http to a non-loopback registry (loopback may use it anyway)"
    ),
    ConfigKey(
        "timeout",
        (int, float),
        60,
        "seconds to wait for each answer of the registry or its token server",
        positive=True,
        maximum=MAX_SECONDS,
    ),
    ConfigKey(
        "chunk_size",
        int,
        8 << 20,
        "bytes per PATCH request; smaller blobs go in one PUT",
        minimum=1024,
        maximum=1 << 30,
    ),
)


class RegistryDestination(Destination):
    """A destination pushing to the registry repository of its `repository` key."""

    def __init__(self, id: str, config: dict[str, Any] | None = None) -> None:
        super().__init__(id, config)
        self.repository = parse_repository(str(self.config["repository"]), where=f"{id}.repository")

    def run_context(self) -> RunContext:
        """The run's context, or a fresh one when used from Python without a run."""
        from gryt.context import RunContext

        return self.context if self.context is not None else RunContext()

    def connect(self, context: RunContext) -> RegistryClient:
        """Read the credentials (masked from now on), find the registry API and log in.

        Raises RegistryError or CredentialsError with a one-line message."""
        from gryt_oci.credentials import find_credentials

        env = {**os.environ, **context.env}
        timeout = float(self.config["timeout"])
        credentials = find_credentials(self.repository, env, timeout=timeout)
        if credentials is not None:
            for value in credentials.secrets():
                context.add_secret(value)
            self.note(f"credentials for {self.repository.registry} from {credentials.source}\n", context)
        client = registry_client(
            self.repository,
            credentials,
            self.config,
            env,
            add_secret=context.add_secret,
            note=lambda line: self.note(line, context),
            cancel=context.cancel,
        )
        client.connect()
        return client

    def note(self, line: str, context: RunContext) -> None:
        """A progress line for the destination's log, masked."""
        if self.log is not None:
            self.log.write(context.masker.mask(line))

    def success(
        self, artifact: Path, client: RegistryClient, digest: str, tags: list[str], **extra: Any
    ) -> dict[str, Any]:
        """The result of an artifact now in the registry under `tags`, as manifest `digest`."""
        repo = self.repository
        return {
            "artifact": str(artifact),
            "status": SUCCESS,
            "url": client.url(f"manifests/{digest}"),
            "ref": repo.ref(tags[0]),
            "refs": [repo.ref(tag) for tag in tags],
            "pinned": repo.pinned(digest),
            "digest": digest,
            "version": tags[0],
            "name": repo.path,
            "registry": repo.registry,
            **extra,
        }


def registry_client(
    repository: Repository,
    credentials: Credentials | None,
    options: Mapping[str, Any],
    env: Mapping[str, str],
    **hooks: Any,
) -> RegistryClient:
    """A client of `repository` set as the `CONNECTION_KEYS` values in `options` say (not yet connected);
    `env` is where the credentials were looked up, `hooks` the client's `add_secret`, `note`, `cancel`."""
    from gryt_oci.client import RegistryClient
    from gryt_oci.credentials import config_files

    return RegistryClient(
        repository,
        credentials,
        insecure=bool(options["insecure"]),
        timeout=float(options["timeout"]),
        chunk_size=int(options["chunk_size"]),
        credential_files=" or ".join(str(p) for p in config_files(env)),
        **hooks,
    )


def error_items(artifacts: list[Path], message: str, context: RunContext) -> list[dict[str, Any]]:
    """The same one-line error for every artifact (one manifest: all of them failed together)."""
    text = context.masker.mask(" ".join(message.split()))
    return [{"artifact": str(a), "status": ERROR, "error": text} for a in artifacts]

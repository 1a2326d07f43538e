"""Repository names: which registry a `repository` value names, where its API lives, its Docker config
keys, and when plain http is allowed (loopback hosts, or `insecure`)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from gryt.errors import ConfigError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
DOCKER_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_PATH_RE = re.compile(rf"^{_COMPONENT}(?:/{_COMPONENT})*$")
_TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_HOST_RE = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$")


def is_loopback_host(hostport: str) -> bool:
    """True for `localhost`, `127.x.x.x` and `[::1]`, with or without a port."""
    if hostport.startswith("["):
        host = hostport[1:].partition("]")[0]
    elif hostport.count(":") == 1:
        host = hostport.partition(":")[0]
    else:
        host = hostport
    host = host.lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Repository:
    """One repository of one registry: `registry` as written (`127.0.0.1:5000`, `docker.io`), the API
    `host`, the repository `path` (`team/app`) and whether the host is a loopback address."""

    registry: str
    host: str
    path: str
    loopback: bool

    @property
    def is_docker_hub(self) -> bool:
        return self.registry == DOCKER_HUB

    def ref(self, tag: str) -> str:
        """`registry/path:tag`, what `docker pull`, `skopeo` and `oras` accept."""
        return f"{self.registry}/{self.path}:{tag}"

    def pinned(self, digest: str) -> str:
        """`registry/path@sha256:...`: the pushed content itself, whatever its tags become."""
        return f"{self.registry}/{self.path}@{digest}"

    def config_keys(self) -> list[str]:
        """The `auths` keys of a Docker config that hold this registry's credentials, best first."""
        if self.is_docker_hub:
            return [DOCKER_HUB_CONFIG_KEY, *sorted(DOCKER_HUB_ALIASES)]
        return [self.registry]

    def base_urls(self, insecure: bool) -> list[str]:
        """Base URLs to try in order: https, then plain http for loopback hosts or with `insecure`."""
        urls = [f"https://{self.host}"]
        if (self.loopback or insecure) and not self.is_docker_hub:
            urls.append(f"http://{self.host}")
        return urls


def parse_repository(value: str, *, where: str = "repository") -> Repository:
    """Parse `host[:port]/path` (or a Docker Hub name such as `library/app`) into a Repository.

    The first component is the registry when it has a dot or a port or is `localhost`, as Docker reads
    names. Raises ConfigError for a scheme, a tag or digest in the name, or an invalid path.
    """
    text = value.strip()
    if "://" in text:
        raise ConfigError(
            f'{where}: write the repository without a scheme, e.g. "ghcr.io/acme/app" '
            "(plain http is used for loopback hosts, or with insecure = true)"
        )
    first, slash, rest = text.partition("/")
    if slash and ("." in first or ":" in first or first.lower() == "localhost" or first.startswith("[")):
        host, path = first.lower(), rest
        if not _HOST_RE.match(host):
            raise ConfigError(f'{where}: "{first}" is not a registry host such as "ghcr.io" or "host:5000"')
    else:
        host, path = DOCKER_HUB, text
    if "@" in path or ":" in path:
        raise ConfigError(
            f'{where}: give the repository without a tag or digest ("{value}"); use the tag key'
        )
    if not _PATH_RE.match(path):
        raise ConfigError(
            f'{where}: "{path}" is not a valid repository path (lower-case letters, digits, ".", "_", "-", '
            '"/" between components)'
        )
    if host in DOCKER_HUB_ALIASES:
        if "/" not in path:
            path = f"library/{path}"
        return Repository(DOCKER_HUB, DOCKER_HUB_API_HOST, path, loopback=False)
    return Repository(host, host, path, loopback=is_loopback_host(host))


def check_tag(value: str, where: str) -> str:
    """`value` if it is a valid tag (`[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`), else a ConfigError."""
    if not _TAG_RE.match(value):
        raise ConfigError(
            f'{where}: "{value}" is not a valid tag (up to 128 letters, digits, "_", "." and "-", '
            'not starting with "." or "-")'
        )
    return value

"""Registry names: where the API lives, which key Docker's config uses, and when plain http is allowed."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from gryt.errors import ConfigError

DOCKER_HUB = "docker.io"
DOCKER_HUB_API_HOST = "registry-1.docker.io"
DOCKER_HUB_CONFIG_KEY = "https://index.docker.io/v1/"
_DOCKER_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
_IGNORED_PATHS = frozenset({"", "/", "/v1", "/v1/", "/v2", "/v2/"})
_HOST_RE = re.compile(r"^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)(?::(\d{1,5}))?$")


@dataclass(frozen=True)
class RegistryAddress:
    """Where a registry is: its configured name, API host, Docker config key and allowed schemes."""

    name: str
    host: str
    config_key: str
    scheme: str | None
    loopback: bool

    @property
    def is_docker_hub(self) -> bool:
        return self.config_key == DOCKER_HUB_CONFIG_KEY

    @property
    def cli_name(self) -> str:
        """The server argument for `docker login` (the CLI maps `docker.io` to its index key itself)."""
        return DOCKER_HUB if self.is_docker_hub else self.config_key

    def base_urls(self, insecure: bool) -> list[str]:
        """Base URLs to try in order: https first; plain http only where it is allowed."""
        if self.scheme == "https":
            return [f"https://{self.host}"]
        if self.scheme == "http":
            return [f"http://{self.host}"]
        urls = [f"https://{self.host}"]
        if self.loopback or insecure:
            urls.append(f"http://{self.host}")
        return urls


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


def parse_registry(value: str, *, insecure: bool = False, where: str = "registry") -> RegistryAddress:
    """Parse `ghcr.io`, `host:5000`, `https://host` or `docker.io` into a RegistryAddress.

    Raises ConfigError for something that is not a registry host, or for plain http to a non-loopback
    host without `insecure`.
    """
    text = value.strip()
    scheme: str | None = None
    if "://" in text:
        scheme, text = text.split("://", 1)
        scheme = scheme.lower()
        if scheme not in ("http", "https"):
            raise ConfigError(f'{where}: unsupported scheme "{scheme}://"; use https:// or a bare host name')
    hostport, slash, path = text.partition("/")
    if slash + path not in _IGNORED_PATHS or not _HOST_RE.match(hostport):
        raise ConfigError(
            f'{where}: expected a registry host such as "ghcr.io" or "host:5000", got "{value}"'
        )
    hostport = hostport.lower()
    loopback = is_loopback_host(hostport)
    if scheme == "http" and not (loopback or insecure):
        raise ConfigError(
            f"{where}: plain http to {hostport} would send the token unencrypted; "
            "use https or set insecure = true"
        )
    if hostport in _DOCKER_HUB_ALIASES:
        return RegistryAddress(DOCKER_HUB, DOCKER_HUB_API_HOST, DOCKER_HUB_CONFIG_KEY, "https", False)
    return RegistryAddress(hostport, hostport, hostport, scheme, loopback)

"""Hook implementations of gryt-auth-docker: registers auth type `docker-registry`."""

from __future__ import annotations

from gryt.hookspecs import Register
from gryt.plugins import hookimpl


@hookimpl
def gryt_register_auth(register: Register) -> None:
    from gryt_auth_docker.auth import DockerRegistryAuth

    register(DockerRegistryAuth)

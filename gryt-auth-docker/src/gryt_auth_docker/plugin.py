"""Hook implementations of gryt-auth-docker: registers auth type `docker-registry`."""

from __future__ import annotations

from gryt import hookimpl
from gryt.hookspecs import Register


@hookimpl
def gryt_register_auth(register: Register) -> None:
    from gryt_auth_docker.auth import DockerRegistryAuth

    register(DockerRegistryAuth)

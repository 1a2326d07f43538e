"""Failed pushes end as one-line error items naming the registry and the server's own message, and never
leave a tag behind: unknown registry, no answer, not a registry, 401 (Basic and token server), a denied or
unknown repository, an interrupted push, broken images and wrong selections."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from _servers.registry import Registry, free_port

from gryt.context import RunContext
from gryt_oci.artifact import OciArtifactDestination
from gryt_oci.image import OciImageDestination

from .conftest import build_image, context_with, make_files, write_login


def publish_files(
    repository: str, context: RunContext, files: list[Path], **config: Any
) -> list[dict[str, Any]]:
    destination = OciArtifactDestination("files", {"repository": repository, "tag": "1.0", **config})
    destination.context = context
    return destination.publish(files)


def publish_image(repository: str, context: RunContext, image: Path, **config: Any) -> list[dict[str, Any]]:
    destination = OciImageDestination("image", {"repository": repository, "tags": ["1.0"], **config})
    destination.context = context
    return destination.publish([image])


def only_error(results: list[dict[str, Any]]) -> str:
    assert {r["status"] for r in results} == {"error"}, results
    errors = {r["error"] for r in results}
    assert len(errors) == 1, errors
    error = errors.pop()
    assert "\n" not in error
    return str(error)


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    return [tmp_path / "dist" / name for name in make_files(tmp_path / "dist")]


def test_unknown_registry_is_unreachable(files: list[Path], tmp_path: Path) -> None:
    port = free_port()
    error = only_error(publish_files(f"127.0.0.1:{port}/team/files", RunContext(), files))
    assert error == (
        f"registry 127.0.0.1:{port} is unreachable (https://127.0.0.1:{port}: connection refused; "
        f"http://127.0.0.1:{port}: connection refused)"
    )


def test_unknown_host_name(files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """What a DNS failure reads like (the lookup itself is replaced: tests use no network)."""

    def no_such_host(host: str, *args: Any, **kwargs: Any) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_such_host)
    error = only_error(publish_files("registry.example.invalid/team/files", RunContext(), files))
    assert error == (
        "registry registry.example.invalid is unreachable (https://registry.example.invalid: cannot resolve"
        " host name (Name or service not known))"
    )


def test_silent_registry_times_out(files: list[Path]) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # accepts connections into the backlog, never answers
        host = f"127.0.0.1:{server.getsockname()[1]}"
        error = only_error(publish_files(f"{host}/team/files", RunContext(), files, timeout=0.5))
    assert error == f"registry {host} is unreachable (https://{host}: no answer within 0.5 s)"


class _Handler(BaseHTTPRequestHandler):
    """A web server that is not a registry (404 everywhere), or, with `name_unknown`, one that answers like
    hosted registries (GitLab, Harbor) do for a project that does not exist: 404 NAME_UNKNOWN on push."""

    name_unknown = False

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def do_GET(self) -> None:
        self._answer(200 if self.name_unknown and self.path == "/v2/" else 404, {})

    def do_HEAD(self) -> None:
        self._answer(404, {})

    def do_POST(self) -> None:
        message = {"code": "NAME_UNKNOWN", "message": "repository name not known to registry", "detail": {}}
        self._answer(404, {"errors": [message]})


@pytest.fixture(params=[False, True], ids=["web-server", "name-unknown"])
def web_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, bool]]:
    handler = type("Handler", (_Handler,), {"name_unknown": request.param})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}", request.param
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_404_is_explained(web_server: tuple[str, bool], files: list[Path]) -> None:
    host, name_unknown = web_server
    error = only_error(publish_files(f"{host}/missing/files", RunContext(), files))
    if name_unknown:
        assert error.startswith("uploading blob sha256:")
        assert error.endswith(
            f"registry {host} does not know repository missing/files: HTTP 404 (NAME_UNKNOWN: repository name"
            " not known to registry); create it there or fix the name"
        )
    else:
        assert error == f"http://{host} is not a container registry: GET /v2/ answered HTTP 404"


def test_bad_password_is_rejected_with_the_servers_message(
    registry: Registry, files: list[Path], tmp_path: Path
) -> None:
    login = write_login(tmp_path / "docker", registry, token="not-the-token")
    error = only_error(publish_files(f"{registry.host}/team/bad", context_with(login), files))
    if registry.token_server is None:
        assert error == (
            f"registry {registry.host} rejected the credentials for user alice: HTTP 401 (UNAUTHORIZED: authentication required)"
        )
    else:
        assert error == (
            f"token server of registry {registry.host} rejected the credentials for user alice: HTTP 401"
            " (incorrect username or password)"
        )
    assert registry.tags("team/bad") == []


def test_no_credentials_says_where_it_looked(
    registry: Registry, files: list[Path], isolated_user: Path
) -> None:
    error = only_error(publish_files(f"{registry.host}/team/anon", RunContext(), files))
    assert error == (
        f"registry {registry.host} needs a login, and {isolated_user}/.docker/config.json has none for it:"
        ' add an [[auth]] step of type "docker-registry" before, or docker login'
    )


def test_denied_repository(bearer_registry: Registry, files: list[Path], tmp_path: Path) -> None:
    assert bearer_registry.token_server is not None
    bearer_registry.token_server.denied.add("team/locked")
    try:
        error = only_error(
            publish_files(
                f"{bearer_registry.host}/team/locked",
                context_with(write_login(tmp_path / "d", bearer_registry)),
                files,
            )
        )
    finally:
        bearer_registry.token_server.denied.discard("team/locked")
    assert error.startswith("checking blob sha256:")
    assert error.endswith(
        f"registry {bearer_registry.host} refused access to team/locked for user alice: HTTP 401 (insufficient_scope)"
    )
    assert bearer_registry.tags("team/locked") == []


class _CancelAfter(threading.Event):
    """A cancel flag that reads as set from its `n`-th check on: an interrupt in the middle of a push."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.checks = 0
        self.n = n

    def is_set(self) -> bool:
        self.checks += 1
        return self.checks >= self.n or super().is_set()


@pytest.mark.parametrize("after", [1, 3, 6])
def test_interrupted_push_sets_no_tag(after: int, basic_registry: Registry, tmp_path: Path) -> None:
    make_files(tmp_path / "src")
    build_image(tmp_path / "src", tmp_path / "image", filler=200_000)
    context = context_with(write_login(tmp_path / "docker", basic_registry))
    context.cancel = _CancelAfter(after)
    repository = f"{basic_registry.host}/cancel/app{after}"
    error = only_error(publish_image(repository, context, tmp_path / "image", chunk_size=65536))
    assert error == "interrupted before the manifest was pushed: no tag was set or moved"
    assert basic_registry.tags(f"cancel/app{after}") == []


def test_broken_layouts(basic_registry: Registry, tmp_path: Path) -> None:
    context = context_with(write_login(tmp_path / "docker", basic_registry))
    repository = f"{basic_registry.host}/team/broken"
    make_files(tmp_path / "src")
    layout = tmp_path / "image"
    digest = build_image(tmp_path / "src", layout)

    (tmp_path / "empty").mkdir()
    assert (
        only_error(publish_image(repository, context, tmp_path / "empty"))
        == f"image layout {tmp_path / 'empty'} holds neither an OCI layout (oci-layout) nor a docker save manifest.json"
    )
    (tmp_path / "junk.tar").write_text("not a tar")
    assert only_error(publish_image(repository, context, tmp_path / "junk.tar")) == (
        f"{tmp_path / 'junk.tar'} is neither an image layout folder nor a tar archive"
    )
    assert only_error(publish_image(repository, context, layout, ref_name="2.0")) == (
        f"image layout {layout}: no manifest named '2.0' (names: 1.0)"
    )
    manifest = json.loads((layout / "blobs" / "sha256" / digest[7:]).read_bytes())
    layer = manifest["layers"][0]["digest"]
    (layout / "blobs" / "sha256" / layer[7:]).unlink()
    assert (
        only_error(publish_image(repository, context, layout))
        == f"image layout {layout} lacks blobs/sha256/{layer[7:]}"
    )
    assert basic_registry.tags("team/broken") == []


def test_wrong_selections(tmp_path: Path, files: list[Path]) -> None:
    repository = "127.0.0.1:1/team/x"
    assert only_error(publish_image(repository, RunContext(), files[0])) == (
        f"{files[0]} is neither an image layout folder nor a tar archive"
    )
    destination = OciImageDestination("image", {"repository": repository, "tags": ["1.0"]})
    results = destination.publish(files)
    assert only_error(results) == (
        "oci-image pushes one image, but 3 artifacts were selected: narrow this destination's artifacts to the"
        " layout folder or archive"
    )
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("x")
    clash = publish_files(
        repository, RunContext(), [*files, tmp_path / "other" / "notes.txt", tmp_path / "dist"]
    )
    by_path = {r["artifact"]: r["error"] for r in clash}
    assert by_path[str(tmp_path / "other" / "notes.txt")] == (
        f"{files[0]} and {tmp_path / 'other' / 'notes.txt'} would both be named notes.txt in the artifact"
    )
    assert by_path[str(tmp_path / "dist")].endswith(
        "is a folder: oci pushes files (archive it in a step, or use oci-image for an image layout)"
    )
    assert by_path[str(files[1])].startswith("not pushed: ")

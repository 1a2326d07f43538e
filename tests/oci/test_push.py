"""Pushes against the real registries (htpasswd and Bearer token), checked with real clients: the oras
Python SDK pulls the artifact's files back, skopeo inspects and copies the images back."""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
from pathlib import Path
from typing import Any

import pytest
from _servers.registry import Registry

from gryt.context import RunContext
from gryt_oci.artifact import OciArtifactDestination
from gryt_oci.image import OciImageDestination

from .conftest import Skopeo, build_image, context_with, make_files, source_digests


def push_files(
    registry: Registry, context: RunContext, files: list[Path], **config: Any
) -> list[dict[str, Any]]:
    destination = OciArtifactDestination(
        "files", {"repository": f"{registry.host}/team/files", "tag": "1.0", **config}
    )
    destination.context = context
    return destination.publish(files)


def push_image(registry: Registry, context: RunContext, image: Path, **config: Any) -> list[dict[str, Any]]:
    options = {"repository": f"{registry.host}/team/app", "tags": ["1.0", "latest"], **config}
    destination = OciImageDestination("image", options)
    destination.context = context
    return destination.publish([image])


def test_artifact_round_trips_through_oras(
    registry: Registry, login: Path, skopeo: Skopeo, tmp_path: Path
) -> None:
    oras_client = pytest.importorskip("oras.client")
    files = make_files(tmp_path / "dist")
    paths = [tmp_path / "dist" / name for name in files]
    results = push_files(
        registry, context_with(login), paths, annotations={"org.opencontainers.image.source": "x"}
    )

    assert [r["status"] for r in results] == ["success"] * 3, results
    digest = results[0]["digest"]
    assert {r["digest"] for r in results} == {digest}
    assert results[0]["ref"] == f"{registry.host}/team/files:1.0"
    assert results[0]["url"] == f"http://{registry.host}/v2/team/files/manifests/{digest}"
    assert [r["layer_digest"] for r in results] == [
        "sha256:" + hashlib.sha256(d).hexdigest() for d in files.values()
    ]
    assert registry.tags("team/files") == ["1.0"]

    raw = skopeo.inspect(f"{registry.host}/team/files:1.0", raw=True)
    assert raw["artifactType"] == "application/vnd.gryt.artifact"
    assert raw["config"] == {
        "mediaType": "application/vnd.oci.empty.v1+json",
        "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
        "size": 2,
    }
    assert [layer["annotations"]["org.opencontainers.image.title"] for layer in raw["layers"]] == list(files)
    assert [layer["mediaType"] for layer in raw["layers"]] == [
        "text/plain",
        "application/json",
        "application/octet-stream",
    ]
    assert raw["annotations"] == {"org.opencontainers.image.source": "x"}

    out = tmp_path / "pulled"
    backend = "basic" if registry.token_server is None else "token"
    client = oras_client.OrasClient(hostname=registry.host, insecure=True, auth_backend=backend)
    pulled = client.pull(
        target=f"{registry.host}/team/files:1.0", config_path=str(login / "config.json"), outdir=str(out)
    )
    assert sorted(Path(p).name for p in pulled) == sorted(files)
    assert {name: (out / name).read_bytes() for name in files} == files


@pytest.mark.parametrize("fmt", ["oci", "oci-tar", "docker-save", "docker-save-oci"])
def test_image_round_trips_through_skopeo(
    fmt: str, registry: Registry, login: Path, skopeo: Skopeo, tmp_path: Path
) -> None:
    make_files(tmp_path / "src")
    image = tmp_path / ("image" if fmt == "oci" else "image.tar")
    expected = build_image(tmp_path / "src", image, fmt=fmt)
    results = push_image(registry, context_with(login), image)

    assert len(results) == 1 and results[0]["status"] == "success", results
    result = results[0]
    assert result["digest"] == expected
    assert result["refs"] == [f"{registry.host}/team/app:1.0", f"{registry.host}/team/app:latest"]
    assert result["source"] == ("docker-save" if fmt == "docker-save" else "oci-layout")
    for tag in ("1.0", "latest"):
        assert skopeo.inspect(f"{registry.host}/team/app:{tag}")["Digest"] == expected
    assert {"1.0", "latest"} <= set(registry.tags("team/app"))

    assert skopeo.copy_to_dir(f"{registry.host}/team/app:1.0", tmp_path / "back") == source_digests(
        image, fmt
    )


def test_second_push_uploads_nothing_and_chunks_large_blobs(basic_registry: Registry, tmp_path: Path) -> None:
    from .conftest import write_login

    login = write_login(tmp_path / "docker", basic_registry)
    make_files(tmp_path / "src")
    expected = build_image(tmp_path / "src", tmp_path / "image", filler=300_000)
    first = push_image(
        basic_registry,
        context_with(login),
        tmp_path / "image",
        repository=f"{basic_registry.host}/chunked/app",
        chunk_size=65536,
    )
    again = push_image(
        basic_registry,
        context_with(login),
        tmp_path / "image",
        repository=f"{basic_registry.host}/chunked/app",
    )

    assert first[0]["status"] == again[0]["status"] == "success", (first, again)
    assert first[0]["digest"] == again[0]["digest"] == expected
    assert first[0]["uploaded"] == 3 and first[0]["bytes_uploaded"] > 300_000
    assert again[0]["uploaded"] == 0 and again[0]["bytes_uploaded"] == 0


@pytest.mark.parametrize("nested", [False, True], ids=["platforms-in-index-json", "nested-index"])
def test_multi_platform_layout_is_pushed_as_an_index(
    nested: bool, registry: Registry, skopeo: Skopeo, login: Path, tmp_path: Path
) -> None:
    """One manifest per platform, listed in index.json itself or (as buildx writes it) in an index blob
    that index.json names: pushed as an image index, every manifest by digest before the index's tags."""
    layout = tmp_path / "multi"
    entries = []
    for arch in ("amd64", "arm64"):
        make_files(tmp_path / arch)
        (tmp_path / arch / "arch.txt").write_text(arch)
        part = tmp_path / f"layout-{arch}"
        build_image(tmp_path / arch, part)
        shutil.copytree(part, layout, dirs_exist_ok=True)
        entry = json.loads((part / "index.json").read_text())["manifests"][0]
        entry["platform"] = {"architecture": arch, "os": "linux"}
        del entry["annotations"]
        entries.append(entry)
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}
    if nested:
        blob = json.dumps(index).encode()
        digest = "sha256:" + hashlib.sha256(blob).hexdigest()
        (layout / "blobs" / "sha256" / digest[7:]).write_bytes(blob)
        top = {"mediaType": index["mediaType"], "digest": digest, "size": len(blob)}
        (layout / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [top]}))
    else:
        (layout / "index.json").write_text(json.dumps(index))

    repository = f"{registry.host}/multi/{'nested' if nested else 'flat'}"
    results = push_image(registry, context_with(login), layout, repository=repository)
    assert results[0]["status"] == "success", results
    assert results[0]["media_type"] == "application/vnd.oci.image.index.v1+json"
    if nested:
        assert results[0]["digest"] == digest
    raw = skopeo.inspect(f"{repository}:1.0", raw=True)
    assert [m["digest"] for m in raw["manifests"]] == [e["digest"] for e in entries]
    for entry in entries:
        assert skopeo.inspect(f"{repository}@{entry['digest']}", raw=True)["layers"]


def test_identity_token_is_exchanged_for_a_bearer_token(bearer_registry: Registry, tmp_path: Path) -> None:
    """An `identitytoken` in the Docker config goes through the OAuth2 refresh-token grant; a wrong one is
    rejected with the token server's message."""
    assert bearer_registry.token_server is not None
    bearer_registry.token_server.refresh_tokens["gryt-refresh-0123456789"] = bearer_registry.username
    files = make_files(tmp_path / "dist")
    paths = [tmp_path / "dist" / name for name in files]
    results = {}
    for token in ("gryt-refresh-0123456789", "gryt-refresh-wrong-0123"):
        folder = tmp_path / token
        folder.mkdir()
        (folder / "config.json").write_text(
            json.dumps({"auths": {bearer_registry.host: {"identitytoken": token}}})
        )
        context = context_with(folder)
        results[token] = push_files(
            bearer_registry, context, paths, repository=f"{bearer_registry.host}/id/files"
        )
        assert context.masker.mask(f"x {token} x") == "x *** x"
    assert {r["status"] for r in results["gryt-refresh-0123456789"]} == {"success"}
    assert {r["error"] for r in results["gryt-refresh-wrong-0123"]} == {
        f"token server of registry {bearer_registry.host} rejected the credentials with an identity token:"
        " HTTP 401 (unknown refresh token)"
    }
    assert bearer_registry.tags("id/files") == ["1.0"]


def test_unpacked_docker_save_folder(basic_registry: Registry, skopeo_basic: Skopeo, tmp_path: Path) -> None:
    """`docker save` unpacked into a folder is read like the archive: same manifest, same digest."""
    make_files(tmp_path / "src")
    expected = build_image(tmp_path / "src", tmp_path / "app.tar", fmt="docker-save")
    with tarfile.open(tmp_path / "app.tar") as archive:
        safe: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        archive.extractall(tmp_path / "unpacked", **safe)
    repository = f"{basic_registry.host}/unpacked/app"
    results = push_image(basic_registry, skopeo_basic.context, tmp_path / "unpacked", repository=repository)
    assert results[0]["status"] == "success", results
    assert results[0]["source"] == "docker-save"
    assert results[0]["digest"] == expected
    assert skopeo_basic.inspect(f"{repository}:1.0")["Digest"] == expected

"""The `pypi` destination against real package indexes on 127.0.0.1 (pypiserver with htpasswd, devpi-server):
`gryt run` builds a wheel and an sdist and uploads them with twine, pip installs the wheel back from the
index into a fresh venv, the sdist downloads with the digest reported; wrong credentials, re-uploads,
`skip_existing` and `check` behave as documented; the token appears in no sink."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from _servers.pypi import PackageIndex, build_command, build_dists, pip_install, write_source

from gryt.context import RunContext
from gryt_pypi.destination import PypiDestination

from .conftest import gryt_run, unique_name, write_project

pytestmark = pytest.mark.slow

SERVERS = ["pypi_server", "devpi_server"]
BROKEN_README = "Title\n=====\n\n.. no-such-directive:: here\n"


def index_for(request: pytest.FixtureRequest, name: str) -> PackageIndex:
    index: PackageIndex = request.getfixturevalue(name)
    return index


def destination(index: PackageIndex, **extra: Any) -> dict[str, Any]:
    return {"repository_url": index.upload_url, "username": index.username, **extra}


def publish(
    index: PackageIndex, files: list[Path], *, token: str | None = None, **extra: Any
) -> list[dict[str, Any]]:
    """Publish in process, as a run's delivery does, with the token in PYPI_TOKEN of the run's env."""
    dest = PypiDestination("index", destination(index, **extra))
    dest.context = RunContext(env={"PYPI_TOKEN": token or index.token})
    return dest.publish(files)


@pytest.mark.parametrize("server", SERVERS)
def test_run_uploads_wheel_and_sdist_that_pip_installs(
    server: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    index = index_for(request, server)
    name, version = unique_name(), "1.2.3"
    project = tmp_path / "project"
    write_source(project / "pkg", name, version)
    write_project(project, destination(index), build=build_command(Path("pkg"), Path("dist")))

    run = gryt_run(project, {"PYPI_TOKEN": index.token})

    assert run.proc.returncode == 0, run.proc.stderr.decode(errors="replace")[-3000:]
    assert run.result["status"] == "success"
    by_file = {Path(item["artifact"]).name: item for item in run.items}
    wheel = f"{name}-{version}-py2.py3-none-any.whl"
    sdist = f"{name}-{version}.tar.gz"
    assert sorted(by_file) == sorted([wheel, sdist])
    for filename, item in by_file.items():
        data = (project / "dist" / filename).read_bytes()
        assert item["status"] == "success"
        assert item["version"] == version
        assert item["name"] == name.replace("_", "-")  # the normalized project name
        assert item["digest"] == "sha256:" + hashlib.sha256(data).hexdigest()
        assert item["url"].startswith(index.upload_url.split("/", 3)[0] + "//127.0.0.1:")
        assert item["url"].split("#")[0].endswith("/" + filename)
        assert "existing" not in item
    with urllib.request.urlopen(by_file[sdist]["url"], timeout=30) as answer:
        assert answer.read() == (project / "dist" / sdist).read_bytes()

    installed = pip_install(index, f"{name}=={version}", tmp_path / "venv")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    imported = subprocess.run(
        [str(tmp_path / "venv" / "bin" / "python"), "-c", f"import {name}; print({name}.__version__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert imported.stdout.strip() == version, imported.stderr

    log = next((project / ".gryt" / "logs").rglob("destination+index.log")).read_text()
    assert f"Uploading {wheel}" in log
    assert run.junit.is_file()
    assert list(project.rglob("*.db"))
    assert run.leaks([index.token]) == []


@pytest.mark.parametrize(
    ("server", "answer"), [("pypi_server", "HTTP 403 Forbidden"), ("devpi_server", "HTTP 401 Unauthorized")]
)
def test_wrong_token_is_a_destination_error_with_the_servers_answer(
    server: str, answer: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    index = index_for(request, server)
    project = tmp_path / "project"
    build_dists(write_source(tmp_path / "src", unique_name(), "0.1.0"), project / "dist")
    write_project(project, destination(index))
    wrong = "pypi-grytsecret-wrong-" + "x" * 20

    run = gryt_run(project, {"PYPI_TOKEN": wrong})

    assert run.proc.returncode == 1
    assert run.result["status"] == "error"
    assert [item["status"] for item in run.items] == ["error", "error"]
    for item in run.items:
        assert f"{index.upload_url} refused the upload: {answer}" in item["error"]
        assert "check the credentials (token from PYPI_TOKEN" in item["error"]
    assert answer in run.proc.stderr.decode() + run.proc.stdout.decode()
    assert run.leaks([wrong]) == []


@pytest.mark.parametrize("server", SERVERS)
def test_reupload_fails_clearly_unless_skip_existing(
    server: str, request: pytest.FixtureRequest, tmp_path: Path, clean_env: Path
) -> None:
    index = index_for(request, server)
    name = unique_name()
    first = build_dists(write_source(tmp_path / "a", name, "2.0.0"), tmp_path / "a" / "dist")
    assert [item["status"] for item in publish(index, first)] == ["success", "success"]
    # the same version again, with other content: same file names, other bytes
    source = write_source(tmp_path / "b", name, "2.0.0")
    (source / "src" / name / "extra.py").write_text("CHANGED = True\n")
    again = build_dists(source, tmp_path / "b" / "dist")

    refused = publish(index, again)

    assert [item["status"] for item in refused] == ["error", "error"]
    for item in refused:
        assert "already exists" in item["error"], item["error"]
        assert item["error"].startswith(f"{index.upload_url} refused the upload: HTTP 4")

    skipped = publish(index, again, skip_existing=True)

    assert [(item["status"], item.get("existing")) for item in skipped] == [("success", True)] * 2
    assert [Path(item["url"]).name for item in skipped] == [p.name for p in again]


def test_skip_existing_uploads_what_is_missing(
    pypi_server: PackageIndex, tmp_path: Path, clean_env: Path
) -> None:
    files = build_dists(write_source(tmp_path / "src", unique_name(), "3.0.0"), tmp_path / "dist")
    wheel, sdist = sorted(files, key=lambda p: p.suffix != ".whl")
    assert publish(pypi_server, [wheel])[0]["status"] == "success"

    both = publish(pypi_server, [wheel, sdist], skip_existing=True)

    assert [(Path(i["artifact"]).name, i["status"], i.get("existing", False)) for i in both] == [
        (wheel.name, "success", True),
        (sdist.name, "success", False),
    ]


def test_check_fails_with_twines_message_and_uploads_nothing(
    pypi_server: PackageIndex, tmp_path: Path, clean_env: Path
) -> None:
    name = unique_name()
    files = build_dists(
        write_source(tmp_path / "src", name, "0.0.1", readme=BROKEN_README), tmp_path / "dist"
    )

    items = publish(pypi_server, files, check=True)

    assert [item["status"] for item in items] == ["error", "error"]
    for item in items:
        assert item["error"].startswith("twine check failed: `long_description` has syntax errors in markup")
        assert 'Unknown directive type "no-such-directive"' in item["error"]
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{pypi_server.simple_url}{name.replace('_', '-')}/", timeout=30)
    assert missing.value.code == 404
    missing.value.close()


def test_check_passes_then_uploads(pypi_server: PackageIndex, tmp_path: Path, clean_env: Path) -> None:
    files = build_dists(
        write_source(tmp_path / "src", unique_name(), "0.0.2", readme="Fine\n====\n\nText.\n"),
        tmp_path / "dist",
    )

    items = publish(pypi_server, files, check=True)

    assert [item["status"] for item in items] == ["success", "success"]


def test_pypirc_section_gives_url_and_credentials(
    pypi_server: PackageIndex, tmp_path: Path, clean_env: Path
) -> None:
    pypirc = tmp_path / "pypirc"
    pypirc.write_text(
        "[distutils]\nindex-servers = local\n\n"
        f"[local]\nrepository = {pypi_server.upload_url}\nusername = {pypi_server.username}\npassword = {pypi_server.token}\n"
    )
    files = build_dists(write_source(tmp_path / "src", unique_name(), "4.0.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository": "local", "pypirc": str(pypirc)})
    dest.context = RunContext()

    items = dest.publish(files)

    assert [item["status"] for item in items] == ["success", "success"]
    assert {item["repository_url"] for item in items} == {pypi_server.upload_url}
    assert pypi_server.token in dest.context.masker


def test_unknown_pypirc_section_is_an_error_naming_the_sections(tmp_path: Path, clean_env: Path) -> None:
    pypirc = tmp_path / "pypirc"
    pypirc.write_text("[local]\nrepository = http://127.0.0.1:9/\npassword = pypi-grytsecret-zzzzzzzz\n")
    files = build_dists(write_source(tmp_path / "src", unique_name(), "0.1.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository": "locl", "pypirc": str(pypirc)})

    items = dest.publish(files)

    assert [item["status"] for item in items] == ["error", "error"]
    assert (
        items[0]["error"]
        == f'repository "locl" is not a section of the .pypirc: {pypirc} has the sections local'
    )


def test_unreachable_index_is_an_error(tmp_path: Path, clean_env: Path) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    files = build_dists(write_source(tmp_path / "src", unique_name(), "0.1.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository_url": f"http://127.0.0.1:{port}/", "timeout": 20})
    dest.context = RunContext(env={"PYPI_TOKEN": "pypi-grytsecret-unreachable"})

    items = dest.publish(files)

    assert [item["status"] for item in items] == ["error", "error"]
    assert all(
        "twine upload failed" in item["error"] and "Connection refused" in item["error"] for item in items
    ), items


def test_credentials_in_the_url_are_used_but_never_shown(
    pypi_server: PackageIndex, tmp_path: Path, clean_env: Path
) -> None:
    from gryt.process import LazyLog

    host = pypi_server.upload_url.split("//", 1)[1]
    files = build_dists(write_source(tmp_path / "src", unique_name(), "6.0.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository_url": f"http://__token__:{pypi_server.token}@{host}"})
    dest.context = RunContext()
    dest.log = LazyLog(tmp_path / "destination.log")
    try:
        items = dest.publish(files)
    finally:
        dest.log.close()

    assert [item["status"] for item in items] == ["success", "success"]
    assert {item["repository_url"] for item in items} == {pypi_server.upload_url}
    log = (tmp_path / "destination.log").read_text()
    assert f"uploading to {pypi_server.upload_url} as __token__ (password in repository_url)" in log
    assert pypi_server.token not in log
    assert pypi_server.token not in repr(items)


def test_attestations_are_required_when_asked_for(tmp_path: Path, clean_env: Path) -> None:
    files = build_dists(write_source(tmp_path / "src", unique_name(), "0.1.0"), tmp_path / "dist")
    dest = PypiDestination("index", {"repository_url": "http://127.0.0.1:9/", "attestations": True})
    dest.context = RunContext(env={"PYPI_TOKEN": "pypi-grytsecret-attest"})

    items = dest.publish(files[:1])

    assert items[0]["status"] == "error"
    assert items[0]["error"] == (
        f"twine upload failed: InvalidDistribution: Upload with attestations requested, but {files[0]}"
        " has no associated attestations"
    )


def test_repository_url_from_a_template_is_checked_and_used(
    pypi_server: PackageIndex, tmp_path: Path
) -> None:
    name, version = unique_name(), "0.5.0"
    project = tmp_path / "project"
    write_source(project / "pkg", name, version)
    config = {"repository_url": "${{ env.UPLOAD_URL || 'pypi' }}", "username": pypi_server.username}
    write_project(project, config, build=build_command(Path("pkg"), Path("dist")))

    run = gryt_run(project, {"PYPI_TOKEN": pypi_server.token, "UPLOAD_URL": pypi_server.upload_url})

    assert run.proc.returncode == 0, run.proc.stderr.decode(errors="replace")[-3000:]
    assert {item["status"] for item in run.items} == {"success"}
    assert {item["repository_url"] for item in run.items} == {pypi_server.upload_url}
    refused = subprocess.run(
        [sys.executable, "-c", "from gryt.cli import main; main()", "validate", "release"],
        cwd=project,
        env={**os.environ, "UPLOAD_URL": "ftp://nowhere"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert "destinations[0].repository_url: expected an http(s) URL" in refused.stderr

"""The environment store with real interpreters and both backends, installing from the session's wheelhouse:
built once and reused, keyed by what it is made of, rebuilt when incomplete, safe when two processes
create the same one at once."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from gryt.masking import Masker
from gryt_python.backends import env_python
from gryt_python.environments import STAMP, BuildError, EnvSpec, Prepared, Store, file_digests

from .conftest import interpreter, offline_env


def make_spec(
    version: str,
    backend: str,
    install: tuple[str, ...] = (),
    files: tuple[str, ...] = (),
    cwd: Path | None = None,
) -> EnvSpec:
    found = interpreter(version)
    digests = file_digests(files, cwd or Path.cwd(), "t")
    return EnvSpec(found.path, found.version, backend, install, files, digests)


def ensure(
    store: Store, spec: EnvSpec, wheelhouse: Path, *, recreate: bool = False, started: float | None = None
) -> Prepared:
    return store.ensure(
        spec,
        install_args=spec.install,
        cwd=store.root.parent,
        recreate=recreate,
        started=time.time() if started is None else started,
        timeout=300,
        env=offline_env(wheelhouse),
        masker=Masker(),
    )


def python_says(folder: Path, code: str) -> str:
    done = subprocess.run([str(env_python(folder)), "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.mark.slow
@pytest.mark.parametrize(("backend", "version"), [("uv", "3.10"), ("uv", "3.13"), ("venv", "3.12")])
def test_builds_then_reuses(
    backend: str, version: str, wheelhouse: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "uv":
        request.getfixturevalue("uv_available")
    store = Store(tmp_path / "envs")
    spec = make_spec(version, backend, ("iniconfig",))
    built = ensure(store, spec, wheelhouse)
    assert not built.reused and built.warning is None
    assert built.folder.name == f"py{version}-{spec.key()}"
    assert (
        python_says(built.folder, "import sys, iniconfig; print(sys.version.split()[0], iniconfig.__name__)")
        == f"{spec.version} iniconfig"
    )
    assert python_says(built.folder, "import sys; print(sys.prefix != sys.base_prefix)") == "True"
    stamp = json.loads((built.folder / STAMP).read_text())
    assert (stamp["backend"], stamp["version"], stamp["install"]) == (backend, spec.version, ["iniconfig"])
    has_pip = python_says(
        built.folder, "import importlib.util; print(importlib.util.find_spec('pip') is not None)"
    )
    assert has_pip == "False"  # the same with both backends
    again = ensure(store, spec, wheelhouse)
    assert again.reused and again.folder == built.folder and again.duration == 0.0
    assert [p.name for p in store.entries()] == [built.folder.name]


def test_the_key_follows_what_the_environment_is_made_of(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pytest\n")
    base = make_spec("3.12", "uv", ("-r", "requirements.txt"), ("requirements.txt",), tmp_path)
    assert (
        make_spec("3.12", "uv", ("-r", "requirements.txt"), ("requirements.txt",), tmp_path).key()
        == base.key()
    )
    (tmp_path / "requirements.txt").write_text("pytest>=8\n")
    changed = make_spec("3.12", "uv", ("-r", "requirements.txt"), ("requirements.txt",), tmp_path)
    others = {
        changed.key(),
        make_spec("3.12", "venv", ("-r", "requirements.txt"), ("requirements.txt",), tmp_path).key(),
        make_spec("3.12", "uv", ("pytest",)).key(),
        make_spec("3.11", "uv", ("-r", "requirements.txt"), ("requirements.txt",), tmp_path).key(),
    }
    assert base.key() not in others and len(others) == 4


def test_an_incomplete_environment_is_rebuilt_with_a_warning(
    wheelhouse: Path, tmp_path: Path, uv_available: None
) -> None:
    store = Store(tmp_path / "envs")
    spec = make_spec("3.12", "uv")
    first = ensure(store, spec, wheelhouse)
    (first.folder / STAMP).unlink()  # as if the build had been killed before it finished
    (first.folder / "leftover").write_text("half-built")
    rebuilt = ensure(store, spec, wheelhouse)
    assert not rebuilt.reused
    assert rebuilt.warning == f"environment {first.folder.name} was incomplete or corrupted; rebuilding it"
    assert not (rebuilt.folder / "leftover").exists() and (rebuilt.folder / STAMP).is_file()
    env_python(rebuilt.folder).unlink()  # a stamp, but no interpreter: corrupted too
    again = ensure(store, spec, wheelhouse)
    assert again.warning is not None and python_says(again.folder, "print('ok')") == "ok"


def test_recreate_rebuilds_once_per_run(wheelhouse: Path, tmp_path: Path, uv_available: None) -> None:
    store = Store(tmp_path / "envs")
    spec = make_spec("3.12", "uv")
    ensure(store, spec, wheelhouse)
    run_started = time.time() + 0.01
    time.sleep(0.02)
    rebuilt = ensure(store, spec, wheelhouse, recreate=True, started=run_started)
    assert not rebuilt.reused and rebuilt.warning is None
    shared = ensure(store, spec, wheelhouse, recreate=True, started=run_started)
    assert shared.reused  # built during this same run (another step, another runner): kept


def test_a_failed_install_is_a_build_error(wheelhouse: Path, tmp_path: Path, uv_available: None) -> None:
    store = Store(tmp_path / "envs")
    spec = make_spec("3.12", "uv", ("no-such-package-gryt",))
    with pytest.raises(BuildError) as caught:
        ensure(store, spec, wheelhouse)
    assert str(caught.value).startswith("installing into the environment failed: ")
    assert "no-such-package-gryt" in caught.value.stderr
    folder = store.root / spec.folder_name()
    assert folder.exists() and not (folder / STAMP).exists()  # the next run rebuilds it


RACER = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from gryt.masking import Masker
    from gryt_python.environments import EnvSpec, Store

    root, go, wheelhouse, python, version = sys.argv[1:6]
    spec = EnvSpec(python, version, "uv", ("iniconfig",), (), ())
    while not Path(go).exists():
        time.sleep(0.005)
    env = {**os.environ, "UV_NO_INDEX": "1", "UV_FIND_LINKS": wheelhouse, "UV_NO_CONFIG": "1"}
    done = Store(Path(root)).ensure(
        spec, install_args=spec.install, cwd=Path(root), recreate=False, started=time.time(), timeout=300,
        env=env, masker=Masker(),
    )
    print(json.dumps({"folder": str(done.folder), "reused": done.reused, "warning": done.warning}))
    """
)


@pytest.mark.slow
def test_two_processes_creating_one_environment_share_it(
    wheelhouse: Path, tmp_path: Path, uv_available: None
) -> None:
    found = interpreter("3.11")
    root, go = tmp_path / "envs", tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(root), str(go), str(wheelhouse), found.path, found.version],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    time.sleep(0.5)  # both are importing and then polling for `go`
    go.touch()
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert racer.returncode == 0, err
        outcomes.append(json.loads(out))
    assert outcomes[0]["folder"] == outcomes[1]["folder"]
    assert sorted(o["reused"] for o in outcomes) == [False, True]
    assert all(o["warning"] is None for o in outcomes)
    assert [p.name for p in Store(root).entries()] == [Path(outcomes[0]["folder"]).name]
    assert python_says(Path(outcomes[0]["folder"]), "import iniconfig; print('ok')") == "ok"

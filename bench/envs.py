"""Per-Python-version environments: a 3-session workload (ruff on 3.12, pytest on 3.11 and 3.12) on a small
project, in gryt-python (`python`/`pytest` steps, sequential), nox (`-r` to reuse) and tox (reuses by default),
each run as its whole command line, cold (no environments yet) and warm (every environment there).

nox and tox are installed into a cached venv (.venv-envs-peers). Every tool installs from one wheelhouse
downloaded once (.bench-wheels: pytest, ruff and their dependencies) with no index, so the network is not
timed. The interpreters are put first on PATH as python3.11/python3.12 (pyenv's shims may not run them).
Targets: warm gryt <= 0.8x the faster warm peer; cold gryt (uv) <= 0.5x cold nox. `--smoke`: one pytest
session, once, cold in gryt (uv) and nox, warm in gryt and tox."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from _harness import ROOT, VENV_BIN, finish, header, interleave, parse_args, ratio_line, tools_venv

WHEELS = Path(ROOT) / ".bench-wheels"
PYTHONS = ("3.11", "3.12")


def wheelhouse() -> Path:
    """pytest (with its dependencies for every Python) and ruff as wheels, downloaded once."""
    if not (WHEELS / ".ready").exists():
        wanted = ["pytest", "exceptiongroup", "tomli", "ruff"]
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--only-binary=:all:",
                "-d",
                str(WHEELS),
                *wanted,
            ],
            check=True,
        )
        (WHEELS / ".ready").touch()
    return WHEELS


def interpreters(folder: Path) -> None:
    """`python3.11` and `python3.12` in `folder`, linked to the interpreters gryt-python finds."""
    from gryt_python.interpreters import find_interpreter

    folder.mkdir()
    for version in PYTHONS:
        (folder / f"python{version}").symlink_to(find_interpreter(version, "bench").path)


def write_project(root: Path, smoke: bool) -> None:
    (root / "src" / "calc").mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "src" / "calc" / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    body = "".join(f"\n\ndef test_add_{i}():\n    assert add({i}, 1) == {i + 1}\n" for i in range(20))
    (root / "tests" / "test_calc.py").write_text("from calc import add\n" + body)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\npythonpath = ["src"]\n')
    pythons = PYTHONS[-1:] if smoke else PYTHONS
    lint = not smoke
    (root / "noxfile.py").write_text(
        textwrap.dedent(
            f"""
            import nox

            if {lint}:
                @nox.session(python="3.12")
                def lint(session):
                    session.install("ruff")
                    session.run("ruff", "check", "src", "tests")

            @nox.session(python={list(pythons)!r})
            def tests(session):
                session.install("pytest")
                session.run("pytest", "-q", "tests")
            """
        )
    )
    envs = (["lint"] if lint else []) + [f"py{v.replace('.', '')}" for v in pythons]
    (root / "tox.ini").write_text(
        textwrap.dedent(
            f"""
            [tox]
            env_list = {", ".join(envs)}
            skipsdist = true

            [testenv]
            skip_install = true
            deps = pytest
            commands = pytest -q tests

            [testenv:lint]
            basepython = python3.12
            deps = ruff
            commands = ruff check src tests
            """
        )
    )
    pipelines = root / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    for name, backend in (("bench", "auto"), ("bench-venv", "venv")):
        lint_runner = (
            f'[[runners]]\nid = "lint"\nsteps = [{{ id = "ruff", type = "python", python = "3.12", '
            f'backend = "{backend}", install = ["ruff"], cmd = ["ruff", "check", "src", "tests"] }}]\n\n'
        )
        (pipelines / f"{name}.toml").write_text(
            f'[pipeline]\nname = "{name}"\nparallel = false\n\n'
            + (lint_runner if lint else "")
            + f'[[runners]]\nid = "tests"\nmatrix = {{ python = {list(pythons)!r} }}\n'
            f'steps = [{{ id = "pytest", type = "pytest", python = "${{{{ matrix.python }}}}", backend = "{backend}", '
            f'install = ["pytest"], args = ["-q", "tests"] }}]\n'
        )


def main() -> None:
    args = parse_args(__doc__ or "")
    bin_dir = tools_venv(".venv-envs-peers", "nox", "tox")
    wheels = wheelhouse()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        project = tmp / "project"
        write_project(project, args.smoke)
        interpreters(tmp / "pythons")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "VIRTUAL_ENV"))}
        env.update(
            NO_COLOR="1",
            PATH=os.pathsep.join([str(tmp / "pythons"), env.get("PATH", "")]),
            PIP_NO_INDEX="1",
            PIP_FIND_LINKS=str(wheels),
            PIP_DISABLE_PIP_VERSION_CHECK="1",
            UV_NO_INDEX="1",
            UV_FIND_LINKS=str(wheels),
        )
        gryt = os.path.join(VENV_BIN, "gryt")
        caches = {"gryt": project / ".gryt" / "envs", "nox": project / ".nox", "tox": project / ".tox"}

        trash = tmp / "trash"
        trash.mkdir()

        def command(*argv: str, clean: Path | None = None) -> Callable[[], None]:
            def run() -> None:
                if (
                    clean is not None and clean.exists()
                ):  # moved away, not deleted: deleting is slow and untimed
                    clean.rename(trash / str(len(list(trash.iterdir()))))
                done = subprocess.run(argv, cwd=project, env=env, capture_output=True, text=True, check=False)
                if done.returncode != 0:
                    raise SystemExit(
                        f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
                    )

            return run

        cold = {
            "gryt cold (uv)": command(gryt, "run", "bench", clean=caches["gryt"]),
            "gryt cold (venv + pip)": command(gryt, "run", "bench-venv", clean=caches["gryt"]),
            "nox cold": command(str(bin_dir / "nox"), clean=caches["nox"]),
            "tox cold": command(str(bin_dir / "tox"), "-q", clean=caches["tox"]),
        }
        if args.smoke:  # one variant of each kind, to check that they run
            cold = {k: v for k, v in cold.items() if k in ("gryt cold (uv)", "nox cold")}
        cold_samples = interleave(cold, args.repeat)
        warm = {
            "gryt warm": command(gryt, "run", "bench"),
            "nox -r warm": command(str(bin_dir / "nox"), "-r"),
            "tox warm": command(str(bin_dir / "tox"), "-q"),
        }
        if args.smoke:
            warm = {k: v for k, v in warm.items() if k != "nox -r warm"}
        for warm_up in warm.values():  # every tool's environments exist before the warm runs are timed
            warm_up()
        warm_samples = interleave(warm, args.repeat)
    sessions = "1 session (pytest on 3.12)" if args.smoke else "3 sessions (ruff 3.12, pytest 3.11 and 3.12)"
    header(f"envs: {sessions}, cold, ratio against nox cold")
    ok = True
    nox_cold = cold_samples["nox cold"]
    for label, sample in cold_samples.items():
        row, met = ratio_line(label, sample, nox_cold, 0.5 if label == "gryt cold (uv)" else None)
        ok = ok and met
        print(row)
    peers = [sample for label, sample in warm_samples.items() if not label.startswith("gryt")]
    fastest_peer = min(peers, key=lambda s: s.median)
    header(f"envs: warm, ratio against the faster peer ({fastest_peer.name})")
    for label, sample in warm_samples.items():
        row, met = ratio_line(label, sample, fastest_peer, 0.8 if label == "gryt warm" else None)
        ok = ok and met
        print(row)
    finish(ok, args.smoke)


if __name__ == "__main__":
    main()

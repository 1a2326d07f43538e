"""`gryt run` with `python` and `pytest` steps, end to end in subprocesses, installing from the session's
wheelhouse: examples/pipelines/python-matrix.toml twice (the second run reuses every environment and the
summary shows each version's test counts), failures and errors parsed from a real pytest run into the
summary, `runs show` and JUnit, a secret in an install URL in no sink, `gryt envs list|prune`, forcing a
rebuild, and `gryt new --steps python`."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from _leaks import find_bytes
from _servers.simple_index import PrivateIndex

from .conftest import VERSIONS, available_versions, gryt, offline_env, write_project

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pipelines" / "python-matrix.toml"


def step_results(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    runners = result["runners"]
    return {f"{rid}/{sid}": step for rid, steps in runners.items() for sid, step in steps.items()}


@pytest.mark.slow
def test_the_python_matrix_example_reuses_every_environment(
    tmp_path: Path, wheelhouse: Path, uv_available: None
) -> None:
    missing = sorted(set(VERSIONS) - set(available_versions()))
    if missing:
        pytest.skip(f"the example tests on {', '.join(VERSIONS)}; missing here: {', '.join(missing)}")
    project = write_project(tmp_path / "project")
    (project / "src" / "calc" / "__init__.py").write_text("def add(a, b):\n    return a + b\n")
    shutil.copy(EXAMPLE, project / ".gryt" / "pipelines" / EXAMPLE.name)
    env = offline_env(wheelhouse)

    first = gryt(project, "run", "python-matrix", "--json", env=env)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    steps = step_results(json.loads(first.stdout))
    assert sorted(steps) == ["lint/ruff", *(f"test (python={v})/pytest" for v in VERSIONS)]
    built = {name: step["python_env"] for name, step in steps.items()}
    assert all(not env_info["reused"] for env_info in built.values())
    for version in VERSIONS:
        step = steps[f"test (python={version})/pytest"]
        assert step["tests"]["passed"] == 3 and step["tests"]["skipped"] == 1
        assert step["python_env"]["python"].startswith(version + ".")
    assert (project / ".gryt" / "envs" / "interpreters.json").is_file()

    second = gryt(project, "run", "python-matrix", env=env)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    for version in VERSIONS:
        assert f"test (python={version})/pytest tests: 3 passed, 1 skipped" in second.stdout
    with sqlite3.connect(project / ".gryt" / "gryt.db") as db:
        rows = db.execute(
            "SELECT step_id, output_json FROM step_runs WHERE pipeline_id = "
            "(SELECT pipeline_id FROM pipelines ORDER BY start_timestamp DESC LIMIT 1)"
        ).fetchall()
    again = {step_id: json.loads(output)["python_env"] for step_id, output in rows}
    assert len(again) == 5 and all(info["reused"] for info in again.values())
    assert {info["path"] for info in again.values()} == {info["path"] for info in built.values()}
    assert len(list((project / ".gryt" / "envs").glob("py3.*-*[!k]"))) == 5


PIPELINE = """
[pipeline]
name = "ci"
secrets = ["INDEX_TOKEN"]

[[runners]]
id = "test"
steps = [
  {{ id = "unit", type = "pytest", python = "3.12", backend = "{backend}", install = [{install}], args = ["tests"] }},
  {{ id = "where", type = "python", python = "3.12", backend = "{backend}", install = [{install}], if = "always()", cmd = ["python", "-c", "import os, sys; print(sys.prefix == os.environ['VIRTUAL_ENV'], os.environ['PATH'].split(':')[0])"] }},
]
"""


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["uv", "venv"])
def test_failures_reach_summary_runs_show_and_junit(
    tmp_path: Path,
    wheelhouse: Path,
    private_index: PrivateIndex,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    """pytest's failures and errors in every view; the install comes from an index that needs the password
    of its URL, which shows in no sink (only in the pipeline file the user wrote)."""
    if backend == "uv":
        request.getfixturevalue("uv_available")
    private_index.serve(wheelhouse)
    project = write_project(tmp_path / "project", failing=True)
    install = f'"--index-url", "{private_index.url_with()}", "pytest"'
    (project / ".gryt" / "pipelines" / "ci.toml").write_text(
        PIPELINE.format(backend=backend, install=install)
    )
    (tmp_path / "tmp").mkdir()
    offline = offline_env(wheelhouse, TMPDIR=str(tmp_path / "tmp"), PIP_CONFIG_FILE="/dev/null")
    env = {
        k: v
        for k, v in offline.items()
        if k not in ("PIP_NO_INDEX", "UV_NO_INDEX", "PIP_FIND_LINKS", "UV_FIND_LINKS")
    }
    junit = tmp_path / "out" / "junit.xml"
    before = private_index.authorized

    run = gryt(project, "run", "ci", "--junit", str(junit), env=env)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert private_index.authorized > before  # pytest came from the private index, with the password
    out = run.stdout
    assert "test/unit tests: 3 passed, 1 failed, 1 errors, 1 skipped" in out
    assert "test/unit failing tests:" in out
    assert (
        "test/unit   tests/test_calc.py::test_wrong" in out
        and "test/unit   tests/test_calc.py::test_broken" in out
    )
    line = r"test/unit error \(3 passed, 1 failed, 1 errors, 1 skipped\) exit 1 .* - pytest: 1 failed, 1 errors \(exit code 1\)"
    assert re.search(line, out), out

    shown = gryt(project, "runs", "show", "last", env=env)
    assert "error (3 passed, 1 failed, 1 errors, 1 skipped)" in shown.stdout, shown.stdout
    as_json = json.loads(gryt(project, "runs", "show", "last", "--json", env=env).stdout)
    where = next(s for s in as_json["steps"] if s["step_id"] == "where")
    folder = project / where["output"]["python_env"]["path"]
    assert where["output"]["stdout"].split() == ["True", str(folder / "bin")]
    assert where["output"]["python_env"]["backend"] == backend

    suites = {s.get("name"): s for s in ET.parse(junit).getroot().iter("testsuite")}
    nested = suites["test/unit"]
    assert (nested.get("tests"), nested.get("failures"), nested.get("skipped")) == ("6", "2", "1")

    password = private_index.password.encode()
    assert private_index.password not in run.stdout + run.stderr + shown.stdout + json.dumps(as_json)
    (project / ".gryt" / "pipelines" / "ci.toml").unlink()
    for sink in (
        project / ".gryt",
        junit.parent,
        tmp_path / "tmp",
    ):  # database, logs, envs; JUnit; temp files
        assert find_bytes(sink, [password]) == [], sink
    stamp = json.loads((folder / "gryt-env.json").read_text())
    assert f"http://***@127.0.0.1:{private_index.port}/simple/" in stamp["install"]  # user:password masked


def test_a_missing_python_is_one_line(tmp_path: Path, wheelhouse: Path) -> None:
    project = write_project(tmp_path / "project")
    (project / ".gryt" / "pipelines" / "ci.toml").write_text(
        '[[runners]]\nid = "t"\nsteps = [{ id = "x", type = "python", python = "3.99", cmd = ["python", "-V"] }]\n'
    )
    run = gryt(project, "run", "ci", "--json", env=offline_env(wheelhouse))
    assert run.returncode == 1
    step = step_results(json.loads(run.stdout))["t/x"]
    assert step["error"].startswith(
        "x.python: no Python 3.99 found on PATH, in pyenv's or uv's interpreters; found: "
    )
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_envs_list_prune_and_recreate(tmp_path: Path, wheelhouse: Path, uv_available: None) -> None:
    project = write_project(tmp_path / "project")
    (project / ".gryt" / "pipelines" / "ci.toml").write_text(
        '[[runners]]\nid = "t"\nsteps = [{ id = "v", type = "python", python = "3.11", cmd = ["python", "-V"] }]\n'
    )
    env = offline_env(wheelhouse)
    assert gryt(project, "run", "ci", env=env).returncode == 0
    listing = gryt(project, "envs", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    listed = json.loads(listing.stdout)
    assert [(e["status"], e["backend"], e["python"][:5]) for e in listed] == [("ok", "uv", "3.11.")]
    folder = Path(listed[0]["path"])
    created = (folder / "gryt-env.json").stat().st_mtime

    forced = gryt(project, "run", "ci", "--json", env={**env, "GRYT_RECREATE_ENVS": "1"})
    assert step_results(json.loads(forced.stdout))["t/v"]["python_env"]["reused"] is False
    assert (folder / "gryt-env.json").stat().st_mtime > created

    (project / ".gryt" / "envs" / "py3.9-half-built").mkdir()
    kept = gryt(project, "envs", "prune", env=env)
    assert kept.returncode == 0 and kept.stdout.splitlines() == [
        "removed py3.9-half-built",
        "removed 1, kept 1",
    ]
    pruned = gryt(project, "envs", "prune", "--all", env=env)
    assert pruned.stdout.splitlines()[-1] == "removed 1, kept 0" and not folder.exists()
    assert gryt(project, "envs", "list", env=env).stdout == "no environments\n"


def test_new_python_preset_uses_the_python_steps(tmp_path: Path, wheelhouse: Path) -> None:
    project = write_project(tmp_path / "project")
    env = offline_env(wheelhouse)
    made = gryt(project, "new", "checks", "--steps", "python", env=env)
    assert made.returncode == 0, made.stderr
    text = (project / ".gryt" / "pipelines" / "checks.toml").read_text()
    assert 'type = "pytest"' in text and 'type = "python"' in text
    assert gryt(project, "validate", "checks", env=env).returncode == 0
    off = gryt(project, "new", "plain", "--steps", "python", env={**env, "GRYT_DISABLE_PLUGINS": "python"})
    assert off.returncode == 0, off.stderr
    assert "type = " not in (project / ".gryt" / "pipelines" / "plain.toml").read_text()
    assert (
        'cmd = ["python", "-m", "pytest", "-q"]'
        in (project / ".gryt" / "pipelines" / "plain.toml").read_text()
    )

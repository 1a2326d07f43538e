"""Every error of the issue's Errors paragraph through the real `gryt`: exit 2, one line on stderr naming
the file and the problem, no traceback (unless --debug); a failed run exits 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import pipeline, write

OK_RUNNER = '[[runners]]\nsteps = [{ id = "a", cmd = ["true"] }]\n'

CASES = {
    "toml_syntax": (
        "bad.toml",
        '[pipeline]\nname = "x"\nparallel = \n' + OK_RUNNER,
        ["bad.toml", "invalid TOML", "line 3", "column"],
    ),
    "unknown_key": (
        "bad.toml",
        '[[runners]]\nsteps = [{ id = "a", cmd = ["true"], timout = 5 }]\n',
        ["bad.toml", "runners[0].steps[0].timout: unknown key", 'did you mean "timeout"?'],
    ),
    "wrong_type": (
        "bad.toml",
        '[[runners]]\nsteps = [{ id = "a", cmd = ["true"] }, { id = "b", cmd = ["true"] }, '
        '{ id = "c", cmd = ["true"], timeout = "ten" }]\n',
        ["bad.toml", "runners[0].steps[2].timeout: expected", 'got "ten"'],
    ),
    "unknown_type": (
        "bad.toml",
        '[[destinations]]\ntype = "s3"\n' + OK_RUNNER,
        ["bad.toml", 'destinations[0].type: unknown destination type "s3"', "command", "directory"],
    ),
    "duplicate_ids": (
        "bad.toml",
        '[[runners]]\nid = "x"\nsteps = [{ id = "a", cmd = ["true"] }]\n'
        '[[runners]]\nid = "x"\nsteps = [{ id = "b", cmd = ["true"] }]\n',
        ["bad.toml", 'runners[1].id: duplicate runner id "x"'],
    ),
    "bad_needs": (
        "bad.toml",
        '[[runners]]\nid = "build"\nsteps = [{ id = "a", cmd = ["true"] }]\n'
        '[[runners]]\nid = "test"\nneeds = ["biuld"]\nsteps = [{ id = "b", cmd = ["true"] }]\n',
        ["bad.toml", 'runners[1].needs: unknown runner "biuld"', 'did you mean "build"?'],
    ),
    "py_raises": (
        "bad.py",
        "import os\n\nraise ValueError('cannot configure pipeline')\n",
        ["bad.py:3", "ValueError: cannot configure pipeline"],
    ),
    "py_no_pipeline": ("bad.py", "STEPS = []\n", ["bad.py", "defines no pipeline", "PIPELINE", "build()"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_pipeline_is_one_line_exit_2(gryt, project: Path, case: str) -> None:
    filename, body, fragments = CASES[case]
    pipeline(project, filename, body)
    for command in (["run", "bad"], ["validate", "bad"]):
        done = gryt(*command, cwd=project)
        assert done.code == 2, f"{command}: exit {done.code}\n{done.stdout}{done.stderr}"
        assert len(done.error_lines) == 1, done.stderr
        assert done.error_lines[0].startswith("gryt: error: .gryt/pipelines/")
        for fragment in fragments:
            assert fragment in done.error_lines[0], done.error_lines[0]
        assert "Traceback" not in done.stdout + done.stderr
        assert done.stdout == ""


def test_unknown_type_of_a_disabled_plugin_names_its_distribution(gryt, project: Path) -> None:
    pipeline(project, "deploy.toml", '[[auth]]\ntype = "fly"\n' + OK_RUNNER)
    write(project / ".gryt" / "config.toml", 'disable_plugins = ["fly"]\n')
    done = gryt("run", "deploy", cwd=project)
    assert done.code == 2, done.stderr
    assert len(done.error_lines) == 1, done.stderr
    line = done.error_lines[0]
    assert "deploy.toml: auth[0].type" in line and "fly" in line and "gryt-auth-fly" in line


def test_missing_pipeline_lists_the_available_ones(gryt, project: Path) -> None:
    pipeline(project, "build.toml", OK_RUNNER)
    pipeline(project, "release.py", "")
    done = gryt("run", "biuld", cwd=project)
    assert done.code == 2
    assert done.error_lines == [
        "gryt: error: biuld: no pipeline named 'biuld' in .gryt/pipelines (did you mean \"build\"?); "
        "available: build.toml, release.py"
    ]
    missing_file = gryt("run", "ci/missing.toml", cwd=project)
    assert missing_file.code == 2 and "ci/missing.toml: no such pipeline file" in missing_file.stderr


def test_ambiguous_name_lists_both_files(gryt, project: Path) -> None:
    pipeline(project, "twice.toml", OK_RUNNER)
    pipeline(project, "twice.py", "")
    done = gryt("run", "twice", cwd=project)
    assert done.code == 2
    assert "twice.toml" in done.stderr and "twice.py" in done.stderr and "ambiguous" in done.stderr


def test_debug_shows_the_traceback(gryt, project: Path) -> None:
    pipeline(project, "bad.py", "raise RuntimeError('boom')\n")
    done = gryt("run", "bad", "--debug", cwd=project)
    assert done.code != 0
    assert "Traceback" in done.stderr and "boom" in done.stderr
    via_env = gryt("validate", "bad", cwd=project, env={"GRYT_DEBUG": "1"})
    assert "Traceback" in via_env.stderr


def test_bad_project_config_and_database(gryt, project: Path) -> None:
    pipeline(project, "ok.toml", OK_RUNNER)
    write(project / ".gryt" / "config.toml", "db = 42\n")
    done = gryt("run", "ok", cwd=project)
    assert done.code == 2
    assert done.error_lines == ["gryt: error: .gryt/config.toml: db: expected a string, got 42"]
    (project / ".gryt" / "config.toml").unlink()

    write(project / "notes.db", "plain text, not SQLite\n" * 100)
    not_db = gryt("run", "ok", "--db", "notes.db", cwd=project)
    assert not_db.code == 2
    assert len(not_db.error_lines) == 1 and "notes.db" in not_db.error_lines[0]
    assert "not a SQLite database" in not_db.error_lines[0]


def test_usage_errors_exit_2(gryt, project: Path) -> None:
    done = gryt("run", cwd=project)
    assert done.code == 2 and "Traceback" not in done.stderr
    unknown = gryt("run", "x", "--paralel", cwd=project)
    assert unknown.code == 2 and "--paralel" in unknown.stderr

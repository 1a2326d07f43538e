"""Matrices end to end: expansion counts with include/exclude, `matrix.*` in commands and conditions,
`needs` and `--runner` on the group, max_parallel, results, history and JUnit naming each combination,
and step ids repeated across runners (recorded as `RUNNER/STEP`)."""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from gryt import CommandStep, Pipeline, Runner
from gryt.errors import ConfigError
from gryt.matrix import MAX_COMBINATIONS, expand, runner_id

from .conftest import pipeline


@pytest.mark.parametrize(
    ("matrix", "count"),
    [
        ({"python": ["3.10", "3.11", "3.12"]}, 3),
        ({"python": ["3.10", "3.11"], "os": ["linux", "mac", "win"]}, 6),
        ({"python": ["3.10", "3.11"], "os": ["linux", "mac"], "exclude": [{"os": "mac"}]}, 2),
        (
            {
                "python": ["3.10", "3.11"],
                "os": ["linux", "mac"],
                "exclude": [{"os": "mac", "python": "3.10"}],
            },
            3,
        ),
        ({"python": ["3.10"], "include": [{"python": "3.13"}]}, 2),  # fits no combination: a new one
        ({"python": ["3.10", "3.11"], "include": [{"python": "3.11", "cov": True}]}, 2),  # extends one
        ({"python": ["3.10", "3.11"], "include": [{"cov": True}]}, 2),  # extends all
        ({"include": [{"a": 1}, {"a": 2}]}, 2),
        ({"python": ["3.10", "3.11"], "exclude": [{"python": "3.10"}], "include": [{"python": "3.10"}]}, 2),
    ],
)
def test_expansion_counts(matrix: dict[str, Any], count: int) -> None:
    combos = expand(matrix)
    assert len(combos) == count
    assert len({runner_id("t", c) for c in combos}) == count


def test_include_extends_or_adds() -> None:
    combos = expand(
        {"python": ["3.10", "3.11"], "include": [{"python": "3.11", "cov": True}, {"python": "3.13"}]}
    )
    assert combos == [{"python": "3.10"}, {"python": "3.11", "cov": True}, {"python": "3.13"}]
    assert [runner_id("test", c) for c in combos] == [
        "test (python=3.10)",
        "test (python=3.11, cov=true)",
        "test (python=3.13)",
    ]


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ({"python": []}, "m.python: expected a non-empty list of values"),
        ({"python": "3.10"}, "m.python: expected a non-empty list of values"),
        ({"python": [["x"]]}, "m.python[0]: expected a string, number or boolean"),
        (
            {"python": ["3.10"], "exclude": [{"pyton": "3.10"}]},
            "m.exclude[0].pyton: not a key of the matrix; keys: python",
        ),
        ({"python": ["3.10"], "exclude": [{"python": "3.10"}]}, "m: exclude leaves no combination"),
        ({"include": "x"}, "m.include: expected a list of tables"),
        ({}, "m: no values"),
        ({"a": list(range(20)), "b": list(range(20))}, f"m: 400 combinations, more than {MAX_COMBINATIONS}"),
    ],
)
def test_bad_matrices(matrix: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        expand(matrix, "m")
    assert str(caught.value).startswith(message)


MATRIX = """\
[pipeline]
parallel = true
max_parallel = 2

[[runners]]
id = "test"
matrix = { python = ["3.10", "3.11", "3.12"], exclude = [{ python = "3.11" }], include = [{ python = "3.12", cov = true }] }
steps = [
  { id = "unit", cmd = ["sh", "-c", "echo ${{ matrix.python }} >> ran.txt; test ${{ matrix.python }} != ${{ env.FAIL_ON || 'none' }}"] },
  { id = "cov", cmd = ["touch", "cov-${{ matrix.python }}.marker"], if = "matrix.cov || false" },
]

[[runners]]
id = "report"
needs = ["test"]
steps = [{ id = "unit", cmd = ["touch", "report.marker"] }]
"""


def test_matrix_run(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", MATRIX)
    done = gryt("run", "ci", "--json", "--junit", "junit.xml", cwd=project)
    assert done.code == 0, done.stderr
    result = json.loads(done.stdout)
    assert set(result["runners"]) == {"test (python=3.10)", "test (python=3.12, cov=true)", "report"}
    assert sorted((project / "ran.txt").read_text().split()) == ["3.10", "3.12"]
    assert [p.name for p in project.glob("cov-*")] == ["cov-3.12.marker"]
    assert result["runners"]["test (python=3.10)"]["cov"]["error"] == "if: matrix.cov || false was false"
    assert (project / "report.marker").exists()
    suites = {s.get("name") for s in ET.parse(project / "junit.xml").iter("testsuite")}
    assert {"test (python=3.10)", "test (python=3.12, cov=true)", "report"} <= suites
    with sqlite3.connect(project / ".gryt" / "gryt.db") as db:
        latest = dict(db.execute("SELECT step_id, runner_id FROM steps_output").fetchall())
        runners = {r for (r,) in db.execute("SELECT runner_id FROM runners")}
    assert latest["test (python=3.10)/unit"] == "test (python=3.10)"
    assert latest["report/unit"] == "report"
    assert latest["test (python=3.12, cov=true)/cov"] == "test (python=3.12, cov=true)"
    assert "cov" not in latest and "unit" not in latest
    assert runners == {"test (python=3.10)", "test (python=3.12, cov=true)", "report"}
    shown = gryt("runs", "show", "last", cwd=project)
    assert "test (python=3.10)" in shown.stdout


def test_a_failed_combination_skips_the_dependants(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", MATRIX)
    done = gryt("run", "ci", "--json", cwd=project, env={"FAIL_ON": "3.12"})
    assert done.code == 1
    result = json.loads(done.stdout)
    assert result["runners"]["test (python=3.10)"]["unit"]["status"] == "success"
    assert result["runners"]["report"]["unit"]["error"] == (
        "needs runner 'test (python=3.12, cov=true)', which ended with error"
    )


def test_runner_option_selects_the_group(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", MATRIX)
    done = gryt("run", "ci", "--json", "--runner", "test", cwd=project)
    assert done.code == 0, done.stderr
    assert set(json.loads(done.stdout)["runners"]) == {"test (python=3.10)", "test (python=3.12, cov=true)"}
    one = gryt("run", "ci", "--json", "--runner", "test (python=3.10)", cwd=project)
    assert set(json.loads(one.stdout)["runners"]) == {"test (python=3.10)"}
    bad = gryt("run", "ci", "--runner", "tset", cwd=project)
    assert bad.code == 2 and 'unknown runner "tset" (did you mean "test"?)' in bad.stderr


def test_matrix_errors_name_the_key(gryt, project: Path) -> None:
    pipeline(
        project, "ci.toml", '[[runners]]\nid = "t"\nmatrix = { python = [] }\nsteps = [{ cmd = ["true"] }]\n'
    )
    done = gryt("validate", "ci", cwd=project)
    assert done.code == 2
    assert done.error_lines == [
        "gryt: error: .gryt/pipelines/ci.toml: runners[0].matrix.python: expected a non-empty list of values, got []"
    ]
    pipeline(project, "ci.toml", MATRIX.replace("matrix.python }} >>", "matrix.pyhton }} >>"))
    done = gryt("validate", "ci", cwd=project)
    assert done.code == 2
    assert 'unknown variable matrix.pyhton (did you mean "matrix.python"?)' in done.stderr


def test_step_ids_repeat_across_runners(tmp_path: Path) -> None:
    from gryt import SqliteData

    with SqliteData(tmp_path / "g.db") as data:
        pipe = Pipeline(
            [
                Runner(
                    [CommandStep("install", {"cmd": ["echo", "a"]}), CommandStep("only", {"cmd": ["true"]})],
                    id="a",
                ),
                Runner([CommandStep("install", {"cmd": ["echo", "b"]})], id="b"),
            ],
            data=data,
        )
        result = pipe.execute()
        assert result["runners"]["a"]["install"]["stdout"] == "a\n"
        assert result["runners"]["b"]["install"]["stdout"] == "b\n"
        latest = {
            r["step_id"]: r["runner_id"] for r in data.query("SELECT step_id, runner_id FROM steps_output")
        }
        assert latest == {"a/install": "a", "b/install": "b", "only": "a"}


def test_python_form_matrix(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    pipe = Pipeline(
        [
            Runner(
                [CommandStep("unit", {"cmd": ["sh", "-c", f"echo ${{{{ matrix.python }}}} >> {out}"]})],
                id="test",
                matrix={"python": ["3.10", "3.11"]},
            ),
            Runner([CommandStep("after", {"cmd": ["true"]})], id="after", needs=["test"]),
        ]
    )
    assert [r.id for r in pipe.runners] == ["test (python=3.10)", "test (python=3.11)", "after"]
    assert pipe.runners[2].needs == ("test (python=3.10)", "test (python=3.11)")
    assert pipe.groups == {"test": ["test (python=3.10)", "test (python=3.11)"]}
    result = pipe.execute()
    assert result["status"] == "success"
    assert out.read_text().split() == ["3.10", "3.11"]

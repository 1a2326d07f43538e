"""Deep nesting and long `needs` chains: gryt runs them or refuses with one line (exit 2 for bad input,
an `error` step for a bad result); never a RecursionError. The TOML side (500 levels of arrays, 300 of
inline tables, a `.py` step config 5,000 deep) is in tests/bad_inputs/deep_*."""

from __future__ import annotations

import json
import sqlite3

from .harness import Project

RUNNERS = 1000

DEEP_RESULT = """\
from gryt import Pipeline, Runner
from gryt.step import Step


class Deep(Step):
    def run(self):
        value = "leaf"
        for _ in range(5000):
            value = {"a": value}
        return {"status": "success", "deep": value}


def build():
    return Pipeline([Runner([Deep("d")], id="r"), Runner([Deep("e")], id="after", needs=["r"])])
"""


def test_a_thousand_runners_declared_in_reverse_needs_order(project: Project) -> None:
    lines = ['[pipeline]\nname = "chain"']
    for i in reversed(range(RUNNERS)):
        needs = f'needs = ["r{i - 1}"]\n' if i else ""
        lines.append(f'[[runners]]\nid = "r{i}"\n{needs}steps = [{{ id = "s{i}", cmd = ["true"] }}]')
    project.write_pipeline("chain.toml", "\n\n".join(lines) + "\n")

    done = project.run("run", "chain", "--json", timeout=300)
    assert done.returncode == 0, done.stderr.decode()
    assert b"RecursionError" not in done.stderr
    run = project.only_run()
    assert run["status"] == "success"
    runners = {r["runner_id"]: r for r in run["runners"]}
    assert len(runners) == RUNNERS and {r["status"] for r in runners.values()} == {"success"}
    order = [s["runner_id"] for s in run["steps"]]
    assert order == [f"r{i}" for i in range(RUNNERS)], "a runner ran before the one it needs"


def test_a_step_result_nested_too_deep_is_an_error_not_a_crash(project: Project) -> None:
    project.write_pipeline("deep.py", DEEP_RESULT)

    done = project.run("run", "deep")
    assert done.returncode == 1, done.stderr.decode()
    assert b"Traceback" not in done.stdout + done.stderr
    assert b"nested more than 64 levels deep" in done.stdout
    run = project.only_run()
    assert run["status"] == "error"
    assert [(s["step_id"], s["status"]) for s in run["steps"]] == [("d", "error"), ("e", "skipped")]
    assert {r["runner_id"]: r["status"] for r in run["runners"]} == {"r": "error", "after": "skipped"}


def test_json_nested_too_deeply_in_the_database_is_still_shown(project: Project) -> None:
    project.write_pipeline("ok.toml", '[[runners]]\nid = "r"\nsteps = [{ id = "s", cmd = ["true"] }]\n')
    assert project.run("run", "ok").returncode == 0
    deep = "[" * 100_000 + "]" * 100_000  # written by a foreign tool: more than json.loads can recurse
    with sqlite3.connect(project.db) as conn:
        conn.execute("UPDATE step_runs SET output_json = ?", (deep,))
        conn.execute("UPDATE pipelines SET config_json = ?", (deep,))
    conn.close()

    for args in (["runs", "show", "last"], ["runs", "show", "last", "--json"], ["runs", "list"], ["db"]):
        done = project.run(*args)
        assert done.returncode == 0, (args, done.stderr.decode())
        assert b"Traceback" not in done.stderr
    shown = project.show(project.runs()[0]["run_id"])
    assert shown["config"] == deep and shown["steps"][0]["output"] == deep
    assert json.loads(project.run("db", "--table", "step_runs").stdout)["step_runs"][0]["output_json"] == deep

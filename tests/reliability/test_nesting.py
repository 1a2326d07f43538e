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
from gryt.auth import Auth
from gryt.step import Step


def deep():
    value = "leaf"
    for _ in range(5000):
        value = {"a": value}
    return value


class Deep(Step):
    def run(self):
        return {"status": "success", "deep": deep()}


class DeepAuth(Auth):
    def authenticate(self):
        return {"status": "success", "deep": deep()}


def build():
    runners = [Runner([Deep("d")], id="r"), Runner([Deep("e")], id="after", needs=["r"])]
    return Pipeline(runners, auth_steps=[DeepAuth("login")] if AUTH else [])
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


def test_an_auth_result_nested_too_deep_is_an_auth_failure_not_a_crash(project: Project) -> None:
    project.write_pipeline("deep.py", "AUTH = True\n" + DEEP_RESULT)

    done = project.run("run", "deep")
    assert done.returncode == 1, done.stderr.decode()
    assert b"Traceback" not in done.stdout + done.stderr
    assert b"auth login failed: result nested more than 64 levels deep" in done.stdout
    run = project.only_run()
    assert [(a["auth_id"], a["status"]) for a in run["auth"]] == [("login", "error")]


DEEP_DESTINATION = """\
from gryt import CommandStep, Pipeline, Runner
from gryt.destination import Destination


class DeepDestination(Destination):
    def publish(self, artifacts):
        value = "leaf"
        for _ in range(5000):
            value = [value]
        return [{"artifact": str(a), "status": "success", "url": value} for a in artifacts]


def build():
    make = CommandStep("make", config={"cmd": ["sh", "-c", "echo built > out.txt"]})
    return Pipeline([Runner([make], id="build")], destinations=[DeepDestination("pub")], artifacts=["out.txt"])
"""


def test_a_destination_outcome_nested_too_deep_is_a_failed_publish_not_a_crash(project: Project) -> None:
    project.write_pipeline("deliver.py", DEEP_DESTINATION)

    done = project.run("run", "deliver")
    assert done.returncode == 1, done.stderr.decode()
    assert b"Traceback" not in done.stdout + done.stderr
    assert b"nested more than 64 levels deep" in done.stdout
    run = project.only_run()
    assert [(d["destination_id"], d["status"]) for d in run["destination_runs"]] == [("pub", "error")]


def test_a_step_result_nested_too_deep_is_an_error_not_a_crash(project: Project) -> None:
    project.write_pipeline("deep.py", "AUTH = False\n" + DEEP_RESULT)

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

"""`gryt run PIPELINE --failed [RUN_ID]` through the real `gryt`: only what failed runs again (marker files
count every execution), the history links the runs, and a changed pipeline or a bad run id is refused."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .conftest import pipeline

CI = """\
[[runners]]
id = "build"
steps = [{ id = "compile", cmd = ["sh", "-c", "echo x >> build.count"] }]

[[runners]]
id = "test"
needs = ["build"]
steps = [
  { id = "prep", cmd = ["sh", "-c", "echo x >> prep.count"] },
  { id = "check", cmd = ["sh", "-c", "echo x >> check.count; test -f fixed"] },
]

[[runners]]
id = "package"
needs = ["test"]
steps = [{ id = "pack", cmd = ["sh", "-c", "echo x >> pack.count"] }]

[[runners]]
id = "lint"
steps = [{ id = "ruff", cmd = ["sh", "-c", "echo x >> lint.count"] }]
"""


def counts(project: Path) -> dict[str, int]:
    """How often each step ran: one line per execution in its `NAME.count` file."""
    return {path.stem: len(path.read_text().splitlines()) for path in sorted(project.glob("*.count"))}


def runs(project: Path) -> list[tuple[str, str, str | None]]:
    """(run id, status, continues_run_id) of every run, oldest first."""
    with sqlite3.connect(project / ".gryt" / "gryt.db") as db:
        rows = db.execute(
            "SELECT pipeline_id, status, continues_run_id FROM pipelines ORDER BY start_timestamp, rowid"
        ).fetchall()
    return [(str(a), str(b), c) for a, b, c in rows]


def test_failed_reruns_only_what_failed_and_links_the_runs(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", CI)
    assert gryt("run", "ci", cwd=project).code == 1
    first = runs(project)[-1][0]

    again = gryt("run", "ci", "--failed", cwd=project)  # still broken: test fails again, package skipped
    assert again.code == 1
    assert f"gryt: rerunning test, package (failed in run {first})" in again.stderr
    assert counts(project) == {"build": 1, "check": 2, "lint": 1, "prep": 2}

    (project / "fixed").touch()
    fixed = gryt("run", "--failed", "ci", "--json", cwd=project)  # --failed before the pipeline
    assert fixed.code == 0, fixed.stderr
    result = json.loads(fixed.stdout)
    assert result["status"] == "success"
    assert sorted(result["runners"]) == ["package", "test"]
    # the whole runner that failed ran again (prep too), the needs that had succeeded did not
    assert counts(project) == {"build": 1, "check": 3, "lint": 1, "pack": 1, "prep": 3}
    history = runs(project)
    assert [(status, continues) for _, status, continues in history] == [
        ("error", None),
        ("error", history[0][0]),
        ("success", history[1][0]),
    ]

    done = gryt("run", "ci", "--failed", cwd=project)
    assert (done.code, done.stdout.strip()) == (0, f"gryt: run {history[2][0]} succeeded: nothing to rerun")
    assert counts(project)["check"] == 3

    shown = gryt("runs", "show", "last", cwd=project)
    assert f"continues run {history[1][0]} (gryt run --failed)" in shown.stdout
    listed = json.loads(gryt("runs", "list", "--json", cwd=project).stdout)
    assert [run["continues_run_id"] for run in listed] == [history[1][0], history[0][0], None]
    as_json = json.loads(gryt("runs", "show", history[1][0], "--json", cwd=project).stdout)
    assert as_json["continues_run_id"] == history[0][0]


def test_an_explicit_run_id_and_an_unknown_one(gryt, project: Path) -> None:
    pipeline(project, "ci.toml", CI)
    assert gryt("run", "ci", cwd=project).code == 1
    first = runs(project)[0][0]
    (project / "fixed").touch()
    done = gryt("run", "ci", "--failed", first[-8:], cwd=project)  # a unique suffix, after a space
    assert done.code == 0, done.stderr
    assert runs(project)[-1][1:] == ("success", first)
    assert counts(project) == {"build": 1, "check": 2, "lint": 1, "pack": 1, "prep": 2}

    unknown = gryt("run", "ci", "--failed=nosuchrun", cwd=project)
    assert unknown.code == 2
    assert unknown.error_lines == [
        "gryt: error: .gryt/gryt.db: no run 'nosuchrun' (no id starts or ends with it); see `gryt runs list`"
    ]
    assert len(runs(project)) == 2

    pipeline(project, "other.toml", CI.replace('"lint"', '"style"'))
    other = gryt("run", "other", f"--failed={first}", cwd=project)
    assert other.code == 2
    assert other.error_lines == [f"gryt: error: run {first} is a run of 'ci', not of pipeline 'other'"]


def test_a_pipeline_changed_since_the_run_is_refused(gryt, project: Path) -> None:
    path = pipeline(project, "ci.toml", CI)
    assert gryt("run", "ci", cwd=project).code == 1
    first = runs(project)[0][0]

    path.write_text(CI.replace('{ id = "prep"', '{ id = "setup", cmd = ["true"] },\n  { id = "prep"'))
    steps = gryt("run", "ci", "--failed", cwd=project)
    assert steps.code == 2
    assert steps.error_lines == [
        f"gryt: error: cannot rerun run {first}: the steps of runner 'test' changed (added setup);"
        " run the whole pipeline"
    ]

    path.write_text(CI.replace('id = "lint"', 'id = "style"'))
    runners = gryt("run", "ci", "--failed", cwd=project)
    assert runners.code == 2
    assert runners.error_lines == [
        f"gryt: error: cannot rerun run {first}: the pipeline's runners changed since"
        " (added style; removed lint); run the whole pipeline"
    ]
    assert len(runs(project)) == 1 and counts(project)["check"] == 1

    path.write_text(CI.replace("echo x >> check.count;", "echo x >> check.count; echo fixed;"))
    (project / "fixed").touch()  # a changed command is what a fix looks like: allowed
    assert gryt("run", "ci", "--failed", cwd=project).code == 0


def test_no_history_and_options_that_exclude_it(cli, project: Path) -> None:
    pipeline(project, "ci.toml", CI)
    none = cli("run", "ci", "--failed", cwd=project)
    assert (none.code, none.stderr.strip()) == (
        2,
        "gryt: error: --failed: no run of pipeline 'ci' yet; nothing to rerun",
    )
    runner = cli("run", "ci", "--failed", "--runner", "test", cwd=project)
    assert runner.code == 2 and "--failed and --runner exclude each other" in runner.stderr
    memory = cli("run", "ci", "--in-memory", "--failed", cwd=project)
    assert memory.code == 2 and "--failed and --in-memory exclude each other" in memory.stderr


DELIVERED = """\
[[runners]]
id = "docs"
steps = [{ id = "html", cmd = ["sh", "-c", "mkdir -p site && echo page > site/index.html"] }]

[[runners]]
id = "build"
steps = [{ id = "dist", cmd = ["sh", "-c", "test -f fixed && mkdir -p dist && echo pkg > dist/app.txt"] }]

[[destinations]]
id = "shelf"
type = "directory"
path = "published"

[artifacts]
paths = ["dist/*"]
"""


def test_a_partial_rerun_delivers_only_with_deliver(gryt, project: Path) -> None:
    pipeline(project, "rel.toml", DELIVERED)
    assert gryt("run", "rel", cwd=project).code == 1
    (project / "fixed").touch()
    partial = gryt("run", "rel", "--failed", "--json", cwd=project)
    assert partial.code == 0, partial.stderr
    result = json.loads(partial.stdout)
    assert list(result["runners"]) == ["build"]
    assert result["delivery"]["shelf"]["status"] == "skipped"
    assert not (project / "published").exists()

    (project / "fixed").unlink()
    assert gryt("run", "rel", cwd=project).code == 1
    (project / "fixed").touch()
    delivered = gryt("run", "rel", "--failed", "--deliver", cwd=project)
    assert delivered.code == 0, delivered.stderr
    assert (project / "published" / "app.txt").read_text() == "pkg\n"


def test_a_rerun_of_every_runner_delivers_like_a_whole_run(gryt, project: Path) -> None:
    pipeline(project, "rel.toml", DELIVERED.replace("mkdir -p site &&", "test -f fixed && mkdir -p site &&"))
    assert gryt("run", "rel", cwd=project).code == 1
    (project / "fixed").touch()
    done = gryt("run", "rel", "--failed", cwd=project)
    assert done.code == 0, done.stderr
    assert "gryt: rerunning docs, build" in done.stderr
    assert (project / "published" / "app.txt").read_text() == "pkg\n"

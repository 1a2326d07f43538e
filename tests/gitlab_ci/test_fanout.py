"""The generated GitLab pipeline run as GitLab would run it, on this machine: each job's `script` in its
own copy of the project (a separate CI machine), given the artifacts of the jobs it `needs`, its own
artifacts collected afterwards; then the final job. The merged history must equal a single-machine run
of the same pipeline (runners, steps, statuses), and so must its JUnit report."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from cli.conftest import base_env

from .conftest import run_gryt

TIMES = re.compile(r' time="[^"]*"')
SPECIAL = ("variables", "default")
PIPELINE_ID = "4711"


def checkout(project: Path, folder: Path) -> None:
    """A fresh clone: the committed files, no database or logs."""
    shutil.copytree(project, folder, ignore=shutil.ignore_patterns("gryt.db*", "logs"))


def run_job(name: str, spec: dict[str, Any], folder: Path, variables: dict[str, str]) -> str:
    """Run the job's script lines in one shell, stopping at the first failing line (as GitLab does)."""
    env = {**base_env(folder), "GITLAB_CI": "true", "CI_PIPELINE_ID": PIPELINE_ID}
    env.update(
        {k: os.path.expandvars(v.replace("$CI_PIPELINE_ID", PIPELINE_ID)) for k, v in variables.items()}
    )
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", "\n".join(spec["script"])],
        cwd=folder,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    stdout = done.stdout.decode()  # as bytes: text mode would turn the sections' `\r` into newlines
    assert done.returncode == 0, f"{name}: {stdout}{done.stderr.decode()}"
    return stdout


def collect(spec: dict[str, Any], folder: Path, store: Path) -> None:
    """Upload the job's artifacts: every path or glob of `artifacts:paths`, kept relative to the project."""
    for pattern in spec["artifacts"]["paths"]:
        for found in folder.glob(pattern.rstrip("/")):
            target = store / found.relative_to(folder)
            if found.is_dir():
                shutil.copytree(found, target, dirs_exist_ok=True)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(found, target)


def history(project: Path, run_id: str, db: Path) -> dict[str, Any]:
    done = run_gryt("runs", "show", run_id, "--db", str(db), "--json", cwd=project)
    assert done.code == 0, done.stderr
    run = json.loads(done.stdout)
    return {
        "status": run["status"],
        "runners": sorted((r["runner_id"], r["status"], tuple(r["needs"])) for r in run["runners"]),
        "steps": sorted((s["runner_id"], s["step_id"], s["status"]) for s in run["steps"]),
        "destinations": sorted(
            (d["destination_id"], d["artifact"], d["status"]) for d in run["destination_runs"]
        ),
    }


def test_gitlab_jobs_on_separate_machines_merge_into_the_single_machine_history(
    ci_project: Path, tmp_path: Path
) -> None:
    assert run_gryt("ci", "gitlab", "ci", cwd=ci_project).code == 0
    document = yaml.safe_load((ci_project / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    variables = document["variables"]
    jobs = {name: spec for name, spec in document.items() if name not in SPECIAL}
    stores: dict[str, Path] = {}
    logs: dict[str, str] = {}
    pending = list(jobs)
    while pending:  # in an order GitLab could use: each job once every job it needs is done
        name = next(n for n in pending if all(need in stores for need in jobs[n].get("needs", [])))
        pending.remove(name)
        folder = tmp_path / "machines" / name
        checkout(ci_project, folder)
        for need in jobs[name].get("needs", []):
            shutil.copytree(stores[need], folder, dirs_exist_ok=True)
        logs[name] = run_job(name, jobs[name], folder, variables)
        stores[name] = tmp_path / "artifacts" / name
        stores[name].mkdir(parents=True)
        collect(jobs[name], folder, stores[name])

    final = tmp_path / "machines" / "gryt-deliver"
    assert (final / "published" / "app.txt").read_text() == "built\n"
    single = tmp_path / "single"
    checkout(ci_project, single)
    alone = run_gryt("run", "ci", "--junit", "single.xml", "--run-id", "single", cwd=single)
    assert alone.code == 0, alone.stdout

    run_id = f"gitlab-{PIPELINE_ID}"
    merged = history(final, run_id, final / ".gryt-ci" / "gryt.db")
    assert merged == history(single, "single", single / ".gryt" / "gryt.db")
    assert len(merged["runners"]) == 4 and merged["status"] == "success"
    junit = (stores["gryt-deliver"] / ".gryt-ci" / "junit.xml").read_text(encoding="utf-8")
    assert TIMES.sub("", junit) == TIMES.sub("", (single / "single.xml").read_text(encoding="utf-8"))

    lint_log = logs["gryt-lint"]
    assert (
        "\x1b[0Ksection_start:" in lint_log
        and ":gryt.lint.check.0[collapsed=true]\r\x1b[0Klint/check\n" in lint_log
    )
    assert lint_log.count("section_start:") == lint_log.count("section_end:") == 2  # the step and the summary
    assert "lint/check   success" in lint_log

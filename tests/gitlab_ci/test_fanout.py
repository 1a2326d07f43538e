"""The generated GitLab pipeline run as GitLab would run it, on this machine: each job's `script` in its
own copy of the project (a separate CI machine), given the artifacts of the jobs it `needs`, its own
artifacts collected afterwards; then the final job. The merged history must equal a single-machine run
of the same pipeline (runners, steps, statuses), and so must its JUnit report."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml
from _gryt import base_env, run_gryt
from _leaks import find_bytes
from cli.test_fanout import TIMES, history

SPECIAL = ("variables", "default")
PIPELINE_ID = "4711"
SECRET = "tok-gitlab-5ecret-value"
"""A masked CI/CD variable (the pipeline's `secrets`); a step prints it."""


def checkout(project: Path, folder: Path) -> None:
    """A fresh clone: the committed files, no database or logs."""
    shutil.copytree(project, folder, ignore=shutil.ignore_patterns("gryt.db*", "logs"))


def run_job(name: str, spec: dict[str, Any], folder: Path, variables: dict[str, str]) -> tuple[int, str]:
    """Run the job's script lines in one shell, stopping at the first failing line (as GitLab does):
    (exit code, job log)."""
    env = {**base_env(folder), "GITLAB_CI": "true", "CI_PIPELINE_ID": PIPELINE_ID, "API_TOKEN": SECRET}
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
    return done.returncode, done.stdout.decode() + done.stderr.decode()  # bytes: `\r` stays as it is


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


def run_pipeline(project: Path, tmp_path: Path) -> tuple[dict[str, int], dict[str, str], dict[str, Path]]:
    """Run the project's `.gitlab-ci.yml` as GitLab would: a job once every job it needs ended, skipped
    when one of them failed or was skipped unless it runs `when: always`. (exit codes, logs, artifacts)."""
    assert run_gryt("ci", "gitlab", "ci", cwd=project).code == 0
    document = yaml.safe_load((project / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    jobs = {name: spec for name, spec in document.items() if name not in SPECIAL}
    codes: dict[str, int] = {}
    logs: dict[str, str] = {}
    stores: dict[str, Path] = {}
    pending = list(jobs)
    while pending:
        name = next(n for n in pending if all(need in codes for need in jobs[n].get("needs", [])))
        pending.remove(name)
        needs = jobs[name].get("needs", [])
        if jobs[name].get("when") != "always" and any(codes[need] != 0 for need in needs):
            codes[name] = -1  # skipped
            continue
        folder = tmp_path / "machines" / name
        checkout(project, folder)
        for need in needs:
            if need in stores:
                shutil.copytree(stores[need], folder, dirs_exist_ok=True)
        codes[name], logs[name] = run_job(name, jobs[name], folder, document["variables"])
        stores[name] = tmp_path / "artifacts" / name
        stores[name].mkdir(parents=True)
        collect(jobs[name], folder, stores[name])
    return codes, logs, stores


def test_gitlab_jobs_on_separate_machines_merge_into_the_single_machine_history(
    ci_project: Path, tmp_path: Path
) -> None:
    codes, logs, stores = run_pipeline(ci_project, tmp_path)
    assert codes == dict.fromkeys(codes, 0), logs

    final = tmp_path / "machines" / "gryt-deliver"
    assert (final / "published" / "app.txt").read_text() == "built\n"
    single = tmp_path / "single"
    checkout(ci_project, single)
    alone = run_gryt(
        "run", "ci", "--junit", "single.xml", "--run-id", "single", cwd=single, env={"API_TOKEN": SECRET}
    )
    assert alone.code == 0, alone.stdout

    run_id = f"gitlab-{PIPELINE_ID}"
    merged = history(run_gryt, final, run_id, final / ".gryt-ci" / "gryt.db")
    assert merged == history(run_gryt, single, "single", single / ".gryt" / "gryt.db")
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
    assert "token ***" in lint_log
    assert SECRET not in "".join(logs.values())
    assert find_bytes(tmp_path, [SECRET.encode()]) == []  # databases, logs, JUnit, artifacts


def test_a_failing_runner_job_fails_the_final_job_which_still_reports(
    ci_project: Path, tmp_path: Path
) -> None:
    pipeline_file = ci_project / ".gryt" / "pipelines" / "ci.toml"
    pipeline_file.write_text(pipeline_file.read_text().replace("echo test ${{ matrix.py }}", "exit 3"))
    codes, logs, stores = run_pipeline(ci_project, tmp_path)
    assert codes == {
        "gryt-lint": 0,
        "gryt-test-py-a": 1,
        "gryt-test-py-b": 1,
        "gryt-build": -1,
        "gryt-deliver": 1,
    }
    assert "run gitlab-4711 ended error: step test (py=a)/unit failed" in logs["gryt-deliver"]
    final = tmp_path / "machines" / "gryt-deliver"
    assert not (final / "published").exists()
    junit = (stores["gryt-deliver"] / ".gryt-ci" / "junit.xml").read_text(encoding="utf-8")
    assert 'failures="2"' in junit.splitlines()[1]
    merged = history(run_gryt, final, "gitlab-4711", final / ".gryt-ci" / "gryt.db")
    assert merged["status"] == "error"
    assert [r[:2] for r in merged["runners"]] == [
        ("lint", "success"),
        ("test (py=a)", "error"),
        ("test (py=b)", "error"),
    ]

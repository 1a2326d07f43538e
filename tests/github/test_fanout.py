"""The generated workflow, run on this machine as GitHub would run it on separate machines: each job in a
folder of its own (a fresh checkout), its `run:` commands in bash with the job's environment, the
artifact steps emulated by their documented rules (an upload keeps paths relative to the least common
ancestor of what it matched; a download puts each artifact in PATH/NAME, or all in PATH with
merge-multiple). The merged history of the final job equals a single-machine run of the same pipeline,
and the final job delivers once: the github-release asset on the fake GitHub API, the directory copy."""

from __future__ import annotations

import fnmatch
import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import yaml
from _leaks import find_bytes
from _servers.github import GithubServer

from .conftest import gryt, gryt_env, write_project

API_TOKEN = "apitok-fanout-0123456789"


def checkout(project: Path, folder: Path) -> Path:
    """A fresh clone: the project without its history (database, logs) or anything a run made."""
    ignore = shutil.ignore_patterns("gryt.db*", "logs", "dist", "published")
    shutil.copytree(project, folder, ignore=ignore)
    return folder


def upload(job: Path, spec: dict[str, Any], store: Path) -> None:
    matched: list[Path] = []
    for pattern in str(spec["path"]).splitlines():
        for hit in sorted(glob.glob(str(job / pattern), recursive=True)):
            path = Path(hit)
            matched += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    if not matched:
        assert spec.get("if-no-files-found") == "ignore", f"nothing matched {spec['path']}"
        return
    root = Path(os.path.commonpath([str(p.parent) for p in matched]))
    for path in matched:
        target = store / str(spec["name"]) / path.relative_to(root)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)


def download(job: Path, spec: dict[str, Any], store: Path) -> None:
    base = job / str(spec.get("path", "."))
    for artifact in sorted(store.iterdir()):
        if fnmatch.fnmatch(artifact.name, str(spec["pattern"])):
            target = base if spec.get("merge-multiple") else base / artifact.name
            shutil.copytree(artifact, target, dirs_exist_ok=True)


def runs_anyway(condition: Any) -> bool:
    """Whether an `if:` runs after a failure: GitHub adds `success()` unless a status function is named."""
    return isinstance(condition, str) and ("!cancelled()" in condition or "always()" in condition)


def run_job(
    name: str,
    job: dict[str, Any],
    workflow_env: dict[str, str],
    root: Path,
    secrets: dict[str, str],
    repository: str,
) -> bool:
    """Run one job on its own "machine" (folder); whether it succeeded. Steps after a failure run only
    when their `if` says so, as in Actions."""
    folder = checkout(root.parent / "project", root / name)
    store = root / "artifacts"
    store.mkdir(exist_ok=True)
    env = gryt_env(GITHUB_ACTIONS="true", GITHUB_REPOSITORY=repository)
    env["GITHUB_STEP_SUMMARY"] = str(root / f"{name}.summary.md")
    for key, value in workflow_env.items():
        env[key] = value.replace("${{ github.run_id }}", "4242").replace("${{ github.run_attempt }}", "1")
    for key, value in job.get("env", {}).items():
        if value.startswith("${{ secrets."):
            env[key] = secrets[value.removeprefix("${{ secrets.").removesuffix(" }}")]
    ok = True
    for step in job["steps"]:
        if not ok and not runs_anyway(step.get("if")):
            continue
        uses = str(step.get("uses", ""))
        if uses.startswith("actions/upload-artifact@"):
            upload(folder, step["with"], store)
        elif uses.startswith("actions/download-artifact@"):
            download(folder, step["with"], store)
        elif "run" in step and not step["run"].startswith("python -m pip install"):
            proc = subprocess.run(
                ["bash", "-e", "-c", step["run"]],
                check=False,
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            (root / f"{name}.log").open("a").write(proc.stdout + proc.stderr)
            ok = ok and proc.returncode == 0
    return ok


def run_workflow(
    workflow: dict[str, Any], root: Path, secrets: dict[str, str], repository: str
) -> dict[str, str]:
    """Every job of the project beside `root` in an order its `needs` allow; a job whose needs did not all succeed is skipped unless
    its `if` runs anyway. The outcome of each job."""
    root.mkdir()
    outcome: dict[str, str] = {}
    pending = dict(workflow["jobs"])
    while pending:
        name, job = next((n, j) for n, j in pending.items() if all(d in outcome for d in j.get("needs", [])))
        del pending[name]
        needs_met = all(outcome[d] == "success" for d in job.get("needs", []))
        if not needs_met and not runs_anyway(job.get("if")):
            outcome[name] = "skipped"
            continue
        outcome[name] = (
            "success" if run_job(name, job, workflow["env"], root, secrets, repository) else "failure"
        )
    return outcome


def history(db: Path) -> dict[str, Any]:
    connection = sqlite3.connect(db)
    try:
        [(status,)] = connection.execute("SELECT status FROM pipelines").fetchall()
        runners = sorted(connection.execute("SELECT runner_id, status FROM runners").fetchall())
        steps = sorted(connection.execute("SELECT runner_id, step_id, status FROM step_runs").fetchall())
        delivered = sorted(
            connection.execute("SELECT destination_id, status FROM destination_runs").fetchall()
        )
    finally:
        connection.close()
    return {"status": status, "runners": runners, "steps": steps, "destinations": delivered}


def test_fan_out_over_jobs_equals_one_machine(github_server: GithubServer, tmp_path: Path):
    project = write_project(tmp_path / "project", github_server.api_url)
    generated = gryt(project, "ci", "github")
    assert generated.returncode == 0, generated.stderr
    workflow = yaml.safe_load((project / ".github/workflows/gryt.yml").read_text())
    secrets = {"API_TOKEN": API_TOKEN, "GITHUB_TOKEN": github_server.token}

    machines = tmp_path / "machines"
    outcome = run_workflow(workflow, machines, secrets, "team/fanout")
    assert outcome == {"lint": "success", "build": "success", "test": "success", "gryt-deliver": "success"}

    final = machines / "gryt-deliver"
    merged = history(final / ".gryt/gryt.db")

    single = checkout(project, tmp_path / "single")
    env = gryt_env(API_TOKEN=API_TOKEN, GITHUB_TOKEN=github_server.token, GITHUB_REPOSITORY="team/single")
    alone = gryt(single, "run", "ship", env=env)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert merged == history(single / ".gryt/gryt.db")
    assert merged["status"] == "success" and len(merged["steps"]) == 4
    assert merged["destinations"] == [("copy", "success"), ("release", "success")]

    assert (final / "published/app-1.0.txt").read_text() == "wheel-4242-1\n"
    assert github_server.asset_bytes("team/fanout", "v1.0") == {"app-1.0.txt": b"wheel-4242-1\n"}
    secrets_out = [API_TOKEN.encode(), github_server.token.encode()]
    assert find_bytes(machines, secrets_out) == [] and find_bytes(single, secrets_out) == []
    assert "unit ok with ***" in (machines / "test.log").read_text()
    junit = (final / "gryt-junit.xml").read_text()
    assert all(f'name="{step}"' in junit for step in ("check", "wheel", "unit", "e2e"))


def test_a_failing_runner_job_skips_its_dependents_and_nothing_is_delivered(
    github_server: GithubServer, tmp_path: Path
):
    project = write_project(tmp_path / "project", github_server.api_url)
    pipeline = project / ".gryt/pipelines/ship.toml"
    pipeline.write_text(pipeline.read_text().replace("> dist/app-1.0.txt", "> dist/app-1.0.txt; exit 5"))
    assert gryt(project, "ci", "github").returncode == 0
    workflow = yaml.safe_load((project / ".github/workflows/gryt.yml").read_text())
    secrets = {"API_TOKEN": API_TOKEN, "GITHUB_TOKEN": github_server.token}

    outcome = run_workflow(workflow, tmp_path / "machines", secrets, "team/broken")

    assert outcome == {"lint": "success", "build": "failure", "test": "skipped", "gryt-deliver": "failure"}
    final = tmp_path / "machines" / "gryt-deliver"
    merged = history(final / ".gryt/gryt.db")
    assert merged["status"] == "error"
    assert merged["runners"] == [("build", "error"), ("lint", "success")]
    assert merged["destinations"] == [("copy", "skipped"), ("release", "skipped")]
    assert not (final / "published").exists()
    assert github_server.for_repo("team/broken") == []
    junit = (final / "gryt-junit.xml").read_text()
    assert 'name="wheel"' in junit and "<failure" in junit
    assert (tmp_path / "machines/artifacts/gryt-history/.gryt/gryt.db").is_file()

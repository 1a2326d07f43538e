"""The GitHub Actions workflow for a pipeline, built from its plan (`gryt plan --json`): one job per runner
with its `needs`, each running `gryt run PIPELINE --runner ID --no-deliver --show` under the shared run id and
uploading its database (and the pipeline's artifacts), and a final job that merges the databases, writes
JUnit and delivers once. The same plan always gives the same text."""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gryt import yaml_text
from gryt.errors import ConfigError

CHECKOUT = "actions/checkout@v4"
SETUP_PYTHON = "actions/setup-python@v5"
UPLOAD = "actions/upload-artifact@v4"
DOWNLOAD = "actions/download-artifact@v4"
RUN_ID = "${{ github.run_id }}-${{ github.run_attempt }}"
"""The run id every job records under: one per workflow run attempt."""
JOBS_FOLDER = "gryt-jobs"
"""Where the final job downloads the jobs' databases (one sub-folder per job)."""
FINAL_JOB = "gryt-deliver"
_JOB_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PROVIDED = ("GITHUB_", "RUNNER_", "ACTIONS_")
"""Prefixes of variables Actions sets itself (GITHUB_TOKEN excepted: it is a secret to pass)."""
_SHARED_USERS = ("pipeline", "auth:", "validator:", "runtime:", "hook:")
"""`used_by` values of variables every job needs: every `gryt run` checks validators and runs auth."""


@dataclass(frozen=True)
class Options:
    """What the generator needs besides the plan: how the jobs name the pipeline and where files are."""

    pipeline: str
    """The pipeline argument of every `gryt run` (a name in the pipelines folder, or a path)."""
    pipeline_file: str
    """The pipeline's file relative to the repository root (keeps uploaded artifacts rooted there)."""
    database: str
    """The project's database relative to the repository root (`.gryt/gryt.db` by default)."""
    python: str = "3.12"
    pip_args: str = ""
    install: tuple[str, ...] = ()
    """What every job installs (`gryt.commands.pinned(distributions(plan))`); empty: the plan's
    distributions, unpinned."""
    header: str = ""


def job_ids(runner_ids: list[str]) -> tuple[dict[str, str], str]:
    """A valid, unique job id (`[A-Za-z_][A-Za-z0-9_-]*`, unique ignoring case) per runner id, and the
    final job's id."""
    taken: set[str] = set()

    def unique(wanted: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_-]+", "-", wanted).strip("-") or "runner"
        if not _JOB_ID.fullmatch(base):
            base = "_" + base
        candidate, number = base, 1
        while candidate.lower() in taken:
            number += 1
            candidate = f"{base}-{number}"
        taken.add(candidate.lower())
        return candidate

    ids = {runner: unique(runner) for runner in runner_ids}
    return ids, unique(FINAL_JOB)


def distributions(plan: Mapping[str, Any]) -> list[str]:
    """The distributions every job installs: what the plan needs, plus gryt-github for the log integration."""
    return sorted({*plan.get("distributions", []), "gryt-core", "gryt-github"})


def _env_for(plan: Mapping[str, Any], wanted: tuple[str, ...]) -> dict[str, str]:
    """`NAME: ${{ secrets.NAME }}` (or `vars.NAME`) for the variables used by one of `wanted`."""
    env: dict[str, str] = {}
    for entry in plan.get("environment", []):
        name = str(entry["name"])
        if not any(
            user == w or (w.endswith((":", "/")) and user.startswith(w))
            for user in entry["used_by"]
            for w in wanted
        ):
            continue
        if (name.startswith(_PROVIDED) and name != "GITHUB_TOKEN") or name == "CI":
            continue
        if not _VARIABLE.fullmatch(name):
            raise ConfigError(
                f"environment variable {name!r} cannot be passed from a GitHub secret or variable"
            )
        store = "secrets" if entry.get("secret") else "vars"
        env[name] = f"${{{{ {store}.{name} }}}}"
    return env


def permissions(plan: Mapping[str, Any]) -> dict[str, str]:
    """The final job's permissions: read the repository; write it for a GitHub release; an OIDC token for
    trusted publishing (a `pypi` destination whose `trusted_publishing` is not false)."""
    granted = {"contents": "read"}
    for destination in plan.get("destinations", []):
        config = destination.get("config") or {}
        if destination.get("type") == "github-release":
            granted["contents"] = "write"
        if destination.get("type") == "pypi" and config.get("trusted_publishing", "auto") is not False:
            granted["id-token"] = "write"
    return dict(sorted(granted.items()))


def _setup(options: Options, plan: Mapping[str, Any]) -> list[dict[str, Any]]:
    pins = options.install or distributions(plan)
    install = ["python", "-m", "pip", "install", *shlex.split(options.pip_args), *pins]
    return [
        {"uses": CHECKOUT},
        {"uses": SETUP_PYTHON, "with": {"python-version": options.python}},
        {"name": "Install gryt", "run": shlex.join(install)},
    ]


def _logs(options: Options) -> str:
    folder = options.database.rsplit("/", 1)[0] if "/" in options.database else "."
    return f"{folder}/logs/"


def runner_job(
    plan: Mapping[str, Any], runner: Mapping[str, Any], ids: Mapping[str, str], options: Options
) -> dict[str, Any]:
    """The job of one runner: set up, `gryt run --runner ID --no-deliver`, upload its database and outputs."""
    runner_id = str(runner["id"])
    job: dict[str, Any] = {"name": runner_id, "runs-on": "ubuntu-latest"}
    needs = [ids[n] for n in runner.get("needs", [])]
    if needs:
        job["needs"] = needs
    env = _env_for(plan, (*_SHARED_USERS, f"step:{runner_id}/"))
    if env:
        job["env"] = env
    run = ["gryt", "run", options.pipeline, "--runner", runner_id, "--no-deliver", "--show"]
    steps = _setup(options, plan)
    steps.append({"name": f"gryt run --runner {runner_id}", "run": shlex.join(run)})
    steps.append(
        {
            "name": "Upload the run history",
            "if": "${{ !cancelled() }}",
            "uses": UPLOAD,
            "with": {
                "name": f"gryt-db-{ids[runner_id]}",
                "path": f"{options.database}\n{_logs(options)}",
                "include-hidden-files": True,
                "if-no-files-found": "error",
            },
        }
    )
    artifacts = [str(a) for a in plan.get("artifacts") or [] if isinstance(a, str)]
    if artifacts and plan.get("destinations"):
        steps.append(
            {
                "name": "Upload the artifacts to deliver",
                "uses": UPLOAD,
                "with": {
                    "name": f"gryt-out-{ids[runner_id]}",
                    "path": "\n".join([options.pipeline_file, *artifacts]),
                    "include-hidden-files": True,
                    "if-no-files-found": "ignore",
                },
            }
        )
    job["steps"] = steps
    return job


def final_job(plan: Mapping[str, Any], ids: Mapping[str, str], options: Options) -> dict[str, Any]:
    """Download every job's database, merge them, write JUnit, keep the history, deliver once."""
    runners = [str(r["id"]) for r in plan.get("runners", [])]
    job: dict[str, Any] = {
        "name": "merge and deliver",
        "if": "${{ !cancelled() }}",
        "needs": [ids[r] for r in runners],
        "runs-on": "ubuntu-latest",
        "permissions": permissions(plan),
    }
    env = _env_for(plan, (*_SHARED_USERS, "destination:"))
    if env:
        job["env"] = env
    steps = _setup(options, plan)
    steps.append({"uses": DOWNLOAD, "with": {"pattern": "gryt-db-*", "path": JOBS_FOLDER}})
    artifacts = [a for a in plan.get("artifacts") or [] if isinstance(a, str)]
    if artifacts and plan.get("destinations"):
        steps.append({"uses": DOWNLOAD, "with": {"pattern": "gryt-out-*", "merge-multiple": True}})
    steps += [
        {
            "name": "Merge the jobs' run histories",
            "run": f"gryt db merge {JOBS_FOLDER}/*/{options.database.rsplit('/', 1)[-1]}",
        },
        {"name": "JUnit report", "run": 'gryt runs show "$GRYT_RUN_ID" --junit gryt-junit.xml'},
        {
            "name": "Keep the run history and the JUnit report",
            "if": "${{ !cancelled() }}",
            "uses": UPLOAD,
            "with": {
                "name": "gryt-history",
                "path": f"{options.database}\n{_logs(options)}\ngryt-junit.xml",
                "include-hidden-files": True,
            },
        },
    ]
    if plan.get("destinations"):
        steps.append(
            {
                "name": "Deliver",
                "if": "${{ github.event_name != 'pull_request' }}",
                "run": shlex.join(["gryt", "run", options.pipeline, "--deliver-only"]),
            }
        )
    job["steps"] = steps
    return job


def render(plan: Mapping[str, Any], options: Options) -> str:
    """The workflow text for `plan`."""
    runners = list(plan.get("runners", []))
    ids, final = job_ids([str(r["id"]) for r in runners])
    jobs = {ids[str(r["id"])]: runner_job(plan, r, ids, options) for r in runners}
    jobs[final] = final_job(plan, ids, options)
    document = {
        "name": f"gryt {plan.get('name') or options.pipeline}",
        "on": {"push": {}, "pull_request": {}, "workflow_dispatch": {}},
        "permissions": {"contents": "read"},
        "env": {"GRYT_RUN_ID": RUN_ID},
        "jobs": jobs,
    }
    header = "".join(f"# {line}\n" if line else "#\n" for line in options.header.splitlines())
    return header + yaml_text.dump(document, spaced=("jobs",))

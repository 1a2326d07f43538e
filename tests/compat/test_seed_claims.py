"""Claims of the seed concepts document (gryt-ci 1.x) that gryt keeps: a shared Data for steps, auth
results recorded whenever the auth has data, a skipped repeated login and validation without a run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gryt.auth import Auth
from gryt.data import SqliteData
from gryt.history import get_run, list_runs
from gryt.pipeline import Pipeline
from gryt.runner import Runner
from gryt.step import CommandStep, Step
from gryt.validators import Issue, Validator


class Writes(Step):
    """A custom 1.x-style step writing into the store it was handed, through `self.data`."""

    def run(self) -> dict[str, Any]:
        assert self.data is not None, "the runner did not share its Data"
        self.data.create_table("notes", {"step": "TEXT", "run": "TEXT"})
        run_id = self.context.run_id if self.context is not None else None
        self.data.insert("notes", {"step": self.id, "run": run_id})
        return {"status": "success"}


def test_runner_shares_its_data_with_steps(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "gryt.db") as data:
        steps = [Writes("a"), Writes("b")]
        results = Runner(steps, data=data).execute()
        assert {r["status"] for r in results.values()} == {"success"}
        [run] = list_runs(data)
        rows = data.query("SELECT step, run FROM notes ORDER BY step")
        assert rows == [{"step": "a", "run": run["run_id"]}, {"step": "b", "run": run["run_id"]}]
        assert steps[0].context is not None and steps[0].context.run_id == run["run_id"]


def test_pipeline_data_reaches_steps_unless_a_step_has_its_own(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "run.db") as data, SqliteData(tmp_path / "own.db") as own:
        shared, mine = Writes("shared"), Writes("mine", data=own)
        result = Pipeline([Runner([shared, mine])], data=data).execute()
        assert result["status"] == "success"
        assert [r["step"] for r in data.query("SELECT step FROM notes")] == ["shared"]
        assert [r["step"] for r in own.query("SELECT step FROM notes")] == ["mine"]
        assert shared.data is data and mine.data is own


def test_a_step_outside_any_run_has_only_its_own_data(tmp_path: Path) -> None:
    assert Writes("alone").data is None
    with SqliteData(tmp_path / "own.db") as own:
        assert Writes("own", data=own).run() == {"status": "success"}
        assert own.query("SELECT step, run FROM notes") == [{"step": "own", "run": None}]


class Token(Auth):
    """Logs in by reading an environment variable, like the 1.x FlyAuth; counts its real logins."""

    name = "token"

    def __init__(self, id: str, data: SqliteData | None = None, variable: str = "SEED_TOKEN") -> None:
        super().__init__(id, data=data)
        self.variable = variable
        self.logins = 0

    def authenticate(self) -> dict[str, Any]:
        self.logins += 1
        token = os.environ.get(self.variable)
        if not token:
            return {"status": "error", "error": f"{self.variable} is not set"}
        self.export("SEED_EXPORTED", token, secret=True)
        return {"status": "success", "user": "me", "echo": f"token {token}"}


def auth_rows(data: SqliteData) -> list[dict[str, Any]]:
    return data.query("SELECT auth_id, status, output_json FROM auth_runs ORDER BY id")


def test_standalone_auth_with_data_is_recorded_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEED_TOKEN", "s3cret-value")
    with SqliteData(tmp_path / "gryt.db") as data:
        auth = Token("login", data=data)
        assert auth.authenticate()["status"] == "success"
        [row] = auth_rows(data)
        assert row["auth_id"] == "login" and row["status"] == "success"
        assert "s3cret-value" not in row["output_json"] and "***" in row["output_json"]
        [run] = list_runs(data)
        assert run["name"] == "login" and run["status"] == "success"
        assert [a["auth_id"] for a in get_run(data, run["run_id"])["auth"]] == ["login"]  # type: ignore[index]
        assert data.query("SELECT status FROM auth_output WHERE auth_id = 'login'") == [{"status": "success"}]


def test_failed_standalone_auth_is_recorded_as_auth_failed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SEED_TOKEN", raising=False)
    with SqliteData(tmp_path / "gryt.db") as data:
        assert Token("login", data=data).authenticate()["status"] == "error"
        [run] = list_runs(data)
        assert run["status"] == "auth_failed" and "SEED_TOKEN is not set" in run["error"]
        assert [r["status"] for r in auth_rows(data)] == ["error"]


def test_auth_without_data_records_nothing_and_raises_through(tmp_path: Path) -> None:
    class Broken(Token):
        def authenticate(self) -> dict[str, Any]:
            raise RuntimeError("network down")

    with SqliteData(tmp_path / "gryt.db") as data:
        assert Token("plain").authenticate()["status"] in ("success", "error")
        with pytest.raises(RuntimeError):
            Broken("broken", data=data).authenticate()
        assert [(r["auth_id"], r["status"]) for r in auth_rows(data)] == [("broken", "error")]


def test_pipeline_records_auth_once_and_auth_only_data_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEED_TOKEN", "s3cret-value")
    step = CommandStep(
        "echo", {"cmd": [sys.executable, "-c", "import os; print(os.environ['SEED_EXPORTED'])"]}
    )
    with SqliteData(tmp_path / "run.db") as data, SqliteData(tmp_path / "auth.db") as auth_data:
        shared = Pipeline([Runner([step])], data=data, auth_steps=[Token("same", data=data)]).execute()
        assert shared["status"] == "success"
        assert [r["auth_id"] for r in auth_rows(data)] == ["same"]  # once: the pipeline's record only
        only_auth = Pipeline(
            [Runner([CommandStep("noop", {"cmd": ["true"]})])], auth_steps=[Token("own", data=auth_data)]
        )
        assert only_auth.execute()["status"] == "success"
        assert [r["auth_id"] for r in auth_rows(auth_data)] == ["own"]
        assert len(list_runs(data)) == 1
    assert "s3cret-value" not in shared["runners"]["runner_0"]["echo"]["stdout"]


def test_second_authenticate_is_skipped_until_cleanup(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEED_TOKEN", "s3cret-value")
    auth = Token("login")
    assert auth.authenticate()["status"] == "success"
    again = auth.authenticate()
    assert again["status"] == "skipped" and again["reason"]
    assert auth.logins == 1 and auth.is_authenticated()
    auth.cleanup()
    assert not auth.is_authenticated()
    assert auth.authenticate()["status"] == "success" and auth.logins == 2


def test_mark_authenticated_skips_the_login(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEED_TOKEN", raising=False)
    auth = Token("preset")
    auth.mark_authenticated()
    assert auth.is_authenticated()
    assert auth.authenticate()["status"] == "skipped" and auth.logins == 0


def test_pipeline_counts_a_skipped_auth_as_logged_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    class Cleaned(Token):
        cleaned = 0

        def cleanup(self) -> None:
            Cleaned.cleaned += 1

    monkeypatch.setenv("SEED_TOKEN", "s3cret-value")
    auth = Cleaned("login")
    assert auth.authenticate()["status"] == "success"  # logged in by the release script itself
    step = CommandStep(
        "use", {"cmd": [sys.executable, "-c", "import os; assert os.environ['SEED_EXPORTED']"]}
    )
    with SqliteData(tmp_path / "gryt.db") as data:
        result = Pipeline([Runner([step])], data=data, auth_steps=[auth]).execute()
        assert result["status"] == "success", result
        assert result["auth"]["login"]["status"] == "skipped"
        assert [r["status"] for r in auth_rows(data)] == ["skipped"]
    assert auth.logins == 1
    assert Cleaned.cleaned == 0  # the run did not log in, so it does not log out either
    assert auth.is_authenticated()


class Missing(Validator):
    name = "missing"
    config_keys = None

    def run(self) -> list[Issue]:
        return [Issue("env_var_missing", "SEED_NOPE", "SEED_NOPE is not set")]


def test_validate_environment_reports_without_running(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    step = CommandStep("touch", {"cmd": ["touch", str(marker)]})
    with SqliteData(tmp_path / "gryt.db") as data:
        pipeline = Pipeline([Runner([step])], data=data, validators=[Missing()])
        report = pipeline.validate_environment()
        issue = {
            "kind": "env_var_missing",
            "name": "SEED_NOPE",
            "message": "SEED_NOPE is not set",
            "details": None,
        }
        assert report == {"status": "invalid_env", "issues": [issue]}
        assert list_runs(data) == [] and not marker.exists()
        assert Pipeline([Runner([step])]).validate_environment() == {"status": "ok", "issues": []}
        assert not marker.exists()
        assert pipeline.execute()["issues"] == report["issues"]


def test_familiar_top_level_imports_resolve_lazily() -> None:
    code = (
        "import sys, gryt\n"
        "assert 'pluggy' not in sys.modules and 'gryt.plugins.manager' not in sys.modules\n"
        "from gryt import EnvVarValidator, ToolValidator, FlyAuth, DockerRegistryAuth\n"
        "from gryt.validators import EnvVarValidator as V\n"
        "from gryt.auth import FlyAuth as F\n"
        "assert V is EnvVarValidator and F is FlyAuth\n"
        "print(EnvVarValidator.name, ToolValidator.name, FlyAuth.name, DockerRegistryAuth.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["env-vars", "tools", "fly", "docker-registry"]

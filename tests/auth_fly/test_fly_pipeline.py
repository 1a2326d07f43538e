"""FlyAuth inside real pipelines: the token reaches later steps and is masked in every byte gryt writes."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gryt import CommandStep, Hook, Pipeline, Runner, SqliteData
from gryt_auth_fly.auth import FlyAuth
from gryt_auth_fly.tokens import authorization_header

from .conftest import ORIGINAL_PATH, FakeFlyApi, macaroon, personal_token

ECHO = 'echo "token=$FLY_API_TOKEN"; echo "access=$FLY_ACCESS_TOKEN" >&2'
FINGERPRINT = (
    "import hashlib, os; t = os.environ['FLY_API_TOKEN']; "
    "print('sha256', hashlib.sha256(t.encode()).hexdigest(), t == os.environ['FLY_ACCESS_TOKEN'])"
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def secret_forms(token: str) -> list[bytes]:
    """The token and each macaroon part: none of them may appear anywhere."""
    parts = [p for p in token.removeprefix("FlyV1 ").split(",") if p]
    return [token.encode(), *(p.encode() for p in parts)]


def assert_nowhere(token: str, folder: Path, *texts: str) -> None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert any(p.name.endswith(".db") for p in files), "no database file was written"
    for path in files:
        raw = path.read_bytes()
        for form in secret_forms(token):
            assert form not in raw, f"token found in {path}"
    for text in texts:
        for form in secret_forms(token):
            assert form.decode() not in text


class RecordingHook(Hook):
    """Keeps every payload a pipeline hands to its hook, as JSON text."""

    def __init__(self) -> None:
        self.payloads: list[str] = []

    def on_step_end(self, step, result, context=None):
        self.payloads.append(json.dumps(result))

    def on_pipeline_end(self, pipeline, results, context=None):
        self.payloads.append(json.dumps(results))

    def on_error(self, scope, error, context=None):
        self.payloads.append(f"{scope}: {error}")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fly_api: FakeFlyApi) -> Path:
    """A folder for the run's files; the process has a normal PATH and points at the fake API."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.setenv("PATH", ORIGINAL_PATH)
    monkeypatch.setenv("FLY_API_BASE_URL", fly_api.base_url)
    return folder


@pytest.mark.parametrize("make_token", [personal_token, lambda: f"FlyV1 {macaroon()},{macaroon()}"])
def test_token_reaches_steps_and_is_masked_in_db_logs_output_and_json(
    fly_api, project, monkeypatch, capfd, make_token
):
    token = make_token()
    fly_api.accept(authorization_header(token), {"email": "ci@example.com"})
    monkeypatch.setenv("FLY_API_TOKEN", token)
    data = SqliteData(str(project / "gryt.db"))
    runner = Runner(
        [
            CommandStep("echo", {"cmd": ["sh", "-c", ECHO]}),
            CommandStep("fingerprint", {"cmd": [sys.executable, "-c", FINGERPRINT]}),
        ],
        id="deploy",
    )
    hook = RecordingHook()
    pipeline = Pipeline(
        [runner],
        data=data,
        hook=hook,
        auth_steps=[FlyAuth("fly", {"method": "api", "timeout": 5})],
        name="ship",
    )

    result = pipeline.execute(show=True)
    rows = data.query("SELECT * FROM auth_output")
    data.close()
    out, err = capfd.readouterr()

    assert result["status"] == "success", result
    assert result["auth"]["fly"]["email"] == "ci@example.com"
    steps = result["runners"]["deploy"]
    assert "token=***" in steps["echo"]["stdout"]
    assert "access=***" in steps["echo"]["stderr"]
    assert f"sha256 {sha256(token)} True" in steps["fingerprint"]["stdout"]
    assert "ci@example.com" in json.dumps(rows)
    assert "token=***" in out
    assert len(hook.payloads) == 3
    assert_nowhere(token, project, out, err, json.dumps(result), json.dumps(rows), *hook.payloads)


def test_rejected_token_stops_the_run_before_any_step(fly_api, project, monkeypatch, capfd):
    token = personal_token()
    monkeypatch.setenv("FLY_API_TOKEN", token)
    marker = project / "ran"
    data = SqliteData(str(project / "gryt.db"))
    step = CommandStep("deploy", {"cmd": [sys.executable, "-c", f"open({str(marker)!r}, 'w')"]})
    pipeline = Pipeline([Runner([step])], data=data, auth_steps=[FlyAuth("fly", {"method": "api"})])

    result = pipeline.execute()
    rows = data.query("SELECT * FROM auth_output")
    data.close()
    out, err = capfd.readouterr()

    assert result["status"] == "auth_failed"
    assert "rejected the token" in result["auth"]["fly"]["error"]
    assert not marker.exists()
    assert "rejected the token" in json.dumps(rows)
    assert_nowhere(token, project, out, err, json.dumps(result))


def test_cli_run_of_a_toml_pipeline_masks_the_token(fly_api, project):
    token = macaroon()
    fly_api.accept(f"FlyV1 {token}", {"email": "deploy@example.com"})
    gryt_dir = project / ".gryt" / "pipelines"
    gryt_dir.mkdir(parents=True)
    (gryt_dir / "ship.toml").write_text(
        "\n".join(
            [
                "[[auth]]",
                'type = "fly"',
                'method = "api"',
                "timeout = 5",
                "[[runners]]",
                'id = "deploy"',
                f'steps = [{{ id = "echo", cmd = ["sh", "-c", {json.dumps(ECHO)}] }}]',
            ]
        )
    )
    env = {**os.environ, "FLY_API_TOKEN": token, "FLY_API_BASE_URL": fly_api.base_url}
    gryt = Path(sys.executable).with_name("gryt")

    done = subprocess.run(
        [str(gryt), "run", "ship", "--json"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["auth"]["fly"]["email"] == "deploy@example.com"
    assert "token=***" in result["runners"]["deploy"]["echo"]["stdout"]
    assert_nowhere(token, project, done.stdout, done.stderr)

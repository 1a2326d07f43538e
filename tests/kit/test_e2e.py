"""End to end: scaffolds of every kind and the webhook example, built as wheels and installed with gryt-core
into one fresh venv; their own tests, `gryt plugins list --json` and `gryt run` of a TOML pipeline there."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gryt.scaffold import SCAFFOLD_KINDS
from gryt.testing import dump_toml

from .conftest import Kit

pytestmark = pytest.mark.slow

TOKEN = "e2e-token-5b8d0c1f7a"
HOOK_TOKEN = "hook-token-93e1a4c7d2"


def run(kit: Kit, home: Path, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args),
        cwd=cwd,
        env=kit.env(home, **env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize("kind", list(SCAFFOLD_KINDS))
def test_scaffold_tests_pass_in_the_fresh_venv(kit: Kit, kind: str, tmp_path: Path) -> None:
    done = run(
        kit,
        tmp_path,
        str(kit.bin / "python"),
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        cwd=kit.scaffold(kind),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert " passed" in done.stdout
    assert "failed" not in done.stdout and "skipped" not in done.stdout and "warning" not in done.stdout


def test_every_plugin_is_listed_ok_with_what_it_provides(kit: Kit, tmp_path: Path) -> None:
    done = run(kit, tmp_path, str(kit.bin / "gryt"), "plugins", "list", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    for kind, registry_kind in SCAFFOLD_KINDS.items():
        row = rows[f"e2e-{kind}"]
        assert (row["status"], row["error"]) == ("ok", None)
        assert (row["distribution"], row["version"]) == (f"gryt-e2e-{kind}", "0.1.0")
        assert {k: v for k, v in row["provides"].items() if v} == {registry_kind: [f"e2e-{kind}"]}
    webhook = rows["webhook"]
    assert (webhook["status"], webhook["distribution"]) == ("ok", "gryt-webhook")
    assert webhook["implements"] == ["gryt_pipeline_end", "gryt_pipeline_start"]
    assert not any(webhook["provides"].values())
    assert rows["builtins"]["status"] == "ok"


def _project(root: Path, pipeline: dict[str, Any]) -> Path:
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    (root / ".gryt" / "pipelines" / "ci.toml").write_text(dump_toml(pipeline))
    return root


def _stored_bytes(project: Path) -> bytes:
    """Everything gryt wrote under `.gryt/` (database, WAL, logs)."""
    return b"".join(p.read_bytes() for p in sorted((project / ".gryt").rglob("*")) if p.is_file())


def test_scaffolded_types_work_together_in_a_toml_pipeline(kit: Kit, tmp_path: Path) -> None:
    events, runs = tmp_path / "events.jsonl", tmp_path / "runs.jsonl"
    probe = (
        "import os; print(os.environ['DEPLOY_TOKEN'], os.path.isdir(os.environ['E2E_RUNTIME_WORKDIR']), "
        "os.environ['MODE'])"
    )
    project = _project(
        tmp_path / "proj",
        {
            "pipeline": {"name": "ci"},
            "runtime": {"type": "e2e-runtime", "env": {"MODE": "e2e"}},
            "validators": [{"type": "e2e-validator", "files": ["required.cfg"]}],
            "auth": [{"type": "e2e-auth", "id": "login", "export_as": "DEPLOY_TOKEN"}],
            "runners": [
                {
                    "id": "build",
                    "steps": [
                        {"id": "write", "type": "e2e-step", "path": "out/version.txt", "content": "1.0"},
                        {"id": "probe", "cmd": ["python", "-c", probe]},
                    ],
                }
            ],
            "destinations": [{"type": "e2e-destination", "id": "shelf", "path": "published"}],
            "hooks": [{"type": "e2e-hooks", "path": str(events)}],
            "artifacts": {"paths": ["dist/*.txt"]},
        },
    )
    (project / "required.cfg").write_text("x")
    (project / "dist").mkdir()
    (project / "dist" / "app-1.0.txt").write_text("built")

    done = run(
        kit,
        tmp_path,
        "gryt",
        "run",
        "ci",
        "--json",
        cwd=project,
        E2E_AUTH_TOKEN=TOKEN,
        E2E_HOOKS_EVENTS=str(runs),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    assert result["auth"]["login"]["status"] == "success"
    assert result["runners"]["build"]["probe"]["stdout"].split() == ["***", "True", "e2e"]
    assert (project / "out" / "version.txt").read_text() == "1.0"
    assert (project / "published" / "app-1.0.txt").read_text() == "built"
    assert [e["event"] for e in map(json.loads, events.read_text().splitlines())] == [
        "pipeline_start",
        "step_end",
        "step_end",
        "pipeline_end",
    ]
    assert json.loads(runs.read_text()) == {
        "event": "run_end",
        "run_id": result["run_id"],
        "status": "success",
    }
    assert TOKEN not in done.stdout + done.stderr
    assert TOKEN.encode() not in _stored_bytes(project)


class _Receiver:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/gryt"


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    receiver = _Receiver()
    thread = threading.Thread(
        target=receiver.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield receiver
    finally:
        receiver.server.shutdown()
        receiver.server.server_close()
        thread.join(timeout=10)


def test_webhook_posts_the_summary_and_the_token_is_never_stored(
    kit: Kit, tmp_path: Path, receiver: _Receiver
) -> None:
    leak = "import os; print('token:', os.environ['HOOK_TOKEN'])"
    project = _project(
        tmp_path / "proj",
        {
            "pipeline": {"name": "ci"},
            "runners": [{"id": "build", "steps": [{"id": "leak", "cmd": ["python", "-c", leak]}]}],
        },
    )
    (project / ".gryt" / "webhook.toml").write_text(f'url = "{receiver.url}"\ntoken_env_var = "HOOK_TOKEN"\n')

    done = run(kit, tmp_path, "gryt", "run", "ci", "--json", cwd=project, HOOK_TOKEN=HOOK_TOKEN)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    assert result["runners"]["build"]["leak"]["stdout"] == "token: ***\n"

    [request] = receiver.requests
    assert request["path"] == "/gryt"
    assert request["headers"]["Authorization"] == f"Bearer {HOOK_TOKEN}"
    payload = json.loads(request["body"])
    assert (payload["event"], payload["pipeline"], payload["status"]) == ("pipeline_end", "ci", "success")
    assert payload["run_id"] == result["run_id"]
    assert payload["runners"]["build"]["status"] == "success"
    assert payload["runners"]["build"]["steps"]["leak"]["status"] == "success"

    assert HOOK_TOKEN.encode() not in request["body"]
    assert HOOK_TOKEN not in done.stdout + done.stderr
    stored = _stored_bytes(project)
    assert b"token: ***" in stored
    assert HOOK_TOKEN.encode() not in stored


def test_a_failing_webhook_is_reported_without_failing_the_run(
    kit: Kit, tmp_path: Path, receiver: _Receiver
) -> None:
    receiver.status = 500
    project = _project(
        tmp_path / "proj",
        {"runners": [{"id": "build", "steps": [{"id": "ok", "cmd": ["python", "-c", "pass"]}]}]},
    )
    done = run(kit, tmp_path, "gryt", "run", "ci", "--json", cwd=project, GRYT_WEBHOOK_URL=receiver.url)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "success"
    assert len(receiver.requests) == 1
    assert "Authorization" not in receiver.requests[0]["headers"]
    assert any("webhook" in w and "answered HTTP 500" in w for w in result["warnings"]), result["warnings"]
    assert "answered HTTP 500" in done.stderr


def test_the_installed_core_wheel_ships_the_templates(kit: Kit, tmp_path: Path) -> None:
    done = run(kit, tmp_path, "gryt", "plugins", "new", "gryt-wheel-check", "--kind", "step", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    created = tmp_path / "gryt-wheel-check"
    assert (created / "src" / "gryt_wheel_check" / "step.py").read_text().count(
        "class WheelCheckStep(Step)"
    ) == 1
    assert (created / "tests" / "test_plugin.py").is_file()

"""Runner and Pipeline: real subprocesses, real SQLite files, real plugin hooks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from gryt import hookimpl
from gryt.auth import Auth
from gryt.data import SqliteData
from gryt.destination import CommandDestination, Destination, DirectoryDestination
from gryt.errors import ConfigError
from gryt.history import get_run, list_runs
from gryt.hook import Hook, PrintHook
from gryt.pipeline import Pipeline
from gryt.runner import Runner
from gryt.runtime import LocalRuntime, Runtime
from gryt.step import CommandStep, Step
from gryt.testing import gryt_plugins  # noqa: F401 - fixture
from gryt.validators import Issue, Validator

PY = sys.executable


def cmd(step_id: str, *args: str, **config: Any) -> CommandStep:
    return CommandStep(step_id, {"cmd": list(args), **config})


def sh(step_id: str, script: str, **config: Any) -> CommandStep:
    return CommandStep(step_id, {"cmd": ["sh", "-c", script], **config})


class Recording(Hook):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[str, Any]] = []

    def on_pipeline_start(self, pipeline, context=None):
        self.events.append(("pipeline_start", context.run_id))

    def on_pipeline_end(self, pipeline, results, context=None):
        self.events.append(("pipeline_end", results))

    def on_step_start(self, step, context=None):
        self.events.append(("step_start", f"{context.runner_id}/{step.id}"))

    def on_step_end(self, step, result, context=None):
        self.events.append(("step_end", (f"{context.runner_id}/{step.id}", result)))

    def on_error(self, scope, error, context=None):
        self.events.append(("error", (scope, str(error))))

    def names(self) -> list[str]:
        return [e[0] for e in self.events]


class TokenAuth(Auth):
    name = "token"

    def __init__(
        self, id: str, config: dict[str, Any] | None = None, fail: bool = False, log: list[str] | None = None
    ) -> None:
        super().__init__(id, config)
        self.fail = fail
        self.log = log if log is not None else []

    def authenticate(self) -> dict[str, Any]:
        self.log.append(f"auth:{self.id}")
        if self.fail:
            return {"status": "error", "error": "bad token"}
        token = f"tok-{self.id}-s3cr3t-value"
        self.export(f"{self.id.upper()}_TOKEN", token, secret=True)
        self.export(f"{self.id.upper()}_USER", "alice")
        return {"status": "success", "user": "alice", "echo": token}

    def cleanup(self) -> None:
        self.log.append(f"cleanup:{self.id}")


class TrackingRuntime(Runtime):
    name = "tracking"

    def __init__(self, log: list[str], fail: bool = False) -> None:
        super().__init__()
        self.log = log
        self.fail = fail
        self.env = {"RUNTIME_VAR": "from-runtime"}

    def provision(self) -> None:
        self.log.append("provision")
        if self.fail:
            raise RuntimeError("no capacity")

    def teardown(self) -> None:
        self.log.append("teardown")


class Fixed(Validator):
    name = "fixed"

    def __init__(self, issues: list[Issue], log: list[str] | None = None) -> None:
        super().__init__()
        self.issues = issues
        self.log = log if log is not None else []

    def run(self) -> list[Issue]:
        self.log.append("validator")
        return self.issues


class Broken(Validator):
    name = "broken"

    def run(self) -> list[Issue]:
        raise RuntimeError("cannot check")


def test_runner_ids_statuses_and_fail_fast() -> None:
    r0 = Runner([cmd("a", "true"), cmd("b", "false"), cmd("c", "true")])
    r1 = Runner([cmd("d", "false"), cmd("e", "true")], config={"fail_fast": False})
    result = Pipeline([r0, r1]).execute()
    assert result["status"] == "error"
    assert list(result["runners"]) == ["runner_0", "runner_1"]
    steps = result["runners"]["runner_0"]
    assert [steps[s]["status"] for s in "abc"] == ["success", "error", "skipped"]
    assert "'b' failed" in steps["c"]["error"]
    assert [result["runners"]["runner_1"][s]["status"] for s in "de"] == ["error", "success"]
    assert result["error"].startswith("step runner_0/b failed")
    assert result["warnings"] == [] and result["auth"] == {} and result["issues"] == []


def test_standalone_runner_records_its_own_run(tmp_path: Path) -> None:
    data = SqliteData(tmp_path / "g.db")
    results = Runner([cmd("x", "echo", "hi")], data=data, id="solo").execute()
    assert results["x"]["stdout"] == "hi\n"
    runs = list_runs(data)
    assert len(runs) == 1 and runs[0]["name"] == "solo" and runs[0]["status"] == "success"
    data.close()


class Exploding(Step):
    name = "exploding"

    def run(self) -> dict[str, Any]:
        raise ValueError("kaboom\nsecond line")


class Invalid(Step):
    name = "invalid"

    def run(self) -> dict[str, Any]:
        raise AssertionError("never runs")

    def validate(self) -> bool:
        return False


def test_step_exception_and_validate_false() -> None:
    result = Runner([Invalid("skip-me"), Exploding("boom"), cmd("after", "true")]).execute()
    assert result["skip-me"]["status"] == "skipped"
    assert (
        result["boom"]["status"] == "error" and result["boom"]["error"] == "run() raised ValueError: kaboom"
    )
    assert result["after"]["status"] == "skipped"


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Runner([cmd("a", "true"), cmd("a", "true")]), "duplicate step id 'a'"),
        (lambda: Pipeline([Runner([], id="x"), Runner([], id="x")]), "duplicate runner id 'x'"),
        (lambda: Pipeline([Runner([], id="x", needs=["nope"])]), "unknown runner 'nope'; known runners: x"),
        (
            lambda: Pipeline(
                [
                    Runner([], id="a", needs=["c"]),
                    Runner([], id="b", needs=["a"]),
                    Runner([], id="c", needs=["b"]),
                ]
            ),
            "cycle: a -> c -> b -> a",
        ),
        (lambda: Pipeline([Runner([], id="a", needs="a")]), "cycle: a -> a"),
        (lambda: Pipeline([], max_parallel=0), "max_parallel"),
    ],
)
def test_construction_errors(build, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        build()
    assert isinstance(info.value, ValueError)


def test_rerun_same_step_ids_three_times(tmp_path: Path) -> None:
    db = tmp_path / ".gryt" / "gryt.db"
    run_ids = []
    for n in range(3):
        with SqliteData(db) as data:
            result = Pipeline(
                [Runner([sh("build", f"echo build {n}"), cmd("test", "true")], id="ci")], data=data, name="ci"
            ).execute()
            assert result["status"] == "success"
            run_ids.append(result["run_id"])
    with SqliteData(db) as data:
        latest = data.query("SELECT step_id, output_json FROM steps_output ORDER BY step_id")
        assert [r["step_id"] for r in latest] == ["build", "test"]
        assert json.loads(latest[0]["output_json"])["stdout"] == "build 2\n"
        assert data.query("SELECT COUNT(*) AS n FROM step_runs") == [{"n": 6}]
        assert [r["run_id"] for r in list_runs(data)] == run_ids[::-1]
        run = get_run(data, run_ids[0])
        assert run is not None and run["status"] == "success" and run["end_timestamp"]
        assert [s["output"]["stdout"] for s in run["steps"]] == ["build 0\n", ""]
        assert run["runners"][0]["runner_id"] == "ci" and run["runners"][0]["status"] == "success"
        assert run["config"]["runners"][0]["steps"][0]["config"]["cmd"] == ["sh", "-c", "echo build 0"]
    log = db.parent / "logs" / run_ids[1] / "ci.build.log"
    assert log.read_text() == "build 1\n"
    assert get_run(SqliteData(db), run_ids[1])["steps"][0]["log_path"] == str(log)  # type: ignore[index]


def test_env_merge_runtime_auth_and_step(tmp_path: Path) -> None:
    log: list[str] = []
    step = sh(
        "env",
        'echo "$HOME|$PATH|$RUNTIME_VAR|$GH_USER|$STEP_VAR|$SHARED"; pwd',
        env={"STEP_VAR": "s", "SHARED": "step"},
    )
    runtime = TrackingRuntime(log)
    runtime.env["SHARED"] = "runtime"
    runtime.cwd = str(tmp_path)  # type: ignore[attr-defined]
    result = Pipeline([Runner([step])], runtime=runtime, auth_steps=[TokenAuth("gh")]).execute()
    line, cwd = result["runners"]["runner_0"]["env"]["stdout"].splitlines()
    assert line == f"{os.environ['HOME']}|{os.environ['PATH']}|from-runtime|alice|s|step"
    assert Path(cwd).resolve() == tmp_path.resolve()
    assert log == ["provision", "teardown"]


def test_local_runtime_cwd_and_env(tmp_path: Path) -> None:
    result = Pipeline(
        [Runner([cmd("pwd", "sh", "-c", "pwd; echo $LR")])],
        runtime=LocalRuntime(env={"LR": "1"}, cwd=str(tmp_path)),
    ).execute()
    out = result["runners"]["runner_0"]["pwd"]["stdout"].splitlines()
    assert Path(out[0]).resolve() == tmp_path.resolve() and out[1] == "1"


def _step_times(data: SqliteData, run_id: str) -> dict[str, tuple[float, float]]:
    run = get_run(data, run_id)
    assert run is not None
    return {s["step_id"]: tuple(map(float, s["output"]["stdout"].split())) for s in run["steps"]}  # type: ignore[misc]


TIMED = "import time,sys; a=time.time(); time.sleep(float(sys.argv[1])); print(a, time.time())"


def timed(step_id: str, seconds: float = 0.4) -> CommandStep:
    return cmd(step_id, PY, "-c", TIMED, str(seconds))


def test_parallel_runners_overlap_and_honour_needs(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        runners = [
            Runner([timed("a1")], id="a"),
            Runner([timed("b1")], id="b"),
            Runner([timed("c1", 0.1)], id="c", needs=["a", "b"]),
        ]
        result = Pipeline(runners, data=data).execute(parallel=True)
        assert result["status"] == "success"
        t = _step_times(data, result["run_id"])
    assert t["a1"][0] < t["b1"][1] and t["b1"][0] < t["a1"][1]  # a and b overlapped
    assert t["c1"][0] >= max(t["a1"][1], t["b1"][1])  # c waited for both


def test_parallel_max_parallel_is_honoured(tmp_path: Path) -> None:
    with SqliteData(tmp_path / "g.db") as data:
        runners = [Runner([timed(f"s{i}", 0.3)], id=f"r{i}") for i in range(4)]
        result = Pipeline(runners, data=data, max_parallel=2).execute(parallel=True)
        assert result["status"] == "success"
        t = _step_times(data, result["run_id"])
    spans = sorted(t.values())
    for moment in [s for s, _ in spans]:
        running = sum(1 for s, e in spans if s <= moment < e)
        assert running <= 2
    assert max(sum(1 for s, e in spans if s <= m < e) for m, _ in spans) == 2


def test_parallel_failed_need_skips_dependents() -> None:
    runners = [
        Runner([cmd("bad", "false")], id="a"),
        Runner([cmd("never", "true")], id="b", needs=["a"]),
        Runner([cmd("ok", "true")], id="c"),
    ]
    result = Pipeline(runners).execute(parallel=True)
    assert result["status"] == "error"
    assert result["runners"]["b"]["never"]["status"] == "skipped"
    assert "needs runner 'a'" in result["runners"]["b"]["never"]["error"]
    assert result["runners"]["c"]["ok"]["status"] == "success"


def test_select_runners() -> None:
    runners = [Runner([cmd("a1", "false")], id="a"), Runner([cmd("b1", "true")], id="b", needs=["a"])]
    pipeline = Pipeline(runners)
    with pytest.raises(ConfigError, match="unknown runner 'zz'; known runners: a, b"):
        pipeline.select(["zz"])
    result = pipeline.select(["b"]).execute()
    assert result["status"] == "success" and list(result["runners"]) == ["b"]


def test_validate_environment_masks_secrets_known_before_a_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A validator's issue holding secrets: one from gryt's environment, one only in a step's `env`."""
    monkeypatch.setenv("FROM_ENV", "env-token-1234")
    step = cmd("s", "true", env={"STEP_ONLY": "step-token-5678"})
    leaky = Fixed([Issue("leak", "X", "saw env-token-1234 and step-token-5678")])
    pipeline = Pipeline([Runner([step])], validators=[leaky], secrets=["FROM_ENV", "STEP_ONLY"])
    report = pipeline.validate_environment()
    assert report["issues"][0]["message"] == "saw *** and ***"


def test_env_values_of_secret_names_in_destinations_and_the_runtime_are_masked(tmp_path: Path) -> None:
    """A destination's own `env` value and the runtime's `env` value of `secrets` names: what their
    commands print is masked, as is a step's own `env` value."""
    artifact = tmp_path / "a.txt"
    artifact.write_text("x")
    show = 'echo "{artifact} dest=$DEST_TOKEN runtime=$RUNTIME_TOKEN"'
    destination = CommandDestination(
        "cmd", {"cmd": ["sh", "-c", show], "env": {"DEST_TOKEN": "dest-token-1234"}}
    )
    runtime = TrackingRuntime([])
    runtime.env = {"RUNTIME_TOKEN": "runtime-token-5678"}
    step = cmd("s", "sh", "-c", 'echo "step=$STEP_TOKEN"', env={"STEP_TOKEN": "step-token-9012"})
    result = Pipeline(
        [Runner([step], id="r")],
        destinations=[destination],
        runtime=runtime,
        secrets=["DEST_TOKEN", "RUNTIME_TOKEN", "STEP_TOKEN"],
    ).execute(artifacts=[artifact])
    assert result["status"] == "success", result
    assert result["runners"]["r"]["s"]["stdout"] == "step=***\n"
    delivered = json.dumps(result["destinations"])
    assert "dest=*** runtime=***" in delivered, delivered
    assert "token" not in delivered


def test_validators_stop_everything(tmp_path: Path) -> None:
    log: list[str] = []
    hook = Recording()
    with SqliteData(tmp_path / "g.db") as data:
        pipeline = Pipeline(
            [Runner([sh("never", f"touch {tmp_path / 'ran'}")])],
            data=data,
            runtime=TrackingRuntime(log),
            hook=hook,
            validators=[Broken(), Fixed([Issue("env_var_missing", "TOKEN", "TOKEN is not set")], log)],
            auth_steps=[TokenAuth("gh", log=log)],
        )
        result = pipeline.execute()
        assert result["status"] == "invalid_env"
        assert [i["kind"] for i in result["issues"]] == ["validator_error", "env_var_missing"]
        assert result["issues"][0]["name"] == "broken" and "cannot check" in result["issues"][0]["message"]
        assert log == ["validator"]
        assert not (tmp_path / "ran").exists()
        assert hook.names() == ["pipeline_end"]
        assert list_runs(data)[0]["status"] == "invalid_env"
        run = get_run(data, result["run_id"])
        assert run is not None and [i["kind"] for i in run["issues"]] == [
            "validator_error",
            "env_var_missing",
        ]
        assert run["error"].startswith("2 environment issue(s)")
        assert data.query("SELECT COUNT(*) AS n FROM step_runs") == [{"n": 0}]


def test_auth_failure_stops_runners_and_cleans_up(tmp_path: Path) -> None:
    log: list[str] = []
    with SqliteData(tmp_path / "g.db") as data:
        pipeline = Pipeline(
            [Runner([sh("never", f"touch {tmp_path / 'ran'}")], id="r")],
            data=data,
            runtime=TrackingRuntime(log),
            auth_steps=[
                TokenAuth("one", log=log),
                TokenAuth("two", fail=True, log=log),
                TokenAuth("three", log=log),
            ],
        )
        result = pipeline.execute()
        assert result["status"] == "auth_failed"
        assert "'two' failed: bad token" in result["error"]
        assert log == ["auth:one", "auth:two", "cleanup:one"]
        assert not (tmp_path / "ran").exists()
        assert result["auth"]["one"]["status"] == "success" and result["auth"]["one"]["echo"] == "***"
        assert result["runners"]["r"]["never"]["status"] == "skipped"
        rows = data.query("SELECT auth_id, status, output_json FROM auth_output ORDER BY auth_id")
        assert [(r["auth_id"], r["status"]) for r in rows] == [("one", "success"), ("two", "error")]
        assert "s3cr3t" not in json.dumps(rows)
        assert get_run(data, result["run_id"])["auth"][1]["output"]["error"] == "bad token"  # type: ignore[index]


def test_teardown_and_cleanup_after_failure() -> None:
    log: list[str] = []
    result = Pipeline(
        [Runner([cmd("fail", "false")])], runtime=TrackingRuntime(log), auth_steps=[TokenAuth("a", log=log)]
    ).execute()
    assert result["status"] == "error"
    assert log == ["auth:a", "provision", "teardown", "cleanup:a"]


def test_provision_failure_still_tears_down() -> None:
    log: list[str] = []
    result = Pipeline([Runner([cmd("x", "true")])], runtime=TrackingRuntime(log, fail=True)).execute()
    assert result["status"] == "error" and "no capacity" in result["error"]
    assert log == ["provision", "teardown"]


def test_destinations_publish_only_after_success(tmp_path: Path) -> None:
    artifact = tmp_path / "app.whl"
    artifact.write_text("wheel")
    out = tmp_path / "out"
    listing = tmp_path / "published.txt"
    dests: list[Destination] = [
        DirectoryDestination("dir", {"path": str(out)}),
        CommandDestination("cmd", {"cmd": ["sh", "-c", f"echo {{artifact}} >> {listing}"]}),
    ]
    failed = Pipeline([Runner([cmd("x", "false")], id="x")], destinations=dests).execute(artifacts=[artifact])
    assert failed["status"] == "error"
    assert {d: o["status"] for d, o in failed["delivery"].items()} == {"dir": "skipped", "cmd": "skipped"}
    assert failed["destinations"]["dir"][0]["error"] == "not delivered: runner 'x' ended with error"
    assert not out.exists() and not listing.exists()
    missing = Pipeline([Runner([cmd("x", "true")])], destinations=dests).execute(
        artifacts=[artifact, tmp_path / "missing"]
    )
    assert missing["status"] == "error" and not out.exists()
    assert missing["error"] == f"destination 'dir' failed: artifact {tmp_path / 'missing'} does not exist"
    ok = Pipeline([Runner([cmd("x", "true")])], destinations=dests).execute(artifacts=[artifact])
    assert ok["status"] == "success"
    assert (out / "app.whl").read_text() == "wheel"
    assert listing.read_text().splitlines() == [str(artifact)]
    assert ok["destinations"]["dir"] == [
        {"artifact": str(artifact), "status": "success", "path": str(out / "app.whl")}
    ]
    assert ok["delivery"]["cmd"]["artifacts"] == [str(artifact)]


def test_command_destination_needs_placeholder() -> None:
    with pytest.raises(ConfigError, match="artifact"):
        CommandDestination("d", {"cmd": ["echo", "hi"]})
    with pytest.raises(ConfigError, match="path"):
        DirectoryDestination("d", {})


class RaisingHook(Hook):
    name = "raising"

    def on_step_end(self, step, result, context=None):
        raise RuntimeError("hook broke")


class PluginHooks:
    """A plugin module stand-in implementing lifecycle hooks."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    @hookimpl
    def gryt_pipeline_start(self, pipeline, context):
        self.seen.append(("start", context.run_id))

    @hookimpl
    def gryt_step_end(self, step, result, context):
        self.seen.append(("step_end", (context.runner_id, step.id, result)))

    @hookimpl
    def gryt_pipeline_end(self, pipeline, result, context):
        raise ValueError("plugin end broke")


def test_raising_hooks_are_warnings(gryt_plugins, capfd: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    plugin = PluginHooks()
    gryt_plugins(plugin)
    recording = Recording()
    result = Pipeline([Runner([cmd("a", "true")], id="r")], hook=[RaisingHook(), recording]).execute()
    assert result["status"] == "success"
    assert len(result["warnings"]) == 2
    assert "hook raising failed in on_step_end: RuntimeError: hook broke" in result["warnings"][0]
    assert "plugin end broke" in result["warnings"][1]
    err = capfd.readouterr().err
    assert err.count("gryt: warning:") == 2
    assert ("error", ("hook:raising", result["warnings"][0])) in recording.events
    assert plugin.seen[0] == ("start", result["run_id"])
    assert plugin.seen[1][1][:2] == ("r", "a") and plugin.seen[1][1][2]["status"] == "success"


def test_hook_event_order() -> None:
    hook = Recording()
    Pipeline([Runner([cmd("a", "true"), cmd("b", "false"), cmd("c", "true")], id="r")], hook=hook).execute()
    assert hook.names() == [
        "pipeline_start",
        "step_start",
        "step_end",
        "step_start",
        "step_end",
        "step_end",
        "pipeline_end",
    ]
    assert hook.events[5][1][0] == "r/c" and hook.events[5][1][1]["status"] == "skipped"


def test_print_hook(capfd: pytest.CaptureFixture[str]) -> None:
    Pipeline([Runner([cmd("a", "true"), cmd("b", "false")], id="r")], hook=PrintHook(), name="demo").execute()
    lines = capfd.readouterr().err.splitlines()
    assert lines[0].startswith("gryt: run ") and lines[0].endswith("of demo started")
    assert lines[1:5] == ["gryt: r/a started", lines[2], "gryt: r/b started", lines[4]]
    assert lines[2].startswith("gryt: r/a success in ") and lines[4].endswith(": exit code 1")
    assert " error in " in lines[-1] and len(lines) == 6
    with pytest.raises(ConfigError):
        PrintHook(colour=True)


def test_secrets_masked_everywhere(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    env_secret = "npm-token-0123456789"
    monkeypatch.setenv("NPM_TOKEN", env_secret)
    auth_secret = "tok-gh-s3cr3t-value"
    hook = Recording()
    db = tmp_path / "g.db"
    script = 'echo "out $NPM_TOKEN $GH_TOKEN"; echo "err $NPM_TOKEN $GH_TOKEN" >&2; exit 1'
    with SqliteData(db) as data:
        result = Pipeline(
            [Runner([sh("leak", script, env={"COPY": env_secret})], id="r")],
            data=data,
            hook=hook,
            auth_steps=[TokenAuth("gh")],
            secrets=["NPM_TOKEN"],
        ).execute(show=True)
    step = result["runners"]["r"]["leak"]
    assert step["stdout"] == "out *** ***\n" and step["stderr"] == "err *** ***\n"
    dumped = json.dumps(result) + json.dumps(hook.events, default=str)
    assert env_secret not in dumped and auth_secret not in dumped
    shown = capfd.readouterr()
    assert env_secret not in shown.out + shown.err and "out *** ***" in shown.out
    files = [db, *tmp_path.glob("g.db*"), *(tmp_path / "logs").rglob("*")]
    for path in files:
        if path.is_file():
            raw = path.read_bytes()
            assert env_secret.encode() not in raw and auth_secret.encode() not in raw, path
    assert any(p.suffix == ".log" for p in files)


def test_run_row_is_running_while_steps_run(tmp_path: Path) -> None:
    seen: list[str] = []

    class Peek(Hook):
        def on_step_end(self, step, result, context=None):
            with SqliteData(tmp_path / "g.db") as other:
                seen.append(other.query("SELECT status FROM pipelines")[0]["status"])

    with SqliteData(tmp_path / "g.db") as data:
        result = Pipeline([Runner([cmd("a", "true")])], data=data, hook=Peek()).execute()
        assert seen == ["running"]
        assert list_runs(data)[0]["status"] == result["status"] == "success"


def test_interrupt_from_timer_thread(tmp_path: Path) -> None:
    log: list[str] = []
    marker = tmp_path / "marker"
    with SqliteData(tmp_path / "g.db") as data:
        pipeline = Pipeline(
            [
                Runner([sh("long", f"sleep 20; touch {marker}"), cmd("later", "true")], id="a"),
                Runner([cmd("b1", "sleep", "20")], id="b"),
                Runner([cmd("c1", "true")], id="c", needs=["a"]),
            ],
            data=data,
            runtime=TrackingRuntime(log),
            auth_steps=[TokenAuth("x", log=log)],
        )
        timer = threading.Timer(0.5, pipeline.interrupt)
        started = time.monotonic()
        timer.start()
        result = pipeline.execute(parallel=True)
        assert time.monotonic() - started < 5
        assert result["status"] == "interrupted"
        statuses = {(r, s): v["status"] for r, steps in result["runners"].items() for s, v in steps.items()}
        assert statuses == {
            ("a", "long"): "interrupted",
            ("a", "later"): "interrupted",
            ("b", "b1"): "interrupted",
            ("c", "c1"): "interrupted",
        }
        assert log == ["auth:x", "provision", "teardown", "cleanup:x"]
        run = get_run(data, result["run_id"])
        assert run is not None and run["status"] == "interrupted"
        assert {s["status"] for s in run["steps"]} == {"interrupted"}
    assert not marker.exists()


SIGINT_CHILD = """
import signal
import sys
from gryt import CommandStep, Pipeline, Runner, SqliteData
# Python leaves SIGINT ignored when it starts with it ignored (pytest run with `&` or nohup): raise
# KeyboardInterrupt on SIGINT as an interactive start would.
signal.signal(signal.SIGINT, signal.default_int_handler)
data = SqliteData(sys.argv[1])
steps = [CommandStep("slow", {"cmd": ["sh", "-c", "echo started; sleep 20; touch " + sys.argv[2]]}),
         CommandStep("after", {"cmd": ["true"]})]
other = Runner([CommandStep("other", {"cmd": ["sleep", "20"]})], id="o")
print("ready", flush=True)
try:
    Pipeline([Runner(steps, id="r"), other], data=data).execute(show=True, parallel=sys.argv[3] == "1")
except KeyboardInterrupt:
    print("KeyboardInterrupt", flush=True)
    sys.exit(130)
"""


@pytest.mark.parametrize("parallel", [False, True])
def test_sigint_to_child_running_a_pipeline(tmp_path: Path, parallel: bool) -> None:
    marker = tmp_path / "marker"
    db = tmp_path / "g.db"
    proc = subprocess.Popen(
        [PY, "-c", SIGINT_CHILD, str(db), str(marker), "1" if parallel else "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "ready\n"
    assert proc.stdout.readline().endswith("started\n")
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 130 and "KeyboardInterrupt" in out
    with SqliteData(db) as data:
        run = list_runs(data)[0]
        assert run["status"] == "interrupted"
        steps = {s["step_id"]: s["status"] for s in get_run(data, run["run_id"])["steps"]}  # type: ignore[index]
        assert steps == {"slow": "interrupted", "after": "interrupted", "other": "interrupted"}
    time.sleep(0.2)
    assert not marker.exists()


def test_pipeline_context_exposed() -> None:
    pipeline = Pipeline([Runner([cmd("a", "true")])])
    result = pipeline.execute()
    assert pipeline.context is not None and pipeline.context.run_id == result["run_id"]

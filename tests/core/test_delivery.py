"""Delivery in the engine: artifacts resolved in the project root after the runners, lifecycle events for
Hook objects and plugins, history rows and their migration, JUnit cases, and the live view's deliver rows."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from _schema import database_at

from gryt import hookimpl
from gryt.auth import Auth
from gryt.cli.progress import Failures, LiveProgress, render_summary
from gryt.config import ConfigKey
from gryt.data import SqliteData
from gryt.destination import CommandDestination, Destination, DirectoryDestination
from gryt.errors import ConfigError
from gryt.history import get_run
from gryt.hook import Hook, PrintHook
from gryt.junit import build_junit
from gryt.pipeline import Pipeline
from gryt.runner import Runner
from gryt.schema import SCHEMA_VERSION, schema_version
from gryt.step import CommandStep
from gryt.testing import gryt_plugins  # noqa: F401 - fixture

BUILD = "rm -rf dist && mkdir dist && echo one > dist/a.whl && echo two > dist/b.whl"


def release(root: Path, **kwargs: Any) -> Pipeline:
    """A pipeline building in `root` (its steps run there) and copying dist/* to root/out."""
    runner = Runner([CommandStep("make", {"cmd": ["sh", "-c", BUILD], "cwd": str(root)})], id="build")
    out = DirectoryDestination("out", {"path": str(root / "out")})
    return Pipeline([runner], destinations=[out], artifacts=["dist/*"], root=root, **kwargs)


def test_library_callers_resolve_in_root_and_get_absolute_paths(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    assert Path.cwd() != root
    result = release(root).execute()
    assert result["status"] == "success", result.get("error")
    assert result["delivery"]["out"]["artifacts"] == [str(root / "dist/a.whl"), str(root / "dist/b.whl")]
    assert sorted(p.name for p in (root / "out").iterdir()) == ["a.whl", "b.whl"]


def test_explicit_artifacts_replace_the_declared_globs(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    extra = tmp_path / "notes.txt"
    extra.write_text("notes")
    result = release(root).execute(artifacts=[extra])
    assert result["delivery"]["out"]["artifacts"] == [str(extra)]
    assert [p.name for p in (root / "out").iterdir()] == ["notes.txt"]


def test_a_symlink_out_of_the_root_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    (root / "dist").mkdir(parents=True)
    secret = tmp_path / "outside.key"
    secret.write_text("private")
    runner = Runner([CommandStep("link", {"cmd": ["ln", "-sf", str(secret), str(root / "dist" / "k.whl")]})])
    out = DirectoryDestination("out", {"path": str(root / "out")})
    result = Pipeline([runner], destinations=[out], artifacts=["dist/*"], root=root).execute()
    assert result["status"] == "error"
    error = result["delivery"]["out"]["error"]
    assert error.startswith(
        f"artifact {root / 'dist' / 'k.whl'} (from 'dist/*') resolves through a symlink to {secret}"
    )
    assert "outside the project root" in error
    assert not (root / "out").exists()


def test_a_relative_glob_may_not_leave_the_root(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (tmp_path / "sibling.txt").write_text("x")
    out = DirectoryDestination("out", {"path": str(root / "out")})
    runner = Runner([CommandStep("ok", {"cmd": ["true"]})])
    escaped = Pipeline([runner], destinations=[out], artifacts=["../*.txt"], root=root).execute()
    assert escaped["status"] == "error"
    assert "'../*.txt' matches" in escaped["delivery"]["out"]["error"]
    absolute = Pipeline(
        [runner], destinations=[out], artifacts=[str(tmp_path / "*.txt")], root=root
    ).execute()
    assert absolute["status"] == "success", absolute.get("error")
    assert (root / "out" / "sibling.txt").read_text() == "x"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("dist/*", None),
        ([3], "artifacts[0]: expected a glob or a { path, optional } table, got int"),
        ([{"path": "x", "optional": "yes"}], "artifacts[0].optional: expected a boolean, got str"),
        ([{"glob": "x"}], "artifacts[0]: unknown key 'glob'; known keys: path, optional"),
        ([""], "artifacts[0]: expected a glob of files or folders, got ''"),
    ],
)
def test_artifact_entries_are_checked(entries: Any, message: str | None) -> None:
    runners = [Runner([CommandStep("ok", {"cmd": ["true"]})])]
    if message is None:
        assert [s.path for s in Pipeline(runners, artifacts=entries).artifacts] == ["dist/*"]
        return
    with pytest.raises(ConfigError) as caught:
        Pipeline(runners, artifacts=entries)
    assert str(caught.value) == message


def test_command_destination_placeholders() -> None:
    with pytest.raises(ConfigError, match="exactly one of the placeholders"):
        CommandDestination("d", {"cmd": ["echo", "hi"]})
    with pytest.raises(ConfigError, match="exactly one of the placeholders"):
        CommandDestination("d", {"cmd": ["echo", "{artifact}", "{artifacts}"]})
    with pytest.raises(ConfigError, match=re.escape('"{artifacts}" must be a whole argument')):
        CommandDestination("d", {"cmd": ["echo", "--files={artifacts}"]})
    shell = CommandDestination("d", {"cmd": "upload {artifacts}", "shell": True})
    assert shell.batch_command([Path("a b.whl"), Path("c.whl")]) == "upload 'a b.whl' c.whl"


class Events(Hook):
    name = "events"

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, Any]] = []

    def on_step_end(self, step: Any, result: dict[str, Any], context: Any = None) -> None:
        self.seen.append(("step_end", step.id))

    def on_destination_start(self, destination: Any, context: Any = None) -> None:
        self.seen.append(("destination_start", destination.id))

    def on_destination_end(self, destination: Any, result: dict[str, Any], context: Any = None) -> None:
        result["status"] = "tampered"
        self.seen.append(("destination_end", destination.id))


class DeliveryPlugin:
    def __init__(self) -> None:
        self.seen: list[tuple[str, Any]] = []

    @hookimpl
    def gryt_destination_start(self, destination: Any, context: Any) -> None:
        self.seen.append(("start", (destination.id, context.run_id)))

    @hookimpl
    def gryt_destination_end(self, destination: Any, result: dict[str, Any]) -> None:
        self.seen.append(("end", (destination.id, result)))


def test_lifecycle_hooks_see_each_destination(tmp_path: Path, gryt_plugins: Any) -> None:  # noqa: F811
    plugin = DeliveryPlugin()
    gryt_plugins(plugin)
    root = tmp_path / "proj"
    root.mkdir()
    hook = Events()
    token = "tok-delivery-1234"
    os.environ["GRYT_DELIVERY_TOKEN"] = token
    try:
        pipe = release(root, hook=hook, secrets=["GRYT_DELIVERY_TOKEN"])
        pipe.destinations.append(
            CommandDestination(
                "say",
                {
                    "cmd": ["sh", "-c", 'echo "sending $0 with $GRYT_DELIVERY_TOKEN"', "{artifact}"],
                    "artifacts": ["dist/a.whl"],
                },
            )
        )
        result = pipe.execute()
    finally:
        del os.environ["GRYT_DELIVERY_TOKEN"]
    assert result["status"] == "success", result.get("error")
    assert hook.seen == [
        ("step_end", "make"),
        ("destination_start", "out"),
        ("destination_end", "out"),
        ("destination_start", "say"),
        ("destination_end", "say"),
    ]
    assert result["delivery"]["out"]["status"] == "success"  # the hook changed its own copy only
    assert [kind for kind, _ in plugin.seen] == ["start", "end", "start", "end"]
    assert plugin.seen[0][1] == ("out", result["run_id"])
    said = plugin.seen[3][1][1]
    assert said["status"] == "success" and said["artifacts"] == [str(root / "dist/a.whl")]
    assert said["results"][0]["stdout"] == f"sending {root / 'dist/a.whl'} with ***\n"
    assert token not in repr(plugin.seen)


class FailingAuth(Auth):
    name = "failing"

    def authenticate(self) -> dict[str, Any]:
        return {"status": "error", "error": "bad token"}


def test_auth_failure_skips_delivery_and_fails_in_junit(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    pipe = release(root, auth_steps=[FailingAuth("registry")])
    result = pipe.execute()
    assert result["status"] == "auth_failed"
    assert result["delivery"]["out"]["status"] == "skipped"
    assert result["delivery"]["out"]["error"] == "not delivered: auth step 'registry' failed: bad token"
    suites = {s.get("name"): s for s in build_junit(result, "rel")}
    assert suites["auth"].get("failures") == "1"
    failure = suites["auth"].find("testcase[@name='registry']/failure")
    assert failure is not None and failure.get("message") == "bad token"
    assert suites["deliver"].get("skipped") == "1"


def test_history_rows_and_the_v4_migration(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = database_at(path, 3)
    conn.execute("INSERT INTO pipelines (pipeline_id, name, status) VALUES ('old', 'ci', 'success')")
    conn.close()
    root = tmp_path / "proj"
    root.mkdir()
    with SqliteData(path) as data:
        assert schema_version(data) == SCHEMA_VERSION
        old = get_run(data, "old")
        assert old is not None and old["destination_runs"] == []
        pipe = release(root, data=data)
        result = pipe.execute()
        run = get_run(data, result["run_id"])
    assert run is not None
    rows = [
        (r["destination_id"], r["name"], Path(r["artifact"]).name, r["status"])
        for r in run["destination_runs"]
    ]
    assert rows == [("out", "directory", "a.whl", "success"), ("out", "directory", "b.whl", "success")]
    log = Path(run["destination_runs"][0]["log_path"])
    assert log == path.parent / "logs" / result["run_id"] / "destination+out.log"
    assert log.read_text().count("copied ") == 2
    assert run["destination_runs"][0]["details"] == {"path": str(root / "out" / "a.whl")}


def test_live_view_has_a_deliver_section(tmp_path: Path) -> None:
    from rich.console import Console

    root = tmp_path / "proj"
    root.mkdir()
    pipe = release(root)
    console = Console(record=True, width=100, file=open(os.devnull, "w"))  # noqa: SIM115 - closed below
    view = LiveProgress(pipe, console=console)
    pipe.hooks.append(view)
    try:
        result = pipe.execute()
        console.print(view)
        text = console.export_text()
        render_summary(result, console, 0.5, Failures(20, {}))
        summary = console.export_text()
    finally:
        console.file.close()
    lines = [line.split() for line in text.splitlines()]
    assert ["deliver"] in lines
    out_row = next(line for line in lines if "out" in line)
    assert out_row[:3] == ["ok", "out", "success"]
    assert lines.index(["deliver"]) > next(i for i, line in enumerate(lines) if "build" in line)
    rows = [line.split()[:3] for line in summary.splitlines()]
    assert ["build", "make", "success"] in rows and ["deliver", "out", "success"] in rows
    went = [line.strip() for line in summary.splitlines() if " -> " in line]
    assert went == [f"deliver/out {root / 'dist' / n} -> {root / 'out' / n}" for n in ("a.whl", "b.whl")]


def test_the_print_hook_shows_destinations(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    result = release(root, hook=PrintHook()).execute()
    assert result["status"] == "success"
    lines = capfd.readouterr().err.splitlines()
    assert "gryt: deliver/out started" in lines
    assert any(line.startswith("gryt: deliver/out success in ") for line in lines)


def test_a_symlink_inside_the_root_is_selected_by_its_own_name(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    script = BUILD + " && ln -s a.whl dist/latest.whl"
    runner = Runner([CommandStep("make", {"cmd": ["sh", "-c", script], "cwd": str(root)})])
    latest = DirectoryDestination("latest", {"path": str(root / "latest"), "artifacts": ["dist/latest.whl"]})
    result = Pipeline([runner], destinations=[latest], artifacts=["dist/*"], root=root).execute()
    assert result["status"] == "success", result.get("error")
    assert result["delivery"]["latest"]["artifacts"] == [str(root / "dist" / "latest.whl")]
    assert (root / "latest" / "latest.whl").read_text() == "one\n"


def test_a_symlinked_folder_out_of_the_root_is_an_error(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "private.whl").write_text("not ours")
    runner = Runner([CommandStep("link", {"cmd": ["ln", "-s", str(elsewhere), str(root / "dist")]})])
    out = DirectoryDestination("out", {"path": str(root / "out")})
    result = Pipeline([runner], destinations=[out], artifacts=["dist/*.whl"], root=root).execute()
    assert result["status"] == "error"
    error = result["delivery"]["out"]["error"]
    assert error.startswith(
        f"artifact {root / 'dist' / 'private.whl'} (from 'dist/*.whl') resolves through a symlink to"
    )
    assert str(elsewhere / "private.whl") in error
    assert not (root / "out").exists()


class TokenDestination(DirectoryDestination):
    """A directory destination that, like an upload plugin, names its token before the run."""

    def known_secrets(self) -> list[str]:
        return [os.environ.get("SHELF_TOKEN", "")]


def test_a_destination_names_its_secrets_before_any_step_prints_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = "shelf-tok-8d1f3a"
    monkeypatch.setenv("SHELF_TOKEN", token)
    root = tmp_path / "proj"
    root.mkdir()
    leak = CommandStep("leak", {"cmd": ["sh", "-c", f"{BUILD} && echo token=$SHELF_TOKEN"], "cwd": str(root)})
    shelf = TokenDestination("shelf", {"path": str(root / "out")})
    db = tmp_path / "g.db"
    pipeline = Pipeline(
        [Runner([leak], id="build")],
        destinations=[shelf],
        artifacts=["dist/*"],
        root=root,
        data=SqliteData(db),
    )
    result = pipeline.execute()
    assert result["status"] == "success", result.get("error")
    assert result["runners"]["build"]["leak"]["stdout"] == "token=***\n"
    assert token.encode() not in db.read_bytes()


class KeyedDestination(Destination):
    """A destination taking its token by the name in `token_env_var`, declared in `secret_env_keys`."""

    name = "keyed"
    secret_env_keys = ("token_env_var",)
    config_keys = (ConfigKey("token_env_var", str, "SHELF_TOKEN", "environment variable holding the token"),)

    def publish(self, artifacts: list[Path]) -> list[dict[str, Any]]:
        return []


def test_secret_env_keys_are_known_secrets_and_read_by_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHELF_TOKEN", raising=False)
    shelf = KeyedDestination("shelf")
    assert shelf.known_secrets() == []
    assert shelf.env_secret("token_env_var") == ""
    monkeypatch.setenv("SHELF_TOKEN", "  shelf-tok-8d1f3a\n")
    assert shelf.known_secrets() == ["shelf-tok-8d1f3a"]
    assert shelf.env_secret("token_env_var", {"SHELF_TOKEN": "other"}) == "other"
    assert DirectoryDestination("plain", {"path": "out"}).known_secrets() == []

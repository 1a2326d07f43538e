"""End to end with the engine: a Pipeline runs its validators first, reports every issue, runs no step."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gryt import CommandStep, LocalRuntime, Pipeline, Runner
from gryt.validators import (
    EnvVarValidator,
    FileValidator,
    GitValidator,
    Issue,
    PythonValidator,
    ToolValidator,
    Validator,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="stub tools are POSIX shell scripts")


class Recording(LocalRuntime):
    """A local runtime that notes whether the pipeline got as far as provisioning it."""

    def __init__(self) -> None:
        super().__init__()
        self.provisioned = False

    def provision(self) -> None:
        self.provisioned = True


class Exploding(Validator):
    """A validator whose own code crashes."""

    name = "exploding"

    def run(self) -> list[Issue]:
        raise RuntimeError("boom")


def touch_step(marker: Path) -> Runner:
    return Runner(
        [CommandStep("touch", {"cmd": [sys.executable, "-c", f"open({str(marker)!r}, 'w').close()"]})]
    )


def test_every_issue_reported_and_no_step_runs(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    stub_bin: Callable[[str, str], Path],
    git_env: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    monkeypatch.delenv("GRYT_E2E_TOKEN", raising=False)
    stub_bin("rustc", "echo 'rustc 1.95.0 (59807616e 2026-04-14)'")
    stub_bin("gryt-hang", "sleep 30")
    marker = tmp_path / "step-ran"
    runtime = Recording()
    pipeline = Pipeline(
        [touch_step(marker)],
        runtime=runtime,
        validators=[
            EnvVarValidator(required=["GRYT_E2E_TOKEN"]),
            ToolValidator(
                tools=[
                    {"name": "rustc", "min_version": "1.96"},
                    {"name": "gryt-hang", "min_version": "1", "timeout": 0.3},
                    "gryt-no-such-tool",
                ]
            ),
            Exploding(),
            FileValidator(paths=["Cargo.toml"], kind="file"),
            PythonValidator(version="<3", modules=["gryt_no_such_module"]),
            GitValidator(clean=True, branch="main", tag=True),
        ],
    )
    result: dict[str, Any] = pipeline.execute()
    assert result["status"] == "invalid_env"
    assert [(i["kind"], i["name"]) for i in result["issues"]] == [
        ("env_var_missing", "GRYT_E2E_TOKEN"),
        ("tool_version", "rustc"),
        ("tool_version", "gryt-hang"),
        ("tool_missing", "gryt-no-such-tool"),
        ("validator_error", "exploding"),
        ("file_missing", "Cargo.toml"),
        ("python_version", "python"),
        ("python_module", "gryt_no_such_module"),
        ("git_missing", "."),
    ]
    assert "timed out" in result["issues"][2]["message"]
    assert "boom" in result["issues"][4]["message"]
    assert not marker.exists()
    assert not runtime.provisioned
    assert not any(result["runners"].values())


def test_a_valid_environment_lets_the_pipeline_run(
    make_repo: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, stub_bin: Callable[[str, str], Path]
) -> None:
    repo = make_repo()
    monkeypatch.chdir(repo)
    monkeypatch.setenv("GRYT_E2E_TOKEN", "value")
    stub_bin("docker", "echo 'Docker version 28.2.2, build e6534b4'")
    marker = repo.parent / "step-ran"
    pipeline = Pipeline(
        [touch_step(marker)],
        validators=[
            EnvVarValidator(required=["GRYT_E2E_TOKEN"]),
            ToolValidator(tools=[{"name": "docker", "min_version": "28.2"}]),
            FileValidator(paths=["README.md"], kind="file"),
            PythonValidator(version=">=3.10", modules=["json"]),
            GitValidator(clean=True, branch="main"),
        ],
    )
    result = pipeline.execute()
    assert result["status"] == "success", result
    assert result["issues"] == []
    assert marker.exists()

"""Bad input to `gryt report` is one line on stderr and exit 2, and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from gryt.cli import app

from .conftest import record_run


def _report(monkeypatch: pytest.MonkeyPatch, cwd: Path, *args: str) -> tuple[int, str]:
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(app, ["report", *args], catch_exceptions=False)
    return result.exit_code, result.stderr


@pytest.fixture
def history(tmp_path: Path) -> Path:
    """A project with two recorded runs whose ids share a prefix."""
    db = tmp_path / ".gryt" / "gryt.db"
    db.parent.mkdir()
    record_run(db, "20261129T100000-aaaa1111", {"r": [("s", "success", 0.1, {})]})
    record_run(db, "20261129T100000-aaaa2222", {"r": [("s", "success", 0.1, {})]})
    return tmp_path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give a RUN id (or `last`), or --trend PIPELINE, but not both"),
        (("last", "--trend", "ci"), "give a RUN id (or `last`), or --trend PIPELINE, but not both"),
        (("nope",), "no run 'nope' (no id starts or ends with it); see `gryt runs list`"),
        (
            ("20261129T100000-aaaa",),
            "is ambiguous; it matches 20261129T100000-aaaa2222, 20261129T100000-aaaa1111",
        ),
    ],
)
def test_bad_arguments_are_one_line(
    monkeypatch: pytest.MonkeyPatch, history: Path, args: tuple[str, ...], message: str
) -> None:
    code, stderr = _report(monkeypatch, history, *args)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("gryt: error: ") and message in lines[0], stderr
    assert not (history / ".gryt" / "reports").exists()


def test_no_history_yet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    code, stderr = _report(monkeypatch, tmp_path, "last")
    assert (code, stderr.strip()) == (2, "gryt: error: no runs recorded yet: run a pipeline first")


def test_unwritable_output(monkeypatch: pytest.MonkeyPatch, history: Path) -> None:
    (history / "file").write_text("not a folder")
    code, stderr = _report(monkeypatch, history, "last", "-o", "file/report.html")
    assert code == 2
    assert stderr.strip().startswith("gryt: error: file/report.html: cannot write the report: ")
    assert len(stderr.strip().splitlines()) == 1


def test_not_a_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    code, stderr = _report(monkeypatch, tmp_path, "last", "--db", "junk.db")
    assert code == 2
    assert len(stderr.strip().splitlines()) == 1 and stderr.startswith("gryt: error: ")


def test_last_needs_two_runs_at_least(monkeypatch: pytest.MonkeyPatch, history: Path) -> None:
    code, stderr = _report(monkeypatch, history, "--trend", "ci", "--last", "1")
    assert code == 2
    assert "--last" in stderr


def test_a_missing_configured_database_is_warned_about_once(
    monkeypatch: pytest.MonkeyPatch, history: Path
) -> None:
    (history / ".gryt" / "config.toml").write_text('db = "elsewhere/x.db"\n')
    code, stderr = _report(monkeypatch, history, "20261129T100000-aaaa1111")
    assert code == 0
    assert stderr.strip().splitlines() == [
        "gryt: warning: elsewhere/x.db: no database there; reading .gryt/gryt.db"
    ]
    assert (history / ".gryt" / "reports" / "20261129T100000-aaaa1111.html").is_file()

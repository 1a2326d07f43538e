"""`gryt.commands.write_generated`: what plugin commands (`gryt ci github`, `gryt ci gitlab`) build on."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

from gryt.commands import write_generated
from gryt.errors import ConfigError


def test_writes_then_reports_up_to_date_and_checks(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    target = tmp_path / "ci" / "file.yml"
    with pytest.raises(typer.Exit) as missing:
        write_generated(target, "a: 1\n", check=True, command="gryt ci x")
    assert missing.value.exit_code == 1
    assert capsys.readouterr().err == "gryt: ci/file.yml is missing: run `gryt ci x` and commit it\n"
    assert not target.exists()

    assert write_generated(target, "a: 1\n", check=False, command="gryt ci x") is True
    assert target.read_text() == "a: 1\n"
    assert write_generated(target, "a: 1\n", check=True, command="gryt ci x") is False
    assert capsys.readouterr().out == "ci/file.yml is up to date\n"

    with pytest.raises(typer.Exit):
        write_generated(target, "a: 2\n", check=True, command="gryt ci x")
    assert "ci/file.yml is out of date" in capsys.readouterr().err
    assert target.read_text() == "a: 1\n"


def test_a_folder_in_the_way_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    with pytest.raises(ConfigError, match=r"taken: cannot read: "):
        write_generated(tmp_path / "taken", "x", check=False, command="gryt ci x")

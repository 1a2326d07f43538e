"""`env-vars` and `files` validators against the real environment and a real temp directory."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gryt.errors import ConfigError
from gryt_validators.env_vars import EnvVarValidator
from gryt_validators.files import FileValidator

SECRET = "s3cr3t-token-value"


def test_env_vars_reports_missing_and_blank_but_never_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRYT_T_PRESENT", SECRET)
    monkeypatch.setenv("GRYT_T_BLANK", " \t ")
    monkeypatch.setenv("GRYT_T_EMPTY", "")
    monkeypatch.delenv("GRYT_T_MISSING", raising=False)
    validator = EnvVarValidator(required=["GRYT_T_PRESENT", "GRYT_T_BLANK", "GRYT_T_EMPTY", "GRYT_T_MISSING"])
    issues = validator.run()
    assert [(i.kind, i.name) for i in issues] == [
        ("env_var_missing", "GRYT_T_BLANK"),
        ("env_var_missing", "GRYT_T_EMPTY"),
        ("env_var_missing", "GRYT_T_MISSING"),
    ]
    assert "blank" in issues[0].message
    assert "not set" in issues[2].message
    assert SECRET not in repr([i.to_dict() for i in issues])
    assert "\t" not in repr([i.to_dict() for i in issues])


def test_env_vars_all_present_gives_no_issue(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRYT_T_A", "1")
    assert EnvVarValidator(required=["GRYT_T_A"]).run() == []
    assert EnvVarValidator().run() == []


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"required": "GITHUB_TOKEN"}, "expected a list"),
        ({"required": ["OK", ""]}, r'required\[1\]: expected a non-empty string, got ""'),
        ({"required": [3]}, r"required\[0\]: expected a string, got 3"),
    ],
)
def test_env_vars_bad_config(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        EnvVarValidator(**kwargs)  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root with a file, a directory and a symlink to the file; the cwd is the root."""
    (tmp_path / "pyproject.toml").write_text("[project]\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "link.toml").symlink_to(tmp_path / "pyproject.toml")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_files_any_kind_relative_to_cwd(project: Path) -> None:
    paths = ["pyproject.toml", "src", "link.toml", "missing.txt", "src/nope/x", "pyproject.toml/x"]
    issues = FileValidator(paths=paths).run()
    assert [(i.kind, i.name) for i in issues] == [
        ("file_missing", "missing.txt"),
        ("file_missing", "src/nope/x"),
        ("file_missing", "pyproject.toml/x"),
    ]
    assert issues[0].message == "path missing.txt does not exist"
    assert issues[0].details == {"path": "missing.txt", "expected": "any", "found": None}


def test_files_kind_file_and_dir(project: Path) -> None:
    files = FileValidator(paths=["pyproject.toml", "link.toml", "src", "gone"], kind="file").run()
    assert [(i.name, i.message) for i in files] == [
        ("src", "src is a directory, expected a file"),
        ("gone", "file gone does not exist"),
    ]
    dirs = FileValidator(paths=["src", "pyproject.toml"], kind="dir").run()
    assert [(i.name, i.message) for i in dirs] == [
        ("pyproject.toml", "pyproject.toml is not a directory, expected a directory")
    ]


def test_files_follow_the_current_directory(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project / "src")
    [issue] = FileValidator(paths=["pyproject.toml"]).run()
    assert issue.name == "pyproject.toml"
    assert FileValidator(paths=["../pyproject.toml"]).run() == []


def test_files_unstatable_path_is_an_issue_not_an_exception(project: Path) -> None:
    too_long = "x" * 5000
    [issue] = FileValidator(paths=[too_long]).run()
    assert issue.kind == "file_missing"
    assert issue.message.startswith(f"cannot check {too_long}: ")
    assert issue.details is not None and issue.details["found"] is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions")
def test_files_unreadable_parent_is_an_issue_not_an_exception(project: Path) -> None:
    locked = project / "locked"
    (locked / "inner").mkdir(parents=True)
    locked.chmod(0)
    try:
        [issue] = FileValidator(paths=["locked/inner"]).run()
    finally:
        locked.chmod(0o755)
    assert issue.kind == "file_missing"
    assert "cannot check locked/inner" in issue.message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            {"paths": ["a"], "kind": "fiel"},
            'kind: expected one of "any", "file", "dir", got "fiel" \\(did you mean "file"\\?\\)',
        ),
        ({"paths": "README.md"}, "expected a list"),
        ({"paths": [""]}, r'paths\[0\]: expected a non-empty string, got ""'),
    ],
)
def test_files_bad_config(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        FileValidator(**kwargs)  # type: ignore[arg-type]

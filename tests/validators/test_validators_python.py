"""`python` validator against real interpreters: the one PATH finds, a fresh venv without gryt, none."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

from gryt.errors import ConfigError
from gryt_validators.python import PythonValidator

RUNNING = platform.python_version()
MAJOR, MINOR = sys.version_info[:2]


@pytest.fixture
def on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH whose only `python` runs this interpreter (the dev venv's, where gryt is installed)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "python"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} "$@"\n')
    shim.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    return shim


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real interpreter of the same version without gryt: what a step's `python` often is."""
    root = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True, timeout=120)
    return root / "bin" / "python"


def test_version_satisfied(on_path: Path) -> None:
    assert PythonValidator(version=">=3.10").run() == []
    assert PythonValidator(version=f"=={RUNNING}").run() == []
    assert PythonValidator(version=f"~={MAJOR}.{MINOR}").run() == []


def test_version_not_satisfied_names_the_interpreter_steps_run(on_path: Path) -> None:
    wanted = f">={MAJOR}.{MINOR + 1}"
    [issue] = PythonValidator(version=wanted).run()
    assert issue.kind == "python_version"
    assert issue.details == {"found": RUNNING, "required": wanted, "executable": str(on_path)}
    assert RUNNING in issue.message and wanted in issue.message and str(on_path) in issue.message


def test_no_version_means_only_a_presence_check(on_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert PythonValidator().run() == []
    monkeypatch.setenv("PATH", str(on_path.parent.parent))  # no python there
    [issue] = PythonValidator().run()
    assert issue.kind == "python_missing" and "no python or python3 found on PATH" in issue.message


def test_python3_is_used_when_there_is_no_python(on_path: Path) -> None:
    on_path.rename(on_path.with_name("python3"))
    [issue] = PythonValidator(version="<3").run()
    assert issue.details is not None and issue.details["executable"] == str(on_path.with_name("python3"))


def test_modules_are_checked_in_the_interpreter_on_path_not_in_gryts(
    bare_venv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", f"{bare_venv.parent}{os.pathsep}{os.environ['PATH']}")
    issues = PythonValidator(modules=["json", "gryt", "gryt_validators.python"]).run()
    assert [(i.kind, i.name) for i in issues] == [
        ("python_module", "gryt"),
        ("python_module", "gryt_validators.python"),
    ]
    assert str(bare_venv) in issues[0].message
    assert PythonValidator(modules=["gryt"], interpreter=sys.executable).run() == []


@pytest.fixture
def fake_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package on the interpreter's path whose code leaves a marker (and fails) if it is ever imported."""
    name = f"gryt_fake_pkg_{tmp_path.name.replace('-', '_')}"
    pkg = tmp_path / "site" / name
    (pkg / "sub").mkdir(parents=True)
    trap = f"open({str(tmp_path / 'imported')!r}, 'w').close()\nraise RuntimeError('imported')\n"
    (pkg / "__init__.py").write_text(trap)
    (pkg / "sub" / "__init__.py").write_text(trap)
    (pkg / "sub" / "leaf.py").write_text(trap)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path / "site"))
    return name


def test_modules_found_without_importing(on_path: Path, fake_pkg: str, tmp_path: Path) -> None:
    modules = ["json", "xml.etree.ElementTree", fake_pkg, f"{fake_pkg}.sub", f"{fake_pkg}.sub.leaf"]
    missing = [f"{fake_pkg}.nope", f"{fake_pkg}.sub.leaf.deeper", "gryt_no_such_module", "json.nope"]
    issues = PythonValidator(version=">=3.10", modules=modules + missing).run()
    assert [(i.kind, i.name) for i in issues] == [("python_module", m) for m in missing]
    assert not (tmp_path / "imported").exists()


def test_version_and_modules_reported_together(on_path: Path) -> None:
    issues = PythonValidator(version=f"<{MAJOR}.{MINOR}", modules=["gryt_no_such_module"]).run()
    assert [i.kind for i in issues] == ["python_version", "python_module"]


def test_a_named_interpreter_that_is_missing_or_broken(tmp_path: Path) -> None:
    [missing] = PythonValidator(version=">=3.10", interpreter=str(tmp_path / "nope")).run()
    assert missing.kind == "python_missing" and "nope" in missing.message
    broken = tmp_path / "broken"
    broken.write_text("#!/bin/sh\necho 'no such thing' >&2\nexit 3\n")
    broken.chmod(0o755)
    [issue] = PythonValidator(version=">=3.10", interpreter=str(broken)).run()
    assert issue.kind == "python_missing"
    assert f"cannot ask {broken}" in issue.message and "exit code 3: no such thing" in issue.message
    slow = tmp_path / "slow"
    slow.write_text("#!/bin/sh\nsleep 30\n")
    slow.chmod(0o755)
    [late] = PythonValidator(modules=["json"], interpreter=str(slow), timeout=0.3).run()
    assert "timed out after 0.3 s" in late.message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"version": "3.10+"}, "invalid version specifier"),
        ({"version": 3.10}, "expected a string"),
        ({"modules": ["not a module"]}, "expected dotted module names"),
        ({"modules": "json"}, "expected a list"),
        ({"interpreter": " "}, "interpreter: must not be empty"),
        ({"timeout": 0}, "timeout: expected a positive number <= 31536000, got 0"),
    ],
)
def test_bad_config(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        PythonValidator(**kwargs)  # type: ignore[arg-type]

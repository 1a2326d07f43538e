"""`python` validator against the real running interpreter and real modules on sys.path."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import pytest

from gryt.errors import ConfigError
from gryt_validators.python import PythonValidator, module_available

RUNNING = platform.python_version()
MAJOR, MINOR = sys.version_info[:2]


def test_version_satisfied() -> None:
    assert PythonValidator(version=">=3.10").run() == []
    assert PythonValidator(version=f"=={RUNNING}").run() == []
    assert PythonValidator(version=f"~={MAJOR}.{MINOR}").run() == []


def test_version_not_satisfied() -> None:
    wanted = f">={MAJOR}.{MINOR + 1}"
    [issue] = PythonValidator(version=wanted).run()
    assert issue.kind == "python_version"
    assert issue.details == {"found": RUNNING, "required": wanted, "executable": sys.executable}
    assert RUNNING in issue.message and wanted in issue.message


def test_no_version_means_no_check() -> None:
    assert PythonValidator().run() == []


@pytest.fixture
def fake_pkg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A package on sys.path whose code would leave a marker (and fail) if it were ever imported."""
    name = f"gryt_fake_pkg_{tmp_path.name.replace('-', '_')}"
    pkg = tmp_path / "site" / name
    (pkg / "sub").mkdir(parents=True)
    trap = f"open({str(tmp_path / 'imported')!r}, 'w').close()\nraise RuntimeError('imported')\n"
    (pkg / "__init__.py").write_text(trap)
    (pkg / "sub" / "__init__.py").write_text(trap)
    (pkg / "sub" / "leaf.py").write_text(trap)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return name


def test_modules_found_without_importing(fake_pkg: str, tmp_path: Path) -> None:
    for module in (fake_pkg, f"{fake_pkg}.sub", f"{fake_pkg}.sub.leaf"):
        assert module_available(module), module
    assert not module_available(f"{fake_pkg}.nope")
    assert not module_available(f"{fake_pkg}.sub.leaf.deeper")
    assert not (tmp_path / "imported").exists()
    assert fake_pkg not in sys.modules


def test_modules_report_every_missing_one(fake_pkg: str) -> None:
    modules = ["json", "xml.etree.ElementTree", f"{fake_pkg}.sub.leaf", "gryt_no_such_module", "json.nope"]
    issues = PythonValidator(version=">=3.10", modules=modules).run()
    assert [(i.kind, i.name) for i in issues] == [
        ("python_module", "gryt_no_such_module"),
        ("python_module", "json.nope"),
    ]
    assert sys.executable in issues[0].message


def test_version_and_modules_reported_together() -> None:
    issues = PythonValidator(version=f"<{MAJOR}.{MINOR}", modules=["gryt_no_such_module"]).run()
    assert [i.kind for i in issues] == ["python_version", "python_module"]


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"version": "3.10+"}, "invalid version specifier"),
        ({"version": 3.10}, "expected a string"),
        ({"modules": ["not a module"]}, "expected dotted module names"),
        ({"modules": "json"}, "expected a list"),
    ],
)
def test_bad_config(kwargs: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        PythonValidator(**kwargs)  # type: ignore[arg-type]

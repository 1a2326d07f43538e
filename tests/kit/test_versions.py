"""Each distribution's version has one source, `__version__` in its package, which hatchling reads into the
metadata: what the code reports equals what a build writes and what is installed."""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from _distributions import DISTRIBUTIONS, import_name
from build.util import project_wheel_metadata

from gryt import plugins
from gryt.plugins.discovery import Distribution

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = {
    **{name: (name, import_name(name)) for name in DISTRIBUTIONS},
    "gryt-webhook": ("examples/plugins/gryt-webhook", "gryt_webhook"),
}
"""Distribution -> (project folder, import package)."""
INSTALLED = DISTRIBUTIONS
"""The distributions `make` installs (editable) into the test venv; the webhook example is not installed."""


def runtime_version(folder: Path, module: str) -> str:
    """`module.__version__` as the code sees it; an uninstalled package is loaded from its own file."""
    if importlib.util.find_spec(module) is None:
        init = folder / "src" / module / "__init__.py"
        spec = importlib.util.spec_from_file_location(f"_version_probe_{module}", init)
        assert spec is not None and spec.loader is not None
        loaded = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loaded)
        return str(loaded.__version__)
    return str(importlib.import_module(module).__version__)


@pytest.mark.parametrize("distribution", sorted(PROJECTS))
def test_version_is_declared_once(distribution: str) -> None:
    folder, module = PROJECTS[distribution]
    meta = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())
    assert "version" not in meta["project"]
    assert meta["project"]["dynamic"] == ["version"]
    assert meta["tool"]["hatch"]["version"] == {"path": f"src/{module}/__init__.py"}


@pytest.mark.parametrize("distribution", sorted(PROJECTS))
def test_runtime_version_is_the_built_version(distribution: str) -> None:
    folder, module = PROJECTS[distribution]
    built = project_wheel_metadata(ROOT / folder, isolated=False)
    assert built["Name"] == distribution
    assert runtime_version(ROOT / folder, module) == built["Version"]


@pytest.mark.parametrize("distribution", INSTALLED)
def test_runtime_version_is_the_installed_version(distribution: str) -> None:
    folder, module = PROJECTS[distribution]
    installed = importlib.metadata.version(distribution)
    assert runtime_version(ROOT / folder, module) == installed, (
        f"{distribution}'s installed metadata is stale: reinstall it (make .venv/.installed)"
    )


def test_gryt_version_shows_the_installed_version() -> None:
    gryt = Path(sys.executable).with_name("gryt")
    done = subprocess.run([gryt, "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.splitlines()[0] == f"gryt-core {importlib.metadata.version('gryt-core')}"


def test_the_plugin_compatibility_check_runs_with_the_installed_version(tmp_path: Path) -> None:
    installed = importlib.metadata.version("gryt-core")

    def requiring(specifier: str) -> Distribution:
        folder = tmp_path / f"probe{len(list(tmp_path.iterdir()))}-1.0.dist-info"
        folder.mkdir()
        (folder / "METADATA").write_text(f"Name: probe\nVersion: 1.0\nRequires-Dist: gryt-core{specifier}\n")
        return Distribution(folder)

    assert plugins.incompatibility(requiring(f"=={installed}")) is None
    reason = plugins.incompatibility(requiring(f"!={installed}"))
    assert reason is not None and reason.endswith(f"(running {installed})")

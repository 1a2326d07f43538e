"""What `gryt --help`, `gryt --version` and `gryt plugins list` import, and Typer behaving as before.

Each runs with DeprecationWarnings as errors, next to a distribution whose METADATA has no Name: reading
a missing field as `importlib.metadata`'s `metadata[name]` warns on Python 3.12 and 3.13."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

DRIVER = """
import atexit, json, os, sys
atexit.register(lambda: open(os.environ["MODULES_OUT"], "w").write(json.dumps(sorted(sys.modules))))
sys.argv[0] = "gryt"
from gryt.cli import main
main()
"""

SLOW_TO_IMPORT = {"pluggy", "importlib.metadata", "importlib_metadata", "email", "packaging", "pydantic"}


def make_site(root: Path) -> Path:
    """One plugin distribution (a step type, a requirement on gryt-core) with one plugin command, and one
    without a Name, whose plugin is skipped."""
    site = root / "site"
    nameless = site / "gryt_nameless-1.0.dist-info"
    nameless.mkdir(parents=True)
    (nameless / "METADATA").write_text("Metadata-Version: 2.1\nVersion: 1.0\n")
    (nameless / "entry_points.txt").write_text(
        "[gryt]\nnameless = nowhere\n[gryt.commands]\nnope = nowhere:app\n"
    )
    info = site / "gryt_quick-1.2.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: gryt-quick\nVersion: 1.2.0\nRequires-Dist: gryt-core>=0.1,<99\n"
    )
    (info / "entry_points.txt").write_text(
        "[gryt]\nquick = gryt_quick\n[gryt.commands]\nquick-cmd = gryt_quick:app\n"
    )
    (site / "gryt_quick.py").write_text(
        textwrap.dedent(
            """
            from gryt import hookimpl

            @hookimpl
            def gryt_register_steps(register):
                from gryt.step import Step

                class Quick(Step):
                    name = "quick"

                    def run(self):
                        return {"status": "success"}

                register(Quick)
            """
        )
    )
    return site


def run_gryt(tmp_path: Path, *args: str, **env: str) -> tuple[str, set[str]]:
    site = make_site(tmp_path) if not (tmp_path / "site").exists() else tmp_path / "site"
    out = tmp_path / "modules.json"
    base = {k: v for k, v in os.environ.items() if not k.startswith("GRYT_")}
    done = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", DRIVER, *args],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={
            **base,
            "PYTHONPATH": str(site),
            "MODULES_OUT": str(out),
            "COLUMNS": "200",
            "NO_COLOR": "1",
            **env,
        },
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = set(json.loads(out.read_text()))
    return done.stdout, {m for m in SLOW_TO_IMPORT if any(n == m or n.startswith(f"{m}.") for n in modules)}


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_read_metadata_without_slow_imports(tmp_path: Path, args: list[str]) -> None:
    stdout, slow = run_gryt(tmp_path, *args)
    assert slow == set()
    if args == ["--help"]:
        assert "quick-cmd" in stdout and "gryt-quick 1.2.0" in stdout and "nope" not in stdout
    else:
        assert "quick-1.2.0" in stdout


def test_plugins_list_checks_a_plain_requirement_without_packaging_or_pydantic(tmp_path: Path) -> None:
    stdout, slow = run_gryt(
        tmp_path, "plugins", "list", GRYT_DISABLE_PLUGIN_AUTOLOAD="1", GRYT_PLUGINS="quick"
    )
    assert slow == {"pluggy"}
    assert "nameless" not in stdout
    quick = next(line for line in stdout.splitlines() if " quick " in line)
    assert "gryt-quick" in quick and " ok " in quick and "steps: quick" in quick


def test_distributions_without_metadata_are_skipped_without_warnings(tmp_path: Path) -> None:
    bare = make_site(tmp_path) / "gryt_bare-1.0.dist-info"
    bare.mkdir()
    (bare / "entry_points.txt").write_text(
        "[gryt]\nbare = nowhere\n[gryt.commands]\nbare-cmd = nowhere:app\n"
    )
    listing, _ = run_gryt(tmp_path, "plugins", "list")
    version, _ = run_gryt(tmp_path, "--version")
    help_text, _ = run_gryt(tmp_path, "--help")
    assert " quick " in listing and "quick-1.2.0" in version and "quick-cmd" in help_text
    assert not any("bare" in out or "nameless" in out for out in (listing, version, help_text))


def assert_listed_as_built(name: str, stand_in: Any, real: Any) -> None:
    """The `--help` listing of a lazy stand-in equals that of the command Typer builds."""
    for attribute in ("help", "short_help", "rich_help_panel", "hidden", "deprecated", "epilog"):
        assert getattr(stand_in, attribute) == getattr(real, attribute), (name, attribute)
    assert stand_in.get_short_help_str(60) == real.get_short_help_str(60)


def test_builtin_commands_are_listed_as_typer_builds_them() -> None:
    import typer.main

    from gryt.cli import COMMANDS, app
    from gryt.cli.lazy import BuiltinCommand

    root = typer.main.get_command(app)
    names = [name for name, _, _ in COMMANDS]
    assert list(root.commands)[: len(names)] == names  # type: ignore[attr-defined]
    for name in names:
        stand_in = root.commands[name]  # type: ignore[attr-defined]
        assert isinstance(stand_in, BuiltinCommand)
        real = stand_in.real_command()
        assert real.name == name and real.params
        assert_listed_as_built(name, stand_in, real)


def test_builtin_groups_are_listed_as_typer_builds_them() -> None:
    import typer.main

    from gryt.cli import COMMANDS, GROUPS, app
    from gryt.cli.lazy import BuiltinGroup

    root = typer.main.get_command(app)
    names = [name for name, _, _ in GROUPS]
    assert list(root.commands)[len(COMMANDS) :] == names  # type: ignore[attr-defined]
    for name, sub_app, _ in GROUPS:
        stand_in = root.commands[name]  # type: ignore[attr-defined]
        assert isinstance(stand_in, BuiltinGroup)
        real = stand_in.real_command()
        assert real.name == name
        assert sorted(real.commands) == sorted(c.name or "" for c in sub_app.registered_commands)
        assert_listed_as_built(name, stand_in, real)

"""`gryt init [PATH] [--force]`: create `.gryt/` with a database, a config and two example pipelines."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gryt.cli._common import open_data, reporting

CONFIG_TEMPLATE = """\
# gryt project config. Relative paths are relative to the project root (the folder holding .gryt/).
# Every key is optional; the values shown are the defaults. Reference: docs/pipelines.md

# SQLite database of the run history.
# db = ".gryt/gryt.db"

# Folder where `gryt run NAME` looks for NAME.toml or NAME.py.
# pipelines_dir = ".gryt/pipelines"

# Entry-point names of plugins not to load (see `gryt plugins list`).
# disable_plugins = []

# Run runners concurrently unless the pipeline or --sequential says otherwise.
# parallel = false

# Upper bound on concurrently running runners (default: no bound; 4 is only an example).
# max_parallel = 4

# Lines of each failed step's output `gryt run` shows (--tail N overrides); the full log is named below them.
# failure_tail = 20
"""

EXAMPLE_TOML = """\
# An example pipeline: run it with `gryt run example`. Reference: docs/pipelines.md
[pipeline]
name = "example"
parallel = true

[[runners]]
id = "hello"
steps = [
  { id = "greet", cmd = ["echo", "Hello from gryt"] },
  { id = "where", cmd = ["sh", "-c", "echo running in $(pwd)"] },
]

[[runners]]
id = "build"
needs = ["hello"]            # starts once "hello" succeeded
steps = [
  { id = "build", cmd = ["echo", "building..."], timeout = 60 },
]
"""

EXAMPLE_SCRIPT = '''\
"""An example Python pipeline: run it with `gryt run example_script`.

A pipeline script defines `PIPELINE` or a `build()` function returning a gryt Pipeline.
"""

from __future__ import annotations

import sys

from gryt import CommandStep, Pipeline, Runner


def build() -> Pipeline:
    python = sys.executable
    check = Runner(
        [
            CommandStep("python-version", {"cmd": [python, "--version"]}),
            CommandStep("python-hello", {"cmd": [python, "-c", "print('Hello from a Python pipeline')"]}),
        ],
        id="python",
    )
    return Pipeline([check], name="example_script")
'''

GITIGNORE = """\
# Run history and logs are local to this machine.
gryt.db
gryt.db-*
logs/
"""


def init(
    path: Annotated[Path, typer.Argument(help="Project folder (default: the current directory).")] = Path(),
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the config and the example pipelines.")
    ] = False,
) -> None:
    """Create .gryt/ with a database, a config and two example pipelines."""
    with reporting():
        from gryt.errors import ConfigError
        from gryt.project import CONFIG_FILE, GRYT_DIR, display_path

        root = path.expanduser().resolve()
        gryt_dir = root / GRYT_DIR
        pipelines = gryt_dir / "pipelines"
        files = {
            gryt_dir / CONFIG_FILE: CONFIG_TEMPLATE,
            pipelines / "example.toml": EXAMPLE_TOML,
            pipelines / "example_script.py": EXAMPLE_SCRIPT,
            gryt_dir / ".gitignore": GITIGNORE,
        }
        existing = [p for p in files if p.exists()]
        if existing and not force:
            names = ", ".join(display_path(p) for p in existing)
            raise ConfigError(
                f"{display_path(gryt_dir)}: already initialised ({names} exist); "
                "pass --force to overwrite the config and the examples (the database is kept)"
            )
        try:
            pipelines.mkdir(parents=True, exist_ok=True)
            for file, text in files.items():
                file.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"{display_path(root)}: cannot create {GRYT_DIR}/: {exc.strerror or exc}"
            ) from None
        db_path = gryt_dir / "gryt.db"
        open_data(db_path).close()
        typer.echo(f"Initialised gryt project in {display_path(root) if root != Path.cwd() else root}")
        typer.echo(f"  database:  {display_path(db_path)}")
        typer.echo(f"  config:    {display_path(gryt_dir / CONFIG_FILE)}")
        typer.echo(f"  pipelines: {display_path(pipelines)}/example.toml, example_script.py")
        typer.echo("Next: gryt run example")

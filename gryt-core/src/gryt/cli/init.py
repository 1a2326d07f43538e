"""`gryt init [PATH] [--format toml|py] [--force]`: create `.gryt/` with a database, a config and an example
pipeline (TOML unless asked: a `.py` file in the user's repository meets the user's own linters)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gryt.cli._common import open_data, reporting

CONFIG_TEMPLATE = """\
# gryt project config. Relative paths are relative to the project root (the folder holding .gryt/).
# Every key is optional; the values shown are the defaults. An unknown key is an error listing them all.

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
# An example pipeline: run it with `gryt run example`; `gryt validate example`
# checks it without running anything.
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

EXAMPLE_PY = '''\
"""An example pipeline: run it with `gryt run example`.

A Python pipeline defines `PIPELINE`, or a `build()` function returning a
gryt Pipeline. `gryt validate example` checks it without running anything.
"""

from __future__ import annotations

from gryt import CommandStep, Pipeline, Runner


def build() -> Pipeline:
    """Two runners: "build" starts once "hello" succeeded."""
    greet = CommandStep("greet", {"cmd": ["echo", "Hello from gryt"]})
    where = CommandStep(
        "where",
        {"cmd": ["sh", "-c", "echo running in $(pwd)"]},
    )
    package = CommandStep(
        "build",
        {"cmd": ["echo", "building..."], "timeout": 60},
    )
    return Pipeline(
        [
            Runner([greet, where], id="hello"),
            Runner([package], id="build", needs=["hello"]),
        ],
        name="example",
    )
'''
"""The same pipeline in Python, laid out as `ruff format` does at any line length from 79 on."""

EXAMPLES = {"toml": EXAMPLE_TOML, "py": EXAMPLE_PY}

GITIGNORE = """\
# Run history and logs are local to this machine.
gryt.db
gryt.db-*
logs/
cache/
"""


def init(
    path: Annotated[Path, typer.Argument(help="Project folder (default: the current directory).")] = Path(),
    fmt: Annotated[str, typer.Option("--format", help="Example pipeline format: toml or py.")] = "toml",
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Overwrite the config and the example pipeline; allow a project inside another project.",
        ),
    ] = False,
) -> None:
    """Create .gryt/ with a database, a config and an example pipeline."""
    with reporting():
        from gryt.errors import ConfigError
        from gryt.project import CONFIG_FILE, GRYT_DIR, display_path, find_root

        if fmt not in EXAMPLES:
            raise ConfigError(f"--format: unknown format {fmt!r}; use toml or py")
        root = path.expanduser().resolve()
        enclosing = find_root(root.parent) if find_root(root) != root else None
        if enclosing is not None and not force:
            marker = f"{GRYT_DIR}/" if (enclosing / GRYT_DIR).is_dir() else "[tool.gryt] in pyproject.toml"
            raise ConfigError(
                f"{display_path(enclosing)}: already a gryt project ({marker}) and gryt works from any folder "
                f"below it; pass --force to create a second project inside it, at {root}"
            )
        gryt_dir = root / GRYT_DIR
        pipelines = gryt_dir / "pipelines"
        example = pipelines / f"example.{fmt}"
        other = pipelines / f"example.{'py' if fmt == 'toml' else 'toml'}"
        if other.exists():
            raise ConfigError(
                f"{display_path(other)}: exists; an {example.name} next to it would make the name ambiguous"
            )
        files = {
            gryt_dir / CONFIG_FILE: CONFIG_TEMPLATE,
            example: EXAMPLES[fmt],
            gryt_dir / ".gitignore": GITIGNORE,
        }
        existing = [p for p in files if p.exists()]
        if existing and not force:
            names = ", ".join(display_path(p) for p in existing)
            raise ConfigError(
                f"{display_path(gryt_dir)}: already initialised ({names} exist); "
                "pass --force to overwrite the config and the example (the database is kept)"
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
        typer.echo(f"  pipeline:  {display_path(example)}")
        typer.echo("Next: gryt run example")

"""`gryt version current | bump LEVEL [--tag] [-m MSG]`: semver from the project's git tags."""

from __future__ import annotations

from typing import Annotated

import typer

from gryt.cli._common import open_data, open_project, reporting

app = typer.Typer(
    name="version",
    help="Show or bump the project version (semver git tags).",
    no_args_is_help=True,
    add_completion=False,
)

LEVELS = ("major", "minor", "patch", "prerelease")


@app.command("current")
def current() -> None:
    """Print the current version (the highest semver tag)."""
    with reporting():
        from gryt.versioning import SimpleVersioning

        project = open_project()
        typer.echo(SimpleVersioning(repo=str(project.root)).current_version())


@app.command("bump")
def bump(
    level: Annotated[str, typer.Argument(help="major, minor, patch or prerelease.")],
    tag: Annotated[
        bool, typer.Option("--tag", help="Create an annotated git tag for the new version.")
    ] = False,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Tag message (default: Release X).")
    ] = None,
    pre: Annotated[
        str | None, typer.Option("--pre", help="Prerelease label, e.g. rc (gives 1.3.0-rc.1).")
    ] = None,
) -> None:
    """Print the next version; with --tag also create the git tag and record it in the database."""
    with reporting():
        from gryt.config import did_you_mean
        from gryt.errors import ConfigError
        from gryt.versioning import SimpleVersioning

        if level not in LEVELS:
            raise ConfigError(f"{level}: unknown level{did_you_mean(level, LEVELS)}; use {', '.join(LEVELS)}")
        project = open_project()
        data = open_data(project.db) if tag else None
        try:
            versioning = SimpleVersioning(repo=str(project.root), data=data)
            version = versioning.bump_version(level, pre)
            tagged = versioning.tag_release(version, message or f"Release {version}") if tag else None
        finally:
            if data is not None:
                data.close()
        typer.echo(version)
        if tagged is not None:
            typer.echo(f"tagged {tagged['tag']} at {tagged['commit'][:12]}", err=True)

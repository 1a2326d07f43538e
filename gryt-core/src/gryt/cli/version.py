"""`gryt version current | bump LEVEL [--tag] [--dry-run] [--force] [-m MSG]`: versions from git tags."""

from __future__ import annotations

from typing import Annotated

import typer

from gryt.cli._common import open_data, open_project, reporting

app = typer.Typer(
    name="version",
    help="Show or bump the project version (semver or PEP 440 git tags).",
    no_args_is_help=True,
    add_completion=False,
)

LEVELS = ("major", "minor", "patch", "prerelease")


@app.command("current")
def current() -> None:
    """Print the current version (the highest semver or PEP 440 tag)."""
    with reporting():
        from gryt.versioning import SimpleVersioning

        project = open_project()
        typer.echo(SimpleVersioning(repo=str(project.root)).current_version())


@app.command("bump")
def bump(
    level: Annotated[str, typer.Argument(help="major, minor, patch or prerelease.")],
    *,
    tag: Annotated[
        bool, typer.Option("--tag", help="Create an annotated git tag for the new version.")
    ] = False,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Tag message (default: Release X).")
    ] = None,
    pre: Annotated[
        str | None,
        typer.Option("--pre", help="Prerelease label, e.g. rc (gives 1.3.0-rc.1, or 1.3rc1 for PEP 440)."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check and show what --tag would do, without tagging or recording."),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Tag even with uncommitted changes or a HEAD that already has a version tag."
        ),
    ] = False,
) -> None:
    """Print the next version; with --tag also create the git tag and record it in the database.

    --tag refuses uncommitted changes to tracked files and a HEAD that already carries a version tag,
    unless --force.
    """
    with reporting():
        from gryt.config import did_you_mean
        from gryt.errors import ConfigError
        from gryt.versioning import SimpleVersioning

        if level not in LEVELS:
            raise ConfigError(f"{level}: unknown level{did_you_mean(level, LEVELS)}; use {', '.join(LEVELS)}")
        project = open_project()
        if dry_run:
            versioning = SimpleVersioning(repo=str(project.root))
            version = versioning.bump_version(level, pre)
            if not force:
                versioning.check_release()
            commit = versioning.get_last_commit_hash()
            typer.echo(version)
            typer.echo(f"dry run: would tag {version} at {commit[:12]} (nothing tagged)", err=True)
            return
        data = open_data(project.db) if tag else None
        try:
            versioning = SimpleVersioning(repo=str(project.root), data=data)
            version = versioning.bump_version(level, pre)
            if tag and not force:
                versioning.check_release()
            tagged = versioning.tag_release(version, message or f"Release {version}") if tag else None
        finally:
            if data is not None:
                data.close()
        typer.echo(version)
        if tagged is not None:
            typer.echo(f"tagged {tagged['tag']} at {tagged['commit'][:12]}", err=True)

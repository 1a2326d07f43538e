"""The `gryt` console script: the command line with the garbage collector paused during start-up."""

from __future__ import annotations

from gryt import startup


def main() -> None:
    """Console entry point: `gryt.cli.main`, collection paused until the command starts (`gryt.startup`)."""
    startup.pause()
    try:
        from gryt.cli import main as cli_main

        cli_main()
    finally:
        startup.resume()

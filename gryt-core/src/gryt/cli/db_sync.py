"""`gryt db sync`: send the rows that runs kept in `.gryt/spool/` while their history server was lost."""

from __future__ import annotations

import typer

from gryt.cli._common import open_project, reporting, warning_line


def sync() -> None:
    """Send the run rows kept locally while the history server was lost; each batch lands once."""
    with reporting():
        from gryt.errors import ConfigError, GrytError
        from gryt.histories.select import open_remote
        from gryt.histories.spool import pending, send

        project = open_project()
        history = open_remote(project, read_only=False, warn=warning_line, local=project.db, fallback=False)
        if history is None:
            raise ConfigError(
                "no history server is configured (`history` or GRYT_HISTORY_URL): nothing to sync to"
            )
        try:
            files = pending(history.spool) if history.spool is not None else []
            sent = 0
            for path in files:
                try:
                    sent += send(history, path)
                except GrytError:
                    raise
                except Exception as exc:  # noqa: BLE001 - the driver's error, as one line; the file stays
                    raise ConfigError(
                        f"history {history.label}: could not send {path}: {' '.join(str(exc).split())};"
                        " run `gryt db sync` again"
                    ) from None
        finally:
            history.close()
        if not files:
            typer.echo(f"nothing to send: every run is in {history.label}")
            return
        typer.echo(f"sent {sent} batch(es) of {len(files)} run(s) to {history.label}")

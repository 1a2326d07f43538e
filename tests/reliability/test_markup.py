"""User-controlled text (pipeline names, runner and step ids, errors, step output) is shown as written by
every Rich view: never parsed as markup, so `ci[/x]` cannot crash a command, `rel[prod]` stays visible
and `:x:` is not turned into an emoji."""

from __future__ import annotations

import os
import pty
import subprocess

from .harness import GRYT, Project

PIPELINE = """\
[pipeline]
name = "ci[/x]"

[[runners]]
id = "rel[prod]"
steps = [{ id = "s[/b]:x:", cmd = ["sh", "-c", "echo '[/red] out [bold]'; echo 'boom [/]' >&2; exit 1"] }]
"""

SHOWN = ("ci[/x]", "rel[prod]", "s[/b]:x:")


def run_on_terminal(project: Project, *args: str) -> tuple[int, str]:
    """Run gryt with stdout and stderr on a pseudo-terminal, so the Rich live view and summary are used."""
    main, other = pty.openpty()
    proc = subprocess.Popen(
        [GRYT, *args],
        cwd=project.root,
        env={**project.env, "TERM": "xterm", "COLUMNS": "200"},
        stdin=subprocess.DEVNULL,
        stdout=other,
        stderr=other,
    )
    os.close(other)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the terminal's other side closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    return proc.wait(timeout=60), b"".join(chunks).decode(errors="replace")


def test_markup_like_names_and_output_are_shown_as_written(project: Project) -> None:
    project.write_pipeline("m.toml", PIPELINE)

    code, terminal = run_on_terminal(project, "run", "m")
    assert code == 1, terminal
    assert "Traceback" not in terminal and "MarkupError" not in terminal
    for text in (*SHOWN[1:], "x rel[prod]/s[/b]:x: error", "[/red] out [bold]", "boom [/]"):
        assert text in terminal, f"{text!r} not in the summary:\n{terminal}"

    plain = project.run("run", "m")
    assert plain.returncode == 1 and b"Traceback" not in plain.stderr

    listed = project.run("runs", "list")
    assert listed.returncode == 0, listed.stderr
    assert b"ci[/x]" in listed.stdout and b"Traceback" not in listed.stderr

    shown = project.run("runs", "show", "last")
    assert shown.returncode == 0, shown.stderr
    assert b"Traceback" not in shown.stderr
    for text in SHOWN:
        assert text.encode() in shown.stdout, f"{text!r} not in runs show:\n{shown.stdout.decode()}"

    code, terminal = run_on_terminal(project, "runs", "show", "last")
    assert code == 0 and "Traceback" not in terminal
    assert all(text in terminal for text in SHOWN), terminal

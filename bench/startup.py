"""CLI start-up: `gryt --help`, `gryt --version`, `gryt plugins list` with the first-party distributions plus
50 synthetic plugins installed, versus a minimal Typer app's `--help` in the same venv.
Targets: `--help` <= 1.3x, `plugins list` <= 1.6x.

Every module is byte-compiled first, as an installer does: with PYTHONDONTWRITEBYTECODE set, an editable
gryt or the synthetic plugins would otherwise be compiled from source on every run, which no installed
gryt does."""

from __future__ import annotations

import compileall
import os
import subprocess
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from _harness import ROOT, VENV_BIN, finish, header, interleave, parse_args, ratio_line

FIRST_PARTY_SOURCES = ("gryt-core/src", "gryt-auth-fly/src", "gryt-auth-docker/src", "gryt-validators/src")

MINIMAL_TYPER = textwrap.dedent(
    """
    import typer
    app = typer.Typer()
    @app.command()
    def hello(name: str = "world") -> None:
        typer.echo(name)
    @app.command()
    def bye() -> None:
        typer.echo("bye")
    app()
    """
)


def write_synthetic_plugins(site: Path, count: int) -> None:
    """Install `count` tiny plugins by writing their modules and .dist-info folders onto a path entry."""
    for i in range(count):
        module = f"gryt_synth_{i}"
        (site / f"{module}.py").write_text(
            textwrap.dedent(
                f"""
                from gryt import hookimpl

                @hookimpl
                def gryt_register_destinations(register):
                    from gryt.destination import Destination

                    class Synth(Destination):
                        name = "synth-{i}"
                        summary = "Synthetic destination {i}"

                        def publish(self, artifacts):
                            return [{{"artifact": str(a), "status": "success"}} for a in artifacts]

                    register(Synth)
                """
            )
        )
        info = site / f"gryt_synth_{i}-1.0.0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: gryt-synth-{i}\nVersion: 1.0.0\nRequires-Dist: gryt-core>=0.1\n"
        )
        (info / "entry_points.txt").write_text(f"[gryt]\nsynth{i} = {module}\n")


def main() -> None:
    args = parse_args(__doc__ or "")
    count = 5 if args.smoke else 50
    repeat = args.repeat if args.smoke else max(args.repeat, 10)
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        site.mkdir()
        write_synthetic_plugins(site, count)
        for folder in (site, *(Path(ROOT, src) for src in FIRST_PARTY_SOURCES)):
            compileall.compile_dir(folder, quiet=1)
        app = Path(tmp) / "minimal_typer.py"
        app.write_text(MINIMAL_TYPER)
        env = {**os.environ, "PYTHONPATH": str(site), "NO_COLOR": "1", "COLUMNS": "120"}
        gryt = os.path.join(VENV_BIN, "gryt")
        python = os.path.join(VENV_BIN, "python")

        def command(*argv: str) -> Callable[[], None]:
            def run() -> None:
                subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tmp)

            return run

        listing = subprocess.run(
            [gryt, "plugins", "list", "--json"], env=env, check=True, capture_output=True, text=True
        )
        assert listing.stdout.count('"synth') >= count, "synthetic plugins were not discovered"
        samples = interleave(
            {
                "typer": command(python, str(app), "--help"),
                "help": command(gryt, "--help"),
                "version": command(gryt, "--version"),
                "plugins": command(gryt, "plugins", "list"),
            },
            repeat,
        )
    header(f"start-up with {count} synthetic plugins + first-party plugins")
    base = samples["typer"]
    print(ratio_line("minimal Typer --help (baseline)", base, base, None)[0])
    rows = [
        ("gryt --help", "help", 1.3),
        ("gryt --version", "version", 1.3),
        ("gryt plugins list", "plugins", 1.6),
    ]
    all_ok = True
    for label, key, target in rows:
        row, ok = ratio_line(label, samples[key], base, target)
        all_ok &= ok
        print(row)
    finish(all_ok, args.smoke)


if __name__ == "__main__":
    main()

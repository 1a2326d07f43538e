"""CLI start-up: `gryt --help`, `gryt --version`, `gryt plugins list` and `gryt run` of a one-step pipeline,
with the first-party distributions plus 51 synthetic plugins installed (55 plugins), versus a minimal Typer
app's `--help` in the same venv. Targets: `--help` <= 1.3x, `--version` <= 1.3x, `plugins list` <= 1.6x.

`--metadata-variants` also runs every gryt command with `gryt.plugins.discovery.scan` done by `importlib_metadata`
(the current release from the package index, installed into a scratch folder with pip) and by the standard
library's `importlib.metadata`, and gives them as ratios to the working tree's hand-written reader too: the
measurement behind keeping that reader (docs/performance.md, "Plugin discovery").

Every module is byte-compiled first, as an installer does: with PYTHONDONTWRITEBYTECODE set, an editable
gryt or the synthetic plugins would otherwise be compiled from source on every run, which no installed
gryt does."""

from __future__ import annotations

import compileall
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from _harness import (
    ROOT,
    VENV_BIN,
    Sample,
    compile_first_party,
    finish,
    header,
    interleave,
    parse_args,
    ratio_line,
)

SYNTHETIC = 51
"""Synthetic plugins; with gryt-core's built-ins and the three first-party plugins, 55 plugins."""

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

ONE_STEP_PIPELINE = """
[pipeline]
name = "one"

[[runners]]
id = "only"
steps = [{ id = "true", cmd = ["true"] }]
"""

METADATA_SCAN = textwrap.dedent(
    """

    def scan(groups, path=None):
        \"\"\"Benchmark variant: entry points as `{module}.entry_points()` finds them (first distribution of
        a name on the path wins), one without a Name skipped, sorted like the reader's.\"\"\"
        import {module} as metadata

        found = {{group: [] for group in groups}}
        seen = set()
        for dist in metadata.distributions(**({{}} if path is None else {{"path": list(path)}})):
            key = dist._normalized_name
            if key in seen:
                continue
            seen.add(key)
            eps = [ep for ep in dist.entry_points if ep.group in found]
            name = dist.metadata.get("Name") if eps else None
            for ep in eps if name else ():
                found[ep.group].append((ep.name, name, ep))
        return {{g: [ep for *_, ep in sorted(eps, key=lambda t: t[:2])] for g, eps in found.items()}}
    """
)
"""Appended to a copy of gryt/plugins/discovery.py, replacing its `scan` (which everything else calls)."""

COMMANDS: list[tuple[str, str, tuple[str, ...], float | None]] = [
    ("gryt --help", "help", ("--help",), 1.3),
    ("gryt --version", "version", ("--version",), 1.3),
    ("gryt plugins list", "plugins", ("plugins", "list"), 1.6),
    ("gryt run, one step", "run", ("run", "one.toml", "--in-memory"), None),
]
"""Label, key, gryt's arguments, target ratio to the baseline (working tree only)."""


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


def metadata_variants(tmp: Path) -> dict[str, str]:
    """Label suffix -> PYTHONPATH prefix of gryt-core's sources with `scan` done by `importlib_metadata` (its
    current release, installed with pip: " [backport]") and by the standard library's `importlib.metadata`
    (" [stdlib]")."""
    package = tmp / "importlib-metadata"
    pip = [os.path.join(VENV_BIN, "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--target", str(package), "importlib-metadata"], check=True, capture_output=True)
    release = next(package.glob("importlib_metadata-*.dist-info")).name.removesuffix(".dist-info")
    print(
        f"[backport]: {release} from the package index; [stdlib]: importlib.metadata of {sys.version.split()[0]}"
    )
    variants = {}
    for label, module, prefix in (
        (" [backport]", "importlib_metadata", f"{package}{os.pathsep}"),
        (" [stdlib]", "importlib.metadata", ""),
    ):
        source = tmp / module / "src"
        shutil.copytree(Path(ROOT, "gryt-core/src"), source, ignore=shutil.ignore_patterns("__pycache__"))
        with (source / "gryt" / "plugins" / "discovery.py").open("a") as discovery:
            discovery.write(METADATA_SCAN.format(module=module))
        compileall.compile_dir(source, quiet=1)
        variants[label] = f"{prefix}{source}{os.pathsep}"
    compileall.compile_dir(package, quiet=1)
    return variants


def main() -> None:
    with_variants = "--metadata-variants" in sys.argv
    if with_variants:
        sys.argv.remove("--metadata-variants")
    args = parse_args(__doc__ or "")
    count = 5 if args.smoke else SYNTHETIC
    repeat = args.repeat if args.smoke else max(args.repeat, 10)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        site = tmp / "site"
        site.mkdir()
        write_synthetic_plugins(site, count)
        compileall.compile_dir(str(site), quiet=1)
        compile_first_party()
        app = tmp / "minimal_typer.py"
        app.write_text(MINIMAL_TYPER)
        (tmp / "one.toml").write_text(ONE_STEP_PIPELINE)
        base_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "120"}
        gryt = os.path.join(VENV_BIN, "gryt")
        python = os.path.join(VENV_BIN, "python")

        def command(prefix: str, *argv: str) -> Callable[[], None]:
            env = {**base_env, "PYTHONPATH": f"{prefix}{site}"}

            def run() -> None:
                subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tmp)

            return run

        variants = {"": "", **(metadata_variants(tmp) if with_variants else {})}
        for prefix in variants.values():
            listing = subprocess.run(
                [gryt, "plugins", "list", "--json"],
                env={**base_env, "PYTHONPATH": f"{prefix}{site}"},
                check=True,
                capture_output=True,
                text=True,
            )
            plugins = json.loads(listing.stdout)
            assert sum(p["name"].startswith("synth") for p in plugins) == count, (
                "synthetic plugins not discovered"
            )
        measured = {"typer": command("", python, str(app), "--help")}
        for suffix, prefix in variants.items():
            for _, key, argv, _ in COMMANDS:
                measured[key + suffix] = command(prefix, gryt, *argv)
        samples = interleave(measured, repeat)
    header(f"start-up with {len(plugins)} plugins ({count} synthetic)")
    base = samples["typer"]
    print(ratio_line("minimal Typer --help (baseline)", base, base, None)[0])
    all_ok = True
    for label, key, _, target in COMMANDS:
        row, ok = ratio_line(label, samples[key], base, target)
        all_ok &= ok
        print(row)
    if with_variants:
        print_variants(samples, list(variants)[1:])
    finish(all_ok, args.smoke)


def print_variants(samples: dict[str, Sample], suffixes: list[str]) -> None:
    """Each discovery variant's commands against the minimal Typer app, then against the working tree."""
    for title, baseline in (("minimal Typer --help", None), ("the working tree's same command", "")):
        header(f"discovery variants, baseline: {title}")
        for suffix in suffixes:
            for label, key, _, _ in COMMANDS:
                base = samples["typer" if baseline is None else key]
                print(ratio_line(f"{label}{suffix}", samples[key + suffix], base, None)[0])


if __name__ == "__main__":
    main()

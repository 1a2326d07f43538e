"""The step-overhead workload (200 x `true`) in gryt, nox (--no-venv, one session) and doit (200 tasks), each
run as its whole command line, side by side. nox and doit are installed into a cached venv (.venv-peers).

gryt's first-party sources are byte-compiled first, as pip did for nox and doit when it installed them: with
PYTHONDONTWRITEBYTECODE set, an editable gryt would otherwise be compiled from source on every run, which no
installed gryt does (bench/startup.py does the same)."""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from _harness import ROOT, VENV_BIN, finish, header, interleave, parse_args, ratio_line

PEERS_VENV = Path(ROOT) / ".venv-peers"
FIRST_PARTY_SOURCES = ("gryt-core/src", "gryt-auth-fly/src", "gryt-auth-docker/src", "gryt-validators/src")


def peers_bin() -> Path:
    """A venv with nox and doit, created once and reused."""
    bin_dir = PEERS_VENV / "bin"
    if not (bin_dir / "nox").exists() or not (bin_dir / "doit").exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "nox", "doit"], check=True)
    return bin_dir


def write_projects(tmp: Path, n: int) -> None:
    (tmp / "noxfile.py").write_text(
        textwrap.dedent(
            f"""
            import nox

            @nox.session(python=False)
            def bench(session):
                for _ in range({n}):
                    session.run("true", external=True, silent=True)
            """
        )
    )
    (tmp / "dodo.py").write_text(
        textwrap.dedent(
            f"""
            def task_t():
                for i in range({n}):
                    yield {{"name": str(i), "actions": [["true"]], "verbosity": 0}}
            """
        )
    )
    pipelines = tmp / ".gryt" / "pipelines"
    pipelines.mkdir(parents=True)
    steps = ",\n".join(f'  {{ id = "s{i}", cmd = ["true"] }}' for i in range(n))
    (pipelines / "bench.toml").write_text(
        f'[pipeline]\nname = "bench"\n\n[[runners]]\nid = "r"\nsteps = [\n{steps}\n]\n'
    )


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 20 if args.smoke else 200
    bin_dir = peers_bin()
    for source in FIRST_PARTY_SOURCES:
        compileall.compile_dir(Path(ROOT, source), quiet=1)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_projects(tmp, n)
        env = {**os.environ, "NO_COLOR": "1"}

        def command(*argv: str) -> Callable[[], None]:
            def run() -> None:
                subprocess.run(
                    argv, cwd=tmp, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                )

            return run

        samples = interleave(
            {
                "gryt": command(os.path.join(VENV_BIN, "gryt"), "run", "bench"),
                "nox": command(str(bin_dir / "nox"), "--no-venv", "-s", "bench"),
                "doit": command(str(bin_dir / "doit"), "-f", "dodo.py"),
            },
            args.repeat,
        )
    header(f"peers: {n} x `true`, whole command, ratio against gryt")
    base = samples["gryt"]
    for label in ("gryt", "nox", "doit"):
        print(ratio_line(label, samples[label], base, None)[0])
    fastest = min(samples.values(), key=lambda s: s.median).name
    print(f"fastest: {fastest}")
    finish(fastest == "gryt", args.smoke)


if __name__ == "__main__":
    main()

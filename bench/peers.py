"""The step-overhead workload (200 x `true`) in gryt, nox (--no-venv, one session) and doit (200 tasks), each
run as its whole command line, side by side. nox and doit are installed into a cached venv (.venv-peers).

gryt's first-party sources (every `gryt-*/src`) are byte-compiled first, as pip did for nox and doit when it
installed them: with PYTHONDONTWRITEBYTECODE set, an editable gryt would otherwise be compiled from source on
every run, which no installed gryt does (bench/startup.py does the same).

Besides wall time, each variant's CPU time (user + system of the command and everything it ran, from
`getrusage`) is shown: on a loaded machine it moves much less than wall time. `--before DIR` adds the gryt of
another source tree (e.g. a `git archive` of an earlier commit, byte-compiled like this one) as "gryt (before)",
run with `PYTHONPATH` set to its `gryt-*/src` folders through its console entry point (`gryt.entry.main`, or
`gryt.cli.main` in trees older than it). Every import then searches those folders first, which costs the
before variant about 6 % more instructions for a one-step run than the console script."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path

from _harness import (
    VENV_BIN,
    compile_first_party,
    finish,
    header,
    interleave,
    parse_args,
    ratio_line,
    tools_venv,
)


def peers_bin() -> Path:
    """A venv with nox and doit, created once and reused (.venv-peers)."""
    return tools_venv(".venv-peers", "nox", "doit")


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


def children_cpu() -> float:
    """CPU seconds used so far by this process's waited-for children and their descendants."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    before = None
    if "--before" in sys.argv:
        at = sys.argv.index("--before")
        before = Path(sys.argv[at + 1]).resolve()
        del sys.argv[at : at + 2]
    args = parse_args(__doc__ or "")
    n = 20 if args.smoke else 200
    bin_dir = peers_bin()
    compile_first_party()
    before_sources = compile_first_party(before) if before is not None else []
    cpu: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        write_projects(tmp, n)
        env = {**os.environ, "NO_COLOR": "1"}

        def command(label: str, *argv: str, extra: dict[str, str] | None = None) -> Callable[[], None]:
            def run() -> None:
                used = children_cpu()
                subprocess.run(
                    argv,
                    cwd=tmp,
                    env={**env, **(extra or {})},
                    check=True,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                cpu.setdefault(label, []).append(children_cpu() - used)

            return run

        variants = {
            "gryt": command("gryt", os.path.join(VENV_BIN, "gryt"), "run", "bench"),
            "nox": command("nox", str(bin_dir / "nox"), "--no-venv", "-s", "bench"),
            "doit": command("doit", str(bin_dir / "doit"), "-f", "dodo.py"),
        }
        if before is not None:
            entry = "gryt.entry" if (before / "gryt-core/src/gryt/entry.py").exists() else "gryt.cli"
            variants["gryt (before)"] = command(
                "gryt (before)",
                sys.executable,
                "-c",
                f"import sys; sys.argv[0] = 'gryt'; from {entry} import main; sys.exit(main())",
                "run",
                "bench",
                extra={"PYTHONPATH": os.pathsep.join(before_sources)},
            )
        samples = interleave(variants, args.repeat)
    header(f"peers: {n} x `true`, whole command, ratio against gryt")
    base = samples["gryt"]
    for label in variants:
        print(ratio_line(label, samples[label], base, None)[0])
    for label in variants:
        spent = cpu[label]
        print(f"{label + ' CPU':<34} {statistics.median(spent):>9.3f}s  {min(spent):.3f}-{max(spent):.3f}")
    samples.pop("gryt (before)", None)
    fastest = min(samples.values(), key=lambda s: s.median).name
    print(f"fastest: {fastest}")
    finish(fastest == "gryt", args.smoke)


if __name__ == "__main__":
    main()

"""Shared benchmark harness: interleaved repetitions, medians, min-max and ratios against a baseline.

Absolute times on a noisy 2-core VM mean little, so every benchmark compares gryt with a baseline measured
in the same process, alternating the two so drift hits both alike.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")


def compile_first_party(root: str | Path = ROOT) -> list[str]:
    """Byte-compile the source folder of every first-party distribution (`gryt-*/src`) of the tree at `root`
    (this one, which the editable .venv imports, unless told) and return the folders.

    Benchmarks compile them before timing, as an installer does: with PYTHONDONTWRITEBYTECODE set, an
    editable gryt would otherwise be compiled from source on every run, which no installed gryt does.
    """
    sources = sorted(str(path) for path in Path(root).glob("gryt-*/src"))
    for source in sources:
        compileall.compile_dir(source, quiet=1)
    return sources


def tools_venv(name: str, *tools: str) -> Path:
    """The bin folder of venv ROOT/`name` holding the peer `tools` (PyPI names, also their commands),
    created on first use and reused by later benchmark runs."""
    venv = Path(ROOT) / name
    bin_dir = venv / "bin"
    if not all((bin_dir / tool).exists() for tool in tools):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(bin_dir / "pip"), "install", "--quiet", *tools], check=True)
    return bin_dir


@dataclass
class Sample:
    """Wall-clock times of one measured variant."""

    name: str
    times: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    def span(self) -> str:
        return f"{min(self.times):.3f}-{max(self.times):.3f}"


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: only check that it runs")
    parser.add_argument("--repeat", type=int, default=None, help="interleaved repetitions")
    args = parser.parse_args()
    if args.repeat is None:
        args.repeat = 1 if args.smoke else 5
    return args


def interleave(variants: Mapping[str, Callable[[], object]], repeat: int) -> dict[str, Sample]:
    """Run each variant `repeat` times, alternating between them, and keep every wall time."""
    samples = {name: Sample(name, []) for name in variants}
    for _ in range(repeat):
        for name, fn in variants.items():
            start = time.perf_counter()
            fn()
            samples[name].times.append(time.perf_counter() - start)
    return samples


def ratio_line(label: str, sample: Sample, baseline: Sample, target: float | None) -> tuple[str, bool]:
    """One table row: median, min-max, ratio of medians to the baseline, and whether the target holds."""
    ratio = sample.median / baseline.median if baseline.median > 0 else float("inf")
    ok = target is None or ratio <= target
    verdict = "" if target is None else ("meets" if ok else "MISSES")
    goal = "" if target is None else f"<= {target:g}"
    row = f"{label:<34} {sample.median:>9.3f}s  {sample.span():>15}  {ratio:>6.2f}x  {goal:>7} {verdict}"
    return row, ok


def header(title: str) -> None:
    print(f"\n== {title}  (python {sys.version.split()[0]}, {os.cpu_count()} cpus)")
    print(f"{'variant':<34} {'median':>10}  {'min-max':>15}  {'ratio':>7}  {'target':>7}")


def finish(all_ok: bool, smoke: bool) -> None:
    """Smoke runs only check that the benchmark runs; full runs report target misses in the exit code."""
    if smoke:
        print("smoke run: sizes too small for the targets to mean anything; only checks that it runs")
    elif not all_ok:
        print("some targets were missed")
        sys.exit(1)

"""Parallel efficiency: 8 runners of `sleep 0.5` with max_parallel=8, and 16 with max_parallel=4.
Efficiency = ideal wall time / measured wall time. Target: >= 0.9.

Scheduling cost: chains of N one-step runners (each needs the one before; the step does nothing), run
sequentially and in parallel. The cost per runner must stay flat as N grows: the ratio of ms/runner at
N = 4,000 to ms/runner at N = 250 (the baseline, measured in the same process). Target: <= 1.5."""

from __future__ import annotations

import functools
import math
import statistics
import time
from typing import Any

from _harness import finish, header, interleave, parse_args

from gryt import CommandStep, Pipeline, Runner, Step

CHAIN_SIZES = (250, 500, 1000, 2000, 4000)
SMOKE_CHAIN_SIZES = (25, 50)
FLAT_TARGET = 1.5


def efficiency(runners: int, max_parallel: int, sleep: float) -> tuple[float, float]:
    pipeline = Pipeline(
        [
            Runner([CommandStep(f"sleep{i}", {"cmd": ["sleep", str(sleep)]})], id=f"r{i}")
            for i in range(runners)
        ],
        max_parallel=max_parallel,
    )
    start = time.perf_counter()
    result = pipeline.execute(parallel=True)
    wall = time.perf_counter() - start
    assert result["status"] == "success", result["status"]
    ideal = math.ceil(runners / max_parallel) * sleep
    return ideal / wall, wall


class Noop(Step):
    """A step that does nothing, so the chains measure the engine, not subprocesses."""

    def run(self) -> dict[str, Any]:
        return {"status": "success"}


def run_chains(n: int, parallel: bool, runners: int) -> None:
    """Build and execute chains of `n` one-step runners (each needs the previous one), `runners` in all."""
    for _ in range(max(1, runners // n)):
        chain = [Runner([Noop(f"s{i}")], id=f"r{i}", needs=[f"r{i - 1}"] if i else []) for i in range(n)]
        result = Pipeline(chain).execute(parallel=parallel)
        assert result["status"] == "success", result["status"]


def scheduling(sizes: tuple[int, ...], repeat: int) -> bool:
    """Print ms/runner per chain size and mode; True when the largest size stays within the target.

    Every sample runs as many runners in all (one chain of the largest size, or several smaller ones),
    and the sizes alternate, so load drift on a shared machine hits them alike."""
    runners = sizes[-1]
    print(f"\n== scheduling: chains of one-step runners, {runners} runners per sample, median of {repeat}")
    print(f"{'mode':<10} {'chain':>6}  {'ms/runner':>9}  {'min-max':>13}  {'vs ' + str(sizes[0]):>7}  target")
    all_ok = True
    for parallel in (False, True):
        mode = "parallel" if parallel else "sequential"
        variants = {str(n): functools.partial(run_chains, n, parallel, runners) for n in sizes}
        samples = interleave(variants, repeat)
        per_runner = {
            n: [t * 1000 / (max(1, runners // n) * n) for t in samples[str(n)].times] for n in sizes
        }
        base = statistics.median(per_runner[sizes[0]])
        for n, times in per_runner.items():
            median = statistics.median(times)
            ratio = median / base
            verdict = ""
            if n == sizes[-1]:
                ok = ratio <= FLAT_TARGET
                all_ok &= ok
                verdict = f"<= {FLAT_TARGET:g} {'meets' if ok else 'MISSES'}"
            spread = f"{min(times):.4f}-{max(times):.4f}"
            print(f"{mode:<10} {n:>6}  {median:>9.4f}  {spread:>13}  {ratio:>6.2f}x  {verdict}")
    return all_ok


def main() -> None:
    args = parse_args(__doc__ or "")
    sleep = 0.05 if args.smoke else 0.5
    header("parallel runners")
    all_ok = True
    for runners, max_parallel in ((8, 8), (16, 4)):
        effs = sorted(efficiency(runners, max_parallel, sleep)[0] for _ in range(args.repeat))
        median = effs[len(effs) // 2]
        ok = median >= 0.9
        all_ok &= ok
        label = f"{runners} runners, max_parallel={max_parallel}"
        verdict = "meets" if ok else "MISSES"
        print(f"{label:<34} efficiency {median:.3f} (min-max {effs[0]:.3f}-{effs[-1]:.3f})  >= 0.9 {verdict}")
    sizes = SMOKE_CHAIN_SIZES if args.smoke else CHAIN_SIZES
    all_ok &= scheduling(sizes, args.repeat if args.smoke else 3)
    finish(all_ok, args.smoke)


if __name__ == "__main__":
    main()

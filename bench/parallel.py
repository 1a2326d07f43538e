"""Parallel efficiency: 8 runners of `sleep 0.5` with max_parallel=8, and 16 with max_parallel=4.
Efficiency = ideal wall time / measured wall time. Target: >= 0.9."""

from __future__ import annotations

import math
import time

from _harness import finish, header, parse_args

from gryt import CommandStep, Pipeline, Runner


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
    finish(all_ok, args.smoke)


if __name__ == "__main__":
    main()

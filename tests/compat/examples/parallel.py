"""gryt-ci 1.x's parallel example, rewritten from its documented behaviour: runners on threads.

Two runners of two half-second steps each run concurrently, so the whole run takes about one
second instead of two. Usage: `python parallel.py DB_PATH`; exits 0 when both runners succeeded.
"""

from __future__ import annotations

import sys
import time

from gryt import CommandStep, Pipeline, Runner, SqliteData

NAP = [sys.executable, "-c", "import time; time.sleep(0.5)"]


def main(db_path: str) -> int:
    data = SqliteData(db_path)
    frontend = Runner([CommandStep("lint", {"cmd": NAP}), CommandStep("bundle", {"cmd": NAP})], data=data)
    backend = Runner([CommandStep("test", {"cmd": NAP}), CommandStep("package", {"cmd": NAP})], data=data)
    started = time.monotonic()
    result = Pipeline([frontend, backend], data=data).execute(parallel=True)
    elapsed = time.monotonic() - started
    for runner_id, steps in sorted(result["runners"].items()):
        statuses = ", ".join(f"{step_id}={step['status']}" for step_id, step in steps.items())
        print(f"{runner_id}: {statuses}")
    print(f"pipeline: {result['status']} in {elapsed:.1f}s")
    data.close()
    return 0 if result["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

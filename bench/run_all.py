"""Run every benchmark in turn (`make bench`), or each with tiny sizes (`make bench-smoke`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHES = ["step_overhead", "parallel", "output", "history", "startup", "peers", "report", "cache", "envs"]


def main() -> None:
    extra = sys.argv[1:]
    here = Path(__file__).parent
    failed = []
    for name in BENCHES:
        code = subprocess.run([sys.executable, str(here / f"{name}.py"), *extra], check=False).returncode
        if code:
            failed.append(name)
    if failed:
        print(f"\nbenchmarks that failed or missed a target: {', '.join(failed)}")
        sys.exit(1)


if __name__ == "__main__":
    main()

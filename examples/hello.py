"""A small gryt pipeline in Python: two runners, one needing the other, recorded in `.gryt/gryt.db`.

Run it with `make run` (or `python examples/hello.py`); then look at the history with
`gryt runs list` and `gryt runs show <run id>`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gryt import CommandStep, Pipeline, PrintHook, Runner, SqliteData

ROOT = Path(__file__).resolve().parent.parent


def build(data: SqliteData) -> Pipeline:
    """`check` prints the Python version and lists the examples; `greet` runs once `check` succeeded."""
    check = Runner(
        [
            CommandStep("python-version", {"cmd": [sys.executable, "--version"]}),
            CommandStep("list-examples", {"cmd": ["ls", "examples"], "cwd": str(ROOT)}),
        ],
        id="check",
    )
    greet = Runner(
        [
            CommandStep("hello", {"cmd": ["echo", "hello from gryt"]}),
            CommandStep(
                "compute",
                {"cmd": [sys.executable, "-c", "print('6 x 7 =', 6 * 7)"], "timeout": 30, "retries": 1},
            ),
        ],
        id="greet",
        needs=["check"],
    )
    return Pipeline([check, greet], data=data, hook=PrintHook(), name="hello")


def main() -> int:
    with SqliteData(ROOT / ".gryt" / "gryt.db") as data:
        result = build(data).execute(parallel=True)
    print(f"\nrun {result['run_id']}: {result['status']}")
    for runner_id, steps in result["runners"].items():
        for step_id, step in steps.items():
            first_line = (step["stdout"] or step["stderr"]).strip().splitlines()[:1]
            print(f"  {runner_id}/{step_id}: {step['status']}  {first_line[0] if first_line else ''}")
    if result["status"] != "success":
        print(f"error: {result.get('error')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

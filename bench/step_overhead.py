"""Per-step overhead: N steps running `true` in one runner with a file database and history, versus a plain
`subprocess.run(["true"])` loop in the same process. Target: ratio <= 1.2."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from _harness import finish, header, interleave, parse_args, ratio_line

from gryt import CommandStep, Pipeline, Runner, SqliteData


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 10 if args.smoke else 300
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(1_000_000))

        def gryt_run() -> None:
            data = SqliteData(str(Path(tmp) / f"bench-{next(counter)}.db"))
            steps = [CommandStep(f"s{i}", {"cmd": ["true"]}) for i in range(n)]
            result = Pipeline([Runner(steps, data=data)], data=data).execute()
            data.close()
            assert result["status"] == "success", result["status"]

        def baseline() -> None:
            for _ in range(n):
                subprocess.run(["true"], check=True)

        samples = interleave({"subprocess.run loop": baseline, "gryt pipeline": gryt_run}, args.repeat)
    header(f"step overhead: {n} x `true`, one runner, file database")
    base = samples["subprocess.run loop"]
    print(ratio_line("subprocess.run loop (baseline)", base, base, None)[0])
    row, ok = ratio_line("gryt pipeline", samples["gryt pipeline"], base, 1.2)
    print(row)
    finish(ok, args.smoke)


if __name__ == "__main__":
    main()

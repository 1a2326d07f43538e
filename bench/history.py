"""Run history: `gryt runs list` against a database with 10,000 recorded runs versus one with 10.
Target: ratio <= 1.5."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from _harness import VENV_BIN, finish, header, interleave, parse_args, ratio_line

from gryt import Pipeline, Runner, SqliteData, Step


class Noop(Step):
    """A step that does nothing, so recording the history is all that is measured while filling."""

    name = "noop"

    def run(self) -> dict[str, Any]:
        return {"status": "success", "duration": 0.0}


def fill(db: Path, runs: int) -> None:
    data = SqliteData(str(db))
    for i in range(runs):
        pipeline = Pipeline(
            [Runner([Noop("build"), Noop("test")], data=data, id="ci")], data=data, name=f"p{i % 3}"
        )
        assert pipeline.execute()["status"] == "success"
    data.close()


def main() -> None:
    args = parse_args(__doc__ or "")
    many = 200 if args.smoke else 10_000
    repeat = args.repeat if args.smoke else max(args.repeat, 10)
    gryt = os.path.join(VENV_BIN, "gryt")
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small.db", Path(tmp) / "large.db"
        fill(small, 10)
        fill(large, many)

        def runs_list(db: Path) -> Any:
            def run() -> None:
                subprocess.run(
                    [gryt, "runs", "list", "--db", str(db)], check=True, stdout=subprocess.DEVNULL, cwd=tmp
                )

            return run

        samples = interleave({"small": runs_list(small), "large": runs_list(large)}, repeat)
    header(f"history: `gryt runs list` with {many} runs versus 10")
    base = samples["small"]
    print(ratio_line("10 runs (baseline)", base, base, None)[0])
    row, ok = ratio_line(f"{many} runs", samples["large"], base, 1.5)
    print(row)
    finish(ok, args.smoke)


if __name__ == "__main__":
    main()

"""gryt-ci 1.x's basic example, rewritten from its documented behaviour: one runner, a shared SQLite store.

Two command steps and a custom step that writes through the Data the runner shares with it. Usage:
`python basic.py DB_PATH`; exits 0 when every step succeeded.
"""

from __future__ import annotations

import sys
from typing import Any

from gryt import CommandStep, Pipeline, Runner, SqliteData, Step


class NoteStep(Step):
    """A custom step in the 1.x style: it records a note with `self.data.insert(...)`."""

    def run(self) -> dict[str, Any]:
        assert self.data is not None
        self.data.create_table("notes", {"step_id": "TEXT", "details": "TEXT"})
        self.data.insert("notes", {"step_id": self.id, "details": {"tags": ["basic", "1.x"]}})
        return {"status": "success", "stdout": "note written\n"}


def main(db_path: str) -> int:
    data = SqliteData(db_path)
    runner = Runner(
        [
            CommandStep("hello", {"cmd": ["echo", "Hello from gryt"]}),
            CommandStep("python_version", {"cmd": [sys.executable, "--version"]}),
            NoteStep("note"),
        ],
        data=data,
    )
    result = Pipeline([runner], data=data).execute()
    for runner_id, steps in result["runners"].items():
        for step_id, step in steps.items():
            print(f"{runner_id}/{step_id}: {step['status']} {step.get('stdout', '').strip()}")
    print(f"pipeline: {result['status']}")
    data.close()
    return 0 if result["status"] == "success" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

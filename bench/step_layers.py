"""Where a step's time goes: N x `true` through each layer of gryt in turn, against `subprocess.run`, the
floor of any runner that captures output (`posix_spawnp` with two pipes, poll until both close, `waitpid`),
and a lean loop doing what gryt records per step in the least Python (the floor plus a marker token in the
command's environment, a pidfd, a result dict, and its JSON row inserted into SQLite by a background thread
in batches, as gryt's history writer does).

Prints wall time and the main thread's CPU time per step, median and minimum of the interleaved repetitions
(the minimum is what the load of a shared machine disturbs least). An analysis aid for
docs/performance.md, not a target: it is not part of `make bench`.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import sqlite3
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from _harness import parse_args

from gryt import CommandStep, Pipeline, Runner, SqliteData
from gryt.context import RunContext
from gryt.process import run_command


class RowWriter:
    """A background thread inserting the rows it is given into SQLite, in one transaction per 50 ms."""

    def __init__(self, path: Path) -> None:
        self.rows: queue.SimpleQueue[tuple[object, ...]] = queue.SimpleQueue()
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS steps (id, status, returncode, duration, output_json)")
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            batch = [self.rows.get()]
            time.sleep(0.05)
            while not self.rows.empty():
                batch.append(self.rows.get())
            with self.db:
                self.db.executemany("INSERT INTO steps VALUES (?, ?, ?, ?, ?)", batch)


def floor(n: int, writer: RowWriter | None = None) -> None:
    """What any runner that keeps stdout and stderr apart must do per command, in the least Python; with
    `writer`, also what gryt records per step (see the module docstring)."""
    stdin = os.open(os.devnull, os.O_RDONLY)
    inherited = getattr(os.environ, "_data", os.environ)
    try:
        for i in range(n):
            started = time.monotonic()
            env = inherited
            if writer is not None:
                env = dict(inherited)
                env[b"GRYT_STEP_TOKEN"] = os.urandom(8).hex().encode()
            out_r, out_w = os.pipe()
            err_r, err_w = os.pipe()
            pid = os.posix_spawnp(
                "true",
                ["true"],
                env,
                file_actions=[
                    (os.POSIX_SPAWN_DUP2, stdin, 0),
                    (os.POSIX_SPAWN_DUP2, out_w, 1),
                    (os.POSIX_SPAWN_DUP2, err_w, 2),
                ],
                setsid=True,
                setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
            )
            os.close(out_w)
            os.close(err_w)
            poller = select.poll()
            poller.register(out_r, select.POLLIN)
            poller.register(err_r, select.POLLIN)
            pidfd = os.pidfd_open(pid) if writer is not None else None
            if pidfd is not None:
                poller.register(pidfd, select.POLLIN)
            output: dict[int, list[bytes]] = {out_r: [], err_r: []}
            open_pipes = 2
            while open_pipes:
                for fd, _ in poller.poll():
                    if fd == pidfd:
                        poller.unregister(fd)
                        continue
                    data = os.read(fd, 65536)
                    if data:
                        output[fd].append(data)
                    else:
                        poller.unregister(fd)
                        open_pipes -= 1
            _, status = os.waitpid(pid, 0)
            os.close(out_r)
            os.close(err_r)
            if pidfd is not None:
                os.close(pidfd)
            if writer is not None:
                code = os.waitstatus_to_exitcode(status)
                result = {
                    "status": "success" if code == 0 else "error",
                    "returncode": code,
                    "stdout": b"".join(output[out_r]).decode(),
                    "stderr": b"".join(output[err_r]).decode(),
                    "duration": round(time.monotonic() - started, 6),
                    "attempts": 1,
                    "timed_out": False,
                }
                row = (f"s{i}", result["status"], code, result["duration"], json.dumps(result))
                writer.rows.put(row)
    finally:
        os.close(stdin)


def main() -> None:
    args = parse_args(__doc__ or "")
    n = 10 if args.smoke else 300
    repeat = args.repeat if args.smoke else max(args.repeat, 9)
    cancel = threading.Event()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "gryt.db"
        SqliteData(str(db)).close()
        writer = RowWriter(Path(tmp) / "lean.db")

        def steps() -> list[CommandStep]:
            return [CommandStep(f"s{i}", {"cmd": ["true"]}) for i in range(n)]

        def step_runs() -> None:
            context = RunContext()
            for step in steps():
                step.context = context
                step.run()

        def with_database() -> None:
            data = SqliteData(str(db))
            Pipeline([Runner(steps(), data=data)], data=data).execute()
            data.close()

        variants: dict[str, Callable[[], object]] = {
            "subprocess.run (baseline)": lambda: [subprocess.run(["true"], check=True) for _ in range(n)],
            "floor: spawn, 2 pipes, poll, wait": lambda: floor(n),
            "lean: floor + token, pidfd, row": lambda: floor(n, writer),
            "gryt run_command": lambda: [run_command(["true"], cancel=cancel) for _ in range(n)],
            "gryt CommandStep built and run": step_runs,
            "gryt pipeline, no database": lambda: Pipeline([Runner(steps())]).execute(),
            "gryt pipeline, file database": with_database,
        }
        wall: dict[str, list[float]] = {name: [] for name in variants}
        cpu: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(repeat):
            for name, fn in variants.items():
                used = time.thread_time()
                start = time.perf_counter()
                fn()
                wall[name].append((time.perf_counter() - start) / n * 1e6)
                cpu[name].append((time.thread_time() - used) / n * 1e6)
    base = min(wall["subprocess.run (baseline)"])
    print(f"\n== step layers: {n} x `true`, {repeat} interleaved repetitions, us per step")
    print(f"{'variant':<36} {'wall med':>9} {'wall min':>9} {'min/base':>9} {'CPU med':>8} {'CPU min':>8}")
    for name in variants:
        print(
            f"{name:<36} {statistics.median(wall[name]):>9.1f} {min(wall[name]):>9.1f}"
            f" {min(wall[name]) / base:>8.2f}x {statistics.median(cpu[name]):>8.1f} {min(cpu[name]):>8.1f}"
        )


if __name__ == "__main__":
    main()

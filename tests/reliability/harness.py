"""Harness for the end-to-end reliability tests: a temporary project driven through the real `gryt` command.

Every helper process a test starts is a Python script stored inside the project folder, so
`project.leftovers()` finds any of them still alive by looking for the project path in `/proc/*/cmdline`,
and the fixture kills exactly those at the end (no broad process matching).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GRYT = str(Path(sys.executable).parent / "gryt")
PY = sys.executable

HELPER = '''\
"""Test helper processes: `helper.py MODE NAME [ARGS]`, files written next to this script."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
mode, name = sys.argv[1], sys.argv[2]


def note(suffix, text=""):
    path = HERE / f"{name}.{suffix}"
    path.with_suffix(path.suffix + ".tmp").write_text(text)
    path.with_suffix(path.suffix + ".tmp").replace(path)


if mode == "parent":
    # Starts a grandchild (same process group) that would write NAME.marker later, then waits.
    child = subprocess.Popen([sys.executable, __file__, "child", name, sys.argv[3]])
    note("pid", str(os.getpid()))
    note("gc.pid", str(child.pid))
    note("started")
    time.sleep(120)
elif mode == "child":
    time.sleep(float(sys.argv[3]))
    note("marker", "the grandchild outlived the run")
elif mode == "stubborn":
    # Ignores SIGTERM: only SIGKILL stops it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    note("pid", str(os.getpid()))
    note("started")
    while True:
        time.sleep(0.05)
elif mode == "touch":
    note("ran")
elif mode == "hold":
    # Waits until the test creates NAME.release.
    note("started")
    while not (HERE / f"{name}.release").exists():
        time.sleep(0.05)
elif mode == "flood":
    # NAME = megabytes of output, then a last line.
    chunk = (b"x" * 1023) + b"\\n"
    write = sys.stdout.buffer.write
    for _ in range(int(name) * 1024):
        write(chunk)
    sys.stdout.buffer.write(b"THE-END\\n")
elif mode == "daemon":
    # Leaves a process behind that keeps stdout and stderr open; `setsid` moves it out of the group.
    pid = os.fork()
    if pid == 0:
        if sys.argv[3] == "setsid":
            os.setsid()
        note("pid", str(os.getpid()))
        time.sleep(60)
        os._exit(0)
    print("parent done", flush=True)
elif mode == "close":
    # Closes stdout and stderr early, then keeps working for a moment.
    print("before close", flush=True)
    os.close(1)
    os.close(2)
    time.sleep(float(sys.argv[3]))
    note("closed-finished")
'''


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return bool(predicate())
        time.sleep(interval)


@dataclass
class Project:
    """A temporary gryt project; `run`/`spawn` call the real `gryt` with a minimal environment."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    spawned: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def pipelines(self) -> Path:
        return self.root / ".gryt" / "pipelines"

    @property
    def db(self) -> Path:
        return self.root / ".gryt" / "gryt.db"

    @property
    def helper(self) -> Path:
        return self.root / "helper.py"

    def cmd(self, mode: str, name: str, *args: str) -> list[str]:
        """The argv of a helper process (see HELPER)."""
        return [PY, str(self.helper), mode, name, *args]

    def toml_cmd(self, mode: str, name: str, *args: str) -> str:
        """The helper argv as a TOML array (JSON strings are valid TOML basic strings)."""
        return "[" + ", ".join(json.dumps(a, ensure_ascii=False) for a in self.cmd(mode, name, *args)) + "]"

    def file(self, name: str) -> Path:
        """A file a helper writes (`NAME.started`, `NAME.pid`, ...)."""
        return self.root / name

    def write_pipeline(self, filename: str, text: str) -> Path:
        path = self.pipelines / filename
        path.write_text(text)
        return path

    def run(
        self, *args: str, timeout: float = 120, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run gryt to completion; output stays bytes so tests can search the raw bytes."""
        return subprocess.run(
            [GRYT, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            capture_output=True,
            timeout=timeout,
            check=False,
        )

    def spawn(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start gryt in its own session (so a signal reaches gryt alone), output to files."""
        log = self.root / f"gryt-{len(self.spawned)}"
        proc = subprocess.Popen(
            [GRYT, *args],
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=log.with_suffix(".out").open("wb"),
            stderr=log.with_suffix(".err").open("wb"),
            start_new_session=True,
        )
        self.spawned.append(proc)
        return proc

    def output(self, proc: subprocess.Popen[bytes]) -> tuple[str, str]:
        """stdout and stderr of a spawned gryt (after it exited)."""
        log = self.root / f"gryt-{self.spawned.index(proc)}"
        return (
            log.with_suffix(".out").read_text(errors="replace"),
            log.with_suffix(".err").read_text(errors="replace"),
        )

    def wait_for_file(self, name: str, timeout: float = 30) -> None:
        assert wait_until(self.file(name).exists, timeout), f"{name} did not appear within {timeout}s"

    def json(self, *args: str) -> Any:
        done = self.run(*args)
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        return json.loads(done.stdout)

    def runs(self) -> list[dict[str, Any]]:
        return list(self.json("runs", "list", "--json", "--limit", "0"))

    def show(self, run_id: str) -> dict[str, Any]:
        return dict(self.json("runs", "show", run_id, "--json"))

    def only_run(self) -> dict[str, Any]:
        """The single recorded run, with its runners and steps."""
        runs = self.runs()
        assert len(runs) == 1, runs
        return self.show(runs[0]["run_id"])

    def leftovers(self) -> list[int]:
        """Live processes started from this project's helper scripts."""
        needle = str(self.root)
        pids = []
        for entry in Path("/proc").iterdir():
            if (
                entry.name.isdigit()
                and int(entry.name) != os.getpid()
                and needle in _cmdline(int(entry.name))
            ):
                pid = int(entry.name)
                if alive(pid):
                    pids.append(pid)
        return pids

    def cleanup(self) -> None:
        for proc in self.spawned:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        for pid in self.leftovers():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

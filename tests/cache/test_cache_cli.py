"""`gryt run` with a step cache in a real project: plain output, runs show, JSON, JUnit, gryt cache, secrets."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from _gryt import GRYT, base_env
from _leaks import find_bytes

SECRET = "s3cr3t-cache-value-9f1e"
PIPELINE = """
[pipeline]
secrets = ["TOKEN"]

[[runners]]
id = "build"

[[runners.steps]]
id = "install"
cmd = "mkdir -p dist && cat src/app.txt > dist/app.txt && echo installed $TOKEN"
shell = true
inputs = ["src/**"]
env_inputs = ["TOKEN"]
outputs = ["dist"]

[[runners.steps]]
id = "test"
cmd = ["sh", "-c", "cat dist/app.txt"]
inputs = ["dist/app.txt"]
"""


def make_project(root: Path) -> Path:
    (root / ".gryt" / "pipelines").mkdir(parents=True)
    (root / ".gryt" / "pipelines" / "ci.toml").write_text(PIPELINE)
    (root / "src").mkdir()
    (root / "src" / "app.txt").write_text("app v1\n")
    return root


def gryt(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [GRYT, *args],
        cwd=root,
        env={**base_env(root), "TOKEN": SECRET},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_second_run_is_cached_everywhere_and_secrets_stay_out(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    first = gryt(root, "run", "ci")
    assert first.returncode == 0, first.stderr
    second = gryt(root, "run", "ci", "--junit", "junit.xml", "--show")
    assert second.returncode == 0, second.stderr
    assert "build/install cached" in second.stdout and "build/test cached" in second.stdout
    assert "installed ***" in second.stdout  # the replayed log, masked
    as_json = json.loads(gryt(root, "run", "ci", "--json").stdout)
    assert {s["status"] for s in as_json["runners"]["build"].values()} == {"cached"}
    assert as_json["status"] == "success"
    shown = json.loads(gryt(root, "runs", "show", as_json["run_id"], "--json").stdout)
    assert [s["status"] for s in shown["steps"]] == ["cached", "cached"]
    text = gryt(root, "runs", "show", as_json["run_id"]).stdout
    assert text.count("cached") >= 2
    junit = (root / "junit.xml").read_text()
    assert 'name="gryt.cache"' in junit and "<failure" not in junit
    logs = sorted((root / ".gryt" / "logs").glob("*/build.install.log"))
    assert len(logs) == 3 and {log.read_text() for log in logs} == {"installed ***\n"}
    assert find_bytes(root, [SECRET.encode()]) == []


def test_gryt_cache_stats_prune_clear(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert gryt(root, "run", "ci").returncode == 0
    stats = json.loads(gryt(root, "cache", "stats", "--json").stdout)
    assert stats["entries"] == 2 and stats["blobs"] == 1 and stats["bytes"] > 0
    (root / ".gryt" / "config.toml").write_text('cache_options = { max_size = "1B" }\n')
    pruned = json.loads(gryt(root, "cache", "prune", "--json").stdout)
    assert pruned["entries"] == 2
    assert json.loads(gryt(root, "cache", "stats", "--json").stdout)["entries"] == 0
    (root / ".gryt" / "config.toml").write_text("")
    assert gryt(root, "run", "ci").returncode == 0
    cleared = gryt(root, "cache", "clear")
    assert cleared.returncode == 0 and cleared.stdout.startswith("cleared 2 entries")
    assert "build/install success" in gryt(root, "run", "ci").stdout


def test_bad_cache_configuration_is_one_line_and_exit_2(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / ".gryt" / "config.toml").write_text('cache = "locl"\n')
    done = gryt(root, "run", "ci")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert 'unknown cache type "locl" (did you mean "local"?)' in done.stderr
    (root / ".gryt" / "config.toml").write_text('cache_options = { max_size = "lots" }\n')
    done = gryt(root, "cache", "stats")
    assert done.returncode == 2 and "max_size" in done.stderr and done.stderr.count("\n") == 1
    (root / ".gryt" / "config.toml").write_text("")
    bad = PIPELINE.replace('inputs = ["dist/app.txt"]', 'inputs = ["../outside"]')
    (root / ".gryt" / "pipelines" / "ci.toml").write_text(bad)
    done = gryt(root, "validate", "ci")
    assert done.returncode == 2 and "inputs[0]: a glob must stay below the project root" in done.stderr


def test_two_concurrent_runs_fill_one_valid_entry(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    slow = PIPELINE.replace("echo installed $TOKEN", "sleep 0.5; echo installed $TOKEN")
    (root / ".gryt" / "pipelines" / "ci.toml").write_text(slow)
    procs = [
        subprocess.Popen(
            [GRYT, "run", "ci"],
            cwd=root,
            env={**base_env(root), "TOKEN": SECRET},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for proc in procs:
        assert proc.wait(timeout=60) == 0
    assert len(list((root / ".gryt" / "cache" / "entries").glob("*/*"))) == 2
    assert not list((root / ".gryt" / "cache" / "tmp").iterdir())
    (root / "dist" / "app.txt").unlink()
    again = gryt(root, "run", "ci")
    assert again.returncode == 0 and "build/install cached" in again.stdout
    assert (root / "dist" / "app.txt").read_text() == "app v1\n"


def test_a_corrupt_entry_is_a_miss_with_a_warning(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert gryt(root, "run", "ci").returncode == 0
    blob = next((root / ".gryt" / "cache" / "blobs").glob("*/*"))
    blob.write_bytes(b"app v2\n")  # same size, other content
    entry = next(
        p for p in (root / ".gryt" / "cache" / "entries").glob("*/*") if b"installed" in p.read_bytes()
    )
    (root / "dist" / "app.txt").unlink()
    done = gryt(root, "run", "ci")
    assert done.returncode == 0, done.stderr
    assert "build/install success" in done.stdout
    assert "does not hold its content; running the step" in done.stdout + done.stderr
    assert (root / "dist" / "app.txt").read_text() == "app v1\n"
    entry.write_bytes(b"{not json")
    os.utime(entry)
    time.sleep(0.01)
    done = gryt(root, "run", "ci")
    assert done.returncode == 0 and "has no valid manifest; running the step" in done.stdout + done.stderr
    assert "build/install cached" in gryt(root, "run", "ci").stdout

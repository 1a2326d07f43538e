"""When a step hits and when it misses: every ingredient of the key, restored outputs, the dependency rule."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

import gryt

from .conftest import Run, old, statuses

BUILD = "cat src/*.txt > out/all.txt && echo built $MODE"


def build_step(**extra: object) -> dict[str, object]:
    step: dict[str, object] = {
        "id": "build",
        "config": {"cmd": f"mkdir -p out && {BUILD}", "shell": True},
        "inputs": ["src/*.txt"],
        "outputs": ["out"],
    }
    step.update(extra)
    return step


@pytest.fixture
def tree(project: Path) -> Path:
    (project / "src").mkdir()
    for name in ("a", "b"):
        (project / "src" / f"{name}.txt").write_text(f"{name}\n")
        old(project / "src" / f"{name}.txt")
    return project


def test_unchanged_hits_with_byte_identical_outputs_and_replayed_log(tree: Path, run: Run) -> None:
    first = run([build_step()])
    assert first["runners"]["r"]["build"]["cache"]["status"] == "stored"
    produced = (tree / "out" / "all.txt").read_bytes()
    (tree / "out" / "all.txt").write_bytes(b"tampered")
    (tree / "out" / "all.txt").chmod(0o600)
    second = run([build_step()])
    step = second["runners"]["r"]["build"]
    assert second["status"] == "success" and step["status"] == "cached"
    assert step["cache"]["key"] == first["runners"]["r"]["build"]["cache"]["key"]
    assert (tree / "out" / "all.txt").read_bytes() == produced == b"a\nb\n"
    assert stat.S_IMODE((tree / "out" / "all.txt").stat().st_mode) == stat.S_IMODE(0o644 & ~_umask())
    log = tree / ".gryt" / "logs" / second["run_id"] / "r.build.log"
    assert log.read_text() == "built\n"
    assert step["stdout"] == "built\n"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_deleted_output_file_is_restored_by_a_hit(tree: Path, run: Run) -> None:
    run([build_step()])
    (tree / "out" / "all.txt").unlink()
    assert statuses(run([build_step()])) == {"build": "cached"}
    assert (tree / "out" / "all.txt").read_text() == "a\nb\n"


def test_executable_mode_is_restored(tree: Path, run: Run) -> None:
    step = build_step(
        config={"cmd": "mkdir -p out && cat src/*.txt > out/tool && chmod 751 out/tool", "shell": True}
    )
    run([step])
    (tree / "out" / "tool").unlink()
    assert statuses(run([step])) == {"build": "cached"}
    assert stat.S_IMODE((tree / "out" / "tool").stat().st_mode) == 0o751


@pytest.mark.parametrize(
    "change",
    [
        "input content",
        "new input file",
        "deleted input",
        "input mode",
        "command",
        "env_input",
        "gryt version",
    ],
)
def test_each_ingredient_of_the_key_makes_a_miss(
    change: str, tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODE", "one")
    step = build_step(env_inputs=["MODE"])
    run([step])
    assert statuses(run([step])) == {"build": "cached"}
    if change == "input content":
        (tree / "src" / "a.txt").write_text("A\n")
    elif change == "new input file":
        (tree / "src" / "c.txt").write_text("c\n")
    elif change == "deleted input":
        (tree / "src" / "b.txt").unlink()
    elif change == "input mode":
        (tree / "src" / "a.txt").chmod(0o755)
    elif change == "command":
        step["config"] = {"cmd": f"mkdir -p out && {BUILD} && true", "shell": True}
    elif change == "env_input":
        monkeypatch.setenv("MODE", "two")
    else:
        monkeypatch.setattr(gryt, "__version__", "99.0.0")
    result = run([step])
    assert statuses(result) == {"build": "success"}
    assert result["runners"]["r"]["build"]["cache"]["status"] == "stored"
    assert statuses(run([step])) == {"build": "cached"}


def test_an_env_variable_not_listed_does_not_change_the_key(
    tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run([build_step()])
    monkeypatch.setenv("UNRELATED_SETTING", "x")
    assert statuses(run([build_step()])) == {"build": "cached"}


def test_a_changed_upstream_output_misses_downstream(tree: Path, run: Run) -> None:
    gen = {
        "id": "gen",
        "config": {"cmd": "mkdir -p mid && cat src/a.txt src/a.txt > mid/a2.txt", "shell": True},
        "inputs": ["src/a.txt"],
        "outputs": ["mid"],
    }
    use = {
        "id": "use",
        "config": {"cmd": "cat src/b.txt > use.txt", "shell": True},
        "inputs": ["src/b.txt"],
        "outputs": ["use.txt"],
    }
    run([gen, use])
    assert statuses(run([gen, use])) == {"gen": "cached", "use": "cached"}
    (tree / "src" / "a.txt").write_text("changed\n")
    assert statuses(run([gen, use])) == {"gen": "success", "use": "success"}


def test_a_needed_runner_counts_as_upstream(tree: Path, run: Run) -> None:
    gen = {"id": "gen", "config": {"cmd": ["true"]}, "inputs": ["src/a.txt"]}
    use = {"id": "use", "config": {"cmd": ["true"]}, "inputs": ["src/b.txt"]}
    runners = {"first": ([gen], []), "second": ([use], ["first"])}
    run(runners=runners)
    assert statuses(run(runners=runners), "second") == {"use": "cached"}
    (tree / "src" / "a.txt").write_text("changed\n")
    assert statuses(run(runners=runners), "second") == {"use": "success"}


def test_a_step_after_one_without_inputs_is_never_cached(tree: Path, run: Run) -> None:
    setup = {"id": "setup", "config": {"cmd": ["true"]}}
    for _ in range(2):
        result = run([setup, build_step()])
        assert statuses(result) == {"setup": "success", "build": "success"}
    cache = result["runners"]["r"]["build"]["cache"]
    assert cache["status"] == "uncached" and "r/setup" in cache["reason"]
    assert "cache" not in result["runners"]["r"]["setup"]


def test_failed_steps_are_never_cached(tree: Path, run: Run) -> None:
    failing = build_step(config={"cmd": "mkdir -p out && echo half > out/all.txt && exit 3", "shell": True})
    for _ in range(2):
        result = run([failing])
        assert statuses(result) == {"build": "error"}
        assert result["runners"]["r"]["build"]["cache"]["status"] == "miss"
    assert not list((tree / ".gryt" / "cache" / "entries").glob("*/*"))


def test_no_cache_runs_and_stores_read_only_reads_and_never_stores(tree: Path, run: Run) -> None:
    assert run([build_step()], mode="read-only")["runners"]["r"]["build"]["cache"]["status"] == "miss"
    assert not (tree / ".gryt" / "cache" / "entries").exists()
    assert run([build_step()], mode="write-only")["runners"]["r"]["build"]["cache"]["status"] == "stored"
    assert statuses(run([build_step()], mode="write-only")) == {"build": "success"}
    assert statuses(run([build_step()], mode="read-only")) == {"build": "cached"}


def test_a_run_without_inputs_touches_no_cache(project: Path, run: Run) -> None:
    result = run([{"id": "plain", "config": {"cmd": ["true"]}}])
    assert statuses(result) == {"plain": "success"} and "cache" not in result["runners"]["r"]["plain"]
    assert not (project / ".gryt" / "cache").exists()


def test_warm_hashing_reads_no_file(tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    from gryt.cache import engine

    made: list[engine.StepCache] = []
    original = engine.StepCache.__init__

    def spy(self: engine.StepCache, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        made.append(self)

    monkeypatch.setattr(engine.StepCache, "__init__", spy)
    run([build_step()])
    old(tree / "out" / "all.txt")
    run([build_step()])
    run([build_step()])
    assert [cache.index.hashed for cache in made] == [
        3,
        1,
        0,
    ]  # cold: 2 inputs and the output; then the output once (it was new)


def test_hashing_a_step_s_inputs_does_not_hold_up_other_runners(
    tree: Path, run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While runner a's inputs are hashed, runner b's steps still finish and start (no run-wide lock)."""
    from gryt.cache import index

    real = index.file_digest
    waited: list[bool] = []

    def slow(path: str | Path) -> str:
        if not waited:
            (tree / "hashing").touch()
            deadline = time.monotonic() + 10
            while not (tree / "released").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            waited.append((tree / "released").exists())
        return real(path)

    monkeypatch.setattr(index, "file_digest", slow)
    wait = "for i in $(seq 1000); do [ -f hashing ] && exit 0; sleep 0.01; done; exit 1"
    second = {"id": "second", "config": {"cmd": ["touch", "released"]}}
    runners: dict[str, tuple[list[dict[str, Any]], list[str]]] = {
        "a": ([build_step()], []),
        "b": ([{"id": "first", "config": {"cmd": wait, "shell": True}}, second], []),
    }
    result = run(runners=runners, parallel=True)
    assert waited == [True]
    assert statuses(result, "a") == {"build": "success"}
    assert statuses(result, "b") == {"first": "success", "second": "success"}


def test_files_changed_by_a_step_without_inputs_are_seen_by_later_runners(tree: Path, run: Run) -> None:
    read = {"id": "read", "config": {"cmd": ["true"]}, "inputs": ["src/*.md"]}  # lists src/, matches nothing
    grow = {
        "id": "grow",
        "config": {"cmd": "echo more >> src/a.txt && touch -d 2001-01-01 src/a.txt", "shell": True},
    }
    use = {
        "id": "use",
        "config": {"cmd": "cp src/a.txt copy.txt", "shell": True},
        "inputs": ["src/a.txt"],
        "outputs": ["copy.txt"],
    }
    runners: dict[str, tuple[list[dict[str, Any]], list[str]]] = {
        "x": ([read], []),
        "y": ([grow], []),
        "z": ([use], []),
    }
    run(runners=runners)
    second = run(runners=runners)
    assert statuses(second, "x") == {"read": "cached"}
    assert statuses(second, "z") == {"use": "success"}
    assert (tree / "copy.txt").read_text() == (tree / "src" / "a.txt").read_text() == "a\nmore\nmore\n"


def test_declarations_are_checked() -> None:
    from gryt import CommandStep
    from gryt.errors import ConfigError

    with pytest.raises(ConfigError, match=r"s\.outputs: only a step with `inputs` is cached"):
        CommandStep("s", {"cmd": ["true"]}, outputs=["dist"])
    with pytest.raises(ConfigError, match=r"s\.inputs\[0\]: expected a glob relative to the project root"):
        CommandStep("s", {"cmd": ["true"]}, inputs=["/etc/passwd"])
    with pytest.raises(ConfigError, match=r"s\.env_inputs\[0\]: expected a string"):
        CommandStep("s", {"cmd": ["true"]}, inputs=[], env_inputs=[3])  # type: ignore[list-item]
    assert CommandStep("s", {"cmd": ["true"]}, inputs=[]).cache_spec is not None


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("src/**/*.py", "src/a.py", True),
        ("src/**/*.py", "src/x/y/a.py", True),
        ("src/**/*.py", "src/a.txt", False),
        ("src", "src/x/y", True),
        ("src", "srcx/y", False),
        ("*.txt", "a.txt", True),
        ("*.txt", "d/a.txt", False),
        ("a/[bc].txt", "a/c.txt", True),
        ("a/[!b].txt", "a/b.txt", False),
        ("a?.txt", "ab.txt", True),
        ("a.txt", "a_txt", False),
    ],
)
def test_globs(pattern: str, path: str, matches: bool) -> None:
    from gryt.cache.globs import compile_glob

    assert bool(compile_glob(pattern).fullmatch(path)) is matches

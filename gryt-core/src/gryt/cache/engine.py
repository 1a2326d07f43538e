"""`StepCache`: what a run does around `Step.run` for a step that declares `inputs`.

Compute the key; on a hit restore the outputs, replay the log and record the step `cached`; on a miss
run the step and, when it succeeded, store its outputs, log and result. A store that fails, or an entry
that is corrupt, is a warning and a miss, never a failed run.

Dependency rule: a step's key includes the keys of every earlier step of its runner and of every step
of the runners it needs (transitively). When one of those has no key (it declares no `inputs`, failed,
or did not run in this run) the step is not cached in this run: what that step did cannot be known.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gryt.cache.entry import CacheEntry
from gryt.cache.globs import Tree
from gryt.cache.index import HashIndex
from gryt.cache.key import step_key
from gryt.cache.outputs import collect, restore
from gryt.errors import CacheError, one_line
from gryt.status import CACHED, PASSED, SKIPPED, SUCCESS
from gryt.step import step_log_path

if TYPE_CHECKING:
    from gryt.cache.base import Cache
    from gryt.context import RunContext
    from gryt.runner import Runner
    from gryt.step import Step

CacheMode = Literal["read-write", "read-only", "write-only"]
"""read-write: the default; read-only: `--cache=read-only` (never stores); write-only: `--no-cache`."""
INDEX_FILE = ".gryt/cache/index.json"
_SKIPPED_KEY = "skipped"


def _empty(folder: Path) -> None:
    """Remove what a store left in its scratch folder (nothing, for a local store: cheap)."""
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                Path(entry.path).unlink(missing_ok=True)


def _reason(exc: Exception) -> str:
    """Why a store call failed: a CacheError as the store worded it, anything else with its type."""
    return str(exc) if isinstance(exc, CacheError) else one_line(exc)


class StepCache:
    """The step cache of one run: the store, the mode, the file listing and hash index, and the keys."""

    def __init__(self, store: Cache, root: Path, mode: CacheMode = "read-write") -> None:
        self.store = store
        self.root = root
        self.mode = mode
        self.tree = Tree(root)
        self.index = HashIndex(root, root / INDEX_FILE)
        self.keys: dict[tuple[str, str], str | None] = {}
        """(runner id, step id) -> the key of a step that succeeded or hit, `skipped`, or None."""
        self.steps: dict[str, list[str]] = {}
        self.needs: dict[str, tuple[str, ...]] = {}
        self.stored = 0
        """Entries this run stored (then `finish()` prunes the store)."""
        self._computed: dict[tuple[str, str], str] = {}
        self._scratches: dict[int, Path] = {}
        """An empty folder per thread for `Cache.get`, emptied after each call, removed by `finish()`."""

    def plan(self, runners: Iterable[Runner]) -> None:
        """Learn the runners of the run: their steps and needs (for the dependency rule)."""
        for runner in runners:
            self.steps[runner.id] = [step.id for step in runner.steps]
            self.needs[runner.id] = tuple(runner.needs)

    def run(
        self,
        step: Step,
        runner: Runner,
        ctx: RunContext,
        call: Callable[[], Any],
        warn: Callable[[str], None],
    ) -> Any:
        """`call()` (the step's run) or its cached result; the result gets a `cache` table."""
        spec = getattr(step, "cache_spec", None)
        if spec is None:
            return self._call(call)
        where = f"{runner.id}/{step.id}"
        upstream, reason = self._upstream(runner, step)
        key = None
        if upstream is not None:
            try:
                key = step_key(step, spec, ctx, upstream, tree=self.tree, index=self.index)
            except OSError as exc:
                reason = f"cannot hash its inputs: {exc.strerror or exc}"
        if key is None:
            raw = self._call(call)
            if isinstance(raw, dict):
                raw["cache"] = {"status": "uncached", "reason": reason}
            return raw
        self._computed[(runner.id, step.id)] = key
        if self.mode != "write-only":
            hit = self._lookup(key, step, ctx, where, warn)
            if hit is not None:
                return hit
        raw = self._call(call)
        if not isinstance(raw, dict):
            return raw
        info: dict[str, Any] = {"status": "miss", "key": key}
        raw["cache"] = info
        stores = raw.get("status") == SUCCESS and self.mode != "read-only"
        if stores and self._store(key, spec.outputs, step, ctx, raw, where=where, warn=warn):
            info["status"] = "stored"
        return raw

    def _upstream(self, runner: Runner, step: Step) -> tuple[list[str] | None, str]:
        """The keys the dependency rule puts into this step's key, or None and why it is not cached."""
        pairs = [(runner.id, s.id) for s in runner.steps[: runner.steps.index(step)]]
        seen: set[str] = set()
        todo = list(self.needs.get(runner.id, runner.needs))
        while todo:
            need = todo.pop(0)
            if need in seen:
                continue
            seen.add(need)
            if need not in self.steps:
                return None, f"needed runner {need!r} is not part of this run"
            pairs += [(need, sid) for sid in self.steps[need]]
            todo += self.needs.get(need, ())
        keys: list[str] = []
        for pair in pairs:
            key = self.keys.get(pair)
            if key is None:
                return None, f"step {pair[0]}/{pair[1]} it depends on has no cache key in this run"
            keys.append(f"{pair[0]}/{pair[1]}={key}")
        return keys, ""

    def record(self, runner_id: str, step: Step, result: dict[str, Any]) -> None:
        """Note how a step ended, for the steps that depend on it."""
        status = result.get("status")
        pair = (runner_id, step.id)
        if status == SKIPPED:
            self.keys[pair] = _SKIPPED_KEY
        elif status in PASSED:
            self.keys[pair] = self._computed.get(pair)
        else:
            self.keys[pair] = None

    def _lookup(
        self, key: str, step: Step, ctx: RunContext, where: str, warn: Callable[[str], None]
    ) -> dict[str, Any] | None:
        started = time.monotonic()
        scratch = self._scratch()
        try:
            entry = self.store.get(key, scratch)
            if entry is None:
                return None
            if restore(entry, self.root, self.index):
                self.tree.forget()
        except Exception as exc:  # noqa: BLE001 - a store plugin's bug or a disk error: a miss, never a crash
            warn(f"step cache: {where}: {_reason(exc)}; running the step")
            return None
        finally:
            _empty(scratch)
        self._replay(entry.log, step, ctx)
        result = dict(entry.result)
        result["status"] = CACHED
        result["duration"] = round(time.monotonic() - started, 6)
        result["cache"] = {"status": "hit", "key": key, "original_duration": entry.result.get("duration")}
        return result

    def _call(self, call: Callable[[], Any]) -> Any:
        """The step's run; then the file listing is dropped: the step may have changed what later steps read."""
        try:
            return call()
        finally:
            self.tree.forget()

    def _scratch(self) -> Path:
        thread = threading.get_ident()
        folder = self._scratches.get(thread)
        if folder is None:
            folder = self._scratches[thread] = Path(tempfile.mkdtemp(prefix="gryt-cache-"))
        return folder

    def _replay(self, log: bytes, step: Step, ctx: RunContext) -> None:
        """The stored log, masked with this run's secrets too, to this run's log file and the screen."""
        text = ctx.masker.mask(log.decode("utf-8", "replace"))
        path = step_log_path(ctx, step.id)
        if path is not None and text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            step.log_path = path  # type: ignore[attr-defined]
        if ctx.show and text:
            from gryt.process.output import DISPLAY

            if ctx.prefix_output:
                prefix = f"{ctx.runner_id or '-'}/{step.id} | "
                text = "".join(f"{prefix}{line}\n" for line in text.splitlines())
            DISPLAY.put(sys.stdout, text)

    def _store(
        self,
        key: str,
        patterns: tuple[str, ...],
        step: Step,
        ctx: RunContext,
        result: dict[str, Any],
        *,
        where: str,
        warn: Callable[[str], None],
    ) -> bool:
        try:
            outputs = collect(patterns, self.tree, self.index)
            path = step_log_path(ctx, step.id)
            if path is not None and path.is_file():
                log = path.read_bytes()
            else:
                log = (str(result.get("stdout") or "") + str(result.get("stderr") or "")).encode()
            kept = json.loads(json.dumps(ctx.masker.mask_obj(result), default=str))
            kept.pop("cache", None)
            blobs = {o.digest: self.root / o.path for o in outputs if o.kind == "file"}
            entry = CacheEntry(
                key,
                tuple(outputs),
                ctx.masker.mask(log.decode("utf-8", "replace")).encode(),
                kept,
                blobs,
                time.time(),
            )
            self.store.put(entry)
        except Exception as exc:  # noqa: BLE001 - a store plugin's bug or a disk error: not stored, never a crash
            warn(f"step cache: {where}: not stored: {_reason(exc)}")
            return False
        self.stored += 1
        return True

    def finish(self, warn: Callable[[str], None]) -> None:
        """Save the hash index and, when this run stored entries, keep the store within its size limit."""
        for folder in self._scratches.values():
            shutil.rmtree(folder, ignore_errors=True)
        self._scratches.clear()
        try:
            self.index.save()
        except OSError as exc:
            warn(f"step cache: cannot save the hash index: {exc.strerror or exc}")
        if not self.stored:
            return
        try:
            self.store.prune()
        except CacheError:
            return  # a store that does not prune keeps its own limits
        except Exception as exc:  # noqa: BLE001 - a store plugin's bug: a warning, never a failed run
            warn(f"step cache: pruning failed: {one_line(exc)}")

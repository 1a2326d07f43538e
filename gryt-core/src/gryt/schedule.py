"""The schedule of one run: which of the selected runners may start next, updated as runners end."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import TYPE_CHECKING

from gryt.status import SUCCESS, StepStatus

if TYPE_CHECKING:
    from gryt.runner import Runner


class Schedule:
    """Which of the selected runners may start next, updated as runners end.

    Runners come out in topological order (declaration order, each after its needs), the order a
    sequential run uses; a runner is decided once every need before its first unmet one succeeded: ready,
    or to be skipped because that need ended otherwise. A runner whose condition calls a status function
    (`always()`, `failure()`) waits for all its needs instead, and comes out with the reason of the first
    that failed: its condition decides. Each runner waits on one need at a time and moves past each need
    once, so scheduling costs O(runners + needs) for the whole run.
    """

    def __init__(self, order: list[Runner]) -> None:
        self.order = order
        position = {r.id: i for i, r in enumerate(order)}
        self._needs = [[n for n in r.needs if n in position] for r in order]  # outside the selection: met
        self._wait_all = [bool(getattr(r.condition, "uses_status", False)) for r in order]
        self._failed: list[str] = [""] * len(order)
        self._cursor = [0] * len(order)
        self._taken = [False] * len(order)
        self._left = len(order)
        self._ended: dict[str, StepStatus | None] = {}
        self._waiting: dict[str, list[int]] = {}
        self._decided: list[tuple[int, str]] = []  # heap of (position, skip reason or "")
        for index in range(len(order)):
            self._advance(index)

    def _advance(self, index: int) -> None:
        needs = self._needs[index]
        cursor = self._cursor[index]
        while cursor < len(needs):
            need = needs[cursor]
            if need not in self._ended:
                self._cursor[index] = cursor
                self._waiting.setdefault(need, []).append(index)
                return
            status = self._ended[need]
            if status != SUCCESS:
                reason = f"needs runner {need!r}, which ended with {status}"
                if not self._wait_all[index]:
                    heapq.heappush(self._decided, (index, reason))
                    return
                self._failed[index] = self._failed[index] or reason
            cursor += 1
        heapq.heappush(self._decided, (index, self._failed[index]))

    def __bool__(self) -> bool:
        """True while some runner was neither started nor skipped."""
        return self._left > 0

    def next(self) -> tuple[Runner, str] | None:
        """The next decided runner and why it is skipped ("" when it may start), or None: none yet."""
        while self._decided:
            index, reason = heapq.heappop(self._decided)
            if not self._taken[index]:
                self._take(index)
                return self.order[index], reason
        return None

    def _take(self, index: int) -> None:
        self._taken[index] = True
        self._left -= 1

    def ended(self, runner: Runner) -> None:
        """`runner` finished (with `runner.status`) or was skipped: decide what waited on it."""
        self._ended[runner.id] = SUCCESS if runner.passed else runner.status
        for index in self._waiting.pop(runner.id, ()):
            self._advance(index)

    def rest(self) -> Iterator[Runner]:
        """Every runner neither started nor skipped yet, in order, each taken as it is handed out (a
        KeyboardInterrupt while they are recorded leaves the others for the next call)."""
        for index, runner in enumerate(self.order):
            if not self._taken[index]:
                self._take(index)
                yield runner

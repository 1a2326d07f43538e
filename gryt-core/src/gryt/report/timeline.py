"""A run as the report draws it: lanes (auth, each runner, deliver) of bars on one time axis, the failed
steps' output tails and where each artifact went. Built from `gryt.history.get_run()`'s dict alone: the
output is the masked text the history keeps, never a log file."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gryt.report.statuses import ABANDONED, FAILED
from gryt.status import ERROR, SKIPPED, SUCCESS

TAIL_LINES = 20
"""Lines of stderr and of stdout shown for each failed step."""


@dataclass(frozen=True)
class Bar:
    """One step, auth attempt or delivery: `start`/`end` in seconds from the run's start (None: unknown)."""

    lane: str
    label: str
    status: str
    start: float | None
    end: float | None
    duration: float | None
    allowed: bool = False
    detail: str = ""


@dataclass
class Lane:
    """A runner (or the run's auth steps, or its deliveries) and its bars, in the order they ran."""

    kind: str
    id: str
    status: str
    start: float | None
    end: float | None
    duration: float | None
    needs: list[str] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)


@dataclass(frozen=True)
class Failure:
    """A failed step's recorded error and the last lines of its (masked) output."""

    key: str
    status: str
    allowed: bool
    error: str
    returncode: Any
    stderr: str
    stdout: str
    log_path: str


@dataclass(frozen=True)
class Delivery:
    """One destination row: which artifact, its status, and `ARTIFACT -> WHERE` when it was published."""

    destination: str
    type: str
    artifact: str
    status: str
    went: str
    error: str


@dataclass
class RunReport:
    """Everything the run page shows."""

    run: dict[str, Any]
    status: str
    span: float
    lanes: list[Lane]
    failures: list[Failure]
    deliveries: list[Delivery]
    counts: dict[str, int]


def _epoch(stamp: Any) -> float | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def number(value: Any) -> float | None:
    """`value` as a float when it is a number (not a bool), else None: a stored duration read safely."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def tail(text: Any, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of `text` (empty when it is not text)."""
    if not isinstance(text, str) or not text.strip():
        return ""
    return "\n".join(text.rstrip("\n").splitlines()[-lines:])


class _Clock:
    """Seconds from the run's start for each timestamp; remembers the latest one seen."""

    def __init__(self, origin: float | None) -> None:
        self.origin = origin
        self.latest = 0.0

    def at(self, stamp: Any) -> float | None:
        moment = _epoch(stamp)
        if moment is None:
            return None
        if self.origin is None:
            self.origin = moment
        offset = max(0.0, moment - self.origin)
        self.latest = max(self.latest, offset)
        return offset


def _output(row: Mapping[str, Any]) -> dict[str, Any]:
    raw = row.get("output")
    return raw if isinstance(raw, dict) else {}


def _step_bar(clock: _Clock, lane: str, step: Mapping[str, Any]) -> Bar:
    output = _output(step)
    label = str(step.get("step_id")).removeprefix(f"{lane}/")
    returncode = step.get("returncode")
    detail = str(output.get("error") or "")
    if returncode not in (None, 0) and "exit" not in detail:
        detail = f"exit {returncode}" + (f" - {detail}" if detail else "")
    return Bar(
        lane=lane,
        label=label,
        status=str(step.get("status") or ""),
        start=clock.at(step.get("start_timestamp")),
        end=clock.at(step.get("end_timestamp")),
        duration=number(step.get("duration")),
        allowed=output.get("allowed") is True,
        detail=detail,
    )


def _failure(lane: str, step: Mapping[str, Any]) -> Failure:
    output = _output(step)
    return Failure(
        key=f"{lane}/{str(step.get('step_id')).removeprefix(f'{lane}/')}",
        status=str(step.get("status")),
        allowed=output.get("allowed") is True,
        error=str(output.get("error") or ""),
        returncode=step.get("returncode"),
        stderr=tail(output.get("stderr")),
        stdout=tail(output.get("stdout")),
        log_path=str(step.get("log_path") or ""),
    )


def _overall(bars: Iterable[Bar]) -> str:
    """An auth or deliver lane's status: error if any failed, skipped if all were, else success."""
    statuses = {bar.status for bar in bars}
    if ERROR in statuses:
        return ERROR
    return SKIPPED if statuses == {SKIPPED} else SUCCESS


def _runner_lanes(clock: _Clock, run: Mapping[str, Any]) -> tuple[list[Lane], list[Failure]]:
    lanes: dict[str, Lane] = {}
    for runner in run.get("runners") or []:
        rid = str(runner.get("runner_id"))
        needs = runner.get("needs")
        lanes[rid] = Lane(
            kind="runner",
            id=rid,
            status=str(runner.get("status") or ""),
            start=clock.at(runner.get("start_timestamp")),
            end=clock.at(runner.get("end_timestamp")),
            duration=number(runner.get("duration")),
            needs=[str(n) for n in needs] if isinstance(needs, list) else [],
        )
    failures: list[Failure] = []
    for step in run.get("steps") or []:
        rid = str(step.get("runner_id"))
        lane = lanes.get(rid)
        if lane is None:  # a step whose runner row is missing (a crashed run): its own lane
            lane = lanes[rid] = Lane("runner", rid, str(step.get("status") or ""), None, None, None)
        lane.bars.append(_step_bar(clock, rid, step))
        if step.get("status") in FAILED:
            failures.append(_failure(rid, step))
    for lane in lanes.values():
        starts = [bar.start for bar in lane.bars if bar.start is not None]
        if lane.start is None and lane.duration is not None and starts:
            lane.start = min(starts)
    return sorted(lanes.values(), key=_lane_order), failures


def _lane_order(lane: Lane) -> tuple[float, str]:
    """By start; a runner that never started (skipped) where it was decided, i.e. by its end."""
    when = lane.start if lane.start is not None else lane.end
    return (when if when is not None else float("inf"), lane.id)


def _auth_lane(clock: _Clock, run: Mapping[str, Any]) -> Lane | None:
    attempts = run.get("auth") or []
    if not attempts:
        return None
    bars = [
        Bar(
            lane="auth",
            label=str(attempt.get("auth_id")),
            status=str(attempt.get("status") or ""),
            start=clock.at(attempt.get("start_timestamp")),
            end=clock.at(attempt.get("end_timestamp")),
            duration=number(attempt.get("duration")),
            detail=str(_output(attempt).get("error") or ""),
        )
        for attempt in attempts
    ]
    return _group_lane("auth", bars)


def _deliveries(clock: _Clock, run: Mapping[str, Any]) -> tuple[Lane | None, list[Delivery]]:
    from gryt.destination import where

    bars: list[Bar] = []
    deliveries: list[Delivery] = []
    for row in run.get("destination_runs") or []:
        status = str(row.get("status") or "")
        details = row.get("details")
        target = where(details) if isinstance(details, dict) and status == SUCCESS else None
        artifact = str(row.get("artifact") or "")
        destination = str(row.get("destination_id"))
        error = str(row.get("error") or "")
        deliveries.append(
            Delivery(destination, str(row.get("name") or ""), artifact, status, target or "", error)
        )
        label = f"{destination}: {artifact.rsplit('/', 1)[-1]}" if artifact else destination
        start, end = clock.at(row.get("start_timestamp")), clock.at(row.get("end_timestamp"))
        bars.append(Bar("deliver", label, status, start, end, number(row.get("duration")), detail=error))
    return (_group_lane("deliver", bars) if bars else None), deliveries


def _group_lane(kind: str, bars: list[Bar]) -> Lane:
    starts = [bar.start for bar in bars if bar.start is not None]
    ends = [bar.end for bar in bars if bar.end is not None]
    start = min(starts) if starts else None
    end = max(ends) if ends else None
    duration = end - start if start is not None and end is not None else None
    return Lane(kind, kind, _overall(bars), start, end, duration, bars=bars)


def run_status(run: Mapping[str, Any]) -> str:
    """The stored status, or `abandoned` for a `running` run whose process is gone."""
    return ABANDONED if run.get("abandoned") else str(run.get("status") or "")


def gather(run: dict[str, Any]) -> RunReport:
    """The report of `run`, a dict from `gryt.history.get_run()`."""
    clock = _Clock(_epoch(run.get("start_timestamp")))
    auth = _auth_lane(clock, run)
    runners, failures = _runner_lanes(clock, run)
    deliver, deliveries = _deliveries(clock, run)
    lanes = [lane for lane in (auth, *runners, deliver) if lane is not None]
    clock.at(run.get("end_timestamp"))
    span = max(clock.latest, number(run.get("duration")) or 0.0)
    counts: dict[str, int] = {}
    for lane in runners:
        for bar in lane.bars:
            word = "allowed" if bar.allowed and bar.status == ERROR else bar.status
            counts[word] = counts.get(word, 0) + 1
    return RunReport(run, run_status(run), span, lanes, failures, deliveries, counts)

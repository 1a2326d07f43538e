"""A pipeline's last runs as the trend report draws them: per step, its duration and status in each run,
and how often it failed where it ran. Built from `gryt.history.step_trend()` alone."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any

from gryt.report.timeline import number, run_status
from gryt.status import ERROR, SKIPPED


@dataclass(frozen=True)
class RunPoint:
    """One run on the x axis, oldest first."""

    run_id: str
    status: str
    start: str
    duration: float | None


@dataclass
class Series:
    """One step (`runner/step`) across the runs: None where it was absent."""

    key: str
    durations: list[float | None] = field(default_factory=list)
    statuses: list[str | None] = field(default_factory=list)

    def ran(self) -> list[float]:
        """The durations of the runs where it ran (not absent, not skipped)."""
        return [
            d
            for d, s in zip(self.durations, self.statuses, strict=True)
            if d is not None and s not in (None, SKIPPED)
        ]

    @property
    def executions(self) -> int:
        return sum(1 for s in self.statuses if s not in (None, SKIPPED))

    @property
    def failures(self) -> int:
        return sum(1 for s in self.statuses if s == ERROR)

    @property
    def rate(self) -> float:
        """Failures per run where it ran (0 when it never ran)."""
        return self.failures / self.executions if self.executions else 0.0

    @property
    def median(self) -> float | None:
        ran = self.ran()
        return median(ran) if ran else None

    @property
    def latest(self) -> float | None:
        """Its duration in the newest run where it ran."""
        ran = self.ran()
        return ran[-1] if ran else None


@dataclass(frozen=True)
class Trend:
    """The runs (oldest first) and every step seen in them, in the order they first appeared."""

    pipeline: str
    runs: list[RunPoint]
    steps: list[Series]


def gather(pipeline: str, runs: Sequence[Mapping[str, Any]]) -> Trend:
    """The trend of `runs` (at least one, oldest first, each with `steps` as `step_trend()` returns them)."""
    points: list[RunPoint] = []
    series: dict[str, Series] = {}
    for index, run in enumerate(runs):
        points.append(
            RunPoint(
                str(run.get("run_id")),
                run_status(run),
                str(run.get("start_timestamp") or ""),
                number(run.get("duration")),
            )
        )
        for step in run.get("steps") or []:
            runner = str(step.get("runner_id"))
            key = f"{runner}/{str(step.get('step_id')).removeprefix(f'{runner}/')}"
            line = series.setdefault(key, Series(key))
            missing = index + 1 - len(line.durations)
            line.durations.extend([None] * missing)
            line.statuses.extend([None] * missing)
            line.durations[index] = number(step.get("duration"))
            line.statuses[index] = str(step.get("status") or "")
    for line in series.values():
        missing = len(points) - len(line.durations)
        line.durations.extend([None] * missing)
        line.statuses.extend([None] * missing)
    return Trend(pipeline, points, list(series.values()))

"""The statuses of runs, runners, steps, auth steps, destinations and published artifacts: one vocabulary.

They are plain strings (as stored in the database and in JSON); the Literal types let mypy check every
comparison and assignment, and the constants spare the code from spelling them out.
"""

from __future__ import annotations

from typing import Final, Literal

StepStatus = Literal["success", "error", "skipped", "interrupted", "cached"]
"""A step's result; a runner ends with one of these too (never `cached`). `cached`: the step did not run,
its outputs, log and result were restored from the step cache; it counts as a success everywhere."""

RunStatus = Literal["running", "success", "error", "invalid_env", "auth_failed", "interrupted"]
"""A pipeline run: `running` until it ends, then one of the others."""

OutcomeStatus = Literal["success", "error"]
"""An auth step's result."""

DeliveryStatus = Literal["success", "error", "skipped"]
"""A destination's outcome and each artifact it published: `skipped` when the run did not deliver."""

SUCCESS: Final = "success"
ERROR: Final = "error"
SKIPPED: Final = "skipped"
INTERRUPTED: Final = "interrupted"
RUNNING: Final = "running"
INVALID_ENV: Final = "invalid_env"
AUTH_FAILED: Final = "auth_failed"
CACHED: Final = "cached"
PASSED: Final = (SUCCESS, CACHED)
"""Step statuses that count as a success (a run whose steps all have one of these succeeds)."""

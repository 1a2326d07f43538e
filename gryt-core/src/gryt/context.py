"""The run context: what every step, auth step and hook of one pipeline run shares."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from gryt.masking import Masker

if TYPE_CHECKING:
    from gryt.cache.engine import StepCache
    from gryt.data import Data
    from gryt.variables import Contexts


def new_run_id() -> str:
    """A sortable, unique run id: UTC time plus random suffix."""
    import time

    return time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "-" + uuid.uuid4().hex[:8]


@dataclass
class RunContext:
    """Run id, exported environment, secrets and where to keep logs, for one pipeline run.

    `runner_id` is set on the per-runner copies handed to steps (`for_runner`). `env` holds variables
    exported by auth steps and the runtime; steps merge it onto the inherited environment. `cwd` is
    the runtime's working directory: where steps run unless they set their own (relative ones resolve in it).
    `variables` holds what `${{ }}` and `if` read in this run (None outside a pipeline run).
    """

    run_id: str = field(default_factory=new_run_id)
    runner_id: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    masker: Masker = field(default_factory=Masker)
    data: Data | None = None
    log_dir: Path | None = None
    show: bool = False
    prefix_output: bool = False
    cancel: threading.Event = field(default_factory=threading.Event)
    variables: Contexts | None = None
    cache: StepCache | None = None
    """The step cache of the run (None: steps run without it, `inputs` or not)."""

    def add_secret(self, value: str | None) -> None:
        self.masker.add(value)

    def export(self, name: str, value: str, *, secret: bool = False) -> None:
        """Make `name=value` visible to every later step of this run."""
        self.env[name] = value
        if secret:
            self.masker.add(value)

    def for_runner(self, runner_id: str) -> RunContext:
        """A view for one runner: same env, secrets and cancel flag, with `runner_id` set."""
        return replace(self, runner_id=runner_id)

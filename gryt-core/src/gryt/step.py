"""Steps: the unit of work a runner executes in order."""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from gryt.allow_failure import AllowFailure, AllowFailureSpec, parse_allow_failure
from gryt.conditions import Condition, parse_condition
from gryt.config import MAX_SECONDS, ConfigKey, resolve_config
from gryt.errors import ConfigError
from gryt.process import DEFAULT_MAX_OUTPUT, LazyLog, run_command
from gryt.status import ERROR, INTERRUPTED, SUCCESS, StepStatus
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.cache.spec import CacheSpec
    from gryt.context import RunContext
    from gryt.data import Data
    from gryt.hook import Hook


class Step(Registrable, ABC):
    """A unit of work. `run()` returns a result dict with at least `status`.

    The runner sets `context` before `run()`; a step used on its own gets a fresh context. `data` is
    the step's own store if it was given one, else the run's (`context.data`): one Data shared by
    every step of a run, so `self.data.insert(...)` works in any step the runner runs.

    `allow_failure` (True, `{"exit_codes": [...]}`) makes a failure a warning: the result keeps status
    `error` with `allowed: True`, and the runner goes on as if the step had succeeded. `if_` is its
    condition (`gryt.conditions`): when false the step is recorded `skipped`.
    """

    allow_failure: AllowFailure | None = None
    """Which failures of this step are allowed (None: none); the loader sets it for any step type."""
    condition: Condition | None = None
    """The step's `if` (None: run unless an earlier step failed with fail_fast)."""
    cache_spec: CacheSpec | None = None
    """Its `inputs`/`outputs`/`env_inputs` (None: not cached); the loader sets it for any step type."""

    def __init__(
        self,
        id: str,
        config: dict[str, Any] | None = None,
        data: Data | None = None,
        hook: Hook | None = None,
        *,
        allow_failure: AllowFailureSpec = None,
        if_: str | Condition | None = None,
        inputs: list[str] | None = None,
        outputs: list[str] | None = None,
        env_inputs: list[str] | None = None,
    ) -> None:
        self.id = id
        self.config: dict[str, Any] = resolve_config(self.config_keys, config, where=id)
        self.allow_failure = parse_allow_failure(allow_failure, id)
        self.condition = parse_condition(if_, id)
        if inputs is not None or outputs is not None or env_inputs is not None:
            from gryt.cache.spec import parse_cache_spec

            self.cache_spec = parse_cache_spec(inputs, outputs, env_inputs, id)
        self._data = data
        self.hook = hook
        self.context: RunContext | None = None

    @property
    def data(self) -> Data | None:
        """The step's own store, else the one of the run the runner is running it in."""
        own: Data | None = getattr(self, "_data", None)
        if own is not None:
            return own
        return self.context.data if self.context is not None else None

    @data.setter
    def data(self, value: Data | None) -> None:
        self._data = value

    @abstractmethod
    def run(self) -> dict[str, Any]:
        """Do the work; never raise for an expected failure, return `status: "error"` instead."""

    def validate(self) -> bool:
        """False means the step is skipped (recorded as `skipped`)."""
        return True

    def known_secrets(self) -> list[str]:
        """Secrets in this step's config (a password in a URL): masked from the start of the run, before
        its configuration is recorded. Default: none."""
        return []


MAX_RETRIES = 100
RETRY_DELAY_CAP = 60.0
"""Retry delays double after each attempt up to this many seconds."""


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_PLAIN = re.compile(r"[A-Za-z0-9_-]{1,100}")
"""An id used as is in a log file name: no dot (the runner/step separator), nothing replaced, short."""
_KEPT = 60
"""Characters of the cleaned id kept in front of the hash when an id is not plain."""


def safe_file_part(text: str) -> str:
    """`text` usable as one file-name component (ids may come from TOML and contain anything)."""
    cleaned = _UNSAFE.sub("_", text).strip(".")
    return cleaned or "_"


@lru_cache(maxsize=4096)
def log_name(runner_id: str | None, step_id: str) -> str:
    """The log file name (without `.log`) of `step_id` in `runner_id`, distinct for every pair of ids.

    Plain ids give `runner.step` (readable, and unambiguous: plain ids have no dot). Any other pair
    gets its cleaned ids plus `~` and a hash of both exact ids, so `a.b`/`c` and `a`/`b.c`, `x/y` and
    `x_y`, or two non-ASCII ids never share a file (`~` never appears in a plain name). Destination logs
    (`destination+NAME`) cannot collide with these: `+` is never kept in a step's name.
    """
    ids = [step_id] if runner_id is None else [runner_id, step_id]
    if all(_PLAIN.fullmatch(part) for part in ids):
        return ".".join(ids)
    key = repr((runner_id, step_id)).encode("utf-8", "surrogatepass")
    import hashlib  # loads OpenSSL (~3 ms at start-up): only ids that are not plain need it

    digest = hashlib.blake2s(key, digest_size=6).hexdigest()
    return ".".join(safe_file_part(part)[:_KEPT] for part in ids) + f"~{digest}"


def step_log_path(context: RunContext, step_id: str) -> Path | None:
    """Where a step's full output goes: `<log_dir>/<runner_id>.<step_id>.log` (see `log_name`), or None."""
    path = _log_file(context, step_id)
    return None if path is None else Path(path)


def _log_file(context: RunContext, step_id: str) -> str | None:
    """`step_log_path` as text: a Path is only built for a log that gets written."""
    if context.log_dir is None:
        return None
    return f"{context.log_dir}/{log_name(context.runner_id, step_id)}.log"


def empty_result(status: StepStatus, reason: str) -> dict[str, Any]:
    """The result of a step that did not run (`skipped`, `interrupted`) or failed before starting."""
    return {
        "status": status,
        "returncode": None,
        "stdout": "",
        "stderr": "",
        "duration": 0.0,
        "attempts": 0,
        "timed_out": False,
        "error": reason,
    }


class CommandStep(Step):
    """Run a command (`cmd`, a list of arguments) with retries, a timeout and bounded, masked output."""

    name = "command"
    summary = "Run a command; retries, timeout, env, cwd"
    config_keys: ClassVar[tuple[ConfigKey, ...]] = (
        ConfigKey(
            "cmd",
            (list, str),
            None,
            "Command as a list of arguments (a string needs shell = true)",
            items=(str, int, float),
        ),
        ConfigKey("shell", bool, False, "Run cmd through /bin/sh"),
        ConfigKey(
            "env",
            dict,
            {},
            "Environment variables merged onto the inherited environment",
            items=(str, int, float, bool),
        ),
        ConfigKey("cwd", str, None, "Working directory (default: the runtime's cwd, else the current one)"),
        ConfigKey(
            "timeout",
            (int, float),
            None,
            "Seconds before the whole process tree is killed (0: no limit)",
            minimum=0,
            maximum=MAX_SECONDS,
        ),
        ConfigKey("retries", int, 0, "Extra attempts after a failure", minimum=0, maximum=MAX_RETRIES),
        ConfigKey(
            "retry_delay",
            (int, float),
            1.0,
            "Seconds before the first retry; doubles each time",
            minimum=0,
            maximum=MAX_SECONDS,
        ),
        ConfigKey(
            "max_output", int, DEFAULT_MAX_OUTPUT, "Characters kept per stream (head and tail)", positive=True
        ),
    )

    def __init__(
        self,
        id: str,
        config: dict[str, Any] | None = None,
        data: Data | None = None,
        hook: Hook | None = None,
        *,
        allow_failure: AllowFailureSpec = None,
        if_: str | Condition | None = None,
        inputs: list[str] | None = None,
        outputs: list[str] | None = None,
        env_inputs: list[str] | None = None,
    ) -> None:
        super().__init__(
            id,
            config,
            data,
            hook,
            allow_failure=allow_failure,
            if_=if_,
            inputs=inputs,
            outputs=outputs,
            env_inputs=env_inputs,
        )
        self._check()
        self.log_path: Path | None = None
        """The full output log of the last run, when one was written."""

    def _check(self) -> None:
        cfg = self.config
        cmd = cfg["cmd"]
        where = self.id
        if cmd is None:
            raise ConfigError(f'{where}.cmd: required key is missing (a list like ["make", "test"])')
        if isinstance(cmd, str):
            if not cfg["shell"]:
                raise ConfigError(
                    f"{where}.cmd: a string needs shell = true; or give a list like {cmd.split()[:3]!r}"
                )
            if not cmd.strip():
                raise ConfigError(f"{where}.cmd: the command is empty")
        else:
            if not cmd:
                raise ConfigError(f"{where}.cmd: the command is empty")
            cfg["cmd"] = [str(arg) for arg in cmd]
        cfg["env"] = {
            str(k): str(v).lower() if isinstance(v, bool) else str(v) for k, v in cfg["env"].items()
        }

    def environment(self, context: RunContext) -> dict[str, str] | None:
        """The inherited environment, then the run's exported variables, then this step's `env`.

        None when there is nothing to add: the child then inherits gryt's environment as is (cheaper).
        """
        extra = self.environment_overrides(context)
        return None if extra is None else {**os.environ, **extra}

    def environment_overrides(self, context: RunContext) -> dict[str, str] | None:
        """What this step adds to the inherited environment (the run's exports, then `env`), or None."""
        if not context.env and not self.config["env"]:
            return None
        return {**context.env, **self.config["env"]}

    def command(self, context: RunContext) -> list[str] | str:
        """The command the step runs: `cmd` (a subclass may run another, e.g. `cmd` inside an environment
        it prepared)."""
        cmd: list[str] | str = self.config["cmd"]
        return cmd

    def working_directory(self, context: RunContext) -> str | None:
        """`cwd` of the step, resolved in the runtime's working directory when relative."""
        cwd: str | None = self.config["cwd"]
        if cwd is None:
            return context.cwd
        if context.cwd is not None and not Path(cwd).is_absolute():
            return str(Path(context.cwd) / cwd)
        return cwd

    def run(self) -> dict[str, Any]:
        context = self.context
        if context is None:
            from gryt.context import RunContext

            context = RunContext()
        cfg = self.config
        masker = context.masker
        if type(self).environment is CommandStep.environment:
            env, env_extra = None, self.environment_overrides(context)
        else:  # a subclass builds the whole environment itself
            env, env_extra = self.environment(context), None
        cwd = self.working_directory(context)
        command = self.command(context)
        timeout = cfg["timeout"] or None
        path = _log_file(context, self.id)
        log = LazyLog(path) if path is not None else None
        prefix = None
        if context.show and context.prefix_output:
            prefix = f"{context.runner_id or '-'}/{self.id} | "
        delay = float(cfg["retry_delay"])
        total = 0.0
        attempts = 0
        try:
            while True:
                attempts += 1
                if log is not None and attempts > 1:
                    log.write(f"\n[gryt: attempt {attempts} of {cfg['retries'] + 1}]\n")
                out = run_command(
                    command,
                    shell=cfg["shell"],
                    env=env,
                    env_extra=env_extra,
                    cwd=cwd,
                    timeout=timeout,
                    max_output=cfg["max_output"],
                    masker=masker,
                    log=log,
                    show=context.show,
                    prefix=prefix,
                    cancel=context.cancel,
                )
                total += out.duration
                retryable = out.returncode is not None and not out.interrupted
                if out.ok or not retryable or attempts > cfg["retries"]:
                    break
                if context.cancel.wait(delay):
                    out.interrupted = True
                    out.error = "interrupted"
                    break
                delay = min(delay * 2, max(RETRY_DELAY_CAP, float(cfg["retry_delay"])))
        finally:
            if log is not None:
                log.close()
        self.log_path = Path(path) if path is not None and log is not None and log.written else None
        status: StepStatus = SUCCESS if out.ok else (INTERRUPTED if out.interrupted else ERROR)
        result: dict[str, Any] = {
            "status": status,
            "returncode": out.returncode,
            "stdout": out.stdout,
            "stderr": out.stderr,
            "duration": round(total, 6),
            "attempts": attempts,
            "timed_out": out.timed_out,
        }
        if status != SUCCESS:
            result["error"] = masker.mask(out.error or "failed")
        if out.truncated:
            result["truncated"] = dict(out.truncated)
        if log is not None and log.error is not None:
            result["log_error"] = log.error
        return result

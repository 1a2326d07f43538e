"""Auth steps: log in to a service before any runner starts.

`from gryt.auth import FlyAuth, DockerRegistryAuth` resolves through the plugin registry, so the classes
come from whichever installed plugin provides them.
"""

from __future__ import annotations

import functools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gryt.conditions import Condition, parse_condition
from gryt.config import resolve_config
from gryt.errors import one_line
from gryt.masking import Masker
from gryt.status import SKIPPED, SUCCESS
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.data import Data


AUTHENTICATED = (SUCCESS, SKIPPED)
"""Auth result statuses after which the service is logged in (`skipped`: it already was)."""


class Auth(Registrable, ABC):
    """Authenticate to one service. Subclasses implement `authenticate()` and, if they write
    credentials anywhere, `cleanup()`.

    Inside `authenticate()`, call `self.export(name, value, secret=...)` to hand environment variables
    to every later step, `self.add_secret(value)` for values that must be masked everywhere, and
    `self.mask(text)` before putting a tool's output in a message. The result dict has
    `"status": "success" | "error"` and, on error, `"error"` (one line); the base class records it, so
    `is_authenticated()` needs no help from the subclass. Never put a secret in the result: the
    pipeline masks it anyway, but plugins should not rely on that.

    Once authenticated (or after `mark_authenticated()`), `authenticate()` logs in no more and returns
    `{"status": "skipped", "reason": ...}` until `cleanup()`. With `data` and outside a pipeline that
    records into the same store, each call is recorded as a run of its own (`auth_runs`).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("authenticate")
        if own is not None and not getattr(own, "__isabstractmethod__", False):
            cls.authenticate = _recording(own)  # type: ignore[method-assign,assignment]
        cleanup = cls.__dict__.get("cleanup")
        if cleanup is not None:
            cls.cleanup = _logging_out(cleanup)  # type: ignore[method-assign,assignment]

    condition: Condition | None = None
    """The auth step's `if`: when false it is recorded `skipped` (the loader sets it for any type)."""

    def __init__(
        self,
        id: str,
        config: dict[str, Any] | None = None,
        data: Data | None = None,
        *,
        if_: str | Condition | None = None,
    ) -> None:
        self.id = id
        self.condition = parse_condition(if_, id)
        self.config: dict[str, Any] = resolve_config(self.config_keys, config, where=id)
        self.data = data
        self.context: RunContext | None = None
        self.exported_env: dict[str, str] = {}
        self.secrets: list[str] = []
        self._masker = Masker()
        self._authenticated = False
        self._authenticating = False

    @abstractmethod
    def authenticate(self) -> dict[str, Any]:
        """Log in; return a result dict with `status` and never a secret."""

    def known_secrets(self) -> list[str]:
        """The secrets this step can name before it runs (e.g. the value of its `token_env_var`): the
        pipeline masks them from the start of the run, before anything is recorded. Default: none."""
        return []

    def is_authenticated(self) -> bool:
        return self._authenticated

    def mark_authenticated(self) -> None:
        """Declare the service already logged in (e.g. outside gryt): `authenticate()` then reports skipped."""
        self._authenticated = True

    def cleanup(self) -> None:
        """Remove anything `authenticate()` wrote (credential files); called after the run.

        Afterwards the auth counts as logged out (also when an override raises), so the next
        `authenticate()` logs in again.
        """
        self._authenticated = False

    def export(self, name: str, value: str, *, secret: bool = False) -> None:
        """Export `name=value` to every later step of the run; `secret=True` also masks the value."""
        self.exported_env[name] = value
        if secret:
            self.add_secret(value)
        if self.context is not None:
            self.context.export(name, value, secret=secret)

    def add_secret(self, value: str | None) -> None:
        """Declare `value` secret: it is masked as `***` in output, results, database and logs."""
        if not value:
            return
        self.secrets.append(value)
        self._masker.add(value)
        if self.context is not None:
            self.context.add_secret(value)

    def mask(self, text: str) -> str:
        """`text` with every secret declared so far replaced by `***`: for messages built from a tool's
        output, which the result must never carry unmasked."""
        return self._all_secrets().mask(text)

    def _all_secrets(self) -> Masker:
        """This step's secrets, with the run's when it runs in one, in one matcher (overlaps as a union)."""
        if self.context is None:
            return self._masker
        return self.context.masker.with_secrets(self.secrets)

    def _record(self, result: dict[str, Any], *, duration: float, start_timestamp: str) -> None:
        """Record this attempt as a run of its own in `data`, unless a pipeline records it there."""
        data = self.data
        if data is None or (self.context is not None and self.context.data is data):
            return
        from gryt.context import new_run_id
        from gryt.history import Recorder

        masked: dict[str, Any] = self._all_secrets().mask_obj(dict(result))
        masked.setdefault("duration", duration)
        kind = getattr(type(self), "name", "") or type(self).__name__
        run_id = new_run_id()
        recorder = Recorder(data)
        recorder.run_started(run_id, self.id, {"auth": [{"id": self.id, "type": kind}]})
        recorder.auth_finished(
            run_id, self.id, kind, masked, duration=duration, start_timestamp=start_timestamp
        )
        failed = masked.get("status") not in AUTHENTICATED
        recorder.run_finished(
            run_id,
            "auth_failed" if failed else "success",
            duration=duration,
            error=f"auth step {self.id!r} failed: {masked.get('error') or 'no reason given'}"
            if failed
            else None,
        )


def _recording(authenticate: Callable[[Auth], dict[str, Any]]) -> Callable[[Auth], dict[str, Any]]:
    """Wrap a subclass's `authenticate` so its outcome sets `is_authenticated()`, a repeated call is
    skipped and, standalone with `data`, the attempt is recorded."""

    @functools.wraps(authenticate)
    def wrapper(self: Auth) -> dict[str, Any]:
        if self._authenticating:  # an override calling super().authenticate(): the outer call decides
            return authenticate(self)
        from gryt.history import now_iso

        start_timestamp = now_iso()
        started = time.monotonic()
        if self._authenticated:
            result: Any = {"status": SKIPPED, "reason": "already authenticated; cleanup() logs out"}
        else:
            self._authenticating = True
            try:
                result = authenticate(self)
            except Exception as exc:
                self._record(
                    {"status": "error", "error": one_line(exc)},
                    duration=round(time.monotonic() - started, 6),
                    start_timestamp=start_timestamp,
                )
                raise
            finally:
                self._authenticating = False
            self._authenticated = isinstance(result, dict) and result.get("status") == SUCCESS
        if isinstance(result, dict):
            self._record(
                result, duration=round(time.monotonic() - started, 6), start_timestamp=start_timestamp
            )
        return result  # type: ignore[no-any-return]

    return wrapper


def _logging_out(cleanup: Callable[[Auth], None]) -> Callable[[Auth], None]:
    """Wrap a subclass's `cleanup` so the auth counts as logged out afterwards."""

    @functools.wraps(cleanup)
    def wrapper(self: Auth) -> None:
        try:
            cleanup(self)
        finally:
            self._authenticated = False

    return wrapper


def __getattr__(name: str) -> Any:
    if name.startswith("_"):  # the import system asks for `__path__` and the like: not plugin classes
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from gryt.plugins.manager import import_type

    return import_type(name, __name__)

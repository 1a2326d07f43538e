"""Auth steps: log in to a service before any runner starts.

`from gryt.auth import FlyAuth, DockerRegistryAuth` resolves through the plugin registry, so the classes
come from whichever installed plugin provides them.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from gryt.config import resolve_config
from gryt.masking import Masker
from gryt.status import SUCCESS
from gryt.typeinfo import Registrable

if TYPE_CHECKING:
    from gryt.context import RunContext
    from gryt.data import Data


class Auth(Registrable, ABC):
    """Authenticate to one service. Subclasses implement `authenticate()` and, if they write
    credentials anywhere, `cleanup()`.

    Inside `authenticate()`, call `self.export(name, value, secret=...)` to hand environment variables
    to every later step, `self.add_secret(value)` for values that must be masked everywhere, and
    `self.mask(text)` before putting a tool's output in a message. The result dict has
    `"status": "success" | "error"` and, on error, `"error"` (one line); the base class records it, so
    `is_authenticated()` needs no help from the subclass, and `cleanup()` ends the login (it is False
    afterwards). Never put a secret in the result: the pipeline masks it anyway, but plugins should not
    rely on that.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("authenticate")
        if own is not None and not getattr(own, "__isabstractmethod__", False):
            cls.authenticate = _recording(own)  # type: ignore[method-assign,assignment]
        cleanup = cls.__dict__.get("cleanup")
        if cleanup is not None:
            cls.cleanup = _ending(cleanup)  # type: ignore[method-assign,assignment]

    def __init__(self, id: str, config: dict[str, Any] | None = None, data: Data | None = None) -> None:
        self.id = id
        self.config: dict[str, Any] = resolve_config(self.config_keys, config, where=id)
        self.data = data
        self.context: RunContext | None = None
        self.exported_env: dict[str, str] = {}
        self.secrets: list[str] = []
        self._masker = Masker()
        self._authenticated = False

    @abstractmethod
    def authenticate(self) -> dict[str, Any]:
        """Log in; return a result dict with `status` and never a secret."""

    def is_authenticated(self) -> bool:
        return self._authenticated

    def cleanup(self) -> None:
        """Remove anything `authenticate()` wrote (credential files); called after the run. Afterwards
        `is_authenticated()` is False, also when an override raises."""
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
        return self._masker.mask(text)


def _recording(authenticate: Callable[[Auth], dict[str, Any]]) -> Callable[[Auth], dict[str, Any]]:
    """Wrap a subclass's `authenticate` so its outcome sets `is_authenticated()`."""

    @functools.wraps(authenticate)
    def wrapper(self: Auth) -> dict[str, Any]:
        self._authenticated = False
        result = authenticate(self)
        self._authenticated = isinstance(result, dict) and result.get("status") == SUCCESS
        return result

    return wrapper


def _ending(cleanup: Callable[[Auth], None]) -> Callable[[Auth], None]:
    """Wrap a subclass's `cleanup` so `is_authenticated()` is False once it ran."""

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

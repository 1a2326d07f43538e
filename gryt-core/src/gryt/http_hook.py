"""The `http` hook: POST every pipeline event as `{"event", "payload"}` JSON, without slowing the run.

Events go into a bounded queue that one background thread sends in order; the run only waits, at its
end, up to `flush_timeout` seconds for the queue to drain. Payloads arrive masked (the run's secrets)
and are cut to `max_payload` bytes; header values read from `headers_env` are declared secret.
"""

from __future__ import annotations

import collections
import functools
import json
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gryt.config import MAX_SECONDS, ConfigKey, did_you_mean, resolve_config
from gryt.errors import ConfigError, GrytError, one_line
from gryt.hook import Hook
from gryt.masking import Masker

if TYPE_CHECKING:
    from gryt.context import RunContext

EVENTS = ("pipeline_start", "step_start", "step_end", "error", "pipeline_end")
MIN_PAYLOAD = 1024
"""Smallest accepted `max_payload`: room for the event name, the ids and a truncation marker."""


class HttpHookError(GrytError):
    """Events were dropped or not delivered; raised from a hook method so the run reports one warning."""


def safe_url(url: str) -> str:
    """`url` without user info, query or fragment: what messages may show."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _cut(value: Any, keep: int) -> Any:
    """`value` with every string longer than `keep` characters cut to its head."""
    if isinstance(value, str) and len(value) > keep:
        return f"{value[:keep]}... [{len(value) - keep} characters cut]"
    if isinstance(value, dict):
        return {k: _cut(v, keep) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cut(v, keep) for v in value]
    return value


def encode_event(event: str, payload: dict[str, Any], limit: int) -> bytes:
    """The JSON body for one event, at most `limit` bytes: long strings are cut first, then the payload
    is replaced by a marker saying how big it was."""

    def dump(body: dict[str, Any]) -> bytes:
        return json.dumps(body, default=str, ensure_ascii=False).encode("utf-8")

    body = dump({"event": event, "payload": payload})
    size = len(body)
    keep = 4096
    while len(body) > limit and keep >= 16:
        body = dump({"event": event, "payload": {**_cut(payload, keep), "truncated": True}})
        keep //= 4
    if len(body) > limit:
        body = dump({"event": event, "payload": {"truncated": True, "bytes": size}})
    return body


class HttpHook(Hook):
    """POST `{"event": ..., "payload": {...}}` for every pipeline, step and error event to `base_url` +
    `paths[event]` (default `/<event>`), from a background thread; gryt-ci 1.x's `HttpHook`, non-blocking."""

    name = "http"
    summary = "POST every pipeline/step event as JSON to a URL, in the background"
    config_keys = (
        ConfigKey("base_url", str, None, "http(s) URL events are posted to", required=True),
        ConfigKey("headers", dict, {}, "Extra request headers with plain values (secrets: headers_env)"),
        ConfigKey("headers_env", dict, {}, "Header name -> environment variable holding its (secret) value"),
        ConfigKey("timeout", (int, float), 10.0, "Seconds one request may take", maximum=MAX_SECONDS),
        ConfigKey("paths", dict, {}, "Event name -> path appended to base_url (default: /<event name>)"),
        ConfigKey("max_queue", int, 1000, "Events waiting to be sent; when full the oldest is dropped"),
        ConfigKey("max_payload", int, 65536, "Bytes of JSON per event; long strings are cut to fit"),
        ConfigKey(
            "flush_timeout",
            (int, float),
            1.0,
            "Seconds the run's end waits for unsent events",
            maximum=MAX_SECONDS,
        ),
    )

    def __init__(
        self,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        paths: Mapping[str, str] | None = None,
        **options: Any,
    ) -> None:
        given = {"base_url": base_url, "headers": headers, "timeout": timeout, "paths": paths}
        given = {k: dict(v) if isinstance(v, Mapping) else v for k, v in given.items() if v is not None}
        super().__init__(**resolve_config(self.config_keys, {**given, **options}, where=self.name))
        self.base_url: str = self.options["base_url"]
        if urlsplit(self.base_url).scheme not in ("http", "https") or not urlsplit(self.base_url).hostname:
            raise ConfigError(
                f"{self.name}.base_url: expected an http:// or https:// URL, got {safe_url(self.base_url)!r}"
            )
        for key in ("headers", "headers_env", "paths"):
            for name, value in self.options[key].items():
                if not isinstance(value, str) or not value:
                    raise ConfigError(f"{self.name}.{key}.{name}: expected a non-empty string")
        for event in self.options["paths"]:
            if event not in EVENTS:
                raise ConfigError(
                    f"{self.name}.paths.{event}: unknown event{did_you_mean(event, EVENTS)}; events: {', '.join(EVENTS)}"
                )
        if self.options["timeout"] <= 0:
            raise ConfigError(f"{self.name}.timeout: must be a positive number of seconds")
        for key, low in (("flush_timeout", 0), ("max_queue", 1), ("max_payload", MIN_PAYLOAD)):
            if self.options[key] < low:
                raise ConfigError(f"{self.name}.{key}: must be at least {low}, got {self.options[key]!r}")
        self.headers: dict[str, str] = dict(self.options["headers"])
        self.masker = Masker()
        self._queue: collections.deque[tuple[str, bytes]] = collections.deque()
        self._cond = threading.Condition()
        self._running = False
        self._dropped = 0
        self._warned_full = False
        self._failed = 0
        self._first_failure: str | None = None

    # -- Hook methods: build the event, queue it, return at once --------------------------------------

    def on_pipeline_start(self, pipeline: Any, context: RunContext | None = None) -> None:
        self._take_problems()  # a new run reports only its own problems
        with self._cond:
            self._warned_full = False
        missing = self._read_header_env(context)
        payload = {
            "pipeline": getattr(pipeline, "name", None),
            "runners": len(getattr(pipeline, "runners", [])),
        }
        self._post("pipeline_start", payload, context)
        if missing:
            raise HttpHookError(f"{', '.join(missing)} not set: events are sent without those headers")

    def on_step_start(self, step: Any, context: RunContext | None = None) -> None:
        self._post("step_start", {"id": getattr(step, "id", None)}, context)

    def on_step_end(self, step: Any, result: dict[str, Any], context: RunContext | None = None) -> None:
        self._post("step_end", {"id": getattr(step, "id", None), "result": result}, context)

    def on_error(self, scope: str, error: BaseException | str, context: RunContext | None = None) -> None:
        self._post(
            "error",
            {"scope": scope, "error": one_line(error) if isinstance(error, BaseException) else error},
            context,
        )

    def on_pipeline_end(
        self, pipeline: Any, results: dict[str, Any], context: RunContext | None = None
    ) -> None:
        self._post("pipeline_end", {"pipeline": getattr(pipeline, "name", None), "results": results}, context)
        delivered = self.flush(self.options["flush_timeout"])
        problems = self._take_problems()
        if not delivered:
            with self._cond:
                pending = len(self._queue)
            problems.append(f"{pending + 1} event(s) still unsent after {self.options['flush_timeout']:g} s")
        if problems:
            raise HttpHookError(self.masker.mask(f"{safe_url(self.base_url)}: {'; '.join(problems)}"))

    def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds until every queued event was sent (or failed); True if so."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._running, timeout)

    # -- internals ------------------------------------------------------------------------------------

    def _read_header_env(self, context: RunContext | None) -> list[str]:
        """Fill the secret headers from the environment (the run's exports on top); names of missing ones."""
        env = {**os.environ, **(context.env if context is not None else {})}
        missing = []
        for header, variable in self.options["headers_env"].items():
            value = env.get(variable)
            if not value:
                self.headers.pop(header, None)
                missing.append(variable)
                continue
            self.headers[header] = value
            self.masker.add(value)
            if context is not None:
                context.add_secret(value)
        return missing

    def _post(self, event: str, payload: dict[str, Any], context: RunContext | None) -> None:
        if context is not None:
            payload = {"run_id": context.run_id, "runner_id": context.runner_id, **payload}
        body = encode_event(event, self.masker.mask_obj(payload), self.options["max_payload"])
        url = f"{self.base_url.rstrip('/')}/{self.options['paths'].get(event, event).lstrip('/')}"
        first_drop = False
        with self._cond:
            if len(self._queue) >= self.options["max_queue"]:
                self._queue.popleft()
                self._dropped += 1
                first_drop, self._warned_full = not self._warned_full, True
            self._queue.append((url, body))
            if not self._running:
                self._running = True
                threading.Thread(target=self._send_all, name="gryt-http-hook", daemon=True).start()
            self._cond.notify_all()
        if first_drop:
            raise HttpHookError(
                f"{safe_url(self.base_url)} is not keeping up: queue of {self.options['max_queue']} full, "
                "dropping the oldest events"
            )

    def _send_all(self) -> None:
        """The sender thread: post queued events in order until the queue is empty, then end."""
        while True:
            with self._cond:
                if not self._queue:
                    self._running = False
                    self._cond.notify_all()
                    return
                url, body = self._queue.popleft()
            problem = self._send(url, body)
            if problem is not None:
                with self._cond:
                    self._failed += 1
                    self._first_failure = self._first_failure or problem

    def _send(self, url: str, body: bytes) -> str | None:
        """POST one event; a one-line reason (headers masked) when it was not accepted."""
        import urllib.error
        import urllib.request

        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "gryt-http-hook", **self.headers},
        )
        try:
            with urllib.request.build_opener(_no_redirect()).open(request, timeout=self.options["timeout"]):
                return None
        except urllib.error.HTTPError as exc:
            return self.masker.mask(f"HTTP {exc.code} {exc.reason}")
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", None) or exc
            return self.masker.mask(one_line(reason) if isinstance(reason, BaseException) else str(reason))

    def _take_problems(self) -> list[str]:
        """What went wrong since the last report (dropped and failed events), then reset the counts."""
        with self._cond:
            problems = []
            if self._dropped:
                problems.append(f"{self._dropped} event(s) dropped (queue full)")
            if self._failed:
                problems.append(f"{self._failed} event(s) not delivered, first: {self._first_failure}")
            self._dropped = self._failed = 0
            self._first_failure = None
        return problems


@functools.cache
def _no_redirect() -> type:
    """The redirect handler class, made on first use so importing this module stays cheap."""
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        """Refuse redirects: one could carry the secret headers to another host."""

        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    return NoRedirect

"""The run summary and the HTTP POST that delivers it (standard library only; no redirects followed)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit


class WebhookError(Exception):
    """The webhook could not be reached or answered with an error; the message is one line."""


def safe_url(url: str) -> str:
    """`url` without user info, query or fragment, for messages (they may hold credentials)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _runner_status(steps: dict[str, Any]) -> str:
    statuses = [r.get("status") for r in steps.values() if isinstance(r, dict)]
    if "error" in statuses:
        return "error"
    if statuses and all(s == "skipped" for s in statuses):
        return "skipped"
    return "success"


def build_summary(pipeline: Any, result: dict[str, Any], context: Any) -> dict[str, Any]:
    """A compact JSON summary of a run: statuses, durations and one-line errors, never step output."""
    import datetime

    from gryt import __version__

    runners: dict[str, Any] = {}
    for runner_id, steps in (result.get("runners") or {}).items():
        step_summaries: dict[str, Any] = {}
        for step_id, step in steps.items():
            entry = {"status": step.get("status"), "duration": step.get("duration")}
            if step.get("error"):
                entry["error"] = step["error"]
            step_summaries[step_id] = entry
        runners[runner_id] = {"status": _runner_status(steps), "steps": step_summaries}
    return {
        "event": "pipeline_end",
        "run_id": result.get("run_id") or getattr(context, "run_id", None),
        "pipeline": getattr(pipeline, "name", None),
        "status": result.get("status"),
        "runners": runners,
        "auth": {auth_id: r.get("status") for auth_id, r in (result.get("auth") or {}).items()},
        "issues": [issue.get("message") for issue in result.get("issues") or []],
        "destinations": {
            dest_id: [{"artifact": d.get("artifact"), "status": d.get("status")} for d in published]
            for dest_id, published in (result.get("destinations") or {}).items()
        },
        "gryt_version": __version__,
        "sent_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def post_json(url: str, payload: dict[str, Any], *, headers: dict[str, str], timeout: float) -> int:
    """POST `payload` as JSON; returns the HTTP status, raises WebhookError for anything but 2xx."""
    import urllib.error
    import urllib.request

    from gryt_webhook import __version__

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # a redirect could carry the auth header to another host

    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": f"gryt-webhook/{__version__}",
            **headers,
        },
    )
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=timeout) as response:
            status: int = response.status
    except urllib.error.HTTPError as exc:
        raise WebhookError(f"webhook {safe_url(url)} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise WebhookError(f"cannot reach webhook {safe_url(url)}: {reason}") from None
    return status

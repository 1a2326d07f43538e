"""Lifecycle hooks of gryt-webhook; gryt loads this module through the `webhook` entry point.

Only cheap imports here: settings are read and the HTTP client is imported when a run starts or ends.
"""

from __future__ import annotations

from typing import Any

from gryt import hookimpl


@hookimpl
def gryt_pipeline_start(context: Any) -> None:
    """Declare the auth header value a run secret before any step can print it."""
    from gryt_webhook.settings import load_settings

    settings = load_settings()
    if settings is None:
        return
    token = settings.token()
    if token:
        context.add_secret(token)
        context.add_secret(settings.header_value(token))


@hookimpl
def gryt_pipeline_end(pipeline: Any, result: dict[str, Any], context: Any) -> None:
    """Post the run summary; a failure raises WebhookError, which gryt reports without failing the run."""
    from gryt_webhook.client import build_summary, post_json
    from gryt_webhook.settings import load_settings

    settings = load_settings()
    if settings is None:
        return
    summary = build_summary(pipeline, result, context)
    masker = getattr(context, "masker", None)
    if masker is not None:
        summary = masker.mask_obj(summary)
    post_json(settings.url, summary, headers=settings.headers(), timeout=settings.timeout)

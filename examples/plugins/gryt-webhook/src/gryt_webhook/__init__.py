"""gryt-webhook: a gryt plugin that posts each pipeline run's summary as JSON to a URL."""

from __future__ import annotations

__version__ = "0.1.0"

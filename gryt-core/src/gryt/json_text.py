"""JSON as gryt stores it in the run history: one encoder for every writer."""

from __future__ import annotations

import json
from typing import Any

_JSON = json.JSONEncoder(default=str, ensure_ascii=False)


def to_json(value: Any) -> str:
    """JSON as gryt stores it: UTF-8 text kept as is, anything unknown written as its `str()`."""
    return _JSON.encode(value)

"""Small helpers `show` and `diff` share: values as one line of text, JSON-safe values, numbers."""

from __future__ import annotations

import json
import math
from typing import Any

MISSING = "—"


def text(value: Any) -> str:
    """One line of text for any value a log holds; None is `—` (renderers shorten it to fit, not this)."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        out = f"{value:.6g}" if math.isfinite(value) else str(value)
    elif isinstance(value, (list, dict)):
        out = json.dumps(plain(value), ensure_ascii=False, separators=(", ", ": "))
    else:
        out = " ".join(str(value).split())
    return out


def plain(value: Any) -> Any:
    """JSON has no nan/inf: they travel as the strings Python prints; other odd types as text."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def dumps(doc: Any) -> str:
    return json.dumps(plain(doc), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


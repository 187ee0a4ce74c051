"""Small helpers `show` and `diff` share: values as short text, JSON-safe values, rich-or-plain output."""

from __future__ import annotations

import json
import math
import sys
from typing import Any

MISSING = "—"


def text(value: Any, limit: int | None = 80) -> str:
    """One line of text for any value a log holds; None is `—`."""
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
    if limit is not None and len(out) > limit:
        out = out[: limit - 1] + "…"
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


def number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def aligned(pairs: list[tuple[str, ...]], indent: str = "  ") -> list[str]:
    """Rows of cells as left-aligned columns (the last column is not padded)."""
    if not pairs:
        return []
    widths = [max(len(row[i]) for row in pairs) for i in range(len(pairs[0]) - 1)]
    lines = []
    for row in pairs:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def console():
    """A rich Console for stdout: the terminal's width, or wide enough not to wrap when piped."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    return Console(width=160)

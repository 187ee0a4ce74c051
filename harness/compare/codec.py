"""Runs and warnings as JSON text, and back: the parse cache's payload (harness/compare/cache.py).

JSON, never pickle: the cache is a file on disk that anybody could hand us. Encoding takes each Run's own
`__dict__` (its fields; json walks the nested values in C) rather than dataclasses.asdict, whose deep copy
cost six times more. Decoding goes through msgspec, three times faster than the json module on these many
small dicts, where the two agree (runlog.trainer_text.json_loads: a nan loss's `NaN` token, say, is read by
the json module).
"""

from __future__ import annotations

import json

from harness.compare.records import ParseWarning, Run
from harness.runlog.trainer_text import json_loads


def dumps(runs: list[Run], warnings: list[ParseWarning]) -> str | None:
    """The payload, or None when some value has no JSON form (a YAML date, say): then it is not cached."""
    try:
        return json.dumps({"runs": [vars(run) for run in runs],
                           "warnings": [[w.path, w.line, w.message] for w in warnings]}, check_circular=False)
    except (TypeError, ValueError):
        return None


def loads(payload: str | bytes) -> tuple[list[Run], list[ParseWarning]]:
    """Raises ValueError, TypeError or KeyError on a payload that is not one `dumps` wrote."""
    data = json_loads(payload)
    return [Run(**run) for run in data["runs"]], [ParseWarning(*w) for w in data["warnings"]]

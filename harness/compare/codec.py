"""Runs and warnings as JSON text, and back: the parse cache's payload (harness/compare/cache.py).

JSON, never pickle: the cache is a file on disk that anybody could hand us. Encoding takes each Run's own
`__dict__` (its fields; json walks the nested values in C) rather than dataclasses.asdict, whose deep copy
cost six times more. The fields no table reads stay encoded until first used (DEFERRED). Decoding goes
through msgspec, three times faster than the json module on these many small dicts, where the two agree
(runlog.trainer_text.json_loads: a nan loss's `NaN` token, say, is read by the json module).
"""

from __future__ import annotations

import dataclasses
import json

from harness.compare.records import ENCODED, ParseWarning, Run
from harness.runlog.trainer_text import json_loads

# Fields no table, lineage or review reads: kept as one JSON string inside the payload, decoded by the Run
# itself on first use (records.Run.__getattr__). Half of a payload's objects; show, diff and plot read them.
DEFERRED = ("config", "model", "data", "samples", "lines", "args", "commands", "errors", "resumed", "history")
_EAGER = tuple(f.name for f in dataclasses.fields(Run) if f.name not in DEFERRED)
_PAYLOAD_KEYS = frozenset(_EAGER) | {ENCODED}


def dumps(runs: list[Run], warnings: list[ParseWarning]) -> str | None:
    """The payload, or None when some value has no JSON form (a YAML date, say): then it is not cached."""
    try:
        return json.dumps({"runs": [_encoded(run) for run in runs],
                           "warnings": [[w.path, w.line, w.message] for w in warnings]}, check_circular=False)
    except (TypeError, ValueError):
        return None


def _encoded(run: Run) -> dict:
    fields = vars(run) if ENCODED not in vars(run) else dataclasses.asdict(run)  # a cached run, stored again
    out = {name: fields[name] for name in _EAGER}
    out[ENCODED] = json.dumps({name: fields[name] for name in DEFERRED}, check_circular=False)
    return out


def loads(payload: str | bytes) -> tuple[list[Run], list[ParseWarning]]:
    """Raises ValueError, TypeError or KeyError on a payload that is not one `dumps` wrote."""
    data = json_loads(payload)
    return [_run(fields) for fields in data["runs"]], [ParseWarning(*w) for w in data["warnings"]]


def _run(fields: dict) -> Run:
    """A Run whose deferred fields stay encoded: built without __init__, which would fill them with defaults."""
    if fields.keys() != _PAYLOAD_KEYS:
        raise KeyError("not a payload of this version")
    run = Run.__new__(Run)
    run.__dict__.update(fields)
    return run

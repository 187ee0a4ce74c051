"""Runs and warnings as JSON, and back: the parse cache's entry for one file (harness/compare/cache.py).

JSON, never pickle: the cache is a file on disk that anybody could hand us. An entry is two byte strings.
`payload`: the runs' fields a table, lineage or review reads, and the file's warnings. `deferred`: the rest
of each run (DEFERRED), its JSON texts one after another, which the run decodes itself on first use
(records.Run.__getattr__) from the span the payload gives; a table never decodes them. Encoding takes each
Run's own `__dict__` (json walks the nested values in C) rather than dataclasses.asdict, whose deep copy cost
six times more. Decoding goes through msgspec where it agrees with the json module
(runlog.trainer_text.json_loads: a nan loss's `NaN` token, say, is read by the json module), and takes many
payloads in one call (`loads_many`): per call, msgspec costs as much as a small payload's whole decoding.
"""

from __future__ import annotations

import dataclasses
import json

from harness.compare.records import ENCODED, ParseWarning, Run
from harness.runlog.trainer_text import json_loads

# Fields no table, lineage or review reads; half of a payload's objects. show, diff and plot read them.
DEFERRED = ("config", "model", "data", "samples", "lines", "args", "commands", "errors", "resumed", "history")
_EAGER = tuple(f.name for f in dataclasses.fields(Run) if f.name not in DEFERRED)
_PAYLOAD_KEYS = frozenset(_EAGER) | {ENCODED}

Read = tuple[list[Run], list[ParseWarning]]


def dumps(runs: list[Run], warnings: list[ParseWarning]) -> tuple[bytes, bytes] | None:
    """(payload, deferred), or None when some value has no JSON form (a YAML date, say): then it is not cached."""
    entries, rest, at = [], [], 0
    try:
        for run in runs:
            fields = vars(run) if ENCODED not in vars(run) else dataclasses.asdict(run)  # a cached run, again
            text = json.dumps({name: fields[name] for name in DEFERRED}, check_circular=False).encode()
            entries.append({name: fields[name] for name in _EAGER} | {ENCODED: [at, at + len(text)]})
            rest.append(text)
            at += len(text)
        payload = json.dumps({"runs": entries, "warnings": [[w.path, w.line, w.message] for w in warnings]},
                             check_circular=False)
    except (TypeError, ValueError):
        return None
    return payload.encode(), b"".join(rest)


def loads(payload: bytes, deferred: bytes) -> Read:
    """Raises ValueError, TypeError or KeyError on an entry that is not one `dumps` wrote."""
    return _read(json_loads(payload), deferred)


def loads_many(entries: list[tuple[bytes, bytes]]) -> list[Read | None]:
    """`loads` of each entry, decoded in one call; None for an entry that is not one `dumps` wrote."""
    try:
        decoded = json_loads(b"[" + b",".join(payload for payload, _ in entries) + b"]")
        if not isinstance(decoded, list) or len(decoded) != len(entries):
            raise ValueError("not payloads")
    except ValueError:  # a damaged entry among them: each on its own
        return [_or_none(loads, *entry) for entry in entries]
    return [_or_none(_read, data, deferred) for data, (_, deferred) in zip(decoded, entries)]


def _or_none(read, *args) -> Read | None:
    try:
        return read(*args)
    except (ValueError, TypeError, KeyError):
        return None


def _read(data: dict, deferred: bytes) -> Read:
    return [_run(fields, deferred) for fields in data["runs"]], [ParseWarning(*w) for w in data["warnings"]]


def _run(fields: dict, deferred: bytes) -> Run:
    """A Run whose deferred fields stay encoded: built without __init__, which would fill them with defaults."""
    if fields.keys() != _PAYLOAD_KEYS:
        raise KeyError("not a payload of this version")
    start, end = fields[ENCODED]
    run = Run.__new__(Run)
    run.__dict__.update(fields)
    run.__dict__[ENCODED] = deferred[start:end]
    return run

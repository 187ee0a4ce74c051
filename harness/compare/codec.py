"""Runs and warnings as MessagePack, and back: the parse cache's entry for one file (harness/compare/cache.py),
and what a pool worker hands back (harness/compare/pool.py).

Data only, never pickle: the cache is a file on disk that anybody could hand us. An entry is two byte
strings. `payload`: the runs' fields a table, lineage or review reads, and the file's warnings. `deferred`:
the rest of each run (DEFERRED), one encoding after another, which the run decodes itself on first use
(records.Run.__getattr__) from the span the payload gives; a table never decodes them. msgspec encodes each
Run's own `__dict__` in C, four times faster than pickle and the json module, decodes three times faster than
pickle, and takes many payloads in one call (`loads_many`: per call it costs as much as decoding a small
payload). MessagePack keeps what JSON loses (nan, an integer key); what it cannot hold (an integer past 64
bits) is not encoded. As with JSON, a tuple comes back a list, and the few YAML types a hand-edited run log
can hold come back as their ISO text (a date) or a list (a set).
"""

from __future__ import annotations

import dataclasses

import msgspec

from harness.compare.records import ENCODED, ParseWarning, Run

# Fields no table, lineage or review reads; half of a payload's objects. show, diff and plot read them.
# Only fields with a default_factory: a plain default is a class attribute, which hides Run.__getattr__.
DEFERRED = ("config", "model", "data", "samples", "lines", "args", "commands", "errors", "resumed", "history",
            "warnings", "merged_from")
_EAGER = tuple(f.name for f in dataclasses.fields(Run) if f.name not in DEFERRED)
_PAYLOAD_KEYS = frozenset(_EAGER) | {ENCODED}
_ENCODE = msgspec.msgpack.Encoder().encode
decode = msgspec.msgpack.Decoder().decode  # raises msgspec.DecodeError (a ValueError) on what is not MessagePack

Read = tuple[list[Run], list[ParseWarning]]
Entry = tuple[bytes, bytes]


def dumps(runs: list[Run], warnings: list[ParseWarning]) -> Entry | None:
    """(payload, deferred), or None when some value has no encoding (a huge integer): then it is not cached."""
    entries, rest, at = [], [], 0
    try:
        for run in runs:
            fields = vars(run)
            text = fields.get(ENCODED)  # a cached run's fields not used since: they are still encoded
            if text is None:
                text = _ENCODE({name: fields[name] for name in DEFERRED})
            entries.append({name: fields[name] for name in _EAGER} | {ENCODED: [at, at + len(text)]})
            rest.append(text)
            at += len(text)
        payload = _ENCODE({"runs": entries, "warnings": [[w.path, w.line, w.message] for w in warnings]})
    except (TypeError, ValueError, OverflowError):
        return None
    return payload, b"".join(rest)


def loads(payload: bytes, deferred: bytes) -> Read:
    """Raises ValueError, TypeError, KeyError or AttributeError on an entry that is not one `dumps` wrote."""
    return _read(decode(payload), deferred)


def loads_many(entries: list[Entry]) -> list[Read | None]:
    """`loads` of each entry, decoded in one call; None for an entry that is not one `dumps` wrote."""
    try:
        # One MessagePack array (header 0xdd: a 32-bit count) of the payloads as they are.
        decoded = decode(b"\xdd" + len(entries).to_bytes(4, "big") + b"".join(payload for payload, _ in entries))
    except (ValueError, OverflowError):  # a damaged entry among them: each on its own
        return [loads_or_none(*entry) for entry in entries]
    return [_or_none(_read, data, deferred) for data, (_, deferred) in zip(decoded, entries)]


def loads_or_none(payload: bytes, deferred: bytes) -> Read | None:
    """`loads`, or None for an entry that is not one `dumps` wrote."""
    return _or_none(loads, payload, deferred)


def _or_none(read, *args) -> Read | None:
    try:
        return read(*args)
    except (ValueError, TypeError, KeyError, AttributeError):  # AttributeError: a run that is no mapping
        return None


def _read(data: dict, deferred: bytes) -> Read:
    return [_run(fields, deferred) for fields in data["runs"]], [ParseWarning(*w) for w in data["warnings"]]


def _run(fields: dict, deferred: bytes) -> Run:
    """A Run whose deferred fields stay encoded: built without __init__, which would fill them with defaults."""
    if fields.keys() != _PAYLOAD_KEYS:
        raise KeyError("not a payload of this version")
    start, end = fields[ENCODED]
    run = Run.__new__(Run)
    run.__dict__ = fields
    fields[ENCODED] = deferred[start:end]
    return run

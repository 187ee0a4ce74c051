"""Adapter: the run log (docs/LOG_FORMAT.md) in the reader registry; its reader is harness/runlog/reader.py."""

from __future__ import annotations

from harness.compare.readers import Reader, Result, is_text_log, stem
from harness.compare.records import ParseWarning
from harness.runlog.reader import MAGIC, parse_runlog

_ANY_FORMAT = "#### run_clm.py log (format"


def _first_line(text: str) -> str:
    end = text.find("\n")
    return (text if end < 0 else text[:end]).rstrip()


def recognise(path: str, head: str) -> bool:
    return head.startswith(_ANY_FORMAT)


def read(path: str, text: str) -> Result:
    run, warnings = parse_runlog(path, text, stem(path))
    if _first_line(text) != MAGIC:
        warnings = [ParseWarning(path, 1, "unknown run-log format; read as format 1")] + warnings
    return [run], warnings


READER = Reader("run log", is_text_log, recognise, read)

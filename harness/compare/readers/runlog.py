"""Run logs (docs/LOG_FORMAT.md) as Runs: the typed view of harness.runlog.reader's LogText, in the registry."""

from __future__ import annotations

from typing import Any

from harness.compare.readers import Reader, Result, is_text_log, stem
from harness.compare.records import RUNLOG, ParseWarning, Run
from harness.runlog.format import ATTRIBUTES, DICT_SECTIONS, LISTS, MAGIC, MAGIC_PREFIX
from harness.runlog.reader import LogText, parse


def to_run(log: LogText, default_version: str) -> Run:
    """The typed view the tables use: one Run, every field given its slot."""
    fields = log.fields
    run = Run(version=fields.get("version") or default_version, source=log.path, source_kind=RUNLOG)
    for key in ("parent", "started", "status", "ended"):
        setattr(run, key, fields.get(key))
    run.parent = log.parent
    run.notes = "\n".join(log.lists.get("note", []))
    for key, attribute in LISTS.items():
        setattr(run, attribute, list(log.lists.get(key, [])))
    run.fields = {k: v for k, v in fields.items() if k not in ATTRIBUTES and k not in LISTS and k != "note"}
    run.lines = dict(log.lines)
    run.history = list(log.history)
    _fill_sections(run, log)
    _fill_metrics(run, log.metrics)
    return run


def _fill_sections(run: Run, log: LogText) -> None:
    for name, value in log.sections.items():
        if name in DICT_SECTIONS:
            if isinstance(value, dict):
                getattr(run, name).update(value)
            elif value is not None:
                log.warn(log.lines.get(name, 0), f"section `{name}` is not a mapping")
        elif name == "samples" and isinstance(value, list):
            run.samples = value


def _fill_metrics(run: Run, metrics: dict[str, dict[str, Any]]) -> None:
    blocks = dict(metrics)
    run.train_metrics = dict(blocks.pop("train", {}))
    eval_metrics = dict(blocks.pop("eval", {}))
    for other in blocks.values():  # test/predict blocks carry their own key prefix
        eval_metrics.update({k: v for k, v in other.items() if k not in eval_metrics})
    run.eval_metrics = eval_metrics


def parse_runlog(path: str, text: str, default_version: str) -> tuple[Run, list[ParseWarning]]:
    log = parse(path, text)
    run = to_run(log, default_version)
    return run, [ParseWarning(path, line, message) for line, message in log.warnings]


def recognise(path: str, head: str) -> bool:
    return head.startswith(MAGIC_PREFIX)


def read(path: str, text: str) -> Result:
    run, warnings = parse_runlog(path, text, stem(path))
    first = text[: text.find("\n")] if "\n" in text else text
    if first.rstrip() != MAGIC:  # a newer writer's format: read as ours, and say so
        warnings = [ParseWarning(path, 1, "unknown run-log format; read as format 1")] + warnings
    return [run], warnings


READER = Reader("run log", is_text_log, recognise, read)

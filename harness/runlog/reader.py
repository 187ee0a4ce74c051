"""Reader for the run logs run_clm.py writes (docs/LOG_FORMAT.md, format 1): text -> one Run."""

from __future__ import annotations

import re
from typing import Any

from harness.compare.records import RUNLOG, ParseWarning, Run
from harness.runlog import fastyaml
from harness.runlog.trainer_text import find_periodic, metrics_line, parse_dict_literal, parse_metric_value

MAGIC = "#### run_clm.py log (format 1) ####"
# One construct of the format per match; the last alternative swallows any other line.
_TOKEN_RE = re.compile(
    r"^(?:----- (?P<section>\S(?:[^\n]*\S)?) -----[ \t]*\n(?P<body>(?:[ \t][^\n]*\n|\n)*)"
    r"|\*{5} (?P<split>\w+) metrics \*{5}[ \t]*\n(?P<block>(?:[ \t][^\n]*\n)*)"
    r"|(?P<periodic>\{[^\n]*)\n"
    r"|(?P<key>[a-z_]+):(?: (?P<value>[^\n]*))?\n"
    r"|[^\n]*\n)",
    re.MULTILINE,
)
_BLOCK_LINE_RE = re.compile(r"^\s*([A-Za-z_][\w./-]*)\s*=\s*(\S[^\n]*?)\s*$", re.MULTILINE)
_ATTRIBUTES = ("version", "parent", "started", "status", "ended")  # last one wins
_LISTS = {"command": "commands", "resumed": "resumed", "error": "errors", "warning": "warnings"}
_DICT_SECTIONS = ("config", "environment", "data", "model", "summary", "bench")


def is_runlog(first_line: str) -> bool:
    return first_line.rstrip("\r\n ") == MAGIC


class _Reader:
    def __init__(self, path: str, run: Run):
        self.path = path
        self.run = run
        self.warnings: list[ParseWarning] = []
        self.notes: list[str] = []
        self.sections: list[tuple[str, int, str]] = []  # (name, marker line, body text)
        self.metrics: dict[str, dict[str, Any]] = {}

    def warn(self, lineno: int, message: str) -> None:
        self.warnings.append(ParseWarning(self.path, lineno, message))

    def field(self, lineno: int, key: str, value: str) -> None:
        run = self.run
        run.lines.setdefault(key, lineno)
        if key in _ATTRIBUTES:
            setattr(run, key, value)
            run.lines[key] = lineno
        elif key == "note":
            self.notes.append(value)
        elif key in _LISTS:
            getattr(run, _LISTS[key]).append(value)
        else:
            run.fields[key] = value

    def periodic(self, lineno: int, line: str) -> None:
        found = parse_dict_literal(line)  # the format puts the dict alone on its line
        if found is None:
            found, _ = find_periodic(line)
        if found is None:
            self.warn(lineno, "periodic line is not a readable dict (truncated?)")
        else:
            self.run.history.append(found)
            self.run.lines.setdefault("training", lineno)

    def read(self, text: str) -> None:
        """One regex pass over the text: each match is one construct (field, section with its body,
        metrics block with its lines, periodic line, or an ignored line)."""
        lineno = 2
        start = text.find("\n") + 1
        for m in _TOKEN_RE.finditer(text, start):
            kind = m.lastgroup
            if kind == "value" or kind == "key":
                self.field(lineno, m.group("key"), (m.group("value") or "").strip())
            elif kind == "periodic":
                self.periodic(lineno, m.group("periodic"))
            elif kind == "body" or kind == "section":
                name = m.group("section")
                self.run.lines.setdefault(name, lineno)
                self.sections.append((name, lineno, m.group("body")))
            elif kind == "block" or kind == "split":
                split = m.group("split")
                self.run.lines.setdefault(f"{split}_metrics", lineno)
                self.metrics[split] = self.block(lineno + 1, m.group("block"))
            lineno += m.group(0).count("\n")

    def block(self, lineno: int, text: str) -> dict[str, Any]:
        """A metrics block's `key = value` lines (a later block of the same split replaces this one)."""
        items = _BLOCK_LINE_RE.findall(text)
        if len(items) != text.count("\n"):  # some line is not `key = value`: say which
            for offset, line in enumerate(text.split("\n")[:-1]):
                if metrics_line(line) is None:
                    self.warn(lineno + offset, "not a `key = value` line inside a metrics block")
        return {key: parse_metric_value(value) for key, value in items}

    def finish(self) -> None:
        run = self.run
        run.notes = "\n".join(self.notes)
        for name, value in self.load_sections():
            if name in _DICT_SECTIONS:
                if isinstance(value, dict):
                    getattr(run, name).update(value)
                elif value is not None:
                    self.warn(run.lines.get(name, 0), f"section `{name}` is not a mapping")
            elif name == "samples" and isinstance(value, list):
                run.samples = value
        run.history = latest_per_step(run.history)
        run.train_metrics = self.metrics.pop("train", {})
        eval_metrics = self.metrics.pop("eval", {})
        for other in self.metrics.values():  # test/predict blocks carry their own key prefix
            eval_metrics.update({k: v for k, v in other.items() if k not in eval_metrics})
        run.eval_metrics = eval_metrics

    def load_sections(self) -> list[tuple[str, Any]]:
        out = []
        for name, lineno, body in self.sections:
            if name == "training":
                continue
            try:
                out.append((name, fastyaml.load(body)))
            except Exception as exc:  # noqa: BLE001 - YAML raises several types; all mean "unreadable"
                mark = getattr(exc, "problem_mark", None)
                where = lineno + 1 + mark.line if mark is not None else lineno
                self.warn(where, f"section `{name}` is not valid YAML: {_one_line(exc)}")
        return out


def latest_per_step(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """After a resume the steps since the checkpoint are logged again; the later line wins (LOG_FORMAT.md)."""
    kept: dict[tuple, dict[str, Any]] = {}
    for index, entry in enumerate(history):
        step = entry.get("step")
        if type(step) is int:
            key = (step, "eval_loss" in entry or any(k[:5] == "eval_" for k in entry))
        else:
            key = (index, None)
        kept[key] = entry
    return list(kept.values()) if len(kept) < len(history) else history


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:160]


def parse_runlog(path: str, text: str, default_version: str) -> tuple[Run, list[ParseWarning]]:
    """`text`: the whole log, `\n` line ends, starting with the magic line."""
    run = Run(version=default_version, source=path, source_kind=RUNLOG)
    reader = _Reader(path, run)
    reader.read(text if text.endswith("\n") else text + "\n")
    reader.finish()
    if not run.version:
        run.version = default_version
    if run.parent is not None and run.parent.lower() in ("", "none", "null", "-"):
        run.parent = None
    return run, reader.warnings

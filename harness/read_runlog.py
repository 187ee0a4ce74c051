"""Reader for the run logs run_clm.py writes (docs/LOG_FORMAT.md, format 1): text lines -> one Run."""

from __future__ import annotations

import re
from typing import Any

import yaml

from harness.records import RUNLOG, ParseWarning, Run
from harness.trainer_text import find_periodic, metrics_header, metrics_line

MAGIC = "#### run_clm.py log (format 1) ####"
_FIELD_RE = re.compile(r"([a-z_]+):(?: (.*)|)$")
_SECTION_RE = re.compile(r"----- (\S(?:.*\S)?) -----\s*$")
_ATTRIBUTES = ("version", "parent", "started", "status", "ended")  # last one wins
_LISTS = {"command": "commands", "resumed": "resumed", "error": "errors", "warning": "warnings"}
_DICT_SECTIONS = ("config", "environment", "data", "model", "summary")
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the same safe loader, in C when available


def is_runlog(first_line: str) -> bool:
    return first_line.rstrip("\r\n ") == MAGIC


class _Reader:
    def __init__(self, path: str, run: Run):
        self.path = path
        self.run = run
        self.warnings: list[ParseWarning] = []
        self.notes: list[str] = []
        self.sections: list[tuple[str, int, list[str]]] = []  # (name, marker line, body lines)
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
        found, _ = find_periodic(line)
        if found is None:
            self.warn(lineno, "periodic line is not a readable dict (truncated?)")
        else:
            self.run.history.append(found)
            self.run.lines.setdefault("training", lineno)

    def read(self, lines: list[str]) -> None:
        body: list[str] | None = None  # the open section's body
        block: dict[str, Any] | None = None  # the open metrics block
        for lineno, line in enumerate(lines[1:], start=2):
            first = line[:1]
            if first in (" ", "\t", ""):
                if body is not None:
                    body.append(line)
                elif block is not None and first:
                    self.block_line(lineno, line, block)
                continue
            body = block = None
            if first == "{":
                self.periodic(lineno, line)
            elif first == "*" and (split := metrics_header(line)):
                block = self.metrics[split] = {}
                self.run.lines.setdefault(f"{split}_metrics", lineno)
            elif first == "-" and (m := _SECTION_RE.match(line)):
                name = m.group(1)
                self.run.lines.setdefault(name, lineno)
                body = []
                self.sections.append((name, lineno, body))
            elif m := _FIELD_RE.match(line):
                self.field(lineno, m.group(1), (m.group(2) or "").strip())

    def block_line(self, lineno: int, line: str, block: dict[str, Any]) -> None:
        item = metrics_line(line)
        if item is None:
            self.warn(lineno, "not a `key = value` line inside a metrics block")
        else:
            block[item[0]] = item[1]

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
        run.train_metrics = self.metrics.pop("train", {})
        eval_metrics = self.metrics.pop("eval", {})
        for other in self.metrics.values():  # test/predict blocks carry their own key prefix
            eval_metrics.update({k: v for k, v in other.items() if k not in eval_metrics})
        run.eval_metrics = eval_metrics

    def load_sections(self) -> list[tuple[str, Any]]:
        """All YAML bodies in one load (fast), or one by one to say which is broken."""
        bodies = [(name, lineno, body) for name, lineno, body in self.sections if name != "training"]
        if not bodies:
            return []
        text = "".join(f"s{i}:\n" + "\n".join(body) + "\n" for i, (_, _, body) in enumerate(bodies))
        try:
            loaded = yaml.load(text, Loader=_Loader)
            return [(name, loaded[f"s{i}"]) for i, (name, _, _) in enumerate(bodies)]
        except Exception:  # noqa: BLE001 - any YAML failure: fall back to locating it
            pass
        out = []
        for name, lineno, body in bodies:
            try:
                out.append((name, yaml.load("\n".join(b[2:] for b in body), Loader=_Loader)))
            except Exception as exc:  # noqa: BLE001 - YAML raises several types; all mean "unreadable"
                mark = getattr(exc, "problem_mark", None)
                where = lineno + 1 + mark.line if mark is not None else lineno
                self.warn(where, f"section `{name}` is not valid YAML: {_one_line(exc)}")
        return out


def _one_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:160]


def parse_runlog(path: str, lines: list[str], default_version: str) -> tuple[Run, list[ParseWarning]]:
    run = Run(version=default_version, source=path, source_kind=RUNLOG)
    reader = _Reader(path, run)
    reader.read(lines)
    reader.finish()
    if not run.version:
        run.version = default_version
    if run.parent is not None and run.parent.lower() in ("", "none", "null", "-"):
        run.parent = None
    return run, reader.warnings

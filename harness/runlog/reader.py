"""The one reader of the run logs run_clm.py writes (docs/LOG_FORMAT.md, format 1).

`parse`/`read_log`: text -> LogText, the fields, sections and metrics blocks, typed once (a runtime is
seconds, an empty `parent:` is None). Resume, init_from, reproduce and generate read it directly; the
comparison side turns it into a Run (harness/compare/readers/runlog.py). Nothing here imports either side.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from harness.runlog import fastyaml
from harness.runlog.format import ATTRIBUTES, LISTS
from harness.runlog.trainer_text import find_periodic, metrics_line, parse_dict_literal, parse_metric_value

# One construct of the format per match; the last alternative swallows any other line.
_TOKEN_RE = re.compile(
    r"^(?:----- (?P<section>\S(?:[^\n]*\S)?) -----[ \t]*\n(?P<body>(?:[ \t][^\n]*\n|\n)*)"
    r"|\*{5} (?P<split>\w+) metrics \*{5}[ \t]*\n(?P<block>(?:[ \t][^\n]*\n)*)"
    r"|(?P<periodic>\{[^\n]*)\n"
    r"|(?P<key>[a-z_]+):(?: (?P<value>[^\n]*))?\n"
    r"|[^\n]*\n)",
    re.MULTILINE,
)
MAX_BYTES = 64 * 2**20  # held in memory per file: a bigger one is read as its head and tail
_BLOCK_LINE_RE = re.compile(r"^\s*([A-Za-z_][\w./-]*)\s*=\s*(\S[^\n]*?)\s*$", re.MULTILINE)


@dataclass
class LogText:
    """One run log as written, before any interpretation: what resume, init_from, reproduce and generate
    read, and what `to_run` turns into the Run the tables use. Values are typed the same way for both."""

    path: str
    fields: dict[str, str] = field(default_factory=dict)  # `key: value` lines; the last one wins
    lists: dict[str, list[str]] = field(default_factory=dict)  # every command/resumed/error/warning/note
    sections: dict[str, Any] = field(default_factory=dict)  # YAML sections; a repeated mapping is merged
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)  # split -> key -> value
    history: list[dict[str, Any]] = field(default_factory=list)  # periodic dicts, later step wins
    lines: dict[str, int] = field(default_factory=dict)  # first line of each field/section/block
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (1-based line, message)

    @property
    def parent(self) -> str | None:
        """The parent as a version or a path; None when the log names none (`parent:` left empty)."""
        return _no_parent(self.fields.get("parent"))

    def warn(self, lineno: int, message: str) -> None:
        self.warnings.append((lineno, message))


class _Reader:
    def __init__(self, log: LogText):
        self.log = log
        self.sections: list[tuple[str, int, str]] = []  # (name, marker line, body text)

    def field(self, lineno: int, key: str, value: str) -> None:
        log = self.log
        log.lines.setdefault(key, lineno)
        if key in LISTS or key == "note":
            log.lists.setdefault(key, []).append(value)
        log.fields[key] = value
        if key in ATTRIBUTES:
            log.lines[key] = lineno

    def periodic(self, lineno: int, line: str) -> None:
        found = parse_dict_literal(line)  # the format puts the dict alone on its line
        if found is None:
            found, _ = find_periodic(line)
        if found is None:
            self.log.warn(lineno, "periodic line is not a readable dict (truncated?)")
        else:
            self.log.history.append(found)
            self.log.lines.setdefault("training", lineno)

    def read(self, text: str) -> None:
        """One regex pass over the text: each match is one construct (field, section with its body,
        metrics block with its lines, periodic line, or an ignored line)."""
        lineno, start = 2, text.find("\n") + 1  # line 1 is the magic line
        for m in _TOKEN_RE.finditer(text, start):
            kind = m.lastgroup
            if kind == "value" or kind == "key":
                self.field(lineno, m.group("key"), (m.group("value") or "").strip())
            elif kind == "periodic":
                self.periodic(lineno, m.group("periodic"))
            elif kind == "body" or kind == "section":
                name, body = m.group("section", "body")
                self.log.lines.setdefault(name, lineno)
                self.sections.append((name, lineno, body))
                lineno += body.count("\n")
            elif kind == "block" or kind == "split":
                split, block = m.group("split", "block")
                self.log.lines.setdefault(f"{split}_metrics", lineno)
                self.log.metrics[split] = self.block(lineno + 1, block)
                lineno += block.count("\n")
            lineno += 1  # the construct's own line (only sections and blocks run over several)

    def block(self, lineno: int, text: str) -> dict[str, Any]:
        """A metrics block's `key = value` lines (a later block of the same split replaces this one)."""
        items = _BLOCK_LINE_RE.findall(text)
        if len(items) != text.count("\n"):  # some line is not `key = value`: say which
            for offset, line in enumerate(text.split("\n")[:-1]):
                if metrics_line(line) is None:
                    self.log.warn(lineno + offset, "not a `key = value` line inside a metrics block")
        return {key: parse_metric_value(value) for key, value in items}

    def finish(self) -> LogText:
        log = self.log
        for name, lineno, body in self.sections:
            if name == "training":
                continue
            value = self.load_section(name, lineno, body)
            if isinstance(value, dict) and isinstance(log.sections.get(name), dict):
                value = {**log.sections[name], **value}
            log.sections[name] = value
        log.history = latest_per_step(log.history)
        return log

    def load_section(self, name: str, lineno: int, body: str) -> Any:
        try:
            return fastyaml.load(body)
        except Exception as exc:  # noqa: BLE001 - YAML raises several types; all mean "unreadable"
            mark = getattr(exc, "problem_mark", None)
            where = lineno + 1 + mark.line if mark is not None else lineno
            self.log.warn(where, f"section `{name}` is not valid YAML: {_one_line(exc)}")
            return None


def latest_per_step(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """After a resume the steps since the checkpoint are logged again; the later line wins (LOG_FORMAT.md)."""
    steps = [entry.get("step") for entry in history]
    if all(type(step) is int for step in steps) and len(set(steps)) == len(steps):
        return history  # no step twice (the common case): nothing was logged again
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


def parse(path: str, text: str) -> LogText:
    """`text`: the whole log, `\n` line ends, starting with the magic line."""
    reader = _Reader(LogText(path))
    reader.read(text if text.endswith("\n") else text + "\n")
    return reader.finish()


def read_log(path, max_bytes: int = MAX_BYTES) -> LogText:
    """The run log at `path` (what resume, init_from, reproduce and generate need)."""
    data, gap = read_bounded(path, max_bytes)
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    log = parse(str(path), text)
    if gap is not None:
        log.warn(gap.first_line, gap.message())
    return log


@dataclass(frozen=True)
class Gap:
    """The middle of a file too big to hold: skipped, its lines replaced by empty ones."""

    first_line: int
    lines: int
    size: int
    kept: int  # bytes kept at each end

    def message(self) -> str:
        return (f"file larger than {_size(2 * self.kept)}: {self.lines} lines ({_size(self.size)}) in the middle "
                f"skipped; its first and last {_size(self.kept)} are read")


def _size(n: int) -> str:
    return f"{n / 2**20:.0f} MiB" if n >= 2**20 else f"{n / 2**10:.0f} KiB" if n >= 2**10 else f"{n} bytes"


def read_bounded(path, max_bytes: int = MAX_BYTES) -> tuple[bytes, Gap | None]:
    """At most `max_bytes` of a file: all of it, or its head and tail cut at line ends.

    A log's summary, metrics and status are at its end, so a huge log keeps them; the skipped lines are
    counted (streamed, never held) and stand as empty lines, so every line number after the gap is still
    right. Raises OSError like open()."""
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size <= max_bytes:  # read(n) would reserve n bytes up front: ask for what is there
            data = handle.read()
            if len(data) <= max_bytes:
                return data, None
            size = len(data)  # it grew while we looked
        handle.seek(0)
        head = handle.read(max_bytes // 2)
        head = head[: head.rfind(b"\n") + 1]
        handle.seek(max(len(head), size - max_bytes // 2))
        tail = handle.read()
        tail = tail[tail.find(b"\n") + 1 :]
        skipped_start, skipped_end = len(head), size - len(tail)
        lines = _count_lines(handle, skipped_start, skipped_end)
    gap = Gap(head.count(b"\n") + 1, lines, skipped_end - skipped_start, max_bytes // 2)
    padding = b"\n" * lines if lines <= max_bytes // 4 else b"\n"  # line numbers right, memory bounded
    return head + padding + tail, gap


def _count_lines(handle, start: int, end: int, chunk: int = 2**22) -> int:
    handle.seek(start)
    count = 0
    while start < end:
        block = handle.read(min(chunk, end - start))
        if not block:
            break
        count += block.count(b"\n")
        start += len(block)
    return count


def _no_parent(value: str | None) -> str | None:
    return None if value is None or value.strip().lower() in ("", "none", "null", "-") else value.strip()

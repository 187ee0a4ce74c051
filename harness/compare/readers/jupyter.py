"""Saved Jupyter / Colab notebooks (`.ipynb`): cells in order, their sources and their outputs.

A notebook is laid out as the text a person would see scrolling through it: markdown and code sources,
stream outputs (what Trainer printed), `execute_result` reprs (`TrainOutput(...)`, a `trainer.evaluate()`
dict), HTML outputs as text (Trainer's NotebookProgressCallback table becomes a tab-separated table,
`[250/250 05:31, Epoch 1/1]` its progress line) and the training cell's error as a traceback. That text is read like a
report: runs under headings when there are several, else one run named after the file. Only markdown is
a person's notes; code and outputs never are.

A warning points into the .ipynb file: at the JSON line of the source or output string that holds the
offending line (nbformat writes each line of a cell's source and outputs as one string of a list, one per
file line), and says where that is in the notebook as Jupyter shows it: `(cell 4, line 2)` for a cell's
source, `(cell 4, output line 7)` for what it printed (a rendered HTML table counts its rows). Where the JSON
does not say more (a source kept as one string, a notebook on one line) the file line is that string's, and
the cell and line still tell the place. Cells are counted from 1, every cell (markdown too).
"""

from __future__ import annotations

import bisect
import itertools
import json
import os
import re
from html.parser import HTMLParser

from harness.compare.readers import Reader, Result, pieces, report
from harness.compare.records import JUPYTER, ParseWarning, Run

_CELL_RE = re.compile(r'"cell_type"\s*:')
# JSON's strings and punctuation; numbers, true/false/null need no tracking. Strings never hold a raw newline.
_TOKEN_RE = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"|[\[\]{}:,]')
_MAX_DEPTH = 8  # ("cells", n, "outputs", k, "data", "text/html", j) is the deepest path wanted


class _HtmlText(HTMLParser):
    """HTML -> lines: each table row as tab-separated cells, other text as it reads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.at: list[int] = []  # the HTML's line (0-based) where each of `lines` starts
        self.row: list[str] | None = None
        self.row_at = 0
        self.cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._flush_text()
            self.row = []
            self.row_at = self.getpos()[0] - 1
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []
        elif tag in ("br", "p", "div", "table"):
            self._flush_text()

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.lines.append("\t".join(self.row))
            self.at.append(self.row_at)
            self.row = None

    def handle_data(self, data):
        if self.cell is None and not self.text:
            self.text_at = self.getpos()[0] - 1
        (self.cell if self.cell is not None else self.text).append(data)

    def _flush_text(self):
        text = " ".join("".join(self.text).split())
        if text:
            self.lines.append(text)
            self.at.append(getattr(self, "text_at", 0))
        self.text = []

    def close(self):
        super().close()
        self._flush_text()


def html_lines(html: str) -> tuple[list[str], list[int]]:
    """The HTML's text lines, and the HTML line (0-based) each one starts on."""
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: what was read so far
        pass
    return parser.lines, parser.at[: len(parser.lines)]


def _field(value) -> list[str]:
    """A notebook text field's strings: a list of lines, or one string."""
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def _text(value) -> str:
    return "".join(_field(value))


def _output_lines(output: dict, trains: bool) -> tuple[list[str], list[int], tuple]:
    """(lines, the field's line each starts on, the field's key path inside the output)."""
    kind = output.get("output_type")
    if kind == "stream":
        lines = _text(output.get("text")).split("\n")
        return lines, list(range(len(lines))), ("text",)
    if kind == "error":
        error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        # Only the training cell's error stopped the run; a failed push_to_hub after it did not.
        return (["Traceback (most recent call last):", error], [0, 0], ("evalue",)) if trains else ([], [], ())
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    html = _text(data.get("text/html"))
    if html:
        lines, at = html_lines(html)
        return lines, at, ("data", "text/html")
    lines = _text(data.get("text/plain")).split("\n")
    return lines, list(range(len(lines))), ("data", "text/plain")


class Place:
    """Where each line of the flattened text came from: its cell, the JSON field (as a key path), the
    field's strings, the line of the field it starts on, and its line as Jupyter shows it."""

    def __init__(self) -> None:
        self.entries: list[tuple[int, tuple, list[str], int, str]] = []

    def add(self, cell: int, path: tuple, strings: list[str], field_line: int, shown: str) -> None:
        self.entries.append((cell, path, strings, field_line, shown))

    def file_line(self, index: int, strings_at: dict[tuple, int], cell_starts: list[int]) -> int:
        cell, path, strings, field_line, _ = self.entries[index]
        found = strings_at.get(path + (_element(strings, field_line),)) or strings_at.get(path)
        if found:
            return found
        return cell_starts[cell] if cell < len(cell_starts) else 0

    def shown(self, index: int) -> str:
        return self.entries[index][4]


def _element(strings: list[str], line: int) -> int:
    """The index of the string (of a field kept as a list of strings) in which the field's line `line` starts."""
    if len(strings) < 2 or line <= 0:
        return 0
    joined, at = "".join(strings), -1
    for _ in range(line):
        at = joined.find("\n", at + 1)
        if at < 0:
            return len(strings) - 1
    starts = list(itertools.accumulate((len(text) for text in strings[:-1]), initial=0))
    return min(bisect.bisect_right(starts, at + 1) - 1, len(strings) - 1)


def flatten(cells: list) -> tuple[list[str], Place, set[int]]:
    """(lines, where each line came from, the indices of markdown lines)."""
    lines: list[str] = []
    place = Place()
    markdown: set[int] = set()
    for n, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        is_markdown = cell.get("cell_type") == "markdown"
        strings = _field(cell.get("source"))
        source = "".join(strings)
        # Code is indented by one space: a `# comment` in it must not read as a Markdown heading.
        text = source.split("\n")
        chunks = [(text if is_markdown else [pieces.CodeLine(" " + line) for line in text], list(range(len(text))),
                   ("cells", n, "source"), strings, "")]
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        for k, output in enumerate(outputs):
            if isinstance(output, dict):
                found, at, key = _output_lines(output, ".train(" in source)
                field = output
                for part in key:
                    field = field.get(part) if isinstance(field, dict) else None
                chunks.append((found, at, ("cells", n, "outputs", k, *key), _field(field), "output "))
        for chunk, at, path, strings, what in chunks:
            for m, line in enumerate(chunk):
                if is_markdown:
                    markdown.add(len(lines))
                lines.append(line if "\r" not in line else type(line)(line.replace("\r\n", "\n")))
                place.add(n, path, strings, at[m] if m < len(at) else 0, f"cell {n + 1}, {what}line {m + 1}")
            lines.append("")  # cells never run into each other (a table, a metrics block)
            place.add(n, path, strings, at[-1] if at else 0, f"cell {n + 1}")
    return lines, place, markdown


def _cell_lines(text: str) -> list[int]:
    """The file line where each cell starts (nbformat writes `"cell_type"` once per cell)."""
    return [text.count("\n", 0, m.start()) + 1 for m in _CELL_RE.finditer(text)]


def string_lines(text: str) -> dict[tuple, int]:
    """The file line of every string value under `cells`, by its key path (`("cells", 3, "source", 0)`).
    The text is valid JSON (json.loads read it): tokens are strings and punctuation, nothing evaluated."""
    out: dict[tuple, int] = {}
    stack: list[list] = []  # [is_object, key or index]
    line, at = 1, 0
    for m in _TOKEN_RE.finditer(text):
        token = m.group()
        head = token[0]
        if head == '"':
            line += text.count("\n", at, m.start())
            at = m.start()
            if stack and stack[-1][0] and stack[-1][1] is None:
                stack[-1][1] = token[1:-1]  # a key
            elif stack and len(stack) <= _MAX_DEPTH and stack[0][1] == "cells":
                out[tuple(entry[1] for entry in stack)] = line
        elif head in "{[":
            stack.append([head == "{", None if head == "{" else 0])
        elif head in "}]":
            if stack:
                stack.pop()
        elif head == "," and stack:
            if stack[-1][0]:
                stack[-1][1] = None
            else:
                stack[-1][1] += 1
    return out


def read(path: str, text: str) -> Result:
    try:
        notebook = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [], [ParseWarning(path, getattr(exc, "lineno", 0), f"not a readable notebook: {str(exc)[:120]}")]
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return [], [ParseWarning(path, 0, "notebook has no cells list; skipped")]
    lines, place, markdown = flatten(cells)
    cell_starts = _cell_lines(text)
    strings_at = string_lines(text)

    def index_of(line: int) -> int:
        return min(max(line - 1, 0), len(place.entries) - 1)

    def where(line: int) -> int:
        return place.file_line(index_of(line), strings_at, cell_starts) if place.entries else 0

    runs, warnings = report.split_runs(path, lines, JUPYTER)
    if not runs:
        name = os.path.basename(path)
        runs, warnings = report.one_run(path, lines, name[: -len(".ipynb")] if name.endswith(".ipynb") else name,
                                        JUPYTER)
    ends = [r.line for r in runs[1:]] + [len(lines) + 1]
    for run, end in zip(runs, ends):
        _notes_from_markdown(run, lines, markdown, end)
        run.lines = {key: where(value) for key, value in run.lines.items()}
        run.line = where(run.line) if len(runs) > 1 else 1
    return runs, [_placed(w, where, place.shown(index_of(w.line)) if place.entries else "") if w.line else w
                  for w in warnings]


def _placed(warning: ParseWarning, where, shown: str) -> ParseWarning:
    return ParseWarning(warning.path, where(warning.line), f"{warning.message} ({shown})" if shown else warning.message)


def _notes_from_markdown(run: Run, lines: list[str], markdown: set[int], end: int) -> None:
    start = run.line if run.line > 1 else 0  # a heading-split run: below its heading
    notes = [lines[i].strip() for i in range(start, end - 1) if i in markdown and lines[i].strip()
             and not lines[i].lstrip().startswith("#")]
    run.notes = "\n".join(notes)


def recognise(path: str, head: str) -> bool:
    return path.endswith(".ipynb") or (head.startswith("{") and '"nbformat"' in head and '"cells"' in head)


READER = Reader("Jupyter notebook", lambda name: name.endswith(".ipynb"), recognise, read)

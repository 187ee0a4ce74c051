"""Saved Jupyter / Colab notebooks (`.ipynb`): cells in order, their sources and their outputs.

A notebook is laid out as the text a person would see scrolling through it: markdown and code sources,
stream outputs (what Trainer printed), `execute_result` reprs (`TrainOutput(...)`, a `trainer.evaluate()`
dict), HTML outputs as text (Trainer's NotebookProgressCallback table becomes a tab-separated table,
`[250/250 05:31, Epoch 1/1]` its progress line) and the training cell's error as a traceback. That text is read like a
report: runs under headings when there are several, else one run named after the file. Line numbers
in warnings are the notebook file's, at the start of the cell concerned. Only markdown is a person's
notes; code and outputs never are.
"""

from __future__ import annotations

import json
import os
import re
from html.parser import HTMLParser

from harness.compare.readers import Reader, Result, report
from harness.compare.records import JUPYTER, ParseWarning, Run

_CELL_RE = re.compile(r'"cell_type"\s*:')


class _HtmlText(HTMLParser):
    """HTML -> lines: each table row as tab-separated cells, other text as it reads."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self._flush_text()
            self.row = []
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
            self.row = None

    def handle_data(self, data):
        (self.cell if self.cell is not None else self.text).append(data)

    def _flush_text(self):
        text = " ".join("".join(self.text).split())
        if text:
            self.lines.append(text)
        self.text = []

    def close(self):
        super().close()
        self._flush_text()


def html_lines(html: str) -> list[str]:
    parser = _HtmlText()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):  # malformed markup: what was read so far
        pass
    return parser.lines


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def _output_lines(output: dict, trains: bool) -> list[str]:
    kind = output.get("output_type")
    if kind == "stream":
        return _text(output.get("text")).split("\n")
    if kind == "error":
        error = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"
        # Only the training cell's error stopped the run; a failed push_to_hub after it did not.
        return ["Traceback (most recent call last):", error] if trains else []
    data = output.get("data") if isinstance(output.get("data"), dict) else {}
    html = _text(data.get("text/html"))
    if html:
        return html_lines(html)
    return _text(data.get("text/plain")).split("\n")


def flatten(cells: list) -> tuple[list[str], list[int], set[int]]:
    """(lines, the cell each line came from, the indices of markdown lines)."""
    lines: list[str] = []
    origin: list[int] = []
    markdown: set[int] = set()
    for n, cell in enumerate(cells):
        if not isinstance(cell, dict):
            continue
        is_markdown = cell.get("cell_type") == "markdown"
        source = _text(cell.get("source"))
        # Code is indented by one space: a `# comment` in it must not read as a Markdown heading.
        chunks = [source.split("\n") if is_markdown else [" " + line for line in source.split("\n")]]
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        chunks += [_output_lines(o, ".train(" in source) for o in outputs if isinstance(o, dict)]
        for chunk in chunks:
            for line in chunk:
                if is_markdown:
                    markdown.add(len(lines))
                lines.append(line.replace("\r\n", "\n"))
                origin.append(n)
            lines.append("")  # cells never run into each other (a table, a metrics block)
            origin.append(n)
    return lines, origin, markdown


def _cell_lines(text: str) -> list[int]:
    """The file line where each cell starts (nbformat writes `"cell_type"` once per cell)."""
    return [text.count("\n", 0, m.start()) + 1 for m in _CELL_RE.finditer(text)]


def read(path: str, text: str) -> Result:
    try:
        notebook = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [], [ParseWarning(path, getattr(exc, "lineno", 0), f"not a readable notebook: {str(exc)[:120]}")]
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return [], [ParseWarning(path, 0, "notebook has no cells list; skipped")]
    lines, origin, markdown = flatten(cells)
    file_line = _cell_lines(text)

    def where(index: int) -> int:
        cell = origin[min(max(index, 0), len(origin) - 1)] if origin else 0
        return file_line[cell] if cell < len(file_line) else 0

    runs, warnings = report.split_runs(path, lines, JUPYTER)
    if not runs:
        name = os.path.basename(path)
        runs, warnings = report.one_run(path, lines, name[: -len(".ipynb")] if name.endswith(".ipynb") else name,
                                        JUPYTER)
    ends = [r.line for r in runs[1:]] + [len(lines) + 1]
    for run, end in zip(runs, ends):
        _notes_from_markdown(run, lines, markdown, end)
        run.lines = {key: where(value - 1) for key, value in run.lines.items()}
        run.line = where(run.line - 1) if len(runs) > 1 else 1
    return runs, [ParseWarning(w.path, where(w.line - 1) if w.line else 0, w.message) for w in warnings]


def _notes_from_markdown(run: Run, lines: list[str], markdown: set[int], end: int) -> None:
    start = run.line if run.line > 1 else 0  # a heading-split run: below its heading
    notes = [lines[i].strip() for i in range(start, end - 1) if i in markdown and lines[i].strip()
             and not lines[i].lstrip().startswith("#")]
    run.notes = "\n".join(notes)


def recognise(path: str, head: str) -> bool:
    return path.endswith(".ipynb") or (head.startswith("{") and '"nbformat"' in head and '"cells"' in head)


READER = Reader("Jupyter notebook", lambda name: name.endswith(".ipynb"), recognise, read)

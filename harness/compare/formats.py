"""A Table as text: markdown, csv, json, latex, html (deterministic, byte for byte).

Best values are marked where the format can show it (markdown `**`, latex `\\textbf`, html `<strong>`);
csv and json carry raw values only. Warnings follow the table in each format's own way
(csv has no room for them: the caller prints them on stderr).
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import operator
from typing import Any, Callable

from harness.compare.table import Column, Table, format_column
from harness.markup import markdown_text

TEXT_FORMATS = ("markdown", "csv", "json", "latex", "html")


def render(table: Table, fmt: str) -> str:
    """Any text format (the terminal's rich table is drawn by harness/cli/table.py)."""
    return _RENDERERS[fmt](table)


_PLAIN_TYPES = frozenset((float, int, bool, type(None)))  # printed as digits, true/false, or nothing


def _cells(table: Table, escape: Callable[[str], str] = str, bold: Callable[[str], str] = str) -> list[tuple[str, ...]]:
    """Cell texts row by row, escaped for the format (`escape`) and the best values marked (`bold`).

    Built a column at a time: a table of 10,000 runs has 170,000 cells. A number's text is made of digits,
    `.`, `e`, `+`, `-`, `inf`, `nan` only (a bool's `true`/`false`), so only the other cells are escaped."""
    columns = []
    for column, values in zip(table.columns, _values(table)):
        texts = format_column(column, values)
        if escape is not str:
            texts = _escaped(texts, values, escape)
        columns.append(texts)
    index = {column.key: position for position, column in enumerate(table.columns)}
    for row, key in table.best:
        texts = columns[index[key]] if key in index and row < len(table.rows) else None
        if texts and texts[row]:
            texts[row] = bold(texts[row])
    return list(zip(*columns)) if columns else [() for _ in table.rows]


def _values(table: Table) -> list[list[Any]]:
    """Each column's raw values: every row at once, in C, where each row has every column (as build_table's do)."""
    keys = [column.key for column in table.columns]
    if len(keys) > 1:
        try:
            return [list(values) for values in zip(*map(operator.itemgetter(*keys), table.rows))] or [[] for _ in keys]
        except KeyError:
            pass
    return [[row.get(key) for row in table.rows] for key in keys]


def _escaped(texts: list[str], values: list[Any], escape: Callable[[str], str]) -> list[str]:
    """A column's texts escaped. Each escaper here judges a text by the characters in it, so one that leaves
    the column's texts joined by a space alone leaves each of them alone: one call for a whole column of
    versions or numbers instead of thousands."""
    joined = " ".join(texts)
    if escape(joined) == joined:
        return texts
    return [t if type(v) in _PLAIN_TYPES else escape(t) for t, v in zip(texts, values)]


def markdown(table: Table) -> str:
    esc = markdown_text
    lines = ["| " + " | ".join(esc(c.header) for c in table.columns) + " |"]
    lines.append("|" + "|".join("---:" if c.numeric else "---" for c in table.columns) + "|")
    lines += [f"| {line} |" for line in map(" | ".join, _cells(table, esc, lambda t: f"**{t}**"))]
    if table.warnings:
        lines += ["", "Warnings:", ""] + [f"- {esc(w)}" for w in table.warnings]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    """JSON has no nan/inf: they travel as the strings Python prints."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def to_json(table: Table) -> str:
    rows = [{c.key: _plain(row.get(c.key)) for c in table.columns} for row in table.rows]
    doc = {"columns": [c.key for c in table.columns], "rows": rows, "warnings": table.warnings}
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.key for c in table.columns])
    for row in table.rows:
        writer.writerow([_csv_cell(row.get(c.key)) for c in table.columns])
    return out.getvalue()


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


_LATEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
          "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "Δ": r"$\Delta$"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX.get(ch, ch) for ch in text)


def latex(table: Table) -> str:
    spec = "".join("r" if c.numeric else "l" for c in table.columns)
    lines = [f"\\begin{{tabular}}{{{spec}}}", "\\hline"]
    lines.append(" & ".join(latex_escape(c.header) for c in table.columns) + " \\\\")
    lines.append("\\hline")
    for row in _cells(table, latex_escape, lambda t: f"\\textbf{{{t}}}"):
        lines.append(" & ".join(row) + " \\\\")
    lines += ["\\hline", "\\end{tabular}"]
    lines += [f"% warning: {' '.join(w.split())}" for w in table.warnings]
    return "\n".join(lines) + "\n"


def to_html(table: Table) -> str:
    def cell(tag: str, column: Column, body: str) -> str:
        align = ' class="num"' if column.numeric else ""
        return f"<{tag}{align}>{body}</{tag}>"

    lines = ["<table>", "<thead>", "<tr>" + "".join(cell("th", c, html.escape(c.header)) for c in table.columns)
             + "</tr>", "</thead>", "<tbody>"]
    for row in _cells(table, html.escape, lambda t: f"<strong>{t}</strong>"):
        lines.append("<tr>" + "".join(cell("td", c, t) for c, t in zip(table.columns, row)) + "</tr>")
    lines += ["</tbody>", "</table>"]
    if table.warnings:
        lines += ['<ul class="warnings">'] + [f"<li>{html.escape(w)}</li>" for w in table.warnings] + ["</ul>"]
    return "\n".join(lines) + "\n"


_RENDERERS = {"markdown": markdown, "csv": to_csv, "json": to_json, "latex": latex, "html": to_html}

"""One small document model for what `table`, `show`, `diff` and `lineage` print, and one renderer per
output kind (plain text, markdown, rich) that renders any such document.

A Document is a title and a list of blocks: a Grid (rows of cells under columns; a key/value list is a
Grid without a header), Lines (free text: notes, commands, warnings), or a Tree (rows already laid out
with their guides). Commands build a Document; they never format for one output kind.

Fitting a terminal lives here, once (`fit`): numbers never wrap or shorten; columns empty in every row
are dropped; when the rest is still too wide, columns are hidden by rank (highest first: each command
states the order) and one line says which, and how to get them back; long text is shortened with an
ellipsis in the middle, where a path or a version keeps both its ends (a tree's labels lose their end);
prose (samples) folds instead. Plain text and markdown are for files and pipes: never fitted unless a
width is given; rich output piped, or with `--wide`, is not fitted either.
"""

from __future__ import annotations

import io
import re
import sys
from dataclasses import dataclass, field

from harness.markup import markdown_text

ELLIPSIS = "…"
MIN_TEXT = 10  # a text column is not shortened below this (or its natural width, if smaller)
TEXT_GAP, RICH_GAP = 2, 3  # spaces between columns: plain text; rich's SIMPLE_HEAD box (pad, rule, pad)


@dataclass(frozen=True)
class Cell:
    text: str
    style: str = ""  # a rich style; also "best" marks (bold in markdown)


@dataclass(frozen=True)
class Column:
    header: str
    key: str = ""  # the name `--columns` takes; the hidden-columns line names it
    numeric: bool = False  # right-aligned, never wrapped nor shortened
    rank: int = 0  # hidden when the terminal is too narrow, highest rank first; 0: never hidden
    style: str = ""  # rich style of the whole column
    wrap: bool = False  # long text folds onto more lines instead of being shortened (prose)


@dataclass(kw_only=True)
class Block:
    title: str = ""  # a section's name: `title:` in text, a heading in markdown
    subtitle: str = ""  # said after the title: `config: identical (12 keys)`, `config: (1 of 12 keys differ)`


@dataclass(kw_only=True)
class Grid(Block):
    columns: list[Column]
    rows: list[list]  # each cell a str or a Cell
    header: bool = True  # False: a key/value list ("key: value" in text)
    hint: str = ""  # how to see hidden columns, e.g. "--wide shows all, --columns A,B,... picks"


@dataclass(kw_only=True)
class Lines(Block):
    lines: list[str] = field(default_factory=list)
    style: str = ""
    kind: str = "plain"  # markdown: plain (bullets), quote, code; plain text and rich indent all alike


@dataclass(kw_only=True)
class Tree(Block):
    rows: list[tuple[str, str, str]]  # (guide, label, style): guides such as "│   └── " drawn by the caller


@dataclass
class Document:
    title: str
    blocks: list = field(default_factory=list)
    badge: tuple[str, str] | None = None  # (text, style) beside the title where colour can carry it
    markdown_title: str = ""  # defaults to the title


def cell_text(cell) -> str:
    return cell.text if isinstance(cell, Cell) else str(cell)


def _style(cell) -> str:
    return cell.style if isinstance(cell, Cell) else ""


def middle(text: str, width: int) -> str:
    """`outputs/finetuned_model_v3.4` in 16 columns: `outputs/…el_v3.4` (both ends kept)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    head = (width - 1 + 1) // 2
    tail = width - 1 - head
    return text[:head] + ELLIPSIS + (text[-tail:] if tail else "")


# ---- fitting a grid into a width ----


@dataclass
class Fitted:
    columns: list[Column]
    widths: list[int]
    rows: list[list]  # cells, text shortened to the widths
    hidden: list[Column]
    dropped: list[Column]  # empty in every row


def _natural(column: Column, index: int, rows: list[list], header: bool) -> int:
    cells = [len(cell_text(row[index])) for row in rows]
    return max([len(column.header) if header else 0, *cells, 1])


def _minimum(column: Column, natural: int, header: bool) -> int:
    if column.numeric:
        return natural
    words = max((len(w) for w in column.header.split()), default=0) if header else 0
    return min(natural, max(MIN_TEXT, words))


def fit(grid: Grid, width: int | None, gap: int, indent: int = 0) -> Fitted:
    """Which columns show, how wide each is, and the rows' text shortened to fit (width None: no limit)."""
    indices = list(range(len(grid.columns)))
    dropped = []
    if grid.header and grid.rows:  # a key/value list has no empty columns to drop
        empty = [i for i in indices if all(not cell_text(row[i]).strip() for row in grid.rows)]
        dropped = [grid.columns[i] for i in empty]
        indices = [i for i in indices if i not in empty]
    natural = {i: _natural(grid.columns[i], i, grid.rows, grid.header) for i in indices}
    minimum = {i: _minimum(grid.columns[i], natural[i], grid.header) for i in indices}
    hidden: list[Column] = []
    if width is not None:
        def total(widths):
            return indent + sum(widths[i] for i in indices) + gap * max(len(indices) - 1, 0)

        # Hide by rank, highest first (later columns first among equals), until the minimum widths fit.
        for i in sorted((i for i in indices if grid.columns[i].rank), key=lambda i: (-grid.columns[i].rank, -i)):
            if total(minimum) <= width:
                break
            indices.remove(i)
            hidden.append(grid.columns[i])
        widths = dict(natural)
        excess = total(widths) - width
        while excess > 0:  # narrow the widest text column, down to the next widest or its minimum
            shrinkable = sorted((i for i in indices if widths[i] > minimum[i]), key=lambda i: -widths[i])
            if not shrinkable:
                break
            widest = shrinkable[0]
            floor = max(minimum[widest], widths[shrinkable[1]] if len(shrinkable) > 1 else 0)
            cut = min(excess, widths[widest] - floor) or 1
            widths[widest] -= cut
            excess -= cut
    else:
        widths = natural
    columns = [grid.columns[i] for i in indices]
    rows = [[_shorten(row[i], widths[i], grid.columns[i]) for i in indices] for row in grid.rows]
    return Fitted(columns, [widths[i] for i in indices], rows, sorted(hidden, key=grid.columns.index), dropped)


def _shorten(cell, width: int, column: Column):
    text = cell_text(cell)
    if column.numeric or column.wrap or len(text) <= width:
        return cell
    return Cell(middle(text, width), _style(cell))


def hidden_line(grid: Grid, fitted: Fitted, width: int) -> str | None:
    if not fitted.hidden:
        return None
    names = ", ".join(c.key or c.header for c in fitted.hidden)
    how = f" ({grid.hint})" if grid.hint else ""
    count = len(fitted.hidden)
    return f"{count} column{'s' if count > 1 else ''} hidden to fit {width} columns: {names}{how}"


# ---- plain text ----


def to_text(doc: Document, width: int | None = None) -> str:
    """Plain, deterministic text; fitted to `width` when one is given."""
    lines = [doc.title] if doc.title else []
    for block in doc.blocks:
        lines += _text_block(block, width)
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _heading(block) -> list[str]:
    if not block.title:
        return []
    return [f"{block.title}:" + (f" {block.subtitle}" if block.subtitle else "")]


def _text_block(block, width: int | None) -> list[str]:
    indent = "  " if block.title else ""
    if isinstance(block, Lines):
        return _heading(block) + [indent + line for line in block.lines]
    if isinstance(block, Tree):
        return _heading(block) + [indent + guide + _room(label, width, len(indent + guide))
                                  for guide, label, _ in block.rows]
    fitted = fit(block, width, TEXT_GAP, indent=2 if block.header else 3)  # 3: the key's colon
    rows = fitted.rows
    if block.header:
        rows = [[c.header for c in fitted.columns], *rows]
    else:  # a key/value list reads `key:  value`
        rows = [[cell_text(row[0]) + ":", *row[1:]] for row in rows]
    widths = [max([len(cell_text(r[i])) for r in rows] + [0]) for i in range(len(fitted.columns))]
    out = _heading(block)
    for row in rows:
        cells = [cell_text(cell).rjust(size) if column.numeric else cell_text(cell).ljust(size)
                 for cell, column, size in zip(row, fitted.columns, widths)]
        out.append("  " + (" " * TEXT_GAP).join(cells))
    note = hidden_line(block, fitted, width) if width else None
    return out + ([note] if note else [])


def _room(label: str, width: int | None, used: int) -> str:
    """A tree label reads left to right, most important first: it loses its end, not its middle."""
    room = None if width is None else max(width - used, 1)
    return label if room is None or len(label) <= room else label[: room - 1] + ELLIPSIS


# ---- markdown ----


md_escape = markdown_text  # log text is data: a `|` must not split a cell, `*` start emphasis, nor `<` a tag


def to_markdown(doc: Document) -> str:
    lines = [f"## {md_escape(doc.markdown_title or doc.title)}"] if doc.title else []
    for block in doc.blocks:
        if block.title:
            lines += ["", f"### {md_escape(block.title[:1].upper() + block.title[1:])}"]
        if block.subtitle:
            lines += ["", md_escape(block.subtitle)]
        body = _markdown_block(block)
        lines += [""] + body if body else []
    return "\n".join(lines) + "\n"


def _markdown_block(block) -> list[str]:
    if isinstance(block, Lines):
        if block.kind == "code":
            fence = "`" * max(3, 1 + max((len(run) for line in block.lines for run in re.findall(r"`+", line)),
                                         default=0))  # longer than any run of backticks inside
            return [fence, *block.lines, fence]
        prefix = "> " if block.kind == "quote" else "- "
        return [prefix + md_escape(line) for line in block.lines]
    if isinstance(block, Tree):
        return ["```", *(guide + label for guide, label, _ in block.rows), "```"]
    fitted = fit(block, None, TEXT_GAP)
    headers = [c.header for c in fitted.columns] if block.header else ["key", "value"]
    out = ["| " + " | ".join(md_escape(h) for h in headers) + " |",
           "|" + "|".join("---:" if c.numeric else "---" for c in fitted.columns) + "|"]
    for row in fitted.rows:
        out.append("| " + " | ".join(_md_cell(cell) for cell in row) + " |")
    return out


def _md_cell(cell) -> str:
    text = md_escape(cell_text(cell))
    return f"**{text}**" if text and "bold" in _style(cell) else text


# ---- rich ----


def stdout_console(wide: bool = False):
    """A rich Console for stdout: a terminal's width; piped, or with `--wide`, as wide as the content."""
    from rich.console import Console

    if sys.stdout.isatty() and not wide:
        return Console()
    return Console(width=UNLIMITED)


UNLIMITED = 100_000  # a console "width" no content reaches: nothing wraps, nothing is shortened


def to_rich(doc: Document, console) -> None:
    """Print to a rich Console, fitted to its width (a console UNLIMITED wide fits anything as it is)."""
    from rich.text import Text

    width = None if console.width >= UNLIMITED else console.width
    if doc.title:
        title = Text(doc.title, style="bold")
        if doc.badge:
            title.append("  ").append(doc.badge[0], style=doc.badge[1])
        console.print(title)
    for block in doc.blocks:
        _rich_block(block, console, width)


def to_rich_text(doc: Document, width: int | None = None, color: bool = False) -> str:
    """The rich rendering as a string: at `width` columns, or as wide as it needs (files and tests)."""
    from rich.console import Console

    console = Console(width=width or UNLIMITED, file=io.StringIO(), color_system="standard" if color else None,
                      force_terminal=color, legacy_windows=False)
    to_rich(doc, console)
    return "\n".join(line.rstrip() for line in console.file.getvalue().split("\n"))


def _rich_heading(block, console) -> str:
    """Prints the block's title line; returns the indent of its body."""
    from rich.text import Text

    if not block.title:
        return ""
    console.print(Text.assemble((block.title, "bold"), (f": {block.subtitle}" if block.subtitle else "", "dim")))
    return "  "


def _rich_block(block, console, width: int | None) -> None:
    from rich.text import Text

    indent = _rich_heading(block, console)
    if isinstance(block, Lines):
        for line in block.lines:
            console.print(Text(indent + line, style=block.style), overflow="fold")
    elif isinstance(block, Tree):
        for guide, label, style in block.rows:
            console.print(Text.assemble((indent + guide, "dim"), (_room(label, width, len(indent + guide)), style)),
                          no_wrap=True)
    else:
        _rich_grid(block, console, width)


def _rich_grid(grid: Grid, console, width: int | None) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    fitted = fit(grid, width, RICH_GAP if grid.header else TEXT_GAP, indent=0 if grid.header else TEXT_GAP)
    if grid.header:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 1), header_style="bold")
    else:  # a key/value list, indented under its title by a zero-width first column
        table = Table.grid(padding=(0, TEXT_GAP, 0, 0))
        table.add_column(width=0)
    for column, size in zip(fitted.columns, fitted.widths):
        bounds = {} if column.wrap else {"min_width": size, "max_width": size}
        header = Text(column.header, style="bold" if grid.header else "")  # a version name is data, not markup
        table.add_column(header, justify="right" if column.numeric else "left", style=column.style,
                         no_wrap=not column.wrap, overflow="fold" if column.wrap else "ellipsis", **bounds)
    for row in fitted.rows:
        cells = [Text(cell_text(cell), style=_style(cell)) for cell in row]
        table.add_row(*cells) if grid.header else table.add_row("", *cells)
    console.print(table)
    note = hidden_line(grid, fitted, width) if width else None
    if note:
        console.print(Text(note, style="dim"), overflow="fold")


# ---- the commands' side ----


def add_wide_option(parser) -> None:
    parser.add_argument("--wide", action="store_true",
                        help="on a terminal, print every column and value in full instead of fitting its width")


def emit(data: dict, document, fmt: str, wide: bool = False) -> None:
    """A command's output: `data` itself as JSON, or `document(data)` drawn as text, markdown or rich."""
    if fmt == "json":
        from harness.cli.present import dumps

        sys.stdout.write(dumps(data))
    else:
        write(document(data), fmt, wide)


def write(doc: Document, fmt: str, wide: bool = False) -> None:
    """`--format text|markdown|rich` of a document to stdout (rich fits a terminal unless `wide`)."""
    if fmt == "text":
        sys.stdout.write(to_text(doc))
    elif fmt == "markdown":
        sys.stdout.write(to_markdown(doc))
    else:
        to_rich(doc, stdout_console(wide))

"""`python -m harness report [PATH ...]`: one self-contained HTML page of a set of versions.

    python -m harness report                                   # logs/ -> report.html
    python -m harness report logs/ old_notebook.txt outputs/ --baseline 3.4 --out results.html

The page holds `harness table` (sortable by clicking a header, filterable by typing, the reviewer's remarks
on their rows), the lineage tree (click a version for `harness show`'s detail), the diff of any two versions
(as `harness diff`), loss and eval curves per version (cumulative along parent chains, a legend that toggles
versions, values on hover), a final metric against a hyper-parameter (x and y chosen in the page), and the
samples the runs recorded, side by side per prompt. Scripts and styles are inline: it opens from disk with
no network, and prints to PDF.
"""

from __future__ import annotations

import argparse
import os

from harness.cli import options
from harness.cli.table import PATHS_HELP, load_runs_of, no_runs
from harness.errors import UserError

DEFAULT_OUT = "report.html"


def register(subparsers) -> None:
    parser = subparsers.add_parser("report", help="one self-contained HTML page: table, lineage, diffs, curves, samples",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    options.add_inputs(parser, PATHS_HELP)
    parser.add_argument("--baseline", metavar="VERSION", help="add deltas against this version's row")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="FILE", help=f"page to write (default: {DEFAULT_OUT})")
    parser.add_argument("--title", default="Training report", help="page title (default: Training report)")
    parser.set_defaults(func=run)


def build_page(args, runs, warnings) -> tuple[str, int]:
    """(the page, number of versions)."""
    from harness.cli.page import data, page
    from harness.compare import lookup
    from harness.compare.review import review
    from harness.compare.table import build_table

    table = build_table(runs, baseline=args.baseline, parse_warnings=warnings)
    table.warnings[:0] = review(table.runs)
    inputs = lookup.Inputs(runs, warnings, list(args.paths or ["logs"]), list(args.paths), None, args.stale_after)
    doc = data.build(table, inputs, args.title, args.baseline)
    return page.render(doc, table), len(table.runs)


def run(args) -> int:
    runs, warnings = load_runs_of(args)
    if not runs:
        return no_runs(args, warnings)
    text, versions = build_page(args, runs, warnings)
    directory = os.path.dirname(args.out)
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UserError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    size = len(text.encode("utf-8"))
    print(f"wrote {args.out} ({versions} version{'s' if versions != 1 else ''}, {size / 1024:.0f} KB)")
    return 0

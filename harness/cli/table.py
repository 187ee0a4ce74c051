"""`harness table` (one comparison row per version) and `harness lineage` (versions as a tree by parent).

Both read any mix of run logs, Trainer stdout files, notebooks and Trainer JSON files; see
harness/compare/load.py. Nothing here imports torch or transformers: the command starts in a blink.
"""

from __future__ import annotations

import os
import sys

from harness.cli import options, render
from harness.compare.formats import TEXT_FORMATS
from harness.errors import UserError

DEFAULT_PATHS = ["logs"]
FORMATS = ("rich", *TEXT_FORMATS)
PATHS_HELP = "log files or directories, searched recursively (default: the logs directory)"

# When a terminal is too narrow, columns go in this order (first listed, first hidden); version and
# eval_loss always stay. A column not listed (another metric, a Δ column) goes with the first group.
HIDE_ORDER = ("samples_per_second", "runtime", "cumulative_epochs", "batch_size", "precision", "peak_memory_mb",
              "parent", "perplexity", "effective_batch", "epochs", "model", "train_loss", "eval_accuracy",
              "learning_rate", "status")
KEEP = ("version", "eval_loss")


def register(subparsers) -> None:
    table = subparsers.add_parser("table", help="one comparison table of all versions",
                                  description="Print one comparison row per version found in the logs.")
    options.add_inputs(table, PATHS_HELP)
    table.add_argument("--format", choices=FORMATS, default="rich", help="output format (default: rich)")
    table.add_argument("--columns", metavar="A,B,...", help="columns to show, in this order")
    table.add_argument("--sort", metavar="COL[:desc],...",
                       help="sort by columns; COL:desc (or --sort=-COL, with the =) sorts descending")
    table.add_argument("--where", action="append", metavar="EXPR",
                       help="keep rows where COLUMN OP VALUE holds (OP: = != < <= > >=); repeatable, ANDed")
    table.add_argument("--baseline", metavar="VERSION", help="add deltas against this version's row")
    table.add_argument("--tree", action="store_true", help="print the lineage tree instead of the table")
    render.add_wide_option(table)
    table.set_defaults(func=run_table)

    tree = subparsers.add_parser("lineage", help="versions as a tree by parent",
                                 description="Print the versions as a tree by parent.")
    options.add_inputs(tree, PATHS_HELP)
    tree.add_argument("--format", choices=("rich", "text", "json"), default="rich",
                      help="output format (default: rich; plain text when not a terminal)")
    render.add_wide_option(tree)
    tree.set_defaults(func=run_lineage)


def _paths(args) -> list[str]:
    return [*args.paths, *args.sources] or [args.logs_dir or DEFAULT_PATHS[0]]


def load_runs_of(args):
    from harness.compare.cache import load_runs

    paths = _paths(args)
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        named = args.paths or args.sources or args.logs_dir
        hint = "" if named else " (run from the project directory, or pass log paths)"
        raise UserError(f"no such file or directory: {', '.join(missing)}{hint}")
    if args.stale_after < 0:
        raise UserError("--stale-after must be >= 0 minutes")
    return load_runs(paths, stale_after=args.stale_after, enabled=args.use_cache)


def no_runs(args, warnings) -> int:
    from harness.compare.table import summarize_warnings

    for line in summarize_warnings(warnings):
        print(f"warning: {line}", file=sys.stderr)
    print(f"no runs found in: {', '.join(_paths(args))}", file=sys.stderr)
    return 1


def run_table(args) -> int:
    if args.tree:
        args.format = {"json": "json", "rich": "rich"}.get(args.format, "text")
        return run_lineage(args)
    from harness.compare.review import review
    from harness.compare.table import build_table

    runs, warnings = load_runs_of(args)
    if not runs:
        return no_runs(args, warnings)
    table = build_table(runs, columns=args.columns, sort=args.sort, where=args.where, baseline=args.baseline,
                        parse_warnings=warnings)
    table.warnings[:0] = review(table.runs)  # remarks about the rows shown, then the files' problems
    print_table(table, args.format, args.wide)
    return 0


def print_table(table, fmt: str, wide: bool = False) -> None:
    """On stdout: rich fitted to the terminal (all of it with `wide`), or text; csv's warnings go to stderr."""
    from harness.compare.formats import render as render_format

    if fmt == "rich":
        render.to_rich(table_document(table), render.stdout_console(wide))
        return
    sys.stdout.write(render_format(table, fmt))
    if fmt == "csv":
        for line in table.warnings:
            print(f"warning: {line}", file=sys.stderr)


def _rank(key: str) -> int:
    if key in KEEP:
        return 0
    base = key.removesuffix("_delta")
    position = HIDE_ORDER.index(base) if base in HIDE_ORDER else -1
    return len(HIDE_ORDER) - position + (1 if key != base else 0)  # a Δ column goes just before its metric


def table_document(table) -> render.Document:
    """The comparison table as a document: best values bold green, warnings under it."""
    from harness.compare.table import format_cell

    columns = [render.Column(c.header, key=c.key, numeric=c.numeric, rank=_rank(c.key)) for c in table.columns]
    rows = [[render.Cell(format_cell(c, row.get(c.key)), "bold green" if (i, c.key) in table.best else "")
             for c in table.columns] for i, row in enumerate(table.rows)]
    grid = render.Grid(columns=columns, rows=rows, hint="--wide shows all, --columns A,B,... picks")
    blocks: list = [grid]
    if table.warnings:
        blocks.append(render.Lines(lines=[f"warning: {w}" for w in table.warnings], style="yellow"))
    return render.Document("", blocks)


def run_lineage(args) -> int:
    from harness.compare import lineage

    runs, warnings = load_runs_of(args)
    if not runs:
        return no_runs(args, warnings)
    roots = lineage.build_tree(runs)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(lineage.tree_dict(roots), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "rich":
        rows = [(guide, lineage.label(node), "dim" if node.run is None else "")
                for guide, node in lineage.tree_rows(roots)]
        render.to_rich(render.Document("versions", [render.Tree(rows=rows)]), render.stdout_console(args.wide))
    else:
        sys.stdout.write("\n".join(lineage.tree_lines(roots)) + "\n")
    return 0

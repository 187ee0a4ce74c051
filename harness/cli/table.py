"""`harness table` (one comparison row per version) and `harness lineage` (versions as a tree by parent).

Both read any mix of run logs, Trainer stdout files, notebooks and Trainer JSON files; see
harness/compare/load.py. Nothing here imports torch or transformers: the command starts in a blink.
"""

from __future__ import annotations

import argparse
import os
import sys

from harness.compare.cache import add_option as add_cache_option
from harness.errors import UserError

DEFAULT_PATHS = ["logs"]


def _add_inputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="log files or directories, searched recursively (default: logs/)")
    add_cache_option(parser)
    parser.add_argument("--stale-after", type=float, default=30.0, metavar="MINUTES",
                        help="a `running` run log not written for this long is shown as stale (default 30)")


def _allow_dash_values(parser: argparse.ArgumentParser) -> None:
    """Let `--sort -eval_loss` work: argparse would take `-eval_loss` for an unknown option.

    The parser has no single-dash option but `-h`, so any other `-word` is a value.
    """
    original = parser._parse_optional

    def parse_optional(arg: str):
        if arg[:1] == "-" and arg[1:2].isalpha() and arg not in parser._option_string_actions:
            return None
        return original(arg)

    parser._parse_optional = parse_optional


def register(subparsers) -> None:
    from harness.compare.formats import FORMATS

    table = subparsers.add_parser("table", help="one comparison table of all versions",
                                  description="Print one comparison row per version found in the logs.")
    _add_inputs(table)
    table.add_argument("--format", choices=FORMATS, default="rich", help="output format (default: rich)")
    table.add_argument("--columns", metavar="A,B,...", help="columns to show, in this order")
    table.add_argument("--sort", metavar="[-]COL,...", help="sort by columns; a leading - sorts descending")
    table.add_argument("--where", action="append", metavar="EXPR",
                       help="keep rows where COLUMN OP VALUE holds (OP: = != < <= > >=); repeatable, ANDed")
    table.add_argument("--baseline", metavar="VERSION", help="add deltas against this version's row")
    table.add_argument("--tree", action="store_true", help="print the lineage tree instead of the table")
    table.set_defaults(func=run_table)
    _allow_dash_values(table)

    tree = subparsers.add_parser("lineage", help="versions as a tree by parent",
                                 description="Print the versions as a tree by parent.")
    _add_inputs(tree)
    tree.add_argument("--format", choices=("rich", "text", "json"), default="rich",
                      help="output format (default: rich; plain text when not a terminal)")
    tree.set_defaults(func=run_lineage)


def _load(args):
    from harness.compare.cache import load_runs

    paths = args.paths or DEFAULT_PATHS
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
        hint = " (run from the project directory, or pass log paths)" if not args.paths else ""
        raise UserError(f"no such file or directory: {', '.join(missing)}{hint}")
    if args.stale_after < 0:
        raise UserError("--stale-after must be >= 0 minutes")
    return load_runs(paths, stale_after=args.stale_after, enabled=args.use_cache)


def _no_runs(args, warnings) -> int:
    from harness.compare.table import summarize_warnings

    for line in summarize_warnings(warnings):
        print(f"warning: {line}", file=sys.stderr)
    print(f"no runs found in: {', '.join(args.paths or DEFAULT_PATHS)}", file=sys.stderr)
    return 1


def run_table(args) -> int:
    if args.tree:
        args.format = {"json": "json", "rich": "rich"}.get(args.format, "text")
        return run_lineage(args)
    from harness.compare.review import review
    from harness.compare.table import build_table

    runs, warnings = _load(args)
    if not runs:
        return _no_runs(args, warnings)
    table = build_table(runs, columns=args.columns, sort=args.sort, where=args.where, baseline=args.baseline,
                        parse_warnings=warnings)
    table.warnings[:0] = review(table.runs)  # remarks about the rows shown, then the files' problems
    print_table(table, args.format)
    return 0


def print_table(table, fmt: str) -> None:
    """On stdout: rich at the terminal's width, or text; csv's warnings go to stderr (no room for them)."""
    from harness.compare.formats import render, render_rich

    if fmt == "rich" and sys.stdout.isatty():
        from rich.console import Console

        render_rich(table, console=Console())
        return
    sys.stdout.write(render(table, fmt))
    if fmt == "csv":
        for line in table.warnings:
            print(f"warning: {line}", file=sys.stderr)


def run_lineage(args) -> int:
    from harness.compare import lineage

    runs, warnings = _load(args)
    if not runs:
        return _no_runs(args, warnings)
    roots = lineage.build_tree(runs)
    if args.format == "json":
        import json

        sys.stdout.write(json.dumps(lineage.tree_dict(roots), indent=2, ensure_ascii=False) + "\n")
    elif args.format == "rich" and sys.stdout.isatty():
        from rich.console import Console

        Console().print(lineage.rich_tree(roots))
    else:
        sys.stdout.write("\n".join(lineage.tree_lines(roots)) + "\n")
    return 0

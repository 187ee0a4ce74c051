"""The input options every reading command shares, defined once: PATHs, --logs-dir, --from, --no-cache,
--stale-after (table, lineage, show, diff, plot)."""

from __future__ import annotations

import argparse

from harness.compare import lookup
from harness.compare.cache import add_option as add_cache_option

EXTRA_PATHS_HELP = "more inputs besides the logs directory: notebooks, Trainer stdout, output dirs"


def add_inputs(parser: argparse.ArgumentParser, paths_help: str | None = EXTRA_PATHS_HELP) -> None:
    """`paths_help` None: the command takes its own positionals (plot's VERSION|PATH)."""
    if paths_help is not None:
        parser.add_argument("paths", nargs="*", metavar="PATH", help=paths_help)
    parser.add_argument("--logs-dir", default=None, metavar="DIR",
                        help=f"where the run logs are (default: {lookup.DEFAULT_LOGS_DIR}/)")
    parser.add_argument("--from", dest="sources", action="append", default=[], metavar="PATH",
                        help="also read this file or directory (notebook, Trainer stdout or output dir); repeatable")
    add_cache_option(parser)
    parser.add_argument("--stale-after", type=float, default=30.0, metavar="MINUTES",
                        help="a `running` run log not written for this long is shown as stale (default 30)")


def load(args, extra: list[str] = ()) -> lookup.Inputs:
    """The logs directory plus every other input the command line names (show, diff, plot)."""
    paths = [*getattr(args, "paths", []), *args.sources, *extra]
    return lookup.load(args.logs_dir, list(dict.fromkeys(paths)), args.stale_after, args.use_cache)

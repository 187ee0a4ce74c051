"""`python -m harness <command>`: one argparse front door; each command lives in its own module.

Command modules are imported lazily so that `harness table` never pays for importing torch.
Each module exposes `register(subparsers)`, which adds its parser and sets `func(args) -> int`.
"""

import argparse
import importlib
import re
import sys

from harness.errors import UserError, report

# name -> module; a module that is not there yet is left out of the help, not a crash.
COMMANDS = {
    "table": "harness.cli.table",
    "lineage": "harness.cli.table",
    "show": "harness.cli.show",
    "diff": "harness.cli.diff",
    "plot": "harness.cli.plot",
    "reproduce": "harness.cli.reproduce",
    "generate": "harness.cli.generate",
    "report": "harness.cli.report",
    "bench": "harness.cli.bench",
}


class Parser(argparse.ArgumentParser):
    """argparse takes the `-eval_loss` of `--sort -eval_loss` for an option: say how to write such a value.

    (The subcommands' parsers are made with this class too: add_subparsers uses the parent's class.)"""

    def error(self, message):
        match = re.fullmatch(r"argument (--[\w-]+)(?:/\S+)?: expected one argument", message)
        if match:
            message += f" (a value that starts with '-' goes after '=': {match.group(1)}=-VALUE)"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="python -m harness",
        description="Compare, inspect, plot, reproduce and sample the versions in logs/ (and other training logs).")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    seen = set()
    for module_name in dict.fromkeys(COMMANDS.values()):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        if module_name not in seen:
            module.register(sub)
            seen.add(module_name)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UserError as exc:
        return report(str(exc))
    except KeyboardInterrupt:
        return report("interrupted", 130)
    except BrokenPipeError:
        # `harness table | head` closing the pipe early is not an error.
        sys.stderr.close()
        return 0


def entry() -> None:
    """The `harness` console script (same as `python -m harness`)."""
    sys.exit(main())

"""`python -m harness reproduce VERSION [NOTEBOOK]`: re-run a version and print recorded vs reproduced metrics.

With NOTEBOOK, the version's run_clm.py command line recorded there (HF's flags or overrides) is re-run and
compared with the metrics the notebook recorded."""

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from harness.rerun.notebook import NOTEBOOK_RTOL


def register(subparsers) -> None:
    parser = subparsers.add_parser("reproduce", help="re-run a logged version and check that it reproduces",
                                   description=__doc__)
    parser.add_argument("version")
    parser.add_argument("notebook", nargs="?", help="a hand-kept notebook that recorded the version's command line")
    parser.add_argument("--logs-dir", default="logs")
    parser.add_argument("--rtol", type=float, default=None,
                        help="relative tolerance (default 0: exact for a run log; "
                             f"{NOTEBOOK_RTOL:g} for a notebook, the spread of a GPU fp16 re-run)")
    parser.add_argument("--atol", type=float, default=0.0, help="absolute tolerance (default 0)")
    parser.add_argument("--force", action="store_true", help="re-run even if the data changed (recorded in the log)")
    parser.add_argument("--chain", action="store_true", help="re-run ancestors whose weights are missing first")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="change one config value for the re-run (e.g. train.seed=7); recorded in the note")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="let the model directory's own Python code run (never taken from the log)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from harness.errors import UserError
    from harness.rerun.reproduce import reproduce

    console = Console()
    announce = lambda v, r: console.print(f"[bold]re-running {v} as {r}[/bold]")  # noqa: E731
    if args.notebook is not None:
        from harness.rerun.notebook import reproduce_notebook

        if args.force or args.chain:
            raise UserError("--force and --chain are for run logs; a notebook version is re-run as it was recorded")
        rtol = NOTEBOOK_RTOL if args.rtol is None else args.rtol
        outcomes = [reproduce_notebook(args.version, args.notebook, args.logs_dir, rtol=rtol, atol=args.atol,
                                       overrides=args.overrides, on_rerun=announce)]
        why = "the default for a notebook: a GPU fp16 re-run" if args.rtol is None else ""
    else:
        rtol, why = args.rtol or 0.0, ""
        outcomes = reproduce(args.version, args.logs_dir, rtol=rtol, atol=args.atol, force=args.force,
                             chain=args.chain, overrides=args.overrides, on_rerun=announce,
                             trust_remote_code=args.trust_remote_code)
    for outcome in outcomes:
        render(console, outcome, rtol, args.atol, why)
    return 0 if all(o.reproduced for o in outcomes) else 1


def render(console: Console, outcome, rtol: float, atol: float, why: str = "") -> None:
    table = Table(title=f"{outcome.version} (recorded) vs {outcome.rerun} (reproduced)")
    for name, justify in (("split", "left"), ("metric", "left"), ("recorded", "right"),
                          ("reproduced", "right"), ("difference", "right"), ("", "center")):
        table.add_column(name, justify=justify)
    for row in outcome.rows:
        diff = "" if row.difference is None else f"{row.difference:+.3g}"
        table.add_row(row.split, row.key, _fmt(row.recorded), _fmt(row.reproduced), diff,
                      "[green]=[/green]" if row.ok else "[red]x[/red]")
    console.print(table)
    for problem in outcome.forced:
        console.print(f"[yellow]forced:[/yellow] {problem}")
    for caveat in outcome.caveats:
        console.print(f"[yellow]unchecked:[/yellow] {escape(caveat)}")
    tolerance = "exact" if rtol == 0 and atol == 0 else f"rtol={rtol:g}, atol={atol:g}"
    tolerance += f"; {why}" if why else ""
    if outcome.reproduced:
        console.print(f"[bold green]REPRODUCED[/bold green] {outcome.version} as {outcome.rerun} ({tolerance})")
        return
    bad = sum(not row.ok for row in outcome.rows)
    console.print(f"[bold red]DIVERGED[/bold red] {outcome.version} vs {outcome.rerun}: "
                  f"{bad} of {len(outcome.rows)} metrics differ ({tolerance})")
    for key, before, after in outcome.environment:
        console.print(f"  environment {key}: {before} -> {after}")
    if not outcome.environment:
        console.print("  environment: identical (versions, device, precision)")


def _fmt(value) -> str:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else str(value)

"""`python -m harness plot [VERSION|PATH ...]`: curves of one logged metric, one line per version, as a PNG.

    python -m harness plot 3.4 3.5 3.6 --metric loss --out loss.png
    python -m harness plot notebook.txt --metric eval_loss --x epoch
    python -m harness plot 3.4 3.5 3.6 --cumulative --logy          # a chain as one continuous curve
    python -m harness plot out.txt 3.4 --width 1600 --height 900     # Trainer stdout next to a run log
    python -m harness plot --x lora_r --y train_loss,train_runtime   # a sweep: final metrics against a knob

Arguments are versions (looked up in --logs-dir and --from inputs) and files or directories (a notebook,
Trainer stdout, an output directory with trainer_state.json), whose runs are all plotted. With no argument,
every run of the --from inputs, else of the logs directory, is plotted. `--metric` is any key of the
periodic log lines (`loss`, `eval_loss`, `learning_rate`, `grad_norm`, `eval_accuracy`, ...); with `loss`,
each version's `eval_loss` points are drawn as markers in its colour. The x axis is `step` (or `--x epoch`);
where the lines carry no step (Trainer stdout) it falls back to epoch, then to the line's index, and the axis
label says so.

    python -m harness plot --x learning_rate --metric eval_loss      # a sweep: final metric against a knob

With `--x NAME` (not step or epoch), each version is one point: its final metric (`--y METRIC[,METRIC]`, else
`--metric`, where `loss` means eval_loss; `train_loss`, `train_runtime`, `peak_memory_mb`, any `harness table`
column) against NAME, a number the versions record (a table column such as `learning_rate` or `batch_size`,
the model section's `lora_r`, a config key such as `peft.r`); one panel per metric, side by side. The x axis
is logarithmic for learning_rate, or when its values span a factor of 100.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import sys
from dataclasses import dataclass, field
from typing import Any

from harness.cli import options
from harness.compare import lookup
from harness.compare.knobs import SweepPlan
from harness.compare.records import Run, number, version_key
from harness.errors import UserError

DEFAULT_WIDTH, DEFAULT_HEIGHT, DEFAULT_DPI = 1200, 700, 100
MAX_PIXELS = 20_000
INDEX = "index"


def register(subparsers) -> None:
    parser = subparsers.add_parser("plot", help="curves of a logged metric (loss, eval_loss, ...) as a PNG",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("items", nargs="*", metavar="VERSION|PATH",
                        help="versions to plot, and files or directories whose runs are all plotted")
    options.add_inputs(parser, paths_help=None)
    parser.add_argument("--metric", default="loss", help="a key of the periodic log lines (default: loss)")
    parser.add_argument("--x", default="step", metavar="step|epoch|NAME",
                        help="x axis of the curves: step (default; falls back to epoch, then line index, where steps "
                             "are absent) or epoch; with --y, a hyper-parameter such as lora_r or learning_rate")
    parser.add_argument("--y", metavar="METRIC[,METRIC]",
                        help="sweep plot: each version's final METRIC against --x NAME, one panel per metric")
    parser.add_argument("--logx", action=argparse.BooleanOptionalAction, default=None,
                        help="with --y, a logarithmic x axis (default: for learning_rate, or x spanning 100x)")
    parser.add_argument("--out", default="plot.png", metavar="FILE",
                        help="image to write (default: plot.png; .svg and .pdf work too)")
    parser.add_argument("--title", help="plot title (default: METRIC vs X)")
    parser.add_argument("--logy", action="store_true", help="logarithmic y axis")
    parser.add_argument("--width", type=int, default=DEFAULT_WIDTH, metavar="PIXELS",
                        help=f"image width in pixels (default {DEFAULT_WIDTH})")
    parser.add_argument("--height", type=int, default=DEFAULT_HEIGHT, metavar="PIXELS",
                        help=f"image height in pixels (default {DEFAULT_HEIGHT})")
    parser.add_argument("--dpi", type=int, default=DEFAULT_DPI, help=f"dots per inch (default {DEFAULT_DPI})")
    parser.add_argument("--cumulative", action="store_true",
                        help="shift each version's x by where its parent ended, so a chain reads as one curve")
    parser.add_argument("--no-eval", dest="eval_points", action="store_false",
                        help="with --metric loss, do not draw the eval_loss points")
    parser.set_defaults(func=run)


@dataclass
class Series:
    run: Run
    label: str
    points: list[tuple[float, float]]
    eval_points: list[tuple[float, float]] = field(default_factory=list)
    offset: float = 0.0


@dataclass
class Plan:
    series: list[Series]
    x_key: str  # step | epoch | index
    x_label: str
    warnings: list[str]


# ---- which runs ----


def select(items: list[str], inputs: lookup.Inputs, path_items: list[str]) -> list[Run]:
    """Named versions (in the order given) and every run of the files named; with neither, every run of
    the --from inputs, else of the logs directory."""
    chosen: list[Run] = []
    for item in dict.fromkeys(items):
        if item in path_items:
            found = lookup.runs_of_path(item, inputs.runs)
            chosen += sorted(found, key=lambda r: (version_key(r.version), r.source, r.line))
        else:
            chosen.append(lookup.pick(item, inputs))
    if items:
        return list({id(r): r for r in chosen}.values())
    runs = inputs.runs
    if inputs.extra:
        runs = [r for p in dict.fromkeys(inputs.extra) for r in lookup.runs_of_path(p, inputs.runs)]
        runs = list({id(r): r for r in runs}.values())
    return sorted(runs, key=lambda r: (version_key(r.version), r.source, r.line))


# ---- points ----


def points_of(run: Run, metric: str) -> list[dict[str, Any]]:
    out = []
    for entry in run.history:
        y = number(entry.get(metric))
        if y is not None and math.isfinite(y):
            out.append(entry)
    return out


def choose_x(runs_entries: list[list[dict]], wanted: str) -> tuple[str, str]:
    """One x for the whole plot: curves on different axes side by side would mislead."""
    every = [e for entries in runs_entries for e in entries]

    def have(key: str) -> bool:
        return all(number(e.get(key)) is not None for e in every)

    if wanted == "step" and have("step"):
        return "step", "step"
    if have("epoch"):
        return "epoch", "epoch" if wanted == "epoch" else "epoch (steps not logged)"
    return INDEX, f"log line (no {wanted}s logged)"


def _xy(entries: list[dict], x_key: str, metric: str) -> list[tuple[float, float]]:
    if x_key == INDEX:
        return [(float(i), float(e[metric])) for i, e in enumerate(entries, 1)]
    return [(float(e[x_key]), float(e[metric])) for e in entries if number(e.get(x_key)) is not None]


def _end(run: Run, x_key: str, metric: str) -> float | None:
    """Where a run's own x axis ends: its last step, its final epoch, or its number of points."""
    if x_key == INDEX:
        return float(len(points_of(run, metric))) or None
    if x_key == "epoch" and run.epochs is not None:
        return run.epochs
    values = [number(e.get(x_key)) for e in run.history]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def offsets(series: list[Series], runs: list[Run], x_key: str, metric: str) -> list[str]:
    """--cumulative: each series starts where its chain of parents ended."""
    warnings: list[str] = []

    def start(run: Run) -> float:
        """The sum of the x extents of the ancestors among the inputs, root first."""
        value, chain = 0.0, lookup.ancestors(run, runs)
        children = [version for version, _ in chain[1:]] + [run.version]
        for (version, parent), child in zip(chain, children):
            if parent is None:
                warnings.append(f"{child}: parent {version} is not among the inputs; its curve starts at 0")
                continue
            end = _end(parent, x_key, metric)
            if end is None:
                warnings.append(f"{run.version}: parent {parent.version} logged no {x_key}; "
                                "the curve is not shifted for it")
            value += end or 0.0
        return value

    for s in series:
        s.offset = start(s.run)
        s.points = [(x + s.offset, y) for x, y in s.points]
        s.eval_points = [(x + s.offset, y) for x, y in s.eval_points]
    return list(dict.fromkeys(warnings))


def plan(runs: list[Run], all_runs: list[Run], metric: str, x: str = "step", cumulative: bool = False,
         eval_points: bool = True) -> Plan:
    """What to draw; UserError when nothing has a point."""
    warnings: list[str] = []
    kept, entries = [], []
    for run in runs:
        found = points_of(run, metric)
        if found:
            kept.append(run)
            entries.append(found)
    empty = [r.version for r in runs if r not in kept]
    if not kept:
        found_keys = sorted({k for r in runs for e in r.history for k in e
                             if number(e.get(k)) is not None and k not in ("step", "epoch")})
        hint = f"; keys logged: {', '.join(found_keys)}" if found_keys else "; these runs logged no periodic lines"
        raise UserError(f"no `{metric}` points to plot in {', '.join(dict.fromkeys(empty)) or '(no runs)'}{hint}")
    if empty:
        warnings.append(f"no `{metric}` points for {', '.join(dict.fromkeys(empty))}; skipped")
    x_key, x_label = choose_x(entries, x)
    labels = unique_labels(kept)
    series = []
    with_eval = metric == "loss" and eval_points
    for run, found, label in zip(kept, entries, labels):
        evals = _xy(points_of(run, "eval_loss"), x_key, "eval_loss") if with_eval and x_key != INDEX else []
        series.append(Series(run, label, _xy(found, x_key, metric), evals))
    if cumulative:
        warnings += offsets(series, all_runs, x_key, metric)
        x_label += ", cumulative along parents"
    return Plan(series, x_key, x_label, warnings)


# ---- labels ----


def short_number(value: float) -> str:
    """1e-4 for 0.0001, 2.5e-5, 0.01, 3, 0.5: the way people write learning rates and epochs."""
    if value != 0 and abs(value) < 1e-2:
        mantissa, exponent = f"{value:.2e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}e{int(exponent)}"
    return f"{value:.3g}"


def label(run: Run) -> str:
    """`3.4 (lr 1e-4, 3 ep, bs 2)` from what the run recorded; parts it did not record are left out."""
    hp = run.hyperparameters
    parts = []
    lr = number(hp.get("learning_rate"))
    if lr is not None:
        parts.append(f"lr {short_number(lr)}")
    epochs = run.epochs if run.epochs is not None else number(hp.get("num_train_epochs"))
    if epochs is not None:
        parts.append(f"{short_number(epochs)} ep")
    batch = number(hp.get("per_device_train_batch_size"))
    if batch is not None:
        accumulation = number(hp.get("gradient_accumulation_steps"))
        parts.append(f"bs {batch:g}" + (f"x{accumulation:g}" if accumulation and accumulation > 1 else ""))
    return f"{run.version} ({', '.join(parts)})" if parts else run.version


def unique_labels(runs: list[Run]) -> list[str]:
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.version] = counts.get(run.version, 0) + 1
    return [label(r) + (f" [{os.path.basename(r.where)}]" if counts[r.version] > 1 else "") for r in runs]


# ---- drawing ----


def check_size(width: int, height: int, dpi: int) -> None:
    for name, value in (("--width", width), ("--height", height)):
        if not 16 <= value <= MAX_PIXELS:
            raise UserError(f"{name} must be between 16 and {MAX_PIXELS} pixels (got {value})")
    if not 10 <= dpi <= 1200:
        raise UserError(f"--dpi must be between 10 and 1200 (got {dpi})")


def draw(plan_: Plan, metric: str, out: str, *, title: str | None = None, logy: bool = False,
         width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT, dpi: int = DEFAULT_DPI) -> str:
    """Write the figure with matplotlib's Agg canvas (no display needed); returns the path written."""
    from matplotlib.lines import Line2D

    fig = _figure(width, height, dpi)
    ax = fig.add_subplot()
    colours = _colours(len(plan_.series))
    any_eval = False
    for series, colour in zip(plan_.series, colours):
        xs, ys = zip(*series.points)
        one_per_version = plan_.x_key not in ("step", "epoch", INDEX)
        style = dict(marker="o", markersize=3) if len(xs) < 3 or metric.startswith("eval_") or one_per_version else {}
        ax.plot(xs, ys, color=colour, linewidth=1.6, label=series.label, **style)
        if series.eval_points:
            any_eval = True
            ex, ey = zip(*series.eval_points)
            ax.plot(ex, ey, linestyle="none", marker="o", markersize=6, markeredgecolor="black",
                    markeredgewidth=0.6, color=colour)
    handles, labels = ax.get_legend_handles_labels()
    if any_eval:
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=6, color="grey",
                              markeredgecolor="black", markeredgewidth=0.6))
        labels.append("eval (eval_loss)")
    ax.legend(handles, labels, fontsize="small", loc="best")
    ax.set_xlabel(plan_.x_label)
    ax.set_ylabel(metric)
    if logy:
        ax.set_yscale("log")
    ax.grid(True, alpha=0.3)
    ax.set_title(title if title is not None else f"{metric} vs {plan_.x_label.split(' (')[0]}")
    return _save(fig, out, dpi)


def _figure(width: int, height: int, dpi: int):
    check_size(width, height, dpi)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, out: str, dpi: int) -> str:
    fig.tight_layout()
    directory = os.path.dirname(out)
    if directory:
        os.makedirs(directory, exist_ok=True)
    try:
        fig.savefig(out, dpi=dpi)
    except ValueError as exc:  # an image format matplotlib does not know
        raise UserError(f"cannot write {out}: {exc}") from None
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


LABELLED_POINTS = 30  # more points than this: version labels would be a smudge


def draw_sweep(sweep_: SweepPlan, out: str, *, title: str | None = None, logy: bool = False,
               width: int = DEFAULT_WIDTH, height: int = DEFAULT_HEIGHT, dpi: int = DEFAULT_DPI) -> str:
    """One panel per metric: a point per version, the versions of one sweep joined in x order (one colour per
    sweep, in a legend when there are several), labelled by version when few."""
    fig = _figure(width, height, dpi)
    axes = fig.subplots(1, len(sweep_.panels), squeeze=False)[0]
    for ax, panel in zip(axes, sweep_.panels):
        groups: dict[str, list] = {}
        for point in panel.points:
            groups.setdefault(sweep_.sweep_of.get(point[2], "outside a sweep"), []).append(point)
        for (name, points), colour in zip(groups.items(), _colours(len(groups))):
            xs, ys, _ = zip(*points)
            ax.plot(xs, ys, color=colour, linewidth=1.0, alpha=0.5, marker="o", markersize=6, label=name)
        if len(groups) > 1:
            ax.legend(fontsize="small")
        if len(panel.points) <= LABELLED_POINTS:
            for x, y, version in panel.points:
                ax.annotate(version, (x, y), textcoords="offset points", xytext=(4, 4), fontsize="small")
        ax.set_xlabel(sweep_.x + (" (log scale)" if sweep_.log_x else ""))
        ax.set_ylabel(panel.metric)
        if sweep_.log_x:
            ax.set_xscale("log")
        if logy:
            ax.set_yscale("log")
        ax.grid(True, alpha=0.3)
        ax.set_title(f"{panel.metric} vs {sweep_.x}")
    if title is not None:
        fig.suptitle(title)
    return _save(fig, out, dpi)


def _colours(n: int) -> list:
    from matplotlib import colormaps

    name = "tab10" if n <= 10 else "tab20"
    cmap = colormaps[name]
    return [cmap(i % cmap.N) for i in range(n)]


def _metrics(spec: str) -> list[str]:
    metrics = list(dict.fromkeys(m.strip() for m in spec.split(",") if m.strip()))
    if not metrics:
        raise UserError("--y needs one or more metric names, e.g. --y train_loss,train_runtime")
    return metrics


def run(args) -> int:
    check_size(args.width, args.height, args.dpi)
    if re.fullmatch(r"\s*", args.metric or ""):
        raise UserError("--metric needs a key of the periodic log lines, e.g. loss or eval_loss")
    if args.y is None and args.x not in ("step", "epoch"):  # a sweep plot of --metric; `loss` is the final eval_loss
        args.y = "eval_loss" if args.metric == "loss" else args.metric
    metrics = _metrics(args.y) if args.y is not None else []
    _, path_items = lookup.split_specs(args.items)
    inputs = options.load(args, path_items)
    runs = select(args.items, inputs, path_items)
    if not runs:
        raise UserError(f"no runs found in {inputs.describe()}")
    if metrics:
        return run_sweep(args, runs, metrics)
    plan_ = plan(runs, inputs.runs, args.metric, args.x, args.cumulative, args.eval_points)
    for warning in plan_.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if args.x == "step" and plan_.x_key != "step":
        print(f"note: x axis is {plan_.x_label}", file=sys.stderr)
    out = draw(plan_, args.metric, args.out, title=args.title, logy=args.logy, width=args.width,
               height=args.height, dpi=args.dpi)
    versions = len(plan_.series)
    print(f"wrote {out} ({versions} version{'s' if versions != 1 else ''}, {args.metric} vs {plan_.x_key})")
    return 0


def run_sweep(args, runs: list[Run], metrics: list[str]) -> int:
    from harness.compare import knobs

    sweep_ = knobs.plan(runs, args.x, metrics, args.logx)
    for warning in sweep_.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = draw_sweep(sweep_, args.out, title=args.title, logy=args.logy, width=args.width, height=args.height,
                     dpi=args.dpi)
    versions = len({v for panel in sweep_.panels for _, _, v in panel.points})
    print(f"wrote {out} ({versions} version{'s' if versions != 1 else ''}, {', '.join(metrics)} vs {args.x}"
          f"{', log x' if sweep_.log_x else ''})")
    return 0

"""A metric against a hyper-parameter across versions: the plot people make for a sweep.

Names are those of `harness table` (its columns: `learning_rate`, `epochs`, `batch_size`, `train_loss`,
`runtime`, ...), then Trainer's metric names (`train_runtime`, `eval_accuracy`), the log's `model` section
(`lora_r`, `trainable_params`), its `summary` (`peak_memory_mb`) and any resolved config key (`peft.r`,
`train.weight_decay`). `harness plot --x KEY --y METRIC` and the report page both read values through here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.compare.records import Run, finite_number
from harness.errors import UserError

LOG_X_KEYS = ("learning_rate",)  # swept over decades: a log axis by default
LOG_SPAN = 100.0  # positive values spread over this factor or more also get a log axis



class Resolver:
    """Looks a name up in every place a run records numbers, in the order the module docstring gives."""

    def __init__(self, runs: list[Run]):
        from harness.compare.table import available_columns

        columns, _ = available_columns(runs)
        self.columns: dict[str, Callable[[Run], Any]] = {c.key: getter for c, getter in columns}
        self._flat: dict[int, dict[str, Any]] = {}

    def config(self, run: Run) -> dict[str, Any]:
        if id(run) not in self._flat:
            from harness.compare.load import flatten

            self._flat[id(run)] = flatten(run.config)
        return self._flat[id(run)]

    def value(self, run: Run, key: str) -> float | None:
        if key in self.columns:
            found = finite_number(self.columns[key](run))
            if found is not None:
                return found
        for place in (run.eval_metrics, run.train_metrics, run.model, run.summary, self.config(run)):
            found = finite_number(place.get(key))
            if found is not None:
                return found
        return None

    def numbers(self, run: Run) -> dict[str, float]:
        """Every number this run records under any name above, with the precedence `value` gives them."""
        out: dict[str, float] = {}
        places = (self.config(run), run.summary, run.model, run.train_metrics, run.eval_metrics)
        for place in places:  # later places win: the reverse of `value`'s order, columns last
            out.update({k: v for k, v in ((k, finite_number(v)) for k, v in place.items()) if v is not None})
        for key, getter in self.columns.items():
            found = finite_number(getter(run))
            if found is not None:
                out[key] = found
        return out


def varying(per_run: list[dict[str, float]]) -> list[str]:
    """Names with at least two different values among the runs: the axes a sweep moved along."""
    seen: dict[str, set[float]] = {}
    for numbers in per_run:
        for key, value in numbers.items():
            seen.setdefault(key, set()).add(value)
    return sorted(k for k, values in seen.items() if len(values) > 1)


def wants_log(key: str, xs: list[float]) -> bool:
    positive = [x for x in xs if x > 0]
    if not positive or len(positive) < len(xs):
        return False
    return key.rpartition(".")[2] in LOG_X_KEYS or max(positive) / min(positive) >= LOG_SPAN


@dataclass
class Points:
    metric: str
    points: list[tuple[float, float, str]]  # (x, y, version), sorted by x


@dataclass
class SweepPlan:
    x: str
    panels: list[Points]
    log_x: bool
    warnings: list[str]
    sweep_of: dict[str, str] = field(default_factory=dict)  # version -> the sweep that made it (its label)


def plan(runs: list[Run], x: str, metrics: list[str], log_x: bool | None = None) -> SweepPlan:
    """The points of each metric against `x`; UserError when a name has no value in any run."""
    resolver = Resolver(runs)
    xs = {id(r): resolver.value(r, x) for r in runs}
    if not any(v is not None for v in xs.values()):
        raise UserError(f"no run records a number for --x {x}; {_hint(resolver, runs)}")
    warnings = []
    missing_x = [r.version for r in runs if xs[id(r)] is None]
    if missing_x:
        warnings.append(f"no {x} for {', '.join(missing_x)}; left out")
    panels = []
    for metric in metrics:
        points = [(xs[id(r)], y, r.version) for r in runs
                  if xs[id(r)] is not None and (y := resolver.value(r, metric)) is not None]
        if not points:
            raise UserError(f"no run with a {x} records a number for --y {metric}; {_hint(resolver, runs)}")
        absent = [r.version for r in runs if xs[id(r)] is not None and resolver.value(r, metric) is None]
        if absent:
            warnings.append(f"no {metric} for {', '.join(absent)}; left out of that panel")
        panels.append(Points(metric, sorted(points, key=lambda p: p[0])))
    all_x = [p[0] for panel in panels for p in panel.points]
    return SweepPlan(x, panels, wants_log(x, all_x) if log_x is None else log_x, warnings, _sweeps_of(runs))


def _sweeps_of(runs: list[Run]) -> dict[str, str]:
    """Which sweep each version came from (a `-m` sweep's logs name its directory), as a legend label."""
    from harness.compare.sweeps import sweep_dir

    return {r.version: f"sweep {os.path.basename(d.rstrip('/'))}" for r in runs if (d := sweep_dir(r))}


def _hint(resolver: Resolver, runs: list[Run]) -> str:
    names = varying([resolver.numbers(r) for r in runs])
    if not names:
        return "these runs differ in no recorded number"
    shown = names if len(names) <= 25 else names[:25] + ["..."]
    return f"names that vary across these runs: {', '.join(shown)}"

"""Sweeps in the comparison table: the runs one `run_clm.py -m` command made, and the best trial of each.

A sweep job's log records `sweep_dir:` (its sweep's directory, unique per sweep) and, under the Optuna
sweeper, `sweep_objective: minimize eval_loss`; a grid sweep is judged by eval_loss, lower is better.
"""

from __future__ import annotations

import math
from pathlib import PurePath

from harness.compare.records import Run

DEFAULT_OBJECTIVE = ("minimize", "eval_loss")


def sweep_dir(run: Run) -> str | None:
    return run.fields.get("sweep_dir") or None


def objective(run: Run) -> tuple[str, str]:
    direction, _, key = (run.fields.get("sweep_objective") or "").partition(" ")
    if direction not in ("minimize", "maximize") or not key:
        return DEFAULT_OBJECTIVE
    return direction, key


def _score(run: Run) -> float | None:
    direction, key = objective(run)
    value = run.metric(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value if direction == "minimize" else -value


def best_trials(runs: list[Run]) -> set[int]:
    """id() of the best run of each sweep among `runs` (ties: the first version listed)."""
    best: dict[str, tuple[float, Run]] = {}
    for run in runs:
        key = sweep_dir(run)
        if key is None:
            continue
        score = _score(run)
        if score is not None and (key not in best or score < best[key][0]):
            best[key] = (score, run)
    return {id(run) for _, run in best.values()}


def label(run: Run, best: set[int]) -> str | None:
    """The sweep's name (its directory's, a timestamp) for grouping, with `best` on its best trial."""
    directory = sweep_dir(run)
    if directory is None:
        return None
    name = PurePath(directory).name or directory
    return f"{name} best" if id(run) in best else name

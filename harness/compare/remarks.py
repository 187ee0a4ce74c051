"""What a run's own record shows is wrong with it: checked once, when its file is read (load.derive), so the
parse cache keeps the result and a warm table skips the checks. The reviewer (review.py) lists them with the
remarks that compare runs or depend on the clock; `show` lists them for one run.
"""

from __future__ import annotations

import math
import os
from typing import Any

from harness.compare.records import Run, number

# Ranks: the order the reviewer lists one version's remarks in.
EVAL_IS_TRAIN, COLLAPSED, NO_STEPS = 0, 1, 2

_TRAIN_ROLES = ("train",)
_EVAL_ROLES = ("validation", "valid", "eval", "evaluation", "dev", "test")
STUCK_LOGS = 4  # this many identical training losses in a row at the end: the loss is stuck


def _files(run: Run, roles: tuple[str, ...]) -> list[dict[str, Any]]:
    files = run.data.get("files") if isinstance(run.data, dict) else None
    if not isinstance(files, list):
        return []
    return [f for f in files if isinstance(f, dict) and str(f.get("role", "")).lower() in roles]


def same_eval_file(run: Run) -> str | None:
    """The shared file when evaluation reads the training file (by checksum, else by path)."""
    for train in _files(run, _TRAIN_ROLES):
        for held in _files(run, _EVAL_ROLES):
            if train.get("sha256") and train.get("sha256") == held.get("sha256"):
                return str(held.get("path") or train.get("path") or train["sha256"])
            if train.get("path") and _same_path(str(train["path"]), str(held.get("path"))):
                return str(train["path"])
    train_file = run.hyperparameters.get("train_file")
    eval_file = run.hyperparameters.get("validation_file")
    if train_file and eval_file and _same_path(str(train_file), str(eval_file)):
        return str(train_file)
    return None


def _same_path(a: str, b: str) -> bool:
    """normpath(a) == normpath(b), without normalising two paths whose last parts differ (every run asks)."""
    last_a, last_b = a.rpartition("/")[2], b.rpartition("/")[2]
    if last_a != last_b and last_a not in _MOVABLE and last_b not in _MOVABLE:
        return False  # normpath keeps a last part other than these
    return os.path.normpath(a) == os.path.normpath(b)


_MOVABLE = ("", ".", "..")


def collapse(run: Run) -> str | None:
    """Why the run looks collapsed: a one-class classifier, or a training loss stuck at a constant."""
    metrics = run.eval_metrics
    accuracy = number(metrics.get("eval_accuracy"))
    if accuracy is not None and abs(accuracy - 0.5) <= 0.05:
        precision = [v for k, v in metrics.items() if k.endswith("precision") and number(v) is not None]
        recall = [v for k, v in metrics.items() if k.endswith("recall") and number(v) is not None]
        if precision and recall and all(abs(v) < 1e-9 for v in precision + recall):
            return f"eval_accuracy {accuracy:.3f} with precision and recall 0: predicts a single class"
    tail = _last_losses(run.history, STUCK_LOGS)
    if tail and math.isnan(tail[-1]):
        return "training loss is nan"
    if len(tail) == STUCK_LOGS and all(v == tail[0] for v in tail):
        return f"training loss stuck at {tail[0]:g} for the last {STUCK_LOGS} logs"
    loss = number(metrics.get("eval_loss"))
    if loss is not None and math.isnan(loss):
        return "eval_loss is nan"
    return None


def _last_losses(history: list[dict[str, Any]], count: int) -> list[float]:
    """The last `count` numeric training losses, oldest first (the end of the history is all that counts)."""
    found: list[float] = []
    for entry in reversed(history):
        loss = number(entry.get("loss")) if "loss" in entry else None
        if loss is not None:
            found.append(loss)
            if len(found) == count:
                break
    return found[::-1]


def no_steps(run: Run) -> str | None:
    return next((w for w in run.warnings if w.startswith("trained 0 steps")), None)


def of(run: Run) -> list[list]:
    """[[rank, remark], ...] for `run`: lists, as the parse cache gives them back. Checked once."""
    if run.remarks is not None:
        return run.remarks
    found = []
    shared = same_eval_file(run)
    if shared:
        found.append([EVAL_IS_TRAIN, f"evaluation file is the training file ({shared}); its eval metrics are not "
                      "held-out"])
    for rank, check in ((COLLAPSED, collapse), (NO_STEPS, no_steps)):
        remark = check(run)
        if remark:
            found.append([rank, remark])
    run.remarks = found
    return found

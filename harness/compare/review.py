"""The remarks a careful reviewer makes about a set of runs, before trusting the table's numbers."""

from __future__ import annotations

import math
import os
import time
from typing import Any

from harness.compare.load import close, comparable_metrics
from harness.compare.records import RUNLOG, Run, number, version_key
from harness.compare.table import name_some

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
            if train.get("path") and os.path.normpath(str(train["path"])) == os.path.normpath(str(held.get("path"))):
                return str(train["path"])
    train_file = run.hyperparameters.get("train_file")
    eval_file = run.hyperparameters.get("validation_file")
    if train_file and eval_file and os.path.normpath(str(train_file)) == os.path.normpath(str(eval_file)):
        return str(train_file)
    return None


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


def stale(run: Run) -> str | None:
    if run.status != "stale":
        return None
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.mtime)) if run.mtime else "long ago"
    return f"log says running but was last written {when}: crashed or killed"


def no_steps(run: Run) -> str | None:
    return next((w for w in run.warnings if w.startswith("trained 0 steps")), None)


def duplicates(runs: list[Run]) -> list[tuple[str, str]]:
    by_version: dict[str, list[Run]] = {}
    for run in runs:
        by_version.setdefault(run.version, []).append(run)
    out = []
    for version, group in by_version.items():
        if len(group) < 2:
            continue
        first, second = group[0], group[1]
        ma, mb = comparable_metrics(first), comparable_metrics(second)
        diff = next((k for k in sorted(ma.keys() & mb.keys()) if not close(ma[k], mb[k])), None)
        detail = f" ({diff.removeprefix('hp:')} {ma[diff]:g} vs {mb[diff]:g})" if diff else ""
        where = ", ".join(r.where for r in group)
        out.append((version, f"appears {len(group)} times with different numbers{detail}: {where}"))
    return out


def loss_denominators(runs: list[Run]) -> tuple[str, str] | None:
    """(version, remark) when run_clm.py logs (loss over predicted tokens) sit beside losses read from Trainer
    output, which HF's run_clm.py under transformers 5.x divides by all tokens: (block-1)/block of ours."""
    def has_loss(run: Run) -> bool:
        return any(number(m.get(k)) is not None for m, k in ((run.eval_metrics, "eval_loss"),
                                                               (run.train_metrics, "train_loss")))

    ours = [r.version for r in runs if r.environment.get("loss_denominator") == "predicted_tokens" and has_loss(r)]
    theirs = sorted({r.version for r in runs if r.source_kind != RUNLOG and has_loss(r)}, key=version_key)
    if not ours or not theirs:
        return None
    return theirs[0], (f"{_some(theirs)}: losses read from Trainer output; if HF's run_clm.py under "
                       "transformers 5.x printed them, they are divided by all tokens, (block-1)/block of the "
                       f"per-predicted-token loss of the run_clm.py logs ({_some(sorted(ours, key=version_key))})")


def _some(names: list[str], shown: int = 4) -> str:
    return ", ".join(names[:shown]) + (f" (+{len(names) - shown} more)" if len(names) > shown else "")


def review(runs: list[Run]) -> list[str]:
    """One line per remark, `<version>: <remark>`, in natural version order."""
    found: list[tuple[tuple, int, str]] = []
    for run in runs:
        shared = same_eval_file(run)
        if shared:
            found.append((version_key(run.version), 0, f"{run.version}: evaluation file is the training file "
                          f"({shared}); its eval metrics are not held-out"))
        for rank, check in ((1, collapse), (2, stale), (2, no_steps)):
            remark = check(run)
            if remark:
                found.append((version_key(run.version), rank, f"{run.version}: {remark}"))
    for version, remark in duplicates(runs):
        found.append((version_key(version), 3, f"{version}: {remark}"))
    if mixed := loss_denominators(runs):
        found.append((version_key(mixed[0]), 4, mixed[1]))
    return _grouped(sorted(found))


def _grouped(found: list[tuple[tuple, int, str]]) -> list[str]:
    """`<version>: <remark>` lines; one remark that many versions share is one line naming them all."""
    versions_by_remark: dict[str, list[str]] = {}
    for _, _, text in found:
        version, _, remark = text.partition(": ")
        versions = versions_by_remark.setdefault(remark, [])
        if version not in versions:
            versions.append(version)
    return [f"{name_some(versions)}: {remark}" for remark, versions in versions_by_remark.items()]

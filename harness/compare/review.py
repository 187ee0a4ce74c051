"""The remarks a careful reviewer makes about a set of runs, before trusting the table's numbers."""

from __future__ import annotations

import time
from collections import Counter
from operator import attrgetter

from harness.compare import remarks
from harness.compare.load import close, comparable_metrics
from harness.compare.records import RUNLOG, Run, number, version_key
from harness.compare.table import name_some

STALE = remarks.NO_STEPS  # listed with "trained 0 steps": both say the run did not get far


def stale(run: Run) -> str | None:
    if run.status != "stale":
        return None
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(run.mtime)) if run.mtime else "long ago"
    return f"log says running but was last written {when}: crashed or killed"


def duplicates(runs: list[Run]) -> list[tuple[str, str]]:
    counts = Counter(map(attrgetter("version"), runs))  # counted in C: most versions appear once
    by_version: dict[str, list[Run]] = {}
    for run in runs:
        if counts[run.version] > 1:
            by_version.setdefault(run.version, []).append(run)
    out = []
    for version, group in by_version.items():
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
        return number(run.eval_metrics.get("eval_loss")) is not None or number(run.train_metrics.get("train_loss")) is not None

    theirs = sorted({r.version for r in runs if r.source_kind != RUNLOG and has_loss(r)}, key=version_key)
    if not theirs:
        return None
    ours = [r.version for r in runs if r.environment.get("loss_denominator") == "predicted_tokens" and has_loss(r)]
    if not ours:
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
        for rank, remark in remarks.of(run):  # checked when the file was read, as a rule
            found.append((version_key(run.version), rank, f"{run.version}: {remark}"))
        remark = stale(run)
        if remark:
            found.append((version_key(run.version), STALE, f"{run.version}: {remark}"))
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

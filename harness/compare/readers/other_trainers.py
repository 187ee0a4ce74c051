"""Files other trainers write next to Hugging Face ones: LLaMA-Factory's `trainer_log.jsonl` and PyTorch
Lightning's CSVLogger `metrics.csv`. Each is a series of logged entries, read as the run's history; the
final metrics come from the last entries, as for Trainer's own periodic dicts. The run is named after its
directory (Lightning's `lightning_logs/version_3` keeps both parts), as for Trainer's JSON files, so that
the files of one output directory describe one run.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

from harness.compare.readers import Reader, Result, lines_of
from harness.compare.readers.trainer_json import version_of_dir
from harness.compare.records import OTHER_TRAINER, ParseWarning, Run
from harness.runlog.trainer_text import to_number

# LLaMA-Factory's LogCallback names -> Trainer's.
_LLAMAFACTORY_KEYS = {"current_steps": "step", "lr": "learning_rate"}
_LLAMAFACTORY_SKIP = {"total_steps", "percentage", "elapsed_time", "remaining_time"}


def _version(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    name = os.path.basename(directory)
    if name.startswith("version_"):  # Lightning: lightning_logs/version_N, both parts name the run
        return f"{os.path.basename(os.path.dirname(directory))}/{name}"
    return version_of_dir(directory)


def _run(path: str, history: list[dict[str, Any]]) -> Run:
    return Run(version=_version(path), source=path, source_kind=OTHER_TRAINER, history=history)


def read_llamafactory(path: str, text: str) -> Result:
    history, warnings = [], []
    last: dict[str, Any] = {}
    for lineno, line in enumerate(lines_of(text), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            warnings.append(ParseWarning(path, lineno, "not a JSON line; skipped"))
            continue
        if not isinstance(entry, dict):
            warnings.append(ParseWarning(path, lineno, "JSON line is not an object; skipped"))
            continue
        last = entry
        history.append({_LLAMAFACTORY_KEYS.get(k, k): v for k, v in entry.items() if k not in _LLAMAFACTORY_SKIP
                        and isinstance(v, (int, float)) and not isinstance(v, bool)})
    if not history:
        return [], warnings
    run = _run(path, history)
    step, total = last.get("current_steps"), last.get("total_steps")
    if isinstance(step, int) and isinstance(total, int) and total > 0:
        run.fields["progress"] = f"{step}/{total}"
    return [run], warnings


def _lightning_key(name: str) -> str:
    """`val_loss` / `val/acc` -> `eval_loss` / `eval_acc`; `train_loss_epoch` -> `train_loss`."""
    key = name.strip().replace("/", "_")
    for prefix in ("validation_", "valid_", "val_"):
        if key.startswith(prefix):
            key = "eval_" + key[len(prefix):]
    return key.removesuffix("_epoch") if key != "epoch" else key


def read_lightning(path: str, text: str) -> Result:
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        return [], [ParseWarning(path, 0, f"not a readable CSV: {exc}")]
    if len(rows) < 2:
        return [], []
    names = [_lightning_key(n) for n in rows[0]]
    history = []
    for row in rows[1:]:
        entry = {}
        for name, cell in zip(names, row):
            value = to_number(cell)
            if value is not None:
                entry[name] = value
        if isinstance(entry.get("epoch"), int):
            entry["epoch"] += 1  # Lightning numbers the epoch under way from 0; Trainer counts epochs done
        if entry:
            history.append(entry)
    return ([_run(path, history)], []) if history else ([], [])


def _is_lightning(path: str, head: str) -> bool:
    first = head[: head.find("\n")] if "\n" in head else head
    return path.endswith(".csv") and "," in first and ("epoch" in first or "step" in first)


LLAMAFACTORY_READER = Reader("LLaMA-Factory trainer_log.jsonl", lambda name: name == "trainer_log.jsonl",
                             lambda path, head: path.endswith(".jsonl") and '"current_steps"' in head[:4096],
                             read_llamafactory)
LIGHTNING_READER = Reader("Lightning metrics.csv", lambda name: name == "metrics.csv", _is_lightning,
                          read_lightning)

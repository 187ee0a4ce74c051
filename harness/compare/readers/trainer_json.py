"""Reader for the files Trainer writes into an output or checkpoint directory:
`trainer_state.json` (log_history) and `all_results.json` / `train_results.json` / `eval_results.json`.

All files of one directory make one Run. The JSON files hold raw numbers: `total_flos` in FLOPs and
memory in bytes, so they are scaled to the units Trainer prints (GF = 2**30 FLOPs, MB = 2**20 bytes).
"""

from __future__ import annotations

import json
import math
import os
import re
from typing import Any

from harness.compare.readers import Reader
from harness.compare.records import TRAINER_JSON, ParseWarning, Run

JSON_NAMES = ("trainer_state.json", "all_results.json", "train_results.json", "eval_results.json")
_CHECKPOINT_RE = re.compile(r"checkpoint-\d+")


def version_of_dir(directory: str) -> str:
    """`outputs/3.5` -> `3.5`; `outputs/3.5/checkpoint-500` -> `3.5/checkpoint-500`."""
    directory = os.path.normpath(os.path.abspath(directory))
    name = os.path.basename(directory)
    if _CHECKPOINT_RE.fullmatch(name):
        return f"{os.path.basename(os.path.dirname(directory))}/{name}"
    return name


def _scaled(key: str, value: Any) -> Any:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return value
    if key == "total_flos":
        return int(value) >> 30 if math.isfinite(value) else value
    if "_mem_" in key:
        return int(value) >> 20 if math.isfinite(value) else value
    return value


def _split_results(results: dict[str, Any], run: Run, default: str) -> None:
    """Flat results -> train/eval metrics, by key prefix (`epoch` goes to both, as Trainer prints it)."""
    for key, value in results.items():
        value = _scaled(key, value)
        if key == "epoch":
            run.train_metrics.setdefault(key, value)
            run.eval_metrics.setdefault(key, value)
        elif key.startswith("train_") or key == "total_flos":
            run.train_metrics[key] = value
        elif key.startswith(("eval_", "test_")) or key == "perplexity":
            run.eval_metrics[key] = value
        else:
            getattr(run, default)[key] = value


def _state(state: dict[str, Any], run: Run) -> None:
    history = state.get("log_history")
    if isinstance(history, list):
        run.history = [h for h in history if isinstance(h, dict)]
    for src, dst in (("num_train_epochs", "num_train_epochs"), ("train_batch_size", "per_device_train_batch_size")):
        value = state.get(src)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            run.hyperparameters[dst] = value
    for key in ("global_step", "max_steps", "best_metric", "best_model_checkpoint"):
        if state.get(key) is not None:
            run.fields[key] = str(state[key])
    epoch = state.get("epoch")
    if isinstance(epoch, (int, float)) and not isinstance(epoch, bool):
        run.train_metrics.setdefault("epoch", epoch)  # where it stopped, as the file states it
    step, total = state.get("global_step"), state.get("max_steps")
    if isinstance(step, int) and isinstance(total, int) and total > 0:
        run.fields["progress"] = f"{step}/{total}"


def parse_json_dir(directory: str, files: dict[str, bytes]) -> tuple[list[Run], list[ParseWarning]]:
    """`files`: file name -> raw content, for the JSON files found in `directory`."""
    run = Run(version=version_of_dir(directory), source=directory, source_kind=TRAINER_JSON)
    warnings = []
    used = False
    for name in sorted(files):
        path = os.path.join(directory, name)
        try:
            content = json.loads(files[name])
        except (ValueError, RecursionError) as exc:
            line = getattr(exc, "lineno", 0)
            warnings.append(ParseWarning(path, line, f"not valid JSON: {str(exc)[:120]}"))
            continue
        if not isinstance(content, dict):
            warnings.append(ParseWarning(path, 0, "JSON is not an object; skipped"))
            continue
        used = True
        if "log_history" in content:
            _state(content, run)
        else:
            _split_results(content, run, "eval_metrics" if name.startswith("eval") else "train_metrics")
    if not used:
        return [], warnings
    if run.train_metrics.get("train_runtime") is not None:
        run.status = "finished"
    return [run], warnings


READER = Reader("Trainer JSON files", lambda name: name in JSON_NAMES, lambda path, head: True, parse_json_dir,
                per_directory=True)

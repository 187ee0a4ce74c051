"""TensorBoard event files (`runs/<date_host>/events.out.tfevents.*`), Trainer's default report target in
transformers 4.x, read through TensorBoard's own EventAccumulator (never a hand-written protobuf decoder).

Trainer's TensorBoardCallback writes `train/loss`, `train/epoch`, `eval/loss`, `eval/accuracy`, ... per step,
and the TrainingArguments as JSON text under `args`. Scalars become the run's history (Trainer's names:
`eval/loss` -> `eval_loss`); the arguments give its hyper-parameters. The run is named after the output
directory holding `runs/`, so it merges with that directory's trainer_state.json. Without the `tensorboard`
package these files are named in one warning and skipped.
"""

from __future__ import annotations

import json
import os
from typing import Any

from harness.compare import cmdline
from harness.compare.readers import Reader, Result
from harness.compare.readers.trainer_json import version_of_dir
from harness.compare.records import OTHER_TRAINER, ParseWarning, Run

MARK = "events.out.tfevents."


def _version(path: str) -> str:
    directory = os.path.dirname(os.path.abspath(path))
    parent = os.path.dirname(directory)
    if os.path.basename(parent) == "runs":  # output_dir/runs/<date_host>/events...
        return version_of_dir(os.path.dirname(parent))
    return version_of_dir(directory)


def _name(tag: str) -> str:
    split, _, key = tag.partition("/")
    if not key:
        return tag
    if split == "train":
        return key  # `train/loss`, `train/train_runtime`, `train/epoch`
    return f"{split}_{key}"  # `eval/loss` -> `eval_loss`


def _arguments(accumulator) -> dict[str, Any]:
    """The TrainingArguments JSON that TensorBoardCallback stores as text (read as data, never evaluated)."""
    try:
        events = accumulator.Tensors("args/text_summary")
        raw = events[0].tensor_proto.string_val[0].decode("utf-8", "replace")
        args = json.loads(raw)
    except (KeyError, IndexError, ValueError, AttributeError):
        return {}
    return args if isinstance(args, dict) else {}


def read(path: str, text: str | None = None) -> Result:
    try:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    except ImportError:
        return [], [ParseWarning(path, 0, "TensorBoard event file; install tensorboard to read it")]
    try:
        accumulator = EventAccumulator(path, size_guidance={"scalars": 0, "tensors": 10})
        accumulator.Reload()
        tags = accumulator.Tags().get("scalars", [])
        series = {tag: accumulator.Scalars(tag) for tag in tags}
    except Exception as exc:  # noqa: BLE001 - a corrupt event file costs this file, never the table
        return [], [ParseWarning(path, 0, f"unreadable TensorBoard event file ({type(exc).__name__}); skipped")]
    entries: dict[tuple[int, str], dict[str, Any]] = {}
    epochs: dict[int, float] = {}
    for tag, events in series.items():
        name = _name(tag)
        for event in events:
            if name == "epoch":
                epochs[event.step] = event.value
                continue
            kind = "eval" if name.startswith(("eval_", "test_")) else "train"
            entries.setdefault((event.step, kind), {"step": event.step})[name] = event.value
    history = []
    for (step, _), entry in sorted(entries.items()):
        if step in epochs:
            entry["epoch"] = epochs[step]
        history.append(entry)
    if not history:
        return [], [ParseWarning(path, 0, "TensorBoard event file without scalars; skipped")]
    arguments = _arguments(accumulator)
    run = Run(version=_version(path), source=path, source_kind=OTHER_TRAINER, history=history,
              hyperparameters=cmdline.canonical(arguments))
    return [run], []


READER = Reader("TensorBoard event file", lambda name: MARK in name, lambda path, head: MARK in path, read,
                binary=True)

"""Which checkpoints and weight directories are whole.

Trainer writes a checkpoint file by file; a process killed mid-save leaves a directory that looks like a
checkpoint but is not. After each save completes we write a marker listing every file and its size
(atomically, via rename), and only a directory whose marker matches its files is ever resumed from.
"""

import json
import os
import re
from pathlib import Path

MARKER = "run_clm_complete.json"
CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "adapter_model.safetensors")


def mark_complete(directory, **extra) -> None:
    directory = Path(directory)
    files = {p.name: p.stat().st_size for p in sorted(directory.iterdir()) if p.is_file() and p.name != MARKER}
    partial = directory / f"{MARKER}.tmp"
    partial.write_text(json.dumps({"files": files, **extra}, indent=1, sort_keys=True))
    os.replace(partial, directory / MARKER)


def read_marker(directory) -> dict | None:
    try:
        return json.loads((Path(directory) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def is_complete(directory) -> bool:
    marker = read_marker(directory)
    if marker is None:
        return False
    for name, size in marker.get("files", {}).items():
        path = Path(directory) / name
        if not path.is_file() or path.stat().st_size != size:
            return False
    return True


def checkpoints(output_dir) -> list[Path]:
    """Checkpoint directories under output_dir, newest (highest step) first."""
    root = Path(output_dir)
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in root.iterdir() if p.is_dir() and (m := CHECKPOINT_RE.match(p.name))]
    return [p for _, p in sorted(found, reverse=True)]


def newest_complete(output_dir) -> Path | None:
    return next((p for p in checkpoints(output_dir) if is_complete(p)), None)


def has_weights(directory) -> bool:
    return any((Path(directory) / name).is_file() for name in WEIGHT_FILES)

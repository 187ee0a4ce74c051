"""Read the command line a run was launched with: argparse style (`--learning_rate 3e-5 --fp16`) and
Hydra style (`train.learning_rate=1e-4 init_from=3.4`), into plain options and canonical hyper-parameters.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from harness.runlog.trainer_text import to_number

# A line that launches a training script, in a shell, a notebook cell (`!python`) or a prompt (`$ `).
_LAUNCH_RE = re.compile(
    r"^\s*(?:[$>%!]\s*)?(?:\w+=\S+\s+)*(?:python[\d.]*|accelerate\s+launch|torchrun|deepspeed)\s+\S*\.py\b"
    r"|^\s*(?:[$>%!]\s*)?\S*run_clm\.py\b"
)

# option name (last dotted component, dashes as underscores) -> canonical hyper-parameter name
_CANONICAL = {
    "model_name_or_path": "model",
    "name_or_path": "model",
    "learning_rate": "learning_rate",
    "num_train_epochs": "num_train_epochs",
    "per_device_train_batch_size": "per_device_train_batch_size",
    "gradient_accumulation_steps": "gradient_accumulation_steps",
    "train_file": "train_file",
    "validation_file": "validation_file",
    "output_dir": "output_dir",
    "seed": "seed",
    "init_from": "init_from",
    "precision": "precision",
    "max_steps": "max_steps",
    "block_size": "block_size",
    "weight_decay": "weight_decay",
    "warmup_steps": "warmup_steps",
    "lr_scheduler_type": "lr_scheduler_type",
}
# Short names some configs use; consulted only when the full name is absent.
_ALIASES = {"lr": "learning_rate", "epochs": "num_train_epochs", "batch_size": "per_device_train_batch_size"}
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


def looks_like_command(line: str) -> bool:
    return ".py" in line and bool(_LAUNCH_RE.search(line))


def split(command: str) -> list[str]:
    """shlex, forgiving: an unbalanced quote in a pasted command falls back to whitespace splitting."""
    command = command.replace("\\\n", " ")
    if not any(ch in command for ch in "'\"\\#"):
        return command.split()  # what shlex would give, without its per-character cost
    try:
        return shlex.split(command, comments=False)
    except ValueError:
        return command.split()


def _value(text: str) -> Any:
    number = to_number(text)
    if number is not None:
        return number
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("null", "none", "~"):
        return None
    return text


def parse_args(command: str) -> dict[str, Any]:
    """Options after the script: `--k v`, `--k=v`, a bare `--flag` (True), Hydra `k.sub=v` / `+k=v`."""
    tokens = split(command)
    start = next((i + 1 for i, tok in enumerate(tokens) if tok.endswith(".py")), len(tokens))
    if start == len(tokens) and tokens and not tokens[0].endswith(".py"):
        start = 0  # a bare list of options
    args: dict[str, Any] = {}
    i = start
    while i < len(tokens):
        tok = tokens[i]
        i += 1
        if tok.startswith("--") and len(tok) > 2:
            key, eq, val = tok[2:].partition("=")
            if not eq:
                if i < len(tokens) and not tokens[i].startswith("--"):
                    val = tokens[i]
                    i += 1
                else:
                    args[key.replace("-", "_")] = True
                    continue
            args[key.replace("-", "_")] = _value(val)
        elif "=" in tok and not tok.startswith("-"):
            key, _, val = tok.partition("=")
            args[key.lstrip("+~")] = _value(val)
    return args


def _truthy(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str):
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
    return None


def precision_of(options: dict[str, Any]) -> str | None:
    """`fp16`/`bf16` when a flag asks for it, an explicit `precision`, else None (not assumed fp32)."""
    for key, value in options.items():
        last = key.rsplit(".", 1)[-1]
        if last in ("fp16", "bf16") and _truthy(value):
            return last
    for key, value in options.items():
        if key.rsplit(".", 1)[-1] == "precision" and isinstance(value, str):
            return value
    return None


def canonical(options: dict[str, Any]) -> dict[str, Any]:
    """Canonical hyper-parameters from options keyed by flat or dotted names (`train.learning_rate`).

    A shorter dotted name never overrides a more specific one: `model.name_or_path` beats `model`.
    """
    out: dict[str, Any] = {}
    aliased: dict[str, Any] = {}
    flags = False  # a fp16/bf16/precision key among the options: precision_of decides
    for key, value in options.items():
        last = key.rpartition(".")[2]
        flags = flags or last in _PRECISION_KEYS
        if value is None or isinstance(value, (dict, list)):
            continue
        name = _CANONICAL.get(last)
        if name is not None:
            out.setdefault(name, value)
        elif last in _ALIASES:
            aliased.setdefault(_ALIASES[last], value)
        elif key == "model" and isinstance(value, str):
            out.setdefault("model", value)
    for name, value in aliased.items():
        out.setdefault(name, value)
    precision = precision_of(options) if flags else None
    if precision:
        out["precision"] = precision
    return out


_PRECISION_KEYS = frozenset(("fp16", "bf16", "precision"))

"""Validate the whole resolved config up front and report every problem at once.

Hydra refuses keys a config file does not declare; `+train.NAME=VALUE` can add any name, so the train
group is checked against transformers.TrainingArguments itself, and every other group against SCHEMA.
"""

import dataclasses
import difflib
import enum
import functools
import re
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from harness.errors import UserError
from harness.train.templates import DATA_TEMPLATES, TEMPLATES

CONF_DIR = Path(__file__).resolve().parent.parent.parent / "conf"  # the Hydra config groups, beside run_clm.py
NONE = type(None)
NUMBER = (int, float)


@dataclass(frozen=True)
class Spec:
    types: tuple
    check: typing.Callable | None = None  # returns a problem text, or None
    choices: tuple = field(default=())


def _positive(value):
    return None if value is None or value > 0 else "must be > 0"


def _non_negative(value):
    return None if value is None or value >= 0 else "must be >= 0"


def _dropout(value):
    return None if 0 <= value < 1 else "must be in [0, 1)"


def _percentage(value):
    return None if 0 <= value < 100 else "must be in [0, 100)"


def _save_steps(value):
    # -1 (any value <= 0): no checkpoint every N steps, only the one at the end, as in HF's run_clm.py.
    return None if value > 0 or value == -1 else "must be > 0, or -1 for a checkpoint only at the end"


def _top_p(value):
    return None if 0 < value <= 1 else "must be in (0, 1]"


def _strings(value):
    return None if all(isinstance(v, str) for v in value) else "must be a list of strings"


STR_OR_NONE = Spec((str, NONE))
SCHEMA = {
    "version": Spec((str, int, float, NONE)),
    "init_from": Spec((str, int, float, NONE)),
    "resume": Spec((str, int, float, bool, NONE)),
    "note": Spec((str, NONE)),
    "plan": Spec((bool,)),
    "allow_changed_data": Spec((bool,)),
    "verbose": Spec((bool,)),
    "paths": {
        "logs_dir": Spec((str,)),
        "output_root": Spec((str,)),
        "cache_dir": Spec((str,)),
    },
    "model": {
        "name_or_path": STR_OR_NONE,
        "model_type": STR_OR_NONE,
        "config_overrides": Spec((dict,)),
        "tokenizer_name": STR_OR_NONE,
        "tokenizer_vocab_size": Spec((int, NONE), _positive),
        "revision": Spec((str,)),
        "dtype": Spec((str,), choices=("auto", "float32", "float16", "bfloat16")),
        "trust_remote_code": Spec((bool,)),
        "local_files_only": Spec((bool,)),
    },
    "data": {
        "train_file": STR_OR_NONE,
        "validation_file": STR_OR_NONE,
        "dataset_name": STR_OR_NONE,
        "dataset_config_name": STR_OR_NONE,
        "text_column": Spec((str, NONE)),
        "template": Spec((str,), choices=DATA_TEMPLATES),
        "train_on_response_only": Spec((bool,)),
        "keep_linebreaks": Spec((bool,)),
        "validation_split_percentage": Spec(NUMBER, _percentage),
        "block_size": Spec((int, NONE), _positive),
        "max_train_samples": Spec((int, NONE), _positive),
        "max_eval_samples": Spec((int, NONE), _positive),
        "preprocessing_num_workers": Spec((int, NONE), _positive),
        "overwrite_cache": Spec((bool,)),
    },
    "merge": Spec((bool,)),
    "peft": {
        "method": Spec((str,), choices=("none", "lora")),
        "r": Spec((int,), _positive),
        "alpha": Spec(NUMBER, _positive),
        "dropout": Spec(NUMBER, _dropout),
        "target_modules": Spec((list, str, NONE)),
        "bias": Spec((str,), choices=("none", "all", "lora_only")),
        "modules_to_save": Spec((list, NONE)),
        "save_merged": Spec((bool,)),
    },
    "eval": {
        "prompts": Spec((list,), _strings),
        "template": Spec((str,), choices=tuple(TEMPLATES)),
        "max_new_tokens": Spec((int,), _positive),
        "do_sample": Spec((bool,)),
        "temperature": Spec(NUMBER, _positive),
        "top_p": Spec(NUMBER, _top_p),
        "top_k": Spec((int,), _non_negative),
        "seed": Spec((int,)),
    },
}

# TrainingArguments fields the run sets itself; the message says what to use instead.
RESERVED_TRAIN = {
    "output_dir": "it is paths.output_root/<version>",
    "overwrite_output_dir": "each version has its own output directory",
    "logging_dir": "the run log is logs/<version>.log",
    "resume_from_checkpoint": "use resume=<version>",
    "disable_tqdm": "run_clm.py draws its own progress bar",
}
TRAIN_RANGES = {
    "learning_rate": _non_negative,
    "num_train_epochs": _non_negative,
    "per_device_train_batch_size": _positive,
    "per_device_eval_batch_size": _positive,
    "gradient_accumulation_steps": _positive,
    "logging_steps": _positive,
    "save_steps": _save_steps,
    "warmup_steps": _non_negative,
    "weight_decay": _non_negative,
}


def validate(cfg: DictConfig) -> None:
    """Raise one UserError naming every problem in the config."""
    data = OmegaConf.to_container(cfg, resolve=True)
    problems = _check_group("", data, SCHEMA)
    problems += _check_train(data.get("train") or {})
    problems += _check_combinations(data)
    if problems:
        raise UserError("bad config: " + "; ".join(problems))


def _check_group(prefix: str, values: dict, schema: dict) -> list[str]:
    problems = []
    for key, value in values.items():
        name = f"{prefix}{key}"
        if key == "train" and not prefix:
            continue
        spec = schema.get(key)
        if spec is None:
            problems.append(f"{name} is not a known key{_did_you_mean(key, schema)}")
        elif isinstance(spec, dict):
            if isinstance(value, dict):
                problems += _check_group(f"{name}.", value, spec)
            else:
                problems.append(f"{name} must be a group of keys, got {value!r}")
        else:
            problems += _check_value(name, value, spec)
    return problems


def _check_value(name: str, value, spec: Spec) -> list[str]:
    if not _is_instance(value, spec.types):
        return [f"{name} must be {_type_names(spec.types)}, got {value!r}"]
    if spec.choices and value not in spec.choices:
        return [f"{name} must be one of {', '.join(spec.choices)}, got {value!r}"]
    problem = spec.check(value) if spec.check and value is not None else None
    return [f"{name} {problem}, got {value!r}"] if problem else []


def _check_train(train: dict) -> list[str]:
    fields = training_argument_types()
    problems = []
    for key, value in train.items():
        name = f"train.{key}"
        if key in RESERVED_TRAIN:
            problems.append(f"{name} cannot be set: {RESERVED_TRAIN[key]}")
        elif key not in fields:
            problems.append(f"{name} is not a TrainingArguments field{_did_you_mean(key, fields)}")
        elif not _is_instance(value, fields[key]):
            problems.append(f"{name} must be {_type_names(fields[key])}, got {value!r}")
        elif key in TRAIN_RANGES and (problem := TRAIN_RANGES[key](value)):
            problems.append(f"{name} {problem}, got {value!r}")
    return problems


@functools.cache
def training_argument_types() -> dict[str, tuple]:
    """TrainingArguments field -> the plain types a config value may have (() = not checked)."""
    from transformers import TrainingArguments

    hints = typing.get_type_hints(TrainingArguments)
    return {f.name: _plain_types(hints.get(f.name)) for f in dataclasses.fields(TrainingArguments) if f.init}


def _plain_types(hint) -> tuple:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        parts = [_plain_types(arg) for arg in typing.get_args(hint)]
        return () if any(p == () for p in parts) else tuple(t for p in parts for t in p)
    if hint is float:
        return NUMBER
    if hint in (int, bool, str, NONE):
        return (hint,)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return (str,)
    if origin in (list, dict) or hint in (list, dict):
        return (origin or hint,)
    return ()


def _is_instance(value, allowed: tuple) -> bool:
    if not allowed:
        return True
    if isinstance(value, bool):
        return bool in allowed
    return isinstance(value, allowed)


def _type_names(allowed: tuple) -> str:
    names = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
             NONE: "null", list: "a list", dict: "a mapping"}
    if set(allowed) >= {int, float}:
        allowed = tuple(t for t in allowed if t is not int)
    return " or ".join(dict.fromkeys(names.get(t, t.__name__) for t in allowed))


def _did_you_mean(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]}?)" if close else ""


# Optimizers from optional packages; Trainer would fail only once training has started.
def _optimizer_package(optim: str) -> str | None:
    if optim.startswith(("galore", "apollo")):
        return optim.split("_")[0] + "_torch"
    if optim.startswith("adamw_torch_") and optim.endswith(("4bit", "8bit")):
        return "torchao"
    if "8bit" in optim or "bnb" in optim or optim.startswith("paged_"):
        return "bitsandbytes"
    return None


# config_overrides keys that count something (layers, heads, dims, positions): zero or less builds a model
# that fails only at its first forward pass, after the log says "running".
_SIZE_KEY = re.compile(r"^(n_|num_)|(_size|_dim|_positions|_layers|_heads|_embd)$|^(hidden|intermediate)_")


def _check_sizes(overrides) -> list[str]:
    if not isinstance(overrides, dict):
        return []
    return [f"model.config_overrides.{key} must be > 0, got {value!r}" for key, value in overrides.items()
            if _SIZE_KEY.search(str(key)) and isinstance(value, (int, float)) and not isinstance(value, bool)
            and value <= 0]


def _check_combinations(data: dict) -> list[str]:
    """Settings that are each valid alone but not together."""
    problems = []
    train, model = data.get("train") or {}, data.get("model") or {}
    problems += _check_sizes(model.get("config_overrides"))
    peft = (data.get("peft") or {}).get("method", "none")
    if model.get("dtype") == "float16" and train.get("fp16") is True and peft == "none":
        problems.append("model.dtype=float16 with train.fp16=true would train fp16 weights under fp16 autocast "
                        "(the 'Attempting to unscale FP16 gradients' error): leave model.dtype=auto, which keeps "
                        "fp32 master weights")
    dataset = data.get("data") or {}
    if dataset.get("dataset_name") and (dataset.get("train_file") or dataset.get("validation_file")):
        problems.append("data.dataset_name and data.train_file/validation_file are both set: give one source")
    if data.get("merge") is True and data.get("init_from") is None:
        problems.append("merge=true merges the adapter of init_from=<a LoRA version>: set init_from")
    max_steps = train.get("max_steps", -1)
    if train.get("num_train_epochs") == 0 and (max_steps is None or max_steps <= 0):
        problems.append("train.num_train_epochs=0 (and no train.max_steps) trains 0 steps: its train_loss 0.0 "
                        "would look like a result; set num_train_epochs > 0 or max_steps > 0")
    optim = str(train.get("optim", ""))
    package = _optimizer_package(optim)
    if package and not _importable(package):
        problems.append(f"train.optim={optim} needs the {package} package, which is not installed: "
                        "use train.optim=adafactor, or pip install it (bitsandbytes needs CUDA)")
    return problems


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None

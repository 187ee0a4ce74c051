"""The run's config, typed: one frozen dataclass per group, validated whole up front, every problem at once.

Each key lives in one place, a field of its group's dataclass below (type, default as in conf/*.yaml, doc,
range check, choices); SCHEMA, what `validate` checks, is derived from those fields. `RunConfig.from_cfg`
turns the composed DictConfig into a RunConfig once; from there code reads attributes, and the log's config
section is `RunConfig.to_dict()`. Hydra refuses keys a config file does not declare; `+train.NAME=VALUE` can
add any name, so the train group stays an open mapping, checked against transformers.TrainingArguments itself.
"""

import dataclasses
import difflib
import enum
import functools
import os
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from harness.errors import UserError
from harness.train.templates import DATA_TEMPLATES, TEMPLATES

if typing.TYPE_CHECKING:
    from omegaconf import DictConfig

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


def key(default, doc: str, *, check=None, choices=(), lora=False):
    """One config key: its default (conf/*.yaml's), what it does, and its checks beyond its annotated type.

    lora=True: a key of conf/peft/lora.yaml only, recorded in the log only when peft=lora."""
    metadata = {"doc": doc, "check": check, "choices": tuple(choices), "lora": lora}
    if isinstance(default, (list, tuple)):
        return field(default_factory=lambda: tuple(default), metadata=metadata)
    if isinstance(default, dict):
        return field(default_factory=lambda: MappingProxyType(dict(default)), metadata=metadata)
    return field(default=default, metadata=metadata)


class Group:
    """A config group: a frozen dataclass whose fields are its keys (see `key`). Lists are held as tuples and
    mappings read-only, so nothing downstream changes the config a run logged."""

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, list):
                object.__setattr__(self, f.name, tuple(value))
            elif isinstance(value, dict):
                object.__setattr__(self, f.name, MappingProxyType(dict(value)))

    @classmethod
    def from_record(cls, values: dict):
        """From already-checked values (a composed config, or a log's recorded one): keys this harness does not
        know are left out, missing ones take their defaults, groups become their dataclasses."""
        return cls(**cls._known(values))

    @classmethod
    def _known(cls, values: dict) -> dict:
        hints = _hints(cls)
        return {f.name: hints[f.name].from_record(values[f.name] or {}) if _is_group(hints[f.name])
                else values[f.name] for f in dataclasses.fields(cls)
                if f.name in values and not f.metadata.get("derived")}

    def to_dict(self) -> dict:
        """The plain values, in the order and shape Hydra composes them: what a run log records as `config`."""
        out = {}
        for f in dataclasses.fields(self):
            if f.metadata.get("derived") or (f.metadata.get("lora") and getattr(self, "method", "lora") != "lora"):
                continue
            value = getattr(self, f.name)
            out[f.name] = (value.to_dict() if isinstance(value, Group) else list(value) if isinstance(value, tuple)
                           else dict(value) if isinstance(value, MappingProxyType) else value)
        return out


@dataclass(frozen=True)
class ModelConfig(Group):
    """conf/model/*.yaml; the defaults are model=tiny's."""

    name_or_path: str | None = key(None, "hub id or local directory of a pretrained model; null = from scratch")
    model_type: str | None = key("gpt2", "architecture when training from scratch")
    config_overrides: Mapping[str, typing.Any] = key({"n_layer": 4, "n_head": 4, "n_embd": 128, "n_positions": 256},
                                                    "applied to the model config (from scratch or pretrained)")
    tokenizer_name: str | None = key(None, "null = the model's own, or one trained on the data when from scratch")
    tokenizer_vocab_size: int | None = key(4096, "only for a tokenizer trained on the data", check=_positive)
    revision: str = key("main", "the hub revision (branch, tag or commit)")
    dtype: str = key("auto", "the weights' dtype; auto keeps fp32 master weights",
                     choices=("auto", "float32", "float16", "bfloat16"))
    trust_remote_code: bool = key(False, "let a model directory's own code run")
    local_files_only: bool = key(False, "true: the HF cache or a local directory only, never the hub")


@dataclass(frozen=True)
class DataConfig(Group):
    """conf/data/default.yaml: local files or a datasets name, and how they are tokenized and packed."""

    train_file: str | None = key(None, ".txt, or .json/.jsonl/.csv with a text column; null = the embedded corpus")
    validation_file: str | None = key(None, "null = hold validation_split_percentage out of train_file")
    dataset_name: str | None = key(None, "a datasets name (hub id, or a local dataset directory) instead of train_file")
    dataset_config_name: str | None = key(None, "its configuration, e.g. wikitext-2-raw-v1")
    text_column: str | None = key("text", "null: `text` if the file has it, else its first column (HF's rule)")
    template: str = key("none", "alpaca: instruction/input/output records as Alpaca prompts + EOS",
                        choices=DATA_TEMPLATES)
    train_on_response_only: bool = key(False, "with a template: the loss counts only the response tokens")
    keep_linebreaks: bool = key(True, "keep the line breaks of .txt files")
    validation_split_percentage: float = key(5, "held out from train_file when there is no validation_file",
                                             check=_percentage)
    block_size: int | None = key(128, "tokens per block; null = min(1024, the model's maximum)", check=_positive)
    max_train_samples: int | None = key(None, "blocks, after packing", check=_positive)
    max_eval_samples: int | None = key(None, "blocks, after packing", check=_positive)
    preprocessing_num_workers: int | None = key(None, "processes for tokenizing and packing", check=_positive)
    overwrite_cache: bool = key(False, "tokenize and pack again although the cache has the blocks")


@dataclass(frozen=True)
class PeftConfig(Group):
    """conf/peft/*.yaml: none (full fine-tuning, the default) or lora; the other keys are lora.yaml's."""

    method: str = key("none", "none: every parameter trains; lora: small low-rank adapters", choices=("none", "lora"))
    r: int = key(8, "adapter rank", check=_positive, lora=True)
    alpha: float = key(32, "scaling is alpha / r", check=_positive, lora=True)
    dropout: float = key(0.1, "dropout on the adapters' input", check=_dropout, lora=True)
    target_modules: list[str] | str | None = key(None, "null = the architecture's attention projections",
                                                 lora=True)
    bias: str = key("none", "which biases train", choices=("none", "all", "lora_only"), lora=True)
    modules_to_save: list[str] | None = key(None, "modules trained in full and saved with the adapter", lora=True)
    save_merged: bool = key(False, "also write merged full weights to outputs/<version>/merged/", lora=True)


@dataclass(frozen=True)
class EvalConfig(Group):
    """conf/eval/default.yaml: prompts sampled from the final model into the log (`----- samples -----`)."""

    prompts: list[str] = key((), "sampled at the end of the run; [] = none", check=_strings)
    template: str = key("none", "instruction: wrap each prompt as an instruction", choices=tuple(TEMPLATES))
    max_new_tokens: int = key(100, "tokens generated per prompt", check=_positive)
    do_sample: bool = key(True, "false = greedy (argmax); the sampling knobs below are then unused")
    temperature: float = key(0.8, "sampling temperature", check=_positive)
    top_p: float = key(0.95, "nucleus sampling", check=_top_p)
    top_k: int = key(50, "0 = no top-k filtering", check=_non_negative)
    seed: int = key(0, "set before every prompt: the same seed gives the same text")


@dataclass(frozen=True)
class Paths(Group):
    """conf/config.yaml's paths: where runs write."""

    logs_dir: str = key("logs", "the version store: logs/<version>.log")
    output_root: str = key("outputs", "weights go to output_root/<version>/")
    cache_dir: str = field(default_factory=lambda: os.environ.get("RUN_CLM_CACHE", "~/.cache/run_clm"),
                           metadata={"doc": "tokenizers, packed data, the parse cache ($RUN_CLM_CACHE)",
                                     "check": None, "choices": ()})


@dataclass(frozen=True)
class Request:
    """The top-level keys that name versions, typed once: as the user typed them (Hydra reads 3.10 as 3.1)."""

    version: str | None = None
    init_from: str | None = None
    resume: str | None = None  # a version, or "true": continue `version`

    @classmethod
    def of(cls, values: dict, raw: dict | None = None) -> "Request":
        def text(name: str) -> str | None:
            value = (raw or {}).get(name, values.get(name))
            if value in (None, False, "false", "null"):
                return None
            return "true" if value is True else str(value)

        return cls(version=text("version"), init_from=text("init_from"), resume=text("resume"))


@dataclass(frozen=True)
class RunConfig(Group):
    """The whole config of a run, typed: conf/config.yaml with its groups, in the order Hydra composes them.

    Made once by `from_cfg` (every problem reported at once) and read by attribute from there on."""

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    train: Mapping[str, typing.Any] = field(
        default_factory=lambda: MappingProxyType({}),
        metadata={"doc": "transformers.TrainingArguments kwargs (conf/train/default.yaml, +train.NAME=VALUE), "
                         "checked against TrainingArguments itself", "open": True})
    peft: PeftConfig = field(default_factory=PeftConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    version: str | int | float | None = key(None, "this run's name in logs/ as Hydra read it; names: `request`")
    init_from: str | int | float | None = key(None, "start from an earlier version's final weights (or a directory)")
    merge: bool = key(False, "init_from a LoRA version: true = its merged weights, false = continue its adapter")
    resume: str | int | float | bool | None = key(None, "continue an interrupted version (a version, or true)")
    note: str | None = key("", "free text kept in the log")
    plan: bool = key(False, "print a memory estimate and exit without training")
    allow_changed_data: bool = key(False, "with resume: continue although the data files or tokenizer changed")
    verbose: bool = key(False, "also print Trainer's raw log dicts and the libraries' progress bars")
    paths: Paths = field(default_factory=Paths)
    request: Request = field(default_factory=Request, metadata={"derived": True})

    @classmethod
    def from_cfg(cls, cfg: "DictConfig", raw: dict | None = None) -> "RunConfig":
        """The composed config, checked (one UserError naming every problem) and typed. `raw`: the text typed for
        version, init_from and resume (harness.train.hydra_job.raw_values), which names the versions."""
        values = _plain(cfg)
        _raise_problems(values)
        return cls.from_record(values, raw)

    @classmethod
    def from_record(cls, values: dict, raw: dict | None = None) -> "RunConfig":
        return cls(**cls._known(values), request=Request.of(values, raw))


def _is_group(hint) -> bool:
    return isinstance(hint, type) and issubclass(hint, Group)


@functools.cache
def _hints(group: type) -> dict:
    return typing.get_type_hints(group)


def _schema(group: type) -> dict:
    """Key -> Spec (or a nested dict for a group), from the dataclass fields: their types and `key` metadata."""
    hints = _hints(group)
    schema = {}
    for f in dataclasses.fields(group):
        if f.metadata.get("derived") or f.metadata.get("open"):
            continue
        hint = hints[f.name]
        schema[f.name] = _schema(hint) if _is_group(hint) else Spec(
            _key_types(hint), f.metadata.get("check"), f.metadata.get("choices", ()))
    return schema


def _key_types(hint) -> tuple:
    """The plain types a key's value may have as composed: YAML gives lists for tuples and dicts for mappings."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return tuple(t for arg in typing.get_args(hint) for t in _key_types(arg))
    origin = typing.get_origin(hint) or hint
    if origin in (list, tuple):
        return (list,)
    if origin in (dict, Mapping):
        return (dict,)
    return _plain_types(hint)

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


def validate(cfg: "DictConfig") -> None:
    """Raise one UserError naming every problem in the config."""
    _raise_problems(_plain(cfg))


def _plain(cfg) -> dict:
    from omegaconf import OmegaConf

    return OmegaConf.to_container(cfg, resolve=True) if OmegaConf.is_config(cfg) else cfg


def _raise_problems(data: dict) -> None:
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


SCHEMA = _schema(RunConfig)  # what validate() checks, key by key: derived from the dataclasses above

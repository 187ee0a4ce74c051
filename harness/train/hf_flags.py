"""Hugging Face's run_clm.py command lines, translated into this tool's Hydra overrides.

`python run_clm.py --model_name_or_path gpt2 --train_file a.txt --do_train --fp16 --output_dir=ft_v3.0` is
what people paste from their notes. Hydra would stop at the first `--flag`; `translate()` turns every flag
of the HF script (ModelArguments, DataTrainingArguments, TrainingArguments; `--flag value`, `--flag=value`,
bare booleans, `--no_flag`) into the override that means the same here, and leaves Hydra's own flags and
overrides (`train.seed=3`, `-m`, `--cfg job`) where they are, so both styles mix in one line. A lone
`args.json` (HfArgumentParser's JSON form) is read as the same flags.

What "the same" means:
- flags the user did not give take HF's defaults, not ours: TrainingArguments' own defaults for every key of
  conf/train/default.yaml, `data.block_size=null` (the model's maximum up to 1024), no evaluation without
  `--do_eval`;
- `--output_dir=finetuned_model_v3.0` names the version (3.0); `--model_name_or_path` naming an earlier
  version's output (`finetuned_model_v3.4`, `outputs/3.4`) becomes `init_from=3.4`, when logs/ has 3.4;
- flags that change nothing here (`--overwrite_output_dir`, `--do_train`) are accepted; a flag with no
  equivalent is one UserError naming it.
"""

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import UserError
from harness.train.config import CONF_DIR
from harness.versions import VERSION_RE, LogStore

# Hydra's own command-line flags: left untouched (those in the first set take a value).
HYDRA_VALUE_FLAGS = {"--cfg", "-c", "--package", "-p", "--config-path", "-cp", "--config-name", "-cn",
                     "--config-dir", "-cd", "--experimental-rerun"}
HYDRA_BARE_FLAGS = {"--multirun", "-m", "--help", "-h", "--hydra-help", "--version", "--resolve", "--run", "-r",
                    "--info", "-i", "--shell-completion", "-sc"}
INFO_CHOICES = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}

# ModelArguments and DataTrainingArguments of HF's run_clm.py: flag -> (our key, type).
SCRIPT_FLAGS = {
    "model_name_or_path": ("model.name_or_path", str),
    "model_type": ("model.model_type", str),
    "config_overrides": ("model.config_overrides", str),
    "tokenizer_name": ("model.tokenizer_name", str),
    "model_revision": ("model.revision", str),
    "trust_remote_code": ("model.trust_remote_code", bool),
    "torch_dtype": ("model.dtype", str),
    "dtype": ("model.dtype", str),
    "dataset_name": ("data.dataset_name", str),
    "dataset_config_name": ("data.dataset_config_name", str),
    "train_file": ("data.train_file", str),
    "validation_file": ("data.validation_file", str),
    "max_train_samples": ("data.max_train_samples", int),
    "max_eval_samples": ("data.max_eval_samples", int),
    "block_size": ("data.block_size", int),
    "overwrite_cache": ("data.overwrite_cache", bool),
    "validation_split_percentage": ("data.validation_split_percentage", int),
    "preprocessing_num_workers": ("data.preprocessing_num_workers", int),
    "keep_linebreaks": ("data.keep_linebreaks", bool),
}
# Flags accepted only with the value that matches what this tool always does (None: any value).
FIXED_FLAGS = {
    "do_train": (True, "this tool always trains; HF's script without --do_train trains nothing"),
    "overwrite_output_dir": (None, "each version has its own output directory"),
    "low_cpu_mem_usage": (None, "a loading detail that changes no result"),
    "use_fast_tokenizer": (True, "tokenizers load as their fast version"),
    "streaming": (False, "datasets are read in full"),
    "logging_dir": (None, "the run log is logs/<version>.log"),
    "disable_tqdm": (None, "run_clm.py draws its own progress bar"),
    "do_predict": (False, "HF's run_clm.py has no prediction step either"),
}
NO_EQUIVALENT = {
    "config_name": "give the model directory with --model_name_or_path, or --model_type with --config_overrides",
    "cache_dir": "set HF_HOME or HF_HUB_CACHE in the environment instead",
    "token": "log in with `hf auth login` or set HF_TOKEN instead",
    "use_auth_token": "log in with `hf auth login` or set HF_TOKEN instead",
    "resume_from_checkpoint": "use resume=<version>",
}
TRUE_WORDS, FALSE_WORDS = {"true", "yes", "1", "t", "y"}, {"false", "no", "0", "f", "n"}
OUTPUT_VERSION_RE = re.compile(r"(?:^|.*[_-])v(\d+(?:\.\d+)*)")  # finetuned_model_v3.4 -> 3.4
PLAIN_VALUE_RE = re.compile(r"[A-Za-z0-9_./@:~+-]+")  # needs no quotes in a Hydra override


@dataclass
class Flag:
    name: str
    value: object  # bool, or the typed text (str), or a list of texts
    typed: str  # as written on the command line, for the error messages


@dataclass
class Translation:
    argv: list[str]  # what Hydra sees: the overrides, then the user's own Hydra arguments
    hf_argv: list[str]  # the command line as given

    @property
    def hydra_command(self) -> str:
        return " ".join(["python run_clm.py", *map(shlex.quote, self.argv)])

    @property
    def hf_command(self) -> str:
        return " ".join(["python run_clm.py", *map(shlex.quote, self.hf_argv)])


@dataclass
class _Parsed:
    flags: dict = field(default_factory=dict)  # name -> Flag, the last one wins as in argparse
    native: list = field(default_factory=list)
    problems: list = field(default_factory=list)


def is_hf_style(argv: list[str]) -> bool:
    """A JSON args file, or any `--flag` Hydra does not know."""
    if argv and argv[0].endswith(".json") and "=" not in argv[0]:
        return True
    return any(a.startswith("--") and a.split("=", 1)[0] not in HYDRA_VALUE_FLAGS | HYDRA_BARE_FLAGS for a in argv)


def translate(argv: list[str]) -> Translation | None:
    """The Hydra argv for an HF-style command line, or None when it has no HF flag (nothing to do)."""
    if not is_hf_style(argv):
        return None
    given = list(argv)
    if argv and argv[0].endswith(".json") and "=" not in argv[0]:
        argv = json_args(argv[0]) + argv[1:]
    parsed = parse(argv)
    overrides = _overrides(parsed)
    if parsed.problems:
        raise UserError("HF run_clm.py flags: " + "; ".join(parsed.problems))
    return Translation(argv=overrides + parsed.native, hf_argv=given)


def json_args(path: str) -> list[str]:
    """HfArgumentParser's `run_clm.py args.json`: the same flags, as a JSON object."""
    try:
        data = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise UserError(f"args file {path} does not exist") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"args file {path} is not readable JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise UserError(f"args file {path} must hold one JSON object of flag names and values")
    argv = []
    for name, value in data.items():
        if value is None:
            continue  # null: the flag's default, as if it were not given
        if isinstance(value, list):
            argv += [f"--{name}", *map(_json_text, value)]
        else:
            argv.append(f"--{name}={_json_text(value)}")
    return argv


def _json_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ----- parsing: argv -> flags, typed as HfArgumentParser would -----

def parse(argv: list[str]) -> _Parsed:
    parsed, i = _Parsed(), 0
    while i < len(argv):
        arg = argv[i]
        if arg in HYDRA_VALUE_FLAGS or (arg in ("--info", "-i") and i + 1 < len(argv) and argv[i + 1] in INFO_CHOICES):
            parsed.native += argv[i : i + 2]
            i += 2
        elif arg.split("=", 1)[0] in HYDRA_BARE_FLAGS | HYDRA_VALUE_FLAGS or not arg.startswith("--"):
            parsed.native.append(arg)
            i += 1
        else:
            i = _parse_flag(argv, i, parsed)
    return parsed


def _parse_flag(argv: list[str], i: int, parsed: _Parsed) -> int:
    """Read the flag at argv[i] (and its values); return the index after it."""
    name, eq, inline = argv[i][2:].partition("=")
    kind = flag_kind(name)
    if kind is None and name.startswith("no_") and flag_kind(name[3:]) is bool:
        if eq:
            parsed.problems.append(f"--{name} takes no value")
        parsed.flags[name[3:]] = Flag(name[3:], False, argv[i])
        return i + 1
    if kind is None:
        parsed.problems.append(f"--{name} is not a flag of HF's run_clm.py{_close_flag(name)}")
        kind = str
    rest = argv[i + 1 :]
    if eq:
        values, used = [inline], 0
    elif kind is bool:
        used = 1 if rest and rest[0].lower() in TRUE_WORDS | FALSE_WORDS else 0
        values = rest[:used] or ["true"]
    elif kind is list:
        used = next((n for n, a in enumerate(rest) if a.startswith("-") or "=" in a), len(rest))
        values = rest[:used]
    else:
        used, values = min(1, len(rest)), rest[:1]
    if not values:
        parsed.problems.append(f"--{name} needs a value")
    else:
        typed = " ".join([argv[i], *rest[:used]])
        value = _typed(name, kind, values, parsed.problems)
        if value is not None:
            parsed.flags[name] = Flag(name, value, typed)
    return i + 1 + used


def flag_kind(name: str):
    """bool, list, int, float or str for a flag of the HF script; None when it has no such flag."""
    from harness.train.config import training_argument_types

    if name in SCRIPT_FLAGS:
        return SCRIPT_FLAGS[name][1]
    if name in FIXED_FLAGS or name in NO_EQUIVALENT:
        return bool if FIXED_FLAGS.get(name, (None,))[0] in (True, False) else str
    types = training_argument_types().get(name)
    if types is None:
        return None
    if set(types) <= {bool, type(None)}:
        return bool
    if list in types:
        return list
    for kind in (int, float):
        if kind in types and str not in types:
            return float if float in types else int
    return str


def _typed(name: str, kind, values: list[str], problems: list) -> object:
    text = values[0]
    if kind is bool:
        if text.lower() not in TRUE_WORDS | FALSE_WORDS:
            problems.append(f"--{name} takes true or false, got {text!r}")
            return None
        return text.lower() in TRUE_WORDS
    if kind is list:
        return values
    if kind in (int, float):
        try:
            return int(text)  # `--save_steps -1` stays -1, not -1.0
        except ValueError:
            pass
        try:
            return float(text) if kind is float else int(text)
        except ValueError:
            problems.append(f"--{name} takes {'an integer' if kind is int else 'a number'}, got {text!r}")
            return None
    return text


def _close_flag(name: str) -> str:
    import difflib

    from harness.train.config import training_argument_types

    known = [*SCRIPT_FLAGS, *FIXED_FLAGS, *NO_EQUIVALENT, *training_argument_types()]
    close = difflib.get_close_matches(name, known, n=1)
    return f" (did you mean --{close[0]}?)" if close else ""


# ----- translation: flags -> overrides -----

def _overrides(parsed: _Parsed) -> list[str]:
    flags, native_keys = dict(parsed.flags), {_key(a) for a in parsed.native if "=" in a}
    out = []
    for name, (expected, why) in FIXED_FLAGS.items():
        flag = flags.pop(name, None)
        if name == "do_train" and flag is None:
            parsed.problems.append(f"the command has no --do_train: {why}; add it")
        elif flag is not None and expected is not None and flag.value is not expected:
            parsed.problems.append(f"{flag.typed} has no equivalent here: {why}")
    for name in [n for n in NO_EQUIVALENT if n in flags]:
        parsed.problems.append(f"--{name} has no equivalent here: {NO_EQUIVALENT[name]}")
        flags.pop(name)
    out += _model_overrides(flags, native_keys, parsed)
    out += _version_override(flags.pop("output_dir", None), native_keys)
    out += _eval_overrides(flags)
    out += [_override(SCRIPT_FLAGS[n][0], flags.pop(n).value) for n in list(flags) if n in SCRIPT_FLAGS]
    if "data.block_size" not in {_key(o) for o in out}:
        out.append("data.block_size=null")  # HF: the model's maximum, up to 1024
    out.append("data.text_column=null")  # HF: `text` if the file has it, else the first column
    out += _train_overrides(flags)
    return [o for o in out if _key(o) not in native_keys]


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _model_overrides(flags: dict, native_keys: set, parsed: _Parsed) -> list[str]:
    """A pretrained model, an earlier version (init_from), or an architecture from scratch."""
    source, model_type = flags.pop("model_name_or_path", None), flags.pop("model_type", None)
    extra = flags.pop("config_overrides", None)
    pairs = [f"++model.config_overrides.{pair}" for pair in (_config_overrides(extra, parsed) if extra else [])]
    if source is not None:
        version = chained_version(source.value, _logs_dir(parsed.native))
        # HF ignores --model_type next to --model_name_or_path: the checkpoint's config says it.
        choice, what = "pretrained", f"init_from={version}" if version else _override("model.name_or_path",
                                                                                        source.value)
    elif model_type is not None:
        choice, what = "scratch", _override("model.model_type", model_type.value)
    elif "model" in native_keys or "init_from" in native_keys:
        return pairs
    else:
        parsed.problems.append("give --model_name_or_path (a pretrained model) or --model_type (train from scratch)")
        return pairs
    return ([] if "model" in native_keys else [f"model={choice}"]) + [what, *pairs]


def _config_overrides(flag: Flag, parsed: _Parsed) -> list[str]:
    """`n_embd=10,resid_pdrop=0.2`, as PretrainedConfig.update_from_string reads it."""
    pairs = []
    for part in filter(None, flag.value.split(",")):
        key, eq, value = part.partition("=")
        if not eq or not re.fullmatch(r"[A-Za-z_]\w*", key.strip()):
            parsed.problems.append(f"--config_overrides {flag.value!r}: expected key=value,key=value")
            return []
        pairs.append(f"{key.strip()}={_value(value.strip(), as_text=False)}")
    return pairs


def _logs_dir(native: list[str]) -> str:
    found = [a.split("=", 1)[1] for a in native if _key(a) == "paths.logs_dir"]
    return found[-1].strip("'\"") if found else "logs"


def version_from_output_dir(path: str) -> str | None:
    """`finetuned_model_v3.0` -> 3.0, `outputs/3.4` -> 3.4, `/tmp/test-clm` -> test-clm; None if no safe name."""
    name = Path(path.rstrip("/")).name
    if match := OUTPUT_VERSION_RE.fullmatch(name):
        return match.group(1)
    return name if VERSION_RE.fullmatch(name) else None


def chained_version(source: str, logs_dir: str) -> str | None:
    """The version whose output `source` names, when logs_dir has that version's log."""
    name = Path(source.rstrip("/")).name
    candidates = [version_from_output_dir(source), name if VERSION_RE.fullmatch(name) else None]  # 3.4, v3.4
    store = LogStore(logs_dir)
    return next((v for v in candidates if v and store.has(v)), None)


def _version_override(flag: Flag | None, native_keys: set) -> list[str]:
    if flag is None or "version" in native_keys:
        return []
    version = version_from_output_dir(flag.value)
    if version is None:
        raise UserError(f"{flag.typed}: cannot name a version after it; add version=NAME")
    return [f"version={version}"]


def _eval_overrides(flags: dict) -> list[str]:
    """HF evaluates only with --do_eval (or an eval_strategy, which turns do_eval on)."""
    do_eval = flags.pop("do_eval", None)
    strategy = flags.get("eval_strategy")
    if (do_eval is None or do_eval.value is False) and (strategy is None or strategy.value == "no"):
        return ["+train.do_eval=false"]
    return []


def _train_overrides(flags: dict) -> list[str]:
    """TrainingArguments flags, over HF's defaults for the keys our train group sets differently."""
    given = {name: flag.value for name, flag in flags.items()}
    ours = train_group_defaults()
    for name, value in hf_training_defaults().items():
        given.setdefault(name, value)
    return [_override(f"{'' if name in ours else '+'}train.{name}", value) for name, value in given.items()]


def train_group_defaults() -> dict:
    import yaml

    return yaml.safe_load((CONF_DIR / "train" / "default.yaml").read_text(encoding="utf-8"))


def hf_training_defaults() -> dict:
    """TrainingArguments' own defaults where conf/train/default.yaml differs from them."""
    import dataclasses

    from transformers import TrainingArguments

    defaults = {f.name: f.default for f in dataclasses.fields(TrainingArguments) if f.init}
    out = {}
    for name, ours in train_group_defaults().items():
        theirs = defaults.get(name, dataclasses.MISSING)
        theirs = getattr(theirs, "value", theirs)  # enums: their string
        if theirs is dataclasses.MISSING or (theirs in (None, False) and ours in (None, False)):
            continue
        if theirs != ours:
            out[name] = theirs
    return out


def _override(key: str, value) -> str:
    return f"{key}={_value(value)}"


def _value(value, as_text: bool = True) -> str:
    """A value as Hydra's override grammar reads it back: quoted when it would otherwise change type."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ",".join(_value(v) for v in value) + "]"
    text = str(value)
    if PLAIN_VALUE_RE.fullmatch(text) and (not as_text or not _reads_as_other_type(text)):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _reads_as_other_type(text: str) -> bool:
    if text.lower() in ("true", "false", "null"):
        return True
    try:
        float(text)
    except ValueError:
        return False
    return True

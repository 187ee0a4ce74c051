"""Side-by-side generations: resolve versions to weights, load them, sample the same prompts, render.

Used by `python -m harness generate` and, for `eval.prompts`, by the end of a run_clm.py run.
torch, transformers, peft and yaml are imported inside functions: `python -m harness table` builds
every command's parser and must not pay for them.
"""

import json
import sys
from dataclasses import dataclass, replace
from pathlib import Path

from harness import versions
from harness.errors import UserError
from harness.train import checkpoints
from harness.train.sampling import Sampling, generate_samples
from harness.train.templates import TEMPLATES

BASE = "base"


# ----- which weights a version name means -----

@dataclass(frozen=True)
class Source:
    label: str
    weights: str                      # a model directory or hub id, or a LoRA adapter directory
    adapter_base: str | None = None   # for an adapter: the model it goes onto
    revision: str = "main"
    template: str = "none"            # the prompt template the version trained with (its data.template)


# A directory given by path may hold PyTorch weights from elsewhere; versions always hold safetensors.
DIR_WEIGHT_FILES = checkpoints.WEIGHT_FILES + ("pytorch_model.bin", "pytorch_model.bin.index.json")


def split_specs(values) -> list[str]:
    """--versions a,b --versions c -> [a, b, c], without repeats."""
    specs = [s.strip() for v in values or [] for s in str(v).split(",")]
    return list(dict.fromkeys(s for s in specs if s))


def resolve_sources(specs: list[str], logs_dir, base: str | None = None) -> list[Source]:
    """Every spec checked before any model loads: a missing weight is an error now, not after an hour."""
    if not specs:
        raise UserError("name at least one version: --versions base,3.4")
    if base is not None and BASE not in specs:
        specs = [BASE, *specs]
    logs_dir = Path(logs_dir)
    named = {s: _resolve_one(s, logs_dir) for s in specs if s != BASE}
    if BASE in specs:
        named[BASE] = _base_source(base, [s for s in specs if s != BASE and versions.LogStore(logs_dir).path_of(s)], logs_dir)
    return _unique_labels([named[s] for s in specs], specs)


def _resolve_one(spec: str, logs_dir: Path) -> Source:
    if log := versions.LogStore(logs_dir).path_of(spec):
        return _version_source(spec, log)
    path = Path(spec).expanduser()
    if path.is_dir():
        return _dir_source(path, path.resolve().name)
    raise UserError(f"{spec} is neither a version in {logs_dir}/ nor a directory")


def _version_source(version: str, log_path: Path) -> Source:
    from harness.runlog.reader import read_log

    log = read_log(log_path)
    fields_ = log.fields
    status, output_dir = fields_.get("status"), fields_.get("output_dir") or "(none recorded)"
    if status != "finished":
        raise UserError(f"version {version} has no final weights: its status is {status or 'unknown'} "
                        f"(log {log_path}, weights directory {output_dir})")
    if not checkpoints.has_weights(output_dir):
        raise UserError(f"version {version} has no weights left: {output_dir} holds no model files (deleted?)")
    template = ((log.sections.get("config") or {}).get("data") or {}).get("template") or "none"
    return replace(_dir_source(Path(output_dir), version), template=template if template in TEMPLATES else "none")


def _dir_source(path: Path, label: str) -> Source:
    adapter_config = path / "adapter_config.json"
    if adapter_config.is_file():
        base = _adapter_base(adapter_config)
        return Source(label, str(path), adapter_base=base)
    if not any((path / name).is_file() for name in DIR_WEIGHT_FILES):
        raise UserError(f"{path} holds no model weights (no model.safetensors or adapter)")
    return Source(label, str(path))


def _adapter_base(adapter_config: Path) -> str:
    try:
        base = json.loads(adapter_config.read_text()).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError) as exc:
        raise UserError(f"cannot read the LoRA adapter config {adapter_config}: {exc}") from exc
    if not base:
        raise UserError(f"LoRA adapter {adapter_config.parent} does not say which model it goes onto "
                        "(no base_model_name_or_path in adapter_config.json)")
    _check_exists(base, f"the base model of LoRA adapter {adapter_config.parent}")
    return base


def _check_exists(model: str, what: str) -> None:
    """A path that is gone is reported now; a hub id is left to the loader (it may be in the HF cache)."""
    path = Path(model).expanduser()
    if (path.exists() or model.startswith((".", "/", "~"))) and not path.is_dir():
        raise UserError(f"{what} is {model}, which no longer exists")


def _base_source(base: str | None, version_specs: list[str], logs_dir: Path) -> Source:
    if base is not None:
        return _explicit_base(base, logs_dir)
    if not version_specs:
        raise UserError("`base` needs a version from the logs to follow back to its root model, "
                        "or --base VERSION_OR_PATH")
    roots = {}
    for version in version_specs:
        model, revision = root_model(version, logs_dir)
        roots.setdefault(_same_model_key(model), (model, revision, version))
    if len(roots) > 1:
        listed = ", ".join(f"{v} from {m}" for m, _, v in roots.values())
        raise UserError(f"`base` is ambiguous: the versions start from different models ({listed}); "
                        "pick one with --base VERSION_OR_PATH")
    model, revision, _ = next(iter(roots.values()))
    return _model_source(BASE, model, revision)


def _explicit_base(base: str, logs_dir: Path) -> Source:
    if versions.LogStore(logs_dir).path_of(base) or Path(base).expanduser().is_dir():
        return replace(_resolve_one(base, logs_dir), label=BASE)
    _check_exists(base, "--base")
    return Source(BASE, base)  # a hub id: the loader says how to fetch it when it is not cached


def _model_source(label: str, model: str, revision: str) -> Source:
    path = Path(model).expanduser()
    return _dir_source(path, label) if path.is_dir() else Source(label, model, revision=revision)


def _same_model_key(model: str) -> str:
    path = Path(model).expanduser()
    return str(path.resolve()) if path.exists() else model


def root_model(version: str, logs_dir) -> tuple[str, str]:
    """(model, revision) the version's chain of parents started from: the root version's initial weights."""
    # A parent that is a path (init_from=DIR) or a version whose log is gone ends the walk:
    # the weights the last version on it started from are then the base.
    store = versions.LogStore(logs_dir)
    followed = [link.name for link in store.chain(version) if link.kind == versions.VERSION]
    current = followed[-1] if followed else version
    log = store.log(current)
    model_cfg = (log.sections.get("config") or {}).get("model") or {}
    start = (log.sections.get("model") or {}).get("init_weights") or model_cfg.get("name_or_path")
    if not start:
        chain = f" (the root of {version}'s chain)" if current != version else ""
        raise UserError(f"version {current}{chain} was trained from scratch: there is no base model; "
                        "name one with --base VERSION_OR_PATH")
    _check_exists(str(start), f"the base model of {version}")
    return str(start), str(model_cfg.get("revision") or "main")


def _unique_labels(sources: list[Source], specs: list[str]) -> list[Source]:
    """Two directories may share a name (runs/a/final, runs/b/final): then the label is the path as typed."""
    labels = [s.label for s in sources]
    return [s if labels.count(s.label) == 1 else replace(s, label=spec) for s, spec in zip(sources, specs)]


# ----- loading -----

def load(source: Source):
    """(model, tokenizer): the weights in eval mode, an adapter on its base, on CUDA when there is one."""
    try:
        return _load(source)
    except UserError as exc:  # several models load in one command: say which one failed
        raise UserError(f"{source.label}: {exc}") from exc
    except (OSError, ValueError) as exc:
        raise UserError(f"{source.label}: cannot load {source.weights}: {str(exc).strip().splitlines()[0]}") from exc


def _load(source: Source):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.train.config import ModelConfig
    from harness.train.modeling import load_pretrained  # the run's loader: same messages for a missing model

    settings = ModelConfig(revision=source.revision, trust_remote_code=False, local_files_only=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model_path = source.adapter_base or source.weights
    model = load_pretrained(AutoModelForCausalLM, model_path, settings, "model",
                             dtype="auto" if device == "cuda" else torch.float32)
    if source.adapter_base:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, source.weights)
    has_own_tokenizer = (Path(source.weights) / "tokenizer_config.json").is_file()
    tokenizer = load_pretrained(AutoTokenizer, source.weights if has_own_tokenizer else model_path, settings,
                                 "tokenizer")
    return model.to(device).eval(), tokenizer


def run_sources(sources: list[Source], prompts: list[str], sampling: Sampling, template_given: bool = True
                ) -> list[dict]:
    """One model in memory at a time: {version, prompt, output} for every pair. Unless the template was
    chosen (template_given), each version's prompts are wrapped in the template it trained with."""
    from transformers.utils.logging import disable_progress_bar

    disable_progress_bar()  # one "generating with" line per model says enough; bars would bury the table
    records = []
    for source in sources:
        print(f"generating with {source.label} ({source.weights})", file=sys.stderr)
        model, tokenizer = load(source)
        own = sampling if template_given else replace(sampling, template=source.template)
        records += [{"version": source.label, **r} for r in generate_samples(model, tokenizer, prompts, own)]
        del model
        _free_memory()
    return records


def _free_memory() -> None:
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# ----- samples in run logs -----

def samples_from_log(path) -> list[dict]:
    """The samples a run recorded: [{prompt, output}] or [{prompt, output, version}]; [] when none."""
    from harness.runlog.reader import read_log

    body = read_log(path).sections.get("samples")
    if body is None:
        return []
    if not isinstance(body, list):
        raise UserError(f"{path}: its samples section is not a list")
    return [{k: str(item[k]) for k in ("prompt", "output", "version") if item.get(k) is not None}
            for item in body if isinstance(item, dict) and "prompt" in item]


def samples_from_logs(specs: list[str], logs_dir, prompts: list[str] | None = None) -> list[dict]:
    """--from-logs: what the versions recorded, no model loaded; `prompts` keeps only those."""
    logs_dir, records = Path(logs_dir), []
    for spec in specs:
        log = versions.LogStore(logs_dir).path_of(spec)
        if log is None:
            what = "`base` is a model, not a run" if spec == BASE else f"{spec} is not a version in {logs_dir}/"
            raise UserError(f"--from-logs reads recorded samples, and {what}")
        samples = samples_from_log(log)
        if not samples:
            raise UserError(f"version {spec} recorded no samples (a run records them with eval.prompts=[...])")
        records += [{"version": s.get("version", spec), "prompt": s["prompt"], "output": s.get("output", "")}
                    for s in samples if not prompts or s["prompt"] in prompts]
    return records



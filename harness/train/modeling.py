"""Tokenizer and model: a pretrained one from a local directory or the Hugging Face cache, or a
GPT-2-shaped model built from a config with a byte-level BPE tokenizer trained on the training data."""

import hashlib
import os
import shutil
from pathlib import Path

from harness.errors import UserError
from harness.train import hub
from harness.train.config import ModelConfig

SPECIAL = "<|endoftext|>"
DTYPES = {"float32": "float32", "float16": "float16", "bfloat16": "bfloat16"}


def tokenizer_identity(tokenizer, name: str) -> str:
    """Name plus a hash of the full tokenizer definition: equal ids mean identical tokenization."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    blob = backend.to_str() if backend is not None else repr(sorted(tokenizer.get_vocab().items()))
    return f"{name}@sha256:{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def load_tokenizer(model_cfg: ModelConfig, source: str | None, train_files: list[str], cache_dir):
    """(tokenizer, name): model_cfg.tokenizer_name, else the source model's, else one trained on the data."""
    from transformers import AutoTokenizer

    name = model_cfg.tokenizer_name or source
    if name:
        tokenizer = load_pretrained(AutoTokenizer, name, model_cfg, "tokenizer")
    else:
        name, tokenizer = train_tokenizer(train_files, model_cfg.tokenizer_vocab_size, cache_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer, name


def train_tokenizer(files: list[str], vocab_size: int, cache_dir):
    """A byte-level BPE tokenizer trained on `files`, cached by their content and the vocabulary size."""
    from transformers import AutoTokenizer

    digest = hashlib.sha256(str(vocab_size).encode())
    for path in files:
        digest.update(Path(path).read_bytes())
    key = digest.hexdigest()[:16]
    target = Path(cache_dir).expanduser() / "tokenizers" / f"bpe{vocab_size}-{key}"
    if not (target / "tokenizer.json").exists():
        _train_bpe(files, vocab_size, target)
    return f"trained:bpe{vocab_size}-{key}", AutoTokenizer.from_pretrained(str(target))


def _train_bpe(files, vocab_size, target: Path) -> None:
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train(files=list(files), vocab_size=vocab_size, min_frequency=2, special_tokens=[SPECIAL], show_progress=False)
    wrapped = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token=SPECIAL, eos_token=SPECIAL, unk_token=SPECIAL,
                                      model_max_length=1024)
    partial = target.with_name(target.name + f".tmp{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    wrapped.save_pretrained(str(partial))
    shutil.rmtree(target, ignore_errors=True)
    os.replace(partial, target)


def build_model(model_cfg: ModelConfig, source: str | None, tokenizer, train_dtype: str):
    """A pretrained model from `source`, or a fresh one of model_type; config_overrides apply to both."""
    from transformers import AutoConfig, AutoModelForCausalLM

    overrides = dict(model_cfg.config_overrides or {})
    if source:
        config = load_pretrained(AutoConfig, source, model_cfg, "model config")
        _apply_overrides(config, overrides)
        _align(config, tokenizer)
        return _aligned(load_pretrained(AutoModelForCausalLM, source, model_cfg, "model", config=config,
                                        dtype=train_dtype))
    if not model_cfg.model_type:
        raise UserError("model.name_or_path and model.model_type are both null: name a model or an architecture")
    try:
        config = AutoConfig.for_model(model_cfg.model_type)
    except ValueError as exc:
        raise UserError(f"model.model_type={model_cfg.model_type!r} is not a known architecture") from exc
    import torch

    try:
        _apply_overrides(config, {"vocab_size": len(tokenizer), "bos_token_id": tokenizer.bos_token_id,
                                  "eos_token_id": tokenizer.eos_token_id, **overrides})
        _align(config, tokenizer)
        return _aligned(AutoModelForCausalLM.from_config(config, dtype=getattr(torch, train_dtype)))
    except (ValueError, TypeError, RuntimeError) as exc:  # the architecture's own checks, in its words
        detail = " ".join(str(exc).split())[:300]
        raise UserError(f"model.config_overrides do not make a valid {model_cfg.model_type} model: {detail}") from None


def _align(config, tokenizer) -> None:
    """Settings Trainer would otherwise fill in itself, with a notice on every run."""
    if config.pad_token_id is None:
        config.pad_token_id = tokenizer.pad_token_id
    if getattr(config, "loss_type", None) is None:
        config.loss_type = "ForCausalLM"


def _aligned(model):
    """The model-side copies of the same settings: its loss type and its generation config's pad id."""
    if getattr(model, "loss_type", None) is None:
        model.loss_type = "ForCausalLM"  # every model here is a causal LM
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = model.config.pad_token_id
    return model


def _apply_overrides(config, overrides: dict) -> None:
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise UserError(f"model.config_overrides.{key}: {type(config).__name__} has no such setting")
        try:
            setattr(config, key, value)
        except Exception as exc:  # noqa: BLE001 - hub's strict dataclass validation raises its own types
            detail = " ".join(str(exc).split())[:200]
            raise UserError(f"model.config_overrides.{key}={value!r} is not valid: {detail}") from None


def load_pretrained(cls, source: str, model_cfg: ModelConfig, what: str, **kwargs):
    """Load from a local directory or the HF cache; a missing model is one clear error, not a retry storm."""
    local_dir = Path(source).expanduser()
    is_local = local_dir.exists()
    if (is_local or source.startswith((".", "/", "~"))) and not local_dir.is_dir():
        raise UserError(f"{what} path {source} does not exist (or is not a directory)")
    common = {"revision": model_cfg.revision, "trust_remote_code": model_cfg.trust_remote_code, **kwargs}
    offline = None
    if not is_local:  # decided before the cache is tried: offline mode keeps transformers off the network there
        if model_cfg.local_files_only:
            hub.go_offline()
        else:
            offline = hub.settle()
    try:
        return cls.from_pretrained(str(local_dir) if is_local else source, local_files_only=True, **common)
    except (OSError, ValueError) as cached_error:
        if is_local:
            raise UserError(f"cannot load {what} from {source}: {_first_line(cached_error)}") from cached_error
        if model_cfg.local_files_only:
            raise UserError(_not_found(source, what) + "; model.local_files_only=false downloads it"
                            ) from cached_error
        if offline:
            raise UserError(_not_found(source, what) + f"; the hub is out of reach ({offline})") from cached_error
    try:
        return cls.from_pretrained(source, **common)
    except Exception as exc:  # network errors come in many types; all mean the same to the user
        raise UserError(_not_found(source, what) + f" (download failed: {_first_line(exc)})") from exc


def _not_found(source: str, what: str) -> str:
    return (f"{what} {source!r} is neither a local directory nor in the Hugging Face cache; fetch it once with "
            f"`hf download {source}`, or use model.name_or_path=/path/to/dir")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def count_parameters(model) -> dict:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"trainable_params": trainable, "total_params": total}

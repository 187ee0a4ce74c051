"""LoRA through peft: which modules to adapt, starting from or continuing an adapter, saving it merged.

A LoRA version's outputs/<version>/ holds the adapter (adapter_model.safetensors, adapter_config.json) and
the tokenizer, not full weights; adapter_config.json names the base weights it was trained on.

Chaining from a LoRA version (`init_from=<it>`): by default the base is loaded, the adapter put on top and
training continues on the adapter; with `merge=true` the adapter is folded into the base first and the run
trains on the merged weights (a new LoRA with `peft=lora`, else full fine-tuning).
"""

import json
from pathlib import Path

from harness.errors import UserError
from harness.train.config import PeftConfig, RunConfig

ADAPTER_CONFIG = "adapter_config.json"
MERGED_DIR = "merged"
BASE_DIR = "base"

# Attention projections per architecture (the LoRA paper adapts attention only). GPT-2 fuses q, k, v into
# c_attn; its c_proj is left out because the name also matches the MLP's output projection.
LLAMA_STYLE = ["q_proj", "k_proj", "v_proj", "o_proj"]
DEFAULT_TARGETS = {
    "gpt2": ["c_attn"],
    "gpt_neox": ["query_key_value"],
    "gpt_neo": ["q_proj", "k_proj", "v_proj", "out_proj"],
    "opt": ["q_proj", "k_proj", "v_proj", "out_proj"],
    "phi3": ["qkv_proj", "o_proj"],
    **{name: LLAMA_STYLE for name in ("llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "olmo")},
}


def is_adapter_dir(source) -> bool:
    return source is not None and (Path(source).expanduser() / ADAPTER_CONFIG).is_file()


def base_source(source):
    """The weights to load under an adapter directory; any other source is its own base."""
    if not is_adapter_dir(source):
        return source
    config = json.loads((Path(source).expanduser() / ADAPTER_CONFIG).read_text())
    base = config.get("base_model_name_or_path")
    if not base:
        raise UserError(f"adapter {source} does not name its base model (base_model_name_or_path)")
    return base


def target_modules(model, requested) -> list[str]:
    """The user's list, else the architecture's default; an unknown architecture names its candidates."""
    if requested:
        names = [requested] if isinstance(requested, str) else list(requested)
        missing = [n for n in names if not any(m == n or m.endswith(f".{n}") for m in _module_names(model))]
        if missing:
            raise UserError(f"peft.target_modules: {', '.join(missing)} not in the model; "
                            f"its linear layers are {', '.join(linear_layer_names(model))}")
        return names
    model_type = getattr(model.config, "model_type", None)
    if model_type in DEFAULT_TARGETS:
        return list(DEFAULT_TARGETS[model_type])
    raise UserError(f"no default LoRA targets for model_type {model_type!r}: set peft.target_modules=[...] "
                    f"from its linear layers: {', '.join(linear_layer_names(model))}")


def linear_layer_names(model) -> list[str]:
    """Distinct last-component names of Linear/Conv1D layers, the head excluded (it is usually tied)."""
    import torch
    from transformers.pytorch_utils import Conv1D

    names = {name.rsplit(".", 1)[-1] for name, module in model.named_modules()
             if isinstance(module, (torch.nn.Linear, Conv1D))}
    names.discard("lm_head")
    return sorted(names)


def _module_names(model) -> list[str]:
    return [name for name, _ in model.named_modules()]


def lora_config(model, peft_cfg: PeftConfig):
    from peft import LoraConfig, TaskType

    to_save = list(peft_cfg.modules_to_save) if peft_cfg.modules_to_save is not None else None
    return LoraConfig(task_type=TaskType.CAUSAL_LM, r=peft_cfg.r, lora_alpha=peft_cfg.alpha,
                      lora_dropout=peft_cfg.dropout, target_modules=target_modules(model, peft_cfg.target_modules),
                      bias=peft_cfg.bias, modules_to_save=to_save,
                      fan_in_fan_out=getattr(model.config, "model_type", None) == "gpt2")  # GPT-2's Conv1D stores W^T


def attach(model, cfg: RunConfig, source, output_dir, warnings: list):
    """(model, info for the log): the parent's adapter continued or merged, then a new LoRA if asked for."""
    peft_cfg, merge = cfg.peft, bool(cfg.merge)
    info = {"peft_method": peft_cfg.method}
    if is_adapter_dir(source):
        model = _load_adapter(model, source, trainable=not merge)
        if not merge:
            _warn_ignored(model, peft_cfg, source, warnings)
            return model, {**info, "peft_method": "lora", "adapter_from": str(source), **describe(model)}
        model = model.merge_and_unload()
        model.requires_grad_(True)  # peft froze the base; from here it is an ordinary model again
        info["merged_from"] = str(source)
        if peft_cfg.method == "lora":
            _save_base(model, Path(output_dir) / BASE_DIR)
    elif merge:
        raise UserError(f"merge=true, but init_from's weights {source} are full weights, not a LoRA adapter: "
                        "drop merge=true")
    if peft_cfg.method != "lora":
        return model, info
    if source is None:
        raise UserError("peft=lora adapts pretrained weights, and this model is trained from scratch: "
                        "set model.name_or_path or init_from=<a version>")
    from peft import get_peft_model

    model = get_peft_model(model, lora_config(model, peft_cfg))
    base = Path(output_dir) / BASE_DIR if merge else base_source(source)
    model.peft_config["default"].base_model_name_or_path = _portable(base)
    return model, {**info, **describe(model)}


def _load_adapter(model, source, trainable: bool):
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, str(Path(source).expanduser()), is_trainable=trainable)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise UserError(f"cannot load the LoRA adapter in {source}: {str(exc).strip().splitlines()[0]}") from exc


def _warn_ignored(model, peft_cfg: PeftConfig, source, warnings: list) -> None:
    if peft_cfg.method != "lora":
        return
    current = describe(model)
    asked = {"lora_r": peft_cfg.r, "lora_alpha": peft_cfg.alpha}
    if any(current[k] != v for k, v in asked.items()):
        warnings.append(f"init_from={source} continues its adapter (r={current['lora_r']}, "
                        f"alpha={current['lora_alpha']}); peft.r/peft.alpha are ignored: add merge=true to start "
                        "a new adapter on the merged weights")


def _portable(path) -> str:
    """A local base is recorded as an absolute path so the adapter loads from any working directory."""
    local = Path(str(path)).expanduser()
    return str(local.resolve()) if local.exists() or str(path).startswith((".", "/", "~")) else str(path)


def _save_base(model, directory: Path) -> None:
    # The merged parent exists only in memory; a new adapter on top needs it on disk to be loadable.
    from harness.train import distributed

    if distributed.is_main():
        model.save_pretrained(str(directory))
    distributed.barrier()


def describe(model) -> dict:
    config = model.peft_config["default"]
    targets = config.target_modules
    return {"lora_r": config.r, "lora_alpha": config.lora_alpha, "lora_dropout": config.lora_dropout,
            "lora_target_modules": sorted(targets) if isinstance(targets, (set, list)) else targets,
            "base_weights": config.base_model_name_or_path}


def is_peft(model) -> bool:
    return hasattr(model, "peft_config") and hasattr(model, "merge_and_unload")


def save_merged(trainer, cfg: RunConfig, output_dir) -> Path | None:
    """With peft.save_merged=true: full weights (adapter folded in) next to the adapter, in merged/."""
    from harness.train import checkpoints, distributed

    model = trainer.model
    if not (is_peft(model) and cfg.peft.save_merged) or not distributed.is_main():
        return None
    target = Path(output_dir) / MERGED_DIR
    merged = model.merge_and_unload()  # last use of the model in this run
    merged.save_pretrained(str(target))
    if trainer.processing_class is not None:
        trainer.processing_class.save_pretrained(str(target))
    checkpoints.mark_complete(target)
    return target

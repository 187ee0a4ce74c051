"""`plan=true`: estimate a run's peak GPU memory without training, and show the arithmetic.

The model is built on the meta device from its config (no weights are read or allocated), so parameter
counts are exact, LoRA included. The parts, per GPU:

- weights: every parameter at its load dtype (fp32 under fp16/bf16 mixed precision: fp32 master weights);
  LoRA adapters are fp32 even over a half-precision base.
- gradients: trainable parameters only, at their dtype.
- optimizer states: AdamW keeps 2 per trainable parameter (m and v); Adafactor factors the second moment
  of an r x c matrix into r + c numbers and keeps no momentum; 8-bit optimizers keep 2 one-byte states.
- autocast copies: mixed precision caches a 16-bit copy of each trainable weight during the forward pass.
- activations: Korthikanti et al. 2022 ("Reducing Activation Recomputation in Large Transformer Models"),
  s*b*h*(34 + 5*a*s/h) bytes per decoder layer in 16-bit. The 5*a*s/h term (attention scores) is dropped
  under SDPA/flash attention, which never stores them; fp32 doubles the figure. With gradient
  checkpointing only each layer's input (2*s*b*h bytes in 16-bit) is kept, plus one layer recomputed.
- logits: b*s*V in the compute dtype, plus the fp32 copy the loss makes and its gradient (4 + 4 bytes).
- DDP gradient buckets: one more copy of the gradients when several processes train.

It is an estimate of allocated memory (torch.cuda.max_memory_allocated): the CUDA context (300-500 MB)
and the allocator's cache (reserved - allocated, often 10-20 %) come on top, and architectures whose MLP
is not 4h wide (Llama's SwiGLU) differ from the 34 a little.
"""

import sys
from pathlib import Path

from harness.errors import UserError
from harness.train import distributed, lora
from harness.train.config import RunConfig

MB = 2**20
DTYPE_BYTES = {"float32": 4, "float16": 2, "bfloat16": 2}
# Optimizer states per trainable parameter, in units of the parameter's own size (or bytes when fixed).
ADAM_LIKE = ("adamw", "adam", "ademamix")
ONE_STATE = ("adagrad", "rmsprop", "lion")
EIGHT_BIT_STATE_BYTES = 2  # two one-byte states; the per-block quantisation constants are negligible


def print_plan(plan) -> dict:
    """Print the estimate for plan.cfg as a table; return its parts (bytes) and inputs."""
    estimate = estimate_memory(plan.cfg, plan.model_source)
    if distributed.is_main():
        _print(estimate)
    return estimate


def estimate_memory(cfg: RunConfig, source) -> dict:
    import torch
    from transformers import AutoModelForCausalLM

    config = model_config(cfg, source)
    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
        model = _with_lora(model, cfg, source)
    inputs = _inputs(cfg, config, model)
    parts = {
        "weights": _weights(model, inputs),
        "gradients": inputs["trainable_params"] * inputs["trainable_bytes"],
        "optimizer": optimizer_bytes(model, inputs["optim"], inputs["trainable_bytes"]),
        "autocast_copies": inputs["trainable_params"] * 2 if inputs["amp"] else 0,
        "activations": activation_bytes(inputs),
        "logits": logits_bytes(inputs),
        "ddp_buckets": inputs["trainable_params"] * inputs["trainable_bytes"] if inputs["world_size"] > 1 else 0,
    }
    return {"parts": parts, "total": sum(parts.values()), "inputs": inputs}


def model_config(cfg: RunConfig, source):
    """The model's config, read without its weights: from the source (an adapter's base), or fresh."""
    from transformers import AutoConfig

    from harness.train.modeling import _apply_overrides, load_pretrained

    model_cfg = cfg.model
    overrides = dict(model_cfg.config_overrides or {})
    if source:
        config = load_pretrained(AutoConfig, lora.base_source(source), model_cfg, "model config")
    elif model_cfg.model_type:
        try:
            config = AutoConfig.for_model(model_cfg.model_type)
        except ValueError as exc:
            raise UserError(f"model.model_type={model_cfg.model_type!r} is not a known architecture") from exc
        # From scratch the tokenizer is trained later; its size is at most tokenizer_vocab_size.
        overrides = {"vocab_size": model_cfg.tokenizer_vocab_size or config.vocab_size, **overrides}
    else:
        raise UserError("model.name_or_path and model.model_type are both null: name a model or an architecture")
    _apply_overrides(config, overrides)
    return config


def _with_lora(model, cfg: RunConfig, source):
    from peft import LoraConfig, get_peft_model

    continuing = lora.is_adapter_dir(source) and not cfg.merge
    if continuing:
        return get_peft_model(model, LoraConfig.from_pretrained(str(Path(source).expanduser())))
    if cfg.peft.method == "lora":
        if source is None:
            raise UserError("peft=lora adapts pretrained weights, and this model is trained from scratch: "
                            "set model.name_or_path or init_from=<a version>")
        return get_peft_model(model, lora.lora_config(model, cfg.peft))
    return model


def _inputs(cfg: RunConfig, config, model) -> dict:
    train = cfg.train
    amp = bool(train.get("fp16") or train.get("bf16"))
    dtype = "float32" if amp or cfg.model.dtype == "auto" else cfg.model.dtype
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    total = sum(p.numel() for p in model.parameters())
    limit = getattr(config, "n_positions", None) or getattr(config, "max_position_embeddings", None) or 1024
    block = cfg.data.block_size or min(1024, limit)
    attention = getattr(config, "_attn_implementation", None) or "sdpa"
    return {
        "trainable_params": trainable, "total_params": total, "is_lora": lora.is_peft(model),
        "amp": "fp16" if train.get("fp16") else "bf16" if train.get("bf16") else None,
        "weights_dtype": dtype,
        # peft keeps adapters in fp32 over a half-precision base; full fine-tuning trains at the load dtype.
        "trainable_bytes": 4 if lora.is_peft(model) else DTYPE_BYTES[dtype],
        "optim": str(train.get("optim") or "adamw_torch_fused"),
        "batch": train["per_device_train_batch_size"], "block_size": min(block, limit),
        "gradient_accumulation_steps": train.get("gradient_accumulation_steps", 1),
        "checkpointing": bool(train.get("gradient_checkpointing")),
        "layers": _config_value(config, "num_hidden_layers", "n_layer"),
        "hidden": _config_value(config, "hidden_size", "n_embd"),
        "heads": _config_value(config, "num_attention_heads", "n_head"),
        "vocab": config.vocab_size, "attention": attention, "world_size": distributed.world_size(),
    }


def _config_value(config, *names):
    for name in names:
        value = getattr(config, name, None)
        if value:
            return value
    raise UserError(f"{type(config).__name__} has none of {', '.join(names)}: cannot estimate its activations")


def _weights(model, inputs: dict) -> int:
    frozen = inputs["total_params"] - inputs["trainable_params"]
    return frozen * DTYPE_BYTES[inputs["weights_dtype"]] + inputs["trainable_params"] * inputs["trainable_bytes"]


def optimizer_bytes(model, optim: str, param_bytes: int) -> int:
    trainable = [p for p in model.parameters() if p.requires_grad]
    count = sum(p.numel() for p in trainable)
    if "8bit" in optim:
        return count * EIGHT_BIT_STATE_BYTES
    if optim.startswith("adafactor"):
        return param_bytes * sum(sum(p.shape[-2:]) if p.dim() >= 2 else p.numel() for p in trainable)
    if optim.startswith("sgd"):
        return 0  # Trainer's SGD has no momentum unless optim_args asks for it
    if optim.startswith(ONE_STATE):
        return count * param_bytes
    return count * param_bytes * 2  # AdamW and anything unknown: two states per parameter


def activation_bytes(inputs: dict) -> int:
    s, b, h, a, layers = (inputs[k] for k in ("block_size", "batch", "hidden", "heads", "layers"))
    scale = 1 if inputs["amp"] or inputs["weights_dtype"] != "float32" else 2  # the formula counts 16-bit
    scores = 5 * a * s * s * b if inputs["attention"] == "eager" else 0
    per_layer = (34 * s * b * h + scores) * scale
    if inputs["checkpointing"]:
        return layers * 2 * s * b * h * scale + per_layer
    return layers * per_layer


def logits_bytes(inputs: dict) -> int:
    compute = 2 if inputs["amp"] else DTYPE_BYTES[inputs["weights_dtype"]]
    return inputs["batch"] * inputs["block_size"] * inputs["vocab"] * (compute + 4 + 4)


def arithmetic(estimate: dict) -> dict:
    """part -> how it was computed, in words and numbers."""
    i = estimate["inputs"]
    s, b, h, a, n, v = i["block_size"], i["batch"], i["hidden"], i["heads"], i["layers"], i["vocab"]
    trainable, frozen = i["trainable_params"], i["total_params"] - i["trainable_params"]
    tb, wb = i["trainable_bytes"], DTYPE_BYTES[i["weights_dtype"]]
    scale = "x 1 (16-bit)" if i["amp"] or i["weights_dtype"] != "float32" else "x 2 (fp32)"
    scores = f" + 5*{a}*{s}/{h}" if i["attention"] == "eager" else f" ({i['attention']}: no stored scores)"
    layer = f"{s}*{b}*{h}*(34{scores}) {scale}"
    return {
        "weights": f"{frozen:,} frozen x {wb} B + {trainable:,} trainable x {tb} B",
        "gradients": f"{trainable:,} trainable x {tb} B",
        "optimizer": f"{i['optim']}: {_optimizer_words(i['optim'])}",
        "autocast_copies": f"{trainable:,} x 2 B ({i['amp']} copies)" if i["amp"] else "no mixed precision",
        "activations": (f"{n} layers x 2*{s}*{b}*{h} {scale} (checkpointed inputs) + one layer {layer}"
                        if i["checkpointing"] else f"{n} layers x {layer}"),
        "logits": f"{b}*{s}*{v} x ({2 if i['amp'] else wb} + 4 + 4) B",
        "ddp_buckets": f"gradients again ({i['world_size']} processes)" if i["world_size"] > 1 else "one process",
    }


def _optimizer_words(optim: str) -> str:
    if "8bit" in optim:
        return "2 x 1 B per trainable parameter"
    if optim.startswith("adafactor"):
        return "(rows + cols) per matrix, numel per vector"
    if optim.startswith("sgd"):
        return "no state"
    if optim.startswith(ONE_STATE):
        return "1 state per trainable parameter"
    return "2 states (m, v) per trainable parameter"


def _print(estimate: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    i = estimate["inputs"]
    precision = f"{i['amp']} mixed (fp32 weights)" if i["amp"] else i["weights_dtype"]
    title = (f"Estimated peak GPU memory per process: batch {i['batch']} x block {i['block_size']}, {precision}, "
             f"{'LoRA' if i['is_lora'] else 'full fine-tuning'}, "
             f"checkpointing {'on' if i['checkpointing'] else 'off'}")
    table = Table(title=title, title_justify="left")
    table.add_column("part")
    table.add_column("arithmetic")
    table.add_column("MB", justify="right")
    for part, words in arithmetic(estimate).items():
        table.add_row(part, words, f"{estimate['parts'][part] / MB:,.1f}")
    table.add_row("[bold]total", f"{i['trainable_params']:,} of {i['total_params']:,} parameters trainable",
                  f"[bold]{estimate['total'] / MB:,.1f}")
    console = Console(width=None if sys.stdout.isatty() else 160)  # a log file should not wrap at 80
    console.print(table)
    console.print("An estimate of allocated memory; the CUDA context (300-500 MB) and the allocator's cache come on "
                  f"top. Effective batch {i['batch']} x {i['gradient_accumulation_steps']} accumulation steps "
                  f"x {i['world_size']} processes; accumulation does not raise the peak. Nothing was trained.")

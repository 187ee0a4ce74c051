"""plan=true: the estimate's parts against the parameter counts of real tiny models, and no training."""

import pytest
import torch

from harness.train import memplan
from harness.train.config import RunConfig
from harness.train.pipeline import Job, train


def real_counts(pretrained_dir, lora_r=None):
    from transformers import AutoModelForCausalLM

    from harness.train import lora
    from harness.train.config import PeftConfig

    model = AutoModelForCausalLM.from_pretrained(pretrained_dir)
    if lora_r:
        from peft import get_peft_model

        model = get_peft_model(model, lora.lora_config(model, PeftConfig(method="lora", r=lora_r, alpha=16,
                                                                         dropout=0.0, target_modules=None)))
    params = list(model.parameters())
    trainable = [p for p in params if p.requires_grad]
    return sum(p.numel() for p in params), trainable


def test_plan_prints_the_arithmetic_and_trains_nothing(compose, workdir, capsys, monkeypatch, pretrained):
    from transformers import AutoModelForCausalLM

    monkeypatch.setattr(AutoModelForCausalLM, "from_pretrained", lambda *a, **k: pytest.fail("weights loaded"))
    estimate = train(compose("plan=true", f"model.name_or_path={pretrained}"), Job())
    out = capsys.readouterr().out
    for part in ("weights", "gradients", "optimizer", "activations", "logits", "total", "Nothing was trained"):
        assert part in out
    assert "2 layers x 32*4*64*(34 (sdpa: no stored scores)) x 2 (fp32)" in out
    assert not (workdir / "logs").exists() or not list((workdir / "logs").iterdir())
    assert not (workdir / "outputs").exists()
    assert estimate["total"] == sum(estimate["parts"].values())


def test_full_fine_tuning_parts_match_parameter_counts(compose, pretrained):
    total, trainable = real_counts(pretrained)
    estimate = train(compose("plan=true", f"model.name_or_path={pretrained}"), Job())
    parts, inputs = estimate["parts"], estimate["inputs"]
    assert inputs["total_params"] == inputs["trainable_params"] == total
    assert parts["weights"] == parts["gradients"] == 4 * total
    assert parts["optimizer"] == 8 * total  # AdamW: m and v in fp32
    assert parts["autocast_copies"] == parts["ddp_buckets"] == 0
    s, b, h, layers, vocab = 32, 4, 64, 2, inputs["vocab"]
    assert parts["activations"] == layers * 34 * s * b * h * 2
    assert parts["logits"] == b * s * vocab * 12

    adafactor = train(compose("plan=true", f"model.name_or_path={pretrained}", "+train.optim=adafactor"), Job())
    expected = 4 * sum(sum(p.shape[-2:]) if p.dim() >= 2 else p.numel() for p in trainable)
    assert adafactor["parts"]["optimizer"] == expected < parts["optimizer"] / 10


def test_lora_amp_and_checkpointing_shrink_the_right_parts(compose, pretrained):
    total, trainable = real_counts(pretrained, lora_r=4)
    n_trainable = sum(p.numel() for p in trainable)
    full = train(compose("plan=true", f"model.name_or_path={pretrained}"), Job())
    small = train(compose("plan=true", f"model.name_or_path={pretrained}", "peft=lora", "peft.r=4",
                          "train.fp16=true", "train.gradient_checkpointing=true"), Job())
    parts, inputs = small["parts"], small["inputs"]
    assert (inputs["trainable_params"], inputs["total_params"]) == (n_trainable, total)
    assert parts["weights"] == 4 * total  # fp32 master weights under fp16 autocast
    assert parts["gradients"] == 4 * n_trainable and parts["optimizer"] == 8 * n_trainable
    assert parts["autocast_copies"] == 2 * n_trainable
    s, b, h, a, layers = 32, 4, 64, 2, 2
    assert full["parts"]["activations"] == layers * 34 * s * b * h * 2  # fp32
    assert parts["activations"] == layers * 2 * s * b * h + 34 * s * b * h  # 16-bit, checkpointed
    assert small["total"] < full["total"] / 2
    layer = 34 * s * b * h + 5 * a * s * s * b  # eager attention stores its scores
    assert memplan.activation_bytes({**inputs, "attention": "eager"}) == layers * 2 * s * b * h + layer


def test_from_scratch_uses_the_configured_shape_without_a_tokenizer(compose):
    from transformers import AutoModelForCausalLM, GPT2Config

    estimate = memplan.estimate_memory(RunConfig.from_cfg(compose("plan=true")), None)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=64, n_positions=64, vocab_size=400)
    with torch.device("meta"):
        expected = sum(p.numel() for p in AutoModelForCausalLM.from_config(config).parameters())
    assert estimate["inputs"]["total_params"] == expected

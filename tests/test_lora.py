"""LoRA runs on a tiny "pretrained" GPT-2: what is trained, what is saved, and how versions chain."""

import json

import pytest
import torch

from harness.errors import UserError
from harness.runlog.reader import read_log
from harness.train import lora
from harness.train.config import PeftConfig
from harness.train.pipeline import Job, train

# c_attn is a Conv1D 64 -> 192: LoRA adds r*(64 + 192) per layer.
R = 4
ADAPTER_PARAMS = 2 * R * (64 + 3 * 64)


def lora_run(compose, *overrides):
    return train(compose(*overrides), Job(command="python run_clm.py " + " ".join(overrides)))


@pytest.mark.slow
def test_lora_trains_adapter_only_and_saves_it_and_merged(compose, workdir, pretrained):
    lora_run(compose, f"model.name_or_path={pretrained}", "peft=lora", f"peft.r={R}", "peft.save_merged=true",
             "version=l1")
    model_log = read_log(workdir / "logs" / "l1.log").sections["model"]
    assert model_log["trainable_params"] == ADAPTER_PARAMS
    assert model_log["total_params"] > 50 * ADAPTER_PARAMS
    assert (model_log["peft_method"], model_log["lora_r"], model_log["lora_alpha"]) == ("lora", R, 32)
    assert model_log["lora_target_modules"] == ["c_attn"]
    assert model_log["base_weights"] == str(pretrained.resolve())

    out = workdir / "outputs" / "l1"
    assert (out / "adapter_model.safetensors").is_file() and not (out / "model.safetensors").exists()
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == str(pretrained)

    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    base = AutoModelForCausalLM.from_pretrained(pretrained)
    merged = AutoModelForCausalLM.from_pretrained(out / "merged")
    ids = torch.arange(20).unsqueeze(0)
    with torch.no_grad():
        base_logits = base(ids).logits
        adapted = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(pretrained), out).eval()
        assert not torch.allclose(adapted(ids).logits, base_logits)  # the adapter learned something
        torch.testing.assert_close(merged(ids).logits, adapted(ids).logits, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
def test_chaining_continues_the_adapter_or_starts_from_merged_weights(compose, workdir, pretrained):
    short = "train.max_steps=2"
    lora_run(compose, f"model.name_or_path={pretrained}", "peft=lora", f"peft.r={R}", "version=a", short,
             "train.gradient_checkpointing=true")
    lora_run(compose, "init_from=a", "peft=lora", "peft.r=16", "version=b", short)
    log = read_log(workdir / "logs" / "b.log")
    continued = log.sections["model"]
    assert continued["peft_method"] == "lora" and continued["trainable_params"] == ADAPTER_PARAMS
    assert continued["adapter_from"] == str(workdir / "outputs" / "a")
    assert continued["base_weights"] == str(pretrained)
    assert "continues its adapter (r=4" in log.fields["warning"]

    lora_run(compose, "init_from=a", "merge=true", "version=full", short)
    full = read_log(workdir / "logs" / "full.log").sections["model"]
    assert full["peft_method"] == "none" and full["trainable_params"] == full["total_params"]
    assert (workdir / "outputs" / "full" / "model.safetensors").is_file()

    # A new adapter over merged weights: the merged base is saved so that the adapter can be loaded again.
    lora_run(compose, "init_from=a", "merge=true", "peft=lora", "peft.r=2", "version=new", short)
    fresh = read_log(workdir / "logs" / "new.log").sections["model"]
    assert fresh["lora_r"] == 2 and fresh["merged_from"] == str(workdir / "outputs" / "a")
    assert fresh["base_weights"] == str((workdir / "outputs" / "new" / "base").resolve())
    lora_run(compose, "init_from=new", "version=new2", short)
    assert read_log(workdir / "logs" / "new2.log").fields["status"] == "finished"


@pytest.mark.parametrize("overrides, message", [
    (["peft=lora"], "peft=lora adapts pretrained weights"),
    (["peft=lora", "peft.target_modules=[nope]", "PRETRAINED"], "nope not in the model; its linear layers are "
                                                                "c_attn, c_fc, c_proj"),
    (["init_from=PRETRAINED", "merge=true"], "not a LoRA adapter: drop merge=true"),
])
def test_lora_mistakes_are_user_errors_and_leave_no_log(compose, workdir, pretrained, overrides, message):
    overrides = [o.replace("PRETRAINED", str(pretrained)) if "=" in o else f"model.name_or_path={pretrained}"
                 for o in overrides]
    with pytest.raises(UserError, match=message):
        train(compose(*overrides))
    assert list((workdir / "logs").glob("*.log")) == []


def _meta_model(model_type: str, **sizes):
    from transformers import AutoConfig, AutoModelForCausalLM

    config = AutoConfig.for_model(model_type, vocab_size=128, **sizes)
    with torch.device("meta"):
        return AutoModelForCausalLM.from_config(config)


@pytest.mark.parametrize("model_type, sizes, expected", [
    ("gpt2", {"n_layer": 1, "n_embd": 32, "n_head": 2}, ["c_attn"]),
    ("gpt_neox", {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64},
     ["query_key_value"]),
    ("llama", {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64},
     ["q_proj", "k_proj", "v_proj", "o_proj"]),
])
def test_default_targets_exist_in_each_architecture(model_type, sizes, expected):
    from peft import get_peft_model

    model = _meta_model(model_type, **sizes)
    assert lora.target_modules(model, None) == expected
    peft_model = get_peft_model(model, lora.lora_config(model, PeftConfig(method="lora", r=2, alpha=4,
                                                                          dropout=0.0, target_modules=None)))
    trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
    assert 0 < trainable < sum(p.numel() for p in peft_model.parameters()) // 10


def test_unknown_architecture_lists_its_linear_layers():
    model = _meta_model("bloom", n_layer=1, hidden_size=32, n_head=2)
    with pytest.raises(UserError, match="no default LoRA targets for model_type 'bloom'.*"
                                        "dense, dense_4h_to_h, dense_h_to_4h, query_key_value"):
        lora.target_modules(model, None)


@pytest.mark.slow
def test_an_interrupted_lora_run_resumes_from_its_adapter_checkpoint(compose, workdir, pretrained, monkeypatch):
    from transformers import Trainer

    original, calls = Trainer.training_step, []

    def stop_after_five(self, *args, **kwargs):
        calls.append(1)
        if len(calls) > 5:
            raise KeyboardInterrupt()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Trainer, "training_step", stop_after_five)
    with pytest.raises(KeyboardInterrupt):
        lora_run(compose, f"model.name_or_path={pretrained}", "peft=lora", f"peft.r={R}", "version=r1")
    monkeypatch.setattr(Trainer, "training_step", original)
    assert (workdir / "outputs" / "r1" / "checkpoint-4" / "adapter_model.safetensors").is_file()
    train(compose("resume=r1"), Job(raw={"resume": "r1"}))
    log = read_log(workdir / "logs" / "r1.log")
    assert log.fields["status"] == "finished" and log.sections["model"]["trainable_params"] == ADAPTER_PARAMS
    assert (workdir / "outputs" / "r1" / "adapter_model.safetensors").is_file()

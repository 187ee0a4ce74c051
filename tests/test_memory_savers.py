"""Memory savers: each one override away, all together in +preset=low_vram, recorded in the log."""

import pytest

from harness.errors import UserError
from harness.runlog.reader import read_log
from harness.train import environment
from harness.train.config import validate
from harness.train.pipeline import Job, train


@pytest.mark.slow
def test_low_vram_preset_trains_on_cpu_and_is_recorded(compose, workdir, capsys):
    train(compose("+preset=low_vram", "+train.auto_find_batch_size=true", "train.max_steps=1", "version=low"),
          Job(command="python run_clm.py +preset=low_vram"))
    log = read_log(workdir / "logs" / "low.log")
    recorded = log.sections["config"]["train"]
    assert recorded["gradient_accumulation_steps"] == 8
    assert recorded["per_device_train_batch_size"] == 4  # an override after the preset wins
    assert recorded["gradient_checkpointing"] is True and recorded["optim"] == "adafactor"
    assert recorded["fp16"] is True and recorded["auto_find_batch_size"] is True
    assert log.sections["environment"]["precision"] == "fp32"  # no CUDA here: fp16 fell back, and says so
    assert "fp16 needs a CUDA GPU" in log.fields["warning"]
    assert log.fields["status"] == "finished"
    assert log.sections["summary"]["peak_memory_kind"] == "cpu_rss"
    assert log.sections["summary"]["peak_memory_mb"] > 50


@pytest.mark.slow
def test_bf16_autocast_runs_on_cpu(compose, workdir):
    train(compose("train.bf16=true", "train.max_steps=2", "version=bf"))
    log = read_log(workdir / "logs" / "bf.log")
    assert log.sections["environment"]["precision"] == "bf16 mixed (fp32 weights)"
    assert log.fields["status"] == "finished"


@pytest.mark.parametrize("overrides, message", [
    (["model.dtype=float16", "train.fp16=true"], "Attempting to unscale FP16 gradients"),
    (["+train.optim=adamw_bnb_8bit"], "train.optim=adamw_bnb_8bit needs the bitsandbytes package"),
    (["merge=true"], "merge=true merges the adapter of init_from"),
    (["peft=lora", "peft.r=0"], "peft.r must be > 0"),
    (["peft=lora", "peft.dropout=1.5"], "peft.dropout must be in [0, 1)"),
    (["peft=lora", "peft.bias=some"], "peft.bias must be one of none, all, lora_only"),
])
def test_bad_combinations_are_named(compose, overrides, message):
    with pytest.raises(UserError) as info:
        validate(compose(*overrides))
    assert message in str(info.value)


def test_lora_and_preset_configs_validate(compose):
    validate(compose("+preset=low_vram", "peft=lora", "peft.target_modules=[c_attn,c_proj]", tiny=False))


def test_peak_memory_reports_cuda_peaks_and_resets_them(monkeypatch):
    import torch

    calls = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda: 3 * 2**30)
    monkeypatch.setattr(torch.cuda, "max_memory_reserved", lambda: 4 * 2**30)
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda: calls.append("reset"))
    environment.reset_peak_memory()
    peak = environment.peak_memory()
    assert calls == ["reset"]
    assert (peak["peak_memory_mb"], peak["peak_memory_kind"], peak["cuda_peak_reserved_mb"]) == \
        (3072.0, "cuda_allocated", 4096.0)


def test_peak_memory_on_cpu_is_the_process_peak_rss():
    import resource

    peak = environment.peak_memory()
    assert peak["peak_memory_kind"] == "cpu_rss"
    assert peak["peak_memory_mb"] == pytest.approx(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, rel=0.05)

"""End-to-end runs in-process on the tiny model: what a run leaves behind, and how it fails."""

import pytest

from harness.errors import UserError
from harness.runlog.reader import read_log
from harness.train.pipeline import Job, train


@pytest.mark.slow
def test_tiny_run_writes_log_weights_and_metrics(compose, workdir):
    metrics = train(compose("version=0.1", "train.eval_strategy=steps", "+train.eval_steps=4"),
                    Job(command="python run_clm.py version=0.1"))
    assert metrics["version"] == "0.1"
    for key in ("train_loss", "train_runtime", "train_samples", "train_samples_per_second",
                "train_steps_per_second", "epoch", "eval_loss", "eval_accuracy", "perplexity",
                "eval_runtime", "eval_samples"):
        assert key in metrics, key
    assert metrics["perplexity"] == pytest.approx(2.718281828459045 ** metrics["eval_loss"])
    assert 0.0 <= metrics["eval_accuracy"] <= 1.0

    text = (workdir / "logs" / "0.1.log").read_text()
    log = read_log(workdir / "logs" / "0.1.log")
    assert log.fields["status"] == "finished" and log.fields["ended"]
    assert log.fields["command"] == "python run_clm.py version=0.1"
    assert log.sections["environment"]["precision"] == "fp32"
    assert log.sections["data"]["files"][0]["sha256"]
    assert log.sections["model"]["trainable_params"] > 0
    assert text.count("{'loss': ") == 4  # logging_steps=2 over 8 steps
    assert "'eval_loss': " in text
    assert "***** train metrics *****" in text and "***** eval metrics *****" in text

    from transformers import AutoModelForCausalLM, AutoTokenizer

    weights = workdir / "outputs" / "0.1"
    assert (weights / "model.safetensors").is_file()
    model = AutoModelForCausalLM.from_pretrained(weights)
    tokenizer = AutoTokenizer.from_pretrained(weights)
    assert model.config.n_layer == 2 and model.config.n_embd == 64
    assert model.config.vocab_size == len(tokenizer)


@pytest.mark.slow
def test_loss_falls(compose):
    metrics = train(compose("train.max_steps=30", "train.logging_steps=5"))
    text = (pytest.importorskip("pathlib").Path(metrics["weights"]).parent.parent / "logs" / f"{metrics['version']}.log").read_text()
    import ast

    losses = [ast.literal_eval(line)["loss"] for line in text.splitlines() if line.startswith("{'loss'")]
    assert losses[-1] < losses[0] - 0.5


@pytest.mark.slow
def test_next_free_version_and_fp16_on_cpu_falls_back(compose, workdir, capsys):
    first = train(compose())
    second = train(compose("train.fp16=true"))
    assert (first["version"], second["version"]) == ("1.0", "1.1")
    assert "fp16 needs a CUDA GPU" in capsys.readouterr().err
    log = read_log(workdir / "logs" / "1.1.log")
    assert log.sections["environment"]["precision"] == "fp32"
    assert "fp16 needs a CUDA GPU" in log.fields["warning"]


def test_bad_input_before_training_leaves_no_log(compose, workdir, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("too short\n")
    with pytest.raises(UserError, match="fewer than one block"):
        train(compose(f"data.train_file={short}", "data.validation_split_percentage=0"))
    assert list((workdir / "logs").glob("*.log")) == []
    assert not (workdir / "outputs" / "1.0").exists()


def test_crash_during_training_is_recorded(compose, workdir, monkeypatch):
    from transformers import Trainer

    def explode(self, *args, **kwargs):
        raise RuntimeError("CUDA out of memory (simulated)")

    monkeypatch.setattr(Trainer, "training_step", explode)
    with pytest.raises(RuntimeError):
        train(compose("version=boom"))
    log = read_log(workdir / "logs" / "boom.log")
    assert log.fields["status"] == "crashed"
    assert log.fields["error"] == "RuntimeError: CUDA out of memory (simulated)"
    assert "***** train metrics *****" not in (workdir / "logs" / "boom.log").read_text()


def test_interrupt_is_recorded(compose, workdir, monkeypatch):
    from transformers import Trainer

    monkeypatch.setattr(Trainer, "training_step", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        train(compose("version=stop"))
    assert read_log(workdir / "logs" / "stop.log").fields["status"] == "interrupted"


@pytest.mark.slow
def test_final_evaluation_reuses_the_one_at_the_last_step(compose, workdir, monkeypatch):
    from transformers import Trainer

    calls = []
    real = Trainer.evaluate
    monkeypatch.setattr(Trainer, "evaluate", lambda self, *a, **k: (calls.append(1), real(self, *a, **k))[1])
    metrics = train(compose("train.max_steps=-1", "train.num_train_epochs=1", "data.max_train_samples=16",
                            "train.eval_strategy=epoch"))
    assert len(calls) == 1
    text = (workdir / "logs" / f"{metrics['version']}.log").read_text()
    assert f"'eval_loss': {metrics['eval_loss']!r}" in text  # the periodic eval line is the final metric
    assert metrics["eval_samples"] > 0 and "eval_accuracy" in metrics

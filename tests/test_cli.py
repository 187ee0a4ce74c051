"""run_clm.py as a user types it: one clear line for bad input, no traceback, and a working sweep."""

import pytest

from tests.tiny import TINY


def _one_clear_line(result, *fragments):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    errors = lines
    for fragment in fragments:
        assert fragment in errors[0]


@pytest.mark.slow
@pytest.mark.parametrize("args, fragments", [
    (["train.learning_rate=abc"], ["train.learning_rate must be a number"]),
    (["train.learning_rate=-0.1"], ["train.learning_rate must be >= 0"]),
    (["train.no_such_knob=1"], ["no_such_knob"]),
    (["+train.no_such_knob=1"], ["train.no_such_knob is not a TrainingArguments field"]),
    (["data.train_file=/nonexistent/TestData.txt"], ["train file /nonexistent/TestData.txt does not exist"]),
    (["model.name_or_path=/nonexistent/model"], ["/nonexistent/model does not exist"]),
    (["model=gpt2"], ["'gpt2' is neither a local directory nor in the Hugging Face cache", "hf download gpt2"]),
    (["version=../evil"], ["not a safe name"]),
    (["model=gpt3"], ["Could not find 'model/gpt3'; available: gpt2, pretrained, pythia-70m, scratch, tiny"]),
    (["train.lerning_rate=1e-4"], ["did you mean train.learning_rate?"]),
])
def test_bad_input_is_one_line(run_cli, workdir, args, fragments):
    # As a user runs it: no offline switch, so a missing hub model must not turn into network retries. The hub
    # is a local port that refuses (port 1: nothing listens there), so the probe never leaves the machine.
    result = run_cli(*args, env={"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0", "HF_DATASETS_OFFLINE": "0",
                                 "HF_ENDPOINT": "http://127.0.0.1:1"})
    _one_clear_line(result, *fragments)
    assert not list((workdir / "logs").glob("*.log")) if (workdir / "logs").exists() else True


@pytest.mark.slow
def test_cfg_job_shows_resolved_config(run_cli):
    result = run_cli("--cfg", "job", "train.learning_rate=1e-4")
    assert result.returncode == 0
    assert "learning_rate: 0.0001" in result.stdout and "per_device_train_batch_size" in result.stdout


@pytest.mark.slow
def test_sweep_gives_each_job_its_own_version(run_cli, workdir, corpus):
    result = run_cli("-m", f"data.train_file={corpus}", *TINY, "train.max_steps=2", "train.learning_rate=1e-3,1e-4",
                     "note=lr sweep: which one, 1e-3 or 1e-4?")
    assert result.returncode == 0, result.stderr[-3000:]
    logs = sorted(p.name for p in (workdir / "logs").glob("*.log"))
    assert logs == ["1.0.log", "1.1.log"]
    texts = [(workdir / "logs" / name).read_text() for name in logs]
    assert "train.learning_rate=0.001" in texts[0] and "train.learning_rate=0.0001" in texts[1]
    assert all("status: finished" in t and "sweep: python run_clm.py -m" in t for t in texts)
    assert all("note: lr sweep: which one, 1e-3 or 1e-4?" in t for t in texts)


@pytest.mark.slow
def test_a_sweep_with_a_bad_job_starts_none(run_cli, workdir):
    result = run_cli("-m", "train.learning_rate=1e-3,-1,abc")
    _one_clear_line(result, "sweep of 3 jobs, none started", "job 1 (train.learning_rate=-1)",
                    "job 2 (train.learning_rate=abc)")
    assert not (workdir / "logs").exists() or not list((workdir / "logs").glob("*.log"))

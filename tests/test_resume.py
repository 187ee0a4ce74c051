"""Resume after a crash: a real subprocess killed with SIGKILL, resumed, equals an uninterrupted run."""

import os
import re
import signal
import subprocess
import sys
import time

import pytest
import torch
from safetensors.torch import load_file

from harness.runlog.reader import read_log
from tests.tiny import ROOT, TINY

# Logging and saving deliberately out of step, so the resume starts between two loss reports.
ARGS = [*TINY, "train.max_steps=60", "train.logging_steps=3", "train.save_steps=10"]
EXACT = ("train_loss", "epoch", "eval_loss", "eval_accuracy", "perplexity")


def _metrics(log_text: str) -> dict:
    values = {}
    for key in EXACT:
        match = re.search(rf"^  {key} +=\s+(\S+)$", log_text, re.MULTILINE)
        values[key] = match and match.group(1)
    return values


def _wait_for(predicate, process, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if process.poll() is not None:
            pytest.fail(f"the run ended (rc {process.returncode}) before it could be interrupted")
        time.sleep(0.02)
    pytest.fail("timed out waiting for the run")


def _start(workdir, cache_dir, corpus, *args):
    env = {**os.environ, "RUN_CLM_CACHE": str(cache_dir)}
    # A shell's background job (`pytest &`) ignores SIGINT, and children inherit that: give the run the default.
    return subprocess.Popen([sys.executable, str(ROOT / "run_clm.py"), f"data.train_file={corpus}", *args],
                            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.slow
def test_sigkill_then_resume_equals_uninterrupted_run(run_cli, workdir, cache_dir, corpus):
    reference = run_cli(f"data.train_file={corpus}", "version=ref", *ARGS)
    assert reference.returncode == 0, reference.stderr[-2000:]

    log_path = workdir / "logs" / "killed.log"
    process = _start(workdir, cache_dir, corpus, "version=killed", *ARGS)
    # Past the second checkpoint and between saves: the resume must replay steps 21..24 exactly.
    _wait_for(lambda: log_path.exists() and "'step': 24}" in log_path.read_text(), process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed = read_log(log_path)
    assert killed.fields["status"] == "running" and "ended" not in killed.fields

    resumed = run_cli("resume=killed")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    text = log_path.read_text()
    assert re.search(r"^resumed: \S+ from \S+checkpoint-(20|30)$", text, re.MULTILINE)
    assert read_log(log_path).fields["status"] == "finished"

    expected = _metrics((workdir / "logs" / "ref.log").read_text())
    assert all(expected.values()) and _metrics(text) == expected
    a = load_file(workdir / "outputs" / "ref" / "model.safetensors")
    b = load_file(workdir / "outputs" / "killed" / "model.safetensors")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_ctrl_c_leaves_interrupted_and_resume_refuses_finished_or_overridden(run_cli, workdir, cache_dir, corpus):
    log_path = workdir / "logs" / "cc.log"
    process = _start(workdir, cache_dir, corpus, "version=cc", *TINY, "train.max_steps=400", "train.save_steps=5")
    _wait_for(lambda: log_path.exists() and "'step': 12}" in log_path.read_text(), process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130 and "Traceback" not in stderr
    log = read_log(log_path)
    assert log.fields["status"] == "interrupted" and log.fields["ended"]

    refused = run_cli("resume=cc", "train.learning_rate=5")
    assert refused.returncode == 2 and "drop the other overrides" in refused.stderr
    missing = run_cli("resume=nope")
    assert missing.returncode == 2 and "there is no log" in missing.stderr


@pytest.mark.slow
def test_resume_refuses_a_run_that_is_still_running(compose, workdir):
    from harness.errors import UserError
    from harness.runlog.writer import RunLog
    from harness.train.pipeline import Job, train

    (workdir / "logs").mkdir()
    live = RunLog.create(workdir / "logs" / "live.log")  # this process holds it, as a live run would
    live.fields({"version": "live", "status": "running", "output_dir": str(workdir / "outputs" / "live")})
    with pytest.raises(UserError, match="still running"):
        train(compose("resume=live"), Job(raw={"resume": "live"}, overrides=["resume=live"]))
    live.close()


@pytest.mark.slow
def test_resume_without_a_complete_checkpoint_is_a_clear_error(compose, workdir):
    from harness.errors import UserError
    from harness.runlog.writer import RunLog
    from harness.train.pipeline import Job, train

    (workdir / "logs").mkdir()
    dead = RunLog.create(workdir / "logs" / "early.log")
    dead.fields({"version": "early", "status": "running", "output_dir": str(workdir / "outputs" / "early")})
    dead.section("config", {"note": ""})
    dead.close()
    (workdir / "outputs" / "early" / "checkpoint-5").mkdir(parents=True)  # half-written: no marker
    with pytest.raises(UserError, match="no complete checkpoint"):
        train(compose("resume=early"), Job(raw={"resume": "early"}, overrides=["resume=early"]))


@pytest.mark.slow
def test_resume_true_continues_the_named_version_with_the_command_line_config(compose, workdir, interrupt_at_step):
    from harness.train.pipeline import Job, train

    disarm = interrupt_at_step(6)
    with pytest.raises(KeyboardInterrupt):
        train(compose("version=rt"), Job(raw={"version": "rt"}))
    disarm()
    assert read_log(workdir / "logs" / "rt.log").fields["status"] == "interrupted"

    metrics = train(compose("version=rt", "resume=true"), Job(raw={"version": "rt", "resume": "true"},
                                                              overrides=["version=rt", "resume=true"]))
    log = read_log(workdir / "logs" / "rt.log")
    assert log.fields["status"] == "finished" and "checkpoint-4" in log.fields["resumed"]
    assert metrics["version"] == "rt" and metrics["epoch"] > 0

"""reproduce: a tiny run re-run from its log reproduces exactly; changed data refuses; a changed seed diverges."""

import os
import shutil
import subprocess
import sys

import pytest

from harness.errors import UserError
from harness.rerun.reproduce import reproduce
from harness.runlog.reader import read_log
from harness.train.pipeline import Job, train
from tests.tiny import ROOT


@pytest.fixture
def logged(compose, workdir):
    def _train(version, *overrides):
        raw = {"version": version, **{k: v for k, _, v in (o.partition("=") for o in overrides) if k == "init_from"}}
        train(compose(f"version={version}", "train.eval_strategy=steps", "+train.eval_steps=4", *overrides),
              Job(raw=raw))
        return workdir / "logs"

    return _train


@pytest.mark.slow
def test_round_trip_reproduces_exactly(logged, workdir):
    logs = logged("0.1")
    (outcome,) = reproduce("0.1", logs)
    assert outcome.rerun == "0.1-r1" and outcome.reproduced, [r for r in outcome.rows if not r.ok]
    keys = {row.key for row in outcome.rows}
    assert {"train_loss", "eval_loss", "eval_accuracy", "perplexity"} <= keys
    assert not any("runtime" in key for key in keys)
    rerun = read_log(logs / "0.1-r1.log")
    assert rerun.fields["status"] == "finished"
    assert rerun.fields["note"] == "reproduction of 0.1"
    assert rerun.fields["command"] == "python -m harness reproduce 0.1"


@pytest.mark.slow
def test_edited_data_refuses_unless_forced(logged, corpus):
    logs = logged("0.2")
    corpus.write_text(corpus.read_text() + "\nedited after the run\n")
    with pytest.raises(UserError, match=r"train file .* changed since the run \(sha256 was"):
        reproduce("0.2", logs)
    assert not (logs / "0.2-r1.log").exists()
    (outcome,) = reproduce("0.2", logs, force=True)
    assert outcome.forced and "--force: train file" in read_log(logs / "0.2-r1.log").fields["note"]


@pytest.mark.slow
def test_changed_seed_diverges_and_cli_says_so(logged, workdir, cache_dir):
    logs = logged("0.3")
    result = subprocess.run([sys.executable, "-m", "harness", "reproduce", "0.3", "--logs-dir", str(logs),
                             "--set", "train.seed=7"], cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, "COLUMNS": "160"}, timeout=300)
    assert result.returncode == 1, result.stderr[-2000:]
    assert "DIVERGED" in result.stdout and "train_loss" in result.stdout
    assert "environment: identical" in result.stdout
    assert "changed: train.seed=7" in read_log(logs / "0.3-r1.log").fields["note"]


@pytest.mark.slow
def test_missing_parent_weights_need_chain(logged, workdir):
    logs = logged("3.4")
    logged("3.5", "init_from=3.4")
    shutil.rmtree(workdir / "outputs" / "3.4")
    with pytest.raises(UserError, match="weights of its parent 3.4 were deleted .*--chain"):
        reproduce("3.5", logs)
    outcomes = reproduce("3.5", logs, chain=True)
    assert [(o.version, o.rerun, o.reproduced) for o in outcomes] == [("3.4", "3.4-r1", True), ("3.5", "3.5-r1", True)]
    assert read_log(logs / "3.5-r1.log").fields["parent"] == "3.4-r1"


@pytest.mark.slow
def test_unfinished_or_unknown_versions_are_clear(workdir):
    (workdir / "logs").mkdir()
    with pytest.raises(UserError, match="no log for version 9.9"):
        reproduce("9.9", workdir / "logs")
    (workdir / "logs" / "dead.log").write_text("#### run_clm.py log (format 1) ####\n----- config -----\n  note: x\n"
                                               "status: running\n")
    with pytest.raises(UserError, match="did not finish"):
        reproduce("dead", workdir / "logs")

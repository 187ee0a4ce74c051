"""Fine-tunes chained from earlier versions: init_from a version, a checkpoint, or a directory."""

import shutil

import pytest

from harness.errors import UserError
from harness.runlog.reader import read_log
from harness.train.pipeline import Job, train

ONE_EPOCH = ("train.max_steps=-1", "train.num_train_epochs=1", "data.max_train_samples=16")


def _run(compose, *overrides):
    raw = {k: v for k, _, v in (o.partition("=") for o in overrides) if k in ("version", "init_from")}
    return train(compose(*ONE_EPOCH, *overrides), Job(raw=raw, overrides=list(overrides)))


@pytest.mark.slow
def test_chain_of_three_records_parents_and_cumulative_epochs(compose, workdir):
    first = _run(compose, "version=3.4", "train.learning_rate=1e-3")
    second = _run(compose, "version=3.5", "init_from=3.4", "train.learning_rate=1e-4")
    third = _run(compose, "version=3.6", "init_from=3.5", "train.learning_rate=1e-5")
    logs = {v: read_log(workdir / "logs" / f"{v}.log") for v in ("3.4", "3.5", "3.6")}
    assert [logs[v].fields["parent"] for v in ("3.4", "3.5", "3.6")] == ["", "3.4", "3.5"]
    assert [logs[v].sections["summary"]["cumulative_epochs"] for v in ("3.4", "3.5", "3.6")] == [1.0, 2.0, 3.0]
    assert logs["3.6"].sections["model"]["init_weights"] == str(workdir / "outputs" / "3.5")
    # A fresh optimizer and schedule, but the parent's weights: the child starts where the parent ended.
    assert second["train_loss"] < first["train_loss"] and third["train_loss"] < first["train_loss"]


@pytest.mark.slow
def test_init_from_a_checkpoint_path_or_its_directory(compose, workdir):
    _run(compose, "version=base", "train.save_steps=2")
    checkpoint = workdir / "outputs" / "base" / "checkpoint-4"
    assert checkpoint.is_dir()
    _run(compose, "version=from-ckpt", f"init_from={checkpoint}")
    assert read_log(workdir / "logs" / "from-ckpt.log").fields["parent"] == str(checkpoint)
    (workdir / "only-ckpts").mkdir()
    shutil.copytree(checkpoint, workdir / "only-ckpts" / "checkpoint-4")
    _run(compose, "version=from-dir", f"init_from={workdir / 'only-ckpts'}")
    assert read_log(workdir / "logs" / "from-dir.log").fields["parent"].endswith("only-ckpts/checkpoint-4")


@pytest.mark.slow
def test_chaining_from_a_bad_parent_is_a_clear_error(compose, workdir):
    with pytest.raises(UserError, match="neither a version in .* nor a directory"):
        _run(compose, "version=x1", "init_from=9.9")
    _run(compose, "version=gone")
    shutil.rmtree(workdir / "outputs" / "gone")
    with pytest.raises(UserError, match="weights in .* were deleted"):
        _run(compose, "version=x2", "init_from=gone")
    (workdir / "logs" / "dead.log").write_text(
        "#### run_clm.py log (format 1) ####\nversion: dead\nstatus: running\nerror: x\nstatus: crashed\n")
    with pytest.raises(UserError, match="its status is crashed"):
        _run(compose, "version=x3", "init_from=dead")
    assert not any((workdir / "logs" / f"x{i}.log").exists() for i in (1, 2, 3))


@pytest.mark.slow
def test_a_resumed_child_keeps_its_parents_epochs(compose, workdir, interrupt_at_step):
    _run(compose, "version=p1")
    disarm = interrupt_at_step(3)
    with pytest.raises(KeyboardInterrupt):
        _run(compose, "version=c1", "init_from=p1", "train.save_steps=2")
    disarm()
    train(compose(*ONE_EPOCH, "resume=c1"), Job(raw={"resume": "c1"}, overrides=["resume=c1"]))
    summary = read_log(workdir / "logs" / "c1.log").sections["summary"]
    assert (summary["parent_epochs"], summary["cumulative_epochs"]) == (1.0, 2.0)

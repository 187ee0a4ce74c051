"""One log format, both sides: what run_clm.py writes is what the harness parser reads back."""

import re
from pathlib import Path

import pytest

from harness.compare.load import load_runs
from harness.compare.readers.runlog import to_run
from harness.compare.table import build_table
from harness.runlog.reader import latest_per_step, parse, read_log
from harness.train.pipeline import Job, train


@pytest.mark.slow
def test_real_chained_runs_parse_back_exactly(compose, workdir):
    for version, extra in (("3.4", []), ("3.5", ["init_from=3.4"])):
        train(compose(f"version={version}", "train.eval_strategy=steps", "+train.eval_steps=4",
                      "note='lr test: dóes it help?'", *extra),
              Job(command=f"python run_clm.py version={version}", raw={"version": version,
                                                                        **({"init_from": "3.4"} if extra else {})}))
    runs, warnings = load_runs([str(workdir / "logs")])
    assert warnings == []
    by_version = {run.version: run for run in runs}
    assert set(by_version) == {"3.4", "3.5"}
    child = by_version["3.5"]
    written = read_log(workdir / "logs" / "3.5.log")
    assert child.parent == "3.4" and child.status == "finished"
    assert child.notes == "lr test: dóes it help?"
    assert child.train_metrics["train_loss"] == written.metrics["train"]["train_loss"]
    assert child.eval_metrics["eval_loss"] == written.metrics["eval"]["eval_loss"]
    assert child.summary["peak_memory_mb"] == written.sections["summary"]["peak_memory_mb"]
    assert child.hyperparameters["precision"] == "fp32"
    assert child.cumulative_epochs == written.sections["summary"]["cumulative_epochs"]
    assert [h["step"] for h in child.history if "loss" in h] == [2, 4, 6, 8]
    assert [h["step"] for h in child.history if "eval_loss" in h] == [4, 8]
    table = build_table(runs)
    assert [row["version"] for row in table.rows] == ["3.4", "3.5"]
    assert table.rows[1]["parent"] == "3.4" and table.rows[1]["model"] == "gpt2 (scratch)"


def test_resumed_steps_keep_the_later_line():
    history = [{"loss": 1.0, "step": 3}, {"loss": 2.0, "step": 6}, {"eval_loss": 5.0, "step": 6},
               {"loss": 2.5, "step": 6}, {"loss": 3.0, "step": 9}, {"loss": 9.0}]
    assert latest_per_step(history) == [{"loss": 1.0, "step": 3}, {"loss": 2.5, "step": 6},
                                        {"eval_loss": 5.0, "step": 6}, {"loss": 3.0, "step": 9}, {"loss": 9.0}]


def _documented_example() -> str:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "LOG_FORMAT.md").read_text(encoding="utf-8")
    return re.search(r"## Example\n\n```\n(.*?)```", doc, re.S).group(1)


def _agree(log, run) -> None:
    """The raw view (resume, reproduce) and the typed view (tables) give the same values."""
    assert run.parent == log.parent and run.status == log.fields.get("status")
    assert run.train_metrics == log.metrics.get("train", {})
    assert all(run.eval_metrics[k] == v for k, v in log.metrics.get("eval", {}).items())
    for name in ("config", "environment", "data", "model", "summary"):
        assert getattr(run, name) == (log.sections.get(name) or {})
    assert run.commands == log.lists.get("command", []) and run.history == log.history


def test_documented_example_reads_the_same_on_both_sides():
    log = parse("example.log", _documented_example())
    run = to_run(log, "example")
    assert log.parent == "3.4" and run.parent == "3.4"
    assert log.metrics["train"]["train_runtime"] == pytest.approx(31.12)  # seconds on both sides, not text
    assert log.metrics["train"]["total_flos"] == 12
    _agree(log, run)


def test_an_empty_parent_is_none_on_both_sides():
    log = parse("x.log", "#### run_clm.py log (format 1) ####\nversion: 1.0\nparent: \nstatus: finished\n")
    assert log.parent is None and to_run(log, "x").parent is None


@pytest.mark.slow
def test_a_real_run_reads_the_same_on_both_sides(real_runs):
    for path in sorted((real_runs / "logs").glob("*.log")):
        log = read_log(path)
        _agree(log, to_run(log, path.stem))

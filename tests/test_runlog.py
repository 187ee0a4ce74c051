"""The writer's side of docs/LOG_FORMAT.md (the parser's side is tests/test_logparse.py)."""

import re

from harness.runlog.format import MAGIC
from harness.runlog.reader import read_log
from harness.runlog.writer import RunLog, format_metrics_block


def test_writer_produces_the_documented_line_kinds(tmp_path):
    path = tmp_path / "3.4.log"
    log = RunLog.create(path)
    log.fields({"version": "3.4", "parent": "3.3", "status": "running"})
    log.field("note", "first line\nsecond line")
    log.section("config", {"train": {"learning_rate": 1e-4}, "note": "----- not a marker -----"})
    log.section("training")
    log.periodic({"loss": 2.5111, "epoch": 0.37, "step": 10})
    log.metrics("train", {"train_loss": 2.25, "train_runtime": 201.77, "total_flos": 1084 * 2**30, "epoch": 3.0})
    log.status("finished")
    log.close()
    lines = path.read_text().splitlines()
    assert lines[0] == MAGIC
    assert "note: first line" in lines and "note: second line" in lines
    assert "    learning_rate: 0.0001" in lines
    assert "  note: '----- not a marker -----'" in lines  # body lines are indented, never mistaken for markers
    assert "{'loss': 2.5111, 'epoch': 0.37, 'step': 10}" in lines
    assert lines[-1] == "status: finished"
    block = lines[lines.index("***** train metrics *****") + 1:-1]
    assert all(re.fullmatch(r"  \w+ +=  *\S+", line) for line in block)
    assert "  train_runtime = 0:03:21.77" in block


def test_read_log_round_trip_last_field_wins_and_sections_merge(tmp_path):
    path = tmp_path / "v.log"
    log = RunLog.create(path)
    log.fields({"version": "v", "status": "running", "output_dir": "outputs/v"})
    log.section("summary", {"epochs": 1.0, "weights": "outputs/v"})
    log.status("interrupted")
    log.field("resumed", "now from outputs/v/checkpoint-4")
    log.section("summary", {"epochs": 2.0})
    log.status("finished")
    log.close()
    parsed = read_log(path)
    assert parsed.fields["status"] == "finished"
    assert parsed.fields["output_dir"] == "outputs/v"
    assert parsed.sections["summary"] == {"epochs": 2.0, "weights": "outputs/v"}


def test_metrics_block_matches_trainer_layout():
    block = format_metrics_block("eval", {"eval_loss": 1.9482, "eval_samples": 50, "perplexity": 7.0158})
    assert block.splitlines() == [
        "***** eval metrics *****",
        "  eval_loss    = 1.9482",
        "  eval_samples =     50",
        "  perplexity   = 7.0158",
    ]


def test_every_write_reaches_the_file_before_close(tmp_path):
    path = tmp_path / "live.log"
    log = RunLog.create(path)
    log.periodic({"loss": 1.0, "step": 1})
    assert path.read_text().splitlines()[-1] == "{'loss': 1.0, 'step': 1}"
    log.close()


def test_read_log_returns_metrics_blocks_exactly(tmp_path):
    path = tmp_path / "m.log"
    log = RunLog.create(path)
    log.metrics("train", {"train_loss": 6.123456001281738, "train_runtime": 31.12, "train_samples": 940})
    log.metrics("eval", {"eval_loss": 5.432100296020508, "perplexity": 228.61224212356323})
    log.status("finished")
    log.close()
    metrics = read_log(path).metrics
    assert metrics["train"] == {"train_loss": 6.123456001281738, "train_runtime": 31.12, "train_samples": 940}
    assert metrics["eval"]["eval_loss"] == 5.432100296020508

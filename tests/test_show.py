"""`harness show`: one version in full: notes, lineage, metrics, summary, data, environment, samples."""

import json
import shutil

import logfixtures as F
import pytest
import yaml

from harness.compare.load import load_runs
from tests.tiny import run_command


def _show(capsys, *args):
    return run_command(capsys, "show", *args)


@pytest.mark.slow
def test_real_chain_text_and_json(real_runs, capsys):
    logs = str(real_runs / "logs")
    code, out, err = _show(capsys, "3.5", "--logs-dir", logs, "--format", "text")
    assert code == 0, err
    assert out.startswith("version 3.5\n")
    assert "lower lr: does a long tail help?" in out
    assert "chain:     3.4 -> 3.5" in out
    assert "learning_rate:" in out and "0.0005" in out
    assert "eval_loss:" in out and "perplexity:" in out and "train_runtime:" in out
    assert "[present]" in out and "peak memory:" in out
    assert "prompt:  def main():" in out and "sha256 " in out and "transformers:" in out

    code, out, _ = _show(capsys, "3.4", "--logs-dir", logs, "--format", "text")
    assert "children:  3.5" in out

    code, out, _ = _show(capsys, "3.5", "--logs-dir", logs, "--format", "json")
    doc = json.loads(out)
    (run,) = [r for r in load_runs([logs])[0] if r.version == "3.5"]
    assert doc["version"] == "3.5" and doc["parent"] == "3.4" and doc["status"] == "finished"
    assert doc["notes"] == run.notes == "lower lr: does a long tail help?"
    assert doc["eval_metrics"] == run.eval_metrics and doc["train_metrics"] == run.train_metrics
    assert doc["config"] == run.config and doc["environment"] == run.environment
    assert doc["hyperparameters"] == run.hyperparameters and doc["samples"] == run.samples
    assert doc["lineage"] == {"ancestors": [{"version": "3.4", "found": True, "status": "finished"}],
                              "children": []}
    assert doc["weights"]["exists"] is True and doc["cumulative_epochs"] == pytest.approx(run.cumulative_epochs)

    code, out, _ = _show(capsys, "3.5", "--logs-dir", logs, "--config")
    assert code == 0 and yaml.safe_load(out) == run.config

    code, out, _ = _show(capsys, "3.5", "--logs-dir", logs, "--format", "markdown")
    assert out.startswith("## Version 3.5\n") and "### Lineage" in out and "| chain | 3.4 -> 3.5 |" in out

    code, out, _ = _show(capsys, "3.5", "--logs-dir", logs)  # rich, piped
    assert code == 0 and "lower lr" in out and "3.4 -> 3.5" in out


@pytest.fixture
def inputs(tmp_path):
    F.write(tmp_path / "logs" / "3.4.log", F.runlog(version="3.4", parent=None, cumulative=3.0))
    F.write(tmp_path / "logs" / "3.5.log", F.runlog(status="crashed"))
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    F.write(tmp_path / "hf" / "run.txt", F.HF4_STDOUT)
    return tmp_path


def test_fixture_logs_missing_weights_and_errors(inputs, capsys, monkeypatch):
    monkeypatch.chdir(inputs)
    code, out, err = _show(capsys, "3.5", "--format", "text")  # default logs/ in the project directory
    assert code == 0, err
    assert "status:   crashed" in out
    assert "outputs/3.5 [missing: deleted or moved]" in out
    assert "error: RuntimeError: CUDA out of memory" in out
    assert "train:         /home/me/TestData.txt (460123 bytes, sha256 9f86d0aa)" in out
    assert "total_flos:                12 GF" in out


def test_notebook_and_trainer_stdout(inputs, capsys):
    logs = str(inputs / "logs")
    code, out, err = _show(capsys, "2.3", "--logs-dir", logs, "--from", str(inputs / "notebook.txt"),
                           "--format", "text")
    assert code == 0, err
    assert "chain:     2.1 -> 2.2 -> 2.3" in out
    assert "Oops: evaluated on the training file itself." in out
    assert "remark: evaluation file is the training file" in out
    assert "(notebook)" in out and "weights" not in out

    code, out, err = _show(capsys, str(inputs / "hf" / "run.txt"), "--logs-dir", logs, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["version"] == "run" and doc["source_kind"] == "trainer_stdout"
    assert doc["eval_metrics"]["eval_loss"] == pytest.approx(2.1234) and doc["history_points"] >= 3

    code, _, err = _show(capsys, "2.3", "--logs-dir", logs, "--from", str(inputs / "notebook.txt"), "--config")
    assert code == 2 and "records no resolved config" in err

    code, _, err = _show(capsys, "2.30", "--logs-dir", logs, "--from", str(inputs / "notebook.txt"))
    assert code == 2 and "unknown version 2.30" in err and "2.3" in err

    code, _, err = _show(capsys, str(inputs / "notebook.txt"), "--logs-dir", logs)
    assert code == 2 and "holds several versions" in err


def test_no_logs_directory_is_one_clear_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = _show(capsys, "3.4")
    assert code == 2 and out == "" and err.startswith("error: no logs/ directory here")


@pytest.mark.slow
def test_weights_found_relative_to_the_project(real_runs, tmp_path, capsys):
    """A log's relative `weights:` path is looked up next to its logs directory, wherever one runs from."""
    copy = tmp_path / "project"
    shutil.copytree(real_runs / "logs", copy / "logs")
    text = (copy / "logs" / "3.4.log").read_text().replace(str(real_runs) + "/", "")
    (copy / "logs" / "3.4.log").write_text(text)
    code, out, _ = _show(capsys, "3.4", "--logs-dir", str(copy / "logs"), "--format", "json")
    assert json.loads(out)["weights"] == {"path": "outputs/3.4", "exists": False}
    shutil.copytree(real_runs / "outputs" / "3.4", copy / "outputs" / "3.4")
    code, out, _ = _show(capsys, "3.4", "--logs-dir", str(copy / "logs"), "--format", "json")
    assert json.loads(out)["weights"] == {"path": "outputs/3.4", "exists": True}

"""`harness diff`: only the config keys that differ, environment and data differences, metric deltas."""

import json

import logfixtures as F
import pytest

from tests.tiny import run_command


def _diff(capsys, *args):
    return run_command(capsys, "diff", *args)


@pytest.mark.slow
def test_real_runs_differing_in_learning_rate(real_runs, capsys):
    logs = str(real_runs / "logs")
    code, out, err = _diff(capsys, "3.3", "3.4", "--logs-dir", logs, "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["sections"]["config"] == [{"key": "train.learning_rate", "a": 0.001, "b": 0.002}]
    assert doc["sections"]["environment"] == []
    rows = {row["metric"]: row for row in doc["metrics"]}
    assert {"train_loss", "eval_loss", "eval_accuracy", "perplexity"} <= set(rows)
    eval_loss = rows["eval_loss"]
    assert eval_loss["delta"] == pytest.approx(eval_loss["b"] - eval_loss["a"])
    assert eval_loss["relative"] == pytest.approx((eval_loss["b"] - eval_loss["a"]) / eval_loss["a"])
    assert eval_loss["better"] == ("b" if eval_loss["b"] < eval_loss["a"] else "a")

    code, out, _ = _diff(capsys, "3.3", "3.4", "--logs-dir", logs, "--format", "text")
    assert code == 0
    config = out.split("config:")[1].split("\n", 1)[1]
    config_rows = config.split("environment:")[0].strip().splitlines()
    assert config_rows[0].split() == ["key", "3.3", "3.4"]
    assert [r.split()[0] for r in config_rows[1:]] == ["train.learning_rate"]
    assert "(1 of " in out and "environment: identical" in out
    for unchanged in ("per_device_train_batch_size", "num_train_epochs", "train.seed", "model.model_type"):
        assert unchanged not in out
    metric_line = next(line for line in out.splitlines() if line.strip().startswith("eval_loss"))
    assert "%" in metric_line and ("better" in metric_line or "worse" in metric_line)
    assert len(out.splitlines()) < 40  # one screen

    code, out, _ = _diff(capsys, "3.4", "3.5", "--logs-dir", logs)  # rich, piped: no colour codes
    assert code == 0 and "init_from" in out and "train.learning_rate" in out and "\x1b[" not in out


@pytest.fixture
def logs(tmp_path):
    F.write(tmp_path / "logs" / "3.4.log", F.runlog(version="3.4", parent=None, lr="1.0e-04", eval_loss=5.5,
                                                    eval_accuracy=0.2))
    text = F.runlog(eval_loss=5.0, eval_accuracy=0.25, train_sha="ffff0000")
    F.write(tmp_path / "logs" / "3.5.log", text.replace("torch: 2.13.0+cpu", "torch: 2.14.0+cu128"))
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    return tmp_path


def test_environment_data_and_direction_of_metrics(logs, capsys):
    code, out, err = _diff(capsys, "3.4", "3.5", "--logs-dir", str(logs / "logs"), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert {r["key"] for r in doc["sections"]["config"]} == {"init_from", "model.name_or_path",
                                                           "train.learning_rate"}
    assert doc["sections"]["environment"] == [{"key": "torch", "a": "2.13.0+cpu", "b": "2.14.0+cu128"}]
    assert doc["sections"]["data"] == [{"key": "train.sha256", "a": "9f86d0aa", "b": "ffff0000"}]
    rows = {row["metric"]: row for row in doc["metrics"]}
    assert rows["eval_loss"]["delta"] == pytest.approx(-0.5) and rows["eval_loss"]["better"] == "b"
    assert rows["eval_accuracy"]["delta"] == pytest.approx(0.05) and rows["eval_accuracy"]["better"] == "b"
    assert rows["train_loss"]["better"] is None  # equal
    assert rows["train_runtime"]["better"] is None and rows["train_runtime"]["direction"] is None

    code, out, _ = _diff(capsys, "3.5", "3.4", "--logs-dir", str(logs / "logs"), "--format", "text")
    assert "torch" in out and "2.14.0+cu128" in out and "train.sha256" in out
    line = next(line for line in out.splitlines() if line.strip().startswith("eval_accuracy"))
    assert line.split()[-1] == "worse" and "-0.0500" in line and "-20.0%" in line


def test_notebook_versions_compare_hyperparameters(logs, capsys):
    code, out, err = _diff(capsys, "2.6", "2.7", "--logs-dir", str(logs / "logs"), "--from",
                           str(logs / "notebook.txt"), "--format", "text")
    assert code == 0, err
    assert "config: not compared (neither records it)" in out
    hyper = out.split("hyper-parameters:")[1].split("environment:")[0]
    assert "learning_rate" in hyper and "2e-05" in hyper and "3e-05" in hyper
    assert "per_device_train_batch_size" not in hyper  # 4 and 4
    assert "Slightly worse than 2.6" in out  # notes differ
    line = next(line for line in out.splitlines() if line.strip().startswith("eval_loss"))
    assert line.split()[-1] == "worse"


def test_unknown_and_ambiguous_versions(logs, capsys):
    code, _, err = _diff(capsys, "3.4", "3.55", "--logs-dir", str(logs / "logs"))
    assert code == 2 and err.count("\n") == 1
    assert "unknown version 3.55" in err and "did you mean 3.5" in err
    # the same version twice with different numbers: the run log wins, else the user must narrow it
    F.write(logs / "logs" / "2.6.log", F.runlog(version="2.6", parent=None, eval_loss=9.0))
    code, out, err = _diff(capsys, "2.6", "2.7", "--logs-dir", str(logs / "logs"), "--from",
                           str(logs / "notebook.txt"), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["a"]["source_kind"] == "runlog"
    F.write(logs / "other.txt", F.NOTEBOOK.replace("eval_loss               =     2.7500", "eval_loss = 1.0"))
    code, _, err = _diff(capsys, "2.6", "2.7", str(logs / "notebook.txt"), str(logs / "other.txt"),
                         "--logs-dir", str(logs / "logs"))
    assert code == 2 and "2.7 appears 2 times" in err and "narrow" in err
    code, _, err = _diff(capsys, "3.4", "3.4", "--logs-dir", str(logs / "logs"))
    assert code == 2 and "same run" in err
    code, _, err = _diff(capsys, "3.4", "3.5", "--logs-dir", str(logs / "nope"))
    assert code == 2 and "no such logs directory" in err


def test_a_path_stands_for_its_one_run(logs, capsys):
    F.trainer_dir(logs / "out" / "exp-a", eval_loss=2.5)
    code, out, err = _diff(capsys, "3.4", str(logs / "out" / "exp-a" / "trainer_state.json"),
                           "--logs-dir", str(logs / "logs"), "--format", "json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["b"]["version"] == "exp-a" and doc["b"]["source_kind"] == "trainer_json"
    assert doc["sections"]["config"] is None and doc["missing"]["config"] == "only 3.4 records it"
    rows = {row["metric"]: row for row in doc["metrics"]}
    assert rows["eval_loss"]["a"] == 5.5 and rows["eval_loss"]["b"] == 2.5 and rows["eval_loss"]["better"] == "b"

"""`harness plot --x NAME --y METRIC[,METRIC]`: final metrics against a hyper-parameter, one point per version."""

import logfixtures as F
import pytest

from harness.cli.main import main
from harness.compare import knobs
from harness.compare.load import load_runs
from tests.test_plot import assert_picture


@pytest.fixture
def lr_sweep(tmp_path):
    """Four versions of a learning-rate sweep; 4.3 also records a LoRA rank in its model section."""
    for version, lr, loss in (("4.1", "1.0e-05", 6.5), ("4.2", "1.0e-04", 5.5), ("4.3", "1.0e-03", 5.0),
                              ("4.4", "1.0e-02", 7.5)):
        text = F.runlog(version=version, parent=None, lr=lr, eval_loss=loss, train_loss=loss + 0.25)
        if version == "4.3":
            text = text.replace("----- model -----\n", "----- model -----\n  lora_r: 8\n")
        F.write(tmp_path / "logs" / f"{version}.log", text)
    return tmp_path


def _plot(capsys, *args):
    code = main(["plot", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_plan_points_log_axis_and_names(lr_sweep):
    runs, _ = load_runs([str(lr_sweep / "logs")])
    drawn = knobs.plan(runs, "learning_rate", ["eval_loss", "train_runtime"])
    assert drawn.log_x and not drawn.warnings
    assert drawn.panels[0].points == [(1e-5, 6.5, "4.1"), (1e-4, 5.5, "4.2"), (1e-3, 5.0, "4.3"), (1e-2, 7.5, "4.4")]
    assert [y for _, y, _ in drawn.panels[1].points] == [31.12] * 4  # Trainer's name, though the column is `runtime`
    by_rank = knobs.plan(runs, "lora_r", ["train_loss"])
    assert by_rank.panels[0].points == [(8.0, 5.25, "4.3")] and not by_rank.log_x
    assert by_rank.warnings == ["no lora_r for 4.1, 4.2, 4.4; left out"]
    assert knobs.plan(runs, "train.learning_rate", ["eval_loss"], log_x=False).log_x is False


def test_cli_writes_png(lr_sweep, capsys):
    out = lr_sweep / "sweep.png"
    code, stdout, err = _plot(capsys, "--logs-dir", str(lr_sweep / "logs"), "--x", "learning_rate",
                              "--y", "eval_loss,train_runtime", "--out", str(out), "--width", "900", "--height", "400")
    assert code == 0, err
    assert stdout.strip() == f"wrote {out} (4 versions, eval_loss, train_runtime vs learning_rate, log x)"
    assert_picture(out, 900, 400)


def test_cli_bad_names_are_one_line(lr_sweep, capsys):
    logs = ["--logs-dir", str(lr_sweep / "logs"), "--out", str(lr_sweep / "x.png")]
    code, _, err = _plot(capsys, *logs, "--x", "lora_alpha", "--y", "eval_loss")
    assert code == 2 and err.count("\n") == 1 and "no run records a number for --x lora_alpha" in err
    assert "learning_rate" in err  # names what does vary
    code, _, err = _plot(capsys, *logs, "--x", "learning_rate", "--y", "eval_bleu")
    assert code == 2 and err.count("\n") == 1 and "--y eval_bleu" in err
    code, out, _ = _plot(capsys, *logs, "--x", "learning_rate")  # no --y: --metric's final value, loss = eval_loss
    assert code == 0 and "eval_loss vs learning_rate" in out
    (lr_sweep / "x.png").unlink()
    code, _, err = _plot(capsys, *logs, "--x", "learning_rate", "--y", " , ")
    assert code == 2 and "--y needs" in err
    assert not (lr_sweep / "x.png").exists()

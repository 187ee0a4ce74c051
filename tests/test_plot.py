"""`harness plot`: a PNG of the chosen size that is not blank, from run logs, notebooks and Trainer stdout."""

import subprocess
import sys

import logfixtures as F
import numpy as np
import pytest
from PIL import Image

from harness.cli.main import main
from harness.cli.plot import label, plan, short_number
from harness.compare import lookup
from harness.compare.load import load_runs
from tests.tiny import ROOT


def _plot(capsys, *args):
    code = main(["plot", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_picture(path, width, height):
    """The PNG has exactly the pixel size asked for, and something is drawn on it."""
    with Image.open(path) as image:
        assert image.format == "PNG" and image.size == (width, height)
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert pixels.std() > 10
    not_white = (pixels.min(axis=2) < 200).mean()
    assert 0.01 < not_white < 0.9
    colourful = (pixels.max(axis=2) - pixels.min(axis=2) > 60).mean()  # the curves, not just black axes
    assert colourful > 0.0005


@pytest.mark.slow
def test_real_runs_png_size_and_content(real_runs, tmp_path, capsys):
    out = tmp_path / "figs" / "loss.png"
    code, stdout, err = _plot(capsys, "3.3", "3.4", "3.5", "--logs-dir", str(real_runs / "logs"),
                              "--out", str(out), "--width", "640", "--height", "480")
    assert code == 0, err
    assert stdout.strip() == f"wrote {out} (3 versions, loss vs step)" and err == ""
    assert_picture(out, 640, 480)

    code, _, err = _plot(capsys, "3.4", "3.5", "--logs-dir", str(real_runs / "logs"), "--metric", "learning_rate",
                         "--cumulative", "--logy", "--out", str(tmp_path / "lr.png"), "--title", "chain")
    assert code == 0, err
    assert_picture(tmp_path / "lr.png", 1200, 700)


@pytest.mark.slow
def test_plan_series_labels_eval_points_and_cumulative(real_runs):
    inputs = lookup.load(str(real_runs / "logs"), [])
    runs = [lookup.pick(v, inputs) for v in ("3.4", "3.5")]
    drawn = plan(runs, inputs.runs, "loss")
    assert drawn.x_key == "step" and drawn.x_label == "step"
    first, second = drawn.series
    assert [x for x, _ in first.points] == [1.0, 2.0, 3.0, 4.0]
    assert [x for x, _ in first.eval_points] == [2.0, 4.0]
    assert first.label == "3.4 (lr 2e-3, 0.0165 ep, bs 4)"
    chained = plan(runs, inputs.runs, "loss", cumulative=True)
    assert [x for x, _ in chained.series[1].points] == [5.0, 6.0, 7.0, 8.0]  # 3.5 goes on where 3.4 ended
    assert chained.series[1].offset == 4.0 and "cumulative" in chained.x_label
    by_epoch = plan(runs, inputs.runs, "eval_loss", x="epoch")
    assert by_epoch.x_key == "epoch" and not by_epoch.series[0].eval_points


@pytest.fixture
def inputs(tmp_path):
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    F.write(tmp_path / "hf4.txt", F.HF4_STDOUT)
    F.write(tmp_path / "hf5.txt", F.HF5_STDOUT)
    F.write(tmp_path / "logs" / "3.4.log", F.runlog(version="3.4", parent=None, lr="1.0e-04"))
    F.write(tmp_path / "logs" / "3.5.log", F.runlog(losses=(7.0, 6.5, 6.4, 6.3)))
    return tmp_path


def test_notebook_with_periodic_dicts(inputs, capsys):
    out = inputs / "nb.png"
    code, stdout, err = _plot(capsys, str(inputs / "notebook.txt"), "--out", str(out), "--width", "800",
                              "--height", "500", "--logs-dir", str(inputs / "logs"))
    assert code == 0, err
    assert stdout.startswith(f"wrote {out} (3 versions, loss vs epoch)")
    assert "warning: no `loss` points for 2.2, 2.5, 2.6, 2.7, 2.10; skipped" in err
    assert "note: x axis is epoch (steps not logged)" in err
    assert_picture(out, 800, 500)


def test_trainer_stdout_with_tqdm_prefix(inputs, capsys):
    runs, _ = load_runs([str(inputs / "hf4.txt"), str(inputs / "hf5.txt")])
    drawn = plan(runs, runs, "loss")
    assert drawn.x_key == "epoch" and drawn.x_label == "epoch (steps not logged)"
    hf4 = drawn.series[0]
    assert hf4.points == [(0.37, 2.5111), (0.74, 2.3111)] and hf4.eval_points == [(1.0, 2.2)]
    assert hf4.label == "hf4 (3 ep, bs 8x4)"
    out = inputs / "hf.png"
    code, stdout, err = _plot(capsys, str(inputs / "hf4.txt"), str(inputs / "hf5.txt"), "3.4",
                              "--logs-dir", str(inputs / "logs"), "--out", str(out), "--width", "500",
                              "--height", "300")
    assert code == 0, err
    assert "(3 versions, loss vs epoch)" in stdout
    assert_picture(out, 500, 300)


def test_no_points_unknown_versions_and_bad_sizes(inputs, capsys):
    logs = ["--logs-dir", str(inputs / "logs")]
    code, _, err = _plot(capsys, "3.4", "--metric", "eval_f1", *logs, "--out", str(inputs / "x.png"))
    assert code == 2 and err.count("\n") == 1 and "no `eval_f1` points" in err and "keys logged:" in err
    assert not (inputs / "x.png").exists()
    code, _, err = _plot(capsys, "3.6", *logs)
    assert code == 2 and "unknown version 3.6" in err and "did you mean" in err
    code, _, err = _plot(capsys, "3.4", "--width", "0", *logs)
    assert code == 2 and "--width" in err
    code, _, err = _plot(capsys, "3.4", *logs, "--out", str(inputs / "x.nope"))
    assert code == 2 and "cannot write" in err
    code, stdout, err = _plot(capsys, *logs, "--out", str(inputs / "all.png"))  # every run of the logs dir
    assert code == 0 and "(2 versions, loss vs step)" in stdout


def test_labels(inputs):
    assert [short_number(v) for v in (1e-4, 2.5e-5, 0.01, 3.0, 0.5, 5e-05)] == ["1e-4", "2.5e-5", "0.01", "3",
                                                                                "0.5", "5e-5"]
    runs, _ = load_runs([str(inputs / "logs"), str(inputs / "notebook.txt")])
    labels = {r.version: label(r) for r in runs}
    assert labels["3.4"] == "3.4 (lr 1e-4, 3 ep, bs 8x4)"
    assert labels["2.3"] == "2.3 (lr 3e-5, 1 ep)" and labels["2.10"] == "2.10"


def test_harness_commands_do_not_import_matplotlib(inputs):
    code = ("import sys; from harness.cli.main import main; main(['table', sys.argv[1], '--format', 'csv']); "
            "main(['show', '3.4', '--logs-dir', sys.argv[1], '--format', 'text']); "
            "sys.stderr.write(str(sorted(m for m in ('torch', 'transformers', 'matplotlib') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code, str(inputs / "logs")], capture_output=True, text=True,
                          cwd=str(ROOT), timeout=60)
    assert done.returncode == 0 and done.stderr.endswith("[]"), done.stderr

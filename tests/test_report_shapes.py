"""Hand-kept reports in the shapes of public READMEs (harness/compare/readers/report.py): the settings a report
states once, before its runs, belong to every run. Fixtures written for these tests."""

import logfixtures as F

from harness.compare.load import load_runs

SHARED_SETUP = """\
# Casing study

## Training
We fine-tuned with the Trainer, using:
- Learning rate: 3e-5
- Train batch size: 16
- Epochs: 8

Early stopping (patience 2) ended both runs early.

# Results

### cased run
| Epoch | Training Loss | Validation Loss | Accuracy | F1 |
|------:|--------------:|----------------:|---------:|---:|
|     1 |        0.3011 |          0.2811 |   0.9011 | 0.9002 |
|     2 |        0.1804 |          0.3120 |   0.9105 | 0.9100 |

### uncased run
| Epoch | Training Loss | Validation Loss | Accuracy | F1 |
|------:|--------------:|----------------:|---------:|---:|
|     1 |        0.2755 |          0.2644 |   0.9150 | 0.9149 |
|     2 |        0.1502 |          0.2990 |   0.9222 | 0.9220 |

| Label | Loss | Text |
|-------|------|------|
| 0     | 5.12 | An example review that the model got badly wrong, quoted in full |
"""


def test_settings_stated_before_the_runs_are_every_runs(tmp_path):
    runs, _ = load_runs([str(F.write(tmp_path / "README.md", SHARED_SETUP))])
    by = {r.version: r for r in runs}
    assert sorted(by) == ["cased run", "uncased run"]  # the sample table's rows (`0`) are not runs
    for run in by.values():
        assert run.hyperparameters["learning_rate"] == 3e-5 and run.hyperparameters["per_device_train_batch_size"] == 16
        assert run.epochs == 2.0
    assert by["cased run"].eval_metrics["eval_loss"] == 0.312 and by["uncased run"].eval_metrics["eval_f1"] == 0.922


def test_a_runs_own_setting_wins_over_the_shared_one(tmp_path):
    text = SHARED_SETUP.replace("### uncased run\n", "### uncased run\n- Learning rate: 5e-5\n\n")
    runs, _ = load_runs([str(F.write(tmp_path / "notes.md", text))])
    by = {r.version: r.hyperparameters["learning_rate"] for r in runs}
    assert by == {"cased run": 3e-5, "uncased run": 5e-5}


MRPC_NOTES = """\
# Fine-tuning a small encoder on a paraphrase task

## Training Configuration

| Parameter | Value |
| --- | --- |
| `per_device_train_batch_size` | 24 |
| `num_train_epochs` | 3 |
| `learning_rate` | 6e-5 |
| `optim` | `adamw_torch` |

## Validation Metrics by Epoch

| Epoch | Training Loss | Validation Loss | Accuracy | F1 |
| ---: | ---: | ---: | ---: | ---: |
| 1 | 0.5123 | 0.3511 | 84.10% | 0.8812 |
| 2 | 0.3302 | 0.3105 | 85.50% | 0.8950 |
| 3 | 0.2214 | 0.2987 | **86.20%** | **0.9011** |
"""


def test_a_parameter_value_table_and_emphasised_or_percent_progress_cells(tmp_path):
    runs, warnings = load_runs([str(F.write(tmp_path / "notes.md", MRPC_NOTES))])
    (run,) = runs
    assert run.epochs == 3.0 and not warnings
    assert run.eval_metrics["eval_loss"] == 0.2987 and run.eval_metrics["eval_f1"] == 0.9011
    assert abs(run.eval_metrics["eval_accuracy"] - 0.862) < 1e-12  # a percentage, as in a runs table
    assert run.hyperparameters["learning_rate"] == 6e-5 and run.hyperparameters["per_device_train_batch_size"] == 24
    assert run.hyperparameters.get("optim") in ("adamw_torch", None)


def test_a_metric_value_table_reads_as_metrics():
    from harness.compare.readers import pieces

    assert pieces.setting_row("| Accuracy | **0.91** |") == ("metric", "eval_accuracy", 0.91)
    assert pieces.setting_row("| `learning_rate` | 2e-5 |") == ("hyper", "learning_rate", 2e-5)
    assert pieces.setting_row("| Model | bert |") is None and pieces.setting_row("| 1 | 0.5 |") is None

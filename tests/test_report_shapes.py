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


# ---- one run's splits side by side (pieces.splits_header / splits_row) ----

SPLITS_AS_ROWS = """\
# gpt2 on wikitext-2

| Split | Loss | Perplexity | Accuracy |
|---|---|---|---|
| Train | 2.91 | 18.4 | 41.5% |
| Validation | **3.12** | 22.6 | 39.8% |
| test set | 3.15 | 23.3 | - |
"""

SPLITS_AS_COLUMNS = """\
Final numbers, one run.

|  | train | dev | test |
|:--|--:|--:|--:|
| loss | 2.91 | 3.12 | 3.15 |
| accuracy | 0.415 | 0.398 | n/a |
"""


def test_a_table_of_one_runs_splits_gives_that_runs_metrics(tmp_path):
    for name, text in (("rows.md", SPLITS_AS_ROWS), ("columns.md", SPLITS_AS_COLUMNS)):
        (run,), warnings = load_runs([str(F.write(tmp_path / name, text))])
        assert run.train_metrics["train_loss"] == 2.91 and run.train_metrics["train_accuracy"] == 0.415
        assert run.eval_metrics["eval_loss"] == 3.12 and run.eval_metrics["eval_accuracy"] == 0.398
        assert run.eval_metrics["test_loss"] == 3.15 and "test_accuracy" not in run.eval_metrics
        assert warnings == []


def test_rows_that_are_runs_under_a_split_looking_header_are_still_runs(tmp_path):
    """An empty first header is also pandas' runs table: rows that name no split are read as before."""
    text = "|  | Loss | Accuracy |\n|---|---|---|\n| baseline | 3.1 | 0.41 |\n| bigger lr | 2.9 | 0.44 |\n"
    runs, _ = load_runs([str(F.write(tmp_path / "runs.md", text))])
    assert {r.version: r.eval_metrics["eval_accuracy"] for r in runs} == {"baseline": 0.41, "bigger lr": 0.44}


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from harness.compare.readers import pieces  # noqa: E402

_SPLIT_NAMES = {"train": "train", "Training": "train", "val": "eval", "Validation": "eval", "dev": "eval",
                "test": "test", "Test set": "test"}


@settings(max_examples=150, deadline=None, database=None)
@given(st.lists(st.sampled_from(sorted(_SPLIT_NAMES)), min_size=1, max_size=3, unique_by=lambda s: _SPLIT_NAMES[s]),
       st.lists(st.floats(0.01, 99, allow_nan=False).map(lambda v: round(v, 4)), min_size=3, max_size=3),
       st.booleans(), st.sampled_from(["", " ", "  ", "**"]))
def test_a_splits_table_reads_the_same_either_way_round(splits, values, transposed, pad):
    """Mutations: which splits, their spelling, cell padding and emphasis, rows or columns."""
    expected = {f"{_SPLIT_NAMES[s]}_loss": v for s, v in zip(splits, values)}
    transposed = transposed and len(splits) > 1  # `| Metric | Test |` alone is a `| Parameter | Value |` table
    if transposed:
        lines = ["| Metric | " + " | ".join(splits) + " |", "|---" * (len(splits) + 1) + "|",
                 "| Loss | " + " | ".join(f"{pad}{v}{pad[::-1]}" for v in values[: len(splits)]) + " |"]
    else:
        lines = ["| Split | Loss |", "|---|---|"] + [f"|{pad}{s}{pad} | {pad}{v}{pad[::-1]} |" for s, v in zip(splits, values)]
    layout = pieces.splits_header(lines[0])
    found = dict(kv for line in lines[2:] for kv in pieces.splits_row(line, layout))
    assert found == expected


HAND_WRITTEN_LOOP = """\
Training distilgpt2 on my notes
Epoch: 1, Train Loss: 2.310, Val Loss: 2.100, Val Accuracy: 55.00%
Epoch: 2, Train Loss: 1.950, Val Loss: 1.980, Val Accuracy: 58.00%
[Epoch 3/4] train loss: 1.700, val loss: 1.950
"""


def test_a_hand_written_loops_epoch_lines_give_its_last_epoch_not_its_first(tmp_path):
    """Each line is progress (history), not a result stated once: the run ends where its last line says."""
    (run,), _ = load_runs([str(F.write(tmp_path / "loop.txt", HAND_WRITTEN_LOOP))])
    assert [h["epoch"] for h in run.history] == [1, 2, 3]
    assert run.train_metrics["train_loss"] == 1.7 and run.eval_metrics["eval_loss"] == 1.95
    assert run.epochs == 3 and run.hyperparameters["num_train_epochs"] == 4  # `3/4`: planned 4, stopped at 3


NANOGPT = """\
tokens per iteration will be: 16,384
step 0: train loss 10.8753, val loss 10.8756
iter 0: loss 10.8800, time 28411.24ms, mfu -100.00%
iter 10: loss 8.4323, time 1500.12ms, mfu 12.34%
step 250: train loss 3.2100, val loss 3.4000
saving checkpoint to out-notes
iter 250: loss 3.1500, time 1500.00ms, mfu 12.30%
"""


def test_nanogpt_progress_gives_the_last_losses(tmp_path):
    (run,), _ = load_runs([str(F.write(tmp_path / "train.log", NANOGPT))])
    assert run.eval_metrics["eval_loss"] == 3.4 and run.train_metrics["train_loss"] == 3.15
    assert [h["step"] for h in run.history] == [0, 0, 10, 250, 250]
    assert not any(key.startswith(("time", "mfu")) for key in {*run.train_metrics, *run.eval_metrics})


@settings(max_examples=200, deadline=None, database=None)
@given(st.sampled_from(["Epoch {n}", "epoch {n}/5", "[Epoch {n}]", "Step {n}:", "iter {n}:"]),
       st.sampled_from([", ", " | ", " - ", "  ", " "]),
       st.sampled_from([("loss", "train_loss"), ("train_loss", "train_loss"), ("Train Loss", "train_loss"),
                        ("val_loss", "eval_loss"), ("valid loss", "eval_loss"), ("Val Accuracy", "eval_accuracy"),
                        ("val_acc", "eval_accuracy"), ("accuracy", "eval_accuracy"), ("ppl", "train_perplexity")]),
       st.sampled_from(["{label}: {v}", "{label}={v}", "{label} {v}"]),
       st.integers(1, 400), st.floats(0.01, 9, allow_nan=False).map(lambda v: round(v, 4)))
def test_a_loops_progress_line_reads_whatever_its_separators(counter, sep, label, pair, n, v):
    """Mutations of one progress line: its counter, separators, label spelling and `:`/`=`/space pairing."""
    line = counter.format(n=n) + " " + sep.join([pair.format(label=label[0], v=v), "time 12.5ms"])
    word, count, planned, metrics = pieces.counter_line(line)
    assert metrics[label[1]] == v and count == n and word in ("epoch", "step", "iter")
    assert (planned == 5) == ("/5" in counter)


KERAS = """\
Epoch 1/2
1875/1875 [==============================] - 9s 4ms/step - loss: 0.4321 - accuracy: 0.8456 - val_loss: 0.3811 - val_accuracy: 0.8612
Epoch 2/2
 938/1875 [==============>...............] - ETA: 3s - loss: 0.30\r1875/1875 [==============================] - 8s 4ms/step - loss: 0.2900 - accuracy: 0.8950 - val_loss: 0.3102 - val_accuracy: 0.8890
Step 1: save the model
"""


def test_keras_fit_output_gives_each_epochs_numbers(tmp_path):
    """TF models' `model.fit`: the epoch on a line of its own, then the bar with the epoch's metrics."""
    (run,), _ = load_runs([str(F.write(tmp_path / "fit.log", KERAS))])
    assert [(h["epoch"], h["train_loss"], h["eval_accuracy"]) for h in run.history] == [(1, 0.4321, 0.8612),
                                                                                           (2, 0.29, 0.889)]
    assert run.eval_metrics["eval_loss"] == 0.3102 and run.train_metrics["train_accuracy"] == 0.895
    assert run.hyperparameters["num_train_epochs"] == 2 and "save the model" in run.notes


def test_accelerates_epoch_dict_is_that_epochs_evaluation(tmp_path):
    """accelerate's examples print `epoch 0: {'accuracy': 0.77, 'f1': 0.84}` after evaluating: eval metrics,
    the last epoch's."""
    text = "epoch 0: {'accuracy': 0.7721, 'f1': 0.8413}\nepoch 1: {'accuracy': 0.8088, 'f1': 0.8650}\n"
    (run,), _ = load_runs([str(F.write(tmp_path / "nlp_example.log", text))])
    assert run.eval_metrics["eval_accuracy"] == 0.8088 and run.eval_metrics["eval_f1"] == 0.865
    assert [h["epoch"] for h in run.history] == [0, 1] and not run.train_metrics.get("train_accuracy")

"""Hand-kept tables with one row per run (harness/compare/readers/runs_table.py): Markdown pipe tables, tab and
space separated text, pandas' `to_markdown`, sweeps with no name column; told apart from progress tables and
model cards, which keep their own reading. Fixtures written for these tests, in the shapes of public READMEs."""

import json

import logfixtures as F
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_mutations import SETTINGS, _mutation, check_mutant, mutate, render_all

from harness.compare.formats import render
from harness.compare.load import load_runs
from harness.compare.readers import pieces, runs_table
from harness.compare.records import REPORT
from harness.compare.table import build_table

PIPE = """\
# Sentiment experiments

All runs on IMDB, one seed.

| Run | LR | Epochs | Batch | Acc | F1 |
|---|---|---|---|---|---|
| baseline | 2e-5 | 3 | 16 | 0.891 | 0.884 |
| v2 (lr 5e-5) | 5e-5 | 3 | 16 | 0.902 | 0.897 |
"""
TABS = ("Model\tlearning_rate\tnum_train_epochs\teval_loss\tAccuracy\n"
        "bert-base-uncased\t2e-5\t3\t0.35\t89.1%\nroberta-base\t1e-5\t3\t0.31\t90.2%\n")
SPACES = """\
Résultats (jeu de validation)

Expérience        Taux d'apprentissage   Époques   Val Loss   Exactitude   BLEU
base              2e-5                   3         0.412      0.891        27.3
lot-64            2e-5                   3         0.398      0.902        27.9

Le lot de 64 gagne.
"""
PANDAS = """\
|    | model             |   Macro F1 |   Micro F1 |   Epochs |   Learning Rate |
|---:|:------------------|-----------:|-----------:|---------:|----------------:|
|  0 | xlm-r-base        |      0.908 |      0.989 |        5 |           4e-05 |
|  1 | bert-base-cased   |      0.921 |      0.991 |        7 |           4e-05 |
"""
SWEEP = """\
| Learning Rate | Batch Size | Validation Loss | Perplexity | ROUGE-L |
|:-:|:-:|:-:|:-:|:-:|
| 1e-5 | 16 | 2.10 | 8.17 | **41.2** |
| 3e-5 | 32 | 2.05 ± 0.02 | 7.77 | 40.8† |
"""
RECORD = """\
| model | hyper-parameters | params | f1 | |
| --- | --- | --- | --- | --- |
| distilbert-base | lr:2e-5, epochs: 20, drop_out: 0.1 | 66M | 0.835 | |
| roberta-base | lr:1e-5, epochs: 20, drop_out: 0.1 | 125M | 0.826 | |
| roberta-base | lr:2e-5, epochs: 20, drop_out: 0.3 | 125M | 0.801 | |
| | | | | |
"""
SHAPES = {"runs.md": PIPE, "runs.txt": TABS, "notes.txt": SPACES, "pandas.md": PANDAS, "sweep.md": SWEEP,
          "record.md": RECORD}


def load(tmp_path, name, text):
    path = F.write(tmp_path / name, text)
    runs, warnings = load_runs([str(path)])
    return {r.version: r for r in runs}, warnings


def test_markdown_pipe_table_one_run_per_row(tmp_path):
    runs, warnings = load(tmp_path, "runs.md", PIPE)
    assert sorted(runs) == ["baseline", "v2 (lr 5e-5)"] and warnings == []
    v2 = runs["v2 (lr 5e-5)"]
    assert v2.source_kind == REPORT and v2.line == 8 and v2.notes == ""
    assert v2.hyperparameters == {"learning_rate": 5e-5, "num_train_epochs": 3, "per_device_train_batch_size": 16}
    assert (v2.eval_metrics["eval_accuracy"], v2.eval_metrics["eval_f1"]) == (0.902, 0.897)
    assert runs["baseline"].eval_metrics["eval_accuracy"] == 0.891 and v2.epochs == 3


def test_tab_separated_with_trainer_names_and_percentages(tmp_path):
    runs, _ = load(tmp_path, "runs.txt", TABS)
    bert = runs["bert-base-uncased"]
    assert bert.hyperparameters["model"] == "bert-base-uncased" and bert.hyperparameters["learning_rate"] == 2e-5
    assert (bert.eval_metrics["eval_loss"], bert.eval_metrics["eval_accuracy"]) == (0.35, 0.891)  # 89.1% / 100
    assert runs["roberta-base"].eval_metrics["eval_accuracy"] == 0.902


def test_space_separated_in_french(tmp_path):
    runs, warnings = load(tmp_path, "notes.txt", SPACES)
    assert sorted(runs) == ["base", "lot-64"] and warnings == []
    lot = runs["lot-64"]
    assert (lot.hyperparameters["learning_rate"], lot.hyperparameters["num_train_epochs"]) == (2e-5, 3)
    assert lot.eval_metrics == {"eval_loss": 0.398, "eval_accuracy": 0.902, "eval_bleu": 27.9,
                                "perplexity": pytest.approx(1.4888, abs=1e-4)}


def test_pandas_markdown_named_by_its_model_column_not_its_index(tmp_path):
    runs, _ = load(tmp_path, "pandas.md", PANDAS)
    assert sorted(runs) == ["bert-base-cased", "xlm-r-base"]
    bert = runs["bert-base-cased"]
    assert (bert.eval_metrics["eval_f1_macro"], bert.eval_metrics["eval_f1_micro"]) == (0.921, 0.991)
    assert bert.hyperparameters == {"model": "bert-base-cased", "num_train_epochs": 7, "learning_rate": 4e-5}


def test_sweep_with_no_name_column_is_named_by_its_hyperparameters(tmp_path):
    runs, _ = load(tmp_path, "sweep.md", SWEEP)
    assert sorted(runs) == ["Learning Rate=1e-5 Batch Size=16", "Learning Rate=3e-5 Batch Size=32"]
    second = runs["Learning Rate=3e-5 Batch Size=32"]
    assert second.eval_metrics["eval_loss"] == 2.05  # the mean of `2.05 ± 0.02`
    assert second.eval_metrics["perplexity"] == 7.77 and second.eval_metrics["eval_rougeL"] == 40.8
    assert runs["Learning Rate=1e-5 Batch Size=16"].eval_metrics["eval_rougeL"] == 41.2  # `**41.2**`


def test_hyperparameter_cells_duplicates_and_empty_rows(tmp_path):
    runs, warnings = load(tmp_path, "record.md", RECORD)
    assert sorted(runs) == ["distilbert-base", "roberta-base", "roberta-base #2"] and warnings == []
    again = runs["roberta-base #2"]
    assert (again.hyperparameters["learning_rate"], again.hyperparameters["num_train_epochs"]) == (2e-5, 20)
    assert again.hyperparameters["params"] == "125M" and again.eval_metrics["eval_f1"] == 0.801


@pytest.mark.parametrize("cell, value", [
    ("0.891", 0.891), ("89.1%", (89.1, True)), ("**0.902**", 0.902), ("0.89 ± 0.01", 0.89), ("0.89 (0.01)", 0.89),
    ("0.88†", 0.88), ("1,234.5", 1234.5), ("0,891", 0.891), ("−0.5", -0.5), ("-", None), ("n/a", None),
    ("bert", None), ("89.1 / 88.4", None), ("12.3k", None),
])
def test_cell_numbers(cell, value):
    found = pieces.cell_number(cell)
    assert found == (value if isinstance(value, tuple) else None if value is None else (value, False))


def test_percent_column_and_the_loss_is_never_divided(tmp_path):
    text = "| Model | Acc (%) | Loss |\n|---|---|---|\n| a | 91.5 | 35% |\n| b | 90.0 | 0.4 |\n"
    runs, _ = load(tmp_path, "p.md", text)
    assert runs["a"].eval_metrics["eval_accuracy"] == 0.915 and runs["a"].eval_metrics["eval_loss"] == 35


# ---- what is not a runs table keeps its reading ----


def test_progress_tables_and_model_cards_are_not_runs_tables(tmp_path):
    import readerfixtures as R

    for text in (R.PASTED_TAB, R.PASTED_SPACES, R.MODEL_CARD,
                 "| Epoch | Training Loss | Validation Loss | Accuracy |\n|---|---|---|---|\n| 1 | 0.5 | 0.4 | 0.8 |\n"):
        assert runs_table.read("x.md", text) == ([], [])
    runs, _ = load(tmp_path, "card/README.md", R.MODEL_CARD)
    assert list(runs) == ["card"] and len(runs["card"].history) == 2


@pytest.mark.parametrize("text", [
    "|  | Accuracy | F1 |\n|---|---|---|\n| Validation | 0.9 | 0.88 |\n| Test set | 0.89 | 0.87 |\n",  # one run's splits
    "| Dataset | Accuracy |\n|---|---|\n| imdb | 0.9 |\n| sst2 | 0.8 |\n",  # one model on several datasets
    "| Model | Params | Size |\n|---|---|---|\n| a | 66M | 250MB |\n",  # no metric column
    "| Epochs | Accuracy |\n|---|---|\n| 1 | 0.8 |\n| 2 | 0.85 |\n",  # epochs lead: progress, not a sweep
    "| Label | Loss | Text |\n|---|---|---|\n| 0 | 5.61 | A fine film, I liked it |\n| 1 | 6.02 | Dull. |\n",  # samples
    "| Label | Precision | Recall | F1 |\n|---|---|---|---|\n| neg | 0.91 | 0.9 | 0.9 |\n| pos | 0.9 | 0.91 | 0.9 |\n",
])
def test_tables_that_are_not_runs(text):
    assert runs_table.read("x.md", text)[0] == []


def test_headings_still_split_a_report_without_a_runs_table(tmp_path):
    import readerfixtures as R

    runs, _ = load(tmp_path, "report.md", R.REPORT_MD)
    assert sorted(runs) == ["MBart (5e-5)", "T5-base (3e-4)"]


def test_two_tables_of_the_same_runs_are_one_run_each(tmp_path):
    text = ("## Dev\n\n| Model | Acc |\n|---|---|\n| a | 0.9 |\n| b | 0.8 |\n\n"
            "## Test\n\n| Model | F1 | Acc |\n|---|---|---|\n| a | 0.7 | 0.85 |\n")
    runs, warnings = load(tmp_path, "two.md", text)
    assert runs["a"].eval_metrics["eval_accuracy"] == 0.9 and runs["a"].eval_metrics["eval_f1"] == 0.7
    assert [(w.line, w.message) for w in warnings] == [
        (12, "a: eval_accuracy differs from the table at line 5; the first kept")]


def test_rows_that_do_not_fit_and_cells_that_are_not_numbers_are_warnings(tmp_path):
    text = "| Run | Acc |\n|---|---|\n| a | 0.9 |\n| b | 0.8 | extra |\n| c | high |\n| d | 0.7 |\n"
    runs, warnings = load(tmp_path, "w.md", text)
    assert sorted(runs) == ["a", "d"]
    assert [(w.line, w.message.split(" (")[0].split(":")[0]) for w in warnings] == [
        (4, "runs-table row not read"), (5, "not a number, left out")]


def test_names_from_a_table_are_escaped_in_every_format(tmp_path):
    evil = "<script>alert(1)</script>"
    F.write(tmp_path / "evil.md", f"| Run | Acc | Notes |\n|---|---|---|\n| {evil} | 0.9 | **{evil}** |\n| b | 0.8 | |\n")
    runs, warnings = load_runs([str(tmp_path)])
    table = build_table(runs, parse_warnings=warnings, columns="version,eval_accuracy,notes")
    assert evil in {r.version for r in runs}
    for fmt in ("markdown", "html"):
        assert "<script>" not in render(table, fmt)


# ---- robustness ----


@SETTINGS
@given(st.sampled_from(sorted(SHAPES)), st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_runs_tables_never_crash(tmp_path_factory, name, mutations):
    check_mutant(tmp_path_factory, name, mutate(SHAPES[name].encode(), mutations))


@SETTINGS
@given(st.lists(st.sampled_from([
    "| Run | LR | Acc |", "|---|---|---|", "| a | 2e-5 | 0.9 |", "| b | x | 89% |", "| c |", "| | | |",
    "Model\tAcc", "m1\t0.5", "m2\t-", "Experiment   Val Loss   BLEU", "e1   0.3 ± 0.1   27", "| LR | F1 |",
    "| 1e-5 | **0.8** |", "|  | Acc |", "| Test | 0.7 |", "| Epoch | Training Loss | Validation Loss |",
    "| 1 | 0.5 | 0.4 |", "## Run 2", "- Accuracy: 0.9", "", "text", "|", "\t", "   ",
]), max_size=25))
def test_runs_table_like_text_never_crashes(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("runstable")
    F.write(folder / "r.md", "\n".join(lines))
    F.write(folder / "r.txt", "\n".join(lines))
    cells = [{"cell_type": "markdown", "source": "\n".join(lines)}]
    F.write(folder / "n.ipynb", json.dumps({"nbformat": 4, "cells": cells}))
    for warning in render_all(folder):
        assert warning.line >= 0


# ---- decimal commas: one rule for runs tables and progress tables (pieces.cell_number) ----

SPANISH = """\
# Clasificador de reseñas

## Resultados del entrenamiento

| Epoch | Training Loss | Validation Loss | Accuracy |
|---|---|---|---|
| 1 | 1,0498 | 0,9123 | 0,612 |
| 2 | 0,7311 | 0,6877 | 0,705 |
| 3 | 0,5120 | 0,6034 | 0,731 |
"""


def test_progress_table_with_decimal_commas(tmp_path):
    runs, _ = load(tmp_path, "README.md", SPANISH)
    (run,) = runs.values()
    assert [h["loss"] for h in run.history] == [1.0498, 0.7311, 0.512]
    # `0,612` alone could be thousands; its column (and table) write decimal commas
    assert [h["eval_accuracy"] for h in run.history] == [0.612, 0.705, 0.731]
    assert run.eval_metrics.get("eval_loss", run.history[-1]["eval_loss"]) == 0.6034


@pytest.mark.parametrize("rows, value", [
    (["| 1 | 1,0498 |"], 1.0498), (["| 1 | 1,234.5 |"], 1234.5), (["| 1 | 12,345 |"], 12345),
    (["| 1 | 1,234 |"], 1234),  # ambiguous, nothing around it: thousands
    (["| 0,5 | 2 |", "| 1 | 12,345 |"], 12.345),  # the table writes decimal commas
    (["| 1 | 12,345,678 |", "| 0,5 | 1,234 |"], 1234),  # its column has thousands: the column wins
    (["| 1 | 2,5 |", "| 2 | 1,234 |"], 1.234),
])
def test_progress_row_commas_follow_the_column_then_the_table(rows, value):
    commas: dict = {}
    for line in rows:  # rows of one table: earlier rows teach later ones
        row = pieces.table_row(line, ["epoch", "loss"], commas)
    assert row["loss"] == value


def test_runs_table_ambiguous_comma_follows_its_column(tmp_path):
    text = ("| Modelo | Exactitud | Pérdida | Pasos |\n|---|---|---|---|\n| a | 0,891 | 1,234 | 12,345,678 |\n"
            "| b | 0,902 | 1,0498 | 1,234 |\n")
    runs, _ = load(tmp_path, "es.md", text)
    assert runs["a"].eval_metrics["eval_loss"] == 1.234  # the column has `1,0498`: decimal commas
    assert runs["a"].eval_metrics["eval_accuracy"] == 0.891
    assert runs["b"].eval_metrics["eval_pasos"] == 1234  # its column has `12,345,678`: thousands


# ---- transposed tables: metrics as rows, one column per run ----

FLIP = """\
# Fine-tuning on two clusters

| Metric | Polaris | Aurora |
|---|---|---|
| train_loss | 3.0482 | 2.8478 |
| eval_loss | 2.8139 | 2.5437 |
| eval_accuracy | 0.4328 | 0.4701 |
| perplexity | 16.6743 | 12.7268 |
| epoch | 1.0 | 2.24 |
"""
FLIP_HYPER = """\
| Parameter | lr=2e-5 | lr=5e-5 | bert-base-uncased |
|:--|--:|--:|--:|
| Learning Rate | 2e-5 | 5e-5 | 3e-5 |
| Batch size | 16 | 16 | 32 |
| Epochs | 3 | 3 | 2 |
| Accuracy (%) | 89.1 | 90.2 | 88.0 |
| Val Loss | 0.41 | 0.39 | - |
"""
FLIP_SPLITS = """\
| **TRAIN** |  run-a   |   run-b   |
| --------- | :--------: | :--------: |
| loss      |   3.0482   |   2.8478   |
| runtime   | 0:06:48.60 | 0:04:59.19 |

| **EVAL**      |     run-a     |     run-b     |
| ------------- | :-----------: | :-----------: |
| accuracy      |     0.4328    |     0.4701    |
| loss          |     2.8139    |     2.5437    |
| `samples/sec` |      1.118    |      0.329    |

| **CONFIG**  | run-a | run-b |
| ----------- | ----- | ----- |
| World Size  |   8   |  24   |
| GPU         | A100  | PVC   |
| Epoch       |  1.0  | 2.24  |
"""
FLIP_TABS = "Métrica\tbaseline\tlarger lr\nExactitud\t0,891\t0,902\nPérdida\t0,412\t0,398\nÉpocas\t3\t3\n"
SHAPES.update({"flip.md": FLIP, "flip_hyper.md": FLIP_HYPER, "flip_splits.md": FLIP_SPLITS, "flip.txt": FLIP_TABS})


def test_transposed_table_one_run_per_column(tmp_path):
    runs, warnings = load(tmp_path, "comparison.md", FLIP)
    assert sorted(runs) == ["Aurora", "Polaris"] and warnings == []
    aurora = runs["Aurora"]
    assert aurora.source_kind == REPORT and aurora.line == 3
    assert aurora.train_metrics == {"train_loss": 2.8478}
    assert aurora.eval_metrics == {"eval_loss": 2.5437, "eval_accuracy": 0.4701, "perplexity": 12.7268}
    assert aurora.epochs == 2.24 and runs["Polaris"].eval_metrics["eval_loss"] == 2.8139


def test_transposed_hyperparameter_rows_and_headers_naming_runs(tmp_path):
    runs, _ = load(tmp_path, "sweep.md", FLIP_HYPER)
    assert sorted(runs) == ["bert-base-uncased", "lr=2e-5", "lr=5e-5"]
    second = runs["lr=5e-5"]
    assert second.hyperparameters == {"learning_rate": 5e-5, "per_device_train_batch_size": 16, "num_train_epochs": 3}
    assert second.eval_metrics["eval_accuracy"] == 0.902 and second.eval_metrics["eval_loss"] == 0.39
    assert "eval_loss" not in runs["bert-base-uncased"].eval_metrics  # `-` is missing


def test_transposed_split_headers_runtimes_and_a_settings_table_of_the_same_runs(tmp_path):
    runs, warnings = load(tmp_path, "cmp.md", FLIP_SPLITS)
    assert sorted(runs) == ["run-a", "run-b"] and warnings == []
    b = runs["run-b"]
    assert b.train_metrics == {"train_loss": 2.8478, "train_runtime": 299.19}
    assert (b.eval_metrics["eval_accuracy"], b.eval_metrics["eval_loss"]) == (0.4701, 2.5437)
    assert b.eval_metrics["eval_samples_per_second"] == 0.329
    # the CONFIG table is mostly system settings, but it names the same runs as the tables accepted above
    assert b.hyperparameters == {"world_size": 24, "gpu": "PVC", "num_train_epochs": 2.24}


def test_transposed_tab_table_with_spanish_labels_and_decimal_commas(tmp_path):
    runs, _ = load(tmp_path, "notas.txt", FLIP_TABS)
    assert sorted(runs) == ["baseline", "larger lr"]
    assert runs["baseline"].eval_metrics["eval_accuracy"] == 0.891  # `0,891`: a decimal comma
    assert runs["larger lr"].eval_metrics["eval_loss"] == 0.398 and runs["baseline"].epochs == 3


def test_transposed_table_beside_pasted_trainer_output(tmp_path):
    text = FLIP + """
## Running on Aurora

```
***** train metrics *****
  epoch                    =       2.24
  train_loss               =     2.8478
  train_runtime            = 0:04:59.19
***** eval metrics *****
  eval_loss               =     2.5437
```
"""
    runs, _ = load(tmp_path, "comparison.md", text)
    assert sorted(runs) == ["Aurora", "Polaris"]  # the table's runs; the table holds the pasted run's numbers
    assert runs["Aurora"].eval_metrics["eval_loss"] == 2.5437 and runs["Polaris"].train_metrics["train_loss"] == 3.0482


def test_transposed_and_row_tables_of_the_same_runs_merge(tmp_path):
    text = FLIP + "\n| Run | BLEU |\n|---|---|\n| Aurora | 27.5 |\n| Polaris | 26.0 |\n"
    runs, warnings = load(tmp_path, "both.md", text)
    assert sorted(runs) == ["Aurora", "Polaris"] and warnings == []
    assert runs["Aurora"].eval_metrics["eval_bleu"] == 27.5 and runs["Aurora"].eval_metrics["eval_loss"] == 2.5437


@pytest.mark.parametrize("text", [
    "| Parameter | Value |\n|---|---|\n| learning_rate | 2e-5 |\n| Accuracy | 0.91 |\n",  # one run's settings
    "| Metric | Value | Std |\n|---|---|---|\n| Accuracy | 0.91 | 0.01 |\n| Loss | 0.3 | 0.02 |\n",
    "| Parameter | Value | Description |\n|---|---|---|\n| learning_rate | 2e-5 | step size |\n| Accuracy | 0.9 | dev |\n",
    "| Metric | Train | Validation | Test |\n|---|---|---|---|\n| Loss | 0.2 | 0.3 | 0.31 |\n| Accuracy | 0.95 | 0.9 | 0.89 |\n",
    "| Metric | Epoch 1 | Epoch 2 |\n|---|---|---|\n| Loss | 0.5 | 0.4 |\n| Accuracy | 0.8 | 0.85 |\n",
    "| | 1 | 2 | 3 |\n|---|---|---|---|\n| Loss | 0.5 | 0.4 | 0.3 |\n| Accuracy | 0.8 | 0.85 | 0.86 |\n",
    "| Label | Precision | Recall |\n|---|---|---|\n| neg | 0.91 | 0.9 |\n| pos | 0.9 | 0.91 |\n",  # per class
    "| Metric | A | B |\n|---|---|---|\n| GPU | A100 | H100 |\n| Nodes | 2 | 4 |\n| Accuracy | 0.9 | 0.8 |\n",  # not mostly labels
    "| Metric | A | B |\n|---|---|---|\n| Learning rate | 2e-5 | 5e-5 |\n| Epochs | 3 | 3 |\n",  # no metric row
    "| Metric | A | Accuracy |\n|---|---|---|\n| Loss | 0.5 | 0.4 |\n| F1 | 0.8 | 0.85 |\n",  # a metric column
    "| Dataset | Accuracy | F1 |\n|---|---|---|\n| imdb | 0.9 | 0.8 |\n| sst2 | 0.8 | 0.7 |\n",
])
def test_tables_that_are_not_transposed_runs(text):
    assert runs_table.read("x.md", text)[0] == []


def test_told_apart_tables_keep_their_reading(tmp_path):
    runs, _ = load(tmp_path, "card.md", "| Parameter | Value |\n|---|---|\n| learning_rate | 8e-5 |\n| Accuracy | 0.91 |\n")
    assert list(runs) == ["card"] and runs["card"].eval_metrics["eval_accuracy"] == 0.91
    assert runs["card"].hyperparameters["learning_rate"] == 8e-5
    progress = "| Epoch | Training Loss | Validation Loss | Accuracy |\n|---|---|---|---|\n| 1 | 0.5 | 0.4 | 0.8 |\n"
    runs, _ = load(tmp_path, "p.md", progress)
    assert list(runs) == ["p"] and runs["p"].history == [{"epoch": 1, "loss": 0.5, "eval_loss": 0.4,
                                                            "eval_accuracy": 0.8}]
    runs, _ = load(tmp_path, "runs.md", PIPE)
    assert sorted(runs) == ["baseline", "v2 (lr 5e-5)"]


def test_transposed_run_names_are_escaped(tmp_path):
    evil = "<img src=x onerror=alert(1)>"
    F.write(tmp_path / "evil.md", f"| Metric | {evil} | b |\n|---|---|---|\n| Accuracy | 0.9 | 0.8 |\n| Loss | 0.3 | 0.4 |\n")
    runs, warnings = load_runs([str(tmp_path)])
    assert evil in {r.version for r in runs}
    table = build_table(runs, parse_warnings=warnings)
    for fmt in ("markdown", "html"):
        assert "<img" not in render(table, fmt)


@SETTINGS
@given(st.sampled_from(["flip.md", "flip_hyper.md", "flip_splits.md", "flip.txt"]),
       st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_transposed_tables_never_crash(tmp_path_factory, name, mutations):
    check_mutant(tmp_path_factory, name, mutate(SHAPES[name].encode(), mutations))


@SETTINGS
@given(st.lists(st.sampled_from([
    "| Metric | a | b |", "| | a | b |", "|---|---|---|", "| Accuracy | 0.9 | 0,8 |", "| Loss | 1,234 | - |",
    "| lr | 2e-5 | x |", "| **EVAL** | a | b |", "| runtime | 0:01:02.5 | 9:99 |", "| loss | 0.1 |",
    "| Parameter | Value |", "| Epoch | Training Loss | Validation Loss |", "| 1 | 0,5 | 0,4 |", "\ta\tb",
    "Accuracy\t0.9\t0.8", "Metric    a    b", "", "text", "|", "| Metric | Train | Test |",
]), max_size=25))
def test_transposed_like_text_never_crashes(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("flip")
    F.write(folder / "f.md", "\n".join(lines))
    F.write(folder / "f.txt", "\n".join(lines))
    for warning in render_all(folder):
        assert warning.line >= 0


def test_in_trainer_output_only_a_pasted_pipe_table_is_tried():
    """Trainer's own lines (metrics blocks, argument dumps) never make a table of runs; a pasted one still does."""
    import logfixtures as F

    from harness.compare.readers import runs_table

    assert not runs_table.recognise("hf4.txt", F.HF4_STDOUT)
    assert not runs_table.recognise("hf5.log", F.HF5_STDOUT)
    pasted = F.HF4_STDOUT + "\n| Run | LR | eval_loss |\n|---|---|---|\n| a | 2e-5 | 1.5 |\n| b | 5e-5 | 1.4 |\n"
    assert runs_table.recognise("notes.md", pasted)

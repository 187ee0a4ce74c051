"""The input shapes of issue 13: reports, model cards, notebook tables, .ipynb, INFO dumps, noise, other
trainers' files; the reader registry and the one list of metric kinds."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import logfixtures as F
import pytest
import readerfixtures as R
from hypothesis import given
from hypothesis import strategies as st
from test_mutations import SETTINGS, _mutation, check_mutant, mutate, render_all

from harness.compare import metric_kinds, readers
from harness.compare.formats import render
from harness.compare.load import NOTHING_FOUND, load_runs
from harness.compare.readers import runlog
from harness.compare.records import JUPYTER, OTHER_TRAINER, REPORT, Run
from harness.compare.review import review
from harness.compare.table import available_columns, build_table, summarize_warnings

REAL_LOGS = Path(__file__).resolve().parents[2] / "shared" / "real-logs"


def load(tmp_path, name, text):
    path = F.write(tmp_path / name, text)
    runs, warnings = load_runs([str(path)])
    return {r.version: r for r in runs}, warnings


# ---- registry and metric kinds ----


def test_registry_puts_the_run_log_first_and_every_reader_has_a_name():
    assert readers.REGISTRY[0] is runlog.READER
    assert all(r.name for r in readers.REGISTRY) and len({r.name for r in readers.REGISTRY}) == len(readers.REGISTRY)
    assert readers.picked("x.ipynb").name == "Jupyter notebook"
    assert readers.picked("trainer_state.json").per_directory and readers.picked("notes.csv") is None


def test_a_new_reader_is_one_registry_entry(tmp_path, monkeypatch):
    shout = readers.Reader("shout", lambda n: n.endswith(".txt"), lambda p, head: head.startswith("LOSS!"),
                           lambda p, text: ([Run("loud", p, REPORT, eval_metrics={"eval_loss": 1.5})], []))
    monkeypatch.setattr(readers, "TEXT_READERS", [shout, *readers.TEXT_READERS])
    runs, _ = load(tmp_path, "a.txt", "LOSS!\n")
    assert runs["loud"].eval_metrics["eval_loss"] == 1.5


@pytest.mark.parametrize("key, kind", [
    ("eval_loss", metric_kinds.QUALITY), ("eval_f1", metric_kinds.QUALITY), ("eval_wer", metric_kinds.QUALITY),
    ("eval_samples", metric_kinds.COUNT), ("num_tokens", metric_kinds.COUNT), ("eval_tokens_total", metric_kinds.COUNT),
    ("epoch", metric_kinds.COUNT), ("eval_gen_len", metric_kinds.COUNT), ("eval_runtime", metric_kinds.COST),
    ("train_samples_per_second", metric_kinds.COST), ("total_flos", metric_kinds.COST),
    ("eval_best_thresh", metric_kinds.DIAGNOSTIC), ("grad_norm", metric_kinds.DIAGNOSTIC),
])
def test_metric_kinds(key, kind):
    assert metric_kinds.kind(key) == kind


def test_counts_and_diagnostics_are_columns_but_never_best():
    runs = [Run(v, "x", REPORT, eval_metrics={"eval_f1": f, "eval_samples": n, "eval_thresh": t, "num_tokens": n})
            for v, f, n, t in (("1", 0.5, 10, 0.3), ("2", 0.6, 20, 0.4))]
    columns, default = available_columns(runs)
    assert "eval_f1" in default and not {"eval_samples", "eval_thresh", "num_tokens"} & set(default)
    table = build_table(runs, columns="version,eval_f1,eval_samples,eval_thresh,num_tokens")
    assert {key for _, key in table.best} == {"eval_f1"}
    assert metric_kinds.direction("eval_wer") == metric_kinds.LOWER


# ---- hand-kept reports ----


def test_report_runs_under_headings_with_nothing_leaking(tmp_path):
    runs, warnings = load(tmp_path, "report.md", R.REPORT_MD)
    assert sorted(runs) == ["MBart (5e-5)", "T5-base (3e-4)"] and warnings == []
    mbart, t5 = runs["MBart (5e-5)"], runs["T5-base (3e-4)"]
    assert mbart.source_kind == REPORT and mbart.line == 5
    assert (mbart.eval_metrics["eval_rouge1"], mbart.eval_metrics["eval_loss"]) == (46.6, 3.49)
    hp = mbart.hyperparameters
    assert (hp["learning_rate"], hp["per_device_train_batch_size"], hp["num_train_epochs"], hp["precision"]) == (
        5e-5, 8, 3, "fp16")
    assert mbart.notes == "Rouge is good, loss could be lower."
    assert {k: t5.eval_metrics[k] for k in ("eval_accuracy", "eval_f1", "eval_precision", "eval_recall",
                                            "eval_loss")} == {"eval_accuracy": 0.8949, "eval_f1": 0.8904,
                                                              "eval_precision": 0.88, "eval_recall": 0.90,
                                                              "eval_loss": 2.95}
    assert t5.hyperparameters["model"] == "t5-base" and t5.hyperparameters["learning_rate"] == 3e-4
    assert "eval_rouge1" not in t5.eval_metrics and "precision" not in t5.hyperparameters
    assert "Shared notes" not in mbart.notes + t5.notes  # the preamble belongs to no run


def test_run_lines_separate_runs(tmp_path):
    runs, _ = load(tmp_path, "runs.txt", R.RUN_LINES)
    assert {v: r.eval_metrics["eval_accuracy"] for v, r in runs.items()} == {"1": 0.81, "2": 0.84}


def test_inline_label_value_pairs(tmp_path):
    runs, _ = load(tmp_path, "log.md", R.INLINE_PAIRS)
    assert sorted(runs) == ["baseline", "deeper net"]
    base, deeper = runs["baseline"], runs["deeper net"]
    assert (base.eval_metrics["eval_accuracy"], base.eval_metrics["eval_f1"]) == (0.8667, 0.8611)
    assert (base.hyperparameters["learning_rate"], base.hyperparameters["per_device_train_batch_size"]) == (0.001, 16)
    assert (deeper.eval_metrics["test_loss"], deeper.eval_metrics["test_accuracy"]) == (0.3391, 0.87)
    assert "test_loss" not in base.eval_metrics and deeper.hyperparameters["num_train_epochs"] == 100


def test_model_card_hyperparameters_and_results(tmp_path):
    runs, _ = load(tmp_path, "bert-imdb/README.md", R.MODEL_CARD)
    run = runs["bert-imdb"]  # named after its output directory, as push_to_hub wrote it there
    assert (run.eval_metrics["eval_loss"], run.eval_metrics["eval_accuracy"], run.eval_metrics["eval_f1"]) == (
        0.3012, 0.9112, 0.9108)
    hp = run.hyperparameters
    assert (hp["model"], hp["learning_rate"], hp["per_device_train_batch_size"], hp["num_train_epochs"]) == (
        "bert-base-cased", 3e-5, 16, 2)
    assert (hp["total_train_batch_size"], hp["precision"], run.epochs) == (32, "fp16", 2.0)
    assert run.notes == ""  # Trainer's boilerplate is nobody's note
    assert [h.get("eval_loss") for h in run.history] == [0.319, 0.3012] and "loss" not in run.history[0]


@pytest.mark.parametrize("text", [R.PASTED_TAB, R.PASTED_SINGLE])
def test_pasted_epoch_tables(tmp_path, text):
    runs, _ = load(tmp_path, "table.txt", text)
    run = runs["table"]
    assert [h.get("loss") for h in run.history] == [None, 0.3501]
    assert (run.eval_metrics["eval_loss"], run.eval_metrics["eval_accuracy"], run.epochs) == (0.37, 0.86, 2)


def test_pasted_step_table_with_runs_of_spaces(tmp_path):
    runs, _ = load(tmp_path, "t.txt", R.PASTED_SPACES)
    assert runs["t"].eval_metrics["eval_f1"] == 0.75 and runs["t"].history[-1]["step"] == 1000


# ---- what Trainer prints ----


def test_info_dump_gives_hyperparameters_and_no_notes_and_slurm_is_not_columns(tmp_path):
    runs, _ = load(tmp_path, "clm.out", R.INFO_DUMP)
    run = runs["clm"]
    hp = run.hyperparameters
    assert (hp["learning_rate"], hp["precision"], hp["model"], hp["per_device_train_batch_size"]) == (
        5e-5, "fp16", "openai-community/gpt2", 8)
    assert run.notes == "" and run.eval_metrics["eval_loss"] == 3.1002
    assert not [k for k in list(run.eval_metrics) + list(hp) if k[:1].isupper()]
    columns, default = available_columns([run])
    assert "eval_samples" not in default and not [c for c in default if "Job" in c or "Time" in c]


def test_pretty_printed_dict_with_arrays_and_tensors(tmp_path):
    runs, warnings = load(tmp_path, "eval.txt", R.PRETTY_DICT)
    metrics = runs["eval"].eval_metrics
    assert (metrics["eval_loss"], metrics["eval_accuracy"], metrics["eval_mcc"]) == (0.41, 0.8125, 0.55)
    assert "eval_f1" not in metrics
    assert [(w.line, w.message) for w in warnings] == [(1, "not a number, left out: eval_f1")]


def test_crashed_run_shows_progress_not_planned_epochs(tmp_path):
    runs, _ = load(tmp_path, "crash.log", R.CRASHED)
    run = runs["crash"]
    assert run.status == "crashed" and run.epochs is None and run.fields["progress"] == "9/352"
    assert run.hyperparameters["num_train_epochs"] == 3
    columns, default = available_columns([run])
    assert default[default.index("status") + 1] == "progress"


def test_checkpoint_shows_its_own_epoch(tmp_path):
    state = {"epoch": 3.0, "global_step": 300, "max_steps": 300,
             "log_history": [{"loss": 0.5, "epoch": 2.936, "step": 290}]}
    F.write(tmp_path / "out" / "checkpoint-300" / "trainer_state.json", json.dumps(state))
    runs, _ = load_runs([str(tmp_path)])
    assert runs[0].version == "out/checkpoint-300" and runs[0].epochs == 3.0


# ---- notebooks saved as .ipynb ----


def test_colab_notebook_gives_its_row(tmp_path):
    runs, warnings = load(tmp_path, "imdb.ipynb", R.colab_notebook())
    run = runs["imdb"]
    assert run.source_kind == JUPYTER and warnings == []
    hp = run.hyperparameters
    assert (hp["model"], hp["learning_rate"], hp["num_train_epochs"], hp["precision"]) == (
        "distilbert-base-uncased", 2e-5, 2, "bf16")
    assert hp["per_device_train_batch_size"] == 16  # `batch_size = 16` above: the variable's value is in the text
    assert (run.train_metrics["train_loss"], run.eval_metrics["eval_loss"], run.eval_metrics["eval_accuracy"]) == (
        0.2844, 0.2988, 0.893)
    assert [h.get("eval_accuracy") for h in run.history if "eval_accuracy" in h][:2] == [0.871, 0.893]
    assert run.status == "finished" and run.epochs == 2.0  # the failed push_to_hub did not stop training
    assert run.notes == "Tried *2e-5* first." and run.fields["progress"] == "500/500"


def test_colab_notebook_row_from_the_command_line_with_no_options(tmp_path):
    F.write(tmp_path / "nb" / "imdb.ipynb", R.colab_notebook())
    done = subprocess.run([sys.executable, "-m", "harness", "table", str(tmp_path / "nb"), "--format", "json"],
                          capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr
    (row,) = json.loads(done.stdout)["rows"]
    assert (row["version"], row["eval_loss"], row["learning_rate"], row["model"]) == (
        "imdb", 0.2988, 2e-5, "distilbert-base-uncased")


def test_broken_notebook_is_a_warning(tmp_path):
    runs, warnings = load(tmp_path, "x.ipynb", '{"cells": [')
    assert runs == {} and warnings[0].message.startswith("not a readable notebook")


# ---- other trainers ----


def test_llamafactory_and_lightning_logs(tmp_path):
    F.write(tmp_path / "saves" / "qwen-lora" / "trainer_log.jsonl", R.LLAMAFACTORY_JSONL)
    F.write(tmp_path / "lightning_logs" / "version_0" / "metrics.csv", R.LIGHTNING_CSV)
    runs, warnings = load_runs([str(tmp_path)])
    by = {r.version: r for r in runs}
    assert warnings == [] and all(r.source_kind == OTHER_TRAINER for r in runs)
    qwen, lightning = by["qwen-lora"], by["lightning_logs/version_0"]
    assert qwen.eval_metrics["eval_loss"] == 1.9 and qwen.history[0]["learning_rate"] == 4.9e-5
    assert qwen.fields["progress"] == "10/30"
    assert (lightning.eval_metrics["eval_loss"], lightning.eval_metrics["eval_acc"]) == (0.55, 0.72)
    assert (lightning.train_metrics["train_loss"], lightning.epochs) == (0.5, 2)


# ---- warnings ----


def test_files_that_yield_nothing_and_shared_remarks_are_one_line_each(tmp_path):
    for n in range(12):
        F.write(tmp_path / f"notes{n:02d}.txt", "nothing here\n")
    runs, warnings = load_runs([str(tmp_path)])
    assert runs == [] and {w.message for w in warnings} == {NOTHING_FOUND}
    (line,) = summarize_warnings(warnings)
    assert line.startswith(NOTHING_FOUND + " (12 files): ") and line.endswith("and 2 more")
    same = [Run(str(v), "x", REPORT, hyperparameters={"train_file": "d.txt", "validation_file": "d.txt"})
            for v in range(3)]
    assert review(same) == ["0, 1, 2: evaluation file is the training file (d.txt); its eval metrics are not "
                            "held-out"]


# ---- robustness: mutated inputs of every new shape ----

NEW_SOURCES = {
    "report.md": R.REPORT_MD.encode(), "card.md": R.MODEL_CARD.encode(), "nb.ipynb": R.colab_notebook().encode(),
    "clm.out": R.INFO_DUMP.encode(), "pairs.md": R.INLINE_PAIRS.encode(), "eval.txt": R.PRETTY_DICT.encode(), "t.txt": R.PASTED_SINGLE.encode(),
    "trainer_log.jsonl": R.LLAMAFACTORY_JSONL.encode(), "metrics.csv": R.LIGHTNING_CSV.encode(),
}


@SETTINGS
@given(st.sampled_from(sorted(NEW_SOURCES)), st.lists(_mutation, min_size=1, max_size=4))
def test_mutated_new_shapes_never_crash(tmp_path_factory, name, mutations):
    check_mutant(tmp_path_factory, name, mutate(NEW_SOURCES[name], mutations))


# ---- the shared corpus of real logs, when this checkout has it ----


@pytest.mark.skipif(not (REAL_LOGS / "MANIFEST.json").exists(), reason="../shared/real-logs not present")
def test_shared_real_logs_every_value():
    spec = importlib.util.spec_from_file_location("score_logs", REAL_LOGS.parent / "tools" / "score_logs.py")
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    manifest = json.loads((REAL_LOGS / "MANIFEST.json").read_text(encoding="utf-8"))
    missing = []
    for entry in manifest["files"]:
        runs, warnings = load_runs([str(REAL_LOGS / entry["path"])])
        rows = json.loads(render(build_table(runs, parse_warnings=warnings), "json"))["rows"]
        found, total, misses = score.score_file(entry, rows)
        assert len(rows) == entry["expected_runs"], entry["path"]
        missing += [f"{entry['path']}: {m}" for m in misses]
    assert missing == []


# ---- TensorBoard event files (through tensorboard's own reader; skipped without it) ----


def test_tensorboard_event_file_of_a_trainer_run(tmp_path):
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(log_dir=str(tmp_path / "out-3" / "runs" / "Nov25_10-00-00_host"))
    writer.add_text("args", json.dumps({"learning_rate": 3e-4, "num_train_epochs": 2, "fp16": True}))
    for step, loss, epoch in ((10, 2.5, 0.5), (20, 2.1, 1.0)):
        writer.add_scalar("train/loss", loss, step)
        writer.add_scalar("train/epoch", epoch, step)
    writer.add_scalar("eval/loss", 2.2, 20)
    writer.add_scalar("eval/accuracy", 0.41, 20)
    writer.close()
    runs, warnings = load_runs([str(tmp_path)])
    (run,) = runs
    assert warnings == [] and run.version == "out-3" and run.source_kind == OTHER_TRAINER
    assert (run.eval_metrics["eval_loss"], run.eval_metrics["eval_accuracy"], run.epochs) == (
        pytest.approx(2.2), pytest.approx(0.41), 1.0)
    assert (run.hyperparameters["learning_rate"], run.hyperparameters["precision"]) == (3e-4, "fp16")


def test_training_arguments_in_code_keep_data_not_expressions():
    from harness.compare.readers.pieces import call_kwargs

    found = call_kwargs('output_dir="x", learning_rate=args.learning_rate, num_train_epochs=epochs, '
                        "per_device_train_batch_size = 8, lr_scheduler_type=SchedulerType.LINEAR, "
                        "logging_dir=/tmp/logs, fp16=torch.cuda.is_available(), warmup_steps=2 * n, seed=42")
    assert found == {"output_dir": "x", "per_device_train_batch_size": 8, "lr_scheduler_type": "SchedulerType.LINEAR",
                     "logging_dir": "/tmp/logs", "seed": 42}


@SETTINGS
@given(st.lists(st.sampled_from([
    "## Run 1", "### 2. v=0.5", "Run 3:", "- Accuracy: 0.9", "- F1-Score: 88%", "eval_loss = 0.3", '"eval_f1": 0.8,',
    "| Training Loss | Epoch | Validation Loss |", "|:---:|:---:|:---:|", "| No log | 1.0 | 0.5 |", "Epoch\tStep\tLoss",
    "TrainingArguments(", "learning_rate=3e-5,", ")", "{'eval_loss': 0.4,", " 'eval_acc': tensor(0.5)}", "{", "}",
    "Test Loss: 1.0, Test Accuracy: 0.5", "  9/352 [00:05<03:20]", "Traceback (most recent call last):",
    "ValueError: x", "***** eval metrics *****", "  eval_loss = 0.2", "JobId=1 JobName=x", "", "text",
]), max_size=30))
def test_report_like_text_never_crashes(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("reportlike")
    F.write(folder / "r.md", "\n".join(lines))
    cells = [{"cell_type": "code", "source": lines[:5], "outputs": [{"output_type": "stream", "text": lines[5:]}]}]
    F.write(folder / "n.ipynb", json.dumps({"nbformat": 4, "cells": cells}))
    render_all(folder)


def test_results_an_old_example_script_logged(tmp_path):
    text = ("11/25/2020 10:00:00 - INFO - __main__ -   ***** Eval results sst-2 *****\n"
            "11/25/2020 10:00:00 - INFO - __main__ -     eval_loss = 0.35\n"
            "11/25/2020 10:00:00 - INFO - __main__ -     eval_acc = 0.91\n"
            "11/25/2020 10:00:00 - INFO - transformers.configuration_utils -   loading configuration file "
            "https://huggingface.co/bert-base-uncased/resolve/main/config.json from cache\n")
    runs, _ = load(tmp_path, "glue.log", text)
    run = runs["glue"]
    assert (run.eval_metrics["eval_loss"], run.eval_metrics["eval_acc"]) == (0.35, 0.91)
    assert run.hyperparameters["model"] == "bert-base-uncased" and run.notes == ""


def test_a_table_row_that_does_not_fit_is_a_warning(tmp_path):
    text = "| Epoch | Training Loss | Validation Loss |\n|---|---|---|\n| 1 | 0.5 | 0.4 |\n| 2 | oops |\n| 3 | 0.3 | 0.2 |\n"
    runs, warnings = load(tmp_path, "t.md", text)
    assert [h["epoch"] for h in runs["t"].history] == [1, 3]
    assert [(w.line, w.message.split(" (")[0]) for w in warnings] == [(4, "table row not read")]


@pytest.mark.parametrize("name, text", [
    ("numbered.txt", "Results\n\n1. MBart (5e-5)\neval_accuracy = 0.9\n\n2. T5 (3e-4)\neval_accuracy = 0.8\n"),
    ("bold.md", "**MBart (5e-5)**\n- Accuracy: 0.9\n\n**T5 (3e-4)**\n- Accuracy: 0.8\n"),
    ("setext.md", "MBart (5e-5)\n============\n- Accuracy: 0.9\n\nT5 (3e-4)\n---------\n- Accuracy: 0.8\n"),
    ("experiments.txt", "Experiment 1 - MBart\n***** eval metrics *****\n  eval_accuracy = 0.9\n"
                        "Experiment 2 - T5\n***** eval metrics *****\n  eval_accuracy = 0.8\n"),
])
def test_other_ways_of_heading_runs(tmp_path, name, text):
    runs, _ = load(tmp_path, name, text)
    assert sorted(r.eval_metrics["eval_accuracy"] for r in runs.values()) == [0.8, 0.9]


def test_notebook_runs_under_markdown_headings_not_code_comments(tmp_path):
    def cell(kind, source, *outputs):
        return {"cell_type": kind, "metadata": {}, "source": source, "outputs": list(outputs)}

    def printed(text):
        return {"output_type": "stream", "name": "stdout", "text": text}

    cells = [cell("markdown", "## Run A (lr 5e-5)"),
             cell("code", "# train it\ntrainer.train()", printed("{'train_runtime': 10.0, 'train_loss': 0.9, 'epoch': 1.0}\n")),
             cell("code", "# evaluate\nprint(trainer.evaluate())", printed("{'eval_loss': 0.8, 'epoch': 1.0}\n")),
             cell("markdown", "## Run B (lr 1e-5)"),
             cell("code", "# evaluate\nprint(trainer.evaluate())", printed("{'eval_loss': 0.7, 'epoch': 1.0}\n"))]
    runs, _ = load(tmp_path, "two.ipynb", json.dumps({"nbformat": 4, "cells": cells}))
    assert {v: r.eval_metrics["eval_loss"] for v, r in runs.items()} == {"Run A (lr 5e-5)": 0.8, "Run B (lr 1e-5)": 0.7}
    assert runs["Run A (lr 5e-5)"].train_metrics["train_loss"] == 0.9 and not runs["Run B (lr 1e-5)"].train_metrics


def test_a_step_capped_run_shows_no_planned_epochs():
    """With max_steps set, Trainer stops there and num_train_epochs counts nothing: no epochs rather than a guess."""
    from harness.compare import lineage
    from harness.compare.records import Run

    capped = Run("1.0", "a.txt", "report", hyperparameters={"num_train_epochs": 2, "max_steps": 1000})
    planned = Run("1.1", "b.txt", "report", hyperparameters={"num_train_epochs": 2, "max_steps": -1})
    lineage.fill_epochs([capped, planned])
    assert capped.epochs is None and planned.epochs == 2


def test_preference_training_diagnostics_are_not_ranked():
    from harness.compare import metric_kinds

    assert metric_kinds.direction("eval_logps/chosen") is None and metric_kinds.direction("logits/rejected") is None
    assert metric_kinds.direction("eval_rewards/accuracies") == metric_kinds.HIGHER

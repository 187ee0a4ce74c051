"""What real notebooks' code and outputs hold: commented TrainingArguments/SFTConfig calls, variables a call
passes (`batch_size = 8` ... `per_device_train_batch_size=batch_size`), the tokenizer loaded before the
model, rouge_score's `Score(...)` reprs, and an `## Evaluate` step under its own heading."""

import json

import logfixtures as F

from harness.compare.load import load_runs
from harness.compare.readers.pieces import call_kwargs, pairs


def _cell(kind, source, *outputs):
    return {"cell_type": kind, "metadata": {}, "source": source, "outputs": list(outputs)}


def _printed(text):
    return {"output_type": "stream", "name": "stdout", "text": text}


def _result(text):
    return {"output_type": "execute_result", "execution_count": 1, "metadata": {}, "data": {"text/plain": text}}


def _load(tmp_path, name, cells):
    path = F.write(tmp_path / name, json.dumps({"nbformat": 4, "nbformat_minor": 5, "cells": cells}, indent=1))
    runs, warnings = load_runs([str(path)])
    return {r.version: r for r in runs}, warnings


_TRAIN_OUTPUT = ("TrainOutput(global_step=40, training_loss=1.25, metrics={'train_runtime': 80.5, "
                 "'train_samples_per_second': 2.0, 'train_steps_per_second': 0.5, 'train_loss': 1.25, 'epoch': 0.8})")


def test_comments_inside_a_config_call_do_not_hide_its_arguments(tmp_path):
    source = ("cfg = SFTConfig(\n"
              "    output_dir=run_name,  # where (checkpoints) go\n"
              "    num_train_epochs=2,  # passes over the data\n"
              "    per_device_train_batch_size=4,  # per GPU, see (1)\n"
              "    gradient_accumulation_steps=2,\n"
              "    learning_rate=1e-4,  # a bit high, isn't it?\n"
              "    bf16=True,  # don't use fp16 here\n"
              '    report_to="none"  # no # trackers\n'
              ")\n")
    runs, warnings = _load(tmp_path, "sft.ipynb", [_cell("code", source),
                                                   _cell("code", "trainer.train()", _result(_TRAIN_OUTPUT))])
    hp = runs["sft"].hyperparameters
    assert (hp["learning_rate"], hp["num_train_epochs"], hp["per_device_train_batch_size"], hp["precision"]) == (
        1e-4, 2, 4, "bf16")
    assert hp["gradient_accumulation_steps"] == 2
    assert call_kwargs('lr_scheduler_type="cosine",  # decays\n  hub_model_id="org/#1"') == {
        "lr_scheduler_type": "cosine", "hub_model_id": "org/#1"}


def test_a_variable_the_text_assigned_is_read_through(tmp_path):
    cells = [_cell("code", '# checkpoint = "org/tiny-debug-model"\ncheckpoint = "org/big-model"  # the real one\n'
                           "bs = 8\nepochs = 3\n"
                           "processor = AutoProcessor.from_pretrained(checkpoint)\n"
                           "model = AutoModelForVision2Seq.from_pretrained(checkpoint, device_map=\"auto\")\n"),
             _cell("code", "args = TrainingArguments(\n    out_dir,\n    per_device_train_batch_size=bs,\n"
                           "    num_train_epochs=epochs,\n    learning_rate=lr,\n    warmup_steps=2 * bs,\n)\n"),
             _cell("code", "trainer.train()", _result(_TRAIN_OUTPUT))]
    runs, _ = _load(tmp_path, "vlm.ipynb", cells)
    hp = runs["vlm"].hyperparameters
    assert (hp["model"], hp["per_device_train_batch_size"], hp["num_train_epochs"]) == ("org/big-model", 8, 3)
    assert "learning_rate" not in hp and "warmup_steps" not in hp  # never assigned / an expression


def test_the_model_loaded_not_the_tokenizer_loaded_before_it(tmp_path):
    cells = [_cell("code", 'tokenizer = AutoTokenizer.from_pretrained("org/other-tokenizer")\n'),
             _cell("code", 'model = AutoModelForTokenClassification.from_pretrained("org/the-model", num_labels=7)\n'),
             _cell("code", "trainer.train()", _result(_TRAIN_OUTPUT))]
    runs, _ = _load(tmp_path, "tok.ipynb", cells)
    assert runs["tok"].hyperparameters["model"] == "org/the-model"
    runs, _ = _load(tmp_path, "only.ipynb", cells[:1] + cells[2:])
    assert runs["only"].hyperparameters["model"] == "org/other-tokenizer"  # nothing else names it


def test_rouge_score_reprs_are_not_metrics():
    assert pairs("Score(precision=0.5, recall=1.0, fmeasure=0.67)") == []
    assert pairs("{'rouge1': AggregateScore(low=Score(precision=0.5, recall=1.0, fmeasure=0.6), "
                 "mid=Score(precision=0.5, recall=1.0, fmeasure=0.6))}") == []
    assert [k for _, k, _ in pairs("- **results**: precision=0.81, recall=0.79")] == ["eval_precision", "eval_recall"]


def test_an_evaluate_step_under_its_own_heading_is_the_run_above(tmp_path):
    cells = [_cell("markdown", "# Fine-tune a classifier"),
             _cell("markdown", "## Define the model"),
             _cell("code", 'model = AutoModelForSequenceClassification.from_pretrained("org/enc")'),
             _cell("markdown", "## Train"),
             _cell("code", "trainer.train()",
                   _printed("{'loss': 0.6, 'learning_rate': 1e-05, 'epoch': 1.0}\n"
                            "{'eval_loss': 0.52, 'eval_f1': 0.70, 'epoch': 1.0}\n"),
                   _result(_TRAIN_OUTPUT)),
             _cell("markdown", "## Evaluate"),
             _cell("code", "trainer.evaluate()", _result("{'eval_loss': 0.5,\n 'eval_f1': 0.71,\n 'epoch': 1.0}")),
             _cell("markdown", "## Inference")]
    runs, _ = _load(tmp_path, "clf.ipynb", cells)
    assert list(runs) == ["clf"]
    run = runs["clf"]
    assert (run.hyperparameters["model"], run.train_metrics["train_loss"], run.eval_metrics["eval_loss"],
            run.eval_metrics["eval_f1"]) == ("org/enc", 1.25, 0.5, 0.71)

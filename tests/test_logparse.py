"""The readers: every input shape -> Run records (harness/compare/load.py and the read_* modules)."""

import math
import time

import logfixtures as F
import pytest

from harness.compare.load import load_runs
from harness.compare.records import NOTEBOOK, RUNLOG, TRAINER_JSON, TRAINER_STDOUT


def one(runs, version):
    found = [r for r in runs if r.version == version]
    assert len(found) == 1, [r.version for r in runs]
    return found[0]


# ---- run logs (docs/LOG_FORMAT.md) ----


def test_runlog_fields_sections_and_metrics(tmp_path):
    path = F.write(tmp_path / "logs" / "3.5.log", F.runlog())
    runs, warnings = load_runs([str(tmp_path / "logs")])
    assert warnings == []
    run = one(runs, "3.5")
    assert run.source == str(path) and run.source_kind == RUNLOG
    assert (run.parent, run.status, run.started, run.ended) == ("3.4", "finished", "2026-11-24T20:41:07+00:00",
                                                                "2026-11-24T20:42:00+00:00")
    assert run.notes == "lr down: does a long tail help?"
    assert run.commands == ["python run_clm.py version=3.5 init_from=3.4 train.learning_rate=1.0e-06"]
    assert run.args["init_from"] == 3.4 and run.args["train.learning_rate"] == 1e-06
    assert run.fields == {"output_dir": "outputs/3.5", "seed": "42"}
    assert run.config["train"]["learning_rate"] == 1e-06
    assert run.environment["precision"] == "fp32" and run.environment["git_dirty"] is True
    assert run.data["files"][0] == {"role": "train", "path": "/home/me/TestData.txt", "size": 460123,
                                    "sha256": "9f86d0aa"}
    assert run.model["trainable_params"] == 124439808
    assert run.samples == [{"prompt": "Hey, how are you?", "output": "..."}]
    assert run.summary["peak_memory_mb"] == 812.3
    assert [h["loss"] for h in run.history if "loss" in h] == [8.1234567, 7.5, 7.1]
    assert run.history[-1]["eval_loss"] == 6.91
    assert run.train_metrics["train_runtime"] == pytest.approx(31.12)
    assert run.train_metrics["total_flos"] == 12
    assert run.train_metrics["train_samples"] == 940
    assert run.eval_metrics["eval_loss"] == 5.432100296020508
    assert run.eval_metrics["perplexity"] == pytest.approx(math.exp(5.432100296020508))  # recomputed
    hp = run.hyperparameters
    assert hp["model"] == "outputs/3.4" and hp["learning_rate"] == 1e-06 and hp["num_train_epochs"] == 3.0
    assert hp["per_device_train_batch_size"] == 8 and hp["gradient_accumulation_steps"] == 4
    assert hp["precision"] == "fp32" and hp["train_file"] == "/home/me/TestData.txt"
    assert run.epochs == 3.0 and run.cumulative_epochs == 6.0  # summary.cumulative_epochs wins
    assert run.lines["status"] > run.lines["started"] and run.lines["config"] == 10


def test_runlog_repeats_resume_error_and_unknown_keys(tmp_path):
    text = "\n".join([
        F.MAGIC, "version: 4.0", "status: running", "note: first line", "note: second line",
        "command: python run_clm.py version=4.0", "mystery: kept", "----- summary -----", "  a: 1", "  b: 2",
        "resumed: 2026-11-25T10:00:00+00:00 from outputs/4.0/checkpoint-10",
        "command: python run_clm.py version=4.0 resume=true", "status: running",
        "----- summary -----", "  b: 3", "warning: fp16 asked for without CUDA",
        "***** eval metrics *****", "  eval_loss = 9.0",
        "***** eval metrics *****", "  eval_loss = 2.0",
        "error: RuntimeError: boom", "status: crashed", "",
    ])
    runs, warnings = load_runs([str(F.write(tmp_path / "4.0.log", text))])
    run = one(runs, "4.0")
    assert warnings == []
    assert run.status == "crashed" and run.errors == ["RuntimeError: boom"]
    assert run.notes == "first line\nsecond line"
    assert len(run.commands) == 2 and run.resumed == ["2026-11-25T10:00:00+00:00 from outputs/4.0/checkpoint-10"]
    assert run.summary == {"a": 1, "b": 3}  # later section bodies update earlier ones
    assert run.eval_metrics["eval_loss"] == 2.0  # a later block replaces an earlier one
    assert run.warnings == ["fp16 asked for without CUDA"] and run.fields["mystery"] == "kept"


def test_runlog_version_defaults_to_file_stem_and_crlf(tmp_path):
    text = F.MAGIC + "\r\nstatus: finished\r\n"
    runs, _ = load_runs([str(F.write(tmp_path / "7.1.log", text))])
    assert one(runs, "7.1").status == "finished"


def test_stale_running_log(tmp_path):
    F.write(tmp_path / "5.1.log", F.runlog(version="5.1", parent=None, status="running"))
    old = F.write(tmp_path / "5.2.log", F.runlog(version="5.2", parent=None, status="running"))
    F.set_old(old, 45)
    runs, _ = load_runs([str(tmp_path)], stale_after=30)
    assert one(runs, "5.1").status == "running" and one(runs, "5.2").status == "stale"
    runs, _ = load_runs([str(tmp_path)], stale_after=60)
    assert one(runs, "5.2").status == "running"
    assert one(runs, "5.1").ended is None


def test_bad_yaml_and_bad_periodic_line_are_warnings_with_lines(tmp_path):
    text = "\n".join([F.MAGIC, "version: 6.0", "----- config -----", "  a: [1, 2", "  b: 2",
                      "----- training -----", "{'loss': 1.0, 'epo", "{'loss': nan, 'epoch': 1.0}",
                      "***** train metrics *****", "  train_loss = 1.5", "  garbage line", "status: finished"])
    path = F.write(tmp_path / "6.0.log", text)
    runs, warnings = load_runs([str(path)])
    assert one(runs, "6.0").status == "finished"
    assert math.isnan(one(runs, "6.0").history[0]["loss"])  # Trainer prints bare nan: still read
    where = {(w.line, w.message.split(":")[0].split(" is")[0]) for w in warnings}
    assert all(w.path == str(path) for w in warnings)
    assert {w.line for w in warnings} == {5, 7, 11}, where


# ---- Trainer stdout ----


def test_hf4_stdout_with_tqdm(tmp_path):
    runs, warnings = load_runs([str(F.write(tmp_path / "out.txt", F.HF4_STDOUT))])
    run = one(runs, "out")
    assert warnings == [] and run.source_kind == TRAINER_STDOUT
    assert [h.get("loss") for h in run.history[:2]] == [2.5111, 2.3111]
    assert run.history[0]["learning_rate"] == 8.77e-05
    assert run.train_metrics["train_runtime"] == pytest.approx(201.77)
    assert run.train_metrics["total_flos"] == 1084 and run.train_metrics["train_mem_cpu_peaked_delta"] == 512
    assert run.eval_metrics["perplexity"] == 8.3594  # given: not recomputed
    hp = run.hyperparameters
    assert (hp["num_train_epochs"], hp["per_device_train_batch_size"], hp["gradient_accumulation_steps"],
            hp["total_train_batch_size"]) == (3, 8, 4, 32)
    assert run.status == "finished" and run.epochs == 3.0


def test_hf5_string_values(tmp_path):
    runs, _ = load_runs([str(F.write(tmp_path / "run5.log", F.HF5_STDOUT))])
    run = one(runs, "run5")
    assert run.history[0] == {"loss": 7.403, "grad_norm": 1.597, "learning_rate": 0.0004083, "epoch": 0.1176}
    assert run.history[1]["loss"] == 6.912  # behind a tqdm bar
    assert run.eval_metrics["eval_loss"] == 6.5  # from the periodic eval dict: no block printed
    assert run.train_metrics["train_runtime"] == 85.0


def test_text_file_without_trainer_output_is_named_in_one_warning(tmp_path):
    path = F.write(tmp_path / "readme.txt", "just some notes\nnothing to see {here}\n")
    F.write(tmp_path / "ignored.csv", "a,b\n")  # not a name any reader picks up
    runs, warnings = load_runs([str(tmp_path)])
    assert runs == [] and [(w.path, w.line) for w in warnings] == [(str(path), 0)]
    assert "no runs" in warnings[0].message


# ---- notebooks ----


def test_notebook_versions_parents_hyperparameters_and_notes(tmp_path):
    runs, warnings = load_runs([str(F.write(tmp_path / "notebook.txt", F.NOTEBOOK))])
    assert warnings == []
    assert [r.version for r in runs] == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.10"]
    assert all(r.source_kind == NOTEBOOK for r in runs)
    parents = {r.version: r.parent for r in runs}
    assert parents == {"2.1": None, "2.2": "2.1", "2.3": "2.2", "2.4": "2.2", "2.5": "2.2", "2.6": "2.5",
                       "2.7": "2.6", "2.10": None}
    v21, v22, v25, v27 = (one(runs, v) for v in ("2.1", "2.2", "2.5", "2.7"))
    assert v21.hyperparameters["model"] == "gpt2" and v21.hyperparameters["learning_rate"] == 5e-5
    assert v21.notes == "Premier essai, modèle de base.\nLa pérdida baja bien."
    assert v21.line == 5 and v21.train_metrics["train_runtime"] == 300.0
    assert v22.hyperparameters["precision"] == "fp16" and v22.hyperparameters["gradient_accumulation_steps"] == 2
    assert v25.hyperparameters["learning_rate"] == 1e-4 and v25.status == "crashed"
    assert v25.errors == ["RuntimeError: something after eval"]
    assert v27.hyperparameters["model"] == "finetuned_model_v2.6" and v27.status is None
    cumulative = {r.version: r.cumulative_epochs for r in runs}
    assert cumulative == {"2.1": 3, "2.2": 5, "2.3": 6, "2.4": 6, "2.5": 7, "2.6": 11, "2.7": 13, "2.10": None}


def test_notebook_parent_only_when_the_version_exists(tmp_path):
    text = ("##### Version 1 #####\npython run_clm.py --model_name_or_path gpt2 --num_train_epochs 1\n"
            "##### Version 2 #####\npython run_clm.py --model_name_or_path out/model_v9 --num_train_epochs 1\n"
            "=== Versión 3 ===\npython run_clm.py --model_name_or_path out/model-v1 --num_train_epochs 2\n")
    runs, _ = load_runs([str(F.write(tmp_path / "nb.txt", text))])
    assert {r.version: r.parent for r in runs} == {"1": None, "2": None, "3": "1"}
    assert one(runs, "3").cumulative_epochs == 3


def test_latin1_notebook_keeps_accents(tmp_path):
    text = "######## Version 1.0 ########\nRésumé: très bien.\n{'loss': 1.0, 'epoch': 1.0}\n"
    runs, warnings = load_runs([str(F.write(tmp_path / "nb.txt", text.encode("latin-1")))])
    assert warnings == [] and one(runs, "1.0").notes == "Résumé: très bien."


# ---- Trainer JSON files ----


def test_trainer_json_directory_and_checkpoint(tmp_path):
    F.trainer_dir(tmp_path / "outputs" / "exp-a")
    F.trainer_dir(tmp_path / "outputs" / "exp-a", checkpoint="checkpoint-50", eval_loss=2.9)
    runs, warnings = load_runs([str(tmp_path / "outputs")])
    assert warnings == []
    run, ckpt = one(runs, "exp-a"), one(runs, "exp-a/checkpoint-50")
    assert run.source_kind == TRAINER_JSON and run.source == str(tmp_path / "outputs" / "exp-a")
    assert run.train_metrics["total_flos"] == 3 and run.train_metrics["train_mem_cpu_peaked_delta"] == 512
    assert run.eval_metrics["eval_loss"] == 2.5 and run.status == "finished"
    assert run.hyperparameters == {"num_train_epochs": 2, "per_device_train_batch_size": 8}
    assert len(run.history) == 3
    assert ckpt.eval_metrics["eval_loss"] == 2.9 and ckpt.train_metrics["train_loss"] == 2.9
    assert ckpt.status is None


def test_broken_json_is_a_warning(tmp_path):
    F.write(tmp_path / "out" / "all_results.json", '{"eval_loss": 1.0,')
    F.write(tmp_path / "out2" / "train_results.json", "[1, 2]")
    runs, warnings = load_runs([str(tmp_path)])
    assert runs == [] and len(warnings) == 2
    assert "not valid JSON" in warnings[0].message and warnings[0].line == 1


# ---- mixing inputs, robustness ----


def test_mixed_inputs_in_one_call(tmp_path):
    F.write(tmp_path / "logs" / "3.4.log", F.runlog(version="3.4", parent=None, cumulative=None))
    F.write(tmp_path / "logs" / "3.5.log", F.runlog())
    F.write(tmp_path / "hf" / "out.txt", F.HF4_STDOUT)
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    F.trainer_dir(tmp_path / "outputs" / "exp-a")
    runs, warnings = load_runs([str(tmp_path / "logs"), str(tmp_path / "hf"), str(tmp_path / "notebook.txt"),
                                str(tmp_path / "outputs")])
    assert warnings == []
    assert [r.version for r in runs][:3] == ["2.1", "2.2", "2.3"]
    assert {r.source_kind for r in runs} == {RUNLOG, TRAINER_STDOUT, NOTEBOOK, TRAINER_JSON}
    assert one(runs, "3.4").cumulative_epochs == 3.0  # computed: no summary value


def test_empty_binary_missing_and_huge_files(tmp_path):
    F.write(tmp_path / "empty.log", "")
    F.write(tmp_path / "blob.log", b"\x00\x01\x02" * 100)
    big = F.write(tmp_path / "big.log", F.runlog(version="9.9", parent=None) + "x" * 100 + "\n")
    runs, warnings = load_runs([str(tmp_path), str(tmp_path / "nope")], max_bytes=2000)
    messages = {w.path.rsplit("/", 1)[-1]: w.message for w in warnings}
    assert "empty" in messages["empty.log"] and "binary" in messages["blob.log"]
    assert "no such file" in messages["nope"] and "larger than" in messages["big.log"]
    assert one(runs, "9.9").source == str(big)  # the part that fits is still read


def test_same_version_twice_merges_when_numbers_agree(tmp_path):
    F.write(tmp_path / "logs" / "exp-a.log", F.runlog(version="exp-a", parent=None, eval_loss=2.5,
                                                       eval_accuracy=0.5, train_loss=2.9, epochs=2.0))
    F.trainer_dir(tmp_path / "outputs" / "exp-a")
    runs, _ = load_runs([str(tmp_path)])
    run = one(runs, "exp-a")
    assert run.source_kind == RUNLOG and run.merged_from == [str(tmp_path / "outputs" / "exp-a")]


def test_same_version_twice_with_different_numbers_keeps_both(tmp_path):
    F.write(tmp_path / "a" / "1.0.log", F.runlog(version="1.0", parent=None, eval_loss=2.0))
    F.write(tmp_path / "b" / "1.0.log", F.runlog(version="1.0", parent=None, eval_loss=3.0))
    runs, _ = load_runs([str(tmp_path)])
    assert [r.eval_metrics["eval_loss"] for r in runs] == [2.0, 3.0]


def test_parent_cycle_does_not_hang(tmp_path):
    F.write(tmp_path / "a.log", F.runlog(version="a", parent="b", cumulative=None))
    F.write(tmp_path / "b.log", F.runlog(version="b", parent="a", cumulative=None))
    started = time.monotonic()
    runs, _ = load_runs([str(tmp_path)])
    assert [r.cumulative_epochs for r in runs] == [None, None]
    assert time.monotonic() - started < 5

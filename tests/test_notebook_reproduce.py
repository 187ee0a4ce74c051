"""`harness reproduce 3.4 notes.txt`: a notebook's recorded HF command line re-run through the translation."""

import subprocess
import sys

import pytest

from harness.errors import UserError
from harness.rerun.notebook import find_run, recorded_argv, reproduce_notebook
from harness.runlog.reader import read_log
from tests.tiny import ROOT


def _notebook(path, version, command, train_loss, eval_loss):
    path.write_text(
        "My fine-tuning notes\n\n##########################################################\n"
        f"######## Version {version} ########\nfirst try on the docs\n{command}\n"
        f"***** train metrics *****\n  epoch                    =     0.0165\n"
        f"  train_loss               =     {train_loss}\n  train_runtime            = 0:00:00.12\n"
        f"***** eval metrics *****\n  eval_loss               =     {eval_loss}\n")
    return path


def _command(pretrained, corpus, version):
    return (f"python run_clm.py --model_name_or_path {pretrained} --train_file {corpus} --do_train --do_eval "
            f"--max_steps 2 --block_size 32 --per_device_train_batch_size 4 \\\n"
            f"    --output_dir finetuned_model_v{version}")


def test_unknown_version_and_missing_command(tmp_path):
    notes = _notebook(tmp_path / "notes.txt", "3.4", "(trained in a Colab cell)", "1.0", "1.0")
    with pytest.raises(UserError, match="no version 3.9 in .*versions there: 3.4"):
        find_run("3.9", str(notes))
    with pytest.raises(UserError, match="records no run_clm.py command line"):
        recorded_argv(find_run("3.4", str(notes)))
    with pytest.raises(UserError, match="no such notebook file"):
        find_run("3.4", str(tmp_path / "nope.txt"))


def test_recorded_argv_joins_continuation_lines(tmp_path):
    notes = _notebook(tmp_path / "notes.txt", "3.4", "python run_clm.py --model_name_or_path gpt2 \\\n"
                      "    --train_file a.txt --do_train", "1.0", "1.0")
    assert recorded_argv(find_run("3.4", str(notes))) == ["--model_name_or_path", "gpt2", "--train_file", "a.txt",
                                                          "--do_train"]


@pytest.mark.slow
def test_notebook_version_reruns_and_compares(workdir, pretrained, corpus, cache_dir, monkeypatch):
    monkeypatch.setenv("RUN_CLM_CACHE", str(cache_dir))
    notes = _notebook(workdir / "notes.txt", "3.4", _command(pretrained, corpus, "3.4"), "9.9000", "9.9000")
    outcome = reproduce_notebook("3.4", str(notes))
    assert outcome.rerun == "3.4-r1" and not outcome.reproduced
    # what the notebook recorded (perplexity: the reader's, from eval_loss); not the runtime
    assert {(r.split, r.key) for r in outcome.rows} == {("train", "epoch"), ("train", "train_loss"),
                                                        ("eval", "eval_loss"), ("eval", "perplexity")}
    assert any(c.startswith(f"data content unknown: the notebook records no hash of {corpus}")
               for c in outcome.caveats)
    log = read_log(workdir / "logs" / "3.4-r1.log")
    assert log.fields["hf_command"].startswith(f"python run_clm.py --model_name_or_path {pretrained}")
    assert log.fields["note"].startswith("reproduction of 3.4 from ")

    # The same line with the numbers that run printed (4 decimals, as Trainer prints): reproduced, via the CLI.
    real_train, real_eval = log.metrics["train"]["train_loss"], log.metrics["eval"]["eval_loss"]
    notes2 = _notebook(workdir / "notes2.txt", "3.5", _command(pretrained, corpus, "3.5"), f"{real_train:.4f}",
                       f"{real_eval:.4f}")
    notes2.write_text(notes2.read_text().replace("0.0165", f"{log.metrics['train']['epoch']:.4f}"))
    result = subprocess.run([sys.executable, "-m", "harness", "reproduce", "3.5", str(notes2)], cwd=workdir,
                            capture_output=True, text=True, timeout=300, env={**__import__("os").environ,
                                                                              "COLUMNS": "200"})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "REPRODUCED 3.5 as 3.5-r1 (rtol=0.01, atol=0; the default for a notebook: a GPU fp16 re-run)" in result.stdout
    assert "unchecked: data content unknown" in result.stdout


def test_cli_refuses_force_with_a_notebook(workdir, tmp_path):
    notes = _notebook(tmp_path / "notes.txt", "3.4", "python run_clm.py --model_name_or_path gpt2 --do_train",
                      "1.0", "1.0")
    result = subprocess.run([sys.executable, "-m", "harness", "reproduce", "3.4", str(notes), "--force"],
                            cwd=workdir, capture_output=True, text=True, timeout=120,
                            env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: --force and --chain are for run logs; a notebook version is re-run "
                                     "as it was recorded")

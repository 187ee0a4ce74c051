"""The training console: one live display on a terminal, plain lines elsewhere, silence on other ranks."""

import io
from types import SimpleNamespace

import pytest
from rich.console import Console

from harness.train.console import ConsoleCallback, eval_line

ARGS = SimpleNamespace(per_device_train_batch_size=4, gradient_accumulation_steps=2, world_size=1)


def _state(step=0, main=True):
    return SimpleNamespace(global_step=step, max_steps=20, is_world_process_zero=main)


def _drive(console, main=True):
    """A 20-step run logging every 10 steps, with one evaluation at step 10."""
    callback = ConsoleCallback("3.4", tokens_per_sample=32, console=console)
    state = _state(main=main)
    callback.on_train_begin(ARGS, state, None)
    for step in range(1, 21):
        state.global_step = step
        callback.on_step_end(ARGS, state, None)
        if step % 10 == 0:
            callback.on_log(ARGS, state, None, logs={"loss": 2.5 - step / 10, "learning_rate": 1e-3 * (20 - step) / 20,
                                                      "grad_norm": 1.0, "epoch": step / 20})
        if step == 10:
            callback.on_log(ARGS, state, None, logs={"eval_loss": 2.25, "eval_accuracy": 0.41, "eval_runtime": 0.3})
    callback.on_train_end(ARGS, state, None)
    return console.file.getvalue()


def test_not_a_terminal_gives_plain_lines():
    out = _drive(Console(file=io.StringIO(), force_terminal=False, width=80))
    lines = out.splitlines()
    assert lines[0] == "training 3.4: 20 steps"
    step_lines = [line for line in lines if line.startswith("step ")]
    assert len(step_lines) == 2
    assert step_lines[0].startswith("step 10/20  loss 1.5000  lr 5.00e-04  ") and "tok/s" in step_lines[0]
    assert "eta " in step_lines[0] and step_lines[1].endswith("eta 0:00:00")
    assert lines.count("eval @ step 10: eval_loss 2.2500  eval_accuracy 0.4100") == 1
    assert lines[-1].startswith("trained 3.4: 20 steps in ")
    assert "{" not in out and "grad_norm" not in out  # no raw dicts
    assert not any(ch in out for ch in "\x1b\r\b")  # no control characters


def test_a_terminal_gets_one_live_bar_with_eval_lines_above_it():
    out = _drive(Console(file=io.StringIO(), force_terminal=True, width=120, color_system="standard"))
    assert "\x1b[" in out  # a live display redraws in place
    assert out.count("eval @ step 10: eval_loss 2.2500") == 1
    assert "20/20" in out and "loss 0.5000" in out and "tok/s" in out and "lr " in out
    assert "step 10/20" not in out  # no plain progress lines on a terminal
    assert "trained 3.4: 20 steps" in out


def test_only_the_main_process_shows_anything():
    out = _drive(Console(file=io.StringIO(), force_terminal=False), main=False)
    assert out == ""


def test_eval_line_falls_back_to_other_eval_metrics():
    assert eval_line(5, {"eval_f1": 0.5, "eval_runtime": 1.0}) == "eval @ step 5: eval_f1 0.5000  eval_runtime 1.0000"


def test_tokens_per_second_counts_the_whole_step():
    console = Console(file=io.StringIO(), force_terminal=False)
    callback = ConsoleCallback("x", tokens_per_sample=32, console=console)
    state = _state()
    callback.on_train_begin(ARGS, state, None)
    callback.started -= 2.0  # as if 2 s had passed: 10 steps x (4 x 2 x 32 tokens) / 2 s
    state.global_step = 10
    callback.on_log(ARGS, state, None, logs={"loss": 1.0})
    rate = float(console.file.getvalue().split("tok/s")[0].split()[-1].replace(",", ""))
    assert rate == pytest.approx(10 * 4 * 2 * 32 / 2.0, rel=0.05)


@pytest.mark.slow
def test_a_run_piped_to_a_file_is_quiet_and_verbose_is_not(run_cli, corpus):
    from tests.tiny import tiny_cli_args

    args = tiny_cli_args(None, corpus, "train.eval_strategy=steps", "+train.eval_steps=4")
    quiet = run_cli(*args)
    assert quiet.returncode == 0, quiet.stderr
    both = quiet.stdout + quiet.stderr
    assert "{'loss'" not in both and "Saving the dataset" not in both and "Map" not in both
    assert "Writing model shards" not in both
    assert not any(ch in quiet.stdout for ch in "\x1b\r")
    lines = quiet.stdout.splitlines()
    assert sum(line.startswith("step ") for line in lines) == 4  # logging_steps=2 over 8 steps
    assert sum(line.startswith("eval @ step ") for line in lines) == 2
    assert "***** eval metrics *****" in quiet.stdout  # the final blocks stay

    loud = run_cli(*args, "verbose=true")
    assert loud.returncode == 0, loud.stderr
    assert "{'loss'" in loud.stdout


def test_a_repeated_library_warning_is_said_once():
    import logging

    from harness.train.console import _Once

    once = _Once()
    record = logging.LogRecord("transformers", logging.WARNING, __file__, 1, "slow tokenizer", None, None)
    info = logging.LogRecord("transformers", logging.INFO, __file__, 1, "step", None, None)
    assert once.filter(record) and not once.filter(record)
    assert once.filter(info) and once.filter(info)  # only warnings are deduplicated


class _Handler:
    def __init__(self, callbacks):
        self.callbacks = list(callbacks)


class _Trainer:
    """The two Trainer methods install() uses."""

    def __init__(self, *callbacks):
        self.callback_handler = _Handler(callbacks)

    def remove_callback(self, kind):
        self.callback_handler.callbacks = [c for c in self.callback_handler.callbacks if not isinstance(c, kind)]

    def add_callback(self, callback):
        self.callback_handler.callbacks.append(callback)


@pytest.mark.parametrize("verbose", [False, True])
def test_install_replaces_trainers_printing_unless_verbose(verbose):
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    from harness.train.console import install

    trainer = _Trainer(PrinterCallback(), ProgressCallback())
    install(trainer, "3.4", 32, verbose=verbose)
    kinds = [type(c) for c in trainer.callback_handler.callbacks]
    assert kinds == ([PrinterCallback] if verbose else []) + [ConsoleCallback]


@pytest.mark.slow
def test_every_job_of_a_sweep_gets_its_own_display(run_cli, corpus):
    from tests.tiny import tiny_cli_args

    done = run_cli("-m", *tiny_cli_args(None, corpus, "train.max_steps=2", "train.learning_rate=1e-3,1e-4"))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line for line in lines if line.startswith("training ")] == ["training 1.0: 2 steps", "training 1.1: 2 steps"]
    assert sum(line.startswith("trained 1.") for line in lines) == 2

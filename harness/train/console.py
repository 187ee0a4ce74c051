"""What a training run shows on the console: one live display, and nothing else unless `verbose=true`.

On a terminal: one rich progress bar (step, loss, lr, tokens/s, ETA) with each evaluation printed above it
as one line. Not on a terminal (CI, `> out.txt`): the same facts as plain lines at every logging step,
without control characters. Only the main process of a torchrun job shows anything, and every job of a
`-m` sweep gets its own display (each job builds its own Trainer, hence its own callback).

The libraries' own output (Trainer's raw log dicts, the `datasets` "Map"/"Saving the dataset" bars,
transformers' "Loading weights"/"Writing model shards" bars and info messages) is switched off, since
the run log keeps the full detail; `verbose=true` leaves all of it on.
"""

from __future__ import annotations

import logging
import time
import warnings

from transformers import TrainerCallback

EVAL_SHOWN = ("eval_loss", "eval_accuracy", "perplexity")


def quiet_libraries(verbose: bool) -> None:
    """Silence the progress bars and chatter of datasets and transformers (process-wide: a run owns it)."""
    import datasets
    import transformers

    if verbose:
        datasets.enable_progress_bars()
        transformers.utils.logging.enable_progress_bar()
        transformers.utils.logging.set_verbosity_info()
        return
    datasets.disable_progress_bars()
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_warning()
    _say_once(transformers.utils.logging.get_logger("transformers"))
    # A warning raised every step (a deprecation inside the loop) is said once per run, not once per module line.
    warnings.filterwarnings("once", category=UserWarning)
    warnings.filterwarnings("once", category=FutureWarning)


class _Once(logging.Filter):
    """Lets each distinct message through once: a warning logged every step would bury the display."""

    def __init__(self):
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        message = record.getMessage()
        if message in self.seen:
            return False
        self.seen.add(message)
        return True


def _say_once(logger: logging.Logger) -> None:
    if not any(isinstance(f, _Once) for f in logger.filters):
        logger.addFilter(_Once())


def install(trainer, version: str | None, tokens_per_sample: int, verbose: bool, console=None) -> "ConsoleCallback":
    """Replace Trainer's own printing (PrinterCallback/ProgressCallback) with our one display."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    if not verbose:  # verbose keeps Trainer's raw dicts, printed above the bar
        trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    callback = ConsoleCallback(version, tokens_per_sample, console=console)
    trainer.add_callback(callback)
    return callback


def _clock(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "-:--:--"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _number(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"


def eval_line(step: int, logs: dict) -> str:
    """`eval @ step 40: eval_loss 2.3100  eval_accuracy 0.4100  perplexity 10.07`: the headline metrics."""
    shown = [k for k in EVAL_SHOWN if k in logs] or [k for k in logs if k.startswith("eval_")][:3]
    return f"eval @ step {step}: " + "  ".join(f"{k} {_number(logs[k])}" for k in shown)


class ConsoleCallback(TrainerCallback):
    """The display of one job; does nothing on processes other than the main one."""

    def __init__(self, version: str | None, tokens_per_sample: int, console=None):
        self.version = version or "run"
        self.tokens_per_sample = tokens_per_sample
        self.console = console
        self.progress = None
        self.task = None
        self.fields = {"loss": "", "lr": "", "speed": ""}
        self.started = self.first_step = None
        self.tokens_per_step = 0

    # ---- Trainer events ----

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        from rich.console import Console

        self.console = self.console or Console()
        self.tokens_per_step = (args.per_device_train_batch_size * args.gradient_accumulation_steps
                                * args.world_size * self.tokens_per_sample)
        self.started, self.first_step = time.perf_counter(), state.global_step
        if self.console.is_terminal:
            self._start_bar(state)
        else:
            self._say(f"training {self.version}: {state.max_steps} steps"
                      + (f" (from step {state.global_step})" if state.global_step else ""))

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, **self.fields)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or self.console is None:
            return
        if "eval_loss" in logs:
            self._say(eval_line(state.global_step, logs))
        elif "loss" in logs:
            self._update(state, logs)

    def on_train_end(self, args, state, control, **kwargs):
        self.close()
        if state.is_world_process_zero and self.console is not None:
            self._say(f"trained {self.version}: {state.global_step} steps in {_clock(self._elapsed())}")

    def close(self) -> None:
        """Stop the live display (also called when training stops with an exception)."""
        if self.progress is not None:
            self.progress.stop()
            self.progress = None

    # ---- helpers ----

    def _start_bar(self, state) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn(f"[bold]{self.version}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[loss]}"), TextColumn("{task.fields[lr]}"), TextColumn("{task.fields[speed]}"),
            TimeRemainingColumn(), console=self.console, transient=False)
        self.task = self.progress.add_task("train", total=state.max_steps, completed=state.global_step,
                                           **self.fields)
        self.progress.start()

    def _elapsed(self) -> float:
        return time.perf_counter() - self.started if self.started is not None else 0.0

    def _update(self, state, logs: dict) -> None:
        elapsed, done = self._elapsed(), state.global_step - self.first_step
        rate = done * self.tokens_per_step / elapsed if elapsed > 0 and done > 0 else None
        self.fields = {"loss": f"loss {_number(logs['loss'])}",
                       "lr": f"lr {logs['learning_rate']:.2e}" if "learning_rate" in logs else "",
                       "speed": f"{rate:,.0f} tok/s" if rate else ""}
        if self.progress is not None:
            self.progress.update(self.task, completed=state.global_step, **self.fields)
            return
        eta = (state.max_steps - state.global_step) * elapsed / done if done > 0 else None
        parts = [f"step {state.global_step}/{state.max_steps}", *self.fields.values(), f"eta {_clock(eta)}"]
        self._say("  ".join(p for p in parts if p))

    def _say(self, line: str) -> None:
        """One plain line, printed above the bar when there is one; never markup, never colour codes."""
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)

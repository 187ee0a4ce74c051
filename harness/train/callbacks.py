"""Trainer callbacks: the run log's periodic lines and checkpoint completeness (the console: train/console.py)."""

from transformers import TrainerCallback

from harness.train import checkpoints

# Trainer's running loss lives in private attributes that it resets on resume; carrying them through
# the checkpoint marker is what makes a resumed run's losses equal to an uninterrupted run's.
LOSS_STATE = ("_total_loss_scalar", "_globalstep_last_logged")


class RunLogCallback(TrainerCallback):
    def __init__(self, runlog):
        self.runlog = runlog

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not state.is_world_process_zero or not logs or "train_runtime" in logs:
            return  # the final train summary goes into the metrics block instead
        self.runlog.periodic({**{k: v for k, v in logs.items() if k != "total_flos"}, "step": state.global_step})


class CheckpointCallback(TrainerCallback):
    """Marks each saved checkpoint complete, with the loss state needed for an exact resume."""

    def __init__(self, resume_from=None):
        self.trainer = None
        self.resume_from = resume_from

    def on_train_begin(self, args, state, control, **kwargs):
        marker = checkpoints.read_marker(self.resume_from) if self.resume_from else None
        if marker and "loss_state" in marker:
            saved = marker["loss_state"]
            self.trainer._total_loss_scalar = saved["_total_loss_scalar"]
            self.trainer._globalstep_last_logged = saved["_globalstep_last_logged"]
            self.trainer._tr_loss += saved["_tr_loss"]

    def on_save(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        directory = f"{args.output_dir}/checkpoint-{state.global_step}"
        loss_state = {name: getattr(self.trainer, name) for name in LOSS_STATE}
        loss_state["_tr_loss"] = float(self.trainer._tr_loss.item())
        checkpoints.mark_complete(directory, step=state.global_step, loss_state=loss_state)

"""Hydra sweeps beyond one process: what each job hands back, and how a sweep stops.

Hydra's launchers (basic, joblib, submitit) call run_clm's main once per job; the Optuna sweeper reads the
job's return value as the number it minimises.

Stopping: SLURM (through submitit) sends a signal `signal_delay_s` before a job's time limit; the run treats
it like Ctrl-C, so its log says `interrupted` and `resume=VERSION` continues it from the newest complete
checkpoint. Under joblib, Ctrl-C reaches the launcher and every worker at once; joblib's answer to the first
failed job is to SIGKILL the other workers, which would leave their logs saying `running`. So the launcher
(SweepCallback) waits for the first Ctrl-C's outcome instead, each worker records `interrupted` and returns,
a marker file in the sweep dir keeps queued jobs from starting, and the sweep then exits as interrupted.
A submitit job stopped at its time limit leaves the same marker, so its launcher exits as interrupted too.
"""

import contextlib
import math
import os
import signal
import sys
from pathlib import Path

from hydra.experimental.callback import Callback

# The number the Optuna sweeper minimises (or maximises: `hydra.sweeper.direction`).
OBJECTIVE = "eval_loss"
INTERRUPTED_MARKER = "interrupted"
STUDY_FILE = "study.yaml"
# `RUN_CLM_SWEEP_GPUS=0,1`: each joblib worker takes one of these GPUs for every job it runs.
GPUS_ENV = "RUN_CLM_SWEEP_GPUS"
_pinned_gpu: str | None = None  # this worker process's GPU, once claimed


def run_job(train_once):
    """run_clm's main, inside Hydra: `train_once()` under the sweep's rules for stopping; its return value."""
    if _uses("launcher", "joblib"):
        if _marker().exists():
            return None  # Ctrl-C reached this sweep before this job started: start nothing new
        pin_gpu(Path(str(_hydra().sweep.dir)))
    try:
        with stop_at_time_limit():
            return return_value(train_once())
    except KeyboardInterrupt:
        if not (_uses("launcher", "joblib") or _uses("launcher", "submitit")):
            raise
        # The log already says interrupted. Returning, not raising: joblib would SIGKILL the other workers, and
        # submitit would report a job that "produced no output"; the launcher ends the sweep as interrupted.
        _marker().touch()
        return None


def pin_gpu(sweep_dir: Path) -> str | None:
    """Under RUN_CLM_SWEEP_GPUS, this worker's GPU: the first one no live worker of the sweep has claimed.

    joblib's workers all see every GPU and Trainer would put every job on cuda:0. A worker runs several jobs
    one after another, and CUDA reads CUDA_VISIBLE_DEVICES once per process, so the GPU belongs to the worker
    (claimed with an exclusive file in the sweep dir, holding its pid), set before its first job touches CUDA."""
    global _pinned_gpu
    gpus = [g.strip() for g in os.environ.get(GPUS_ENV, "").split(",") if g.strip()]
    if not gpus or _pinned_gpu is not None:
        return _pinned_gpu
    claims = sweep_dir / "gpus"
    claims.mkdir(parents=True, exist_ok=True)
    for gpu in gpus:
        if _claim(claims / gpu):
            _pinned_gpu = os.environ["CUDA_VISIBLE_DEVICES"] = gpu
            return gpu
    from harness.errors import UserError

    raise UserError(f"{GPUS_ENV}={','.join(gpus)} has no GPU left for another worker: "
                    f"set hydra.launcher.n_jobs={len(gpus)}")


def _claim(path: Path) -> bool:
    """Create `path` holding our pid; a claim whose process is gone (a worker loky replaced) is taken over."""
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            if _alive(path.read_text(encoding="utf-8").strip()):
                return False
            path.unlink(missing_ok=True)
            continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return True
    return False


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def _hydra():
    from hydra.core.hydra_config import HydraConfig

    return HydraConfig.get() if HydraConfig.initialized() else None


def _uses(group: str, plugin: str, hydra_cfg=None) -> bool:
    """Whether the running job's (or the given) `hydra.launcher` / `hydra.sweeper` is that plugin's."""
    hydra_cfg = hydra_cfg if hydra_cfg is not None else _hydra()
    return hydra_cfg is not None and plugin in str(hydra_cfg[group].get("_target_", "")).lower()


def _marker(hydra_cfg=None) -> Path:
    hydra_cfg = hydra_cfg if hydra_cfg is not None else _hydra()
    return Path(str(hydra_cfg.sweep.dir)) / INTERRUPTED_MARKER


class SweepCallback(Callback):
    """A Hydra callback (conf/config.yaml `hydra.callbacks`); its multirun hooks run in the launching process."""

    def __init__(self):
        self._previous_sigint = None

    def on_multirun_start(self, config, **kwargs) -> None:
        if _uses("launcher", "joblib", config.hydra) and _main_thread():
            marker = _marker(config.hydra)
            self._previous_sigint = signal.signal(signal.SIGINT, lambda signum, frame: self._first_ctrl_c(marker))

    def _first_ctrl_c(self, marker: Path) -> None:
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        print("stopping: the running jobs record `interrupted` in their logs; Ctrl-C again kills them at once",
              file=sys.stderr)
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def on_multirun_end(self, config, **kwargs) -> None:
        if self._previous_sigint is not None:
            signal.signal(signal.SIGINT, self._previous_sigint)
        write_study(config)
        if _marker(config.hydra).exists():
            raise KeyboardInterrupt()  # the sweep ends as an interrupted run does: `error: interrupted`, exit 130


def log_fields(hydra_cfg) -> dict:
    """What a sweep job's log header records, so `harness table` can group the sweep and mark its best trial."""
    fields = {"sweep_dir": str(hydra_cfg.sweep.dir)}
    if _uses("sweeper", "optuna", hydra_cfg):
        fields["sweep_objective"] = f"{_direction(hydra_cfg.sweeper)} {OBJECTIVE}"
    return fields


def _direction(sweeper_cfg) -> str:
    direction = sweeper_cfg.get("direction", "minimize")
    return str(getattr(direction, "name", direction))  # Optuna's config holds an enum or its name


def write_study(config) -> Path:
    """`<sweep dir>/study.yaml`: the sweep's command, sweeper, objective and direction, each trial's version,
    status and objective value, and the best trial; read back from the trials' own logs."""
    import yaml

    from harness.runlog.reader import read_log
    from harness.versions import LOG_SUFFIX

    sweep_dir = str(config.hydra.sweep.dir)
    direction = _direction(config.hydra.sweeper) if _uses("sweeper", "optuna", config.hydra) else "minimize"
    trials, command = [], None
    for path in sorted(Path(str(config.paths.logs_dir)).glob(f"*{LOG_SUFFIX}")):
        try:
            log = read_log(path)
        except (OSError, ValueError, yaml.YAMLError):  # a damaged log is no trial of ours to report
            continue
        if log.fields.get("sweep_dir") != sweep_dir:
            continue
        value = (log.metrics.get("eval") or {}).get(OBJECTIVE)
        command = command or log.fields.get("sweep")
        trials.append({"version": log.fields.get("version"), "status": log.fields.get("status"),
                       OBJECTIVE: value, "command": log.fields.get("command")})
    scored = [t for t in trials if isinstance(t[OBJECTIVE], (int, float)) and math.isfinite(t[OBJECTIVE])]
    pick = min if direction == "minimize" else max
    best = pick(scored, key=lambda t: t[OBJECTIVE]) if scored else None
    study = {"command": command, "sweeper": str(config.hydra.sweeper.get("_target_", "")),
             "launcher": str(config.hydra.launcher.get("_target_", "")),
             "objective": OBJECTIVE, "direction": direction, "trials": trials,
             "best": {"version": best["version"], OBJECTIVE: best[OBJECTIVE]} if best else None}
    path = Path(sweep_dir) / STUDY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(study, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def return_value(metrics: dict):
    """A float for the Optuna sweeper (it needs `float(return_value)`); the metrics dict for everyone else."""
    if metrics is None or not _uses("sweeper", "optuna"):
        return metrics
    value = metrics.get(OBJECTIVE)
    if value is None:
        # NaN makes Optuna mark the trial failed rather than stopping the whole study with a traceback here.
        print(f"warning: this trial has no {OBJECTIVE} (no evaluation data): Optuna records it as failed",
              file=sys.stderr)
        return math.nan
    return float(value)


def time_limit_signal() -> signal.Signals | None:
    """The signal submitit has SLURM (or its local controller) send before the time limit; None outside submitit."""
    if not os.environ.get("SUBMITIT_EXECUTOR"):
        return None
    # submitit's own default and override (SUBMITIT_PREEMPT_SIGNAL), read the way submitit reads them.
    return signal.Signals["SIG" + os.environ.get("SUBMITIT_PREEMPT_SIGNAL", "USR2")]


def _stop(signum, frame):
    from harness.errors import Interrupted

    raise Interrupted()


@contextlib.contextmanager
def stop_at_time_limit():
    """While the block runs, the time-limit signal stops the run as Ctrl-C does (log: `interrupted`).

    submitit's own handler would requeue a fresh copy of the job (a new version, starting over) or end it
    as failed; a run that can resume wants to stop cleanly instead and be continued with `resume=`."""
    signum = time_limit_signal()
    if signum is None or not _main_thread():
        yield
        return
    previous = signal.signal(signum, _stop)
    try:
        yield
    finally:
        signal.signal(signum, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()

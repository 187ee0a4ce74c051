"""Sweeps beyond one process: joblib side by side, submitit (local executor, the SLURM code path), Optuna.

Each run is a real `python run_clm.py -m ...` subprocess on a tiny model; interruptions are real signals,
and the tests poll the logs for the state they wait for."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UserError
from harness.runlog.reader import read_log
from harness.train import sweep
from tests.test_resume import _wait_for
from tests.tiny import CONF, ROOT, TINY

# Long enough to be interrupted while training, with a checkpoint every 4 steps to resume from.
LONG = [*TINY, "train.max_steps=100000", "train.save_steps=4"]


def _start(workdir, cache_dir, corpus, *args) -> subprocess.Popen:
    """A sweep in its own process group, as a terminal would start it (Ctrl-C goes to the whole group)."""
    env = {**os.environ, "RUN_CLM_CACHE": str(cache_dir), "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, str(ROOT / "run_clm.py"), "-m", f"data.train_file={corpus}", *args],
                            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)


def _stop_group(process: subprocess.Popen) -> None:
    """End whatever the sweep left behind (joblib's idle workers linger a while after their parent)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=30)


def _status(path: Path) -> str | None:
    return read_log(path).fields.get("status") if path.is_file() else None


def _reached_step(path: Path, step: int) -> bool:
    return path.is_file() and f"'step': {step}}}" in path.read_text()


def _sweep_dirs(workdir: Path) -> list[Path]:
    return sorted((workdir / "logs" / "sweeps").iterdir())


def _nothing_in_cwd_but(workdir: Path, *expected: str) -> None:
    assert sorted(p.name for p in workdir.iterdir()) == sorted(expected)


# ----- fast: configuration and the value handed back to the sweeper -----

def _hydra_config(*overrides):
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("config", overrides=list(overrides), return_hydra_config=True)


def test_sweep_bookkeeping_goes_beside_the_logs():
    import re

    cfg = _hydra_config("paths.logs_dir=/data/runs/logs")
    assert re.fullmatch(r"/data/runs/logs/sweeps/\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d", cfg.hydra.sweep.dir)
    assert cfg.hydra.sweep.subdir == "." and cfg.hydra.output_subdir is None and cfg.hydra.run.dir == "."


def test_presets_compose_onto_the_plugins():
    slurm = _hydra_config("hydra/launcher=slurm_gpu", "hydra.launcher.partition=long").hydra.launcher
    assert slurm._target_.endswith("SlurmLauncher") and slurm.partition == "long" and slurm.gpus_per_node == 1
    assert slurm.signal_delay_s > 0 and slurm.max_num_timeout == 0
    search = _hydra_config("hydra/sweeper=lr_search", "hydra.sweeper.n_trials=3").hydra.sweeper
    assert search._target_.endswith("OptunaSweeper") and search.direction == "minimize" and search.n_trials == 3
    assert set(search.params) == {"train.learning_rate", "train.warmup_steps", "train.weight_decay"}
    assert search.params["train.learning_rate"].startswith("tag(log, interval(")


def test_the_optuna_sweeper_gets_eval_loss_as_a_float_and_everyone_else_the_metrics(monkeypatch, capsys):
    from omegaconf import OmegaConf

    def sweeper(target):
        return lambda: OmegaConf.create({"sweeper": {"_target_": target}})

    metrics = {"version": "1.0", "train_loss": 3.0, "eval_loss": 2.5}
    assert sweep.return_value(metrics) is metrics  # outside Hydra
    monkeypatch.setattr(sweep, "_hydra", sweeper("hydra._internal.core_plugins.basic_sweeper.BasicSweeper"))
    assert sweep.return_value(metrics) is metrics
    monkeypatch.setattr(sweep, "_hydra", sweeper("hydra_plugins.hydra_optuna_sweeper.optuna_sweeper.OptunaSweeper"))
    value = sweep.return_value(metrics)
    assert type(value) is float and value == 2.5
    assert sweep.return_value({"train_loss": 3.0}) != sweep.return_value({"train_loss": 3.0})  # NaN: a failed trial
    assert "no eval_loss" in capsys.readouterr().err


def test_the_time_limit_signal_is_submitits(monkeypatch):
    monkeypatch.delenv("SUBMITIT_EXECUTOR", raising=False)
    assert sweep.time_limit_signal() is None
    monkeypatch.setenv("SUBMITIT_EXECUTOR", "slurm")
    monkeypatch.delenv("SUBMITIT_PREEMPT_SIGNAL", raising=False)
    assert sweep.time_limit_signal() == signal.SIGUSR2
    monkeypatch.setenv("SUBMITIT_PREEMPT_SIGNAL", "USR1")
    assert sweep.time_limit_signal() == signal.SIGUSR1


def test_the_time_limit_signal_interrupts_like_ctrl_c(monkeypatch):
    from harness.errors import Interrupted

    monkeypatch.setenv("SUBMITIT_EXECUTOR", "local")
    monkeypatch.setenv("SUBMITIT_PREEMPT_SIGNAL", "USR2")
    before = signal.getsignal(signal.SIGUSR2)
    with pytest.raises(Interrupted):
        with sweep.stop_at_time_limit():
            signal.raise_signal(signal.SIGUSR2)
    assert signal.getsignal(signal.SIGUSR2) is before


# ----- slow: real sweeps -----

@pytest.mark.slow
def test_joblib_runs_jobs_side_by_side_each_with_its_own_version(workdir, cache_dir, corpus):
    process = _start(workdir, cache_dir, corpus, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *TINY,
                     "train.max_steps=4", "train.learning_rate=1e-3,1e-4,5e-5")
    try:
        _, stderr = process.communicate(timeout=300)
    finally:
        _stop_group(process)
    assert process.returncode == 0, stderr[-3000:]
    logs = sorted((workdir / "logs").glob("*.log"))
    assert [p.name for p in logs] == ["1.0.log", "1.1.log", "1.2.log"]  # none shared, none skipped
    records = [read_log(p) for p in logs]
    assert all(r.fields["status"] == "finished" for r in records)
    rates = sorted(r.sections["config"]["train"]["learning_rate"] for r in records)
    assert rates == [5e-5, 1e-4, 1e-3]
    assert sorted(r.fields["output_dir"] for r in records) == [str(Path("outputs") / v) for v in ("1.0", "1.1", "1.2")]
    assert all((workdir / "outputs" / v / "model.safetensors").is_file() for v in ("1.0", "1.1", "1.2"))
    [sweep_dir] = _sweep_dirs(workdir)
    assert (sweep_dir / "multirun.yaml").is_file()
    _nothing_in_cwd_but(workdir, "train.txt", "logs", "outputs")


@pytest.mark.slow
def test_ctrl_c_stops_every_joblib_job_and_each_log_says_interrupted(workdir, cache_dir, corpus):
    process = _start(workdir, cache_dir, corpus, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", *LONG,
                     "train.learning_rate=1e-3,1e-4,5e-5")  # the third waits for a free worker
    logs = [workdir / "logs" / "1.0.log", workdir / "logs" / "1.1.log"]
    try:
        _wait_for(lambda: all(_reached_step(p, 4) for p in logs), process, timeout=240)
        os.killpg(process.pid, signal.SIGINT)  # a terminal's Ctrl-C: every process of the foreground group
        _, stderr = process.communicate(timeout=120)
    finally:
        _stop_group(process)
    assert [_status(p) for p in logs] == ["interrupted", "interrupted"], stderr[-3000:]
    assert all(read_log(p).fields.get("ended") for p in logs)
    assert sorted(p.name for p in (workdir / "logs").glob("*.log")) == ["1.0.log", "1.1.log"]  # the third never started
    assert process.returncode == 130 and "error: interrupted" in stderr and "Traceback" not in stderr


def _submitit_task(process: subprocess.Popen):
    """The process that runs the job under submitit's local executor (launcher -> controller -> task)."""
    import psutil

    tasks = [p for p in psutil.Process(process.pid).children(recursive=True)
             if "submitit.core._submit" in " ".join(p.cmdline())]
    assert len(tasks) == 1, tasks
    return tasks[0]


@pytest.mark.slow
def test_submitit_job_stopped_at_its_time_limit_is_interrupted_and_resumes(run_cli, workdir, cache_dir, corpus):
    # submitit_local runs the same launcher code as submitit_slurm, in local processes.
    # 200 steps: time to stop it at step 8, few enough to finish on resume.
    process = _start(workdir, cache_dir, corpus, "hydra/launcher=submitit_local", "version=sl", *LONG,
                     "train.max_steps=200")
    log = workdir / "logs" / "sl-0.log"  # a sweep of one job: version sl, job 0
    try:
        _wait_for(lambda: _reached_step(log, 8), process, timeout=240)
        # What SLURM sends signal_delay_s before the time limit (submitit's signal, USR2 unless configured).
        _submitit_task(process).send_signal(signal.SIGUSR2)
        _, stderr = process.communicate(timeout=120)
    finally:
        _stop_group(process)
    assert _status(log) == "interrupted", stderr[-3000:]
    assert process.returncode == 130 and "error: interrupted" in stderr
    [sweep_dir] = _sweep_dirs(workdir)
    assert list((sweep_dir / ".submitit").glob("*/*_submitted.pkl"))  # submitit's files beside the logs

    resumed = run_cli("resume=sl-0", timeout=300)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    record = read_log(log)
    assert record.fields["status"] == "finished" and "checkpoint-" in record.fields["resumed"]


def test_table_groups_a_sweep_and_marks_its_best_trial():
    from harness.compare.records import RUNLOG, Run
    from harness.compare.table import build_table

    def run(version, sweep_dir, eval_loss, objective=None):
        fields = {"sweep_dir": sweep_dir} if sweep_dir else {}
        if objective:
            fields["sweep_objective"] = objective
        return Run(version=version, source=f"logs/{version}.log", source_kind=RUNLOG, fields=fields,
                   eval_metrics={"eval_loss": eval_loss, "eval_accuracy": 1 / eval_loss})

    runs = [run("1.0", "logs/sweeps/A", 3.0), run("1.1", "logs/sweeps/A", 2.0), run("1.2", "logs/sweeps/A", float("nan")),
            run("2.0", "logs/sweeps/B", 2.5, "maximize eval_accuracy"), run("2.1", "logs/sweeps/B", 1.5, "maximize eval_accuracy"),
            run("3.0", None, 1.0)]
    table = build_table(runs[::-1], sort="sweep")  # sorting by sweep groups each sweep's trials
    assert [c.key for c in table.columns][:3] == ["version", "parent", "sweep"]
    assert [(row["version"], row["sweep"]) for row in table.rows] == [
        ("1.2", "A"), ("1.0", "A"), ("1.1", "A best"), ("2.0", "B"), ("2.1", "B best"), ("3.0", None)]  # B: accuracy
    assert "sweep" not in [c.key for c in build_table(runs[-1:]).columns]  # no sweep, no column


def test_plot_puts_a_sweeps_final_metric_against_its_hyper_parameter(tmp_path):
    from harness.compare import knobs
    from harness.compare.records import RUNLOG, Run

    def run(version, sweep_dir, lr, eval_loss):
        return Run(version=version, source=f"{version}.log", source_kind=RUNLOG, hyperparameters={"learning_rate": lr},
                   fields={"sweep_dir": sweep_dir} if sweep_dir else {}, eval_metrics={"eval_loss": eval_loss})

    runs = [run("1.0", "logs/sweeps/A", 1e-3, 2.0), run("1.1", "logs/sweeps/A", 1e-5, 4.0),
            run("1.2", "logs/sweeps/A", 1e-4, 3.0), run("2.0", None, 5e-4, 2.5), run("3.0", None, None, 1.0)]
    planned = knobs.plan(runs, "learning_rate", ["eval_loss"], None)
    [panel] = planned.panels
    assert sorted((x, y) for x, y, _ in panel.points) == [(1e-5, 4.0), (1e-4, 3.0), (5e-4, 2.5), (1e-3, 2.0)]
    assert planned.log_x  # a learning rate: logarithmic
    assert planned.sweep_of == {"1.0": "sweep A", "1.1": "sweep A", "1.2": "sweep A"}  # 2.0 is outside any sweep
    from harness.cli.plot import draw_sweep

    out = draw_sweep(planned, str(tmp_path / "lr.png"))
    assert open(out, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(UserError, match="learning_rate"):
        knobs.plan(runs, "weight_decay", ["eval_loss"], None)


@pytest.mark.slow
def test_optuna_search_gets_eval_loss_and_records_its_study(workdir, cache_dir, corpus):
    import yaml

    searched = [a for a in TINY if not a.startswith("train.learning_rate=")]  # given here, it would be fixed
    process = _start(workdir, cache_dir, corpus, "hydra/sweeper=lr_search", "hydra.sweeper.n_trials=2",
                     "hydra.sweeper.sampler.n_startup_trials=1", *searched, "train.max_steps=4")
    try:
        _, stderr = process.communicate(timeout=300)
    finally:
        _stop_group(process)
    assert process.returncode == 0, stderr[-3000:]
    logs = [read_log(p) for p in sorted((workdir / "logs").glob("*.log"))]
    assert [r.fields["version"] for r in logs] == ["1.0", "1.1"]  # every trial a version with its own log
    assert all(r.fields["sweep_objective"] == "minimize eval_loss" for r in logs)
    rates = {r.sections["config"]["train"]["learning_rate"] for r in logs}
    assert len(rates) == 2 and all(1e-5 <= lr <= 1e-2 for lr in rates)  # sampled from the preset's range

    [sweep_dir] = _sweep_dirs(workdir)
    assert {r.fields["sweep_dir"] for r in logs} == {str(Path("logs") / "sweeps" / sweep_dir.name)}
    losses = {r.fields["version"]: r.metrics["eval"]["eval_loss"] for r in logs}
    optuna_result = yaml.safe_load((sweep_dir / "optimization_results.yaml").read_text())
    assert optuna_result["best_value"] == min(losses.values())  # what main returned is what Optuna minimised
    study = yaml.safe_load((sweep_dir / "study.yaml").read_text())
    best = min(losses, key=losses.get)
    assert study["direction"] == "minimize" and study["objective"] == "eval_loss"
    assert study["command"].startswith("python run_clm.py -m ") and " hydra/sweeper=lr_search " in study["command"]
    assert study["best"] == {"version": best, "eval_loss": losses[best]}
    assert [t["version"] for t in study["trials"]] == ["1.0", "1.1"]
    _nothing_in_cwd_but(workdir, "train.txt", "logs", "outputs")

    table = subprocess.run([sys.executable, "-m", "harness", "table", "--format", "csv", "--no-cache",
                            "--columns", "version,sweep,eval_loss"], cwd=workdir, capture_output=True, text=True)
    assert table.returncode == 0, table.stderr
    assert f"{best},{sweep_dir.name} best," in table.stdout
    plot = subprocess.run([sys.executable, "-m", "harness", "plot", "--x", "learning_rate", "--no-cache",
                           "--out", str(workdir.parent / "lr.png")], cwd=workdir, capture_output=True, text=True)
    assert plot.returncode == 0 and "(2 versions, eval_loss vs learning_rate" in plot.stdout, plot.stderr


def test_each_joblib_worker_takes_its_own_gpu(monkeypatch, tmp_path):
    monkeypatch.setenv(sweep.GPUS_ENV, "2,3")
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(sweep, "_pinned_gpu", None)
    assert sweep.pin_gpu(tmp_path) == "2" and os.environ["CUDA_VISIBLE_DEVICES"] == "2"
    assert sweep.pin_gpu(tmp_path) == "2"  # the same worker's next job keeps its GPU

    monkeypatch.setattr(sweep, "_pinned_gpu", None)  # a second worker (this test's process plays both)
    assert sweep.pin_gpu(tmp_path) == "3" and os.environ["CUDA_VISIBLE_DEVICES"] == "3"

    monkeypatch.setattr(sweep, "_pinned_gpu", None)  # a third: none left while both claimants live
    with pytest.raises(UserError, match="hydra.launcher.n_jobs=2"):
        sweep.pin_gpu(tmp_path)

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / "gpus" / "2").write_text(dead.stdout.strip())  # a worker that is gone frees its GPU
    assert sweep.pin_gpu(tmp_path) == "2"
    monkeypatch.setattr(sweep, "_pinned_gpu", None)
    monkeypatch.delenv(sweep.GPUS_ENV)
    assert sweep.pin_gpu(tmp_path) is None

"""Re-run one version of a hand-kept notebook from the command line it recorded, and compare the metrics.

`harness reproduce 3.4 notes.txt`: the notebook's `run_clm.py` line for 3.4 (HF's flags, as people paste
them) goes through harness.train.hf_flags like any command line, trains as version `3.4-r1`, and the new
final metrics are compared with the ones the notebook recorded. A notebook records neither data hashes nor
full precision (Trainer prints 4 decimals) nor, usually, which GPU ran it, so the default tolerance is the
spread of a GPU fp16 re-run (NOTEBOOK_RTOL), and the verdict says what could not be checked.
"""

from pathlib import Path

from harness import versions
from harness.compare import cmdline
from harness.errors import UserError
from harness.rerun.reproduce import Outcome, compare, next_rerun_name
from harness.runlog.reader import read_log
from harness.train.config import DataConfig, RunConfig

# fp16 on another GPU, driver or library version moves final losses by up to about a percent.
NOTEBOOK_RTOL = 0.01
HYDRA_FLAGS = ("-m", "--multirun", "--cfg", "-c", "--info", "-i", "--help", "-h")


def find_run(version: str, notebook: str):
    """The notebook's record of `version`: the Run the table would show for it."""
    from harness.compare.load import load_runs
    from harness.compare.lookup import close_matches

    if not Path(notebook).is_file():
        raise UserError(f"no such notebook file: {notebook}")
    runs, _ = load_runs([notebook])
    found = [r for r in runs if r.version == version]
    if not found:
        matches = close_matches(version, runs) or sorted({r.version for r in runs})[:12]
        raise UserError(f"no version {version} in {notebook}" + (f"; versions there: {', '.join(matches)}"
                                                                   if matches else ""))
    return found[0]


def recorded_argv(run) -> list[str]:
    """The arguments after `run_clm.py` in the notebook's launch line for this version."""
    command = next((c for c in reversed(run.commands) if "run_clm" in c), None)
    if command is None:
        raise UserError(f"{run.where}: version {run.version} records no run_clm.py command line to re-run")
    tokens = cmdline.split(command)
    start = next((i + 1 for i, token in enumerate(tokens) if token.endswith("run_clm.py")), None)
    if start is None:
        raise UserError(f"{run.where}: cannot find run_clm.py in the recorded command {command!r}")
    return tokens[start:]


def reproduce_notebook(version: str, notebook: str, logs_dir="logs", *, rtol: float = NOTEBOOK_RTOL,
                       atol: float = 0.0, overrides=(), on_rerun=None) -> Outcome:
    run = find_run(version, notebook)
    if not (run.train_metrics or run.eval_metrics):
        raise UserError(f"{run.where}: version {version} records no final metrics to compare with")
    argv, caveats = recorded_argv(run), []
    if any(a.startswith("--") for a in argv) and "--do_train" not in argv and run.train_metrics:
        argv.append("--do_train")
        caveats.append("the recorded command has no --do_train (HF's script would not have trained); added, "
                       "since the notebook has train metrics")
    rerun = next_rerun_name(logs_dir, version)
    hydra_argv, hf_command = _translated(argv + [f"version={rerun}", f"paths.logs_dir={logs_dir}", *overrides])
    cfg = _compose(hydra_argv, note=f"reproduction of {version} from {run.where}")
    if on_rerun:
        on_rerun(version, rerun)
    _train(cfg, hydra_argv, hf_command, version, notebook)
    rerun_log = read_log(versions.log_path(logs_dir, rerun))
    caveats += unknown_data(RunConfig.from_cfg(cfg).data)
    recorded = {"train": run.train_metrics, "eval": run.eval_metrics}
    return Outcome(version, rerun, compare(recorded, _only(recorded, rerun_log.metrics), rtol, atol),
                   caveats=caveats)


def _translated(argv: list[str]) -> tuple[list[str], str | None]:
    from harness.train.hf_flags import translate

    if bad := [a for a in argv if a in HYDRA_FLAGS]:
        raise UserError(f"the recorded command has {' '.join(bad)}: a notebook version is re-run as one run")
    translation = translate(argv)
    return (translation.argv, translation.hf_command) if translation else (argv, None)


def _compose(hydra_argv: list[str], note: str):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from harness.train.hf_flags import CONF_DIR
    from harness.train.hydra_job import config_error_message

    try:
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose("config", overrides=hydra_argv)
    except Exception as exc:
        message = config_error_message(exc)
        if message is None:
            raise
        raise UserError(f"the recorded command: {message}") from exc
    OmegaConf.update(cfg, "note", note)
    return cfg


def _train(cfg, hydra_argv: list[str], hf_command: str | None, version: str, notebook: str) -> None:
    from harness.train.hydra_job import raw_values
    from harness.train.pipeline import Job, train

    job = Job(command=f"python -m harness reproduce {version} {notebook}", raw=raw_values(hydra_argv),
              overrides=hydra_argv, hf_command=hf_command)
    train(cfg, job)


def _only(recorded: dict, reproduced: dict) -> dict:
    """The re-run's metrics the notebook also recorded: a notebook rarely pasted all of them."""
    return {split: {k: v for k, v in reproduced.get(split, {}).items() if k in keys}
            for split, keys in recorded.items()}


def unknown_data(data: DataConfig) -> list[str]:
    named = [f for f in (data.train_file, data.validation_file) if f] or (
        [data.dataset_name] if data.dataset_name else [])
    return [f"data content unknown: the notebook records no hash of {', '.join(map(str, named))}, so whether it "
            "held the same text then cannot be checked"] if named else []

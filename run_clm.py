"""Fine-tune or train a causal language model on plain text files, with a versioned run log.

    python run_clm.py                                   # the embedded default: a tiny GPT-2 on Python's docs
    python run_clm.py model=gpt2 data.train_file=TestData.txt train.learning_rate=1e-4
    python run_clm.py --cfg job                         # show the resolved config
    python run_clm.py -m train.learning_rate=1e-3,1e-4  # a sweep: one version per value
    python run_clm.py -m hydra/launcher=joblib hydra.launcher.n_jobs=2 train.learning_rate=1e-3,1e-4  # side by side
    python run_clm.py -m hydra/sweeper=lr_search        # an Optuna search minimising eval_loss

Every knob is a Hydra override; see conf/ and README.md.
"""

import os
import signal
import sys

import hydra
from omegaconf import DictConfig

from harness.errors import UserError, exit_code, raise_interrupted, report, system_error
from harness.train.config import CONF_DIR

CONFIG_DIR = str(CONF_DIR)
HF_COMMAND: list[str] = []  # the HF-style command line as given, when cli() translated one


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> dict | float:
    """The run's metrics; under the Optuna sweeper, the float it minimises (eval_loss)."""
    from harness.train.hydra_job import job_from_hydra
    from harness.train.pipeline import train
    from harness.train.sweep import run_job

    try:
        def run() -> dict:
            job = job_from_hydra(sys.argv)
            job.hf_command = HF_COMMAND[0] if HF_COMMAND else None
            return train(cfg, job)

        return run_job(run)
    except UserError as exc:
        # Exiting here, not raising, keeps Hydra from adding its own "Error executing job" line.
        sys.exit(report(str(exc)))
    except Exception as exc:
        system = system_error(exc) if os.environ.get("RUN_CLM_TRACEBACK") != "1" else None
        if system is None:
            raise
        sys.exit(report(system, 1))  # the log already says crashed, with the error


def cli() -> int:
    """Bad input is one line on stderr and exit 2; HYDRA_FULL_ERROR=1 still shows the whole traceback."""
    # From the first moment: a SIGTERM during setup cleans up like Ctrl-C (no claimed, empty log left behind).
    signal.signal(signal.SIGTERM, raise_interrupted)
    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    if wants_traceback:
        os.environ["RUN_CLM_TRACEBACK"] = "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let config errors reach us instead of Hydra's multi-line report
    from harness.train.hydra_job import quote_free_text, validate_sweep

    try:
        _translate_hf_flags()
        sys.argv[1:] = quote_free_text(sys.argv[1:])
        validate_sweep(sys.argv[1:], CONFIG_DIR)
        main()
    except UserError as exc:
        return report(str(exc))
    except KeyboardInterrupt as interrupt:
        return report("interrupted", exit_code(interrupt))
    except Exception as exc:
        from harness.train.hydra_job import config_error_message

        message = config_error_message(exc)
        if message is None and not wants_traceback and (system := system_error(exc)):
            return report(system, 1)  # a read-only logs directory, a full disk: the system's words, one line
        if message is None or wants_traceback:
            raise
        return report(message)
    return 0


def _translate_hf_flags() -> None:
    """HF run_clm.py's own flags (`--train_file a.txt --do_train`) become overrides before Hydra reads argv."""
    from harness.train.hf_flags import translate

    translation = translate(sys.argv[1:])
    if translation is None:
        return
    sys.argv[1:] = translation.argv
    HF_COMMAND[:] = [translation.hf_command]
    if os.environ.get("RANK", "0") == "0":  # once, not once per torchrun process
        print(f"same as: {translation.hydra_command}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(cli())

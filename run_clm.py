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
import sys

import hydra
from omegaconf import DictConfig

from harness.errors import UserError, report

CONFIG_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conf")


@hydra.main(version_base="1.3", config_path=CONFIG_DIR, config_name="config")
def main(cfg: DictConfig) -> dict | float:
    """The run's metrics; under the Optuna sweeper, the float it minimises (eval_loss)."""
    from harness.train.hydra_job import job_from_hydra
    from harness.train.pipeline import train
    from harness.train.sweep import run_job

    try:
        return run_job(lambda: train(cfg, job_from_hydra(sys.argv)))
    except UserError as exc:
        # Exiting here, not raising, keeps Hydra from adding its own "Error executing job" line.
        sys.exit(report(str(exc)))


def cli() -> int:
    """Bad input is one line on stderr and exit 2; HYDRA_FULL_ERROR=1 still shows the whole traceback."""
    wants_traceback = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"  # let config errors reach us instead of Hydra's multi-line report
    from harness.train.hydra_job import quote_free_text, validate_sweep

    sys.argv[1:] = quote_free_text(sys.argv[1:])
    try:
        validate_sweep(sys.argv[1:], CONFIG_DIR)
        main()
    except UserError as exc:
        return report(str(exc))
    except KeyboardInterrupt:
        return report("interrupted", 130)
    except Exception as exc:
        from harness.train.hydra_job import config_error_message

        message = config_error_message(exc)
        if message is None or wants_traceback:
            raise
        return report(message)
    return 0


if __name__ == "__main__":
    sys.exit(cli())

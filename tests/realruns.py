"""Two real tiny runs, trained once per test session, for show/diff/plot: 3.3 and 3.4 differ only in
learning_rate; 3.5 is fine-tuned from 3.4 (init_from) with a note and recorded samples.

tests/conftest.py imports the fixture, so every test module can ask for `real_runs`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tiny import CONF, TINY

COMMON = ["train.max_steps=4", "train.logging_steps=1", "train.save_steps=4", "train.eval_strategy=steps",
          "+train.eval_steps=2", "data.max_eval_samples=8"]


_TRAINED: dict[str, Path] = {}  # each test module imports the fixture: train once all the same


@pytest.fixture(scope="session")
def real_runs(tmp_path_factory, cache_dir, corpus_text) -> Path:
    """The project directory holding logs/3.3.log, logs/3.4.log, logs/3.5.log and outputs/."""
    if "root" in _TRAINED:
        return _TRAINED["root"]
    from hydra import compose, initialize_config_dir

    from harness.train.pipeline import Job, train

    root = tmp_path_factory.mktemp("real_runs")
    corpus = root / "train.txt"
    corpus.write_text(corpus_text, encoding="utf-8")
    base = [f"paths.logs_dir={root / 'logs'}", f"paths.output_root={root / 'outputs'}",
            f"paths.cache_dir={cache_dir}", f"data.train_file={corpus}", *TINY, *COMMON]
    runs = [("3.3", ["train.learning_rate=1e-3"]),
            ("3.4", ["train.learning_rate=2e-3"]),
            ("3.5", ["init_from=3.4", "train.learning_rate=5e-4", "note=lower lr: does a long tail help?",
                     "eval.prompts=[\"def main():\"]", "eval.max_new_tokens=4"])]
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        for version, overrides in runs:
            with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
                cfg = compose("config", overrides=base + [f"version={version}", *overrides])
            raw = {"version": version, **{k: v for k, _, v in (o.partition("=") for o in overrides)
                                          if k == "init_from"}}
            train(cfg, Job(command=f"python run_clm.py version={version} {' '.join(overrides)}", raw=raw))
    _TRAINED["root"] = root
    return root

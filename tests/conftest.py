"""Shared fixtures: configs composed from conf/ into tmp_path, a tiny model, a small corpus, no network."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.realruns import real_runs  # noqa: F401  (session fixture: three tiny trained versions)
from tests.tiny import CONF, ROOT, TINY

# Nothing in the suite may reach a hub.
for key in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[key] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# The harness's parse cache and run_clm's data cache go to a throw-away directory, never ~/.cache.
os.environ["RUN_CLM_CACHE"] = tempfile.mkdtemp(prefix="run_clm_tests_")
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
# Subprocesses (run_clm.py, python -m harness) import the tree under test, whatever is installed in the venv.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))



@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    """One cache for the session: trained tokenizers and packed data are reused across tests."""
    path = tmp_path_factory.mktemp("cache")
    os.environ["HF_HOME"] = str(path / "hf")
    os.environ["HF_DATASETS_CACHE"] = str(path / "hf_datasets")
    return path


@pytest.fixture(scope="session")
def corpus_text():
    from pydoc_data.topics import topics

    return "\n\n".join(topics[k] for k in sorted(topics))[:60_000]


@pytest.fixture
def corpus(tmp_path, corpus_text) -> Path:
    path = tmp_path / "train.txt"
    path.write_text(corpus_text, encoding="utf-8")
    return path


@pytest.fixture
def workdir(tmp_path, monkeypatch) -> Path:
    """Runs happen in tmp_path: logs/ and outputs/ land there."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def compose(workdir, cache_dir, corpus):
    """compose(*overrides) -> the DictConfig run_clm.py would get, tiny and pointed at tmp_path."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    def _compose(*overrides, tiny=True):
        base = [f"paths.logs_dir={workdir / 'logs'}", f"paths.output_root={workdir / 'outputs'}",
                f"paths.cache_dir={cache_dir}", f"data.train_file={corpus}"]
        with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
            return hydra_compose("config", overrides=base + (TINY if tiny else []) + list(overrides))

    return _compose


@pytest.fixture
def run_cli(workdir, cache_dir):
    """run_cli(*args) -> CompletedProcess of `python run_clm.py ARGS` in tmp_path."""

    def _run(*args, timeout=300, env=None):
        full_env = {**os.environ, "RUN_CLM_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1", **(env or {})}
        return subprocess.run([sys.executable, str(ROOT / "run_clm.py"), *args], cwd=workdir, env=full_env,
                              capture_output=True, text=True, timeout=timeout)

    return _run


@pytest.fixture(scope="session")
def pretrained(tmp_path_factory, cache_dir, corpus_text):
    """A tiny GPT-2 with a tokenizer, saved like a downloaded model (random weights are enough here)."""
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config

    from harness.train.modeling import train_tokenizer

    root = tmp_path_factory.mktemp("pretrained")
    text = root / "text.txt"
    text.write_text(corpus_text, encoding="utf-8")
    _, tokenizer = train_tokenizer([str(text)], 400, cache_dir)
    torch.manual_seed(0)
    config = GPT2Config(n_layer=2, n_head=2, n_embd=64, n_positions=64, vocab_size=len(tokenizer),
                        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
    model_dir = root / "tiny-gpt2"
    AutoModelForCausalLM.from_config(config).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return model_dir


@pytest.fixture
def interrupt_at_step(monkeypatch):
    """interrupt_at_step(n): Ctrl-C arrives at Trainer's n-th training step; it returns a function undoing it."""
    from transformers import Trainer

    real = Trainer.training_step

    def arm(n: int):
        calls = []

        def step(self, *args, **kwargs):
            calls.append(1)
            if len(calls) == n:
                raise KeyboardInterrupt()
            return real(self, *args, **kwargs)

        monkeypatch.setattr(Trainer, "training_step", step)
        return lambda: monkeypatch.setattr(Trainer, "training_step", real)

    return arm


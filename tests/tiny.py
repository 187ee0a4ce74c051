"""Constants the tests share: where the project is, and the overrides that make a model tiny.

Kept out of conftest.py so that test modules can import them without running conftest a second time."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONF = ROOT / "conf"

# 2 layers, 64 dims: big enough to learn, small enough to train in seconds.
TINY = [
    "model.config_overrides.n_layer=2",
    "model.config_overrides.n_head=2",
    "model.config_overrides.n_embd=64",
    "model.config_overrides.n_positions=64",
    "model.tokenizer_vocab_size=400",
    "data.block_size=32",
    "train.per_device_train_batch_size=4",
    "train.per_device_eval_batch_size=4",
    "train.max_steps=8",
    "train.logging_steps=2",
    "train.save_steps=4",
    "train.eval_strategy=no",
    "train.learning_rate=1e-3",
]


def tiny_cli_args(workdir: Path, corpus: Path, *extra) -> list[str]:
    return [f"data.train_file={corpus}", *TINY, *extra]


def run_command(capsys, *argv) -> tuple[int, str, str]:
    """`python -m harness ARGV` in this process: (exit code, stdout, stderr)."""
    from harness.cli.main import main

    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err

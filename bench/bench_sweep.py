"""A four-job learning-rate sweep run two ways: Hydra's basic launcher (the jobs one after another in one
process) against hydra-joblib-launcher with n_jobs=2 (two worker processes side by side).

    python bench/bench_sweep.py [--steps 40] [--rounds 2] [--n-jobs 2] [--threads N]

Both run the same command, `python run_clm.py -m train.learning_rate=1e-3,1e-4,5e-5,1e-6 ...` on the same
small GPT-2-shaped model (2 layers, 128 dims, block 64) and the same text, differing only in
`hydra/launcher=joblib hydra.launcher.n_jobs=N`. The data cache is filled once before timing, so neither mode
pays for tokenization. Each round runs both modes, alternating which goes first, each in a fresh directory;
what is timed is the whole command's wall clock, start-up included. Medians over the rounds are printed side
by side with the joblib / basic ratio (below 1 = joblib faster).

Threads: by default neither mode sets OMP_NUM_THREADS: joblib's workers get cores / n_jobs threads each
(loky's default), the basic launcher's one process all of them, as a user would run them. `--threads N` sets
OMP_NUM_THREADS=N for both, to separate the gain from running side by side from the cost of threads that
wait on each other when other processes hold the cores. On a shared machine the figures move with the
other users' load: compare the two columns of one run, not runs made at different times.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RATES = "1e-3,1e-4,5e-5,1e-6"


def sweep_args(corpus: Path, steps: int) -> list[str]:
    return [f"data.train_file={corpus}", "model.config_overrides.n_layer=2", "model.config_overrides.n_head=2",
            "model.config_overrides.n_embd=128", "model.config_overrides.n_positions=64",
            "model.tokenizer_vocab_size=1000", "data.block_size=64", "train.per_device_train_batch_size=8",
            f"train.max_steps={steps}", "train.logging_steps=10", "train.save_strategy=no", "train.eval_strategy=no",
            "data.max_eval_samples=32"]


def run(mode: str, corpus: Path, steps: int, n_jobs: int, env: dict) -> float:
    launcher = ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}"] if mode == "joblib" else []
    with tempfile.TemporaryDirectory(prefix=f"bench_sweep_{mode}_") as work:
        command = [sys.executable, str(ROOT / "run_clm.py"), "-m", *launcher, *sweep_args(corpus, steps),
                   f"train.learning_rate={RATES}"]
        start = time.perf_counter()
        result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"{mode} sweep failed:\n{result.stderr[-3000:]}")
        logs = sorted(p.name for p in (Path(work) / "logs").glob("*.log"))
        if logs != ["1.0.log", "1.1.log", "1.2.log", "1.3.log"]:
            sys.exit(f"{mode} sweep wrote {logs}, not four versions")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=40, help="training steps per job")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--n-jobs", type=int, default=2)
    parser.add_argument("--threads", type=int, help="OMP_NUM_THREADS for both modes (default: unset)")
    args = parser.parse_args()

    from pydoc_data.topics import topics

    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as root:
        corpus = Path(root) / "train.txt"
        corpus.write_text("\n\n".join(topics[k] for k in sorted(topics))[:200_000], encoding="utf-8")
        env = {**os.environ, "RUN_CLM_CACHE": str(Path(root) / "cache"), "HF_HUB_OFFLINE": "1",
               "TOKENIZERS_PARALLELISM": "false", "PYTHONPATH": str(ROOT)}
        if args.threads:
            env["OMP_NUM_THREADS"] = str(args.threads)
        run("basic", corpus, 1, args.n_jobs, env)  # fills the tokenizer and data caches; not timed
        times = {"basic": [], "joblib": []}
        for round_number in range(args.rounds):
            order = ("basic", "joblib") if round_number % 2 == 0 else ("joblib", "basic")
            for mode in order:
                times[mode].append(run(mode, corpus, args.steps, args.n_jobs, env))
                print(f"round {round_number + 1}: {mode:6} {times[mode][-1]:7.1f} s", flush=True)
    basic, joblib = statistics.median(times["basic"]), statistics.median(times["joblib"])
    threads = f"OMP_NUM_THREADS={args.threads}" if args.threads else "threads unset"
    print(f"\n4 jobs x {args.steps} steps, {os.cpu_count()} CPU cores, {threads}, median of {args.rounds} rounds")
    print(f"{'basic launcher':>24}: {basic:7.1f} s")
    print(f"{f'joblib n_jobs={args.n_jobs}':>24}: {joblib:7.1f} s")
    print(f"{'ratio joblib / basic':>24}: {joblib / basic:7.2f}")


if __name__ == "__main__":
    main()

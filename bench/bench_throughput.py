"""Training throughput of run_clm.py against a plain transformers.Trainer script doing the same work.

    python bench/bench_throughput.py [--steps 60] [--rounds 3]

Both train the default job's model (GPT-2 shape, 4 layers, 128 dims, block 128, batch 8) for the same
number of steps on the embedded corpus with the same tokenizer, no evaluation, and save the weights. The
two are run alternately, `--rounds` times each, in fresh processes, and the medians compared:
- tokens/s = steps * batch * block / train_runtime (Trainer's own timer around the training loop);
- start-up = seconds from process start to the first training step (imports, config, data, model);
- peak RSS of each process.
The goal is a throughput ratio >= 0.95 and a start-up ratio <= 1.5 (run_clm.py / plain).
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BATCH, BLOCK, LAYERS, DIMS = 8, 128, 4, 128


def run_ours(workdir: Path, cache: Path, steps: int, version: str) -> dict:
    cmd = [sys.executable, str(ROOT / "run_clm.py"), f"version={version}", f"train.max_steps={steps}",
           "train.save_strategy=no", "train.eval_strategy=no", "data.validation_split_percentage=0",
           f"train.per_device_train_batch_size={BATCH}", f"data.block_size={BLOCK}"]
    subprocess.run(cmd, cwd=workdir, env={**os.environ, "RUN_CLM_CACHE": str(cache)}, check=True,
                   capture_output=True)
    log = (workdir / "logs" / f"{version}.log").read_text()
    runtime = _seconds(re.search(r"^  train_runtime += +(\S+)$", log, re.M).group(1))
    peak = float(re.search(r"^  peak_memory_mb: (\S+)$", log, re.M).group(1))
    return {"train_runtime": runtime, "peak_rss_mb": peak}


def _seconds(text: str) -> float:
    h, m, s = text.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def run_plain(workdir: Path, corpus: str, tokenizer_dir: str, steps: int) -> dict:
    cmd = [sys.executable, str(ROOT / "bench" / "plain_trainer.py"), corpus, tokenizer_dir, str(workdir / "plain"),
           str(steps), str(BATCH), str(BLOCK), str(LAYERS), str(DIMS)]
    out = subprocess.run(cmd, cwd=workdir, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir, cache = Path(tmp), Path(tmp) / "cache"
        run_ours(workdir, cache, 2, "warmup")  # trains the tokenizer and fills the data cache once
        corpus = str(cache / "corpus" / "pydoc_topics.txt")
        tokenizer_dir = str(next((cache / "tokenizers").iterdir()))
        ours, plain = [], []
        for i in range(args.rounds):
            ours.append(with_first_step_hook(workdir, lambda i=i: run_ours(workdir, cache, args.steps, f"bench{i}")))
            plain.append(with_first_step_hook(workdir, lambda: run_plain(workdir, corpus, tokenizer_dir, args.steps)))
        report(ours, plain, args.steps)


def with_first_step_hook(workdir: Path, run) -> dict:
    """Run one program with a sitecustomize hook that stamps its first training step; no change to either."""
    hook, marker = workdir / "hook", workdir / "first_step"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(FIRST_STEP_HOOK.replace("MARKER", str(marker)))
    marker.unlink(missing_ok=True)
    saved = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(hook), saved) if p)
    start = time.time()
    try:
        result = run()
    finally:
        os.environ.pop("PYTHONPATH") if saved is None else os.environ.update(PYTHONPATH=saved)
    return {**result, "startup_s": float(marker.read_text()) - start}


FIRST_STEP_HOOK = '''
# Loaded as sitecustomize in both benchmarked programs: stamps the time of the first training step.
import importlib.abc, importlib.machinery, sys, time


class _StampFirstStep(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "transformers.trainer":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            original = module.Trainer.training_step

            def training_step(self, *args, **kwargs):
                try:
                    with open("MARKER", "x") as handle:
                        handle.write(repr(time.time()))
                except FileExistsError:
                    pass
                return original(self, *args, **kwargs)

            module.Trainer.training_step = training_step

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _StampFirstStep())
'''


def report(ours: list[dict], plain: list[dict], steps: int) -> None:
    tokens = steps * BATCH * BLOCK

    def med(rows, key):
        return statistics.median(r[key] for r in rows)

    ours_tps, plain_tps = tokens / med(ours, "train_runtime"), tokens / med(plain, "train_runtime")
    print(f"# throughput benchmark, {datetime.now().isoformat(timespec='seconds')}, {len(ours)} rounds, {steps} steps")
    print(f"{'':14}{'tokens/s':>10}{'start-up s':>12}{'peak RSS MB':>13}")
    print(f"{'run_clm.py':14}{ours_tps:>10.0f}{med(ours, 'startup_s'):>12.2f}{med(ours, 'peak_rss_mb'):>13.0f}")
    print(f"{'plain Trainer':14}{plain_tps:>10.0f}{med(plain, 'startup_s'):>12.2f}{med(plain, 'peak_rss_mb'):>13.0f}")
    print(f"throughput ratio (run_clm / plain): {ours_tps / plain_tps:.3f}   (goal >= 0.95)")
    print(f"start-up ratio   (run_clm / plain): {med(ours, 'startup_s') / med(plain, 'startup_s'):.3f}   (goal <= 1.5)")


if __name__ == "__main__":
    main()

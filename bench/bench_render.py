"""What fitting a terminal costs: `harness table`'s rich rendering at 120 columns against the same
table rendered unfitted (`--wide` / piped) and as markdown.

    python bench/bench_render.py [--rows 2000] [--rounds 5]

The table is built from synthetic Runs (17 default columns plus three extra metrics, model paths of
20-40 characters), so no log parsing is timed. Each round renders the three ways, alternating, into a
string; medians over the rounds are printed with the fitted / unfitted ratio.
"""

import argparse
import io
import random
import statistics
import time

from rich.console import Console

from harness.cli import render
from harness.cli.table import table_document
from harness.compare.formats import render as render_format
from harness.compare.records import Run
from harness.compare.table import build_table


def make_runs(n: int) -> list[Run]:
    rng = random.Random(0)
    runs = []
    for i in range(n):
        run = Run(version=f"{i // 20}.{i % 20}", source=f"logs/{i}.log", source_kind="runlog")
        run.parent = f"{i // 20}.{i % 20 - 1}" if i % 20 else None
        run.status = rng.choice(["finished", "crashed", "running"])
        run.hyperparameters = {"model": "outputs/finetuned_model_v" + "x" * rng.randint(0, 20) + str(i),
                               "learning_rate": rng.choice([1e-3, 5e-5, 1e-6]), "per_device_train_batch_size": 8,
                               "precision": "fp16"}
        run.train_metrics = {"train_loss": rng.uniform(2, 7), "train_runtime": rng.uniform(10, 999),
                             "train_samples_per_second": rng.uniform(10, 300), "epoch": 3.0}
        run.eval_metrics = {"eval_loss": rng.uniform(2, 6), "eval_accuracy": rng.uniform(0, 1),
                            "eval_f1": rng.uniform(0, 1), "eval_precision": rng.uniform(0, 1),
                            "eval_recall": rng.uniform(0, 1)}
        run.summary = {"peak_memory_mb": rng.uniform(500, 9000)}
        run.epochs = 3.0
        runs.append(run)
    return runs


def rich_at(doc, width: int | None) -> str:
    console = Console(width=width or render.UNLIMITED, file=io.StringIO(), color_system=None, legacy_windows=False)
    render.to_rich(doc, console)
    return console.file.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    table = build_table(make_runs(args.rows))
    ways = {"rich fitted to 120 columns": lambda: rich_at(table_document(table), 120),
            "rich unfitted (--wide, piped)": lambda: rich_at(table_document(table), None),
            "markdown": lambda: render_format(table, "markdown")}
    times = {name: [] for name in ways}
    for _ in range(args.rounds):
        for name, way in ways.items():
            start = time.perf_counter()
            way()
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(t) for name, t in times.items()}
    for name, median in medians.items():
        print(f"{name:32s} {median:8.3f} s  ({args.rows} rows, median of {args.rounds})")
    fitted, unfitted = medians["rich fitted to 120 columns"], medians["rich unfitted (--wide, piped)"]
    print(f"fitted / unfitted: {fitted / unfitted:.2f}")


if __name__ == "__main__":
    main()

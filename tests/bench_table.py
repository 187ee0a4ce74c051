"""Benchmark: parse and tabulate 10,000 log files (the issue's goal: under 2 s on a 2-core machine).

Not collected by a plain `python -m pytest` (the file name does not match `test_*.py`). Run it with

    python -m pytest tests/bench_table.py -q -p no:cacheprovider

The corpus, written once per session: 9,000 run logs as docs/LOG_FORMAT.md shows them (~90 lines each:
config, environment, data, model, samples and summary sections, 10 periodic lines, two metrics
blocks; numbers differ from file to file), 500 transformers 4.x and 500 transformers 5.x stdout files.
Each round reads every file, builds the table with its reviewer warnings, and renders markdown; the
second benchmark does the same with the parse cache warm, as a repeated `harness table` over unchanged
files does. `test_read_only_floor_10000_files` times only finding and reading the same files: the machine is
shared, so report the other two as ratios to this floor, measured in the same run.
"""

import os
import random

import logfixtures as F
import pytest

from harness.compare.cache import ParseCache
from harness.compare.formats import render
from harness.compare.load import load_runs
from harness.compare.review import review
from harness.compare.table import build_table
from harness.runlog import fastyaml

FILES = 10_000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    rng = random.Random(42)
    for i in range(FILES):
        major, minor = divmod(i, 20)
        version = f"{major}.{minor}"
        if i % 20 == 18:
            F.write(root / "hf" / f"hf4-{version}.txt", F.HF4_STDOUT.replace("2.1234", f"{rng.uniform(1, 3):.4f}"))
        elif i % 20 == 19:
            F.write(root / "hf" / f"hf5-{version}.log", F.HF5_STDOUT.replace("6.7123", f"{rng.uniform(5, 8):.4f}"))
        else:
            F.write(root / "logs" / f"{version}.log", F.runlog(
                version=version, parent=f"{major}.{minor - 1}" if minor else None, cumulative=None,
                lr=f"{rng.choice([1, 2, 3, 5])}.0e-0{rng.randint(4, 6)}", epochs=float(rng.randint(1, 5)),
                eval_loss=rng.uniform(2, 6), eval_accuracy=rng.uniform(0.1, 0.6), train_loss=rng.uniform(2, 7),
                train_sha=f"{rng.getrandbits(64):016x}", eval_sha=f"{rng.getrandbits(64):016x}",
                losses=[round(rng.uniform(2, 9), 7) for _ in range(9)]))
    return root


def parse_and_tabulate(root, cache_path=None):
    cache = ParseCache(cache_path) if cache_path else None
    runs, warnings = load_runs([str(root)], cache=cache)
    if cache is not None:
        cache.close()
    table = build_table(runs, parse_warnings=warnings)
    table.warnings[:0] = review(table.runs)
    render(table, "markdown")
    return len(table.rows)


def read_only(root):
    """The floor: what Python takes only to find and read the same files, parsing nothing."""
    total = 0
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as handle:
                total += len(handle.read())
    return total


def test_read_only_floor_10000_files(benchmark, corpus):
    assert benchmark.pedantic(read_only, args=(corpus,), rounds=3, iterations=1) > 0


def test_parse_and_tabulate_10000_files(benchmark, corpus):
    rows = benchmark.pedantic(parse_and_tabulate, args=(corpus,), setup=fastyaml.clear_memo, rounds=3,
                              iterations=1)
    assert rows == FILES


def test_parse_and_tabulate_10000_files_unchanged_since_last_table(benchmark, corpus, tmp_path):
    """What `harness table` costs again once the files were read before (the parse cache)."""
    cache_path = tmp_path / "parsed.sqlite3"
    parse_and_tabulate(corpus, cache_path)
    rows = benchmark.pedantic(parse_and_tabulate, args=(corpus, cache_path), setup=fastyaml.clear_memo, rounds=3,
                              iterations=1)
    assert rows == FILES

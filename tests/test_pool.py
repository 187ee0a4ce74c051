"""Reading many files on every core (harness/compare/pool.py): the same runs, in the same order, as one process."""

import dataclasses
import gc
import os
import signal

import logfixtures as F
import pytest

from harness.compare import load, pool
from harness.compare.cache import ParseCache

MAIN = os.getpid()


@pytest.fixture
def many(tmp_path, monkeypatch):
    for i in range(12):
        F.write(tmp_path / "logs" / f"1.{i}.log", F.runlog(version=f"1.{i}", eval_loss=2 + i / 10))
    F.write(tmp_path / "hf4.txt", F.HF4_STDOUT)
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    F.write(tmp_path / "empty.log", "")
    monkeypatch.setattr(pool, "MIN_FILES", 4)  # a pool for a handful of files, so the test stays small
    monkeypatch.setattr(pool, "workers_for", lambda files: 2)
    return tmp_path


def _serial(root, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(pool, "workers_for", lambda files: 1)
        return _plain(load.load_runs([str(root)], now=2e9))


def _plain(result):
    runs, warnings = result
    return [dataclasses.asdict(r) for r in runs], warnings


def test_a_pool_reads_what_one_process_reads(many, monkeypatch):
    serial = _serial(many, monkeypatch)
    assert len(serial[0]) > 13 and any("empty file" in w.message for w in serial[1])
    assert _plain(load.load_runs([str(many)], now=2e9)) == serial


def test_a_pool_fills_the_parse_cache_like_one_process(many, tmp_path, monkeypatch):
    serial = _serial(many, monkeypatch)
    cache = ParseCache(tmp_path / "c.sqlite3")
    assert _plain(load.load_runs([str(many)], now=2e9, cache=cache)) == serial
    cache.close()
    reads = []
    monkeypatch.setattr(load, "read_text_file", lambda *a, **k: reads.append(a[0]))
    assert _plain(load.load_runs([str(many)], now=2e9, cache=ParseCache(tmp_path / "c.sqlite3"))) == serial
    assert reads == []


def crash_in_a_worker(path):
    if os.getpid() != MAIN:
        os._exit(1)  # a worker killed mid-read (the OOM killer, say)
    return load.read_text_file(path)


def test_a_dead_worker_means_a_serial_read_not_a_missing_file(many):
    paths = sorted(str(p) for p in (many / "logs").iterdir())
    results = pool.read_files(crash_in_a_worker, paths, encode=False)
    assert [runs[0].version for (runs, _), _, _ in results] == [p.rsplit("/", 1)[1][:-4] for p in paths]


def test_few_files_are_read_in_this_process():
    assert pool.workers_for(3) == 1


@pytest.mark.parametrize("enabled", [True, False])
def test_loading_leaves_the_collector_as_it_found_it(many, enabled):
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        load.load_runs([str(many)], now=2e9)
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_workers_do_not_outlive_a_killed_harness(tmp_path, how):
    """Killed mid-read, `harness table` leaves no worker behind (they would wait for ever for their next chunk)."""
    import subprocess
    import sys
    import time

    import psutil

    for i in range(pool.MIN_FILES + 200):
        F.write(tmp_path / "logs" / f"2.{i}.log", F.runlog(version=f"2.{i}"))
    command = [sys.executable, "-m", "harness", "table", str(tmp_path / "logs"), "--no-cache", "--format", "csv"]
    harness = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    parent = psutil.Process(harness.pid)
    workers = []
    while not workers and harness.poll() is None:  # until the pool has started (or the table is done)
        workers = parent.children()
        time.sleep(0.01)
    assert workers, "the table finished before its pool started: give it more files"
    harness.send_signal(how)
    harness.wait(timeout=30)
    gone, alive = psutil.wait_procs(workers, timeout=10)
    for worker in alive:
        worker.kill()
    assert alive == []

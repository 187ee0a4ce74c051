"""The parse cache: the same runs as a fresh read, and an edited file is always read again."""

import dataclasses
import os
import sqlite3

import logfixtures as F
import msgspec
import pytest

from harness.compare import load as logparse
from harness.compare.cache import ParseCache


@pytest.fixture
def inputs(tmp_path):
    F.write(tmp_path / "logs" / "3.4.log", F.runlog(version="3.4"))
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    F.write(tmp_path / "hf4.txt", F.HF4_STDOUT)
    F.write(tmp_path / "hf5.log", F.HF5_STDOUT)
    return tmp_path


def _load(root, cache):
    runs, warnings = logparse.load_runs([str(root)], now=2e9, cache=cache)
    return [dataclasses.asdict(r) for r in runs], warnings


def test_cached_runs_equal_a_fresh_read_and_skip_reading(inputs, tmp_path, monkeypatch):
    fresh = _load(inputs, None)
    cache = ParseCache(tmp_path / "c.sqlite3")
    assert _load(inputs, cache) == fresh
    cache.close()
    reads = []
    real = logparse.read_text_file
    monkeypatch.setattr(logparse, "read_text_file", lambda *a, **k: (reads.append(a[0]), real(*a, **k))[1])
    cache = ParseCache(tmp_path / "c.sqlite3")
    assert _load(inputs, cache) == fresh
    cache.close()
    assert reads == []


def test_an_edited_file_is_read_again(inputs, tmp_path):
    path = inputs / "logs" / "3.4.log"
    cache = ParseCache(tmp_path / "c.sqlite3")
    _load(inputs, cache)
    cache.close()
    path.write_text(path.read_text().replace("status: finished", "status: crashed"))
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # even within one clock tick
    runs, _ = logparse.load_runs([str(inputs)], now=2e9, cache=ParseCache(tmp_path / "c.sqlite3"))
    assert next(r for r in runs if r.version == "3.4").status == "crashed"


def test_a_new_parser_version_misses(inputs, tmp_path):
    cache = ParseCache(tmp_path / "c.sqlite3")
    _load(inputs, cache)
    cache.close()
    other = ParseCache(tmp_path / "c.sqlite3")
    other.parser = "another-parser"
    assert other.lookup([str(inputs / "hf4.txt")]) == {}


def test_a_broken_cache_is_no_cache(inputs, tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not a database" * 100)
    assert _load(inputs, ParseCache(bad)) == _load(inputs, None)
    blocked = tmp_path / "file-not-dir"
    blocked.write_text("x")
    assert _load(inputs, ParseCache(blocked / "c.sqlite3")) == _load(inputs, None)


def test_the_cache_holds_data_not_pickle(inputs, tmp_path):
    """MessagePack: any decoder reads it back as plain maps, lists and numbers; nothing in it is code."""
    cache = ParseCache(tmp_path / "c.sqlite3")
    _load(inputs, cache)
    cache.close()
    payload, deferred = sqlite3.connect(tmp_path / "c.sqlite3").execute(
        "SELECT payload, deferred FROM parsed2 WHERE path LIKE '%3.4.log'").fetchone()
    plain = msgspec.msgpack.Decoder()
    run = plain.decode(payload)["runs"][0]
    assert run["version"] == "3.4" and run["_encoded"] == [0, len(deferred)]
    assert plain.decode(deferred)["history"] and b"pickle" not in payload + deferred


def test_a_cache_an_older_harness_wrote_is_replaced_not_an_error(inputs, tmp_path):
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    db.execute("CREATE TABLE parsed (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, parser TEXT, payload TEXT)")
    db.commit()
    db.close()
    cache = ParseCache(tmp_path / "c.sqlite3")
    assert _load(inputs, cache) == _load(inputs, None)
    cache.close()
    tables = {name for name, in sqlite3.connect(tmp_path / "c.sqlite3").execute("SELECT name FROM sqlite_master")}
    assert "parsed" not in tables and "parsed2" in tables


def test_nan_losses_and_big_integers_come_back_from_the_cache_exactly(tmp_path):
    import math

    log = F.runlog(version="5.1", eval_loss=float("nan"))
    F.write(tmp_path / "logs" / "5.1.log", log.replace("=                940", "= 123456789012345678901234567890"))
    fresh = _load(tmp_path / "logs", None)
    cache = ParseCache(tmp_path / "c.sqlite3")
    _load(tmp_path / "logs", cache)
    cache.close()
    again = _load(tmp_path / "logs", ParseCache(tmp_path / "c.sqlite3"))
    run = again[0][0]
    assert math.isnan(run["eval_metrics"]["eval_loss"]) and run["train_metrics"]["train_samples"] == 123456789012345678901234567890
    assert repr(again) == repr(fresh)


def test_a_table_over_cached_runs_leaves_their_bulky_fields_encoded(inputs, tmp_path):
    from harness.compare.codec import DEFERRED
    from harness.compare.formats import render
    from harness.compare.records import ENCODED
    from harness.compare.review import review
    from harness.compare.table import build_table

    cache = ParseCache(tmp_path / "c.sqlite3")
    _load(inputs, cache)
    cache.close()
    runs, warnings = logparse.load_runs([str(inputs)], now=2e9, cache=ParseCache(tmp_path / "c.sqlite3"))
    table = build_table(runs, parse_warnings=warnings)
    review(table.runs)
    render(table, "markdown")
    assert all(ENCODED in vars(run) and not set(DEFERRED) & set(vars(run)) for run in runs)
    assert runs[0].config == _load(inputs, None)[0][0]["config"] and ENCODED not in vars(runs[0])


def test_a_damaged_cache_entry_costs_its_details_not_the_command(inputs, tmp_path):
    cache = ParseCache(tmp_path / "c.sqlite3")
    _load(inputs, cache)
    cache.close()
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    (path, deferred), = db.execute("SELECT path, deferred FROM parsed2 WHERE path LIKE '%3.4.log'").fetchall()
    damaged = b"\xc1" + deferred[1:]  # 0xc1 begins no MessagePack value
    assert damaged != deferred
    db.execute("UPDATE parsed2 SET deferred = ? WHERE path = ?", (damaged, path))
    db.execute("DELETE FROM whole2")  # or the whole result kept for these inputs answers first
    db.commit()
    runs, _ = logparse.load_runs([str(inputs)], now=2e9, cache=ParseCache(tmp_path / "c.sqlite3"))
    run = next(r for r in runs if r.version == "3.4")
    assert run.config == {} and run.history == [] and run.eval_metrics  # the table's fields were intact
    assert any("--no-cache" in w for w in run.warnings)


def test_only_fields_without_a_class_default_are_kept_encoded():
    """A field with a plain default is a class attribute: reading it would never reach Run.__getattr__, so a
    cached run would show the default instead of its value."""
    from harness.compare.codec import DEFERRED
    from harness.compare.records import Run

    assert DEFERRED and not [name for name in DEFERRED if hasattr(Run, name)]


# ---- the whole result of an input set (ParseCache.remembered) ----


def _spy_reads(monkeypatch):
    """Every file read and every per-file entry asked for, from here on."""
    seen = []
    real_read, real_lookup = logparse.read_text_file, ParseCache.lookup
    monkeypatch.setattr(logparse, "read_text_file", lambda *a, **k: (seen.append(a[0]), real_read(*a, **k))[1])
    monkeypatch.setattr(ParseCache, "lookup", lambda self, paths: (seen.extend(paths), real_lookup(self, paths))[1])
    return seen


def _cached(root, cache_file, **kwargs):
    cache = ParseCache(cache_file)
    try:
        runs, warnings = logparse.load_runs([str(root)], now=2e9, cache=cache, **kwargs)
    finally:
        cache.close()
    return [dataclasses.asdict(r) for r in runs], warnings


def test_unchanged_inputs_get_the_whole_result_back_without_a_file_read(inputs, tmp_path, monkeypatch):
    F.trainer_dir(inputs / "outputs" / "exp-a")  # files read together, per directory: covered too
    fresh = _load(inputs, None)
    assert _cached(inputs, tmp_path / "c.sqlite3") == fresh
    seen = _spy_reads(monkeypatch)
    assert _cached(inputs, tmp_path / "c.sqlite3") == fresh
    assert seen == []


@pytest.mark.parametrize("change", ["edit", "new file", "removed file", "trainer json", "byte limit"])
def test_any_change_to_the_inputs_means_deriving_again(inputs, tmp_path, change):
    F.trainer_dir(inputs / "outputs" / "exp-a")
    _cached(inputs, tmp_path / "c.sqlite3")
    kwargs = {}
    if change == "edit":
        log = inputs / "logs" / "3.4.log"
        log.write_text(log.read_text().replace("eval_loss", "eval_loss_x", 1))
    elif change == "new file":
        F.write(inputs / "logs" / "3.9.log", F.runlog(version="3.9", parent="3.4", cumulative=None))
    elif change == "removed file":
        (inputs / "hf5.log").unlink()
    elif change == "trainer json":
        state = next((inputs / "outputs" / "exp-a").rglob("*.json"))
        state.write_text(state.read_text() + " ")
    else:
        kwargs["max_bytes"] = 4096
    assert _cached(inputs, tmp_path / "c.sqlite3", **kwargs) == _load_with(inputs, **kwargs)


def _load_with(root, **kwargs):
    runs, warnings = logparse.load_runs([str(root)], now=2e9, **kwargs)
    return [dataclasses.asdict(r) for r in runs], warnings


def test_a_result_with_a_running_log_is_not_kept_whole_the_clock_decides_it(tmp_path):
    F.write(tmp_path / "logs" / "4.1.log", F.runlog(version="4.1", status="running"))
    log = tmp_path / "logs" / "4.1.log"
    written = os.stat(log).st_mtime
    for now, status in ((written + 60, "running"), (written + 3 * 3600, "stale")):
        cache = ParseCache(tmp_path / "c.sqlite3")
        runs, _ = logparse.load_runs([str(tmp_path / "logs")], now=now, cache=cache)
        cache.close()
        assert runs[0].status == status
    rows = sqlite3.connect(tmp_path / "c.sqlite3").execute("SELECT count(*) FROM whole2").fetchone()
    assert rows == (0,)


def test_the_same_files_asked_for_another_way_are_another_result(inputs, tmp_path, monkeypatch):
    """Sources are named as asked: `logs` from its parent directory is not the same answer as its full path."""
    _cached(inputs / "logs", tmp_path / "c.sqlite3")
    monkeypatch.chdir(inputs)
    runs, _ = logparse.load_runs(["logs"], now=2e9, cache=ParseCache(tmp_path / "c.sqlite3"))
    assert runs[0].source == os.path.join("logs", "3.4.log")


def test_a_damaged_whole_result_is_derived_again(inputs, tmp_path):
    fresh = _load(inputs, None)
    _cached(inputs, tmp_path / "c.sqlite3")
    db = sqlite3.connect(tmp_path / "c.sqlite3")
    db.execute("UPDATE whole2 SET payload = X'c1c1c1'")
    db.commit()
    assert _cached(inputs, tmp_path / "c.sqlite3") == fresh


def test_only_the_last_few_input_sets_are_kept_whole(tmp_path):
    from harness.compare.cache import _KEEP_WHOLE

    for i in range(_KEEP_WHOLE + 3):
        F.write(tmp_path / f"set{i}" / "1.0.log", F.runlog(version="1.0", parent=None, cumulative=None))
        _cached(tmp_path / f"set{i}", tmp_path / "c.sqlite3")
    rows = sqlite3.connect(tmp_path / "c.sqlite3").execute("SELECT count(*) FROM whole2").fetchone()
    assert rows == (_KEEP_WHOLE,)

"""Every input shape -> Run records: `load_runs(paths)` is the one entry point the commands use.

Shapes: run logs (docs/LOG_FORMAT.md), Trainer stdout saved to a file, hand-kept notebooks of many
versions, and Trainer's JSON files. Reading never raises on bad input: whatever is wrong becomes a
ParseWarning naming the file and line, and every other file still yields its runs.
"""

from __future__ import annotations

import functools
import gc
import math
import os
import socket
import time
from collections.abc import Iterable
from operator import attrgetter
from typing import Any

from harness.compare import cmdline, lineage, metric_kinds, pool, readers, remarks
from harness.compare.records import (
    JUPYTER,
    NOTEBOOK,
    OTHER_TRAINER,
    REPORT,
    RUNLOG,
    TRAINER_JSON,
    TRAINER_STDOUT,
    ParseWarning,
    Run,
    version_key,
)
from harness.runlog.reader import MAX_BYTES, read_bounded
from harness.runlog.writer import is_locked

NOTHING_FOUND = "no runs in this file (no shape the readers know)"
_BINARY_PROBE = 8192
_KIND_RANK = {RUNLOG: 0, NOTEBOOK: 1, TRAINER_STDOUT: 2, TRAINER_JSON: 3, JUPYTER: 4, OTHER_TRAINER: 5, REPORT: 6}
_COMPARED_HYPERPARAMETERS = ("learning_rate", "num_train_epochs", "per_device_train_batch_size")


def load_runs(
    paths: Iterable[str] | str,
    stale_after: float = 30.0,
    now: float | None = None,
    max_bytes: int = MAX_BYTES,
    cache=None,
) -> tuple[list[Run], list[ParseWarning]]:
    """Runs from files and directories (searched recursively), in natural version order.

    `stale_after`: minutes since a `running` run log was last written after which it counts as `stale`.
    Same-version records that agree are merged into one Run (`merged_from`); ones that disagree are all
    kept, for the reviewer to see. `cache`: a harness.compare.cache.ParseCache; text files it holds unchanged are not
    read again, and the same paths over the same unchanged files get the whole result it kept last time.
    """
    paths = [os.fspath(p) for p in ([paths] if isinstance(paths, str) else paths)]
    # Reading thousands of logs makes millions of small dicts and lists that hold no cycles: the cyclic
    # collector would walk them again and again for nothing (a third of a warm table's time). It is paused
    # while reading; a big result is then frozen out of later collections (before the collector is back, or
    # its first pass would walk all of it), so building the table over it does not walk it either. Reference
    # counting still frees it as usual.
    enabled = gc.isenabled()
    gc.disable()
    try:
        runs, warnings = _load_runs(paths, stale_after, now, max_bytes, cache)
        if len(runs) >= BIG_RESULT:
            gc.freeze()
    finally:
        if enabled:
            gc.enable()
    return runs, warnings


BIG_RESULT = 1000  # runs: from here on the result is frozen out of later collections


def _load_runs(paths, stale_after, now, max_bytes, cache) -> tuple[list[Run], list[ParseWarning]]:
    warnings: list[ParseWarning] = []
    texts, grouped = discover(paths, warnings)
    cache = cache if max_bytes == MAX_BYTES else None  # the cache holds what the default byte limit reads
    inputs = None
    if cache is not None:  # the same question over the same files: the same answer (cache.py)
        files = texts + [os.path.join(directory, name) for directory, names in grouped.items() for name in names]
        inputs = cache.inputs(paths, files)
        remembered = cache.remembered(inputs)
        if remembered is not None:
            return remembered
    runs: list[Run] = []
    cached = cache.lookup(texts) if cache is not None else {}
    todo = [path for path in texts if path not in cached]
    reader = functools.partial(read_text_file, max_bytes=max_bytes)  # picklable: the pool's workers call it
    for path, (result, before, payload) in zip(todo, pool.read_files(reader, todo, encode=cache is not None)):
        cached[path] = result
        if cache is not None:
            cache.store(path, before, payload)
    for path in texts:
        found, problems = cached[path]
        runs.extend(found)
        warnings.extend(problems)
    for directory, names in grouped.items():
        found, problems = read_directory(directory, names, max_bytes)
        runs.extend(found)
        warnings.extend(problems)
    timeless = not any(run.status == "running" for run in runs)  # finish() below leaves these as they are
    finish(runs, stale_after, time.time() if now is None else now)
    runs = merge_duplicates(runs)
    lineage.resolve_parents(runs)
    runs.sort(key=lambda r: (version_key(r.version), r.source, r.line))
    lineage.fill_epochs(runs)
    warnings = sorted(set(warnings))
    if inputs is not None and timeless:
        cache.remember(inputs, runs, warnings)
    return runs, warnings


def discover(paths: Iterable[str], warnings: list[ParseWarning]) -> tuple[list[str], dict[str, list[str]]]:
    """(text files, {directory: [names of files read together]}), each file once, in a stable order.

    A directory walk takes the files some reader `picks`; a file named on the command line is read
    whatever its name (a `.json` one as Trainer's JSON files).
    """
    texts: dict[str, None] = {}
    grouped: dict[str, list[str]] = {}

    def add(path: str, reader: readers.Reader | None) -> None:
        if reader is None or not reader.per_directory:
            texts.setdefault(path, None)
            return
        directory, name = os.path.split(path)
        names = grouped.setdefault(directory or ".", [])
        if name not in names:
            names.append(name)

    for path in paths:
        path = os.fspath(path)
        if os.path.isdir(path):
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__pycache__")
                for name in sorted(files):
                    reader = readers.picked(name)
                    if reader is not None:
                        add(os.path.join(root, name), reader)
        elif os.path.isfile(path):
            reader = readers.picked(os.path.basename(path))
            if reader is None and path.endswith(".json"):
                reader = readers.DIRECTORY_READERS[0]
            add(path, reader)
        else:
            warnings.append(ParseWarning(path, 0, "no such file or directory"))
    return list(texts), grouped


def read_bytes(path: str, max_bytes: int) -> tuple[bytes | None, list[ParseWarning]]:
    """The file's bytes (a huge one as its head and tail), or None when it is not worth reading."""
    try:
        data, gap = read_bounded(path, max_bytes)
    except OSError as exc:
        return None, [ParseWarning(path, 0, f"cannot read: {exc.strerror or exc}")]
    if not data:
        return None, [ParseWarning(path, 0, "empty file; skipped")]
    if b"\0" in data[:_BINARY_PROBE]:
        return None, [ParseWarning(path, 0, "binary file; skipped")]
    return data, [] if gap is None else [ParseWarning(path, gap.first_line, gap.message())]


def decode(data: bytes, path: str) -> tuple[str, list[ParseWarning]]:
    """UTF-8; a file with no valid UTF-8 multi-byte text at all is Latin-1 (old notebooks)."""
    try:
        return data.decode("utf-8"), []
    except UnicodeDecodeError as exc:
        text = data.decode("utf-8", errors="replace")
        if any(ord(c) > 127 and c != "\ufffd" for c in text):
            lineno = data.count(b"\n", 0, exc.start) + 1
            return text, [ParseWarning(path, lineno, "invalid UTF-8 replaced by U+FFFD")]
        return data.decode("latin-1"), []


def read_text_file(path: str, max_bytes: int = MAX_BYTES) -> tuple[list[Run], list[ParseWarning]]:
    binary = readers.binary_reader(path)
    if binary is not None:
        return _finished(path, *_guarded(path, binary.read, None), [])
    data, warnings = read_bytes(path, max_bytes)
    if data is None:
        return [], warnings
    text, problems = decode(data, path)
    warnings.extend(problems)
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return _finished(path, *_guarded(path, parse_text, text), warnings)


def _guarded(path: str, read, text) -> tuple[list[Run], list[ParseWarning]]:
    """read(path, text): a reader bug costs one file (or directory), never the whole table."""
    try:
        return read(path, text)
    except Exception as exc:  # noqa: BLE001 - any failure of a reader means "unreadable"
        return [], [ParseWarning(path, 0, f"unreadable ({type(exc).__name__}: {exc}); skipped")]


def _finished(path: str, runs: list[Run], problems: list[ParseWarning], warnings: list[ParseWarning]):
    """The file's runs with their file-level fields filled in; a file with none is named in a warning."""
    warnings = warnings + problems
    if not runs and not warnings:
        warnings.append(ParseWarning(path, 0, NOTHING_FOUND))
    mtime = _mtime(path)
    for run in runs:
        run.mtime = mtime
        derive(run)
    return runs, warnings


def parse_text(path: str, text: str) -> tuple[list[Run], list[ParseWarning]]:
    """Runs from one text, by the first reader that recognises its shape (harness/compare/readers)."""
    return readers.read_text(path, text)


def read_directory(directory: str, names: list[str], max_bytes: int = MAX_BYTES):
    """The files of one directory that a per-directory reader (Trainer's JSON files) reads together."""
    contents: dict[str, bytes] = {}
    warnings: list[ParseWarning] = []
    for name in names:
        data, problems = read_bytes(os.path.join(directory, name), max_bytes)
        warnings.extend(problems)
        if data is not None and not problems:
            contents[name] = data
    if not contents:
        return [], warnings
    runs, problems = _guarded(directory, readers.DIRECTORY_READERS[0].read, contents)
    for run in runs:
        run.mtime = max((_mtime(os.path.join(directory, n)) or 0.0) for n in contents) or None
        derive(run)
    return runs, warnings + problems


def _mtime(path: str) -> float | None:
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None


# ---- after reading: the derived fields every command relies on ----


def finish(runs: list[Run], stale_after: float, now: float) -> None:
    """What depends on the clock, so is never cached: a `running` run log not written for a while is stale."""
    for run in runs:
        if run.source_kind == RUNLOG and run.status == "running" and _writer_gone(run):
            run.status = "interrupted"
        elif run.source_kind == RUNLOG and run.status == "running" and run.mtime is not None:
            if now - run.mtime > stale_after * 60:
                run.status = "stale"


def derive(run: Run) -> None:
    """What follows from one file alone; done before the parse cache stores it, so a warm table skips it."""
    fill_from_history(run)
    _no_steps(run)
    if run.source_kind == RUNLOG:
        runlog_hyperparameters(run)
    if "perplexity" not in run.eval_metrics:
        loss = run.eval_metrics.get("eval_loss")
        if isinstance(loss, (int, float)) and not isinstance(loss, bool):
            try:
                run.eval_metrics["perplexity"] = math.exp(loss)
            except OverflowError:
                run.eval_metrics["perplexity"] = math.inf
    run.epochs = lineage.final_epoch(run)
    remarks.of(run)  # kept with the run: a warm table does not check again


def _writer_gone(run: Run) -> bool:
    """A `running` log written on this machine whose lock is free: its process is dead (SIGKILL, power).

    A run on another host (a shared filesystem) holds no lock we can see: only its age tells (stale)."""
    host = run.fields.get("host")
    return bool(host) and host == socket.gethostname() and os.path.isfile(run.source) and not is_locked(run.source)


def _no_steps(run: Run) -> None:
    """A run that trained 0 steps reports train_loss 0.0: that is no result, and must never look like the best."""
    epoch, loss = run.train_metrics.get("epoch"), run.train_metrics.get("train_loss")
    if epoch == 0 and loss in (0, None) and not any("loss" in entry for entry in run.history):
        run.train_metrics.pop("train_loss", None)
        run.warnings.append("trained 0 steps: no training result")


def fill_from_history(run: Run) -> None:
    """Metrics that only the periodic dicts carry (no metrics block pasted or printed)."""
    last_eval = next((h for h in reversed(run.history) if "eval_loss" in h or _has_eval(h)), None)
    if last_eval:
        for key, value in last_eval.items():
            if key.startswith("eval_") or key == "epoch":
                run.eval_metrics.setdefault(key, value)
    last_train = next((h for h in reversed(run.history) if "train_runtime" in h or "train_loss" in h), None)
    if last_train:
        for key, value in last_train.items():
            if key.startswith("train_") or key in ("epoch", "total_flos"):
                run.train_metrics.setdefault(key, value)


def _has_eval(entry: dict[str, Any]) -> bool:
    return any(k.startswith("eval_") for k in entry)


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """`{'train': {'lr': 1}}` -> `{'train.lr': 1}`."""
    out: dict[str, Any] = {}
    if isinstance(tree, dict):
        for key, value in tree.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value:
                out.update(flatten(value, name))
            else:
                out[name] = value
    return out


def runlog_hyperparameters(run: Run) -> None:
    """From the resolved config (what ran), else the launch command; precision as the run reported it."""
    options = flatten(run.config)
    if run.commands:
        run.args = cmdline.parse_args(run.commands[0])
    hyper = cmdline.canonical(options) if options else cmdline.canonical(run.args)
    precision = run.environment.get("precision")
    if isinstance(precision, str) and precision:
        hyper["precision"] = precision
    for key in ("world_size",):
        if run.environment.get(key) is not None:
            hyper[key] = run.environment[key]
    if run.fields.get("seed") and "seed" not in hyper:
        hyper["seed"] = cmdline.parse_args(f"--seed {run.fields['seed']}").get("seed")
    if run.model.get("init_from") is not None:
        hyper.setdefault("init_from", run.model["init_from"])
    model_cfg = run.config.get("model") if isinstance(run.config.get("model"), dict) else {}
    if not hyper.get("model") and model_cfg.get("model_type"):
        hyper["model"] = f"{model_cfg['model_type']} (scratch)"  # trained from a config, not a checkpoint
    run.hyperparameters = {**hyper, **run.hyperparameters}


# ---- same version, several records ----


def comparable_metrics(run: Run) -> dict[str, float]:
    out = {}
    for metrics in (run.train_metrics, run.eval_metrics):
        for key, value in metrics.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool) and _compared(key):
                out[key] = float(value)
    for key in _COMPARED_HYPERPARAMETERS:
        value = run.hyperparameters.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            out[f"hp:{key}"] = float(value)
    return out


def _compared(key: str) -> bool:
    """Two records of one run may differ in costs (timed) and counts (one printed them, one not)."""
    return metric_kinds.kind(key) not in (metric_kinds.COST, metric_kinds.COUNT)


def close(a: float, b: float) -> bool:
    """Equal up to how Trainer prints: 4 decimals in metrics blocks, 4 significant digits in 5.x dicts."""
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if a == b:
        return True
    return abs(a - b) <= 5.01e-5 or abs(a - b) <= 5e-4 * max(abs(a), abs(b))


def agree(a: Run, b: Run) -> bool:
    ma, mb = comparable_metrics(a), comparable_metrics(b)
    return all(close(ma[k], mb[k]) for k in ma.keys() & mb.keys())


def merge_duplicates(runs: list[Run]) -> list[Run]:
    """One Run per version where all its records agree; the richest source (run log first) leads."""
    if len(set(map(attrgetter("version"), runs))) == len(runs):  # in C: most tables hold each version once
        return runs
    groups: dict[str, list[Run]] = {}
    for run in runs:
        groups.setdefault(run.version, []).append(run)
    out: list[Run] = []
    for group in groups.values():
        if len(group) == 1:
            out.extend(group)
            continue
        group.sort(key=lambda r: (_KIND_RANK.get(r.source_kind, 9), r.source, r.line))
        kept: list[Run] = []
        for run in group:
            home = next((k for k in kept if agree(k, run)), None)
            if home is None:
                kept.append(run)
            else:
                _absorb(home, run)
        out.extend(kept)
    return out


def _absorb(home: Run, other: Run) -> None:
    home.merged_from.append(other.where)
    for mine, theirs in ((home.train_metrics, other.train_metrics), (home.eval_metrics, other.eval_metrics),
                         (home.hyperparameters, other.hyperparameters)):
        for key, value in theirs.items():
            mine.setdefault(key, value)
    home.parent = home.parent or other.parent
    home.status = home.status or other.status
    if not home.history:
        home.history = other.history
    home.epochs = home.epochs if home.epochs is not None else other.epochs
    mine = remarks.of(home)
    home.remarks = mine + [remark for remark in remarks.of(other) if remark not in mine]

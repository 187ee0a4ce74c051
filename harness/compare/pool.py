"""Reading many files on every core: a cold `harness table` over thousands of logs is parse-bound.

Files are handed out in contiguous chunks, in order, to forked worker processes that run the same
`read_text_file` as the serial path; the results come back in input order, so the table is identical.
Workers also encode each result for the parse cache (the main process would otherwise spend its time
there). Fork only (Linux and the like): it needs no re-import, and it is what makes a pool pay off at a
few hundred files. Anything going wrong with the pool (no fork, a worker killed) means a serial read.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

from harness.compare import codec
from harness.compare.codec import Read

MIN_FILES = 400  # fewer: starting workers costs more than they save
MAX_WORKERS = 8
_CHUNKS_PER_WORKER = 6  # small enough to balance slow files, big enough to keep the hand-off cheap


def workers_for(files: int) -> int:
    """How many processes to read `files` files with; 1 means in this process."""
    if files < MIN_FILES or sys.platform == "darwin":
        return 1
    import multiprocessing  # here, not above: most tables (and every warm one) start no process

    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cores, MAX_WORKERS, files // (MIN_FILES // 2)))


def read_files(read, paths: list[str], encode: bool) -> list[tuple[Read, tuple | None, codec.Entry | None]]:
    """[((runs, warnings), stat before reading, cache entry or None)] for each path, in order.

    `read(path) -> (runs, warnings)` must be a module-level function (the workers look it up by name)."""
    workers = workers_for(len(paths))
    if workers > 1:
        from concurrent.futures.process import BrokenProcessPool

        try:
            return _in_pool(read, paths, encode, workers)
        except (OSError, BrokenProcessPool):  # no processes to be had, or one died: read them here
            pass
    return _chunk(read, paths, encode)


def _in_pool(read, paths: list[str], encode: bool, workers: int):
    """Runs come back encoded (codec), not pickled: a third of pickle's cost on each side, and their bulky fields
    stay encoded until used. A file whose runs have no encoding comes back pickled."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, -(-len(paths) // (workers * _CHUNKS_PER_WORKER)))
    chunks = [paths[i : i + size] for i in range(0, len(paths), size)]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        done = pool.map(_encoded_chunk, [read] * len(chunks), chunks, [encode] * len(chunks))
        out = [item for chunk in done for item in chunk]
    decoded = iter(codec.loads_many([entry for result, _, entry in out if result is None]))
    return [(result or next(decoded) or read(path), before, entry) for path, (result, before, entry) in zip(paths, out)]


def _encoded_chunk(read, paths: list[str], stat: bool):
    """A worker's _chunk: each result travels as its encoding alone where it has one."""
    return [(None if entry else result, before, entry) for result, before, entry in _chunk(read, paths, True, stat)]


def _die_with_parent(parent: int) -> None:
    """A worker ends with the `harness` that started it. Killed (SIGKILL, or SIGTERM's default), the parent
    cleans nothing up, and a worker waiting for its next chunk would wait for ever: each holds the write end
    of the pipe it reads, so it never sees end-of-file. Linux: the kernel signals it (PR_SET_PDEATHSIG);
    elsewhere a thread watches the parent."""
    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) == 0:
            if os.getppid() != parent:  # it died before the call took effect
                os._exit(1)
            return
    except (OSError, AttributeError):  # no libc prctl: not Linux
        pass
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _chunk(read, paths: list[str], encode: bool, stat: bool | None = None):
    """[(result, stat before reading, encoding)]; the stat, which only the cache needs, is taken where it
    encodes unless `stat` says otherwise."""
    stat = encode if stat is None else stat
    out = []
    for path in paths:
        before = stat_of(path) if stat else None
        runs, warnings = read(path)
        out.append(((runs, warnings), before, codec.dumps(runs, warnings) if encode else None))
    return out


def stat_of(path: str) -> tuple | None:
    """(size, mtime_ns): the parse cache's key, taken before a file is read so that a later edit is seen."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns

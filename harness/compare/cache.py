"""Parsed runs cached per file, so regenerating a table over thousands of logs re-reads only what changed.

The key is the file's absolute path, size and mtime_ns plus a hash of the parser's own source: an edited
log, or a new version of the parser, is read again. Values are MessagePack (codec.py; never pickle) in one
sqlite file under the run_clm cache. A cache that cannot be opened or written is no cache, never an error.

Besides, the whole result of the last few input sets (`remembered`): a repeated command over files none of
which changed gets load_runs' runs as they were, merged, linked and sorted, without looking at each file's
entry. That result must not depend on the clock, so one holding a `running` run log is never kept.
"""

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from harness.compare import codec, load
from harness.compare.codec import Read
from harness.compare.pool import stat_of
from harness.compare.records import ParseWarning, Run

_CHUNK = 500  # sqlite's limit on bound parameters is 999 on old builds
_TABLE = "parsed2"  # named anew when the columns change
_OLD_TABLES = ("parsed",)  # what earlier layouts left: useless to this one, so their space is given back
_WHOLE = "whole2"  # whole results, by what was asked
_KEEP_WHOLE = 8  # the input sets remembered whole: the few commands one repeats


def parser_fingerprint() -> str:
    """A hash of every module that turns text into Runs: the log format and the compare side."""
    digest = hashlib.sha256()
    harness_dir = Path(__file__).resolve().parent.parent
    for folder in ("runlog", "compare"):
        for source in sorted((harness_dir / folder).rglob("*.py")):
            digest.update(source.relative_to(harness_dir).as_posix().encode())
            digest.update(source.read_bytes())
    return digest.hexdigest()[:16]


def default_path() -> Path:
    root = os.environ.get("RUN_CLM_CACHE") or "~/.cache/run_clm"
    return Path(root).expanduser() / "harness" / "parsed.sqlite3"


@dataclass(frozen=True)
class Inputs:
    asked: str  # a digest of the paths as given, and where from
    state: str  # a digest of the parser and of each file read: its path, size and mtime_ns


class ParseCache:
    def __init__(self, path=None):
        self.path = Path(path) if path else default_path()
        self.parser = parser_fingerprint()
        self._pending: list[tuple] = []
        self._whole: tuple | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=5)
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (path TEXT PRIMARY KEY, size INTEGER, "
                             "mtime_ns INTEGER, parser TEXT, payload BLOB, deferred BLOB)")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {_WHOLE} (asked TEXT PRIMARY KEY, state TEXT, stored REAL, "
                             "payload BLOB, deferred BLOB)")
            for table in _OLD_TABLES:
                self._db.execute(f"DROP TABLE IF EXISTS {table}")
        except (OSError, sqlite3.Error):
            self._db = None

    def lookup(self, paths: list[str]) -> dict[str, tuple[list[Run], list[ParseWarning]]]:
        """Cached results for the paths whose size, mtime and parser still match."""
        if self._db is None or not paths:
            return {}
        names = {os.path.abspath(p): p for p in paths}
        found = {}
        try:
            keys = list(names)
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                rows = self._db.execute(f"SELECT path, size, mtime_ns, parser, payload, deferred FROM {_TABLE} "
                                        f"WHERE path IN ({','.join('?' * len(chunk))})", chunk)
                fresh = [(absolute, (payload, deferred)) for absolute, size, mtime_ns, parser, payload, deferred in rows
                         if parser == self.parser and stat_of(absolute) == (size, mtime_ns)]
                for (absolute, _), read in zip(fresh, codec.loads_many([entry for _, entry in fresh])):
                    if read is not None:
                        found[names[absolute]] = _as_asked(read, names[absolute])
        except sqlite3.Error:
            return found
        return found

    def inputs(self, asked: list[str], files: list[str]) -> Inputs:
        """What a load_runs call depends on: what was asked, and every file it reads as it stands now."""
        digest = hashlib.sha256(f"{self.parser}\0".encode())
        digest.update("".join(f"{path}\0{stat_of(path)}\n" for path in files).encode("utf-8", "surrogatepass"))
        asked_key = json.dumps([_cwd(), asked], ensure_ascii=False)
        return Inputs(hashlib.sha256(asked_key.encode("utf-8", "surrogatepass")).hexdigest(), digest.hexdigest())

    def remembered(self, inputs: Inputs) -> Read | None:
        """load_runs' whole result for these inputs, kept when none of their files had changed since; or None."""
        if self._db is None:
            return None
        try:
            row = self._db.execute(f"SELECT state, payload, deferred FROM {_WHOLE} WHERE asked = ?",
                                   (inputs.asked,)).fetchone()
        except sqlite3.Error:
            return None
        if row is None or row[0] != inputs.state:
            return None
        return codec.loads_or_none(row[1], row[2])  # None for a damaged entry: derived again

    def remember(self, inputs: Inputs, runs: list[Run], warnings: list[ParseWarning]) -> None:
        """Keep load_runs' whole result for these inputs (written on close); one that cannot be encoded is not."""
        entry = codec.dumps(runs, warnings) if self._db is not None else None
        if entry is not None:
            self._whole = (inputs.asked, inputs.state, time.time(), *entry)

    def store(self, path: str, stat: tuple | None, entry: tuple[bytes, bytes] | None) -> None:
        """Remember a result (codec.dumps), with the stat taken before the file was read (pool.stat_of)."""
        if self._db is None or stat is None or entry is None:  # no entry: a value with no encoding, not cached
            return
        self._pending.append((os.path.abspath(path), stat[0], stat[1], self.parser, *entry))

    def close(self) -> None:
        if self._db is None:
            return
        try:
            if self._pending:
                self._db.executemany(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?, ?, ?)", self._pending)
            if self._whole is not None:
                self._db.execute(f"INSERT OR REPLACE INTO {_WHOLE} VALUES (?, ?, ?, ?, ?)", self._whole)
                self._db.execute(f"DELETE FROM {_WHOLE} WHERE asked NOT IN "
                                 f"(SELECT asked FROM {_WHOLE} ORDER BY stored DESC LIMIT {_KEEP_WHOLE})")
            if self._pending or self._whole is not None:
                self._db.commit()
        except sqlite3.Error:
            pass
        finally:
            self._db.close()
            self._db = None


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # a directory removed under us: relative paths name nothing there anyway
        return ""


def _as_asked(read: Read, path: str) -> Read:
    """A file's runs and warnings name it as it is asked for now (`logs/3.4.log`), not as when it was stored
    (`/home/me/exp/logs/3.4.log`): the key is the absolute path, the record keeps the words used."""
    runs, warnings = read
    stored = runs[0].source if runs else warnings[0].path if warnings else path
    if stored == path:
        return read
    for run in runs:
        run.source = path if run.source == stored else run.source
    return runs, [ParseWarning(path, w.line, w.message) if w.path == stored else w for w in warnings]


def load_runs(paths, stale_after: float, enabled: bool = True):
    """logparse.load_runs through the cache (what the commands use; `--no-cache` turns it off)."""
    cache = ParseCache() if enabled else None
    try:
        return load.load_runs(paths, stale_after=stale_after, cache=cache)
    finally:
        if cache is not None:
            cache.close()


def add_option(parser) -> None:
    parser.add_argument("--no-cache", dest="use_cache", action="store_false",
                        help="read every file again instead of reusing parsed results of unchanged files")

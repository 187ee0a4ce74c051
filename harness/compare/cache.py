"""Parsed runs cached per file, so regenerating a table over thousands of logs re-reads only what changed.

The key is the file's absolute path, size and mtime_ns plus a hash of the parser's own source: an edited
log, or a new version of the parser, is read again. Values are JSON (never pickle) in one sqlite file under
the run_clm cache. A cache that cannot be opened or written is no cache, never an error.
"""

import hashlib
import os
import sqlite3
from pathlib import Path

from harness.compare import codec, load
from harness.compare.pool import stat_of
from harness.compare.records import ParseWarning, Run

_CHUNK = 500  # sqlite's limit on bound parameters is 999 on old builds
_TABLE = "parsed2"  # named anew when the columns change
_OLD_TABLES = ("parsed",)  # what earlier layouts left: useless to this one, so their space is given back


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


class ParseCache:
    def __init__(self, path=None):
        self.path = Path(path) if path else default_path()
        self.parser = parser_fingerprint()
        self._pending: list[tuple] = []
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=5)
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {_TABLE} (path TEXT PRIMARY KEY, size INTEGER, "
                             "mtime_ns INTEGER, parser TEXT, payload BLOB, deferred BLOB)")
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
                        found[names[absolute]] = read
        except sqlite3.Error:
            return found
        return found

    def store(self, path: str, stat: tuple | None, entry: tuple[bytes, bytes] | None) -> None:
        """Remember a result (codec.dumps), with the stat taken before the file was read (pool.stat_of)."""
        if self._db is None or stat is None or entry is None:  # None: a YAML date or such, not cached
            return
        self._pending.append((os.path.abspath(path), stat[0], stat[1], self.parser, *entry))

    def close(self) -> None:
        if self._db is None:
            return
        try:
            if self._pending:
                self._db.executemany(f"INSERT OR REPLACE INTO {_TABLE} VALUES (?, ?, ?, ?, ?, ?)", self._pending)
                self._db.commit()
        except sqlite3.Error:
            pass
        finally:
            self._db.close()
            self._db = None


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

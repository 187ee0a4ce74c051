"""The version store: names, claiming the next free one, where a version's log lives, and its parent chain.

The chain is walked in one place, `walk_up`, under one policy for every caller (training, reproduce,
generate, lookup, lineage, plot): a parent that is a known version is followed; a parent that is a
directory (init_from=DIR, a checkpoint) or a version with no record ends the chain there; a parent seen
before on the same walk (a cycle) ends it too. Walks are iterative: a chain of thousands is fine.
"""

import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.errors import UserError

VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
NUMERIC_RE = re.compile(r"(\d+)\.(\d+)")
LOG_SUFFIX = ".log"


def check_name(version) -> str:
    text = str(version) if version is not None else ""
    if not VERSION_RE.fullmatch(text) or text in {".", ".."}:
        raise UserError(
            f"version {text!r} is not a safe name: use letters, digits and . _ + - "
            "(at most 64 characters, no slashes, not starting with a dot)"
        )
    return text


def log_path(logs_dir, version) -> Path:
    return Path(logs_dir) / f"{check_name(version)}{LOG_SUFFIX}"


def existing(logs_dir) -> list[str]:
    directory = Path(logs_dir)
    if not directory.is_dir():
        return []
    return sorted(p.name[: -len(LOG_SUFFIX)] for p in directory.glob(f"*{LOG_SUFFIX}"))


def next_free(logs_dir) -> str:
    """The highest N.M already in logs_dir plus one in M; 1.0 when there is none."""
    numeric = [tuple(map(int, m.groups())) for v in existing(logs_dir) if (m := NUMERIC_RE.fullmatch(v))]
    if not numeric:
        return "1.0"
    major, minor = max(numeric)
    return f"{major}.{minor + 1}"


def claim(logs_dir, version=None, attempts: int = 1000) -> tuple[str, Path]:
    """Create logs/<version>.log exclusively, so two runs started at once never share a version."""
    Path(logs_dir).mkdir(parents=True, exist_ok=True)
    if version is not None:
        path = log_path(logs_dir, version)
        if not _create_exclusive(path) and not _reclaim_abandoned(path):
            raise UserError(
                f"version {version} already exists ({path}): pick another version=, "
                f"or resume={version} to continue it"
            )
        return str(version), path
    for _ in range(attempts):
        candidate = next_free(logs_dir)
        path = log_path(logs_dir, candidate)
        if _create_exclusive(path):
            return candidate, path
    raise UserError(f"could not allocate a free version in {logs_dir}")


ABANDONED_AFTER = 10.0  # seconds: an empty log this old was claimed by a process that died before locking it


def _reclaim_abandoned(path: Path) -> bool:
    """Take over a log its process left before recording anything (killed during setup): nothing can resume
    it, and its name must not be blocked forever. A live run holds its log's lock from the claim on."""
    from harness.runlog.writer import is_locked

    try:
        stat = path.stat()
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return False
    recorded = b"\n----- config -----\n" in head or b"\nstatus: finished" in head
    young_and_empty = stat.st_size == 0 and time.time() - stat.st_mtime < ABANDONED_AFTER
    if recorded or young_and_empty or is_locked(path):
        return False
    os.truncate(path, 0)
    return True


def _create_exclusive(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    return True


# What a parent link turned out to be.
VERSION = "version"  # a version with a record: the walk goes on from it
PATH = "path"  # a directory or checkpoint (init_from=DIR): the chain starts there
MISSING = "missing"  # a version name with no record among the inputs
CYCLE = "cycle"  # named again on the same walk


@dataclass(frozen=True)
class Link:
    name: str
    kind: str


def classify(name: str, known: Callable[[str], bool]) -> str:
    """VERSION when `known` has it; PATH when it names a path; else MISSING."""
    if known(name):
        return VERSION
    if os.sep in name or "/" in name or not VERSION_RE.fullmatch(name) or os.path.exists(name):
        return PATH
    return MISSING


def walk_up(parent: str | None, parent_of: Callable[[str], str | None], known: Callable[[str], bool],
            start: str | None = None) -> Iterator[Link]:
    """The chain above a run whose parent is `parent`, nearest first; every non-VERSION link is the last."""
    seen = {start} if start else set()
    while parent:
        if parent in seen:
            yield Link(parent, CYCLE)
            return
        kind = classify(parent, known)
        yield Link(parent, kind)
        if kind != VERSION:
            return
        seen.add(parent)
        parent = parent_of(parent)


class LogStore:
    """The logs of one logs directory as a chain: read lazily, each log once."""

    def __init__(self, logs_dir):
        self.logs_dir = Path(logs_dir)
        self._logs: dict = {}

    def path_of(self, name: str) -> Path | None:
        """The log of version `name` in this directory; None when `name` is no version with a log here."""
        if not VERSION_RE.fullmatch(name):
            return None
        path = log_path(self.logs_dir, name)
        return path if path.is_file() else None

    def has(self, version: str) -> bool:
        return self.path_of(version) is not None

    def log(self, version: str):
        from harness.runlog.reader import read_log  # the reader pulls in YAML; names need none of it

        if version not in self._logs:
            self._logs[version] = read_log(log_path(self.logs_dir, version))
        return self._logs[version]

    def parent_of(self, version: str) -> str | None:
        return self.log(version).parent

    def link(self, name: str) -> Link:
        """What `name` (an init_from or a recorded parent) is in this directory."""
        return Link(name, classify(name, self.has))

    def chain(self, version: str) -> list[Link]:
        """The parent chain above `version` (whose log must exist), nearest first."""
        return list(walk_up(self.parent_of(version), self.parent_of, self.has, start=version))

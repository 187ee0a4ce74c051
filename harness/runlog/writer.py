"""Writes the run log described in docs/LOG_FORMAT.md: append-only, flushed on every write.

The log must never claim more than happened, so every write goes straight to the OS: a SIGKILL at any
moment leaves a file whose last `status:` line is still true for what was written before it.
"""

import datetime

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a live run is then not protected from a second resume
    fcntl = None
from pathlib import Path

import yaml

from harness.errors import UserError
from harness.runlog.format import MAGIC, STATUSES


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


class RunLog:
    def __init__(self, path, fresh: bool):
        self.path = Path(path)
        # backslashreplace: a stray undecodable byte from the command line must not stop the log mid-line.
        self._file = open(self.path, "a", encoding="utf-8", errors="backslashreplace")
        try:
            # Held while the run lives; the OS drops it even on SIGKILL, so "running" + unlocked = dead.
            if fcntl is not None:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise UserError(f"{self.path} is in use: that version is still running") from None
        if fresh:
            self._write(MAGIC)
        elif not _ends_with_newline(self.path):
            self._file.write("\n")  # a full disk tore the last line: start on a fresh one
    @classmethod
    def create(cls, path) -> "RunLog":
        """Start a log in a file that versions.claim() has just created (empty)."""
        return cls(path, fresh=True)

    @classmethod
    def append(cls, path) -> "RunLog":
        """Continue an existing log (a resumed run)."""
        return cls(path, fresh=False)

    def _write(self, text: str) -> None:
        self._file.write(text + "\n")
        self._file.flush()

    def field(self, key: str, value) -> None:
        """`key: value`; a multi-line note is several `note:` lines, any other value stays one line
        (a newline inside a command is written as `\\n`, so it never reads back as a second command)."""
        lines = str("" if value is None else value).splitlines() or [""]
        if key != "note" and len(lines) > 1:
            lines = ["\\n".join(lines)]
        for line in lines:
            self._write(f"{key}: {line}".rstrip())

    def fields(self, mapping: dict) -> None:
        for key, value in mapping.items():
            self.field(key, value)

    def status(self, status: str) -> None:
        assert status in STATUSES, status
        self.field("status", status)

    def section(self, name: str, body=None) -> None:
        self._write(f"----- {name} -----")
        if body is None:
            return
        text = yaml.safe_dump(_plain(body), sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
        self._write("\n".join(f"  {line}" if line else "  " for line in text.rstrip("\n").splitlines()))

    def periodic(self, logs: dict) -> None:
        self._write(repr({k: _plain(v) for k, v in logs.items()}))

    def metrics(self, split: str, metrics: dict) -> None:
        self._write(format_metrics_block(split, metrics))

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def format_metrics_block(split: str, metrics: dict) -> str:
    """Trainer's log_metrics layout, with full-precision numbers so a re-run can be compared exactly."""
    shown = {k: _format_metric(k, v) for k, v in metrics.items()}
    key_width = max((len(k) for k in shown), default=0)
    value_width = max((len(v) for v in shown.values()), default=0)
    lines = [f"***** {split} metrics *****"]
    lines += [f"  {k: <{key_width}} = {shown[k]:>{value_width}}" for k in sorted(shown)]
    return "\n".join(lines)


def _format_metric(key: str, value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if "_mem_" in key:
        return f"{int(value) >> 20}MB"
    if key.endswith("_runtime"):
        whole = int(value)
        return f"{datetime.timedelta(seconds=whole)}.{int((value - whole) * 100):02d}"
    if key == "total_flos":
        return f"{int(value) >> 30}GF"
    return repr(value)


def _plain(value):
    """Numpy/torch scalars and OmegaConf containers become plain Python for repr() and YAML."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            return value.item()
        except (ValueError, TypeError):
            return str(value)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def is_locked(path) -> bool:
    """True while some process on this machine has the log open as a live run (read-only: works on any
    readable file, creates nothing)."""
    if fcntl is None:
        return False
    try:
        with open(path, "rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(0, 2)
        if handle.tell() == 0:
            return True
        handle.seek(-1, 2)
        return handle.read(1) == b"\n"

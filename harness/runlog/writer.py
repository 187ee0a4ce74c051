"""Writes the run log described in docs/LOG_FORMAT.md: append-only, flushed on every write.

The log must never claim more than happened, so every write goes straight to the OS: a SIGKILL at any
moment leaves a file whose last `status:` line is still true for what was written before it.
"""

import datetime

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; a live run is then not protected from a second resume
    fcntl = None
import re
from pathlib import Path

import yaml

from harness.errors import UserError

MAGIC = "#### run_clm.py log (format 1) ####"
STATUSES = ("running", "finished", "crashed", "interrupted")


def now_iso() -> str:
    return datetime.datetime.now(datetime.timezone.utc).astimezone().isoformat(timespec="seconds")


class RunLog:
    def __init__(self, path, fresh: bool):
        self.path = Path(path)
        self._file = open(self.path, "a", encoding="utf-8")
        try:
            # Held while the run lives; the OS drops it even on SIGKILL, so "running" + unlocked = dead.
            if fcntl is not None:
                fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            raise UserError(f"{self.path} is in use: that version is still running") from None
        if fresh:
            self._write(MAGIC)

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
        lines = str("" if value is None else value).splitlines() or [""]
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


FIELD_RE = re.compile(r"^([a-z_]+): ?(.*)$")
SECTION_RE = re.compile(r"^----- (\w+) -----$")
BLOCK_RE = re.compile(r"^\*\*\*\*\* (\w+) metrics \*\*\*\*\*$")
BLOCK_LINE_RE = re.compile(r"^  (\S+) += +(\S+)$")


def read_log(path) -> dict:
    """Fields (last one wins), YAML sections and metrics blocks of a run log: what resume, init_from and
    reproduce need. The full reader, with history and every other input shape, is harness.compare.load."""
    fields, sections, metrics, current, body, block = {}, {}, {}, None, [], None

    def close_section():
        if current is not None:
            parsed = yaml.safe_load("\n".join(body)) if body else None
            if isinstance(parsed, dict) and isinstance(sections.get(current), dict):
                parsed = {**sections[current], **parsed}
            sections[current] = parsed

    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if current is not None and (line.startswith("  ") or not line):
                body.append(line[2:])
                continue
            if block is not None and (match := BLOCK_LINE_RE.match(line)):
                metrics[block][match.group(1)] = _number(match.group(2))
                continue
            close_section()
            current, body, block = None, [], None
            if match := BLOCK_RE.match(line):
                block = match.group(1)
                metrics[block] = {}
            elif match := SECTION_RE.match(line):
                current = match.group(1)
            elif match := FIELD_RE.match(line):
                fields[match.group(1)] = match.group(2).strip()
    close_section()
    return {"fields": fields, "sections": sections, "metrics": metrics}


def _number(text: str):
    """Full-precision numbers come back exactly; Trainer's 0:01:02.50, 12GF and 512MB forms stay text."""
    try:
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    except ValueError:
        return text


def is_locked(path) -> bool:
    """True while some process has the log open as a live run."""
    if fcntl is None:
        return False
    try:
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(handle, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False

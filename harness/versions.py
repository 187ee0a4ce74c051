"""Version names: validation, allocation of the next free one, and where a version's files live."""

import os
import re
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
        if not _create_exclusive(path):
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


def _create_exclusive(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    os.close(fd)
    return True

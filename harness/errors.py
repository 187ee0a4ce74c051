"""The one exception type that means "the user gave us something we cannot use".

Entry points catch it and print one line on stderr with a non-zero exit, never a traceback.
"""

import re
import sys


class UserError(Exception):
    """Bad input: a file, a config value, a version. The message is the whole story for the user."""


def report(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


class Interrupted(KeyboardInterrupt):
    """SIGTERM (a scheduler's kill, `kill PID`), raised like Ctrl-C so the log says "interrupted"."""


def raise_interrupted(signum, frame):
    raise Interrupted()


def exit_code(interrupt: KeyboardInterrupt) -> int:
    """The shell's convention: 128 + the signal (130 for SIGINT, 143 for SIGTERM)."""
    return 143 if isinstance(interrupt, Interrupted) else 130


def system_error(exc: BaseException) -> str | None:
    """One line for a failure of the machine rather than of our code: an OSError, or a library's wrapper of
    one (safetensors reports a full disk as `I/O error: ... (os error 28)`); None for anything else."""
    seen = exc
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return seen.strerror + (f" ({seen.filename})" if seen.filename else "")
        if re.search(r"\(os error \d+\)|No space left on device", str(seen)):
            return " ".join(str(seen).split())[:300]
        seen = seen.__cause__ or seen.__context__
    return None

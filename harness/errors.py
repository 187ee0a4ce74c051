"""The one exception type that means "the user gave us something we cannot use".

Entry points catch it and print one line on stderr with a non-zero exit, never a traceback.
"""

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

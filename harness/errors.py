"""The one exception type that means "the user gave us something we cannot use".

Entry points catch it and print one line on stderr with a non-zero exit, never a traceback.
"""

import sys


class UserError(Exception):
    """Bad input: a file, a config value, a version. The message is the whole story for the user."""


def report(message: str, code: int = 2) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code

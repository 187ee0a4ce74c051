"""Line-level readers for what Hugging Face Trainer prints: periodic dicts and `***** x metrics *****` blocks.

Shared by every text reader (run logs, Trainer stdout, notebooks). Pure functions, no I/O.
"""

from __future__ import annotations

import ast
import json
import math
import re
from typing import Any

import msgspec

METRICS_HEADER = re.compile(r"\*{5} (\w+) metrics \*{5}")
METRICS_LINE = re.compile(r"\s*([A-Za-z_][\w./-]*)\s*=\s*(\S.*?)\s*$")

_NUM = r"[-+]?(?:\d[\d_]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|nan|inf|infinity)"
_NUM_RE = re.compile(_NUM, re.IGNORECASE | re.ASCII)
_NUMBER_ENDS = frozenset("0123456789.nNfFyY")  # how a number can end (nan, inf, infinity)
# One flat `'key': value` item as Trainer prints it; anything fancier goes to ast.literal_eval.
_KEY = r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)")"""
_VALUE = r"""(?:'([^'\\\n]*)'|"([^"\\\n]*)"|(""" + _NUM + r"""|True|False|None))"""
_ITEM = _KEY + r"\s*:\s*" + _VALUE
_ITEM_RE = re.compile(_ITEM, re.IGNORECASE)
# Python's own repr layout, the common case, with a cheaper pattern: `'key': 'text'` or `'key': token`.
_REPR_ITEM_RE = re.compile(r"('([^'\\\n]*)': (?:'([^'\\\n]*)'|([-+\w.]+)))")
_FLAT_DICT_RE = re.compile(r"\{\s*(?:" + _ITEM + r"\s*,\s*)*(?:" + _ITEM + r"\s*,?\s*)?\}", re.IGNORECASE)
_KEYWORDS = {"True": True, "False": False, "None": None}
_NOT_A_VALUE = object()
_RUNTIME_RE = re.compile(r"(?:(\d+) days?, )?(\d+):(\d{2}):(\d{2}(?:\.\d+)?)")
_UNIT_RE = re.compile(r"([-+]?\d+(?:\.\d+)?)(GF|MB)")
_PROGRESS_RE = re.compile(r"\d+%\|| \d+/\d+ \[|it/s\]|s/it\]")
MAX_LITERAL_CHARS = 100_000  # a longer "dict" is not a Trainer log line; don't feed it to the parser


def to_number(text: str) -> int | float | None:
    """`'7.403'` -> 7.403, `'10'` -> 10, `'nan'` -> nan; None when `text` is not a plain number."""
    text = text.strip()
    if not text or text[-1] not in _NUMBER_ENDS or not _NUM_RE.fullmatch(text):
        return None
    digits = text[1:] if text[0] in "+-" else text
    if digits.isdigit():
        return int(text)
    try:
        return float(text)
    except ValueError:  # `1__0`: the pattern is a little looser than Python
        return None


def _bare(text: str) -> Any:
    """A bare value: a Python number or keyword; `_NOT_A_VALUE` for anything else (a name, say)."""
    if text.isdigit() and text.isascii():
        return int(text)
    if text in _KEYWORDS:
        return _KEYWORDS[text]
    try:
        if "." in text or "e" in text or "E" in text or "n" in text or "N" in text:
            return float(text)
        return int(text)
    except ValueError:
        return _NOT_A_VALUE


def _string(text: str) -> Any:
    """A quoted value; transformers 5.x prints numbers as strings."""
    if text and text[-1] in _NUMBER_ENDS and not text[0].isspace():
        number = to_number(text)
        if number is not None:
            return number
    return text


_DECODE = msgspec.json.Decoder().decode


def json_loads(text: str | bytes) -> Any:
    """json.loads, through msgspec where the two agree (four times faster on a short line, a third faster on a
    cache payload): msgspec refuses the NaN/Infinity tokens and an overflowing 1e400, which go to json.
    Raises ValueError (also for nesting too deep to read) where json.loads raises."""
    try:
        return _DECODE(text)
    except (msgspec.DecodeError, ValueError, RecursionError):  # ValueError: a lone surrogate in a str
        pass
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def _json_dict(text: str) -> dict[str, Any] | None:
    """The common case in C: with no `"` in the line, repr() delimited every string with `'`, so swapping
    the quote character gives JSON with the same keys and values. Anything else (nan, True, escapes JSON
    lacks) fails to decode and takes the general path."""
    if '"' in text or not text.startswith("{"):
        return None
    try:
        value = json_loads(text.replace("'", '"'))
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    if str not in set(map(type, value.values())):  # numbers only (transformers 4.x): nothing to convert
        return value
    return {k: (_string(v) if isinstance(v, str) else v) for k, v in value.items()}


def parse_dict_literal(text: str) -> dict[str, Any] | None:
    """A Python dict literal as Trainer prints it, without `eval`. None when it is not one.

    The flat form (string keys, number/string/bool values, including bare `nan`/`inf`, which
    `ast.literal_eval` refuses) is read by regex; anything else goes to `ast.literal_eval`.
    """
    text = text.strip()
    if len(text) > MAX_LITERAL_CHARS:
        return None
    fast = _json_dict(text)
    if fast is not None:
        return fast
    items = _REPR_ITEM_RE.findall(text)
    if "{" + ", ".join([item[0] for item in items]) + "}" == text:  # exactly `{'k': v, 'k2': v2}`
        out = {}
        for _, key, quoted, bare in items:
            if bare:
                value = _bare(bare)
                if value is _NOT_A_VALUE:
                    break
                out[key] = value
            else:
                out[key] = _string(quoted)
        else:
            return out
    if _FLAT_DICT_RE.fullmatch(text):
        out = {}
        for k1, k2, s1, s2, bare in _ITEM_RE.findall(text):
            out[k1 or k2] = _bare(bare) if bare else _string(s1 or s2)
        if _NOT_A_VALUE not in out.values():
            return out
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None
    if not isinstance(value, dict):
        return None
    return {str(k): (_string(v) if isinstance(v, str) else v) for k, v in value.items()}


def find_periodic(line: str) -> tuple[dict[str, Any] | None, bool]:
    """(dict, looked_like_one) for a line that may carry a periodic dict behind a tqdm bar.

    A tqdm bar rewrites itself with carriage returns, so the dict is in the last `\\r` segment that
    has a `{`; the dict starts at the last `{` that parses (bars never contain one).
    """
    if "{" not in line:
        return None, False
    for segment in reversed(line.split("\r")):
        start = segment.rfind("{")
        if start < 0:
            continue
        end = segment.rfind("}")
        while start >= 0:
            if end > start:
                found = parse_dict_literal(segment[start : end + 1])
                if found is not None:
                    return found, True
            start = segment.rfind("{", 0, start)
        return None, True
    return None, True


def parse_metric_value(text: str) -> Any:
    """One value of a metrics block: `0:03:21.77` -> 201.77 (s), `1084GF` -> 1084, `512MB` -> 512, numbers."""
    value = _METRIC_VALUES.get(text, _NOT_A_VALUE)  # blocks repeat the same few values (epochs, counts)
    if value is _NOT_A_VALUE:
        if len(_METRIC_VALUES) > 50_000:
            _METRIC_VALUES.clear()
        value = _METRIC_VALUES[text] = _metric_value(text)
    return value


_METRIC_VALUES: dict[str, Any] = {}


def _metric_value(text: str) -> Any:
    text = text.strip()
    number = to_number(text)
    if number is not None:
        return number
    m = _RUNTIME_RE.fullmatch(text)
    if m:
        days, hours, minutes, seconds = m.groups()
        return int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + float(seconds)
    m = _UNIT_RE.fullmatch(text)
    if m:
        return to_number(m.group(1))
    return text


def metrics_header(line: str) -> str | None:
    """The split (`train`, `eval`, `test`, ...) when `line` opens a metrics block."""
    if "metrics *****" not in line:
        return None
    m = METRICS_HEADER.search(line.rsplit("\r", 1)[-1])
    return m.group(1) if m else None


def metrics_line(line: str) -> tuple[str, Any] | None:
    m = METRICS_LINE.match(line)
    if not m:
        return None
    return m.group(1), parse_metric_value(m.group(2))


def is_progress(line: str) -> bool:
    """A tqdm progress-bar line (no payload for us)."""
    return "\r" in line or bool(_PROGRESS_RE.search(line))


def is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)

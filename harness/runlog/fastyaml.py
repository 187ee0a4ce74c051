"""`yaml.safe_load` for the plain block YAML that run logs hold, without PyYAML's per-node cost.

A run-log section body is what `yaml.safe_dump`/OmegaConf write: nested block mappings and sequences of
plain or simply quoted scalars. `load` reads exactly that subset and gives the same result PyYAML
would; on anything else (anchors, tags, block or multi-line scalars, flow collections, comments, tabs,
timestamps, odd numbers) it hands the whole text to `yaml.safe_load`. tests/test_fastyaml.py checks
the two agree.
"""

from __future__ import annotations

import re
from typing import Any

import yaml


class NoAliasLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, refusing aliases: run_clm.py never writes one, and nine nested `&a [*a, *a, ...]`
    expand to billions of nodes (the "billion laughs"). A log that holds one gets a warning, not a hang."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "aliases (*name) are not allowed in a run log", mark)
        return super().compose_node(parent, index)


class _Fallback(Exception):
    """Outside the subset: let PyYAML decide."""


_BOOL = {v: True for v in ("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON")}
_BOOL.update({v: False for v in ("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF")})
_INT_RE = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_FLOAT_RE = re.compile(r"[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+][0-9]+)?")
_SPECIAL_FLOAT = {".inf": float("inf"), "-.inf": float("-inf"), "+.inf": float("inf"), ".nan": float("nan")}
_SPECIAL_FLOAT.update({k.replace("inf", c): v for k, v in list(_SPECIAL_FLOAT.items()) for c in ("Inf", "INF")})
_SPECIAL_FLOAT.update({".NaN": float("nan"), ".NAN": float("nan")})
_SINGLE_RE = re.compile(r"'((?:[^']|'')*)'")
_DOUBLE_RE = re.compile(r'"([^"\\]*)"')
_INDICATORS = set("[]{},#&*!|>'\"%@`")
# PyYAML's own table of implicit types (first character -> [(tag, regex)]): resolve exactly as it does.
_RESOLVERS = yaml.resolver.Resolver.yaml_implicit_resolvers
# Text the subset leaves to PyYAML: tabs, odd line breaks (\r \x85 \u2028 \u2029), a BOM, comments, and
# any character PyYAML refuses (outside its printable class), so that both fail alike. One negated class
# of what the subset does take: ten times faster than testing each kind of trouble in turn.
# What YAML may hold unquoted, less the spaces that are text to YAML but whitespace to Python's str methods
# and `\s` (\xa0, \u1680, \u2000-\u200a, \u202f, \u205f, \u3000): those texts go to PyYAML.
_UNSAFE_CHAR_RE = re.compile("[^\n\x20-\x7E\xA1-\u167F\u1681-\u1FFF\u200B-\u2027\u202A-\u202E\u2030-\u205E"
                             "\u2060-\u2FFF\u3001-\uD7FF\uE000-\uFEFE\uFF00-\uFFFD\U00010000-\U0010ffff]")
_COMMENT_RE = re.compile(r"(?:^|\s)#")


def _typed(tag: str, text: str) -> Any:
    kind = tag.rsplit(":", 1)[-1]
    if kind == "null":
        return None
    if kind == "bool":
        return _BOOL[text]
    if kind == "int" and _INT_RE.fullmatch(text):
        return int(text.replace("_", ""))
    if kind == "float":
        if _FLOAT_RE.fullmatch(text):
            return float(text.replace("_", ""))
        if text in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[text]
    raise _Fallback  # 0x1f, 017, 1:30, dates, `<<`, `=`: rare, and PyYAML knows them best


def _plain(text: str) -> Any:
    """A plain scalar, resolved the way PyYAML's SafeLoader does (YAML 1.1 implicit types)."""
    for tag, regex in _RESOLVERS.get(text[:1], ()):
        if regex.match(text):
            return _typed(tag, text)
    if text[0] in _INDICATORS or ": " in text or " #" in text or text.endswith(":"):
        raise _Fallback
    if text[0] in "-?:" and (len(text) == 1 or text[1] == " "):
        raise _Fallback
    return text


def _scalar(text: str) -> Any:
    """A value in block context. Immutable results are memoised: logs repeat the same values a lot."""
    value = _MEMO.get(text, _MISSING)
    if value is not _MISSING:
        return value
    first = text[0]
    if first == "'":
        m = _SINGLE_RE.fullmatch(text)
        if not m:
            raise _Fallback
        value = m.group(1).replace("''", "'")
    elif first == '"':
        m = _DOUBLE_RE.fullmatch(text)
        if not m:
            raise _Fallback
        value = m.group(1)
    elif text == "[]":
        return []
    elif text == "{}":
        return {}
    else:
        value = _plain(text)
    if len(_MEMO) > 100_000:
        _MEMO.clear()
    _MEMO[text] = value
    return value


def _key(text: str) -> Any:
    if text[0] in "'\"":
        raise _Fallback
    key = _scalar(text)
    if not isinstance(key, (str, int)) or isinstance(key, bool):
        raise _Fallback
    return key


_MEMO: dict[str, Any] = {}  # scalar text -> value
_KEYS: dict[str, Any] = {}  # key text -> key
_DOCS: dict[str, Any] = {}  # document text -> value (never handed out: copies are)
_SEEN: set[int] = set()  # hashes of documents parsed once (memoised when seen again; a collision only copies)
_MISSING = object()
_LINE_RE = re.compile(r"^( *)(\S.*)", re.MULTILINE)  # trailing spaces are cut after, where there are any


class _Parser:
    def __init__(self, lines: list[tuple[int, str]]):
        self.lines = lines
        self.n = len(lines)

    def node(self, i: int, indent: int) -> tuple[Any, int]:
        content = self.lines[i][1]
        if content[0] == "-" and (len(content) == 1 or content[1] == " "):
            return self.sequence(i, indent)
        return self.mapping(i, indent)

    def value_after(self, i: int, indent: int, rest: str) -> tuple[Any, int]:
        """The value of `key: rest` (or of `- rest`) whose line was i - 1."""
        deeper = i < self.n and self.lines[i][0] > indent
        if rest:
            if deeper:
                raise _Fallback  # a multi-line scalar
            return _scalar(rest), i
        if deeper:
            return self.node(i, self.lines[i][0])
        return None, i

    def mapping(self, i: int, indent: int) -> tuple[dict, int]:
        out: dict[Any, Any] = {}
        lines, n, keys, memo = self.lines, self.n, _KEYS, _MEMO
        while i < n and lines[i][0] == indent:
            content = lines[i][1]
            key, sep, rest = content.partition(": ")
            if not sep:
                if content[-1] != ":":
                    raise _Fallback
                key = content[:-1]
            elif key[-1] == " ":
                key = key.rstrip(" ")
            if not key or (content[0] == "-" and _is_item(content)):
                raise _Fallback
            name = keys.get(key, _MISSING)  # the common case, inline: a table reads thousands of sections
            if name is _MISSING:
                name = keys[key] = _key(key)
            i += 1
            if rest:
                if rest[0] == " ":
                    rest = rest.lstrip(" ")
                deeper = i < n and lines[i][0] > indent
                value = memo.get(rest, _MISSING) if not deeper else _MISSING
                if value is not _MISSING and type(value) is not list and type(value) is not dict:
                    out[name] = value
                    continue
            if not rest and i < n and lines[i][0] == indent and _is_item(lines[i][1]):
                out[name], i = self.sequence(i, indent)  # `key:` then `- item` at the key's indent
            else:
                out[name], i = self.value_after(i, indent, rest)
        if i < n and lines[i][0] > indent:
            raise _Fallback
        return out, i

    def sequence(self, i: int, indent: int) -> tuple[list, int]:
        out: list[Any] = []
        lines = self.lines
        while i < self.n and lines[i][0] == indent and _is_item(lines[i][1]):
            content = lines[i][1]
            rest = content[1:].lstrip(" ")
            if rest and rest[0] not in "'\"[{" and (": " in rest or rest[-1] == ":"):
                sub = indent + len(content) - len(rest)  # `- key: v`: a mapping starts after the dash
                lines[i] = (sub, rest)
                value, i = self.mapping(i, sub)
            elif _is_item(rest):
                raise _Fallback
            else:
                value, i = self.value_after(i + 1, indent, rest)
            out.append(value)
        if i < self.n and lines[i][0] > indent:
            raise _Fallback
        return out, i


def _is_item(content: str) -> bool:
    return content[:1] == "-" and (len(content) == 1 or content[1] == " ")


def _fast(text: str) -> Any:
    if _UNSAFE_CHAR_RE.search(text) or ("#" in text and _COMMENT_RE.search(text)):
        raise _Fallback
    if " \n" in text or text.endswith(" "):
        lines = [(len(indent), content.rstrip(" ")) for indent, content in _LINE_RE.findall(text)]
    else:
        lines = [(len(indent), content) for indent, content in _LINE_RE.findall(text)]
    if not lines:
        return None
    for indent, content in lines:
        if indent == 0 and content[0] in "-.%" and content.startswith(("---", "...", "%")):
            raise _Fallback  # document markers and directives
    value, i = _Parser(lines).node(0, lines[0][0])
    if i != len(lines):
        raise _Fallback
    return value


def load(text: str) -> Any:
    """What `yaml.safe_load(text)` returns; raises what it raises (yaml.YAMLError) on bad YAML.

    Whole documents are memoised too (environment and model sections repeat from run to run); each
    call gets its own copy, so callers may change what they get.
    """
    cached = _DOCS.get(text, _MISSING)
    if cached is not _MISSING:
        return _copy(cached)
    try:
        value = _fast(text)
    except Exception:  # noqa: BLE001 - _Fallback, or a gap in the subset: PyYAML has the last word
        # The pure-Python loader (libyaml differs on a few malformed inputs), without aliases.
        return yaml.load(text, Loader=NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    key = hash(text)
    if key not in _SEEN:  # most documents are seen once (a config, a data section): no copy to keep
        if len(_SEEN) > 2**20:
            _SEEN.clear()
        _SEEN.add(key)
        return value
    if len(_DOCS) > 4096:
        _DOCS.clear()
    _DOCS[text] = value
    return _copy(value)


def _copy(value: Any) -> Any:
    """A deep copy of what `_fast` builds (dicts, lists, immutable scalars), much cheaper than deepcopy."""
    if isinstance(value, dict):
        return {k: _copy(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def clear_memo() -> None:
    _MEMO.clear()
    _KEYS.clear()
    _DOCS.clear()
    _SEEN.clear()

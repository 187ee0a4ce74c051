"""Text from a log, made safe for Markdown: logs are shared data, and GitHub and most viewers render the raw
HTML a Markdown file holds. One escaper for every Markdown writer (tables, show, samples)."""

import re

_PLAIN = re.compile(r"[^\\`*\[\]|&<\r\n]*")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*\[\]|])")  # not `_`: GitHub never reads eval_loss as emphasis


def markdown_text(text: str) -> str:
    """`<script>` shows as text; `|`, `*`, backticks and brackets are literal; one line."""
    text = str(text)
    if _PLAIN.fullmatch(text):  # most cells (numbers, versions): nothing to escape, and tables hold thousands
        return text
    text = text.replace("&", "&amp;").replace("<", "&lt;")  # `>` alone opens nothing: `3.4 -> 3.5` stays
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return " ".join(text.replace("\r", "").split("\n"))

"""The report as one HTML file: the table as HTML (readable without scripts, and in print), the rest drawn
by the inlined report.js from the JSON payload. Nothing is fetched when the page is viewed.

Log text reaches the page two ways only: html.escape()d in the table (compare/formats.py), and inside the
JSON payload, where `<`, `>` and `&` are \\u-escaped so no log can close the <script> element; report.js
puts text into the page with textContent, never as markup.
"""

from __future__ import annotations

import html
from pathlib import Path

from harness.cli.page.data import to_json
from harness.compare.formats import to_html
from harness.compare.table import Table

ASSETS = Path(__file__).parent

SECTIONS = (("table", "Comparison"), ("lineage", "Lineage and details"), ("diff", "Diff of two versions"),
            ("curves", "Curves"), ("sweep", "Metric against a hyper-parameter"), ("samples", "Samples"))


def render(doc: dict, table: Table) -> str:
    css = (ASSETS / "report.css").read_text(encoding="utf-8")
    js = (ASSETS / "report.js").read_text(encoding="utf-8")
    title = html.escape(doc["title"])
    nav = " ".join(f'<a href="#{key}">{name}</a>' for key, name in SECTIONS)
    intro = (f"{len(doc['versions'])} version{'s' if len(doc['versions']) != 1 else ''} from "
             f"{html.escape(', '.join(doc['inputs']))}; generated {html.escape(doc['generated'])} by "
             "<code>python -m harness report</code>")
    sections = "\n".join(_section(key, name, to_html(table) if key == "table" else "") for key, name in SECTIONS)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
{css}</style>
</head>
<body>
<header><h1>{title}</h1><p class="intro">{intro}</p><nav>{nav}</nav></header>
<noscript><p class="note">Scripts are off: only the table is shown.</p></noscript>
<main>
{sections}
</main>
<script type="application/json" id="report-data">{to_json(doc)}</script>
<script>
{js}</script>
</body>
</html>
"""


def _section(key: str, name: str, body: str) -> str:
    return f'<section id="{key}"><h2>{name}</h2><div class="body" id="{key}-body">\n{body}</div></section>'

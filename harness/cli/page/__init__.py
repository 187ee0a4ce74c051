"""`harness report`: the page builder (data.py: what the page shows; page.py: the HTML; report.js/css: inlined)."""

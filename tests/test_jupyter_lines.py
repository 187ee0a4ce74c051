"""Warnings from a .ipynb point at the JSON line of the offending source or output line, and name the cell and
its line as Jupyter shows them (harness/compare/readers/jupyter.py)."""

import json
import re

from hypothesis import given
from hypothesis import strategies as st
from test_mutations import SETTINGS

from harness.compare.readers import jupyter

BAD_ROW = "| 2 | oops |"
TABLE = ["| Epoch | Training Loss | Validation Loss |", "|---|---|---|", "| 1 | 0.5 | 0.4 |", BAD_ROW,
         "| 3 | 0.3 | 0.2 |"]


def cell(kind, source, *outputs):
    found = {"cell_type": kind, "metadata": {}, "source": source}
    if kind == "code":
        found.update(execution_count=1, outputs=list(outputs))
    return found


def stream(lines):
    return {"output_type": "stream", "name": "stdout", "text": [line + "\n" for line in lines]}


def notebook(cells, indent=1) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=indent)


def warnings_of(text):
    return jupyter.read("x.ipynb", text)[1]


def test_a_bad_row_printed_by_a_cell_points_at_its_json_line():
    text = notebook([cell("markdown", ["# Title\n", "notes\n"]),
                     cell("code", ["trainer.train()\n", "show()"], stream(["{'loss': 0.5, 'epoch': 1.0}", *TABLE]))])
    (warning,) = warnings_of(text)
    assert json.dumps(BAD_ROW + "\n") in text.split("\n")[warning.line - 1]
    assert warning.message.endswith("(cell 2, output line 5)")


def test_a_bad_row_in_markdown_kept_as_one_string_names_cell_and_line():
    text = notebook([cell("code", "x = 1", stream(["{'loss': 0.5, 'epoch': 1.0}"])),
                     cell("markdown", "\n".join(TABLE))])
    (warning,) = warnings_of(text)
    assert text.split("\n")[warning.line - 1].lstrip().startswith('"source"')
    assert warning.message.endswith("(cell 2, line 4)")


def test_a_notebook_on_one_line_still_names_the_cell():
    text = notebook([cell("markdown", ["intro\n"]), cell("markdown", [line + "\n" for line in TABLE])], indent=None)
    (warning,) = warnings_of(text)
    assert warning.line == 1 and warning.message.endswith("(cell 2, line 4)")


def test_html_table_rows_map_to_their_html_line():
    html = ["<table>\n", "<thead><tr><th>Epoch</th><th>Training Loss</th><th>Validation Loss</th></tr></thead>\n",
            "<tbody>\n", "<tr><td>1</td><td>0.5</td><td>0.4</td></tr>\n", "<tr><td>2</td><td>oops</td></tr>\n",
            "</tbody></table>"]
    shown = {"output_type": "display_data", "metadata": {}, "data": {"text/html": html, "text/plain": ["<table>"]}}
    text = notebook([cell("code", ["trainer.train()"], shown)])
    runs, warnings = jupyter.read("x.ipynb", text)
    assert runs and not warnings  # a tab-separated row that does not fit ends the table: no warning
    # and the run's table line is the header row's JSON line
    assert "<thead><tr><th>Epoch" in text.split("\n")[runs[0].lines["training"] - 1]


_LINES = st.sampled_from(TABLE + ["", "text", "- Accuracy: 0.9", "{'eval_loss': 0.4, 'epoch': 1.0}", "## Run A",
                                  "| 9 | bad | row | x |", "{'loss': [1, 2", "eval_loss = 0.3"])


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["markdown", "code"]), st.lists(_LINES, max_size=8),
                          st.lists(_LINES, max_size=8)), min_size=1, max_size=5), st.booleans())
def test_every_warning_names_a_cell_line_that_is_on_its_file_line(cells, as_lists):
    built = []
    for kind, source, printed in cells:
        lines = [line + "\n" for line in source]
        built.append(cell(kind, lines if as_lists else "".join(lines), *([stream(printed)] if kind == "code" else [])))
    text = notebook(built)
    file_lines = text.split("\n")
    for warning in warnings_of(text):
        m = re.search(r"\(cell (\d+), (output )?line (\d+)\)$", warning.message)
        assert m and 1 <= warning.line <= len(file_lines), warning
        n, output, k = int(m.group(1)) - 1, m.group(2), int(m.group(3)) - 1
        kind, source, printed = cells[n]
        shown = (printed if output else source)[k]
        if as_lists or output:
            assert json.dumps(shown + "\n") in file_lines[warning.line - 1]


def test_a_code_cells_starting_values_are_not_results(tmp_path):
    """`eval_loss = 0.0` in a hand-written evaluation loop is where the code starts, not what it found; what the
    cell printed is the result, and the code's settings still count."""
    source = ["lr = 3e-4\n", "eval_loss = 0.0\n", "accuracy = 0\n", "for batch in loader:\n",
              "    eval_loss += step(batch)\n", "print({'eval_loss': eval_loss, 'eval_accuracy': 0.81})\n"]
    text = notebook([cell("code", ["args = TrainingArguments(learning_rate=lr, num_train_epochs=2)\n",
                                   "trainer.train()\n"]),
                     cell("code", source, stream(["{'eval_loss': 0.4123, 'eval_accuracy': 0.81}"]))])
    from harness.compare.load import read_text_file

    (tmp_path / "x.ipynb").write_text(text)
    (run,), _ = read_text_file(str(tmp_path / "x.ipynb"))
    assert run.eval_metrics["eval_loss"] == 0.4123 and run.eval_metrics["eval_accuracy"] == 0.81
    assert "accuracy" not in run.eval_metrics and "eval_loss" not in run.train_metrics
    assert run.hyperparameters.get("num_train_epochs") == 2

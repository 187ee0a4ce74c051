"""Terminal fitting, shared by table, show, diff and lineage: at 80 and 120 columns nothing wraps, numbers
stay whole, empty columns go, the least important columns are hidden in the stated order with one line
saying so, and long values lose their middle."""

import argparse
import io
import re

import logfixtures as F
import pytest
from rich.console import Console

from harness.cli import diff, render, show
from harness.cli.table import HIDE_ORDER, table_document
from harness.compare import lineage, lookup
from harness.compare.load import load_runs
from harness.compare.review import review
from harness.compare.table import build_table

LONG_PATH = "/home/me/experiments/2026/november/finetuned_model_v3.4_with_a_very_long_name/TestData.txt"
NUMBER = re.compile(r"^-?\d+(\.\d+)?(e-?\d+)?$")


@pytest.fixture
def inputs(tmp_path):
    """A seven-version notebook beside run logs: the shape that wrapped every cell before."""
    F.write(tmp_path / "logs" / "3.4.log", F.runlog(version="3.4", parent=None, cumulative=3.0))
    F.write(tmp_path / "logs" / "3.5.log", F.runlog(status="crashed").replace("/home/me/TestData.txt", LONG_PATH))
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    return tmp_path


def _table(root, **kwargs):
    runs, warnings = load_runs([str(root / "logs"), str(root / "notebook.txt")])
    table = build_table(runs, parse_warnings=warnings, **kwargs)
    table.warnings[:0] = review(table.runs)
    return table


def _printed(doc, width):
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    render.to_rich(doc, console)
    return console.file.getvalue().splitlines()


def _cells(line):
    return [cell for cell in re.split(r"\s{2,}", line.strip()) if cell]


@pytest.mark.parametrize("width", [80, 120])
def test_table_fits_and_says_what_it_hid(inputs, width):
    table = _table(inputs)
    lines = _printed(table_document(table), width)
    assert all(len(line) <= width for line in lines)
    header = _cells(lines[0])
    body = lines[2:2 + len(table.rows)]
    assert len(body) == len(table.rows) and all(not line.startswith(" ") for line in body)  # one line a row
    assert header[0] == "version" and "eval_loss" in header
    # every number printed whole: the rows' numeric cells are exactly the formatted values
    for line, row in zip(body, table.rows):
        assert line.split()[0] == row["version"]
        if row.get("eval_loss") is not None:
            assert f"{row['eval_loss']:.4f}" in line.split()
    text = re.sub(r"\s+", " ", " ".join(lines))
    grid = table_document(table).blocks[0]
    fitted = render.fit(grid, width, render.RICH_GAP)
    hidden = [c.key for c in fitted.hidden]
    assert hidden and f"{len(hidden)} columns hidden to fit {width} columns: {', '.join(hidden)}" in text
    assert "--wide" in text and "--columns" in text
    # hidden in the stated order: every hidden column comes before every kept one in HIDE_ORDER
    kept = [c.key for c in fitted.columns if c.key in HIDE_ORDER]
    assert all(c.header in lines[0] for c in fitted.columns)
    positions = [HIDE_ORDER.index(k) for k in hidden if k in HIDE_ORDER]
    assert not kept or max(positions, default=-1) < min(HIDE_ORDER.index(k) for k in kept)


def test_narrower_terminals_hide_more_and_wide_hides_nothing(inputs):
    table = _table(inputs)
    narrow = " ".join(_printed(table_document(table), 80))
    wide = " ".join(_printed(table_document(table), 120))
    count = {text: int(re.search(r"(\d+) columns? hidden", text).group(1)) for text in (narrow, wide)}
    assert count[narrow] > count[wide] > 0
    full = render.to_rich_text(table_document(table))  # --wide / piped: as wide as the table needs
    assert "hidden" not in full and "peak mem (MB)" in full and "samples/s" in full


def test_empty_columns_are_dropped_and_chosen_columns_hidden_only_when_they_cannot_fit(inputs):
    table = _table(inputs, columns="version,eval_loss,peak_memory_mb,notes")
    lines = _printed(table_document(table), 80)
    assert "peak mem (MB)" in lines[0] and "notes" in lines[0]
    assert not any("hidden" in line for line in lines)
    empty = _table(inputs, columns="version,eval_loss,eval_f1", where=["version=3.4"])
    assert "eval_f1" not in _printed(table_document(empty), 120)[0]
    many = _table(inputs, columns="version,model,learning_rate,train_loss,eval_loss,eval_accuracy,perplexity")
    lines = _printed(table_document(many), 60)
    assert all(len(line) <= 60 for line in lines) and _cells(lines[0])[-1] == "eval_accuracy"
    assert "2 columns hidden to fit 60 columns: model, perplexity (--wide shows all, --columns A,B,... picks)" in (
        re.sub(r"\s+", " ", " ".join(lines)))


def test_long_values_lose_their_middle():
    assert render.middle("outputs/finetuned_model_v3.4", 16) == "outputs/…el_v3.4"
    assert render.middle("short", 16) == "short"
    assert len(render.middle(LONG_PATH, 20)) == 20


def _args(**kwargs):
    return argparse.Namespace(paths=[], sources=[], use_cache=False, stale_after=30.0, **kwargs)


@pytest.mark.parametrize("width", [80, 120])
def test_show_and_diff_fit_with_paths_shortened_in_the_middle(inputs, width):
    found = lookup.load(str(inputs / "logs"), [])
    one = lookup.pick("3.5", found)
    lines = _printed(show.document(show.describe(one, found)), width)
    assert all(len(line) <= width for line in lines)
    train = next(line for line in lines if line.strip().startswith("train ") and "/home" in line)
    value = train.split(None, 1)[1].rstrip()
    assert "…" in value and value.startswith("/home/me/") and value.endswith("sha256 9f86d0aa)")  # both ends kept
    other = lookup.pick("3.4", found)
    lines = _printed(diff.document(diff.compare(other, one)), width)
    assert all(len(line) <= width for line in lines)
    metric = next(line for line in lines if line.startswith("eval_loss"))
    assert "5.4321" in metric.split()


def test_show_text_is_not_fitted_unless_asked(inputs):
    found = lookup.load(str(inputs / "logs"), [])
    doc = show.document(show.describe(lookup.pick("3.5", found), found))
    assert LONG_PATH in render.to_text(doc)
    fitted = render.to_text(doc, width=60)
    assert LONG_PATH not in fitted and all(len(line) <= 60 for line in fitted.splitlines()
                                           if not line.startswith("  python run_clm.py"))


def test_lineage_labels_fit(inputs):
    runs, _ = load_runs([str(inputs / "notebook.txt")])
    rows = [(guide, lineage.label(node), "") for guide, node in lineage.tree_rows(lineage.build_tree(runs))]
    doc = render.Document("versions", [render.Tree(rows=rows)])
    lines = _printed(doc, 40)
    assert all(len(line) <= 40 for line in lines) and lines[1].startswith("2.1  [finished]")
    assert any(line.endswith("…") for line in lines)
    assert render.to_text(doc).splitlines()[1:] == lineage.tree_lines(lineage.build_tree(runs))


def test_numbers_are_never_shortened():
    grid = render.Grid(columns=[render.Column("name"), render.Column("value", numeric=True)],
                       rows=[["x" * 50, "123456.7890"]])
    fitted = render.fit(grid, 30, render.RICH_GAP)
    assert fitted.rows[0][1] == "123456.7890" and render.cell_text(fitted.rows[0][0]).count("…") == 1
    assert all(NUMBER.match(render.cell_text(row[1])) for row in fitted.rows)


def test_log_text_is_escaped_not_interpreted():
    grid = render.Grid(columns=[render.Column("[red]3.4"), render.Column("value")],
                       rows=[["a|b", "<script>x</script> **bold**"]])
    doc = render.Document("t", [grid, render.Lines(title="commands", lines=["echo ```x```"], kind="code")])
    md = render.to_markdown(doc)
    assert "a\\|b" in md and "&lt;script>" in md and "\\*\\*bold\\*\\*" in md and "<script>" not in md
    assert "````\necho ```x```\n````" in md  # the fence outlasts any backticks inside
    assert "[red]3.4" in render.to_rich_text(doc, width=80)  # a version that looks like markup prints as is

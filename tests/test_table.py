"""The comparison table, its formats, the reviewer's warnings, lineage, and the `table`/`lineage` commands."""

import csv
import io
import json
import subprocess
import sys

import logfixtures as F
import pytest

from harness.cli.main import main
from harness.cli.render import to_rich_text
from harness.cli.table import table_document
from harness.compare import lineage
from harness.compare.formats import render
from harness.compare.load import load_runs
from harness.compare.review import review
from harness.compare.table import build_table
from harness.errors import UserError


@pytest.fixture
def inputs(tmp_path):
    """Every input shape, with a chain of fine-tunes, a stale run and a reviewer's worth of problems."""
    F.write(tmp_path / "logs" / "3.4.log", F.runlog(version="3.4", parent=None, cumulative=None))
    F.write(tmp_path / "logs" / "3.5.log", F.runlog(eval_loss=5.1, eval_accuracy=0.3))
    F.write(tmp_path / "logs" / "3.6.log", F.runlog(version="3.6", parent="3.5", status="running"))
    F.set_old(tmp_path / "logs" / "3.6.log", 120)
    F.write(tmp_path / "logs" / "3.7.log", F.runlog(version="3.7", parent="3.5", eval_sha="9f86d0aa",
                                                    eval_path="/home/me/TestData.txt", eval_loss=0.9))
    F.write(tmp_path / "logs" / "3.8.log", F.runlog(version="3.8", parent="3.5", losses=(2.0, 1.5, 1.5, 1.5, 1.5)))
    F.write(tmp_path / "hf" / "hf4.txt", F.HF4_STDOUT)
    F.write(tmp_path / "notebook.txt", F.NOTEBOOK)
    F.trainer_dir(tmp_path / "outputs" / "exp-a")
    return tmp_path


def load(root):
    return load_runs([str(root / "logs"), str(root / "hf"), str(root / "notebook.txt"), str(root / "outputs")])


def table_for(root, **kwargs):
    runs, warnings = load(root)
    table = build_table(runs, parse_warnings=warnings, **kwargs)
    table.warnings[:0] = review(table.runs)
    return table


def md_rows(text):
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    return [dict(zip(header, (c.strip() for c in line.strip("|").split(" | ")))) for line in lines[2:]]


def test_rows_columns_and_order(inputs):
    table = table_for(inputs)
    versions = [row["version"] for row in table.rows]
    assert versions == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6", "2.7", "2.10", "3.4", "3.5", "3.6", "3.7", "3.8",
                        "exp-a", "hf4"]
    keys = [c.key for c in table.columns]
    assert keys[:9] == ["version", "parent", "model", "learning_rate", "epochs", "cumulative_epochs", "batch_size",
                        "effective_batch", "precision"]
    assert keys[-4:] == ["runtime", "samples_per_second", "peak_memory_mb", "status"]
    assert {"eval_f1", "eval_precision", "eval_recall"} <= set(keys)  # classification metrics show up
    assert "eval_runtime" not in keys  # bookkeeping: only on request


def test_values_and_empty_where_unknown(inputs):
    rows = {r["version"]: r for r in table_for(inputs).rows}
    assert rows["3.5"]["cumulative_epochs"] == 6.0 and rows["3.6"]["status"] == "stale"
    assert rows["3.4"]["effective_batch"] == 32 and rows["hf4"]["effective_batch"] == 32
    assert rows["2.2"]["effective_batch"] == 16 and rows["2.2"]["precision"] == "fp16"
    assert rows["2.10"]["eval_loss"] is None and rows["2.10"]["status"] is None
    assert rows["2.7"]["perplexity"] == pytest.approx(15.642631884188171)  # exp(eval_loss)
    assert rows["exp-a"]["perplexity"] == 12.18  # given: kept
    text = render(table_for(inputs), "markdown")
    row = next(r for r in md_rows(text) if r["version"] == "2.10")
    assert set(row.values()) == {"2.10", ""}  # nothing made up


def test_best_values_highlighted(inputs):
    text = render(table_for(inputs, columns="version,eval_loss,eval_accuracy,perplexity,runtime"), "markdown")
    rows = {r["version"]: r for r in md_rows(text)}
    assert rows["2.4"]["eval_loss"] == "**0.6931**" and rows["2.4"]["perplexity"].startswith("**")
    assert rows["2.3"]["eval_accuracy"] == "**0.8000**"
    assert rows["3.5"]["eval_loss"] == "5.1000"
    assert "**" not in "".join(r["runtime (s)"] for r in rows.values())  # cost columns are not "best"


def test_baseline_deltas(inputs):
    table = table_for(inputs, columns="version,eval_loss,status", baseline="3.4")
    assert [c.key for c in table.columns] == ["version", "eval_loss", "eval_loss_delta", "status"]
    rows = {r["version"]: r for r in table.rows}
    assert rows["3.4"]["eval_loss_delta"] == 0
    assert rows["3.5"]["eval_loss_delta"] == pytest.approx(5.1 - 5.432100296020508)
    assert rows["2.10"]["eval_loss_delta"] is None
    assert "| Δ eval_loss |" in render(table, "markdown")
    with pytest.raises(UserError, match="unknown --baseline version 9.9; versions: 2.1, 2.2"):
        table_for(inputs, baseline="9.9")


def test_sort_and_where(inputs):
    table = table_for(inputs, sort="-eval_loss", columns="version,eval_loss")
    losses = [r["eval_loss"] for r in table.rows]
    assert losses[0] == 6.91 and losses[-1] is None  # unknown last, whatever the direction
    known = [v for v in losses if v is not None]
    assert known == sorted(known, reverse=True)
    rows = table_for(inputs, where=["learning_rate<1e-3", "status=finished"]).rows
    assert {r["version"] for r in rows} == {"2.1", "2.2", "2.3", "2.6", "3.4", "3.5", "3.7", "3.8"}
    assert [r["version"] for r in table_for(inputs, where=["version>=2.7", "version<3"]).rows] == ["2.7", "2.10"]
    assert {r["version"] for r in table_for(inputs, where=["parent="]).rows} == {"2.1", "2.10", "3.4", "exp-a", "hf4"}
    assert len(table_for(inputs, where=["status!=finished"]).rows) == 5


@pytest.mark.parametrize("kwargs, message", [
    ({"columns": "version,nope"}, "unknown column nope; valid columns: version, parent, model"),
    ({"where": ["learning_rate ~ 1"]}, "bad --where"),
    ({"where": ["nope=1"]}, "unknown column nope"),
    ({"sort": "-nope"}, "unknown --sort column nope"),
    ({"sort": "nope:desc"}, "unknown --sort column nope"),
    ({"sort": "eval_loss:down"}, "the direction after ':' is asc or desc"),
])
def test_bad_options_are_user_errors(inputs, kwargs, message):
    with pytest.raises(UserError, match=message):
        table_for(inputs, **kwargs)


def test_reviewer_warnings(inputs):
    F.write(inputs / "logs" / "dup" / "3.4.log", F.runlog(version="3.4", parent=None, eval_loss=4.0))
    warnings = table_for(inputs).warnings
    text = "\n".join(warnings)
    assert "2.3: evaluation file is the training file (TestData.txt)" in text
    assert "3.7: evaluation file is the training file (/home/me/TestData.txt)" in text
    assert "2.4: eval_accuracy 0.500 with precision and recall 0" in text
    assert "3.8: training loss stuck at 1.5 for the last 4 logs" in text
    assert "3.6: log says running but was last written" in text
    assert "3.4: appears 2 times with different numbers (eval_loss 5.4321 vs 4)" in text
    assert all("2.6" not in w.split(":")[0] for w in warnings)


def test_text_formats_are_deterministic(inputs, tmp_path):
    for fmt in ("markdown", "csv", "json", "latex", "html"):
        first = render(table_for(inputs), fmt)
        assert render(table_for(inputs), fmt) == first, fmt


def test_csv_and_json_carry_raw_values(inputs):
    table = table_for(inputs, columns="version,learning_rate,eval_loss,status")
    rows = list(csv.DictReader(io.StringIO(render(table, "csv"))))
    row = next(r for r in rows if r["version"] == "3.4")
    assert row == {"version": "3.4", "learning_rate": "1e-06", "eval_loss": "5.432100296020508", "status": "finished"}
    doc = json.loads(render(table, "json"))
    assert doc["columns"] == ["version", "learning_rate", "eval_loss", "status"]
    assert doc["rows"][8] == {"version": "3.4", "learning_rate": 1e-06, "eval_loss": 5.432100296020508,
                              "status": "finished"}
    assert any("stale" not in w and "2.3" in w for w in doc["warnings"])


def test_latex_and_html_escape_and_highlight(inputs):
    table = table_for(inputs, columns="version,model,eval_loss")
    tex = render(table, "latex")
    assert "finetuned\\_model\\_v2.1" in tex and "\\textbf{0.6931}" in tex and tex.startswith("\\begin{tabular}{llr}")
    assert "% warning: 2.3: evaluation file is the training file" in tex
    page = render(table, "html")
    assert "<strong>0.6931</strong>" in page and '<ul class="warnings">' in page
    assert "<td>finetuned_model_v2.1</td>" in page


def test_rich_rendering_at_fixed_width(inputs):
    table = table_for(inputs, columns="version,eval_loss,status")
    text = to_rich_text(table_document(table), width=100)
    assert "version" in text and "0.6931" in text and "stale" in text and "warning: 2.3" in text
    assert to_rich_text(table_document(table), width=100) == text


# ---- lineage ----


def test_lineage_tree(inputs):
    runs, _ = load(inputs)
    lines = lineage.tree_lines(lineage.build_tree(runs))
    assert lines[0].startswith("2.1  [finished]")
    assert any(line.startswith("    └── 2.5  [crashed]") or line.startswith("    ├── 2.5") for line in lines)
    assert lines.index(next(l for l in lines if l.startswith("3.4"))) < lines.index(
        next(l for l in lines if "3.6  [stale]" in l))
    tree = lineage.tree_dict(lineage.build_tree(runs))
    assert [n["version"] for n in tree] == ["2.1", "2.10", "3.4", "exp-a", "hf4"]


def test_lineage_missing_parent_and_cycle(tmp_path):
    F.write(tmp_path / "a.log", F.runlog(version="a", parent="b"))
    F.write(tmp_path / "b.log", F.runlog(version="b", parent="a"))
    F.write(tmp_path / "c.log", F.runlog(version="c", parent="gone"))
    runs, _ = load_runs([str(tmp_path)])
    lines = lineage.tree_lines(lineage.build_tree(runs))
    assert lines[0].startswith("a  [finished]") and lines[0].endswith("(parent cycle)")
    assert lines[1].startswith("└── b  [finished]")
    assert lines[2:] == ["gone (not among the inputs)", "└── " + lineage.label(lineage.Node("c", runs[2]))]


# ---- the commands ----


def test_cli_table_formats_and_descending_sort(inputs, capsys):
    for sort in (["--sort=-eval_loss"], ["--sort", "eval_loss:desc"]):
        assert main(["table", str(inputs / "logs"), "--format", "markdown", *sort, "--columns", "version,eval_loss"]) == 0
        out = capsys.readouterr().out
        assert [r["version"] for r in md_rows(out)] == ["3.6", "3.4", "3.8", "3.5", "3.7"]
    with pytest.raises(SystemExit) as stopped:  # argparse reads `-eval_loss` as an option: the error says what to write
        main(["table", str(inputs / "logs"), "--sort", "-eval_loss"])
    assert stopped.value.code == 2 and "--sort=-VALUE" in capsys.readouterr().err
    assert main(["table", str(inputs / "logs"), "--format", "csv", "--where", "status=stale"]) == 0
    captured = capsys.readouterr()
    assert captured.out.count("\n") == 2 and "warning: 3.6" in captured.err


def test_cli_errors_exit_2(inputs, capsys):
    assert main(["table", str(inputs / "nope")]) == 2
    assert "error: no such file or directory" in capsys.readouterr().err
    assert main(["table", str(inputs / "logs"), "--columns", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown column x; valid columns:") and err.count("\n") == 1


def test_cli_default_path_is_logs(inputs, capsys, monkeypatch):
    monkeypatch.chdir(inputs)
    assert main(["table", "--format", "json"]) == 0
    assert [r["version"] for r in json.loads(capsys.readouterr().out)["rows"]] == ["3.4", "3.5", "3.6", "3.7", "3.8"]
    monkeypatch.chdir(inputs / "hf")
    assert main(["table"]) == 2


def test_cli_no_runs(tmp_path, capsys):
    F.write(tmp_path / "x.txt", "nothing\n")
    assert main(["table", str(tmp_path)]) == 1
    assert "no runs found" in capsys.readouterr().err


def test_cli_lineage_and_tree(inputs, capsys):
    assert main(["lineage", str(inputs / "notebook.txt"), "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[1].startswith("└── 2.2  [finished]")
    assert main(["table", "--tree", str(inputs / "notebook.txt"), "--format", "markdown"]) == 0
    assert capsys.readouterr().out == text
    assert main(["lineage", str(inputs / "notebook.txt"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["children"][0]["version"] == "2.2"


def test_table_command_does_not_import_torch(inputs):
    code = ("import sys; from harness.cli.main import main; main(['table', sys.argv[1], '--format', 'csv']); "
            "sys.stderr.write(str(sorted(m for m in ('torch', 'transformers', 'datasets') if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code, str(inputs / "logs")], capture_output=True, text=True,
                          cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]), timeout=60)
    assert done.returncode == 0 and done.stderr.endswith("[]"), done.stderr


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from harness.compare.table import Column, cell_formatter, format_column  # noqa: E402

_CELLS = st.one_of(st.floats(), st.integers(-10**20, 10**20), st.booleans(), st.none(), st.text(max_size=6),
                   st.lists(st.integers(), max_size=2), st.sampled_from([2**53, 2**53 + 1, -2**53 - 1, -10**400]),
                   st.text(" \t\n\u00a0ab|", max_size=6))


@settings(max_examples=200, deadline=None, database=None)
@given(st.sampled_from(["text", "lr", "epochs", "int", "metric", "delta", "seconds", "rate", "mb", "any"]),
       st.lists(_CELLS, max_size=8))
def test_a_column_prints_as_its_cells_do(style, values):
    """format_column is only a faster cell_formatter: the same text for every value, nan, inf and -0.0 included."""
    column = Column("k", "k", style)
    assert format_column(column, values) == [cell_formatter(column)(v) for v in values]


def test_a_count_too_big_for_a_float_prints_as_written(tmp_path, capsys):
    """A hand-kept file can hold anything: a 400-digit count is shown digit for digit, never ranked, no crash."""
    F.write(tmp_path / "notes.txt", f"eval_loss = 1.5\neval_samples = {'9' * 400}\n")
    for fmt in ("markdown", "csv", "json", "rich"):
        format_option = ["--format", fmt] if fmt != "rich" else []
        assert main(["table", str(tmp_path / "notes.txt"), "--no-cache", *format_option,
                     "--columns", "version,eval_loss,eval_samples"]) == 0
        assert "9" * 40 in capsys.readouterr().out.replace("\n", "").replace("…", "")

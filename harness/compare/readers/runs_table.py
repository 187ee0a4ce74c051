"""Hand-kept tables with one row per run: a Markdown pipe table, or the same with tabs or runs of spaces.

    | Run          | LR   | Epochs | Batch | Acc   | F1    |
    |--------------|------|--------|-------|-------|-------|
    | baseline     | 2e-5 | 3      | 16    | 0.891 | 0.884 |
    | v2 (lr 5e-5) | 5e-5 | 3      | 16    | 0.902 | 0.897 |

Each row is one Run named by its name column; hyper-parameter columns (`LR`, `learning_rate`, `Epochs`,
`Batch Size`, ...) go to hyperparameters under their canonical names, metric columns (`Acc`, `Exactitude`,
`Val Loss`, `eval_loss`, `Perplexity`, `BLEU`, `ROUGE-L`, ...) to eval/train metrics, with the label mapping
the bullets use (pieces.metric_name). What tells it from a progress table (Trainer's `Epoch | Training Loss |
Validation Loss`, a model card's `Training results`: one row per evaluation of ONE run, read by text.scan):

- its header has a name column: the first column is headed by a word that names runs (`Run`, `Model`,
  `Experiment`, `Version`, `Name`, `Config`, `Method`, ... in a few languages) or by nothing (pandas, many
  READMEs; rows named `Train`/`Validation`/`Test` under an empty header are one run's splits, not runs);
- or, with no name column, it is a sweep: the first column is a hyper-parameter other than epochs/steps
  (`| LR | Batch | Acc |`), and each row is named after its hyper-parameter cells (`LR=2e-5 Batch=16`);
- it has at least one metric column, and a row becomes a run only with a number in one of them.

Cells: emphasis and footnote marks are dropped (`**0.902**`, `0.88†`); a spread keeps the mean
(`0.89 ± 0.01`); a percentage (`89.1%`, or a column headed `Acc (%)`) is divided by 100 like the bullets' (not
a loss); `-`, `n/a`, `—` and empty cells are missing. A column this module does not know is a metric when it
stands after the first known metric column (`Dice`), else a hyper-parameter (`Dropout`, `Dataset`); a
`Notes`/`Comment` column is the run's notes; a hyper-parameter cell of `lr: 2e-5, epochs: 20` pairs gives
each of them. A name seen twice in one table gets `#2`; the same name in two
tables is one run (the first table's value kept, a warning when they differ). A Trainer-generated model card is
not read here: it is one run (report.SINGLE_READER).

Transposed tables (a comparison pasted the other way round) give one Run per column, named by its header:

    | Metric        | Polaris | Aurora |
    |---------------|---------|--------|
    | train_loss    | 3.0482  | 2.8478 |
    | eval_accuracy | 0.4328  | 0.4701 |
    | epoch         | 1.0     | 2.24   |

The first header cell is empty, a name word or `Metric`/`Parameter`/`Setting`/... (`Train`/`Eval`/`Test`
make bare rows that split's: `loss` under `**EVAL**` is `eval_loss`); two or more columns are named like
runs: not a metric or hyper-parameter label (a runs table, a per-class or progress table), not `Value`/`Std`/
`Description`, not `Train`/`Test` (one run's splits) nor `Epoch 2`/`3` (one run's evaluations). Its rows
are mostly labels the harness knows (two or more, at least half, a metric among them); a table of the same
runs that is mostly system settings (`World Size`, `GPU`) is read too once another table named them. A
two-column `| Parameter | Value |` table is one run's, read by text.scan (pieces.setting_row). A text with
such a table is read here, like any runs table, and what else it holds (pasted Trainer output of one of
the runs) is not read again: the table has the numbers that run printed.

Commas in cells: pieces.cell_number; an ambiguous `1,234` follows its column (a transposed table: its row),
then its table, else reads as thousands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.compare.readers import Reader, Result, lines_of, pieces
from harness.compare.readers import text as text_reader
from harness.compare.records import REPORT, ParseWarning, Run
from harness.runlog.trainer_text import parse_metric_value

_NAME_WORDS = {
    "run", "runs", "run name", "run id", "run_name", "run_id", "name", "experiment", "experiments", "exp", "exp.",
    "experiment name", "experiment id", "exp name", "exp id", "version", "versions", "ver", "ver.", "config",
    "configuration", "configs", "setting", "settings", "setup", "method", "methods", "system", "systems",
    "variant", "variants", "trial", "trials", "id", "#", "no", "no.", "approach", "tag", "model / run",
    "nom", "nombre", "lauf", "essai", "expérience", "experimento", "versión", "méthode", "método", "methode",
    "configuración", "exécution", "ejecución",
}
_MODEL_WORDS = {
    "model", "models", "model name", "model_name", "model_name_or_path", "model id", "model_id", "base model",
    "checkpoint", "ckpt", "backbone", "architecture", "arch", "pretrained model", "modèle", "modelo", "modell",
}
_NOTE_WORDS = {"notes", "note", "comment", "comments", "remarks", "remark", "observations", "description",
               "commentaire", "commentaires", "comentarios", "bemerkung", "bemerkungen", "kommentar"}
_NOT_SWEEP = {"num_train_epochs", "max_steps"}  # a table led by epochs or steps is progress, not a sweep
_MISSING = {"", "-", "--", "—", "–", "n/a", "na", "none", "null", "?", "tbd", "todo", "no log", "x", "nan?"}
_ARROWS_RE = re.compile(r"[↑↓⬆⬇▲▼]|\((?:higher|lower)[^)]*\)", re.IGNORECASE)
_PERCENT_RE = re.compile(r"\(\s*%\s*\)|\[\s*%\s*\]|\bin %|%$")
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_DTYPE_RE = re.compile(r"^(?:fp16|bf16|fp32|tf32|fp8|int8|int4|amp|mixed|float16|bfloat16|float32)$", re.IGNORECASE)
# Cheap recogniser: a line that could head a runs table (its first cell a name word or a sweep's first
# hyper-parameter, or an empty pipe cell). The words case by case rather than IGNORECASE: several times faster.
_SWEEP_WORDS = {"lr", "learning rate", "learning_rate", "batch size", "batch_size", "bs", "seed", "weight decay",
                "weight_decay", "warmup", "dropout", "lora r", "lora_r", "rank"}


def _cases(words) -> str:
    variants = {v for w in words for v in (w, w.capitalize(), w.title(), w.upper())}
    return "|".join(re.escape(v) for v in sorted(variants, key=len, reverse=True))


# The first header cell of a transposed table (metrics as rows, runs as columns) where it is not a name word.
_FLIP_WORDS = {
    "metric", "metrics", "measure", "measures", "parameter", "parameters", "param", "params", "hyperparameter",
    "hyperparameters", "hyper-parameter", "hyper-parameters", "hparam", "hparams", "key", "stat", "stats",
    "statistic", "statistics", "result", "results", "score", "scores", "item", "field", "quantity", "métrique",
    "métriques", "métrica", "métricas", "paramètre", "paramètres", "parámetro", "parámetros", "metrik", "metriken",
    "kennzahl", "train", "training", "eval", "evaluation", "validation", "val", "valid", "dev", "test",
}
_HEAD = r"(?m)^[ \t]*(?:\|[ \t]*\||\|?[ \t]*[*_]*(?:"
_TAIL = r")[*_]*[ \t]*(?:\||\t|  ))"
_RUNS_HEADER_RE = re.compile(_HEAD + _cases(_NAME_WORDS | _MODEL_WORDS | _SWEEP_WORDS) + _TAIL)
_HEADER_RE = re.compile(_HEAD + _cases(_NAME_WORDS | _MODEL_WORDS | _SWEEP_WORDS | _FLIP_WORDS) + _TAIL)
# Column headers of a transposed table that are not runs: one run's value and its spread, a description, one
# run's splits (`Train | Test`) or evaluations (`Epoch 1 | Epoch 2`, `1 | 2`).
_NOT_RUN_HEADERS = {
    "value", "values", "valeur", "valor", "wert", "description", "desc", "notes", "note", "comment", "comments",
    "default", "defaults", "unit", "units", "type", "range", "meaning", "explanation", "source", "formula",
    "mean", "avg", "average", "std", "stdev", "std dev", "sd", "min", "max", "median", "variance", "delta", "Δ",
    "diff", "difference", "change", "improvement", "gain", "ratio", "%", "total",
}
_NOT_RUN_RE = re.compile(r"(?:epoch|step|iter|iteration|checkpoint|ckpt|fold|época|époque)?[ _#-]*\d+(?:\.\d+)?")
_MAX_HEADER = 400
_FULL_SCAN, _HEAD_SCAN = 1 << 20, 1 << 18


@dataclass
class _Column:
    label: str
    role: str  # name | model | hyper | metric | notes | ignore
    key: str = ""
    percent: bool = False


@dataclass
class _Table:
    header_line: int
    columns: list[_Column]
    name_at: int | None  # index of the name column; None for a sweep
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    commas: list[bool | None] = field(default_factory=list)  # per column: pieces.comma_reading of its cells


@dataclass
class _FlipTable:
    """A transposed table: metrics and hyper-parameters as rows, one column per run."""

    header_line: int
    split: str  # `train`/`eval`/`test` when the first header cell names one (its bare rows are that split's)
    runs: dict[int, str]  # column index -> run name
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


def recognise(path: str, head: str) -> bool:
    """A header line in the text; in a text over 1 MB (program output, not a hand-kept report) only in
    its first 256 KB, so that the test stays cheap on every big Trainer stdout.

    In Trainer's own output only pipe-table lines are tried: a table pasted there is a Markdown one, and the
    header test on every line (metrics blocks, argument dumps: runs of spaces) cost more than reading the file."""
    if "generated_from_trainer" in head[:4096]:
        return False
    text = head if len(head) <= _FULL_SCAN else head[:_HEAD_SCAN]
    if text_reader.TRAINER_MARK_RE.search(text):
        text = "\n".join(_PIPE_LINE_RE.findall("\n" + text))
    return bool(_HEADER_RE.search(text))


_PIPE_LINE_RE = re.compile(r"\n([ \t]*\|[^\n]*)")  # a literal first character: the engine skips to each line


def _split(line: str) -> tuple[str, list[str]]:
    """(kind, cells): `pipe`, `tab` or `space`; a tab table keeps an empty first cell."""
    if "|" in line and (line.lstrip().startswith("|") or line.count("|") >= 2):
        return "pipe", pieces.cells(line)
    if "\t" in line:
        return "tab", [c.strip() for c in line.rstrip().split("\t")]
    return "space", pieces.cells(line)


def _label(cell: str) -> str:
    text = _LINK_RE.sub(r"\1", cell)
    text = _ARROWS_RE.sub("", text).strip().strip("*_`").strip()
    return re.sub(r"(?<=\w)\.(?=\s)", "", text)  # `Val. Loss`


def _name(cell: str) -> str:
    text = _LINK_RE.sub(r"\1", cell).strip()
    return re.sub(r"^[*_`]+|[*_`]+$", "", text).strip()


def _columns(cells: list[str]) -> tuple[list[_Column], int | None] | None:
    """The roles of a header's columns and its name column; None when it does not head a runs table."""
    columns: list[_Column] = []
    seen_metric = False
    for n, cell in enumerate(cells):
        label = _label(cell)
        key = " ".join(label.lower().split())
        percent = bool(_PERCENT_RE.search(key))
        bare = _PERCENT_RE.sub("", key).strip()
        if n == 0 and (bare in _NAME_WORDS or bare in _MODEL_WORDS or not bare):
            columns.append(_Column(label, "name", "model" if bare in _MODEL_WORDS else bare))
        elif bare in _MODEL_WORDS:
            columns.append(_Column(label, "model", "model"))
        elif bare in _NOTE_WORDS:
            columns.append(_Column(label, "notes"))
        elif hyper := pieces.hyper_name(bare):
            columns.append(_Column(label, "hyper", hyper))
        elif metric := pieces.metric_name(bare):
            seen_metric = True
            columns.append(_Column(label, "metric", metric, percent))
        elif bare in _NAME_WORDS and not any(c.role == "name" for c in columns):
            columns.append(_Column(label, "name", bare))
        elif seen_metric and (metric := pieces.metric_name(bare, results_context=True)):
            columns.append(_Column(label, "metric", metric, percent))
        elif bare:
            columns.append(_Column(label, "hyper", re.sub(r"[^\w]+", "_", bare).strip("_") or "column"))
        else:
            columns.append(_Column(label, "ignore"))
    if not seen_metric or len(columns) < 2:
        return None
    name_at = next((n for n, c in enumerate(columns) if c.role == "name"), None)
    if name_at is None and (columns[0].role != "hyper" or columns[0].key in _NOT_SWEEP):
        return None
    return columns, name_at


def _header(line: str) -> tuple[str, list[_Column], int | None] | None:
    if len(line) > _MAX_HEADER or not line.strip() or pieces.is_rule(line):
        return None
    kind, cells = _split(line)
    if len(cells) < 2:
        return None
    found = _columns(cells)
    if found is None:
        return None
    return kind, *found


def _flip_header(line: str) -> tuple[str, int, _FlipTable] | None:
    """(kind, width, table) when `line` heads a transposed table: a first cell that is empty, a name word or
    a word such as `Metric`/`Parameter`/`Eval`, then two or more columns named like runs; a column headed
    like a metric or a hyper-parameter (a per-class or progress table, a runs table) rules it out."""
    if len(line) > _MAX_HEADER or pieces.is_rule(line):
        return None
    kind, cells = _split(line)
    if len(cells) < 3:
        return None
    first = " ".join(_label(cells[0]).lower().split())
    if first and first not in _FLIP_WORDS and first not in _NAME_WORDS and first not in _MODEL_WORDS:
        return None
    runs = {}
    for n, cell in enumerate(cells[1:], 1):
        bare = " ".join(_label(cell).lower().split())
        if not bare or bare in _NOT_RUN_HEADERS or bare in pieces.SPLIT_WORDS or _NOT_RUN_RE.fullmatch(bare):
            continue
        if pieces.metric_name(bare) or pieces.hyper_name(bare):
            return None
        runs[n] = _name(cell)
    if len(runs) < 2:
        return None
    return kind, len(cells), _FlipTable(0, pieces.SPLIT_WORDS.get(first, ""), runs)


def _row_cells(kind: str, line: str, width: int) -> list[str] | None:
    found_kind, cells = _split(line)
    if found_kind != kind and not (kind == "space" and found_kind == "tab"):
        return None
    if len(cells) == width + 1 and cells[0].isdigit():  # pandas' index column: no header of its own
        cells = cells[1:]
    return cells if len(cells) == width else None


def _candidates(text: str) -> list[int]:
    """Indices of the lines that may head a runs table."""
    out, line, at = [], 0, 0
    for m in _HEADER_RE.finditer(text):
        line += text.count("\n", at, m.start())
        at = m.start()
        out.append(line)
    return out


def find_tables(path: str, lines: list[str], starts: list[int], warnings: list[ParseWarning]) -> list:
    """The runs tables (_Table) and transposed tables (_FlipTable) that start at these lines, in order."""
    tables: list = []
    done = 0  # lines before this belong to a table already read
    for i in starts:
        if i < done or i >= len(lines):
            continue
        line = lines[i]
        found = _header(line) if _RUNS_HEADER_RE.match(line) else None
        if found is not None:
            kind, columns, name_at = found
            table, width = _Table(i + 1, columns, name_at), len(columns)
        elif (flipped := _flip_header(line)) is not None:
            kind, width, table = flipped
            table.header_line = i + 1
        else:
            continue
        j = i + 1
        while j < len(lines):
            line = lines[j]
            if not line.strip():
                break
            if pieces.is_rule(line) or re.fullmatch(r"[ \t=+-]+", line):
                j += 1
                continue
            cells = _row_cells(kind, line, width)
            if cells is None:
                if kind == "pipe" and line.lstrip().startswith("|"):
                    warnings.append(ParseWarning(path, j + 1, "runs-table row not read (its cells do not fit the "
                                                              "header)"))
                    j += 1
                    continue
                break
            table.rows.append((j + 1, cells))
            j += 1
        if table.rows:
            tables.append(table)
        done = j
    return tables


def _sweep_name(table: _Table, cells: list[str]) -> str:
    return " ".join(f"{c.label}={_name(cell)}" for c, cell in zip(table.columns, cells)
                    if c.role in ("hyper", "model") and _name(cell))


def _value(cell: str, decimal_comma: bool | None = None) -> Any:
    number = pieces.cell_number(cell, decimal_comma)
    if number is not None and not number[1]:
        return number[0]
    return _name(cell)


def _row_run(path: str, table: _Table, lineno: int, cells: list[str], warnings: list[ParseWarning]) -> Run | None:
    if table.name_at is None:
        name = _sweep_name(table, cells)
    else:
        name = _name(cells[table.name_at])
    if not name or len(name) > 200:
        return None
    run = Run(name, path, REPORT, line=lineno, lines={"table": table.header_line})
    numbers = False
    for at, (column, cell) in enumerate(zip(table.columns, cells)):
        text = cell.strip()
        commas = table.commas[at] if table.commas else None
        if column.role == "ignore" or text.strip("*_` ").lower() in _MISSING:
            continue
        if column.role == "name":
            if column.key == "model":
                run.hyperparameters.setdefault("model", _name(text))
        elif column.role == "model":
            run.hyperparameters.setdefault("model", _name(text))
        elif column.role == "notes":
            run.notes = _name(text)
        elif column.role == "hyper":
            run.hyperparameters.setdefault(column.key, _value(text, commas))
            for kind, key, value in pieces.pairs(text) if ":" in text or "=" in text else ():
                if kind == "hyper":  # a `Hyper-parameters` cell: `lr: 2e-5, epochs: 20, dropout: 0.1`
                    run.hyperparameters.setdefault(key, value)
        elif (value := _metric_number(column.key, text, column.percent, commas)) is not None:
            (run.train_metrics if column.key.startswith("train_") else run.eval_metrics)[column.key] = value
            numbers = True
        elif column.key == "eval_precision" and _DTYPE_RE.match(_name(text)):
            run.hyperparameters.setdefault("precision", _name(text).lower())
        else:
            warnings.append(ParseWarning(path, lineno, f"not a number, left out: {column.label} = {text[:40]!r}"))
    return run if numbers else None


def _metric_number(key: str, text: str, percent_label: bool, commas: bool | None) -> int | float | None:
    """A metric cell's number: a percentage divided by 100 (never a loss's), a runtime `0:04:59.19` in
    seconds; None when the cell holds no number."""
    found = pieces.cell_number(text, commas)
    if found is None:
        value = parse_metric_value(_name(text)) if key.endswith("_runtime") else None
        return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    value, percent = found
    return pieces.metric_value(key, value, percent or percent_label)


# ---- transposed tables: metrics and hyper-parameters as rows, one column per run ----

_SPLIT_LABEL_RE = re.compile(r"[a-z][a-z0-9_ ./-]{0,40}")


def _row_role(label: str, split: str, seen_metric: bool) -> tuple[str, str, bool, bool]:
    """(role, key, percent?, known?) of a transposed table's row label, the names the runs table's columns
    get; under a split's header (`| Eval | ... |`) a bare `loss`/`runtime` is that split's."""
    key = " ".join(label.lower().split())
    percent = bool(_PERCENT_RE.search(key))
    bare = _PERCENT_RE.sub("", key).strip()
    if not bare:
        return "ignore", "", False, False
    if hyper := pieces.hyper_name(bare):
        return "hyper", hyper, percent, True
    if split and (metric := pieces.metric_name(f"{split} {bare}")):
        return "metric", metric, percent, True
    if metric := pieces.metric_name(bare):
        return "metric", metric, percent, True
    if split and _SPLIT_LABEL_RE.fullmatch(bare):
        words = bare.replace("/sec", "_per_second").replace("/s", "_per_second")
        return "metric", f"{split}_" + re.sub(r"[ ./-]+", "_", words).strip("_"), percent, True
    if seen_metric and (metric := pieces.metric_name(bare, results_context=True)):
        return "metric", metric, percent, False
    return "hyper", re.sub(r"[^\w]+", "_", bare).strip("_") or "row", False, False


def _flip_roles(table: _FlipTable) -> tuple[list[tuple[str, str, bool]], int, bool]:
    """(the rows' roles, how many labels are known, whether the rows are mostly metric and hyper-parameter
    labels: two or more known, at least half of them, a known metric among them)."""
    roles, known, metrics, seen_metric = [], 0, 0, False
    for _, cells in table.rows:
        role, key, percent, is_known = _row_role(_label(cells[0]), table.split, seen_metric)
        roles.append((role, key, percent))
        known += is_known
        if role == "metric":
            seen_metric = True
            metrics += is_known
    labelled = sum(1 for role, _, _ in roles if role != "ignore")
    return roles, known, metrics >= 1 and known >= 2 and 2 * known >= labelled


def _flip_runs(path: str, table: _FlipTable, roles, warnings: list[ParseWarning], settings: bool = False) -> list[Run]:
    """One Run per run column that holds a metric's number (with `settings`, per column that holds anything:
    the runs are known from another table)."""
    commas = _comma_readings([cells[1:] for _, cells in table.rows], by_row=True)
    runs = []
    for at, name in table.runs.items():
        if not name or len(name) > 200:
            continue
        run = Run(name, path, REPORT, line=table.header_line, lines={"table": table.header_line})
        numbers = False
        for n, ((lineno, cells), (role, key, percent)) in enumerate(zip(table.rows, roles)):
            text = cells[at].strip()
            if role == "ignore" or text.strip("*_` ").lower() in _MISSING:
                continue
            if role == "hyper":
                run.hyperparameters.setdefault(key, _value(text, commas[n] if commas else None))
            elif (value := _metric_number(key, text, percent, commas[n] if commas else None)) is not None:
                (run.train_metrics if key.startswith("train_") else run.eval_metrics).setdefault(key, value)
                numbers = True
            else:
                label = _label(cells[0])
                warnings.append(ParseWarning(path, lineno, f"not a number, left out: {name[:40]} {label[:40]} = "
                                                           f"{text[:40]!r}"))
        if numbers or (settings and (run.hyperparameters or run.eval_metrics)):
            runs.append(run)
    return runs


def _read_flipped(path: str, tables: list[_FlipTable], warnings: list[ParseWarning]) -> list[Run]:
    """Runs of the transposed tables that qualify; a table whose rows are not mostly known labels (a `CONFIG`
    table of system settings) still counts when an accepted table names the same runs and it has a label
    the harness knows."""
    runs: list[Run] = []
    accepted: set[frozenset[str]] = set()
    weak = []
    for table in tables:
        roles, known, mostly_labels = _flip_roles(table)
        if not mostly_labels:
            weak.append((table, roles, known))
            continue
        accepted.add(frozenset(table.runs.values()))
        runs.extend(_flip_runs(path, table, roles, warnings))
    for table, roles, known in weak:
        if known and frozenset(table.runs.values()) in accepted:
            runs.extend(_flip_runs(path, table, roles, warnings, settings=True))
    return runs


def _merge(home: Run, other: Run, warnings: list[ParseWarning]) -> None:
    for mine, theirs in ((home.eval_metrics, other.eval_metrics), (home.train_metrics, other.train_metrics),
                         (home.hyperparameters, other.hyperparameters)):
        for key, value in theirs.items():
            if key in mine and mine[key] != value:
                warnings.append(ParseWarning(other.source, other.line, f"{home.version}: {key} differs from the "
                                                                       f"table at line {home.line}; the first kept"))
            mine.setdefault(key, value)
    home.notes = home.notes or other.notes


def read(path: str, text: str) -> Result:
    """Every run of every runs table in the text; ([], warnings) when there is none."""
    warnings: list[ParseWarning] = []
    by_name: dict[str, Run] = {}
    tables = find_tables(path, lines_of(text), _candidates(text), warnings)
    flipped = [t for t in tables if isinstance(t, _FlipTable)]
    found: list[Run] = _read_flipped(path, flipped, warnings) if flipped else []
    for table in tables:
        if isinstance(table, _FlipTable) or not _settle_names(table):
            continue
        table.commas = _comma_readings([cells for _, cells in table.rows])
        in_table: dict[str, int] = {}
        for lineno, cells in table.rows:
            run = _row_run(path, table, lineno, cells, warnings)
            if run is None:
                continue
            count = in_table[run.version] = in_table.get(run.version, 0) + 1
            if count > 1:
                run.version = f"{run.version} #{count}"
            found.append(run)
    for run in sorted(found, key=lambda r: r.line):
        if run.version in by_name:
            _merge(by_name[run.version], run, warnings)
        else:
            by_name[run.version] = run
    return list(by_name.values()), warnings


def _comma_readings(rows: list[list[str]], by_row: bool = False) -> list[bool | None]:
    """For each column (each row of a transposed table) whether its cells write decimal commas
    (pieces.comma_reading), the whole table's reading where its own cells do not decide; [] when no cell
    has a comma (the common case: nothing to decide)."""
    if not any("," in cell for cells in rows for cell in cells):
        return []
    whole = pieces.comma_reading(cell for cells in rows for cell in cells)
    groups = rows if by_row else [[cells[n] for cells in rows if n < len(cells)] for n in range(len(rows[0]))]
    return [own if (own := pieces.comma_reading(group)) is not None else whole for group in groups]


def _settle_names(table: _Table) -> bool:
    """Pick the column the rows are named by; False when the rows are not runs at all (`Train`/`Test` rows
    under an empty header are the splits of one run)."""
    if table.name_at is None:
        return True
    names = [_name(cells[table.name_at]).lower().removesuffix(" set").removesuffix(" split") for _, cells in table.rows]
    if table.columns[table.name_at].key == "":
        if all(n in pieces.SPLIT_WORDS for n in names):
            return False
        other = next((n for n, c in enumerate(table.columns) if c.role == "model"), None)
        if other is not None and all(n.isdigit() for n in names):  # pandas' index: the model names the row
            table.columns[table.name_at].role = "ignore"
            table.columns[other].role, table.columns[other].key = "name", "model"
            table.name_at = other
    return True


def _picks(name: str) -> bool:
    return name.endswith((".md", ".markdown"))


READER = Reader("table of runs", _picks, recognise, read)

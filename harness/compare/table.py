"""Runs -> one comparison table: columns, cell values, best values, baseline deltas, sorting and filters.

Rendering to text lives in harness/compare/formats.py; this module only decides what the table holds.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from harness.compare import metric_kinds, sweeps
from harness.compare.records import ParseWarning, Run, version_key
from harness.compare.records import number as _num
from harness.errors import UserError
from harness.runlog.trainer_text import to_number

LOWER, HIGHER = metric_kinds.LOWER, metric_kinds.HIGHER


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    style: str = "text"  # how cells print: text, lr, epochs, int, metric, seconds, rate, mb, delta, any
    better: str | None = None  # LOWER / HIGHER for columns whose best value is highlighted

    @property
    def numeric(self) -> bool:
        return self.style != "text"


class _Keyed:
    """A column read by one key: _rows looks the key up inline for all rows, without a call per cell."""

    def __init__(self, key: str):
        self.key = key


class _hp(_Keyed):
    """A hyper-parameter of a run."""

    def __call__(self, run: Run) -> Any:
        return run.hyperparameters.get(self.key)


class _metric(_Keyed):
    """Run.metric(key)."""

    def __call__(self, run: Run) -> Any:
        return run.metric(self.key)


def _effective_batch(run: Run) -> Any:
    hp = run.hyperparameters
    total = hp.get("total_train_batch_size")
    if _num(total) is not None:
        return total
    batch = _num(hp.get("per_device_train_batch_size"))
    if batch is None:
        return None
    accumulation = _num(hp.get("gradient_accumulation_steps")) or 1  # Trainer's default: no accumulation
    world = _num(hp.get("world_size")) or 1
    return _int_if_whole(batch * accumulation * world)


def _peak_memory(run: Run) -> Any:
    value = run.summary.get("peak_memory_mb")
    return value if value is not None else run.metric("peak_memory_mb")


# The fixed columns, in display order, with how each is read from a Run.
CORE: list[tuple[Column, Callable[[Run], Any]]] = [
    (Column("version", "version"), operator.attrgetter("version")),
    (Column("parent", "parent"), operator.attrgetter("parent")),
    (Column("model", "model"), _hp("model")),
    (Column("learning_rate", "lr", "lr"), _hp("learning_rate")),
    (Column("epochs", "epochs", "epochs"), operator.attrgetter("epochs")),
    (Column("cumulative_epochs", "cum. epochs", "epochs"), operator.attrgetter("cumulative_epochs")),
    (Column("batch_size", "batch", "int"), _hp("per_device_train_batch_size")),
    (Column("effective_batch", "eff. batch", "int"), _effective_batch),
    (Column("precision", "precision"), _hp("precision")),
    (Column("train_loss", "train_loss", "metric", LOWER), _metric("train_loss")),
    (Column("eval_loss", "eval_loss", "metric", LOWER), _metric("eval_loss")),
    (Column("eval_accuracy", "eval_accuracy", "metric", HIGHER), _metric("eval_accuracy")),
    (Column("perplexity", "perplexity", "metric", LOWER), _metric("perplexity")),
    (Column("runtime", "runtime (s)", "seconds"), _metric("train_runtime")),
    (Column("samples_per_second", "samples/s", "rate"), _metric("train_samples_per_second")),
    (Column("peak_memory_mb", "peak mem (MB)", "mb"), _peak_memory),
    (Column("status", "status"), operator.attrgetter("status")),
]
_CORE_METRICS = {"train_loss", "eval_loss", "eval_accuracy", "perplexity", "train_runtime",
                 "train_samples_per_second", "peak_memory_mb"}
# Other columns one may select or filter on.
EXTRA: list[tuple[Column, Callable[[Run], Any]]] = [
    (Column("source", "source"), lambda r: r.where),
    (Column("source_kind", "source kind"), lambda r: r.source_kind),
    (Column("started", "started"), lambda r: r.started),
    (Column("ended", "ended"), lambda r: r.ended),
    (Column("notes", "notes"), lambda r: r.notes),
    (Column("gradient_accumulation_steps", "grad. accum.", "int"), _hp("gradient_accumulation_steps")),
    (Column("progress", "progress"), lambda r: r.fields.get("progress")),  # `step/total` a bar last showed
]


@dataclass
class Table:
    columns: list[Column]
    rows: list[dict[str, Any]]  # raw cell values by column key; None = unknown
    runs: list[Run]  # the run behind each row
    best: set[tuple[int, str]] = field(default_factory=set)  # (row index, column key) to highlight
    warnings: list[str] = field(default_factory=list)



def _int_if_whole(value: float) -> int | float:
    return int(value) if math.isfinite(value) and value == int(value) else value


def metric_direction(key: str) -> str | None:
    """Quality metrics rank (lower or higher is better); costs, counts and diagnostics never do."""
    return metric_kinds.direction(key)


@dataclass
class _Found:
    """What a table's runs hold between them: the key sets are unioned in C (a Python loop over 10,000 runs
    cost as much as building every row)."""

    metrics: set[str]
    hyperparameters: set[str]
    variants: set[str]  # `harness bench` variants
    swept: bool  # some run is a sweep's trial
    stopped_early: bool  # some run crashed or was interrupted part way, with its progress known

    @classmethod
    def of(cls, runs: list[Run]) -> _Found:
        benches = filter(None, map(operator.attrgetter("bench"), runs))
        stopped = [run for run in runs if run.status in ("crashed", "interrupted")]
        return cls(set().union(*map(operator.attrgetter("train_metrics"), runs), *map(operator.attrgetter("eval_metrics"), runs)),
                   set().union(*map(operator.attrgetter("hyperparameters"), runs)),
                   {v for bench in benches for v in bench if re.fullmatch(r"\w+", str(v))},
                   any(map(sweeps.sweep_dir, runs)),
                   any(run.fields.get("progress") for run in stopped))


def available_columns(runs: list[Run]) -> tuple[list[tuple[Column, Callable]], list[str]]:
    """All columns these runs can fill, and the keys shown when --columns is not given."""
    found = _Found.of(runs)
    columns = list(CORE)
    default = [c.key for c, _ in CORE]
    best_in_sweep = sweeps.best_trials(runs) if found.swept else set()
    columns.append((Column("sweep", "sweep"), lambda r: sweeps.label(r, best_in_sweep)))
    if found.swept:
        default.insert(2, "sweep")  # after version and parent: sort by it to group a sweep's trials
    for key in sorted(found.metrics - _CORE_METRICS):
        direction = metric_direction(key)
        columns.append((Column(key, key, "metric" if direction else "any", direction), _metric(key)))
        if direction:
            default.insert(default.index("runtime"), key)  # quality metrics sit with the others
    taken = {c.key for c, _ in columns}
    columns += [(c, f) for c, f in EXTRA if c.key not in taken]
    if found.stopped_early:
        default.insert(default.index("status") + 1, "progress")  # how far a crashed run got
    taken |= {c.key for c, _ in EXTRA}
    bench = _bench_columns(sorted(found.variants), taken)
    columns += bench
    taken |= {c.key for c, _ in bench}
    for key in sorted(found.hyperparameters - taken):
        columns.append((Column(key, key, "any"), _hp(key)))
    return columns, default


# `harness bench` results (the log's bench section, one entry per variant), selectable with --columns.
BENCH_METRICS = {"ms_per_token": "rate", "ms_per_token_iqr": "rate", "ttft_ms": "rate", "tokens_per_s": "rate",
                 "load_s": "rate", "disk_mb": "mb", "size_mb": "mb", "peak_mem_mb": "mb", "energy_j_per_request": "any",
                 "eval_loss": "metric", "perplexity": "metric", "eval_loss_delta": "delta"}


def _bench(variant: str, key: str) -> Callable[[Run], Any]:
    return lambda run: (run.bench.get(variant) or {}).get(key) if isinstance(run.bench.get(variant), dict) else None


def _bench_columns(variants: list[str], taken: set[str]) -> list[tuple[Column, Callable]]:
    """`<variant>_<metric>` (int8_ms_per_token), and fp32's by the bare name (ms_per_token) where that is free."""
    out = [(Column(f"{v}_{k}", f"{v} {k}", style), _bench(v, k)) for v in variants for k, style in BENCH_METRICS.items()]
    if "fp32" in variants:
        out += [(Column(k, k, style), _bench("fp32", k)) for k, style in BENCH_METRICS.items() if k not in taken]
    return out


def parse_columns(spec: str | None, known: list[str], default: list[str]) -> list[str]:
    if not spec:
        return default
    keys = [k.strip() for k in spec.split(",") if k.strip()]
    unknown = [k for k in keys if k not in known]
    if unknown or not keys:
        raise UserError(f"unknown column {', '.join(unknown) or '(none given)'}; valid columns: {', '.join(known)}")
    return list(dict.fromkeys(keys))


_WHERE_RE = re.compile(r"\s*([A-Za-z_][\w.:/-]*)\s*(==|!=|<=|>=|=|<|>)\s*(.*?)\s*")


@dataclass(frozen=True)
class Condition:
    key: str
    op: str
    value: str

    def test(self, cell: Any) -> bool:
        if self.value == "":  # `parent=` : the cell is empty
            return (cell is None or cell == "") == (self.op in ("=", "=="))
        if cell is None or cell == "":
            return self.op == "!="
        left, right = _comparable(self.key, cell, self.value)
        try:
            return _OPS[self.op](left, right)
        except TypeError:
            return False


_OPS = {
    "=": lambda a, b: a == b, "==": lambda a, b: a == b, "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
}


def _comparable(key: str, cell: Any, text: str) -> tuple[Any, Any]:
    """Numbers compare as numbers, versions naturally (2.10 > 2.9), anything else as text."""
    if key in ("version", "parent"):
        return version_key(str(cell)), version_key(text)
    number = to_number(text)
    if _num(cell) is not None and number is not None:
        return float(cell), float(number)
    if isinstance(cell, bool) and text.lower() in ("true", "false"):
        return cell, text.lower() == "true"
    return str(cell), text


def parse_where(expressions: list[str] | None, known: list[str]) -> list[Condition]:
    out = []
    for expression in expressions or []:
        m = _WHERE_RE.fullmatch(expression)
        if not m:
            raise UserError(f"bad --where {expression!r}: use COLUMN OP VALUE with OP one of = != < <= > >=")
        if m.group(1) not in known:
            raise UserError(f"bad --where {expression!r}: unknown column {m.group(1)}; valid columns: {', '.join(known)}")
        out.append(Condition(*m.groups()))
    return out


def parse_sort(spec: str | None, known: list[str]) -> list[tuple[str, bool]]:
    """`eval_loss:desc,version` (or `-eval_loss,version`) -> [('eval_loss', descending), ('version', ascending)]."""
    out = []
    for part in (spec or "").split(","):
        part = part.strip()
        if not part:
            continue
        key, _, direction = part.partition(":")
        if direction not in ("", "asc", "desc"):
            raise UserError(f"bad --sort {part!r}: the direction after ':' is asc or desc")
        descending = direction == "desc" or key.startswith("-")
        key = key[1:] if key[:1] in "-+" and key[1:] else key
        if key not in known:
            raise UserError(f"unknown --sort column {key}; valid columns: {', '.join(known)}")
        out.append((key, descending))
    return out


def _sort_value(key: str, value: Any) -> tuple:
    if key in ("version", "parent"):
        return (0, version_key(str(value)))
    number = _num(value)
    if number is not None:
        return (0, (1, 0.0) if math.isnan(number) else (0, number))
    return (1, str(value))


def sort_rows(pairs: list[tuple[Run, dict]], order: list[tuple[str, bool]]) -> list[tuple[Run, dict]]:
    """Stable multi-key sort; unknown cells always last, whichever the direction."""
    for key, descending in reversed(order):
        known = [p for p in pairs if p[1].get(key) not in (None, "")]
        unknown = [p for p in pairs if p[1].get(key) in (None, "")]
        known.sort(key=lambda p: _sort_value(key, p[1][key]), reverse=descending)
        pairs = known + unknown
    return pairs


def _rows(runs: list[Run], getters: dict[str, Callable[[Run], Any]]) -> list[dict[str, Any]]:
    """One dict of cell values per run, a run at a time: each run's fields are read while the CPU still holds
    them (a column at a time, 10,000 runs were walked once per column, at twice the cost). Hyper-parameters
    and metrics, most of a table, are looked up inline rather than through a call per cell."""
    hyper = [(name, g.key) for name, g in getters.items() if type(g) is _hp]
    metrics = [(name, g.key) for name, g in getters.items() if type(g) is _metric]
    calls = [(name, g) for name, g in getters.items() if type(g) not in (_hp, _metric)]
    rows = []
    for run in runs:
        row = {name: getter(run) for name, getter in calls}
        hp = run.hyperparameters
        for name, key in hyper:
            row[name] = hp.get(key)
        evaluated, trained = run.eval_metrics, run.train_metrics
        for name, key in metrics:
            row[name] = evaluated[key] if key in evaluated else trained.get(key)
        rows.append(row)
    return rows


def best_cells(columns: list[Column], rows: list[dict[str, Any]]) -> set[tuple[int, str]]:
    best = set()
    for column in columns:
        if column.better is None:
            continue
        key = column.key
        numbers = [v if type(v) is float else _num(v) for v in [row.get(key) for row in rows]]
        finite = [v for v in numbers if v is not None and v - v == 0]  # v - v is nan for nan and inf
        if len(finite) < 2:
            continue  # one row: nothing to compare with
        target = min(finite) if column.better == LOWER else max(finite)
        best.update((i, key) for i, v in enumerate(numbers) if v == target)
    return best


def add_deltas(columns: list[Column], pairs: list[tuple[Run, dict]], base: dict[str, Any]) -> list[Column]:
    """A `Δ <metric>` column after each highlighted metric column: this row minus the baseline row."""
    out = []
    for column in columns:
        out.append(column)
        if column.better is None:
            continue
        key = f"{column.key}_delta"
        out.append(Column(key, f"Δ {column.header}", "delta"))
        ref = _num(base.get(column.key))
        for _, row in pairs:
            value = _num(row.get(column.key))
            row[key] = None if value is None or ref is None else value - ref
    return out


def summarize_warnings(warnings: list[ParseWarning], per_file: int = 3) -> list[str]:
    """Parse warnings as lines: one message that many files share is one line naming them; otherwise at
    most `per_file` for one file (a corrupt file can have thousands)."""
    files_by_message: dict[str, list[str]] = {}
    for warning in warnings:
        paths = files_by_message.setdefault(warning.message, [])
        if warning.path not in paths:
            paths.append(warning.path)
    shared = {message for message, paths in files_by_message.items() if len(paths) > 1}
    out: list[str] = []
    counts: dict[str, int] = {}
    for warning in warnings:
        if warning.message in shared:
            continue
        counts[warning.path] = counts.get(warning.path, 0) + 1
        if counts[warning.path] <= per_file:
            out.append(str(warning))
    for path, count in counts.items():
        if count > per_file:
            out.append(f"{path}: {count - per_file} more warnings")
    for message in sorted(shared):
        paths = files_by_message[message]
        out.append(f"{message} ({len(paths)} files): {name_some(paths)}")
    return out


def name_some(names: list[str], most: int = 10) -> str:
    """`a, b, c`, or the first `most` and how many more: one line however many there are."""
    if len(names) <= most:
        return ", ".join(names)
    return f"{', '.join(names[:most])} and {len(names) - most} more"


def build_table(
    runs: list[Run],
    columns: str | None = None,
    sort: str | None = None,
    where: list[str] | None = None,
    baseline: str | None = None,
    review_notes: list[str] | None = None,
    parse_warnings: list[ParseWarning] | None = None,
) -> Table:
    """The comparison table. Bad `columns`/`sort`/`where`/`baseline` raise UserError."""
    available, default = available_columns(runs)
    getters = {c.key: (c, f) for c, f in available}
    known = list(getters)
    keys = parse_columns(columns, known, default)
    conditions = parse_where(where, known)
    order = parse_sort(sort, known)
    needed = set(keys) | {c.key for c in conditions} | {k for k, _ in order}
    pairs = list(zip(runs, _rows(runs, {k: getters[k][1] for k in needed})))
    base = None
    if baseline is not None:
        base = next((row for run, row in pairs if run.version == baseline), None)
        if base is None:
            versions = sorted({r.version for r in runs}, key=version_key)
            raise UserError(f"unknown --baseline version {baseline}; versions: {', '.join(versions) or '(none)'}")
        base = dict(base)
    if conditions:
        pairs = [p for p in pairs if all(c.test(p[1].get(c.key)) for c in conditions)]
    pairs = sort_rows(pairs, order)
    shown = [getters[k][0] for k in keys]
    if base is not None:
        shown = add_deltas(shown, pairs, base)
    rows = [row for _, row in pairs]
    notes = list(review_notes or []) + summarize_warnings(parse_warnings or [])
    return Table(shown, rows, [run for run, _ in pairs], best_cells(shown, rows), notes)


# ---- cell text, shared by every text format ----


def format_cell(column: Column, value: Any) -> str:
    return cell_formatter(column)(value)


@functools.cache
def cell_formatter(column: Column) -> Callable[[Any], str]:
    """The function that prints this column's cells (a table prints thousands: chosen once per column)."""
    style = _NUMBER_STYLES.get(column.style, _general)

    def cell(value: Any) -> str:
        kind = type(value)
        if kind is float:
            return style(value) if value - value == 0 else str(value)  # nan and inf as Python prints them
        if kind is str:
            return " ".join(value.split())  # one line, whatever the run wrote
        if value is None:
            return ""
        if kind is bool:
            return str(value).lower()
        number = _num(value)
        if number is None:
            return " ".join(str(value).split())
        return style(number) if math.isfinite(number) else str(number)

    return cell


def format_column(column: Column, values: list[Any]) -> list[str]:
    """`cell_formatter(column)` over many values; finite floats, the bulk of a big table, in one comprehension."""
    cell = cell_formatter(column)
    style = column.style
    if style == "metric":
        return [f"{v:.4f}" if type(v) is float and (v == 0 or 1e-3 <= abs(v) < 1e5) else cell(v) for v in values]
    if style == "text":
        return [" ".join(v.split()) if type(v) is str else "" if v is None else cell(v) for v in values]
    if style == "int":  # a whole number's digits, as `f"{float(v):.0f}"` prints them while floats are exact
        return [str(v) if type(v) is int and -_EXACT <= v <= _EXACT else cell(v) for v in values]
    spec = _FLOAT_SPECS.get(style)
    if spec is None:
        return list(map(cell, values))
    # An int formats as float(int) does with these specs: fine while the float is exact.
    return [format(v, spec) if (type(v) is float and v - v == 0) or (type(v) is int and -_EXACT <= v <= _EXACT)
            else cell(v) for v in values]


_EXACT = 2**53  # up to here every integer is exactly a float


# The styles that are one format spec; format_column applies them inline, cell_formatter through _NUMBER_STYLES.
_FLOAT_SPECS = {"lr": "g", "epochs": "g", "seconds": ".1f", "rate": ".2f", "mb": ".1f", "any": ".6g"}


def _general(v: float) -> str:
    return f"{v:.6g}"


def _printed_by(spec: str) -> Callable[[float], str]:
    return lambda v: format(v, spec)


def _metric_text(v: float) -> str:
    return f"{v:.4f}" if v == 0 or 1e-3 <= abs(v) < 1e5 else f"{v:.4g}"


_NUMBER_STYLES: dict[str, Callable[[float], str]] = {
    **{style: _printed_by(spec) for style, spec in _FLOAT_SPECS.items()},
    "int": lambda v: f"{v:.0f}" if v == int(v) else f"{v:g}",
    "metric": _metric_text,
    "delta": lambda v: ("+" if v >= 0 else "") + _metric_text(v + 0.0),  # + 0.0: no "-0.0000"
}

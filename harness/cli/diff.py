"""`python -m harness diff A B`: what differs between two versions, on one screen.

    python -m harness diff 3.3 3.4
    python -m harness diff 2.6 2.7 notebook.txt --format text
    python -m harness diff 3.4 out/other/trainer_state.json --format json

Sections, each only when something differs: the run (status, parent, epochs), the resolved config (only the
keys that differ; `—` where one side lacks the key), hyper-parameters (when a side has no resolved config:
notebooks, Trainer stdout), environment, data (files' sha256, paths, tokenizer), then the final metrics with
the change from A to B, relative change, and whether it is better (lower for losses and perplexity, higher
for accuracy and the like) or worse.
"""

from __future__ import annotations

import argparse
from typing import Any

from harness.cli import options, render
from harness.cli.present import MISSING, text
from harness.compare import lookup
from harness.compare.records import number
from harness.errors import UserError

# Always compared, though never ranked: what a change cost.
COSTS = ("train_runtime", "train_samples_per_second", "peak_memory_mb")
_FIRST = ("train_loss", "eval_loss", "eval_accuracy", "perplexity")
_NOT_CONFIG = ("version", "verbose")  # the version is in the header; verbose changes only the console


def register(subparsers) -> None:
    parser = subparsers.add_parser("diff", help="config, environment and metric differences of two versions",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", metavar="A", help="a version (or a file that holds one run)")
    parser.add_argument("b", metavar="B", help="the version to compare with A")
    options.add_inputs(parser)
    parser.add_argument("--format", choices=("rich", "text", "markdown", "json"), default="rich",
                        help="output format (default: rich; text is plain and deterministic)")
    render.add_wide_option(parser)
    parser.set_defaults(func=run)


def run(args) -> int:
    inputs = options.load(args, lookup.split_specs([args.a, args.b])[1])
    a, b = lookup.pick(args.a, inputs), lookup.pick(args.b, inputs)
    if a is b:
        raise UserError(f"{args.a} and {args.b} are the same run ({a.where})")
    render.emit(compare(a, b), document, args.format, wide=args.wide)
    return 0


# ---- what differs ----


def _differing(left: dict, right: dict, order: list[str] | None = None) -> list[dict[str, Any]]:
    keys = order if order is not None else list(dict.fromkeys([*left, *right]))
    return [{"key": k, "a": left.get(k), "b": right.get(k)} for k in keys
            if (k in left or k in right) and not _same(left.get(k), right.get(k))]


def _same(x: Any, y: Any) -> bool:
    nx, ny = number(x), number(y)
    if nx is not None and ny is not None:
        return nx == ny or (nx != nx and ny != ny)  # 3 == 3.0; nan == nan here
    return x == y


def flat_data(data: dict) -> dict[str, Any]:
    """The data fingerprint, files keyed by role: `train.sha256`, `validation.path`, `tokenizer`, ..."""
    out: dict[str, Any] = {}
    for item in data.get("files") or []:
        if isinstance(item, dict):
            role = str(item.get("role", "file"))
            for key in ("path", "sha256", "size"):
                if key in item:
                    out[f"{role}.{key}"] = item[key]
    out.update({k: v for k, v in data.items() if k != "files"})
    return out


def _run_facts(run) -> dict[str, Any]:
    return {"status": run.status, "parent": run.parent, "epochs": run.epochs,
            "cumulative_epochs": run.cumulative_epochs, "source_kind": run.source_kind}


def _value(run, key: str) -> Any:
    if key == "peak_memory_mb":
        return run.summary.get("peak_memory_mb", run.metric("peak_memory_mb"))
    return run.metric(key)


def metric_rows(a, b) -> list[dict[str, Any]]:
    from harness.compare.table import metric_direction

    keys = {k for r in (a, b) for m in (r.train_metrics, r.eval_metrics) for k, v in m.items()
            if number(v) is not None and metric_direction(k) is not None}
    ordered = [k for k in _FIRST if k in keys] + sorted(keys - set(_FIRST))
    ordered += [k for k in COSTS if number(_value(a, k)) is not None or number(_value(b, k)) is not None]
    rows = []
    for key in ordered:
        va, vb = _value(a, key), _value(b, key)
        na, nb = number(va), number(vb)
        direction = metric_direction(key) if key not in COSTS else None
        row = {"metric": key, "a": va, "b": vb, "delta": None, "relative": None, "better": None,
               "direction": direction}
        if na is not None and nb is not None:
            row["delta"] = nb - na
            row["relative"] = (nb - na) / abs(na) if na not in (0.0,) and na == na else None
            if direction and nb != na and nb == nb and na == na:
                improved = nb < na if direction == "lower" else nb > na
                row["better"] = "b" if improved else "a"
        rows.append(row)
    return rows


def compare(a, b) -> dict[str, Any]:
    """Both sides and, per section, only what differs (the json format is exactly this)."""
    from harness.compare.load import flatten
    from harness.rerun.reproduce import ENVIRONMENT_KEYS

    doc: dict[str, Any] = {
        "a": {"version": a.version, "source": a.where, "source_kind": a.source_kind, "status": a.status},
        "b": {"version": b.version, "source": b.where, "source_kind": b.source_kind, "status": b.status},
        "notes": {},
    }
    sections: dict[str, Any] = {"run": _differing(_run_facts(a), _run_facts(b))}
    if a.notes != b.notes:
        doc["notes"] = {"a": a.notes, "b": b.notes}
    config_a, config_b = flatten(a.config), flatten(b.config)
    for key in _NOT_CONFIG:
        config_a.pop(key, None)
        config_b.pop(key, None)
    if config_a and config_b:
        sections["config"] = _differing(config_a, config_b)
        doc["config_keys"] = len(config_a.keys() | config_b.keys())
    else:
        sections["config"] = None  # one side (or both) has no resolved config: compare hyper-parameters
        sections["hyperparameters"] = _differing(a.hyperparameters, b.hyperparameters)
    if a.environment and b.environment:
        known = [k for k in ENVIRONMENT_KEYS]
        rest = sorted((a.environment.keys() | b.environment.keys()) - set(known))
        sections["environment"] = _differing(a.environment, b.environment, known + rest)
    else:
        sections["environment"] = None
    data_a, data_b = flat_data(a.data), flat_data(b.data)
    sections["data"] = _differing(data_a, data_b) if data_a and data_b else None
    doc["sections"] = sections
    doc["missing"] = {name: _who_has(a, b, attr) for name, attr in
                      (("config", "config"), ("environment", "environment"), ("data", "data"))
                      if sections.get(name) is None}
    doc["metrics"] = metric_rows(a, b)
    return doc


def _who_has(a, b, attr: str) -> str:
    has_a, has_b = bool(getattr(a, attr)), bool(getattr(b, attr))
    if has_a and not has_b:
        return f"only {a.version} records it"
    if has_b and not has_a:
        return f"only {b.version} records it"
    return "neither records it"


# ---- rendering ----

_TITLES = {"run": "run", "config": "config", "hyperparameters": "hyper-parameters", "environment": "environment",
           "data": "data"}


def _metric_cells(row: dict) -> tuple[str, str, str, str, str]:
    from harness.compare.table import Column, format_cell

    if row["metric"] in COSTS:  # seconds, rates, MB: plain numbers
        value_col = delta_col = Column("v", "v", "any")
    else:
        value_col, delta_col = Column("v", "v", "metric"), Column("d", "d", "delta")
    rel = "" if row["relative"] is None else f"{row['relative'] * 100:+.1f}%"
    verdict = {"b": "better", "a": "worse"}.get(row["better"], "" if row["direction"] is None or row["delta"] is None
                                                  else ("=" if row["delta"] == 0 else ""))
    delta = format_cell(delta_col, row["delta"])
    if delta and row["metric"] in COSTS and not delta.startswith("-"):
        delta = "+" + delta
    return (format_cell(value_col, row["a"]) or MISSING, format_cell(value_col, row["b"]) or MISSING,
            delta, rel, verdict)


def _section_status(doc: dict, name: str) -> str | None:
    """A one-line status for a section with no rows to print, else None."""
    rows = doc["sections"].get(name)
    if rows is None:
        return f"not compared ({doc['missing'][name]})" if name in doc["missing"] else None
    if not rows:
        if name == "config":
            return f"identical ({doc.get('config_keys', 0)} keys)"
        return "identical"
    return None


def _origin(side: dict) -> str:
    return f"{side['source']} ({side['source_kind']}, {side['status'] or 'status unknown'})"


def _sections(doc: dict):
    """(name, title, status, rows) of each section to show: status is set when it is shown as one line only."""
    for name, title in _TITLES.items():
        if name not in doc["sections"]:
            continue
        status = _section_status(doc, name)
        if status is not None and name == "run":
            continue  # run facts that agree need no line
        yield name, title, status, doc["sections"][name]


_VERDICT_STYLE = {"better": "green", "worse": "red"}


def _metrics_grid(doc: dict, a: str, b: str) -> render.Grid:
    # Hidden first on a narrow terminal: the relative change, then the absolute one.
    columns = [render.Column("metric", style="cyan"), render.Column(a, numeric=True), render.Column(b, numeric=True),
               render.Column("Δ", key="delta", numeric=True, rank=1),
               render.Column("rel.", key="relative", numeric=True, rank=2), render.Column("")]
    rows = []
    for row in doc["metrics"]:
        va, vb, delta, rel, verdict = _metric_cells(row)
        style = _VERDICT_STYLE.get(verdict, "")
        rows.append([row["metric"], va, vb, render.Cell(delta, style), render.Cell(rel, style),
                     render.Cell(verdict, style)])
    return render.Grid(title="metrics", columns=columns, rows=rows, hint="--wide shows all")


def document(doc: dict) -> render.Document:
    """What `diff` prints, as a document any renderer draws."""
    a, b = doc["a"]["version"], doc["b"]["version"]
    origins = render.Grid(header=False, rows=[[s["version"], _origin(s)] for s in (doc["a"], doc["b"])],
                          columns=[render.Column("version", style="bold"), render.Column("source")])
    blocks: list = [origins]
    for name, title, status, rows in _sections(doc):
        if status is not None:
            blocks.append(render.Lines(title=title, subtitle=status))
            continue
        count = f"({len(rows)} of {doc['config_keys']} keys differ)" if name == "config" else ""
        blocks.append(render.Grid(title=title, subtitle=count, rows=[[r["key"], text(r["a"]), text(r["b"])] for r in rows],
                                  columns=[render.Column("key", style="cyan"), render.Column(a), render.Column(b)]))
    if doc["notes"]:
        blocks.append(render.Grid(title="notes", header=False, columns=[render.Column("version"), render.Column("notes")],
                                  rows=[[doc[side]["version"], text(doc["notes"][side])] for side in ("a", "b")]))
    if doc["metrics"]:
        blocks.append(_metrics_grid(doc, a, b))
    else:
        blocks.append(render.Lines(title="metrics", subtitle="none recorded"))
    return render.Document(f"diff {a} -> {b}", blocks)

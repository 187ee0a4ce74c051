"""Everything the report page shows, as one JSON-able dict built from the domain API.

The table is `harness table`'s (build_table + review), the tree is `harness lineage`'s, a version's detail
is `harness show`'s sections, curves are `harness plot`'s points (cumulative offsets included), the sweep
names are compare/knobs.py's. Only the pairwise diff is computed in the page (any two of 1,000 versions
cannot be precomputed): each version carries the facts `harness diff` compares, and tests check the page's
result against diff.compare().
"""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

from harness.cli.present import plain
from harness.compare import lineage, lookup
from harness.compare.records import Run, number
from harness.compare.table import Table

CURVE_POINT_BUDGET = 40_000  # curve points in the whole page: keeps 100 long runs under ~2 MB
MIN_POINTS_PER_CURVE = 60
DEFAULT_VISIBLE_CURVES = 20
_NOT_CURVES = ("step", "epoch")


def build(table: Table, inputs: lookup.Inputs, title: str, baseline: str | None) -> dict[str, Any]:
    runs = table.runs
    return {
        "title": title,
        "generated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "inputs": inputs.paths,
        "baseline": baseline,
        "versions": [{"version": r.version, "parent": r.parent, "where": r.where, "status": r.status}
                     for r in runs],
        "table": table_part(table),
        "tree": tree_part(runs),
        "details": [detail(run, inputs) for run in runs],
        "diff": diff_part(runs),
        "curves": curves_part(runs),
        "sweep": sweep_part(runs),
        "samples": samples_part(runs),
    }


def to_json(doc: dict[str, Any]) -> str:
    """JSON that is safe inside a <script> element: no `<`, `>` or `&` survives unescaped."""
    text = json.dumps(plain(doc), ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---- table ----


def table_part(table: Table) -> dict[str, Any]:
    """Raw cell values for sorting (the cells' text is in the page's HTML table) and each row's remarks."""
    versions = sorted({r.version for r in table.runs}, key=len, reverse=True)
    by_version: dict[str, list[str]] = {}
    for line in table.warnings:  # review() writes `<version>: <remark>`; the longest matching name wins
        owner = next((v for v in versions if line.startswith(v + ": ")), None)
        if owner is not None:
            by_version.setdefault(owner, []).append(line[len(owner) + 2:])
    return {
        "columns": [{"key": c.key, "numeric": c.numeric} for c in table.columns],
        "raw": [[row.get(c.key) for c in table.columns] for row in table.rows],
        "remarks": [by_version.get(r.version, []) for r in table.runs],
    }


# ---- lineage ----


def tree_part(runs: list[Run]) -> list[list[Any]]:
    """[guide, run index or -1 (a parent not among the inputs), version, rest of `harness lineage`'s label]."""
    index = {id(r): i for i, r in enumerate(runs)}
    rows = []
    for node, guide in lineage.walk(lineage.build_tree(runs)):
        text = lineage.label(node)
        rest = text[len(node.version):] if text.startswith(node.version) else " " + text
        rows.append([guide, index.get(id(node.run), -1), node.version, rest])
    return rows


# ---- one version ----


def detail(run: Run, inputs: lookup.Inputs) -> list[list[Any]]:
    """`harness show`'s sections: [title, kind (kv | lines), rows]."""
    from harness.cli.show import describe, sections

    return [[title, kind, [list(row) if isinstance(row, tuple) else row for row in rows]]
            for title, kind, rows in sections(describe(run, inputs))]


# ---- diff facts ----


def diff_part(runs: list[Run]) -> dict[str, Any]:
    """Per version what `harness diff` compares; configs split into what all share and what is their own."""
    from harness.cli import diff
    from harness.compare.load import flatten
    from harness.compare.table import metric_direction
    from harness.rerun.reproduce import ENVIRONMENT_KEYS

    configs = [flatten(r.config) for r in runs]
    for config in configs:
        config.pop("version", None)  # as diff.compare(): it is in the header
    common, own = _factor(configs)
    order = list(dict.fromkeys(k for config in configs for k in config))
    directions: dict[str, str | None] = {}
    sides = []
    for run, config, flat in zip(runs, own, configs):
        keys = sorted({k for m in (run.train_metrics, run.eval_metrics) for k, v in m.items()
                       if number(v) is not None and metric_direction(k) is not None})
        directions.update({k: metric_direction(k) for k in keys})
        values = {k: diff._value(run, k) for k in (*keys, *diff.COSTS)}
        sides.append({
            "facts": {"status": run.status, "parent": run.parent, "epochs": run.epochs,
                      "cumulative_epochs": run.cumulative_epochs, "source_kind": run.source_kind},
            "source": run.where, "notes": run.notes, "config": config, "hasConfig": bool(flat),
            "has": {"config": bool(run.config), "environment": bool(run.environment), "data": bool(run.data)},
            "hyperparameters": run.hyperparameters, "environment": run.environment or None,
            "data": diff.flat_data(run.data) or None, "metricKeys": keys, "values": values,
        })
    return {"common": common, "order": order, "sides": sides, "directions": directions, "costs": list(diff.COSTS),
            "first": list(diff._FIRST), "environmentKeys": list(ENVIRONMENT_KEYS)}


def _factor(dicts: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(what every non-empty dict holds with the same value, each dict's remainder): a sweep's configs
    share most of their keys, and the page need not carry them 1,000 times."""
    present = [d for d in dicts if d]
    if len(present) < 2:
        return {}, dicts
    first = present[0]
    common = {k: v for k, v in first.items()
              if all(k in d and json.dumps(plain(d[k])) == json.dumps(plain(v)) for d in present[1:])}
    return common, [{k: v for k, v in d.items() if k not in common} for d in dicts]


# ---- curves ----


def curves_part(runs: list[Run]) -> dict[str, Any]:
    from harness.cli import plot

    metrics = sorted({k for r in runs for e in r.history for k, v in e.items()
                      if k not in _NOT_CURVES and _finite(v) is not None})
    per_metric = {m: [plot.points_of(r, m) for r in runs] for m in metrics}
    axes = {m: {want: list(plot.choose_x([e for e in entries if e], want)) for want in ("step", "epoch")}
            for m, entries in per_metric.items()}
    curves = sum(1 for entries in per_metric.values() for e in entries if e)
    cap = max(MIN_POINTS_PER_CURVE, CURVE_POINT_BUDGET // max(curves, 1))
    series = [{m: _points(per_metric[m][i], m, cap) for m in metrics if per_metric[m][i]} for i in range(len(runs))]
    offsets, warnings = {}, {}
    for x_key in ("step", "epoch"):
        shifted = [plot.Series(r, r.version, []) for r in runs]
        warnings[x_key] = plot.offsets(shifted, runs, x_key, "loss")
        offsets[x_key] = [s.offset for s in shifted]
    downsampled = any(len(e) > cap for entries in per_metric.values() for e in entries)
    return {"metrics": metrics, "axes": axes, "series": series, "offsets": offsets, "offsetWarnings": warnings,
            "downsampled": cap if downsampled else None, "visible": DEFAULT_VISIBLE_CURVES}


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _points(entries: list[dict[str, Any]], metric: str, cap: int) -> list[list[Any]]:
    """[step, epoch, value] per point, at most `cap`: the lowest and highest of each stretch, so that
    a spike survives the thinning."""
    values = [float(e[metric]) for e in entries]
    kept = range(len(values)) if len(values) <= cap else _extremes(values, cap // 2)
    return [[_finite(entries[i].get("step")), _round(_finite(entries[i].get("epoch"))), _round(values[i])] for i in kept]


def _extremes(values: list[float], buckets: int) -> list[int]:
    """Indexes of the lowest and highest value in each of `buckets` equal stretches, in order."""
    out = []
    for b in range(buckets):
        stretch = range(b * len(values) // buckets, (b + 1) * len(values) // buckets)
        out += sorted({min(stretch, key=values.__getitem__), max(stretch, key=values.__getitem__)})
    return out


def _round(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


# ---- sweep ----


def sweep_part(runs: list[Run]) -> dict[str, Any]:
    from harness.compare import knobs
    from harness.compare.table import available_columns

    resolver = knobs.Resolver(runs)
    numbers = [resolver.numbers(r) for r in runs]
    columns, _ = available_columns(runs)
    measured = {c.key for c, _ in columns if c.style in ("metric", "seconds", "rate", "mb")}
    metrics = {k for r in runs for m in (r.train_metrics, r.eval_metrics, r.summary) for k in m}
    ys = sorted(k for k in metrics if any(k in n for n in numbers))
    xs = _distinct([k for k in knobs.varying(numbers) if k not in metrics and k not in measured and k not in _NAMES],
                   numbers, prefer=resolver.columns)
    wanted = set(xs) | set(ys)
    values = [{k: v for k, v in n.items() if k in wanted} for n in numbers]
    log = {x: knobs.wants_log(x, [v[x] for v in values if x in v]) for x in xs}
    return {"x": xs, "y": ys, "values": values, "log": log}


_NAMES = ("version", "parent", "init_from")  # version names that look like numbers are not hyper-parameters


def _distinct(keys: list[str], numbers: list[dict[str, float]], prefer) -> list[str]:
    """Leave out a name whose every value another name already gives: `train.learning_rate` (a config key)
    repeats `learning_rate` (the table's column, which notebooks fill too), and the page offers the latter."""
    kept: list[str] = []
    for key in sorted(keys, key=lambda k: (k not in prefer, k)):
        has = [n for n in numbers if key in n]
        if not any(all(n.get(other) == n[key] for n in has) for other in kept):
            kept.append(key)
    return sorted(kept)


# ---- samples ----


def samples_part(runs: list[Run]) -> list[dict[str, Any]]:
    """Per prompt, in first-seen order, each version's output for it."""
    prompts: dict[str, list[list[Any]]] = {}
    for i, run in enumerate(runs):
        for item in run.samples:
            if isinstance(item, dict) and item.get("prompt") is not None:
                prompts.setdefault(str(item["prompt"]), []).append([i, str(item.get("output", ""))])
    return [{"prompt": p, "outputs": outputs} for p, outputs in prompts.items()]

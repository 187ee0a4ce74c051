"""`python -m harness show VERSION`: one version in full.

    python -m harness show 3.4
    python -m harness show 2.6 notebook.txt --format markdown
    python -m harness show 3.4 --config > 3.4.yaml      # the full resolved config, as YAML

Header (version, status, parent, times, source), notes, commands, lineage (ancestors up to the root and
children among the inputs), hyper-parameters, final metrics, summary (peak memory, epochs, weights and
whether they still exist), data fingerprint, environment, recorded samples, and the run's warnings.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from harness.cli import options, render
from harness.cli.present import MISSING, text
from harness.compare import lookup
from harness.errors import UserError


def register(subparsers) -> None:
    parser = subparsers.add_parser("show", help="one version in full: config, environment, metrics, lineage",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("version", metavar="VERSION", help="a version (or a file that holds one run)")
    options.add_inputs(parser)
    parser.add_argument("--format", choices=("rich", "text", "json", "markdown"), default="rich",
                        help="output format (default: rich)")
    render.add_wide_option(parser)
    parser.add_argument("--config", action="store_true", help="print only the full resolved config, as YAML")
    parser.set_defaults(func=run)


def run(args) -> int:
    inputs = options.load(args, lookup.split_specs([args.version])[1])
    record = lookup.pick(args.version, inputs)
    if args.config:
        sys.stdout.write(config_yaml(record))
        return 0
    render.emit(describe(record, inputs), document, args.format, wide=args.wide)
    return 0


def config_yaml(run) -> str:
    import yaml

    if not run.config:
        how = f"; its command: {run.commands[0]}" if run.commands else ""
        raise UserError(f"version {run.version} ({run.where}) records no resolved config{how}")
    return yaml.safe_dump(run.config, sort_keys=False, allow_unicode=True, default_flow_style=False)


# ---- what is known about one version ----


def weights_info(run, logs_dir: str | None) -> dict[str, Any] | None:
    """Where the final weights were saved and whether they are still there (run logs only)."""
    from harness.train.checkpoints import has_weights

    path = run.summary.get("weights") or run.fields.get("output_dir")
    if not path:
        return None
    path = str(path)
    candidates = [path]
    if not os.path.isabs(path):
        base = os.path.dirname(os.path.abspath(logs_dir or os.path.dirname(run.source) or "."))
        candidates.append(os.path.join(base, path))  # relative to the project the logs belong to
    exists = any(has_weights(c) for c in candidates)
    return {"path": path, "exists": exists}


def describe(run, inputs: lookup.Inputs) -> dict[str, Any]:
    """Everything `show` prints, as plain data (the json format is exactly this)."""
    from harness.compare import remarks as checks
    from harness.compare.review import stale

    ancestors = lookup.ancestors(run, inputs.runs)
    remarks = [text for rank, text in sorted(checks.of(run)) if rank != checks.NO_STEPS]  # that one: a warning
    if remark := stale(run):
        remarks.append(remark)
    sources = {run.source, *(m.rsplit(":", 1)[0] for m in run.merged_from)}
    parse_warnings = [str(w) for w in inputs.warnings if w.path in sources]
    return {
        "version": run.version,
        "status": run.status,
        "parent": run.parent,
        "started": run.started,
        "ended": run.ended,
        "source": run.where,
        "source_kind": run.source_kind,
        "merged_from": run.merged_from,
        "resumed": run.resumed,
        "notes": run.notes,
        "commands": run.commands,
        "lineage": {
            "ancestors": [{"version": v, "found": r is not None, "status": r.status if r else None}
                          for v, r in ancestors],
            "children": lookup.children(run, inputs.runs),
        },
        "hyperparameters": run.hyperparameters,
        "train_metrics": run.train_metrics,
        "eval_metrics": run.eval_metrics,
        "epochs": run.epochs,
        "cumulative_epochs": run.cumulative_epochs,
        "summary": run.summary,
        "weights": weights_info(run, inputs.logs_dir),
        "model": run.model,
        "data": run.data,
        "environment": run.environment,
        "samples": run.samples,
        "bench": run.bench,
        "history_points": len(run.history),
        "errors": run.errors,
        "warnings": run.warnings,
        "remarks": remarks,
        "parse_warnings": parse_warnings,
        "config": run.config,
    }


def _unit(key: str, value: Any) -> str:
    """The units logparse normalised to (docs/TABLE.md), so that `12` reads as `12 GF`."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return ""
    if key.endswith("_runtime"):
        return " s"
    if key == "total_flos":
        return " GF"
    if "_mem_" in key or key.endswith("_memory_mb"):
        return " MB"
    return ""


def _lineage_line(doc: dict) -> str:
    chain = [a["version"] + ("" if a["found"] else " (not among the inputs)") for a in doc["lineage"]["ancestors"]]
    return " -> ".join(chain + [doc["version"]])


def _data_pairs(data: dict) -> list[tuple[str, str]]:
    pairs = []
    for item in data.get("files") or []:
        if not isinstance(item, dict):
            continue
        size = item.get("size")
        sha = str(item.get("sha256") or "")
        detail = ", ".join(x for x in (f"{size} bytes" if size is not None else "",
                                        f"sha256 {sha[:16]}" if sha else "") if x)
        where = str(item.get("path", MISSING)) + (f" ({detail})" if detail else "")
        pairs.append((str(item.get("role", "file")), where))
    pairs += [(k, text(v)) for k, v in data.items() if k != "files"]
    return pairs


def _summary_pairs(doc: dict) -> list[tuple[str, str]]:
    summary = dict(doc["summary"])
    pairs = []
    if "peak_memory_mb" in summary:
        kind = summary.pop("peak_memory_kind", None)
        pairs.append(("peak memory", f"{text(summary.pop('peak_memory_mb'))} MB" + (f" ({kind})" if kind else "")))
    pairs.append(("epochs", text(doc["epochs"])))
    pairs.append(("cumulative epochs", text(doc["cumulative_epochs"])))
    summary.pop("cumulative_epochs", None)
    summary.pop("weights", None)
    if doc["weights"]:
        state = "present" if doc["weights"]["exists"] else "missing: deleted or moved"
        pairs.append(("weights", f"{doc['weights']['path']} [{state}]"))
    pairs += [(k, text(v)) for k, v in summary.items()]
    pairs.append(("logged points", str(doc["history_points"])))
    return pairs


def _kv(title: str, pairs: list[tuple[str, str]], wrap: bool = False) -> render.Grid:
    return render.Grid(title=title, header=False, rows=[list(p) for p in pairs],
                       columns=[render.Column("key", style="dim"), render.Column("value", wrap=wrap)])


def document(doc: dict) -> render.Document:
    """What `show` prints, as a document any renderer draws."""
    header = [("status", text(doc["status"])), ("parent", text(doc["parent"])),
              ("started", text(doc["started"])), ("ended", text(doc["ended"])),
              ("source", f"{doc['source']} ({doc['source_kind']})")]
    header += [("also in", m) for m in doc["merged_from"]]
    header += [("resumed", r) for r in doc["resumed"]]
    blocks: list = [_kv("run", header)]
    if doc["notes"]:
        blocks.append(render.Lines(title="notes", lines=doc["notes"].split("\n"), kind="quote"))
    if doc["commands"]:
        blocks.append(render.Lines(title="commands", lines=doc["commands"], kind="code"))
    children = doc["lineage"]["children"]
    blocks.append(_kv("lineage", [("chain", _lineage_line(doc)),
                                  ("children", ", ".join(children) if children else "(none among the inputs)")]))
    if doc["hyperparameters"]:
        blocks.append(_kv("hyper-parameters", [(k, text(v)) for k, v in doc["hyperparameters"].items()]))
    for split in ("train", "eval"):
        metrics = doc[f"{split}_metrics"]
        if metrics:
            blocks.append(_kv(f"{split} metrics", [(k, text(v) + _unit(k, v)) for k, v in sorted(metrics.items())]))
    blocks.append(_kv("summary", _summary_pairs(doc)))
    for name in ("data", "model", "environment"):
        if doc[name]:
            pairs = _data_pairs(doc[name]) if name == "data" else [(k, text(v)) for k, v in doc[name].items()]
            blocks.append(_kv(name, pairs))
    samples = []
    for item in doc["samples"]:
        if isinstance(item, dict):
            who = f" [{item['version']}]" if item.get("version") else ""
            samples.append((f"prompt{who}", text(item.get("prompt"))))
            samples.append(("output", text(item.get("output"))))
    if samples:
        blocks.append(_kv("samples", samples, wrap=True))  # prose: folded, never cut
    if doc.get("bench"):
        blocks.append(_kv("bench", [(variant, _bench_line(entry)) for variant, entry in doc["bench"].items()]))
    problems = ([f"error: {e}" for e in doc["errors"]] + [f"warning: {w}" for w in doc["warnings"]]
                + [f"remark: {r}" for r in doc["remarks"]] + [f"parse: {p}" for p in doc["parse_warnings"]])
    if problems:
        blocks.append(render.Lines(title="warnings", lines=problems, style="yellow"))
    status = doc["status"] or "unknown"
    colour = {"finished": "green", "crashed": "red", "stale": "red", "interrupted": "yellow",
              "running": "cyan"}.get(status, "white")
    return render.Document(f"version {doc['version']}", blocks, badge=(f"[{status}]", colour),
                           markdown_title=f"Version {doc['version']}")


def sections(doc: dict) -> list[tuple[str, str, list]]:
    """The document as [(title, kind, rows)]: kv rows are (key, value), lines are text (the report page)."""
    out = []
    for block in document(doc).blocks:
        if isinstance(block, render.Grid):
            out.append((block.title, "kv", [tuple(_cell_text(c) for c in row) for row in block.rows]))
        elif isinstance(block, render.Lines):
            out.append((block.title, "lines", list(block.lines)))
    return out


def _cell_text(cell) -> str:
    return cell.text if isinstance(cell, render.Cell) else str(cell)


_BENCH_SHOWN = (("ms_per_token", "ms/token"), ("ttft_ms", "TTFT ms"), ("tokens_per_s", "tokens/s"),
                ("size_mb", "size MB"), ("peak_mem_mb", "peak MB"), ("eval_loss", "eval_loss"),
                ("eval_loss_delta", "Δ vs fp32"), ("energy_j_per_request", "J/request"), ("device", "on"))


def _bench_line(entry: Any) -> str:
    """One variant of `harness bench`'s results on one line."""
    if not isinstance(entry, dict):
        return text(entry)
    return ", ".join(f"{label} {text(entry[key])}" for key, label in _BENCH_SHOWN if entry.get(key) is not None)

"""Parent links between versions: resolving them, epochs along a chain, and the lineage tree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from harness import versions
from harness.compare.records import RUNLOG, Run, finite_number, version_key

# The trailing version-like token of a path's last component: `finetuned_model_v2.6` -> `2.6`.
_TRAILING_RE = re.compile(r"(?:^|[^A-Za-z0-9])v?(\d+(?:\.\d+)*)$")
_CHECKPOINT_RE = re.compile(r"checkpoint-\d+")



def version_named_by(path: str, versions: set[str], own: str) -> str | None:
    """The version among `versions` whose output directory `path` names, if any."""
    path = str(path).strip().rstrip("/\\")
    if not path:
        return None
    parts = re.split(r"[/\\]", path)
    last = parts[-1]
    if _CHECKPOINT_RE.fullmatch(last) and len(parts) > 1:
        if f"{parts[-2]}/{last}" in versions and f"{parts[-2]}/{last}" != own:
            return f"{parts[-2]}/{last}"
        last = parts[-2]
    candidates = [last]
    m = _TRAILING_RE.search(last)
    if m:
        candidates.append(m.group(1))
    for candidate in candidates:
        if candidate in versions and candidate != own:
            return candidate
    return None


def resolve_parents(runs: list[Run]) -> None:
    """Parents for runs that do not state one: Hydra `init_from`, else the model path naming a version.

    Run logs state their parent (or its absence) themselves, so they are left as written.
    """
    versions = {run.version for run in runs}
    for run in runs:
        if run.parent or run.source_kind == RUNLOG:
            continue
        init_from = run.hyperparameters.get("init_from")
        if init_from not in (None, "", False):
            named = version_named_by(str(init_from), versions, run.version)
            run.parent = named or str(init_from)
            continue
        model = run.hyperparameters.get("model")
        if isinstance(model, str):
            run.parent = version_named_by(model, versions, run.version)


def final_epoch(run: Run) -> float | None:
    epoch = finite_number(run.train_metrics.get("epoch"))
    if epoch is None:
        for entry in reversed(run.history):
            epoch = finite_number(entry.get("epoch"))
            if epoch is not None:
                break
    return epoch


_STOPPED = ("crashed", "interrupted", "stale")


def fill_epochs(runs: list[Run]) -> None:
    """`epochs` (this run) and `cumulative_epochs` (summed up the parent chain) for every run, `runs` given in
    natural version order (load_runs sorts them first): of one version's runs, the first is the one its
    children's chains go through.

    `epochs` holds the final epoch its file states (load.derive: final_epoch), or None; a run that did not
    stop early is taken to have done its planned epochs."""
    by_version = dict(zip(map(attrgetter("version"), reversed(runs)), reversed(runs)))  # the first run wins
    for run in runs:
        if run.epochs is None and run.status not in _STOPPED and not _step_capped(run):  # see _step_capped
            run.epochs = finite_number(run.hyperparameters.get("num_train_epochs"))
    memo: dict[int, float | None] = {}
    for run in runs:
        run.cumulative_epochs = _cumulative(run, by_version, memo)


def _step_capped(run: Run) -> bool:
    """max_steps > 0: Trainer stops there whatever num_train_epochs says, so that is no epoch count. (A crash,
    likewise, did not get to its planned epochs.)"""
    steps = finite_number(run.hyperparameters.get("max_steps"))
    return steps is not None and steps > 0


_GO_ON = object()


def _own_cumulative(run: Run) -> object:
    """What a run says by itself: its stated cumulative epochs, its epochs at a root, or _GO_ON."""
    summary = run.summary
    stated = finite_number(summary["cumulative_epochs"]) if "cumulative_epochs" in summary else None
    if stated is not None or run.epochs is None:
        return stated
    return run.epochs if not run.parent else _GO_ON


def _cumulative(run: Run, by_version: dict[str, Run], memo: dict[int, float | None]) -> float | None:
    """Walk up until a run that knows its own total, then add the epochs back down the walk."""
    total = memo[id(run)] if id(run) in memo else _own_cumulative(run)
    if total is not _GO_ON:  # a root, or a run that states its total: no walk
        memo[id(run)] = total
        return total
    parent = by_version.get(run.parent)
    if parent is not None and id(parent) in memo and by_version[run.version] is run:
        # Most runs, in version order: the parent's walk is done, and it never met this version (whose run
        # would then be done too), so this walk would retrace it to the same end.
        total = memo[id(parent)]
        memo[id(run)] = None if total is None else total + run.epochs
        return memo[id(run)]
    pending: list[Run] = []  # runs whose total is their parent's plus their own epochs, nearest first
    node = run
    links = versions.walk_up(run.parent, lambda v: by_version[v].parent, by_version.__contains__, start=run.version)
    while total is _GO_ON:
        pending.append(node)
        link = next(links, None)
        if link is None or link.kind != versions.VERSION:
            total = None  # a missing link, a directory or a cycle: unknown, not a guess
        else:
            node = by_version[link.name]
            total = memo[id(node)] if id(node) in memo else _own_cumulative(node)
    if not pending:
        memo[id(run)] = total
    for waiting in reversed(pending):
        total = None if total is None else total + waiting.epochs
        memo[id(waiting)] = total
    return memo[id(run)]


@dataclass
class Node:
    version: str
    run: Run | None  # None: a parent named by some run but not among the inputs
    children: list[Node] = field(default_factory=list)
    note: str = ""


def build_tree(runs: list[Run]) -> list[Node]:
    """Root nodes, children in natural version order. A parent cycle is cut at its lowest version."""
    ordered = sorted(runs, key=lambda r: (version_key(r.version), r.source, r.line))
    nodes = [Node(run.version, run) for run in ordered]
    first: dict[str, Node] = {}
    for node in nodes:
        first.setdefault(node.version, node)
    cut = _cycle_cuts(nodes, first)
    roots: list[Node] = []
    missing: dict[str, Node] = {}
    for node in nodes:
        parent = node.run.parent
        if id(node) in cut:
            node.note = "parent cycle"
            roots.append(node)
        elif not parent or parent == node.version:
            roots.append(node)
        elif parent in first:
            first[parent].children.append(node)
        else:
            if parent not in missing:
                missing[parent] = Node(parent, None, note="not among the inputs")
            missing[parent].children.append(node)
    roots.extend(missing.values())
    roots.sort(key=lambda n: version_key(n.version))
    return roots


def _cycle_cuts(nodes: list[Node], first: dict[str, Node]) -> set[int]:
    """Nodes whose parent link closes a cycle (each node has at most one parent: walk up, O(n))."""
    state: dict[int, int] = {}  # 1: on the current walk, 2: done
    cuts: set[int] = set()
    for start in nodes:
        path: list[Node] = []
        node: Node | None = start
        while node is not None and id(node) not in state:
            state[id(node)] = 1
            path.append(node)
            parent = node.run.parent if node.run else None
            node = first.get(parent) if parent and parent != node.version else None
        if node is not None and state.get(id(node)) == 1:
            cycle = path[path.index(node):]
            cuts.add(id(min(cycle, key=lambda n: version_key(n.version))))
        for visited in path:
            state[id(visited)] = 2
    return cuts


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def label(node: Node) -> str:
    run = node.run
    if run is None:
        return f"{node.version} ({node.note})"
    parts = [node.version]
    if run.status:
        parts.append(f"[{run.status}]")
    loss = finite_number(run.eval_metrics.get("eval_loss"))
    if loss is not None:
        parts.append(f"eval_loss={loss:.4f}")
    if run.epochs is not None:
        parts.append(f"epochs={_fmt(run.epochs)}")
    if run.cumulative_epochs is not None:
        parts.append(f"cumulative={_fmt(run.cumulative_epochs)}")
    if node.note:
        parts.append(f"({node.note})")
    return "  ".join(parts)


def walk(roots: list[Node]):
    """(node, guide) in display order, the guide being the box-drawing prefix of its line."""
    stack: list[tuple[Node, str, str]] = [(root, "", "") for root in reversed(roots)]
    while stack:  # iterative: a chain of thousands of fine-tunes must not hit the recursion limit
        node, guide, child_prefix = stack.pop()
        yield node, guide
        for i, child in reversed(list(enumerate(node.children))):
            last = i == len(node.children) - 1
            stack.append((child, child_prefix + ("└── " if last else "├── "),
                          child_prefix + ("    " if last else "│   ")))


def tree_lines(roots: list[Node]) -> list[str]:
    """The tree as plain text, one version a line, with box-drawing guides."""
    return [guide + label(node) for node, guide in walk(roots)]


def tree_rows(roots: list[Node]) -> list[tuple[str, Node]]:
    """Each node with the box-drawing guide in front of it (`│   └── `), one version a row, depth first."""
    return [(guide, node) for node, guide in walk(roots)]


def tree_dict(roots: list[Node]) -> list[dict[str, Any]]:
    def one(node: Node) -> dict[str, Any]:
        run = node.run
        return {
            "version": node.version,
            "found": run is not None,
            "status": run.status if run else None,
            "source": run.where if run else None,
            "note": node.note,
            "children": [one(c) for c in node.children],
        }

    return [one(root) for root in roots]

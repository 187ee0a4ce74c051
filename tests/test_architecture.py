"""The layout docs/ARCHITECTURE.md describes, checked: no import cycles, and each layer imports only below it."""

import ast
from pathlib import Path

from tests.tiny import ROOT

HARNESS = ROOT / "harness"
# A layer may import itself and the layers listed for it; nothing else in harness/.
ALLOWED = {
    "errors": set(),
    "runlog": {"errors"},
    "versions": {"errors", "runlog"},
    "train": {"errors", "runlog", "versions", "train"},
    "compare": {"errors", "runlog", "versions", "compare"},
    "rerun": {"errors", "runlog", "versions", "train", "compare", "rerun"},
    "cli": {"errors", "runlog", "versions", "train", "compare", "rerun", "cli"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, top_level_only: bool) -> set[str]:
    """harness modules imported by `path`; with top_level_only, not those deferred inside functions."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else ast.walk(tree)
    found = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("harness"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("harness"))
    return found


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in HARNESS.rglob("*.py")}
    return {name: {m for m in _imports(path, top_level_only) if m in modules and m != name}
            for name, path in modules.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "harness"


def test_no_import_cycle_among_harness_modules():
    graph = _graph(top_level_only=True)
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_each_layer_imports_only_the_layers_below_it():
    wrong = []
    for module, targets in _graph(top_level_only=False).items():
        layer = _layer(module)
        if layer not in ALLOWED:
            continue
        for target in targets:
            if _layer(target) not in ALLOWED[layer] | {"harness", "markup"} and _layer(target) != layer:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))

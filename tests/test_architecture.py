"""The package layout is the architecture: layers import downwards only, and no module circles.

Layers, lowest first (DESIGN.md §9): model; data and scenario (the world and the scenario
language, both on the model); engine; policy (how instruments act on the engine); metrics; store;
runs; report and web; cli. Imports made only for type checking count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Which rareflow packages each package may import (besides itself and ``version``).
ALLOWED: dict[str, set[str]] = {
    "version": set(),
    "model": set(),
    "data": {"model"},
    "scenario": {"model"},
    "engine": {"model"},
    "policy": {"model", "scenario", "engine"},
    "metrics": {"model"},
    "store": {"model"},
    "runs": {"model", "data", "scenario", "engine", "policy", "metrics", "store"},
    "report": {"model", "data", "scenario", "metrics", "store", "runs"},
    "web": {"model", "data", "scenario", "metrics", "store", "runs", "report"},
    "cli": {"model", "data", "scenario", "engine", "metrics", "store", "runs", "report", "web"},
    "testing": {"model", "metrics"},
    "__init__": {"data"},
    "__main__": {"cli"},
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in (SRC / "rareflow").rglob("*.py")}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The rareflow modules ``path`` imports (``from pkg import submodule`` names the submodule)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            if module not in known:
                continue
            submodules = {f"{module}.{alias.name}" for alias in node.names} & known
            imports_names = len(submodules) < len(node.names)
            found |= submodules | ({module} if imports_names else set())
    found.discard(name)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_package_has_a_declared_layer() -> None:
    assert {_layer(module) for module in _graph()} <= set(ALLOWED)


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layers_import_only_downwards(layer: str) -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, targets in _graph().items() if _layer(module) == layer
        for target in targets
        if _layer(target) not in ALLOWED[layer] | {layer, "version"}
    )
    assert not wrong, "\n".join(wrong)


def test_no_module_import_circles() -> None:
    graph = _graph()
    circles = _strongly_connected(graph)
    assert not circles, "import circles:\n" + "\n".join(" -> ".join(c) for c in circles)


def test_only_face_main_and_version_at_the_top() -> None:
    loose = sorted(path.name for path in (SRC / "rareflow").glob("*.py"))
    assert loose == ["__init__.py", "__main__.py", "version.py"]


def _strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Components of more than one module (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    circles.append(sorted(component))
    return circles

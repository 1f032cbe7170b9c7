"""The import graph of the packages: no circle between modules, and each package
imports only those below it (ui → retrieval → ingest → core; fitting → retrieval;
nothing imports fitting). Every import counts — at module level, inside a function,
or only for type checking — since each says one module needs another."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("core", "ingest", "retrieval", "ui", "fitting")
#: What each package may not import.
FORBIDDEN = {
    "core": {"ingest", "retrieval", "ui", "fitting"},
    "ingest": {"retrieval", "ui", "fitting"},
    "retrieval": {"ui", "fitting"},
    "ui": {"fitting"},
    "fitting": set(),
}


def _modules() -> dict[str, Path]:
    out = {}
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def _target(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours an imported name lives in (the longest prefix that is one)."""
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def import_graph() -> dict[str, set[str]]:
    """Module → the modules of ours it imports (anywhere in its source)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for mod, path in modules.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        deps = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                # "from retrieval import search" imports the module retrieval.search;
                # "from retrieval.answer import Hit" the module retrieval.answer.
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                         for a in node.names]
            else:
                continue
            for name in names:
                target = _target(name, modules)
                if target and target != mod:
                    deps.add(target)
        graph[mod] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def layer_breaches(graph: dict[str, set[str]]) -> list[str]:
    """'a → b' for each import of a package it may not import."""
    return sorted(f"{a} → {b}" for a, deps in graph.items() for b in deps
                  if b.split(".")[0] in FORBIDDEN[a.split(".")[0]])


def test_no_import_circle():
    assert cycles(import_graph()) == []


def test_packages_import_only_those_below():
    assert layer_breaches(import_graph()) == []


if __name__ == "__main__":
    g = import_graph()
    print("cycles:", cycles(g) or "none")
    print("layer breaches:", layer_breaches(g) or "none")

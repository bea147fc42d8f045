"""The synth family's import graph (architecture review §1.3a, issue 11 item 4).

Read with :mod:`ast` (every import, also the lazy ones inside functions):

- no import circle among the modules of ``utvardering.synth``;
- no private name (``_x``) imported from another module by a synth module;
- the robustness code (placebos, leave-one-out, conformal) never imports an estimator;
- ``utvardering.inference`` never imports a family (here: synth).
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "utvardering"
SYNTH = SRC / "synth"


def _imports(path: Path, package: str) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) for every ``from ... import`` in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    parts = package.split(".")
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [a.name for a in node.names]
            if node.module is None:  # from . import x
                out += [(f"{module}.{n}", []) for n in names]
            else:
                out.append((module, names))
        elif isinstance(node, ast.Import):
            out += [(a.name, []) for a in node.names]
    return out


def synth_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(SYNTH.glob("*.py")):
        name = "utvardering.synth." + path.stem if path.stem != "__init__" else "utvardering.synth"
        if name == "utvardering.synth":
            continue  # the package re-exports; it is no module of the graph
        graph[name] = {m for m, _ in _imports(path, "utvardering.synth")
                       if m.startswith("utvardering.synth.")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_find_cycle_detects_a_circle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_import_circle_in_synth():
    cycle = find_cycle(synth_graph())
    assert cycle is None, " -> ".join(cycle)


def test_no_private_names_imported_across_synth_modules():
    offenders = []
    for path in sorted(SYNTH.glob("*.py")):
        for module, names in _imports(path, "utvardering.synth"):
            private = [n for n in names if n.startswith("_") and module != "__future__"]
            if private:
                offenders.append(f"{path.name}: from {module} import {', '.join(private)}")
    assert not offenders, "\n".join(offenders)


def test_robustness_never_imports_an_estimator():
    estimators = {"utvardering.synth." + m for m in
                  ("adh", "augmented", "penalized", "sdid", "bayesian")}
    path = SYNTH / "robustness.py"
    imported = {m for m, _ in _imports(path, "utvardering.synth")}
    assert not imported & estimators, sorted(imported & estimators)


def test_inference_never_imports_synth():
    for path in sorted((SRC / "inference").glob("*.py")):
        imported = {m for m, _ in _imports(path, "utvardering.inference")}
        assert not any(m.startswith("utvardering.synth") for m in imported), path.name

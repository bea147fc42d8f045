"""Docs and analyses use only the public surface (issue 11, item 3).

The public surface is what ``utvardering/__init__.py`` and the packages' ``__init__``s export
(``utvardering.did``, ``.synth``, ``.timeseries``, ``.data``, ``.design``, ``.report``,
``.inference``, ``.plotting``, ``.followup``, ``.data.sources``, ...); the modules inside a
package are implementation. Checked here:

* the analyses (``src/utvardering/analyses/*.py``, ``analyses/*.py``), the code cells of the
  docs (``{runblock}``, ``python`` fences and ``.. plot::`` bodies in ``docs/**/*.md``) and the
  docs' Python (``docs/conf.py``, ``docs/_ext``) import nothing from a module that is not a
  package (``utvardering.synth.adh``), nothing private (``utvardering._numerics``), and only
  names a package lists in its ``__all__``; attribute chains (``utv.did.twfe``) likewise;
* every name in every public package's ``__all__`` resolves, and none is hidden by a submodule
  of the same name (a lazily exported name never equals a submodule's name; an eagerly bound
  one, such as the function :func:`utvardering.design.power`, survives the import of the
  module ``utvardering.design.power``).
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
import textwrap
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "utvardering"

#: Modules (not packages) that are public by name: ``utvardering.datasets`` is exported by
#: ``utvardering`` itself; ``utvardering.cli.main`` is the documented command-line entry point.
PUBLIC_MODULES = {"utvardering.datasets", "utvardering.cli"}


def scanned_files() -> list[Path]:
    files = [*sorted((SRC / "analyses").glob("*.py")), *sorted((ROOT / "analyses").glob("*.py"))]
    for pattern in ("*.md", "*.rst", "*.py"):
        files += sorted(p for p in (ROOT / "docs").rglob(pattern)
                        if not {"_build", "_generated"} & set(p.relative_to(ROOT).parts))
    return files


# -- the code of a file: (first line number, source) per code block -----------------------------

_FENCE = re.compile(r"^(\s*)(`{3,}|:{3,})\s*(\S*)")
_CODE_FENCES = {"{runblock}", "python", "py", "pycon", "{code-cell}", "{eval-rst}"}


def _plot_bodies(lines: list[str], first: int) -> list[tuple[int, str]]:
    """The bodies of the ``.. plot::`` directives in an ``{eval-rst}`` block."""
    out = []
    i = 0
    while i < len(lines):
        match = re.match(r"^(\s*)\.\. plot::", lines[i])
        if not match:
            i += 1
            continue
        indent = len(match.group(1))
        j = i + 1
        body = []
        while j < len(lines) and (not lines[j].strip()
                                  or len(lines[j]) - len(lines[j].lstrip()) > indent):
            body.append("" if lines[j].lstrip().startswith(":") else lines[j])
            j += 1
        out.append((first + i + 1, textwrap.dedent("\n".join(body))))
        i = j
    return out


def code_blocks(path: Path) -> list[tuple[int, str]]:
    """``(line of the block's first line, code)`` for every block of Python in ``path``."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".py":
        return [(1, text)]
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info = match.group(2), match.group(3)
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            j += 1
        body = lines[i + 1:j]
        if info == "{eval-rst}":
            blocks += _plot_bodies(body, i + 2)
        elif info in _CODE_FENCES:
            code = [line for line in body if not re.match(r"^\s*:\w[\w-]*:", line)]
            blocks.append((i + 2, textwrap.dedent("\n".join(code))))
        i = j + 1
    return blocks


# -- what a dotted name refers to -----------------------------------------------------------------


def static_all(init: Path) -> set[str] | None:
    """The literal ``__all__`` of a module or package, read without importing it."""
    for node in ast.parse(init.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                for t in node.targets):
            return set(ast.literal_eval(node.value))
    return None


def _file(dotted: str) -> tuple[str, Path | None]:
    """("package" | "module" | "missing", the file with its ``__all__``)."""
    path = SRC.parent.joinpath(*dotted.split("."))
    if (path / "__init__.py").exists():
        return "package", path / "__init__.py"
    if path.with_suffix(".py").exists():
        return "module", path.with_suffix(".py")
    return "missing", None


def surface_problem(dotted: str, names: list[str] | None = None, *,
                    attribute: bool = False) -> str | None:
    """Why ``dotted`` (``utvardering.x.y``) is not public surface, or None if it is.

    ``dotted`` is the module of an import (``names`` are the names imported from it), or, with
    ``attribute=True``, an attribute chain such as ``utvardering.did.twfe``, where a name a
    package exports wins over its submodule of the same name.
    """
    parts = dotted.split(".")
    for i in range(1, len(parts)):
        parent, prefix, part = ".".join(parts[:i]), ".".join(parts[:i + 1]), parts[i]
        if part.startswith("_") and not part.startswith("__"):
            return f"{prefix} is private"
        if attribute and part in (static_all(_file(parent)[1]) or set()):
            return None  # an exported name (a function, a class or a public module)
        kind, _ = _file(prefix)
        if kind == "module":
            if prefix in PUBLIC_MODULES:
                continue
            return f"{prefix} is a module, not a package's public surface"
        if kind == "missing":
            return f"{part!r} is not in {parent}.__all__"
    if names:
        exported = static_all(_file(dotted)[1])
        hidden = [n for n in names if (n not in exported if exported is not None
                                       else n.startswith("_"))
                  and _file(f"{dotted}.{n}")[0] != "package"]
        if hidden:
            return f"{', '.join(hidden)} not in {dotted}.__all__"
    return None


def _chain(node: ast.AST) -> list[str] | None:
    out = []
    while isinstance(node, ast.Attribute):
        out.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(out)]
    return None


def problems_in(code: str) -> list[tuple[int, str]]:
    """``(line, problem)`` for every non-public use of utvardering in ``code``."""
    try:
        tree = ast.parse(code)
    except SyntaxError:  # e.g. a console session: check the import lines one by one
        found = []
        for number, line in enumerate(code.splitlines(), 1):
            stripped = re.sub(r"^\s*(>>>|\.\.\.)\s?", "", line)
            if re.match(r"\s*(from|import)\s+utvardering\b", stripped):
                found += [(number, p) for _, p in problems_in(stripped.strip())]
        return found
    aliases = {}  # local name -> dotted module (import utvardering as utv)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "utvardering":
                    problem = surface_problem(alias.name)
                    if problem:
                        found.append((node.lineno, f"import {alias.name}: {problem}"))
                    aliases[alias.asname or "utvardering"] = alias.name if alias.asname \
                        else "utvardering"
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module \
                and node.module.split(".")[0] == "utvardering":
            names = [a.name for a in node.names]
            problem = surface_problem(node.module, names)
            if problem:
                found.append((node.lineno, f"from {node.module} import {', '.join(names)}: "
                                           f"{problem}"))
            for a in node.names:
                if _file(f"{node.module}.{a.name}")[0] != "missing":
                    aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:  # whole chains only
            chain = _chain(node)
            if chain and chain[0] in aliases:
                dotted = ".".join([aliases[chain[0]], *chain[1:]])
                problem = surface_problem(dotted, attribute=True)
                if problem:
                    found.append((node.lineno, f"{'.'.join(chain)}: {problem}"))
    return sorted(set(found))


def surface_violations(files: list[Path]) -> list[str]:
    out = []
    for path in files:
        for first, code in code_blocks(path):
            for line, problem in problems_in(code):
                shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                out.append(f"{shown}:{first + line - 1}: {problem}")
    return out


def public_packages() -> list[str]:
    """Every package of utvardering with an ``__all__`` and no private part in its name."""
    out = []
    for init in sorted(SRC.rglob("__init__.py")):
        parts = init.parent.relative_to(SRC.parent).parts
        if not any(p.startswith("_") for p in parts) and static_all(init) is not None:
            out.append(".".join(parts))
    return out


# -- the tests ------------------------------------------------------------------------------------


def test_docs_and_analyses_import_only_the_public_surface():
    files = scanned_files()
    assert len(files) > 20  # the docs pages, conf.py and the analyses are all found
    violations = surface_violations(files)
    assert not violations, "imports from implementation modules:\n" + "\n".join(violations)


def test_the_check_finds_implementation_imports(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(textwrap.dedent("""\
        # A page

        ```{runblock}
        import utvardering as utv
        from utvardering import Study
        from utvardering.synth.adh import synthetic_control
        from utvardering.report import (
            bottom_line,
            grade,
        )
        print(utv.did.twfe, utv.synth.adh.fit_unit, utv.datasets.load_mpdta)
        ```

        ```{eval-rst}
        .. autofunction:: utvardering.synth.adh.synthetic_control
        .. plot::
           :include-source: false

           from utvardering.did.poisson import poisson_did
           from utvardering.did import not_exported
        ```
        """), encoding="utf-8")
    script = tmp_path / "script.py"
    script.write_text("import utvardering._numerics.simplex\n"
                      "from utvardering.errors import DesignError\n"
                      "from utvardering.cli import main\n"
                      "from utvardering.datasets import load_mpdta, load_nothing\n",
                      encoding="utf-8")
    found = surface_violations([page, script])
    assert [v.split(": ")[0] for v in found] == [
        "page.md:6", "page.md:11", "page.md:19", "page.md:20",  # not the autofunction line
        "script.py:1", "script.py:2", "script.py:4"]  # utvardering.cli.main is public
    assert "utvardering.synth.adh is a module" in found[0]
    assert "not_exported not in utvardering.did.__all__" in found[3]
    assert "utvardering._numerics is private" in found[4]
    assert "load_nothing not in utvardering.datasets.__all__" in found[6]


def test_every_exported_name_resolves_and_is_not_hidden_by_a_submodule():
    for package in public_packages():
        module = importlib.import_module(package)
        submodules = {m.name for m in pkgutil.iter_modules(module.__path__)}
        lazy = set(getattr(module, "_LAZY", {}))
        shadowed = lazy & submodules
        if package == "utvardering":  # the packages `datasets` and `did` are exported as such
            shadowed -= {"datasets", "did"}
        assert not shadowed, f"{package}: lazily exported names equal submodules: {shadowed}"
        for name in module.__all__:
            value = getattr(module, name)
            assert value is not None, f"{package}.{name}"
            if name in submodules:  # e.g. design.power: the function, also after the module loads
                importlib.import_module(f"{package}.{name}")
                again = getattr(module, name)
                is_module = isinstance(again, types.ModuleType)
                assert is_module == (package == "utvardering" and name in {"datasets", "did"}), \
                    f"{package}.{name} is hidden by the submodule of the same name"


def test_public_packages_cover_the_families():
    assert {"utvardering", "utvardering.did", "utvardering.synth", "utvardering.timeseries",
            "utvardering.data", "utvardering.design", "utvardering.report",
            "utvardering.inference", "utvardering.plotting",
            "utvardering.followup"} <= set(public_packages())


def test_design_power_is_the_function_not_the_module():
    import utvardering
    import utvardering.design
    import utvardering.design.power  # the module of the same name, imported explicitly
    from utvardering.design import power

    assert isinstance(power, types.FunctionType)
    assert utvardering.design.power is power is utvardering.power

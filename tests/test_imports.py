"""No import cycles inside the mllint package.

The graph is built statically: every `mllint/**/*.py` is parsed with `ast`, nothing is imported.

What counts as an import of module B by module A:

- `import B`, `import B as x`, `from B import name`, and the relative forms (`from . import x`,
  `from ..x import y`), wherever they stand: at the top of the file, inside a function (a lazy import
  still runs, just later) or inside `try`;
- `from P import x` where `P.x` is a module of the package imports `P.x`; otherwise it imports `P`;
- a package is its `__init__.py`: `import mllint.checks` imports the module `mllint.checks`;
- importing `P.x` also runs the packages above it, so they count too, except the packages that
  enclose the importing module itself (they are already being imported when it runs);
- `importlib.import_module("mllint.x")` counts when the name is a literal; a computed name
  (`f"mllint.report.{fmt}_report"`, the registry loading a rule family) is not seen: which module it
  loads is only known at run time.

What does not count: imports under `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`). They never run,
so they cannot make an import cycle; with `from __future__ import annotations` they are how a module
names a type from a module that imports it.

Cycles are found as strongly connected components (Tarjan). For every import that lies on a cycle,
the report shows the shortest cycle that import closes, so each cycle-forming import appears at
least once, with the file and line of every edge.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from itertools import pairwise
from pathlib import Path

import pytest

PACKAGE = "mllint"
PACKAGE_DIR = Path(__file__).resolve().parent.parent / PACKAGE

Edges = dict[str, dict[str, list[str]]]  # importer -> imported -> ["path:line", ...]


def module_names(package_dir: Path, package: str) -> dict[str, Path]:
    """Module name -> file, for every .py file under the package directory."""
    modules: dict[str, Path] = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = [package, *path.relative_to(package_dir).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _executed_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node of the tree except the bodies of `if TYPE_CHECKING:` (their `else:` runs)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _dynamic_targets(call: ast.Call, modules: Mapping[str, Path]) -> list[str]:
    """The module an `import_module("...")` call loads, when its name is a literal."""
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name != "import_module" or not call.args:
        return []
    arg = call.args[0]
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return [arg.value] if arg.value in modules else []
    return []


def _base(importer: str, is_package: bool, level: int, name: str | None) -> str | None:
    """The absolute module a `from` import names (`from ..x import y` in a.b.c is a.x)."""
    if level == 0:
        return name
    parts = importer.split(".") if is_package else importer.split(".")[:-1]
    if level - 1 > len(parts) - 1:
        return None
    parts = parts[: len(parts) - (level - 1)]
    return ".".join(parts + ([name] if name else []))


def import_graph(package_dir: Path = PACKAGE_DIR, package: str = PACKAGE) -> Edges:
    """importer -> imported -> where, for the imports between modules of the package."""
    modules = module_names(package_dir, package)
    root = package_dir.parent
    edges: Edges = {m: {} for m in modules}
    for importer, path in modules.items():
        is_package = path.name == "__init__.py"
        enclosing = {importer.rsplit(".", depth)[0] for depth in range(1, importer.count(".") + 1)}
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in _executed_nodes(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom, ast.Call)):
                continue
            where = f"{path.relative_to(root).as_posix()}:{node.lineno}"
            for target in _targets(node, importer, is_package, modules):
                parts = target.split(".")
                for depth in range(len(parts), 0, -1):
                    imported = ".".join(parts[:depth])
                    implicit = depth < len(parts)
                    if imported not in modules or (implicit and imported in enclosing) or imported == importer:
                        continue
                    places = edges[importer].setdefault(imported, [])
                    if where not in places:
                        places.append(where)
    for targets in edges.values():
        for places in targets.values():
            places.sort(key=lambda place: int(place.rsplit(":", 1)[1]))
    return edges


def _targets(
    node: ast.Import | ast.ImportFrom | ast.Call, importer: str, is_package: bool, modules: Mapping[str, Path]
) -> list[str]:
    """The modules one import statement or `import_module` call names, absolute."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        base = _base(importer, is_package, node.level, node.module)
        if base is None:
            return []
        return [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
    return _dynamic_targets(node, modules)


def strongly_connected(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, each sorted, in a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for succ in sorted(graph.get(node, ())):
            if succ not in index:
                visit(succ)
                low[node] = min(low[node], low[succ])
            elif succ in on_stack:
                low[node] = min(low[node], index[succ])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(components)


def _shortest_path(graph: Mapping[str, Iterable[str]], start: str, goal: str, within: set[str]) -> list[str]:
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        if node == goal:
            path: list[str] = []
            step: str | None = node
            while step is not None:
                path.append(step)
                step = previous[step]
            return path[::-1]
        for succ in sorted(graph.get(node, ())):
            if succ in within and succ not in previous:
                previous[succ] = node
                queue.append(succ)
    raise AssertionError(f"{goal} is not reachable from {start} inside its component")  # pragma: no cover


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """For each edge on a cycle, the shortest cycle through it, as [a, b, ..., a]; each cycle once,
    rotated to start at its smallest module."""
    found: dict[tuple[str, ...], list[str]] = {}
    for component in strongly_connected(graph):
        members = set(component)
        for node in component:
            for succ in sorted(graph.get(node, ())):
                if succ not in members:
                    continue
                loop = [node] if succ == node else [node, *_shortest_path(graph, succ, node, members)[:-1]]
                first = loop.index(min(loop))
                loop = loop[first:] + loop[:first]
                found.setdefault(tuple(loop), [*loop, loop[0]])
    return [found[key] for key in sorted(found)]


def describe(loop: list[str], edges: Edges) -> str:
    lines = [" -> ".join(loop)]
    for a, b in pairwise(loop):
        lines.append(f"    {a} -> {b}  at {', '.join(edges[a][b])}")
    return "\n".join(lines)


# --- the cycle finder on synthetic graphs


def test_no_cycle_in_a_dag() -> None:
    graph = {"a": ["b", "c"], "b": ["c"], "c": []}
    assert cycles(graph) == []
    assert strongly_connected(graph) == [["a"], ["b"], ["c"]]


def test_cycles_are_found_and_reported() -> None:
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": ["e"], "e": ["d"], "f": ["a"], "g": ["g"]}
    assert strongly_connected(graph) == [["a", "b", "c"], ["d", "e"], ["f"], ["g"]]
    assert cycles(graph) == [["a", "b", "c", "a"], ["d", "e", "d"], ["g", "g"]]
    edges: Edges = {"a": {"b": ["a.py:1"]}, "b": {"a": ["b.py:2", "b.py:9"]}}
    assert describe(["a", "b", "a"], edges) == "a -> b -> a\n    a -> b  at a.py:1\n    b -> a  at b.py:2, b.py:9"


def test_every_cycle_forming_import_is_shown() -> None:
    # two cycles share a: a -> b -> a and a -> c -> a; both are reported, not only the component
    graph = {"a": ["b", "c"], "b": ["a"], "c": ["a"]}
    assert cycles(graph) == [["a", "b", "a"], ["a", "c", "a"]]


def test_the_graph_builder_reads_every_kind_of_import(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    files = {
        "__init__.py": "",
        "a.py": "import pkg.b\nfrom pkg.sub import c\n",
        "b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\nelse:\n    import os\n",
        "d.py": "def f():\n    from . import a\n    return a\n",
        "e.py": "import typing\nif typing.TYPE_CHECKING:\n    import pkg.a\nfrom .sub.c import name\n",
        "f.py": "import importlib\n"
        "def g(x):\n    importlib.import_module(f'pkg.{x}')\n    return importlib.import_module('pkg.sub.c')\n",
        "g.py": "import pkg.h\n",
        "h.py": "def f():\n    import pkg.g\n",
        "sub/__init__.py": "from .c import name\n",
        "sub/c.py": "from .. import b\nname = 1\n",
    }
    for name, text in files.items():
        (pkg / name).write_text(text, encoding="utf-8")
    graph = import_graph(pkg, "pkg")
    assert {k: sorted(v) for k, v in graph.items()} == {
        "pkg": [],
        "pkg.a": ["pkg.b", "pkg.sub", "pkg.sub.c"],  # the package pkg.sub runs before its module c
        "pkg.b": [],  # TYPE_CHECKING only
        "pkg.d": ["pkg.a"],  # a lazy import counts
        "pkg.e": ["pkg.sub", "pkg.sub.c"],
        "pkg.f": ["pkg.sub", "pkg.sub.c"],  # a literal name counts, a computed one is not seen
        "pkg.g": ["pkg.h"],
        "pkg.h": ["pkg.g"],
        "pkg.sub": ["pkg.sub.c"],
        "pkg.sub.c": ["pkg.b"],
    }
    assert graph["pkg.a"]["pkg.sub.c"] == ["pkg/a.py:2"]
    found = cycles(graph)
    assert found == [["pkg.g", "pkg.h", "pkg.g"]]
    assert describe(found[0], graph).splitlines() == [
        "pkg.g -> pkg.h -> pkg.g",
        "    pkg.g -> pkg.h  at pkg/g.py:1",
        "    pkg.h -> pkg.g  at pkg/h.py:2",
    ]


# --- the package itself


def test_mllint_has_no_import_cycles() -> None:
    edges = import_graph()
    assert "mllint.cli" in edges["mllint.__main__"]  # the graph is read at all
    found = cycles(edges)
    if found:
        pytest.fail(f"{len(found)} import cycle(s) in {PACKAGE}:\n" + "\n".join(describe(c, edges) for c in found))

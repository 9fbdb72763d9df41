"""The import map of the core, read from the source (never by importing it):
no import cycle, no import against DESIGN.md's layer order, nothing in the core
imports the public ``api`` (or ``api_sql``), and drivers/ and plugins/ import only
``modelmig_core.api`` and ``modelmig_core.api_sql`` (the public SQL-text and tool
helpers of SQL drivers).

The graph is built from the AST of every module of ``modelmig_core``: every
``import``/``from ... import`` wherever it is written (module level, inside a
function or a method), relative imports resolved (``from . import x`` is an
import of the submodule ``x`` when there is one), and ``importlib.import_module``
called with a literal name. Imports under ``if TYPE_CHECKING:`` are left out:
they run only for the type checker (annotations are strings under ``from
__future__ import annotations``), never when the code runs. Importing a
submodule also runs its packages' ``__init__``: those edges are counted too,
except the root package's (``modelmig_core/__init__.py`` re-exports the model
DSL; every module is under it).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "modelmig_core"

#: DESIGN.md's layers, top to bottom: a module imports only modules of its own
#: tier or of the tiers below it, and the layers of one tier never import each
#: other both ways (checked as: the graph of layers has no cycle).
TIERS: list[tuple[str, ...]] = [
    ("cli",),
    ("commands", "conformance"),
    ("run", "live"),
    ("history", "sql", "registry", "config", "targets"),
    ("model", "schema"),
    ("vocabulary", "hookspecs"),
    ("errors",),
]

#: The public modules: they re-export from any layer and are no layer; nothing in
#: the core imports them, and they are all that drivers and plugins may import.
PUBLIC = ("api", "api_sql")

#: Every module of the core, in the layer it belongs to (the packages of
#: DESIGN.md's Layout that today's flat modules will move into). A new module
#: must be placed here. The ``PUBLIC`` modules are no layer.
LAYER: dict[str, str] = {
    # cli: parse options, render
    "__main__": "cli",
    "cli": "cli",
    "output": "cli",
    # commands: every command once, as the Python API
    "commands": "commands",
    "app": "commands",
    "make": "commands",
    "init": "commands",
    "jobs": "commands",
    # conformance: the kit every driver passes (it drives the installed command)
    "conformance": "conformance",
    "conformance.compare": "conformance",
    "conformance.fixtures": "conformance",
    "conformance.oracle": "conformance",
    "conformance.scenarios": "conformance",
    "conformance.workspace": "conformance",
    # run: runner, ledger protocol, guard, backups, the core's apply hooks
    "run.runner": "run",
    "run.ledger": "run",
    "run.guard": "run",
    "run.backup": "run",
    "run.builtin": "run",
    "run.report": "run",
    "run.moved": "run",
    "run.fleet": "run",
    "run.resolve": "run",
    "run.shared": "run",
    "run.lint": "run",
    "run.planned": "run",
    # live: the live database as an input
    "live.drift": "live",
    "live.modelgen": "live",
    "live.baseline": "live",
    # history: migration files, replay, the replay cache, the source writer, the
    # project's models as the states the next migration is made from
    "history.migrations": "history",
    "history.replay": "history",
    "history.statecache": "history",
    "history.nochange": "history",
    "history.imported": "history",
    "history.source": "history",
    "history.sqlcontrol": "history",
    "history.project": "history",
    # sql: the SqlDriver base, the renderer, reflection; what an operation drops
    # and the checks that a narrowed column's rows fit (performed by the session)
    "sql": "sql",
    "sql.driver": "sql",
    "sql.render": "sql",
    "sql.reflect": "sql",
    "sql.views": "sql",
    "sql.tools": "sql",
    "sql.dataloss": "sql",
    "sql.plancache": "sql",
    # registry: drivers and plugins found by name, and the driver contract they meet
    "registry": "registry",
    "entry_index": "registry",
    "driver": "registry",
    "config": "config",
    "targets": "targets",
    # model: the DSL, its compilation into state, the families that do it
    "__init__": "model",
    "model.dsl": "model",
    "model.compile": "model",
    "model.kinds": "model",
    "model.index_keys": "model",
    "model.family": "model",
    "model.relational": "model",
    # schema: state values, operations, the diff, the comparison of two states
    "schema.state": "schema",
    "schema.diff": "schema",
    "schema.diff.checks": "schema",
    "schema.diff.views": "schema",
    "schema.diff.columns": "schema",
    "schema.diff.context": "schema",
    "schema.diff.foreign_keys": "schema",
    "schema.diff.indexes": "schema",
    "schema.diff.members": "schema",
    "schema.diff.ordering": "schema",
    "schema.diff.tables": "schema",
    "schema.diff.uniques": "schema",
    "schema.differences": "schema",
    "schema.operations": "schema",
    "schema.operations.base": "schema",
    "schema.operations.columns": "schema",
    "schema.operations.partitions": "schema",
    "schema.operations.checks": "schema",
    "schema.operations.foreign_keys": "schema",
    "schema.operations.indexes": "schema",
    "schema.operations.members": "schema",
    "schema.operations.raw": "schema",
    "schema.operations.tables": "schema",
    "schema.operations.views": "schema",
    "schema.operations.uniques": "schema",
    "schema.sqltext": "schema",
    "schema.partitions": "schema",
    "schema.transpile": "schema",
    "schema.views": "schema",
    # vocabulary: column types (the registries of item 1 land here), names
    "vocabulary.column_types": "vocabulary",
    "vocabulary.kinds": "vocabulary",
    "vocabulary.naming": "vocabulary",
    "hookspecs": "hookspecs",
    "errors": "errors",
    "redaction": "errors",
    # the packages of DESIGN.md's Layout, and the public facade migration files import
    "model": "model",
    "vocabulary": "vocabulary",
    "schema": "schema",
    "history": "history",
    "run": "run",
    "live": "live",
    "operations": "schema",
}

TIER = {layer: n for n, layers in enumerate(reversed(TIERS)) for layer in layers}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, dotted under the package ("sql.driver"; "__init__" for the root)
    target: str  # the imported module of the package (nearest module when a name inside one is imported)
    line: int
    path: Path

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: {self.source} imports {self.target}"


def _modules(package: Path) -> dict[str, Path]:
    """{dotted name under the package: file}; the root package's own is ``__init__``."""
    out: dict[str, Path] = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_nodes(tree: ast.AST) -> Iterable[ast.AST]:
    """Every node except those only the type checker runs (``if TYPE_CHECKING:`` bodies)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def imports_of(package: Path, name: str = "") -> list[Import]:
    """The runtime imports between the modules of ``package`` (import name ``name``,
    by default the folder's)."""
    name = name or package.name
    modules = _modules(package)

    def nearest(dotted: str) -> str | None:
        """The module of the package that ``dotted`` (absolute) is, or is inside."""
        if dotted != name and not dotted.startswith(name + "."):
            return None
        rel = dotted[len(name) + 1 :]
        while rel and rel not in modules:
            rel = rel.rpartition(".")[0]
        return rel or "__init__"

    inert = {
        module
        for module, path in modules.items()
        if path.name == "__init__.py"
        and not any(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.walk(ast.parse(path.read_text())))
    }
    out: list[Import] = []
    for source, path in modules.items():
        is_package = path.name == "__init__.py"
        here = [name, *([] if source == "__init__" else source.split("."))]
        if not is_package:
            here = here[:-1]  # the package a plain module sits in
        targets: list[tuple[str, int]] = []
        for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets += [(a.name, node.lineno) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                module = ".".join(base + ([node.module] if node.module else []))
                for alias in node.names:
                    sub = f"{module}.{alias.name}"
                    # ``from . import x``: the submodule x when there is one, else a name of the package
                    targets.append((sub if nearest(sub) == sub[len(name) + 1 :] else module, node.lineno))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "import_module"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                literal = node.args[0].value
                if literal.startswith("."):
                    level = len(literal) - len(literal.lstrip("."))
                    literal = ".".join([*here[: len(here) - level + 1], literal.lstrip(".")]).rstrip(".")
                targets.append((literal, node.lineno))
        own = {".".join(here[1 : i + 1]) for i in range(len(here))} | {source}
        for dotted, line in targets:
            target = nearest(dotted)
            if target is None:
                continue
            # importing a.b.c runs a/__init__ and a/b/__init__ first (the root package's
            # aside, and those that import nothing: running them loads no other module)
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                step = ".".join(parts[:i])
                if step in modules and step not in own and step != "__init__" and (step == target or step not in inert):
                    out.append(Import(source, step, line, path))
            if target == "__init__" and source != "__init__":
                out.append(Import(source, target, line, path))
    return sorted(set(out), key=lambda i: (i.source, i.line, i.target))


def cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The strongly connected components of more than one node (or a node that
    imports itself), each as a sorted list: every import cycle is inside one."""
    graph: dict[str, set[str]] = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graphs here are small
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1 or v in graph[v]:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _cycle_report(components: list[list[str]], imports: list[Import]) -> str:
    lines = []
    for component in components:
        inside = set(component)
        lines.append("cycle through " + ", ".join(component) + ":")
        lines += [f"  {i}" for i in imports if i.source in inside and i.target in inside]
    return "\n".join(lines)


CORE_IMPORTS = imports_of(CORE)


# ---------------------------------------------------------------- the core


def test_every_module_of_the_core_has_one_layer() -> None:
    modules = set(_modules(CORE)) - set(PUBLIC)
    assert sorted(modules - set(LAYER)) == [], "place each new module in LAYER"
    assert sorted(set(LAYER) - modules) == [], "LAYER names modules that do not exist"
    assert set(LAYER.values()) == set(TIER)


def test_the_core_has_no_import_cycle() -> None:
    components = cycles((i.source, i.target) for i in CORE_IMPORTS)
    assert components == [], _cycle_report(components, CORE_IMPORTS)


def test_no_module_imports_against_the_layer_order() -> None:
    upward = [
        f"{i} ({LAYER[i.source]} may not import {LAYER[i.target]})"
        for i in CORE_IMPORTS
        if i.source not in PUBLIC and i.target not in PUBLIC and TIER[LAYER[i.source]] < TIER[LAYER[i.target]]
    ]
    assert upward == [], "\n".join(upward)


def test_the_layers_of_one_tier_import_one_way() -> None:
    between = [
        (LAYER[i.source], LAYER[i.target])
        for i in CORE_IMPORTS
        if i.source not in PUBLIC and i.target not in PUBLIC and LAYER[i.source] != LAYER[i.target]
    ]
    components = cycles(between)
    assert components == [], "\n".join(
        f"layers {', '.join(c)} import each other:\n"
        + "\n".join(
            f"  {i}"
            for i in CORE_IMPORTS
            if i.source not in PUBLIC
            and i.target not in PUBLIC
            and LAYER[i.source] != LAYER[i.target]
            and {LAYER[i.source], LAYER[i.target]} <= set(c)
        )
        for c in components
    )


def test_nothing_in_the_core_imports_the_api() -> None:
    assert [str(i) for i in CORE_IMPORTS if i.target in PUBLIC] == []


# ---------------------------------------------------------------- drivers and plugins


#: what each folder may import of the core: the SQL drivers the public api and its
#: public SQL-text helpers; a plugin (the DuckDB driver is written as a third party
#: would) the api alone
ALLOWED = {
    "drivers": {f"modelmig_core.{name}" for name in PUBLIC},
    "plugins": {"modelmig_core.api"},
}


def _outside_imports(folder: Path) -> list[str]:
    """Each import of ``modelmig_core`` other than what ``ALLOWED`` gives ``folder``."""
    allowed = ALLOWED[folder.name]
    bad = []
    for path in sorted(folder.rglob("*.py")):
        if any(part.startswith(".") or part in {"build", "tests"} for part in path.relative_to(folder).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = (
                    [node.module] if node.module != "modelmig_core" else [f"modelmig_core.{a.name}" for a in node.names]
                )
            for imported in names:
                if imported.split(".")[0] == "modelmig_core" and imported not in allowed:
                    bad.append(f"{path.relative_to(folder.parent)}:{node.lineno}: imports {imported}")
    return bad


@pytest.mark.parametrize("folder", ["drivers", "plugins"])
def test_drivers_and_plugins_import_only_the_api(folder: str) -> None:
    assert (ROOT / folder).is_dir()
    assert _outside_imports(ROOT / folder) == []


# ---------------------------------------------------------------- the map itself


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    root = tmp_path / "pkg"
    for name, text in {"__init__.py": "", **files}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    return root


def test_the_map_reads_function_level_relative_and_dynamic_imports(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "a.py": "def f():\n    from . import b\n",
            "b.py": "class C:\n    def m(self):\n        from .sub.c import x\n",
            "sub/__init__.py": "import os\n",
            "inert/__init__.py": '"""imports nothing"""\n',
            "inert/f.py": "",
            "g.py": "from .inert.f import x\n",
            "sub/c.py": "import importlib\nx = 1\ndef g():\n    importlib.import_module('pkg.a')\n",
            "d.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\nelse:\n    from .sub import c\n",
            "e.py": "from .a import f\nimport os\n",
        },
    )
    edges = sorted((i.source, i.target) for i in imports_of(root))
    assert edges == [
        ("a", "b"),
        ("b", "sub"),
        ("b", "sub.c"),
        ("d", "sub"),
        ("d", "sub.c"),
        ("e", "a"),
        ("g", "inert.f"),
        ("sub.c", "a"),
    ]
    assert cycles(edges) == [["a", "b", "sub.c"]]


def test_the_map_finds_a_driver_importing_a_private_module(tmp_path: Path) -> None:
    (tmp_path / "drivers").mkdir()
    (tmp_path / "drivers" / "ok.py").write_text(
        "from modelmig_core.api import Driver\nfrom modelmig_core import api, api_sql\n"
        "from modelmig_core.api_sql import normalize_sql\n"
    )
    (tmp_path / "drivers" / "bad.py").write_text(
        "def f():\n    from modelmig_core.state import State\n    from modelmig_core import runner\n"
    )
    found = [line.split(": ", 1)[1] for line in _outside_imports(tmp_path / "drivers")]
    assert sorted(found) == ["imports modelmig_core.runner", "imports modelmig_core.state"]
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "p.py").write_text(
        "from modelmig_core.api import hookimpl\nfrom modelmig_core import api_sql\n"
    )
    assert [line.split(": ", 1)[1] for line in _outside_imports(tmp_path / "plugins")] == [
        "imports modelmig_core.api_sql"
    ]

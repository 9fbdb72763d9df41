"""Migration files: listing (names and checksums only), loading, writing.

The default chain of a family lives in ``<migrations>/<family>/`` (``sql``,
``document``); a chain declared in ``[chains.<name>]`` in its own folder
(``<migrations>/<name>/``, or its ``folder``), its files of its family. One
module per migration named ``<14-digit timestamp>_<name>.py``. Listing a
chain reads file names and bytes (for checksums) and imports nothing. What is a
migration is decided by that name alone: any other file in the folder (a helper
module, ``__init__.py``, notes, ``.DS_Store``) is no migration and blocks nothing
(``stray_files`` names them for a warning).

A migration's checksum covers its own bytes, and that is all it can depend on:
loading refuses a migration file that imports from the migrations folder (or
relatively), imports dynamically, changes ``sys.path`` or reads ``__file__``
(``local_dependencies``), naming the file, the line and the import. And a
transactional migration (``atomic = True``) whose raw SQL controls the
transaction (``COMMIT``...) is refused when loaded (``sqlcontrol.py``).
"""

from __future__ import annotations

import ast
import dis
import hashlib
import re
import sys
import threading
import types
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Chain
from ..errors import MigrationFileError

if TYPE_CHECKING:
    from ..schema.operations import Operation

FILE_RE = re.compile(r"^(\d{14})_([a-z0-9_]+)\.py$")


@dataclass(frozen=True)
class MigrationFile:
    id: str
    path: Path
    family: str

    @cached_property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


@dataclass
class Migration:
    id: str
    family: str
    parent: str | None
    up: list[Operation]
    down: list[Operation]
    path: Path
    checksum: str
    atomic: bool = True
    extra: dict[str, object] = field(default_factory=dict)
    #: the lint findings this migration acknowledges: ``{rule: reason}`` (``lint_ignore``)
    lint_ignore: dict[str, str] = field(default_factory=dict)
    #: ``online = True/False`` in the file: wins over its connection's ``online``; None: not said
    online: bool | None = None

    @property
    def destructive_up(self) -> bool:
        return any(op.destructive for op in self.up)

    @property
    def destructive_down(self) -> bool:
        return any(op.destructive for op in self.down)

    def destructive_label(self, direction: str) -> str | None:
        """None when running ``direction`` drops nothing; else the migration's id, and
        for raw SQL the statement that drops (``20260101000000_x: RunSQL 'DROP TABLE items'``)."""
        ops = [op for op in (self.up if direction == "up" else self.down) if op.destructive]
        if not ops:
            return None
        detail = next((d for op in ops if (d := getattr(op, "destructive_detail", None))), None)
        return f"{self.id}: {detail}" if detail else self.id


def chain_dir(migrations: Path, family: str) -> Path:
    return migrations / family


def list_files(migrations: Path, family: str) -> list[MigrationFile]:
    """The migration files of the default chain of ``family`` (``files_of``)."""
    return files_of(Chain.default(migrations, family))


def files_of(chain: Chain) -> list[MigrationFile]:
    """The chain's migration files, in order: the files whose names look like
    ``20260101120000_create_users_table.py``; anything else is not a migration."""
    folder = chain.folder
    if not folder.is_dir():
        return []
    return [
        MigrationFile(path.stem, path, chain.family)
        for path in sorted(folder.iterdir())
        if FILE_RE.match(path.name) and path.is_file()
    ]


def stray_files(migrations: Path, family: str) -> list[Path]:
    """``strays_of`` the default chain of ``family``."""
    return strays_of(Chain.default(migrations, family))


def strays_of(chain: Chain) -> list[Path]:
    """Python files in the chain's folder that are not migrations by their name
    (``helpers.py``, ``2026_add_users.py``): ignored, and worth a warning since one
    may be a migration misnamed. ``__init__.py`` and other files are not named."""
    folder = chain.folder
    if not folder.is_dir():
        return []
    return [
        path
        for path in sorted(folder.iterdir())
        if path.suffix == ".py" and not FILE_RE.match(path.name) and not path.name.startswith(("_", "."))
    ]


#: calls that import or run code by name, out of the checksum's sight
DYNAMIC = {"import_module", "__import__", "spec_from_file_location", "SourceFileLoader", "run_path", "run_module"}
DYNAMIC_CODE = {"exec", "eval", "compile", "execfile"}


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except (OSError, ValueError):
        return False
    return True


def _module_path(name: str) -> Path | None:
    """Where module ``name`` would be found on ``sys.path`` now, without importing
    anything: the top-level package is found by ``find_spec``, the rest by walking
    its folders."""
    import importlib.machinery

    parts = name.split(".")
    try:
        spec = importlib.machinery.PathFinder.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        base = Path(next(iter(spec.submodule_search_locations)))
    elif spec.origin:
        return Path(spec.origin) if len(parts) == 1 else None
    else:
        return None
    for part in parts[1:]:
        if (base / part).is_dir():
            base = base / part
        elif (base / f"{part}.py").is_file():
            return base / f"{part}.py"
        else:
            return base / part
    return base


def _names_in(folder: Path) -> frozenset[str]:
    """The module names a folder holds (``helpers.py``, a package with its
    ``__init__.py``), read once per change of the folder."""
    try:
        stamp = folder.stat().st_mtime_ns
    except OSError:
        return frozenset()
    return _names_cached(str(folder), stamp)


@lru_cache(maxsize=64)
def _names_cached(folder: str, stamp: int) -> frozenset[str]:
    names = set()
    for p in Path(folder).iterdir():
        if p.suffix == ".py" and p.stem.isidentifier():
            names.add(p.stem)
        elif p.is_dir() and p.name.isidentifier() and (p / "__init__.py").is_file():
            names.add(p.name)  # a package; a chain's own folder is none (it holds no __init__.py)
    return frozenset(names)


def local_dependencies(path: Path, tree: ast.Module) -> list[str]:
    """What the migration file at ``path`` depends on that its checksum does not
    cover, as ``line N: import helpers`` descriptions: imports of modules in the
    migrations folder (found there, or by a name the folder holds, or relative),
    dynamic imports and code, ``sys.path`` changes and ``__file__``."""
    return _findings(path, ast.walk(tree))


def _local_check(path: Path) -> Callable[[str], bool]:
    """Whether a module name is one of the migrations folder's own (a name the
    folder or the chain's folder holds, or a module found inside the folder)."""
    chain = path.parent
    migrations = chain.parent
    local_names = _names_in(chain) | _names_in(migrations)

    def local(name: str) -> bool:
        if name.split(".")[0] in local_names:
            return True
        found = _module_path(name)
        return found is not None and _inside(found, migrations)

    return local


def _findings(path: Path, nodes: Iterable[ast.AST]) -> list[str]:
    local = _local_check(path)
    found: list[str] = []
    for node in nodes:
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.ImportFrom):
            if node.level:
                found.append(f"line {line}: a relative import (from {'.' * node.level}{node.module or ''} import ...)")
            elif node.module == "sys" and any(a.name == "path" for a in node.names):
                found.append(f"line {line}: from sys import path")
            elif node.module and (
                local(node.module) or any(local(f"{node.module}.{a.name}") for a in node.names if a.name != "*")
            ):
                found.append(f"line {line}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found += [f"line {line}: import {a.name}" for a in node.names if local(a.name)]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
            if name in DYNAMIC:
                found.append(f"line {line}: a dynamic import ({name}(...))")
            elif name in DYNAMIC_CODE and isinstance(func, ast.Name):
                found.append(f"line {line}: dynamic code ({name}(...))")
        elif isinstance(node, ast.Attribute) and node.attr == "path":
            if isinstance(node.value, ast.Name) and node.value.id == "sys":
                found.append(f"line {line}: sys.path")
        elif isinstance(node, ast.Name) and node.id in ("__file__", "__path__", "__spec__", "__loader__"):
            found.append(f"line {line}: {node.id} (files next to the migration)")
    return sorted(set(found), key=lambda d: (int(d.split(":")[0].split()[1]), d))


#: the names a node ``_findings`` reports is made of (an attribute, a called or read name)
_WATCHED = frozenset({"path", "__file__", "__path__", "__spec__", "__loader__", *DYNAMIC, *DYNAMIC_CODE})
_IMPORT_NAME, _LOAD_CONST, _EXTENDED_ARG = (dis.opmap[n] for n in ("IMPORT_NAME", "LOAD_CONST", "EXTENDED_ARG"))


def _imports(c: types.CodeType) -> list[tuple[Any, str, Any]] | None:
    """(level, module, names imported from it) of each import statement compiled in
    ``c`` (not in the code objects it holds): an ``IMPORT_NAME`` instruction after the
    two ``LOAD_CONST`` of its level and its names (wordcode: an opcode at each even
    offset, its argument after it). None when an import is not in that shape (an
    argument too big for one byte, a compiler that emits it otherwise)."""
    code = c.co_code
    out = []
    at = code.find(_IMPORT_NAME)
    while at != -1:
        if at % 2 == 0:
            if at < 4 or code[at - 4] != _LOAD_CONST or code[at - 2] != _LOAD_CONST:
                return None
            if (at >= 6 and code[at - 6] == _EXTENDED_ARG) or code[at - 2] == _EXTENDED_ARG:
                return None
            out.append((c.co_consts[code[at - 3]], c.co_names[code[at + 1]], c.co_consts[code[at - 1]]))
        at = code.find(_IMPORT_NAME, at + 1)
    return out


def _may_depend(code: types.CodeType, path: Path) -> bool:
    """Whether the compiled file at ``path`` could hold anything ``_findings``
    reports: an import that is relative or of one of the folder's own modules, or
    one of the names it looks for (every name and attribute a code object uses is in
    its ``co_names``, ``co_varnames``, ``co_cellvars`` or ``co_freevars``). The
    compiler keeps both for all the code it emits, so a file for which this is False
    has no such node but in code the compiler dropped as unreachable (``if 0:``),
    which never runs. A 200-table migration is a long list of calls: read here
    without building and walking its tree (then the tree tells what, and where)."""
    local = _local_check(path)
    stack = [code]
    while stack:
        c = stack.pop()
        if not _WATCHED.isdisjoint((*c.co_names, *c.co_varnames, *c.co_cellvars, *c.co_freevars)):
            return True
        imports = _imports(c)
        if imports is None:
            return True
        for level, module, names in imports:
            if level != 0 or not isinstance(names, (tuple, type(None))) or local(module):
                return True
            if any(local(f"{module}.{n}") for n in names or () if n != "*"):
                return True
        stack += [k for k in c.co_consts if isinstance(k, types.CodeType)]
    return False


# CPython 3.11 before 3.11.8 keeps the AST converters' recursion depth in shared
# state (gh-106905): two threads (--jobs) parsing or compiling trees at once can
# fail with "AST constructor recursion depth mismatch". One at a time.
_AST = threading.Lock()


def load(file: MigrationFile) -> Migration:
    import importlib.util

    path = file.path
    modname = f"_modelmig_migration_{path.parent.name}_{file.id}"  # the chain's folder: two chains may run at once
    outside: list[str] = []
    try:
        source = path.read_bytes()
        with _AST:  # compiled from the text: no AST objects for a 200-table list
            code = compile(source, str(path), "exec")
        if _may_depend(code, path):  # then the tree tells what, and where
            with _AST:
                tree = ast.parse(source, filename=str(path))
            outside = local_dependencies(path, tree)
    except SyntaxError as exc:
        raise MigrationFileError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except (OSError, ValueError) as exc:
        raise MigrationFileError(f"{path}: cannot be read: {exc}") from None
    if outside:
        more = f" (+{len(outside) - 1} more)" if len(outside) > 1 else ""
        raise MigrationFileError(
            f"{path}: {outside[0]}{more}: a migration may depend only on its own file (its checksum covers only "
            "that file, so a change elsewhere would go unseen): copy what it needs into the migration file"
        )
    try:
        spec = importlib.util.spec_from_file_location(modname, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        exec(code, module.__dict__)
    except SyntaxError as exc:
        raise MigrationFileError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except MigrationFileError as exc:
        raise MigrationFileError(f"{path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any error in user code is reported as one line
        raise MigrationFileError(f"{path}: cannot be loaded: {type(exc).__name__}: {exc}") from None
    finally:
        sys.modules.pop(modname, None)

    def attr(name: str, kind: type | tuple[type, ...]) -> object:
        if not hasattr(module, name):
            raise MigrationFileError(f"{path}: missing '{name}'")
        value = getattr(module, name)
        if not isinstance(value, kind):
            raise MigrationFileError(f"{path}: '{name}' has the wrong type ({type(value).__name__})")
        return value

    mid = attr("id", str)
    if mid != file.id:
        raise MigrationFileError(f"{path}: id {mid!r} does not match the file name")
    family = attr("family", str)
    if family != file.family:
        raise MigrationFileError(f"{path}: family {family!r} does not match its chain's family {file.family!r}")
    parent = getattr(module, "parent", None)
    if parent is not None and not isinstance(parent, str):
        raise MigrationFileError(f"{path}: 'parent' must be a migration id or None")
    from ..schema.operations import Operation

    ops: dict[str, list[Operation]] = {}
    for key in ("up", "down"):
        value = attr(key, (list, tuple))
        for i, item in enumerate(value):  # type: ignore[arg-type]
            if not isinstance(item, Operation):
                raise MigrationFileError(f"{path}: {key}[{i}] is not an operation ({type(item).__name__})")
        ops[key] = list(value)  # type: ignore[arg-type]
    atomic = getattr(module, "atomic", True)
    if not isinstance(atomic, bool):
        raise MigrationFileError(f"{path}: 'atomic' must be True or False")
    if atomic:
        refuse_transaction_control(path, ops)
    ignore = lint_ignore_of(path, getattr(module, "lint_ignore", {}))
    online = getattr(module, "online", None)
    if online is not None and not isinstance(online, bool):
        raise MigrationFileError(f"{path}: 'online' must be True or False, got {type(online).__name__}")
    return Migration(
        mid, family, parent, ops["up"], ops["down"], path, file.checksum, atomic, lint_ignore=ignore, online=online
    )


def lint_ignore_of(path: Path, value: object) -> dict[str, str]:
    """A migration's ``lint_ignore``: a dict of rule names to the reason each finding
    of that rule is acceptable here (``{"require-concurrent-index-creation": "the
    table is empty"}``); anything else is one error naming the file."""
    if not isinstance(value, dict):
        raise MigrationFileError(
            f"{path}: 'lint_ignore' must be a dict of rule name to reason, got {type(value).__name__}"
        )
    for rule, reason in value.items():
        if not isinstance(rule, str) or not rule.strip():
            raise MigrationFileError(f"{path}: 'lint_ignore' has a key {rule!r} that is not a rule name (a string)")
        if not isinstance(reason, str) or not reason.strip():
            raise MigrationFileError(
                f"{path}: 'lint_ignore' of rule {rule!r} must give the reason as a non-empty string, got {reason!r}"
            )
    return dict(value)


def refuse_transaction_control(path: Path, ops: dict[str, list[Operation]]) -> None:
    """A transactional migration's raw SQL must not commit, roll back or otherwise
    steer its transaction (``sqlcontrol.py``): one error naming the file, the
    operation and the statement."""
    from ..schema.operations import RunSQL

    for key, items in ops.items():
        for i, op in enumerate(items):
            if not isinstance(op, RunSQL):
                continue
            texts = [op.sql] if op.reverse_sql is None else [op.sql, op.reverse_sql]
            from .sqlcontrol import transaction_control

            found = [f for text in texts for f in transaction_control(text)]
            if found:
                raise MigrationFileError(
                    f"{path}: {key}[{i}]: RunSQL {found[0]} controls the transaction, but this migration runs in "
                    "one transaction with its ledger row (atomic = True), which that statement would commit or "
                    "end half-way: remove it, or set `atomic = False` to run the migration statement by statement"
                )


def render(
    mid: str,
    family: str,
    parent: str | None,
    up: list[Operation],
    down: list[Operation],
    operations_module: str = "modelmig_core.operations",
) -> str:
    """The source of a migration file. Same input, same bytes. An operation that
    drops data is marked by a ``# drops data: ...`` comment above it."""
    from ..sql.dataloss import marker
    from .source import Memo, import_lines, to_source

    memo: Memo = {}  # a table in up and down, a column of many tables: rendered once
    modules: set[str] = set()  # a plugin's modules, imported by the file

    def block(ops: list[Operation]) -> str:
        if not ops:
            return "[]"
        lines = [
            (f"    {marker(o)}\n" if o.destructive else "") + f"    {to_source(o, 1, memo=memo, modules=modules)},\n"
            for o in ops
        ]
        return "[\n" + "".join(lines) + "]"

    up_source, down_source = block(up), block(down)
    return (
        f'"""Migration {mid}, generated by modelmig make:migration."""\n'
        "\n"
        f"{import_line(operations_module)}\n"
        f"{import_lines(modules)}"
        "\n"
        f"id = {mid!r}\n"
        f"family = {family!r}\n"
        f"parent = {parent!r}\n"
        "atomic = True\n"
        "\n"
        f"up = {up_source}\n"
        "\n"
        f"down = {down_source}\n"
    )


def import_line(module: str) -> str:
    """``from package import module as op`` for a dotted module name."""
    package, _, name = module.rpartition(".")
    return f"from {package} import {name} as op" if package else f"import {name} as op"

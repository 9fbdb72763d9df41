"""Migration files: listing (names and checksums only), loading, writing.

The chain of a family lives in ``<migrations>/<family>/`` (``sql``, ``document``),
one module per migration named ``<14-digit timestamp>_<name>.py``. Listing a
chain reads file names and bytes (for checksums) and imports nothing.
"""

from __future__ import annotations

import hashlib
import re
import sys
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import MigrationFileError

if TYPE_CHECKING:
    from .operations import Operation

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
    folder = chain_dir(migrations, family)
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.suffix != ".py" or path.name.startswith(("_", ".")):
            continue
        if not FILE_RE.match(path.name):
            raise MigrationFileError(
                f"{path}: migration file names must look like 20260101120000_create_users_table.py"
            )
        files.append(MigrationFile(path.stem, path, family))
    return files


def load(file: MigrationFile) -> Migration:
    import importlib.util

    path = file.path
    modname = f"_modelmig_migration_{file.family}_{file.id}"
    try:
        spec = importlib.util.spec_from_file_location(modname, path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
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
        raise MigrationFileError(f"{path}: family {family!r} does not match its folder {file.family!r}")
    parent = getattr(module, "parent", None)
    if parent is not None and not isinstance(parent, str):
        raise MigrationFileError(f"{path}: 'parent' must be a migration id or None")
    from .operations import Operation

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
    return Migration(mid, family, parent, ops["up"], ops["down"], path, file.checksum, atomic)


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
    from .dataloss import marker
    from .source import Memo, to_source

    memo: Memo = {}  # a table in up and down, a column of many tables: rendered once

    def block(ops: list[Operation]) -> str:
        if not ops:
            return "[]"
        lines = [(f"    {marker(o)}\n" if o.destructive else "") + f"    {to_source(o, 1, memo=memo)},\n" for o in ops]
        return "[\n" + "".join(lines) + "]"

    return (
        f'"""Migration {mid}, generated by modelmig make:migration."""\n'
        "\n"
        f"{import_line(operations_module)}\n"
        "\n"
        f"id = {mid!r}\n"
        f"family = {family!r}\n"
        f"parent = {parent!r}\n"
        "atomic = True\n"
        "\n"
        f"up = {block(up)}\n"
        "\n"
        f"down = {block(down)}\n"
    )


def import_line(module: str) -> str:
    """``from package import module as op`` for a dotted module name."""
    package, _, name = module.rpartition(".")
    return f"from {package} import {name} as op" if package else f"import {name} as op"

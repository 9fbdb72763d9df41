"""Operations: small declarative values. Each knows how it changes the state and
what its inverse is; drivers know how to run it.

Migration files use them as ``op.CreateTable(...)`` after ``from modelmig_core
import operations as op``; state values are re-exported here for that reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from .errors import MigrationFileError
from .state import Check, Collection, CollectionIndex, Column, ForeignKey, Index, State, Table, Value

__all__ = [
    "AddCheck",
    "AddColumn",
    "AddForeignKey",
    "AddValidatorField",
    "AlterColumn",
    "AlterValidatorField",
    "Check",
    "Collection",
    "CollectionIndex",
    "Column",
    "CreateCollection",
    "CreateCollectionIndex",
    "CreateIndex",
    "CreateTable",
    "DropCheck",
    "DropCollection",
    "DropCollectionIndex",
    "DropColumn",
    "DropForeignKey",
    "DropIndex",
    "DropTable",
    "ForeignKey",
    "Index",
    "Operation",
    "RemoveValidatorField",
    "RenameCollection",
    "RenameColumn",
    "RenameTable",
    "RunPython",
    "RunSQL",
    "SetValidator",
    "Table",
]  # fmt: skip


class Operation(Value):
    """Base of all operations."""

    family: ClassVar[str] = "sql"
    destructive: ClassVar[bool] = False  # drops data when applied

    def state_forwards(self, state: State) -> State:
        raise NotImplementedError

    def inverse(self) -> Operation:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def name_hint(self) -> str:
        return self.describe().replace(" ", "_")


def _replace_named(items: tuple[Any, ...], name: str, new: Any | None) -> tuple[Any, ...]:
    out = []
    found = False
    for item in items:
        if item.name == name:
            found = True
            if new is not None:
                out.append(new)
        else:
            out.append(item)
    if not found:
        raise MigrationFileError(f"{name!r} does not exist in the migration state")
    return tuple(out)


def _has(items: tuple[Any, ...], name: str) -> bool:
    return any(i.name == name for i in items)


# ---------------------------------------------------------------- tables


@dataclass(frozen=True)
class CreateTable(Operation):
    table: Table

    def state_forwards(self, state: State) -> State:
        if self.table.name in state.tables:
            raise MigrationFileError(f"CreateTable: table {self.table.name!r} already exists")
        return state.with_table(self.table)

    def inverse(self) -> Operation:
        return DropTable(self.table)

    def describe(self) -> str:
        return f"create {self.table.name} table"


@dataclass(frozen=True)
class DropTable(Operation):
    table: Table
    destructive: ClassVar[bool] = True

    def state_forwards(self, state: State) -> State:
        state.table(self.table.name)
        return state.without_table(self.table.name)

    def inverse(self) -> Operation:
        return CreateTable(self.table)

    def describe(self) -> str:
        return f"drop {self.table.name} table"


@dataclass(frozen=True)
class RenameTable(Operation):
    old: str
    new: str

    def state_forwards(self, state: State) -> State:
        t = state.table(self.old)
        if self.new in state.tables:
            raise MigrationFileError(f"RenameTable: table {self.new!r} already exists")
        tables = {}
        for name, table in state.tables.items():
            fks = tuple(
                replace(fk, ref_table=self.new) if fk.ref_table == self.old else fk for fk in table.foreign_keys
            )
            table = replace(table, foreign_keys=fks)
            if name == self.old:
                tables[self.new] = replace(t, name=self.new, foreign_keys=fks)
            else:
                tables[name] = table
        return replace(state, tables=tables)

    def inverse(self) -> Operation:
        return RenameTable(self.new, self.old)

    def describe(self) -> str:
        return f"rename {self.old} to {self.new}"


# ---------------------------------------------------------------- columns


@dataclass(frozen=True)
class AddColumn(Operation):
    table: str
    column: Column

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        if t.column(self.column.name):
            raise MigrationFileError(f"AddColumn: {self.table}.{self.column.name} already exists")
        return state.with_table(replace(t, columns=(*t.columns, self.column)))

    def inverse(self) -> Operation:
        return DropColumn(self.table, self.column)

    def describe(self) -> str:
        return f"add {self.column.name} to {self.table}"


@dataclass(frozen=True)
class DropColumn(Operation):
    table: str
    column: Column
    destructive: ClassVar[bool] = True

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        return state.with_table(replace(t, columns=_replace_named(t.columns, self.column.name, None)))

    def inverse(self) -> Operation:
        return AddColumn(self.table, self.column)

    def describe(self) -> str:
        return f"drop {self.column.name} from {self.table}"


@dataclass(frozen=True)
class AlterColumn(Operation):
    """Change a column's type, nullability, default or comment (same name)."""

    table: str
    old: Column
    new: Column

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        return state.with_table(replace(t, columns=_replace_named(t.columns, self.old.name, self.new)))

    def inverse(self) -> Operation:
        return AlterColumn(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"alter {self.new.name} on {self.table}"

    @property
    def changes(self) -> set[str]:
        """Names of the Column fields that differ."""
        return {k for k in self.old.__dataclass_fields__ if getattr(self.old, k) != getattr(self.new, k)}


@dataclass(frozen=True)
class RenameColumn(Operation):
    table: str
    old: str
    new: str

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        col = t.column(self.old)
        if col is None:
            raise MigrationFileError(f"RenameColumn: {self.table}.{self.old} does not exist")
        if t.column(self.new):
            raise MigrationFileError(f"RenameColumn: {self.table}.{self.new} already exists")

        def ren(cols: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(self.new if c == self.old else c for c in cols)

        t = replace(
            t,
            columns=_replace_named(t.columns, self.old, replace(col, name=self.new)),
            indexes=tuple(replace(i, columns=ren(i.columns)) for i in t.indexes),
            foreign_keys=tuple(replace(f, columns=ren(f.columns)) for f in t.foreign_keys),
        )
        state = state.with_table(t)
        # foreign keys of other tables that point at the renamed column follow it
        for other in list(state.tables.values()):
            fks = tuple(
                replace(f, ref_columns=ren(f.ref_columns)) if f.ref_table == self.table else f
                for f in other.foreign_keys
            )
            if fks != other.foreign_keys:
                state = state.with_table(replace(other, foreign_keys=fks))
        return state

    def inverse(self) -> Operation:
        return RenameColumn(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"rename {self.old} to {self.new} on {self.table}"


# ---------------------------------------------------------------- indexes, constraints


def _member_ops(kind: str, attr: str) -> tuple[Any, Any]:
    """Build the Add/Drop pair for one kind of table member (index, FK, check)."""

    def add_forwards(self: Any, state: State) -> State:
        t = state.table(self.table)
        item = getattr(self, kind)
        if _has(getattr(t, attr), item.name):
            raise MigrationFileError(f"{type(self).__name__}: {item.name!r} already exists on {self.table}")
        return state.with_table(replace(t, **{attr: (*getattr(t, attr), item)}))

    def drop_forwards(self: Any, state: State) -> State:
        t = state.table(self.table)
        item = getattr(self, kind)
        return state.with_table(replace(t, **{attr: _replace_named(getattr(t, attr), item.name, None)}))

    return add_forwards, drop_forwards


_idx_add, _idx_drop = _member_ops("index", "indexes")
_fk_add, _fk_drop = _member_ops("foreign_key", "foreign_keys")
_ck_add, _ck_drop = _member_ops("check", "checks")


@dataclass(frozen=True)
class CreateIndex(Operation):
    table: str
    index: Index
    state_forwards = _idx_add  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return DropIndex(self.table, self.index)

    def describe(self) -> str:
        return f"create {self.index.name} on {self.table}"


@dataclass(frozen=True)
class DropIndex(Operation):
    table: str
    index: Index
    state_forwards = _idx_drop  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return CreateIndex(self.table, self.index)

    def describe(self) -> str:
        return f"drop {self.index.name} from {self.table}"


@dataclass(frozen=True)
class AddForeignKey(Operation):
    table: str
    foreign_key: ForeignKey
    state_forwards = _fk_add  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return DropForeignKey(self.table, self.foreign_key)

    def describe(self) -> str:
        return f"add {self.foreign_key.name} to {self.table}"


@dataclass(frozen=True)
class DropForeignKey(Operation):
    table: str
    foreign_key: ForeignKey
    state_forwards = _fk_drop  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return AddForeignKey(self.table, self.foreign_key)

    def describe(self) -> str:
        return f"drop {self.foreign_key.name} from {self.table}"


@dataclass(frozen=True)
class AddCheck(Operation):
    table: str
    check: Check
    state_forwards = _ck_add  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return DropCheck(self.table, self.check)

    def describe(self) -> str:
        return f"add {self.check.name} to {self.table}"


@dataclass(frozen=True)
class DropCheck(Operation):
    table: str
    check: Check
    state_forwards = _ck_drop  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return AddCheck(self.table, self.check)

    def describe(self) -> str:
        return f"drop {self.check.name} from {self.table}"


# ---------------------------------------------------------------- escape hatches


@dataclass(frozen=True)
class RunSQL(Operation):
    """Raw SQL, written by hand into a migration. ``reverse_sql=None`` is irreversible.

    ``destructive_sql`` says whether the SQL drops data, which puts it under the
    production guard and the backup-and-verify, like DropTable:

    - ``None`` (the default): decided from the SQL, read with sqlglot
      (``sqltext.destructive_statements``): DROP, ALTER TABLE ... DROP, TRUNCATE,
      DELETE or UPDATE without WHERE, or text it cannot parse. Each direction is read
      on its own: ``sql`` when applied, ``reverse_sql`` when rolled back.
    - ``True`` / ``False``: the author's word, for both ``sql`` and ``reverse_sql``
      (``inverse()`` keeps it); ``False`` is the explicit opt-out.
    """

    sql: str | Sequence[str]
    reverse_sql: str | Sequence[str] | None = None
    destructive_sql: bool | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.destructive_sql is not None and not isinstance(self.destructive_sql, bool):
            raise MigrationFileError("RunSQL: destructive_sql must be True, False or None (decide from the SQL)")

    @property
    def statements(self) -> list[str]:
        return [self.sql] if isinstance(self.sql, str) else list(self.sql)

    @property
    def destructive(self) -> bool:  # type: ignore[override]  # a ClassVar elsewhere: computed from the SQL here
        return self.destructive_detail is not None

    @property
    def destructive_detail(self) -> str | None:
        """What drops data, for the guard's message ("RunSQL 'DROP TABLE items'"), or None."""
        if self.destructive_sql is False:
            return None
        if self.destructive_sql is True:
            first = next((s for s in self.statements if s.strip()), "")
            from .sqltext import snippet

            return f"RunSQL {snippet(first)} (destructive_sql=True)"
        from .sqltext import destructive_statements

        found = destructive_statements(self.sql)
        if not found:
            return None
        return f"RunSQL {found[0]}" + (f" (+{len(found) - 1} more)" if len(found) > 1 else "")

    def state_forwards(self, state: State) -> State:
        return state

    def inverse(self) -> Operation:
        if self.reverse_sql is None:
            raise MigrationFileError("RunSQL without reverse_sql cannot be rolled back")
        return RunSQL(self.reverse_sql, self.sql, self.destructive_sql)

    def describe(self) -> str:
        return "run sql"


@dataclass(frozen=True)
class RunPython(Operation):
    """Python code given the driver's DB-API (or pymongo database) connection."""

    forward: Callable[[Any], None]
    backward: Callable[[Any], None] | None = None
    family: ClassVar[str] = "any"

    def state_forwards(self, state: State) -> State:
        return state

    def inverse(self) -> Operation:
        if self.backward is None:
            raise MigrationFileError("RunPython without backward cannot be rolled back")
        return RunPython(self.backward, self.forward)

    def describe(self) -> str:
        return f"run python {getattr(self.forward, '__name__', 'code')}"


# ---------------------------------------------------------------- document family


@dataclass(frozen=True)
class CreateCollection(Operation):
    collection: Collection
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        if self.collection.name in state.collections:
            raise MigrationFileError(f"CreateCollection: {self.collection.name!r} already exists")
        return state.with_collection(self.collection)

    def inverse(self) -> Operation:
        return DropCollection(self.collection)

    def describe(self) -> str:
        return f"create {self.collection.name} collection"


@dataclass(frozen=True)
class DropCollection(Operation):
    collection: Collection
    family: ClassVar[str] = "document"
    destructive: ClassVar[bool] = True

    def state_forwards(self, state: State) -> State:
        if self.collection.name not in state.collections:
            raise MigrationFileError(f"DropCollection: {self.collection.name!r} does not exist")
        return state.without_collection(self.collection.name)

    def inverse(self) -> Operation:
        return CreateCollection(self.collection)

    def describe(self) -> str:
        return f"drop {self.collection.name} collection"


@dataclass(frozen=True)
class RenameCollection(Operation):
    old: str
    new: str
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        coll = state.collections.get(self.old)
        if coll is None or self.new in state.collections:
            raise MigrationFileError(f"RenameCollection: cannot rename {self.old!r} to {self.new!r}")
        return state.without_collection(self.old).with_collection(replace(coll, name=self.new))

    def inverse(self) -> Operation:
        return RenameCollection(self.new, self.old)

    def describe(self) -> str:
        return f"rename {self.old} to {self.new}"


@dataclass(frozen=True)
class SetValidator(Operation):
    """collMod: replace a collection's validator, validation level and action."""

    collection: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    old_level: str = "strict"
    new_level: str = "strict"
    old_action: str = "error"
    new_action: str = "error"
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        coll = state.collections.get(self.collection)
        if coll is None:
            raise MigrationFileError(f"SetValidator: collection {self.collection!r} does not exist")
        return state.with_collection(
            replace(coll, validator=self.new, validation_level=self.new_level, validation_action=self.new_action)
        )

    def inverse(self) -> Operation:
        return SetValidator(
            self.collection, self.new, self.old, self.new_level, self.old_level, self.new_action, self.old_action
        )

    def describe(self) -> str:
        return f"set validator on {self.collection}"


@dataclass(frozen=True)
class CreateCollectionIndex(Operation):
    collection: str
    index: CollectionIndex
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        coll = state.collections.get(self.collection)
        if coll is None or _has(coll.indexes, self.index.name):
            raise MigrationFileError(f"CreateCollectionIndex: cannot create {self.index.name!r} on {self.collection!r}")
        return state.with_collection(replace(coll, indexes=(*coll.indexes, self.index)))

    def inverse(self) -> Operation:
        return DropCollectionIndex(self.collection, self.index)

    def describe(self) -> str:
        return f"create {self.index.name} on {self.collection}"


@dataclass(frozen=True)
class DropCollectionIndex(Operation):
    collection: str
    index: CollectionIndex
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        coll = state.collections.get(self.collection)
        if coll is None:
            raise MigrationFileError(f"DropCollectionIndex: collection {self.collection!r} does not exist")
        return state.with_collection(replace(coll, indexes=_replace_named(coll.indexes, self.index.name, None)))

    def inverse(self) -> Operation:
        return CreateCollectionIndex(self.collection, self.index)

    def describe(self) -> str:
        return f"drop {self.index.name} from {self.collection}"


def _json_schema(state: State, collection: str, what: str) -> tuple[Collection, dict[str, Any]]:
    """The collection and a copy of its ``$jsonSchema`` (field operations need one)."""
    coll = state.collections.get(collection)
    if coll is None:
        raise MigrationFileError(f"{what}: collection {collection!r} does not exist")
    if not isinstance(coll.validator, dict) or not isinstance(coll.validator.get("$jsonSchema"), dict):
        raise MigrationFileError(f"{what}: collection {collection!r} has no $jsonSchema validator")
    return coll, dict(coll.validator["$jsonSchema"])


def _with_field(
    state: State, collection: str, name: str, schema: dict[str, Any] | None, required: bool, what: str
) -> State:
    """The state with field ``name`` of the collection's $jsonSchema set to ``schema``
    (removed when None) and listed in ``required`` or not. ``required`` stays sorted
    and is omitted when empty (MongoDB rejects an empty ``required``)."""
    coll, js = _json_schema(state, collection, what)
    props = {k: v for k, v in dict(js.get("properties") or {}).items() if k != name}
    if schema is not None:
        props[name] = schema
    req = sorted({r for r in js.get("required") or [] if r != name} | ({name} if required and schema else set()))
    js.pop("required", None)
    js.pop("properties", None)
    if req:
        js["required"] = req
    js["properties"] = props
    validator = {**coll.validator, "$jsonSchema": js}  # type: ignore[dict-item]
    return state.with_collection(replace(coll, validator=validator))


@dataclass(frozen=True)
class AddValidatorField(Operation):
    """Add a field to a collection's ``$jsonSchema`` validator (applied with collMod)."""

    collection: str
    field: str
    schema: dict[str, Any]
    required: bool = False
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        _, js = _json_schema(state, self.collection, "AddValidatorField")
        if self.field in (js.get("properties") or {}):
            raise MigrationFileError(f"AddValidatorField: {self.collection}.{self.field} already exists")
        return _with_field(state, self.collection, self.field, self.schema, self.required, "AddValidatorField")

    def inverse(self) -> Operation:
        return RemoveValidatorField(self.collection, self.field, self.schema, self.required)

    def describe(self) -> str:
        return f"add {self.field} to {self.collection} validator"


@dataclass(frozen=True)
class RemoveValidatorField(Operation):
    """Remove a field from a collection's ``$jsonSchema`` validator (the documents keep it)."""

    collection: str
    field: str
    schema: dict[str, Any]
    required: bool = False
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        _, js = _json_schema(state, self.collection, "RemoveValidatorField")
        if self.field not in (js.get("properties") or {}):
            raise MigrationFileError(f"RemoveValidatorField: {self.collection}.{self.field} does not exist")
        return _with_field(state, self.collection, self.field, None, False, "RemoveValidatorField")

    def inverse(self) -> Operation:
        return AddValidatorField(self.collection, self.field, self.schema, self.required)

    def describe(self) -> str:
        return f"remove {self.field} from {self.collection} validator"


@dataclass(frozen=True)
class AlterValidatorField(Operation):
    """Change one field's schema (type, length, enum, ...) or whether it is required."""

    collection: str
    field: str
    old: dict[str, Any]
    new: dict[str, Any]
    old_required: bool = False
    new_required: bool = False
    family: ClassVar[str] = "document"

    def state_forwards(self, state: State) -> State:
        _, js = _json_schema(state, self.collection, "AlterValidatorField")
        if self.field not in (js.get("properties") or {}):
            raise MigrationFileError(f"AlterValidatorField: {self.collection}.{self.field} does not exist")
        return _with_field(state, self.collection, self.field, self.new, self.new_required, "AlterValidatorField")

    def inverse(self) -> Operation:
        return AlterValidatorField(
            self.collection, self.field, self.new, self.old, self.new_required, self.old_required
        )

    def describe(self) -> str:
        return f"alter {self.field} in {self.collection} validator"

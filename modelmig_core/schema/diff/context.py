"""What every comparator of the diff gets and gives: the hints from the models
(``DiffHints``), the context computed once per diff (``DiffContext``), the
``Comparator`` record and its phases, the ``Recorder`` the operations are emitted
through, and the backfill rules of added and dropped columns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..operations import Operation
from ..state import Column, ForeignKey, State, Table
from .ordering import Key, Node, _key, fk_obj, table_order

#: Column fields whose change alters what the database stores (foreign keys over
#: such a column are dropped and added back around the change)
TYPE_FIELDS = (
    "type",
    "length",
    "precision",
    "scale",
    "values",
    "autoincrement",
    "primary",
    "use_tz",
    "collation",
    "charset",
    "array",
)


@dataclass(frozen=True)
class DiffHints:
    """What the models say beyond the state: declared renames (``tables`` {new: old},
    ``columns`` {table: {new: old}}), one-off ``backfills`` {table: {column: value}}
    for NOT NULL columns added to existing tables, and ``origins`` {table: "file:
    model X"} to name the model in an error."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    backfills: dict[str, dict[str, Any]] = field(default_factory=dict)
    origins: Mapping[str, str] = field(default_factory=dict)


class Recorder:
    """Operations in the order they are emitted, and the state they lead to."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.ops: list[Operation] = []

    def emit(self, op: Operation) -> None:
        self.state = op.state_forwards(self.state)
        self.ops.append(op)


def zero_value(col: Column) -> Any:
    """What a rollback puts into the rows when it adds back a NOT NULL column
    without a default (written into the migration file, so it can be edited): its
    type object's ``zero_value``."""
    from ...vocabulary.column_types import type_of

    return type_of(col.type).zero_value(col)


def needs_value(col: Column) -> bool:
    """Whether existing rows get nothing when this column is added: NOT NULL, no default."""
    if col.generated is not None:  # the database computes it for every row
        return False
    return (
        not col.nullable
        and col.default is None
        and not col.default_now
        and col.default_sql is None
        and not col.autoincrement
    )


@dataclass
class DiffContext:
    """What every comparator may ask, computed once per diff: the state after the
    declared renames (``old``), the wanted state (``new``), the hints, the kept
    tables that differ (``changed``), the keys that change under the foreign keys
    that stay (``changed_keys``), and the foreign keys that close a cycle among
    the created or dropped tables."""

    old: State
    new: State
    hints: DiffHints
    kept: list[str]
    changed: list[str]
    changed_set: frozenset[str]
    changed_keys: set[Key]
    created: list[Table]
    dropped: list[Table]
    create_order: list[Table]
    create_cycle_fks: set[str]
    drop_order: list[Table]
    drop_cycle_fks: set[str]

    @classmethod
    def build(cls, old: State, new: State, hints: DiffHints) -> DiffContext:
        kept = [n for n in sorted(old.tables) if n in new.tables]
        changed = [n for n in kept if old.tables[n] != new.tables[n]]  # a table equal in both needs nothing
        created = [new.tables[n] for n in sorted(new.tables) if n not in old.tables]
        dropped = [old.tables[n] for n in sorted(old.tables) if n not in new.tables]
        create_order, create_cycle_fks = table_order(created)
        drop_order, drop_cycle_fks = table_order(dropped)
        return cls(
            old, new, hints, kept, changed, frozenset(changed), _changed_keys(old, new, changed), created, dropped,
            create_order, create_cycle_fks, drop_order, drop_cycle_fks,
        )  # fmt: skip

    def is_changed(self, a: Table | None, b: Table | None) -> bool:
        """Whether ``a`` and ``b`` are one kept table that differs."""
        return a is not None and b is not None and a.name in self.changed_set

    def remade(self, table: str, fk: ForeignKey) -> bool:
        """Whether a foreign key that stays is dropped and added back around a change of what it uses."""
        return bool(fk_obj(table, fk).needs & self.changed_keys)

    def origin(self, table: str) -> str:
        return self.hints.origins.get(table, f"table {table}")

    def pairs(self, phase: str) -> list[tuple[Table | None, Table | None]]:
        """The (old, new) tables a phase's comparators are asked about, in order."""
        o, n = self.old.tables, self.new.tables
        # an unchanged table's foreign key is remade when what it references changes
        fk_tables = self.kept if self.changed_keys else self.changed
        if phase == "drop":
            return [(o[t], n[t]) for t in fk_tables] + [(t, None) for t in self.dropped]
        if phase in ("columns", "add"):
            return [(o[t], n[t]) for t in self.changed]
        if phase == "create_tables":
            return [(None, t) for t in self.create_order]
        if phase == "add_foreign_keys":
            return [(o[t], n[t]) for t in fk_tables] + [(None, t) for t in self.create_order]
        if phase == "drop_tables":
            return [(t, None) for t in reversed(self.drop_order)]
        raise ValueError(f"unknown diff phase {phase!r}")


def _changed_keys(old: State, new: State, changed: list[str]) -> set[Key]:
    """What changes under the foreign keys that stay: type changes of their
    columns, unique keys dropped (and made again)."""
    keys: set[Key] = set()
    for name in changed:
        a, b = old.tables[name], new.tables[name]
        for col in b.columns:
            before = a.column(col.name)
            if before is not None and any(getattr(before, f) != getattr(col, f) for f in TYPE_FIELDS):
                keys.add(("column", name, col.name))
        for ix in a.indexes:
            if ix.unique and ix not in b.indexes:
                keys.add(_key(name, ix.columns))
        for uq in a.uniques:
            if uq not in b.uniques:
                keys.add(_key(name, uq.columns))
        if a.primary_key != b.primary_key:
            keys.add(_key(name, a.primary_key))
    return keys


def const(op: Operation) -> Callable[[State], Operation]:
    return lambda _state: op


ComparatorFn = Callable[[Table | None, Table | None, DiffContext], list[Node]]

#: The phases in their order, which is the order between operations that do not
#: depend on each other (``dependency_order`` keeps it); see ``DiffContext.pairs``
#: for the tables each phase's comparators are asked about
PHASES = ("drop", "columns", "create_tables", "add", "add_foreign_keys", "drop_tables")


@dataclass(frozen=True)
class Comparator:
    """One kind of schema object compared in one phase: ``fn(old, new, context)``
    answers the operations (``Node`` objects, with the objects they remove and
    create) for one table, ``old`` None for a created table, ``new`` None for a
    dropped one."""

    kind: str
    phase: str
    fn: ComparatorFn

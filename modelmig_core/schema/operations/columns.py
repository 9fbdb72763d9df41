"""Operations on the columns of a table: add, drop, alter, rename."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ...errors import MigrationFileError
from ...vocabulary.kinds import kind_named, rename_in_columns
from ..state import Column, State
from .base import Operation, referenced, replace_named

Backfill = str | int | float | bool | None


@dataclass(frozen=True)
class AddColumn(Operation):
    """Add a column. ``backfill`` fills the rows that exist when a NOT NULL column
    without a default is added (a one-off value: the column keeps no default)."""

    table: str
    column: Column
    backfill: Backfill = None

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        if t.column(self.column.name):
            raise MigrationFileError(f"AddColumn: {self.table}.{self.column.name} already exists")
        return state.with_table(replace(t, columns=(*t.columns, self.column)))

    def inverse(self) -> Operation:
        return DropColumn(self.table, self.column, self.backfill)

    def describe(self) -> str:
        return f"add {self.column.name} to {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        table = before.tables.get(self.table)
        if not self.column.nullable and table is not None and (table.indexes or table.primary_key):
            return ("add_not_null_column_to_indexed_table",)
        return ()


@dataclass(frozen=True)
class DropColumn(Operation):
    """Drop a column. ``backfill`` is what its inverse (adding it back on a
    rollback) puts in the rows, for a NOT NULL column without a default."""

    table: str
    column: Column
    backfill: Backfill = None
    destructive: ClassVar[bool] = True

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        return state.with_table(replace(t, columns=replace_named(t.columns, self.column.name, None)))

    def inverse(self) -> Operation:
        return AddColumn(self.table, self.column, self.backfill)

    def describe(self) -> str:
        return f"drop {self.column.name} from {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("alter_referenced_table",) if referenced(before, self.table) else ()


@dataclass(frozen=True)
class AlterColumn(Operation):
    """Change a column's type, nullability, default or comment (same name)."""

    table: str
    old: Column
    new: Column

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        return state.with_table(replace(t, columns=replace_named(t.columns, self.old.name, self.new)))

    def inverse(self) -> Operation:
        return AlterColumn(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"alter {self.new.name} on {self.table}"

    @property
    def narrows(self) -> str | None:
        """``'string(255) to string(50)'`` when the new type cannot hold every value
        of the old one (``column_types.narrowing``), else None."""
        from ...vocabulary.column_types import narrowing

        return narrowing(self.old, self.new)

    @property
    def destructive(self) -> bool:  # type: ignore[override]  # a ClassVar elsewhere: computed from the types here
        """A narrowing type change drops what does not fit: guarded and backed up like
        a drop (the run also refuses it while any row does not fit)."""
        return self.narrows is not None

    @property
    def destructive_detail(self) -> str | None:
        narrows = self.narrows
        return None if narrows is None else f"{self.describe()} (narrows {narrows})"

    def drops(self) -> list[tuple[str | None, str | None]]:
        return [(self.table, self.new.name)] if self.destructive else []

    def requires(self, before: Any) -> tuple[str, ...]:
        needs = ["alter_column"]
        if referenced(before, self.table):
            needs.append("alter_referenced_table")
        table = before.tables.get(self.table)
        typed = ("type", "length", "precision", "scale", "values", "use_tz", "array")
        retyped = any(getattr(self.old, k) != getattr(self.new, k) for k in typed)
        name = self.old.name
        if table is not None and (
            any(name in fk.columns for fk in table.foreign_keys)
            or (retyped and (table.checks or any(name in ix.columns for ix in table.indexes)))
        ):
            needs.append("alter_constrained_column")
        return tuple(needs)

    @property
    def changes(self) -> set[str]:
        """Names of the Column fields that differ."""
        return {k for k in self.old.__dataclass_fields__ if getattr(self.old, k) != getattr(self.new, k)}


@dataclass(frozen=True)
class RenameColumn(Operation):
    """Rename column ``old`` of ``table`` to ``new`` (a declared ``renamed_from``,
    never guessed); its rows are kept. What the table holds of every kind follows
    the column (``Kind.rename_column``: an index, unique constraint, foreign key or a
    plugin's exclusion constraint keeps its name and is never dropped and added
    again), and so do the foreign keys of other tables that reference it; a check's
    SQL text is not rewritten (the diff drops and adds it around the rename)."""

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

        # every member of every kind that names the column follows it (``Kind.rename_column``)
        members = []
        for kind_name, values in t.members:
            kind = kind_named(kind_name)
            rename = kind.rename_column if kind is not None else rename_in_columns
            members.append((kind_name, tuple(rename(v, self.old, self.new) for v in values)))
        t = replace(t, columns=replace_named(t.columns, self.old, replace(col, name=self.new)), members=tuple(members))
        if t.partition_by is not None:  # a partition key names the column too
            t = replace(t, partition_by=(t.partition_by[0], ren(t.partition_by[1])))
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

    def requires(self, before: Any) -> tuple[str, ...]:
        needs = ["rename_column"]
        if referenced(before, self.table):
            needs.append("alter_referenced_table")
        table = before.tables.get(self.table)
        if table is not None and any(self.old in fk.columns for fk in table.foreign_keys):
            needs.append("alter_constrained_column")
        return tuple(needs)

"""Operations on whole tables: create, drop, rename, comment, options."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ...errors import MigrationFileError
from ..state import State, Table
from .base import Operation, fk_needs, referenced


@dataclass(frozen=True)
class CreateTable(Operation):
    """Create ``table`` whole: its columns, primary key, indexes, unique constraints,
    foreign keys and checks, as the state describes it. Inverse: DropTable."""

    table: Table
    creates: ClassVar[str | None] = "table"

    def state_forwards(self, state: State) -> State:
        if self.table.name in state.tables:
            raise MigrationFileError(f"CreateTable: table {self.table.name!r} already exists")
        return state.with_table(self.table)

    def inverse(self) -> Operation:
        return DropTable(self.table)

    def requires(self, before: Any) -> tuple[str, ...]:
        needs = [flag for fk in self.table.foreign_keys for flag in fk_needs(fk)]
        return tuple(dict.fromkeys(needs + (["check_constraints"] if self.table.checks else [])))

    def describe(self) -> str:
        return f"create {self.table.name} table"


@dataclass(frozen=True)
class DropTable(Operation):
    """Drop ``table`` (the state it had, so the inverse can create it again). Drops
    its rows: destructive, guarded and backed up in production."""

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
    """Rename table ``old`` to ``new`` (a declared ``renamed_from``, never guessed)."""

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

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("rename_table", "alter_referenced_table") if referenced(before, self.old) else ("rename_table",)

    def describe(self) -> str:
        return f"rename {self.old} to {self.new}"


@dataclass(frozen=True)
class SetTableComment(Operation):
    """Set (``new``), change or remove (``new`` None) the comment of ``table``;
    ``old`` is the comment it had, for the inverse."""

    table: str
    old: str | None = None
    new: str | None = None

    def state_forwards(self, state: State) -> State:
        return state.with_table(replace(state.table(self.table), comment=self.new))

    def inverse(self) -> Operation:
        return SetTableComment(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"{'comment on' if self.new is not None else 'drop the comment of'} {self.table}"


@dataclass(frozen=True)
class SetTableOptions(Operation):
    """Change the physical options of ``table`` (``Table.options``: MySQL's engine,
    charset and collation) from ``old`` to ``new``, (name, value) pairs."""

    table: str
    old: tuple[tuple[str, str], ...] = ()
    new: tuple[tuple[str, str], ...] = ()

    def state_forwards(self, state: State) -> State:
        return state.with_table(replace(state.table(self.table), options=self.new))

    def inverse(self) -> Operation:
        return SetTableOptions(self.table, self.new, self.old)

    def describe(self) -> str:
        return f"set options of {self.table}"

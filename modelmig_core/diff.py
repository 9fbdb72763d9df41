"""The relational diff: the operations that turn one SQL state into another.

Registered as the core's own ``diff`` plugin (see ``builtin.py``). Declared renames
come in ``hints``; nothing is guessed, so a rename is never a drop plus an add.
Order: renames; drop changed/removed FKs, indexes, checks; column changes; create
tables (FK targets first); add indexes, checks, FKs; drop tables (children first).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .operations import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropTable,
    Operation,
    RenameColumn,
    RenameTable,
)
from .state import ForeignKey, State, Table


@dataclass(frozen=True)
class DiffHints:
    """Declared renames: ``tables`` {new: old}, ``columns`` {table: {new: old}}."""

    tables: dict[str, str] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)


class Recorder:
    """Operations in the order they are emitted, and the state they lead to."""

    def __init__(self, state: State) -> None:
        self.state = state
        self.ops: list[Operation] = []

    def emit(self, op: Operation) -> None:
        self.state = op.state_forwards(self.state)
        self.ops.append(op)


def _order(tables: list[Table]) -> tuple[list[Table], set[str]]:
    """Tables with FK targets before the tables that reference them. FKs that close a
    cycle between these tables are returned by name, to be added separately."""
    names = {t.name for t in tables}
    by_name = {t.name: t for t in tables}
    done: list[Table] = []
    placed: set[str] = set()
    deferred: set[str] = set()
    visiting: set[str] = set()

    def visit(t: Table) -> None:
        if t.name in placed:
            return
        visiting.add(t.name)
        for fk in t.foreign_keys:
            if fk.ref_table in names and fk.ref_table != t.name and fk.ref_table not in placed:
                if fk.ref_table in visiting:
                    deferred.add(fk.name)
                else:
                    visit(by_name[fk.ref_table])
        visiting.discard(t.name)
        placed.add(t.name)
        done.append(t)

    for t in sorted(tables, key=lambda t: t.name):
        visit(t)
    return done, deferred


def diff_states(old: State, new: State, hints: DiffHints | None = None) -> list[Operation]:
    hints = hints or DiffHints()
    rec = Recorder(old)
    emit = rec.emit

    # 1. declared renames
    for new_name, old_name in sorted(hints.tables.items()):
        if old_name in rec.state.tables and new_name not in rec.state.tables and new_name in new.tables:
            emit(RenameTable(old_name, new_name))
    for table_name, cols in sorted(hints.columns.items()):
        if table_name not in rec.state.tables or table_name not in new.tables:
            continue
        for new_col, old_col in sorted(cols.items()):
            t = rec.state.tables[table_name]
            if t.column(old_col) and not t.column(new_col) and new.tables[table_name].column(new_col):
                emit(RenameColumn(table_name, old_col, new_col))

    kept = [n for n in sorted(rec.state.tables) if n in new.tables]
    created = [new.tables[n] for n in sorted(new.tables) if n not in rec.state.tables]
    dropped = [rec.state.tables[n] for n in sorted(rec.state.tables) if n not in new.tables]

    # 2. drop FKs, indexes, checks that are removed or changed
    for name in kept:
        a, b = rec.state.tables[name], new.tables[name]
        for fk in a.foreign_keys:
            if fk not in b.foreign_keys:
                emit(DropForeignKey(name, fk))
        for ix in a.indexes:
            if ix not in b.indexes:
                emit(DropIndex(name, ix))
        for ck in a.checks:
            if ck not in b.checks:
                emit(DropCheck(name, ck))
    # FKs among dropped tables that form a cycle are dropped before the tables
    drop_order, drop_cycle_fks = _order(dropped)
    for t in dropped:
        for fk in t.foreign_keys:
            if fk.name in drop_cycle_fks:
                emit(DropForeignKey(t.name, fk))

    # 3. columns
    for name in kept:
        a, b = rec.state.tables[name], new.tables[name]
        for col in a.columns:
            if not b.column(col.name):
                emit(DropColumn(name, col))
        for col in b.columns:
            if not a.column(col.name):
                emit(AddColumn(name, col))
        for col in b.columns:
            before = a.column(col.name)
            if before is not None and before != col:
                emit(AlterColumn(name, before, col))

    # 4. new tables, FK targets first
    create_order, create_cycle_fks = _order(created)
    later_fks: list[tuple[str, ForeignKey]] = []
    for t in create_order:
        inline = tuple(fk for fk in t.foreign_keys if fk.name not in create_cycle_fks)
        later_fks += [(t.name, fk) for fk in t.foreign_keys if fk.name in create_cycle_fks]
        emit(CreateTable(replace(t, foreign_keys=inline)))

    # 5. indexes, checks, FKs that are new or changed
    for name in kept:
        a, b = rec.state.tables[name], new.tables[name]
        for ix in b.indexes:
            if ix not in a.indexes:
                emit(CreateIndex(name, ix))
        for ck in b.checks:
            if ck not in a.checks:
                emit(AddCheck(name, ck))
    for name in kept:
        a, b = rec.state.tables[name], new.tables[name]
        for fk in b.foreign_keys:
            if fk not in a.foreign_keys:
                emit(AddForeignKey(name, fk))
    for table_name, fk in later_fks:
        emit(AddForeignKey(table_name, fk))

    # 6. dropped tables, referencing tables first
    for t in reversed(drop_order):
        emit(DropTable(rec.state.tables[t.name]))
    return rec.ops


def inverse_operations(ops: list[Operation]) -> list[Operation]:
    return [op.inverse() for op in reversed(ops)]

"""TEST ORACLE ONLY -- NOT PRODUCT CODE.

A verbatim copy of ``modelmig_core.diff.diff_states`` as it was before issue 18
split it into registered comparators (the one 173-line function of six phases).
tests/test_diff_comparators.py asserts the new diff returns exactly the
operations this one does, in the same order. Do not edit its logic; delete it
once that guarantee is no longer wanted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from modelmig_core.errors import ModelError
from modelmig_core.operations import (
    AddCheck,
    AddColumn,
    AddForeignKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropCheck,
    DropColumn,
    DropForeignKey,
    DropIndex,
    DropTable,
    DropUnique,
    Operation,
    RenameColumn,
    RenameTable,
)
from modelmig_core.schema.diff import (
    TYPE_FIELDS,
    DiffHints,
    Key,
    Node,
    Obj,
    Recorder,
    column_obj,
    dependency_order,
    fk_obj,
    index_obj,
    needs_value,
    table_objs,
    zero_value,
)
from modelmig_core.schema.diff.ordering import _key
from modelmig_core.schema.diff.ordering import table_order as _order
from modelmig_core.schema.state import ForeignKey, State


def old_diff_states(old: State, new: State, hints: DiffHints | None = None) -> list[Operation]:
    if old == new:  # the every-day "no change": nothing to compare table by table
        return []
    hints = hints or DiffHints()
    rec = Recorder(old)
    emit = rec.emit

    # 0. checks that go or change are dropped before any rename: a check is SQL
    # text that names columns as they are now, so its inverse (adding it back on a
    # rollback) must come after the renames are undone
    old_names = {new_name: old_name for new_name, old_name in hints.tables.items() if old_name in old.tables}
    for new_name in sorted(new.tables):
        old_name = old_names.get(new_name, new_name if new_name not in hints.tables else None)
        if old_name is None or old_name not in old.tables or (old_name != new_name and new_name in old.tables):
            continue
        wanted = new.tables[new_name].checks
        for ck in old.tables[old_name].checks:
            if ck not in wanted:
                emit(DropCheck(old_name, ck))

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

    start = rec.state
    kept = [n for n in sorted(start.tables) if n in new.tables]
    changed = [n for n in kept if start.tables[n] != new.tables[n]]  # a table equal in both needs nothing
    created = [new.tables[n] for n in sorted(new.tables) if n not in start.tables]
    dropped = [start.tables[n] for n in sorted(start.tables) if n not in new.tables]
    nodes: list[Node] = []

    def const(op: Operation) -> Callable[[State], Operation]:
        return lambda _state: op

    # what changes under the foreign keys that stay: type changes of their
    # columns, unique keys dropped (and made again)
    changed_keys: set[Key] = set()
    for name in changed:
        a, b = start.tables[name], new.tables[name]
        for col in b.columns:
            before = a.column(col.name)
            if before is not None and any(getattr(before, f) != getattr(col, f) for f in TYPE_FIELDS):
                changed_keys.add(("column", name, col.name))
        for ix in a.indexes:
            if ix.unique and ix not in b.indexes:
                changed_keys.add(_key(name, ix.columns))
        for uq in a.uniques:
            if uq not in b.uniques:
                changed_keys.add(_key(name, uq.columns))
        if a.primary_key != b.primary_key:
            changed_keys.add(_key(name, a.primary_key))

    def remade(table: str, fk: ForeignKey) -> bool:
        return bool(fk_obj(table, fk).needs & changed_keys)

    # an unchanged table's foreign key is remade when what it references changes
    fk_tables = kept if changed_keys else changed

    # 2. drop FKs, indexes, uniques, checks that are removed or changed
    changed_set = set(changed)
    for name in fk_tables:
        a, b = start.tables[name], new.tables[name]
        for fk in a.foreign_keys:
            if fk not in b.foreign_keys or remade(name, fk):
                nodes.append(Node(const(DropForeignKey(name, fk)), removes=[fk_obj(name, fk)]))
        if name not in changed_set:
            continue
        for ix in a.indexes:
            if ix not in b.indexes:
                nodes.append(
                    Node(const(DropIndex(name, ix)), removes=[index_obj(name, ix.columns, ix.name, ix.unique)])
                )
        for uq in a.uniques:
            if uq not in b.uniques:
                nodes.append(Node(const(DropUnique(name, uq)), removes=[index_obj(name, uq.columns, uq.name, True)]))
        for ck in a.checks:
            if ck not in b.checks:
                nodes.append(
                    Node(const(DropCheck(name, ck)), removes=[Obj(frozenset(), frozenset(), ("name", ck.name))])
                )
    # FKs among dropped tables that form a cycle are dropped before the tables
    drop_order, drop_cycle_fks = _order(dropped)
    for t in dropped:
        for fk in t.foreign_keys:
            if fk.name in drop_cycle_fks:
                nodes.append(Node(const(DropForeignKey(t.name, fk)), removes=[fk_obj(t.name, fk)]))

    # 3. columns
    for name in changed:
        a, b = start.tables[name], new.tables[name]
        for col in a.columns:
            if not b.column(col.name):
                backfill = zero_value(col) if needs_value(col) else None
                nodes.append(Node(const(DropColumn(name, col, backfill)), removes=[column_obj(name, col)]))
        for col in b.columns:
            if not a.column(col.name):
                backfill = None
                if needs_value(col):
                    backfill = hints.backfills.get(name, {}).get(col.name)
                    if backfill is None:
                        origin = hints.origins.get(name, f"table {name}")
                        raise ModelError(
                            f"{origin}, field {col.name!r}: a NOT NULL column without a default cannot be added "
                            f"to the existing table {name!r} (its rows would get no value): give it a default=..., "
                            "make it nullable=True, or give a one-off backfill=<value> for the rows that exist"
                        )
                nodes.append(Node(const(AddColumn(name, col, backfill)), creates=[column_obj(name, col)]))
        for col in b.columns:
            before = a.column(col.name)
            if before is not None and before != col:
                if before.primary != col.primary:
                    origin = hints.origins.get(name, f"table {name}")
                    change = "joins" if col.primary else "leaves"
                    raise ModelError(
                        f"{origin}, field {col.name!r}: the column {change} the primary key of the existing table "
                        f"{name!r}, which an AlterColumn cannot do on every database: keep primary= as it was, "
                        "or change the key by hand (make:migration --empty, then op.RunSQL that drops and adds "
                        "the primary key)"
                    )
                objs = [column_obj(name, col)] if ("column", name, col.name) in changed_keys else []
                nodes.append(Node(const(AlterColumn(name, before, col)), removes=objs, creates=objs))

    # 4. new tables, FK targets first
    create_order, create_cycle_fks = _order(created)
    later_fks: list[tuple[str, ForeignKey]] = []
    for t in create_order:
        inline = tuple(fk for fk in t.foreign_keys if fk.name not in create_cycle_fks)
        later_fks += [(t.name, fk) for fk in t.foreign_keys if fk.name in create_cycle_fks]
        table = replace(t, foreign_keys=inline)
        nodes.append(Node(const(CreateTable(table)), creates=table_objs(table)))

    # 5. indexes, uniques, checks, FKs that are new or changed
    for name in changed:
        a, b = start.tables[name], new.tables[name]
        for ix in b.indexes:
            if ix not in a.indexes:
                nodes.append(
                    Node(const(CreateIndex(name, ix)), creates=[index_obj(name, ix.columns, ix.name, ix.unique)])
                )
        for uq in b.uniques:
            if uq not in a.uniques:
                nodes.append(Node(const(AddUnique(name, uq)), creates=[index_obj(name, uq.columns, uq.name, True)]))
        for ck in b.checks:
            if ck not in a.checks:
                nodes.append(
                    Node(const(AddCheck(name, ck)), creates=[Obj(frozenset(), frozenset(), ("name", ck.name))])
                )
    for name in fk_tables:
        a, b = start.tables[name], new.tables[name]
        for fk in b.foreign_keys:
            if fk not in a.foreign_keys or remade(name, fk):
                nodes.append(Node(const(AddForeignKey(name, fk)), creates=[fk_obj(name, fk)]))
    for table_name, fk in later_fks:
        nodes.append(Node(const(AddForeignKey(table_name, fk)), creates=[fk_obj(table_name, fk)]))

    # 6. dropped tables, referencing tables first (as they are when dropped)
    for t in reversed(drop_order):
        live = replace(t, foreign_keys=tuple(f for f in t.foreign_keys if f.name not in drop_cycle_fks))
        nodes.append(
            Node(lambda state, n=t.name: DropTable(state.tables[n]), removes=table_objs(live)),
        )

    for node in dependency_order(nodes):
        emit(node.make(rec.state))
    return rec.ops

"""Whole tables: created with their foreign keys inline (but those that close a
cycle), dropped children first; and the declared renames of tables and columns,
which run before every comparator."""

from __future__ import annotations

from dataclasses import replace

from ...errors import ModelError
from ..operations import (
    AddPartition,
    ChangePartition,
    CreateTable,
    DropPartition,
    DropTable,
    RenameColumn,
    RenameTable,
    SetTableComment,
    SetTableOptions,
)
from ..state import BUILTIN_MEMBERS, Partition, State, Table
from .context import Comparator, DiffContext, DiffHints, Recorder, const
from .ordering import Node, partition_objs, table_objs


def table_created(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A new table with its foreign keys inline, but those that close a cycle (added after)."""
    assert b is not None
    table = replace(
        b,
        foreign_keys=tuple(fk for fk in b.foreign_keys if fk.name not in ctx.create_cycle_fks),
        partitions=tuple(_without_cycle_fks(p, ctx.create_cycle_fks) for p in b.partitions),
    )
    if table.extra_members:  # a plugin's kinds are added by their own operations (members_added)
        table = replace(table, members=tuple((k, v) for k, v in table.members if k in BUILTIN_MEMBERS))
    return [Node(const(CreateTable(table)), creates=table_objs(table))]


def _without_cycle_fks(p: Partition, cycle_fks: set[str]) -> Partition:
    """A partition without its own foreign keys that close a cycle (added once every table exists)."""
    if not any(fk.name in cycle_fks for fk in p.foreign_keys):
        return p
    return replace(p, foreign_keys=tuple(fk for fk in p.foreign_keys if fk.name not in cycle_fks))


def partition_cycle_fks_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A new table's partitions' own foreign keys that close a cycle, once all the tables exist
    (as a table's are: ``foreign_keys_added``)."""
    if a is not None or b is None:
        return []
    nodes = []
    for p in b.partitions:
        was = _without_cycle_fks(p, ctx.create_cycle_fks)
        if was != p:
            added = [fk for fk in p.foreign_keys if fk not in was.foreign_keys]
            nodes.append(
                Node(
                    const(ChangePartition(b.name, was, p)),
                    creates=partition_objs(replace(p, indexes=(), foreign_keys=tuple(added))),
                )
            )
    return nodes


def table_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A dropped table, as it is when dropped (its cycle FKs are gone by then)."""
    assert a is not None
    live = replace(a, foreign_keys=tuple(f for f in a.foreign_keys if f.name not in ctx.drop_cycle_fks))
    return [Node(lambda state, n=a.name: DropTable(state.tables[n]), removes=table_objs(live))]


def declared_renames(rec: Recorder, new: State, hints: DiffHints) -> None:
    """The declared renames of tables, then of columns (nothing is guessed)."""
    for new_name, old_name in sorted(hints.tables.items()):
        if old_name in rec.state.tables and new_name not in rec.state.tables and new_name in new.tables:
            rec.emit(RenameTable(old_name, new_name))
    for table_name, cols in sorted(hints.columns.items()):
        if table_name not in rec.state.tables or table_name not in new.tables:
            continue
        for new_col, old_col in sorted(cols.items()):
            t = rec.state.tables[table_name]
            if t.column(old_col) and not t.column(new_col) and new.tables[table_name].column(new_col):
                rec.emit(RenameColumn(table_name, old_col, new_col))


def table_commented(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A kept table whose comment changed."""
    assert a is not None and b is not None
    if a.comment == b.comment:
        return []
    return [Node(const(SetTableComment(b.name, a.comment, b.comment)))]


def table_options_changed(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A kept table whose physical options (engine, charset, collation) changed."""
    assert a is not None and b is not None
    if a.options == b.options:
        return []
    return [Node(const(SetTableOptions(b.name, a.options, b.options)))]


def table_primary_renamed(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A kept table whose primary key constraint's name changed: refused (no
    operation renames it on every database)."""
    assert a is not None and b is not None
    if a.primary_name == b.primary_name or not a.primary_key or not b.primary_key:
        return []
    from ...errors import ModelError

    raise ModelError(
        f"{ctx.origin(b.name)}: database['primary_key_name'] of the existing table {b.name!r} changes "
        f"({a.primary_name!r} to {b.primary_name!r}), which no operation does on every database: keep the name "
        "it has, or rename the constraint with RunSQL in a migration of its own (make:migration --empty)"
    )


def table_partitions_changed(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A kept table's declared partitions: one dropped, added, or given another bound
    (dropped, then added). Its partition key never changes: PostgreSQL cannot alter
    one, so a changed (added, removed) key is refused, naming the table."""
    assert a is not None and b is not None
    if a.partition_by != b.partition_by:

        def say(key: tuple[str, tuple[str, ...]] | None) -> str:
            return "none" if key is None else f"{key[0]} ({', '.join(key[1])})"

        raise ModelError(
            f"table {b.name}: its partition key changes from {say(a.partition_by)} to {say(b.partition_by)}; "
            "a partition key cannot be altered: make a new table and move the rows"
        )
    if a.partitions == b.partitions:
        return []
    old = {p.name: p for p in a.partitions}
    new = {p.name: p for p in b.partitions}
    # same bound, other own indexes or foreign keys: changed in place, rows kept
    kept = [n for n, p in new.items() if n in old and old[n] != p and old[n].bound == p.bound]
    drops = [p for n, p in old.items() if new.get(n) != p and n not in kept]
    adds = [p for n, p in new.items() if old.get(n) != p and n not in kept]
    nodes = [Node(const(DropPartition(b.name, p)), removes=partition_objs(p)) for p in drops]
    nodes += [
        Node(const(ChangePartition(b.name, old[n], new[n])), partition_objs(old[n]), partition_objs(new[n]))
        for n in kept
    ]
    return nodes + [Node(const(AddPartition(b.name, p)), creates=partition_objs(p)) for p in adds]


#: the comparators of whole tables
COMPARATORS = (
    Comparator("tables", "columns", table_primary_renamed),
    Comparator("tables", "columns", table_commented),
    Comparator("tables", "columns", table_options_changed),
    Comparator("tables", "columns", table_partitions_changed),
    Comparator("tables", "create_tables", table_created),
    Comparator("tables", "drop_tables", table_dropped),
    Comparator("tables", "add_foreign_keys", partition_cycle_fks_added),
)

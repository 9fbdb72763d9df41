"""The relational diff: the operations that turn one SQL state into another.

Registered as the core's own ``diff`` plugin (see ``builtin.py``). Declared renames
come in ``hints``; nothing is guessed, so a rename is never a drop plus an add.

Checks that go or change are dropped first (their SQL names columns as they
are before any rename), then renames. The other operations are then put in dependency order
(``dependency_order``): each operation says which schema objects it removes and
which it creates, and what each of those objects needs (a foreign key needs its
columns, the referenced table, its columns and the unique key over them; an
index needs its columns; a column needs its table). An object is removed only
after everything removed with it that needs it, and created only after
everything it needs that is created too; a name is freed before it is reused.
So foreign keys are dropped before the unique constraints, indexes and columns
they use, a dropped table goes before what its foreign keys referenced, and
creations run in the reverse order. Between operations that do not depend on
each other the order is the phase order: drops of FKs, indexes, uniques and
checks; columns; new tables (FK targets first); new indexes, uniques, checks;
new FKs; dropped tables (children first).

Each kind of object is compared by small registered ``Comparator`` functions,
``fn(old_table, new_table, context) -> list[Node]``, one per kind and phase
(``COMPARATORS``, in order; ``register_comparator`` adds one after the built-ins of
its phase); ``DiffContext.pairs`` says which tables each phase is asked about, and
``dependency_order`` is the one place the result is ordered.

A foreign key whose columns change type, or whose referenced unique key is
dropped and made again, is dropped and added back around the change (databases
refuse to change what a foreign key uses).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ModelError
from ..vocabulary.kinds import Kind, plugin_kinds
from .operations import (
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
from .state import BUILTIN_MEMBERS, Check, Column, ForeignKey, Index, State, Table, Unique

#: Column fields whose change alters what the database stores (foreign keys over
#: such a column are dropped and added back around the change)
TYPE_FIELDS = ("type", "length", "precision", "scale", "values", "autoincrement", "primary", "use_tz")


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


# ---------------------------------------------------------------- schema objects and their dependencies

Key = tuple[Any, ...]


@dataclass(frozen=True)
class Obj:
    """A schema object as the ordering sees it: the keys it provides, the keys it
    needs, and its name where names must not be reused before they are freed."""

    provides: frozenset[Key] = frozenset()
    needs: frozenset[Key] = frozenset()
    name: Key | None = None


def _key(table: str, columns: Iterable[str]) -> Key:
    return ("key", table, tuple(sorted(columns)))


def _cols(table: str, columns: Iterable[str]) -> set[Key]:
    return {("column", table, c) for c in columns}


def column_obj(table: str, col: Column) -> Obj:
    return Obj(frozenset({("column", table, col.name)}), frozenset({("table", table)}))


def index_obj(table: str, columns: tuple[str, ...], name: str, unique: bool) -> Obj:
    provides = frozenset({_key(table, columns)}) if unique else frozenset()
    return Obj(provides, frozenset({("table", table), *_cols(table, columns)}), ("name", name))


def fk_obj(table: str, fk: ForeignKey) -> Obj:
    needs = {("table", table), ("table", fk.ref_table), _key(fk.ref_table, fk.ref_columns)}
    needs |= _cols(table, fk.columns) | _cols(fk.ref_table, fk.ref_columns)
    return Obj(frozenset(), frozenset(needs), ("name", fk.name))


def table_objs(t: Table) -> list[Obj]:
    out = [Obj(frozenset({("table", t.name)}), frozenset(), ("table", t.name))]
    out += [column_obj(t.name, c) for c in t.columns]
    if t.primary_key:
        out.append(Obj(frozenset({_key(t.name, t.primary_key)}), frozenset(_cols(t.name, t.primary_key))))
    out += [index_obj(t.name, i.columns, i.name, i.unique) for i in t.indexes]
    out += [index_obj(t.name, u.columns, u.name, True) for u in t.uniques]
    out += [fk_obj(t.name, f) for f in t.foreign_keys]
    out += [Obj(frozenset(), frozenset({("table", t.name)}), ("name", c.name)) for c in t.checks]
    for kind_name, values in t.extra_members:
        kind = _plugin_kind(kind_name)
        out += [member_obj(t.name, kind, v) for v in values]
    return out


def _plugin_kind(name: str) -> Kind | None:
    return next((k for k in plugin_kinds() if k.name == name), None)


def member_obj(table: str, kind: Kind | None, value: Any) -> Obj:
    """A value of a plugin's kind: it needs its table and the columns it uses."""
    columns = tuple(kind.columns(value)) if kind is not None else ()
    return Obj(frozenset(), frozenset({("table", table), *_cols(table, columns)}), ("name", value.name))


@dataclass
class Node:
    """One operation to emit, built from the state it runs on (``make``), with the
    objects it removes and creates."""

    make: Callable[[State], Operation]
    removes: list[Obj] = field(default_factory=list)
    creates: list[Obj] = field(default_factory=list)


def dependency_order(nodes: list[Node]) -> list[Node]:
    """``nodes`` sorted so that every dependency holds (see the module docstring);
    otherwise in their given order. Linear in the number of objects plus edges."""
    n = len(nodes)
    after: list[set[int]] = [set() for _ in range(n)]  # i -> nodes that must come after i

    def provided(objs: list[Obj]) -> set[Key]:
        return {k for o in objs for k in o.provides}

    created_by: dict[Key, list[int]] = {}
    removed_needers: dict[Key, list[int]] = {}
    freed: dict[Key, list[int]] = {}
    for i, node in enumerate(nodes):
        for k in provided(node.creates):
            created_by.setdefault(k, []).append(i)
        own = provided(node.removes)
        for o in node.removes:
            for k in o.needs - own:
                removed_needers.setdefault(k, []).append(i)
            if o.name is not None:
                freed.setdefault(o.name, []).append(i)
    for i, node in enumerate(nodes):
        own = provided(node.creates)
        for o in node.creates:
            for k in o.needs - own:  # what it needs is created first
                after_i = created_by.get(k, [])
                for j in after_i:
                    if j != i:
                        after[j].add(i)
            if o.name is not None:  # a name is freed before it is reused
                for j in freed.get(o.name, []):
                    if j != i:
                        after[j].add(i)
        for k in provided(node.removes):  # what needs it is removed first
            for j in removed_needers.get(k, []):
                if j != i:
                    after[j].add(i)
    indegree = [0] * n
    for i in range(n):
        for j in after[i]:
            indegree[j] += 1
    ready = [i for i in range(n) if indegree[i] == 0]
    heapq.heapify(ready)
    out: list[int] = []
    while ready:
        i = heapq.heappop(ready)
        out.append(i)
        for j in after[i]:
            indegree[j] -= 1
            if indegree[j] == 0:
                heapq.heappush(ready, j)
    if len(out) < n:  # a dependency cycle: keep the phase order for what is left
        placed = set(out)
        out += [i for i in range(n) if i not in placed]
    return [nodes[i] for i in out]


# ---------------------------------------------------------------- backfills


def zero_value(col: Column) -> Any:
    """What a rollback puts into the rows when it adds back a NOT NULL column
    without a default (written into the migration file, so it can be edited): its
    type object's ``zero_value``."""
    from ..vocabulary.column_types import type_of

    return type_of(col.type).zero_value(col)


def needs_value(col: Column) -> bool:
    """Whether existing rows get nothing when this column is added: NOT NULL, no default."""
    return not col.nullable and col.default is None and not col.default_now and not col.autoincrement


# ---------------------------------------------------------------- the diff


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
        create_order, create_cycle_fks = _order(created)
        drop_order, drop_cycle_fks = _order(dropped)
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


def _const(op: Operation) -> Callable[[State], Operation]:
    return lambda _state: op


def _check_obj(name: str) -> Obj:
    return Obj(frozenset(), frozenset(), ("name", name))


# ---------------------------------------------------------------- the comparators, one per kind and phase

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


def foreign_keys_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if a is None:
        return []
    if b is None:  # FKs among dropped tables that form a cycle are dropped before the tables
        fks = [fk for fk in a.foreign_keys if fk.name in ctx.drop_cycle_fks]
    else:
        fks = [fk for fk in a.foreign_keys if fk not in b.foreign_keys or ctx.remade(a.name, fk)]
    return [Node(_const(DropForeignKey(a.name, fk)), removes=[fk_obj(a.name, fk)]) for fk in fks]


def indexes_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if not ctx.is_changed(a, b):
        return []
    assert a is not None and b is not None
    return [
        Node(_const(DropIndex(a.name, ix)), removes=[index_obj(a.name, ix.columns, ix.name, ix.unique)])
        for ix in a.indexes
        if ix not in b.indexes
    ]


def uniques_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if not ctx.is_changed(a, b):
        return []
    assert a is not None and b is not None
    return [
        Node(_const(DropUnique(a.name, uq)), removes=[index_obj(a.name, uq.columns, uq.name, True)])
        for uq in a.uniques
        if uq not in b.uniques
    ]


def checks_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if not ctx.is_changed(a, b):
        return []
    assert a is not None and b is not None
    return [Node(_const(DropCheck(a.name, ck)), removes=[_check_obj(ck.name)]) for ck in a.checks if ck not in b.checks]


def columns_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    out = []
    for col in a.columns:
        if not b.column(col.name):
            backfill = zero_value(col) if needs_value(col) else None
            out.append(Node(_const(DropColumn(a.name, col, backfill)), removes=[column_obj(a.name, col)]))
    return out


def columns_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    name, out = b.name, []
    for col in b.columns:
        if a.column(col.name):
            continue
        backfill = None
        if needs_value(col):
            backfill = ctx.hints.backfills.get(name, {}).get(col.name)
            if backfill is None:
                raise ModelError(
                    f"{ctx.origin(name)}, field {col.name!r}: a NOT NULL column without a default cannot be added "
                    f"to the existing table {name!r} (its rows would get no value): give it a default=..., "
                    "make it nullable=True, or give a one-off backfill=<value> for the rows that exist"
                )
        out.append(Node(_const(AddColumn(name, col, backfill)), creates=[column_obj(name, col)]))
    return out


def columns_altered(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    name, out = b.name, []
    for col in b.columns:
        before = a.column(col.name)
        if before is None or before == col:
            continue
        if before.primary != col.primary:
            change = "joins" if col.primary else "leaves"
            raise ModelError(
                f"{ctx.origin(name)}, field {col.name!r}: the column {change} the primary key of the existing table "
                f"{name!r}, which an AlterColumn cannot do on every database: keep primary= as it was, "
                "or change the key by hand (make:migration --empty, then op.RunSQL that drops and adds "
                "the primary key)"
            )
        objs = [column_obj(name, col)] if ("column", name, col.name) in ctx.changed_keys else []
        out.append(Node(_const(AlterColumn(name, before, col)), removes=objs, creates=objs))
    return out


def table_created(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A new table with its foreign keys inline, but those that close a cycle (added after)."""
    assert b is not None
    table = replace(b, foreign_keys=tuple(fk for fk in b.foreign_keys if fk.name not in ctx.create_cycle_fks))
    if table.extra_members:  # a plugin's kinds are added by their own operations (members_added)
        table = replace(table, members=tuple((k, v) for k, v in table.members if k in BUILTIN_MEMBERS))
    return [Node(_const(CreateTable(table)), creates=table_objs(table))]


def indexes_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    return [
        Node(_const(CreateIndex(b.name, ix)), creates=[index_obj(b.name, ix.columns, ix.name, ix.unique)])
        for ix in b.indexes
        if ix not in a.indexes
    ]


def uniques_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    return [
        Node(_const(AddUnique(b.name, uq)), creates=[index_obj(b.name, uq.columns, uq.name, True)])
        for uq in b.uniques
        if uq not in a.uniques
    ]


def checks_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    return [Node(_const(AddCheck(b.name, ck)), creates=[_check_obj(ck.name)]) for ck in b.checks if ck not in a.checks]


def foreign_keys_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if b is None:
        return []
    if a is None:  # a new table's FKs that close a cycle, after all the tables exist
        fks = [fk for fk in b.foreign_keys if fk.name in ctx.create_cycle_fks]
    else:
        fks = [fk for fk in b.foreign_keys if fk not in a.foreign_keys or ctx.remade(b.name, fk)]
    return [Node(_const(AddForeignKey(b.name, fk)), creates=[fk_obj(b.name, fk)]) for fk in fks]


def table_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    """A dropped table, as it is when dropped (its cycle FKs are gone by then)."""
    assert a is not None
    live = replace(a, foreign_keys=tuple(f for f in a.foreign_keys if f.name not in ctx.drop_cycle_fks))
    return [Node(lambda state, n=a.name: DropTable(state.tables[n]), removes=table_objs(live))]


#: The registered comparators; within a phase, in this order (per table)
COMPARATORS: list[Comparator] = [
    Comparator("foreign_keys", "drop", foreign_keys_dropped),
    Comparator("indexes", "drop", indexes_dropped),
    Comparator("uniques", "drop", uniques_dropped),
    Comparator("checks", "drop", checks_dropped),
    Comparator("columns", "columns", columns_dropped),
    Comparator("columns", "columns", columns_added),
    Comparator("columns", "columns", columns_altered),
    Comparator("tables", "create_tables", table_created),
    Comparator("indexes", "add", indexes_added),
    Comparator("uniques", "add", uniques_added),
    Comparator("checks", "add", checks_added),
    Comparator("foreign_keys", "add_foreign_keys", foreign_keys_added),
    Comparator("tables", "drop_tables", table_dropped),
]


def members_dropped(kind: Kind) -> ComparatorFn:
    """The generic comparator of a plugin's kind, phase ``drop``: a value that is gone
    or changed is dropped from a kept table (a dropped table takes its own along)."""

    def fn(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
        if not ctx.is_changed(a, b):
            return []
        assert a is not None and b is not None
        wanted = b.member(kind.name)
        return [
            Node(_const(kind.drop(a.name, v)), removes=[member_obj(a.name, kind, v)])
            for v in a.member(kind.name)
            if v not in wanted
        ]

    return fn


def members_added(kind: Kind) -> ComparatorFn:
    """The generic comparator of a plugin's kind, phase ``add_foreign_keys``: a value
    that is new or changed is added, on a kept table or a created one, once the
    tables, columns and keys it may use exist."""

    def fn(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
        if b is None:
            return []
        had = a.member(kind.name) if a is not None else ()
        return [
            Node(_const(kind.add(b.name, v)), creates=[member_obj(b.name, kind, v)])
            for v in b.member(kind.name)
            if v not in had
        ]

    return fn


def kind_comparators(kind: Kind) -> list[Comparator]:
    """A plugin kind's comparators: its own, else the generic pair."""
    if kind.comparators:
        return list(kind.comparators)
    return [
        Comparator(kind.name, "drop", members_dropped(kind)),
        Comparator(kind.name, "add_foreign_keys", members_added(kind)),
    ]


def comparators() -> list[Comparator]:
    """Every comparator of this process: ``COMPARATORS`` (the core's kinds' and the
    registered ones), then the plugin kinds' in their registration order."""
    out = list(COMPARATORS)
    for kind in plugin_kinds():
        out += kind_comparators(kind)
    return out


def register_comparator(comparator: Comparator) -> None:
    """Add a comparator (a plugin's kind of object): it runs after the built-ins of its phase."""
    if comparator.phase not in PHASES:
        raise ValueError(f"comparator {comparator.kind!r}: unknown phase {comparator.phase!r} (one of {PHASES})")
    COMPARATORS.append(comparator)


# ---------------------------------------------------------------- before the renames, and the renames


def checks_dropped_before_renames(old: State, new: State, hints: DiffHints) -> list[Operation]:
    """Checks that go or change are dropped before any rename: a check is SQL text
    that names columns as they are now, so its inverse (adding it back on a
    rollback) must come after the renames are undone."""
    out: list[Operation] = []
    old_names = {new_name: old_name for new_name, old_name in hints.tables.items() if old_name in old.tables}
    for new_name in sorted(new.tables):
        old_name = old_names.get(new_name, new_name if new_name not in hints.tables else None)
        if old_name is None or old_name not in old.tables or (old_name != new_name and new_name in old.tables):
            continue
        wanted = new.tables[new_name].checks
        out += [DropCheck(old_name, ck) for ck in old.tables[old_name].checks if ck not in wanted]
    return out


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


# ---------------------------------------------------------------- the diff


def diff_states(old: State, new: State, hints: DiffHints | None = None) -> list[Operation]:
    if old == new:  # the every-day "no change": nothing to compare table by table
        return []
    hints = hints or DiffHints()
    rec = Recorder(old)
    for op in checks_dropped_before_renames(old, new, hints):
        rec.emit(op)
    declared_renames(rec, new, hints)
    ctx = DiffContext.build(rec.state, new, hints)
    nodes: list[Node] = []
    every = comparators()
    for phase in PHASES:
        fns = [c.fn for c in every if c.phase == phase]
        for a, b in ctx.pairs(phase):
            for fn in fns:
                nodes += fn(a, b, ctx)
    for node in dependency_order(nodes):  # the one place that orders by dependency
        rec.emit(node.make(rec.state))
    return rec.ops


def inverse_operations(ops: list[Operation]) -> list[Operation]:
    return [op.inverse() for op in reversed(ops)]


# ---------------------------------------------------------------- the core's kinds


def _columns_of(value: Any) -> tuple[str, ...]:
    return tuple(value.columns)


def _by_kind(name: str) -> tuple[Comparator, ...]:
    return tuple(c for c in COMPARATORS if c.kind == name)


#: The core's kinds, registered through the ``kinds`` hook (``relational.py``) as a
#: plugin's are; in the order their comparators run within a phase. The core's
#: model syntax (``compile.py``), renderers and reflection know them by their values.
BUILTIN_KINDS: tuple[Kind, ...] = (
    Kind(
        "foreign_keys", ForeignKey, AddForeignKey, DropForeignKey, "foreign key", "foreign_keys",
        columns=_columns_of, comparators=_by_kind("foreign_keys"), requires=("add_constraint_to_existing_table",),
        builtin=True,
    ),
    Kind(
        "indexes", Index, CreateIndex, DropIndex, "index", "indexes",
        columns=_columns_of, comparators=_by_kind("indexes"), builtin=True,
    ),
    Kind(
        "uniques", Unique, AddUnique, DropUnique, "unique constraint", "unique",
        columns=_columns_of, comparators=_by_kind("uniques"), requires=("add_unique_to_existing_table",),
        builtin=True,
    ),
    Kind(
        "checks", Check, AddCheck, DropCheck, "check constraint", "checks",
        comparators=_by_kind("checks"), requires=("add_constraint_to_existing_table", "check_constraints"),
        builtin=True,
    ),
)  # fmt: skip

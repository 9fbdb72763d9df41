"""The one dependency ordering of the diff.

Each operation says which schema objects it removes and which it creates, and
what each of those objects needs (a foreign key needs its columns, the referenced
table, its columns and the unique key over them; an index needs its columns; a
column needs its table). An object is removed only after everything removed with
it that needs it, and created only after everything it needs that is created
too; a name is freed before it is reused. So foreign keys are dropped before the
unique constraints, indexes and columns they use, a dropped table goes before
what its foreign keys referenced, and creations run in the reverse order. Between
operations that do not depend on each other the order is the phase order (the
order the comparators produced them in).

The objects each kind gives the ordering (``column_obj``, ``index_obj``,
``fk_obj``, ``member_obj``, ``table_objs``) are defined here with it, so the
ordering is in one place.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ...vocabulary.kinds import Kind, plugin_kinds
from ..operations import Operation
from ..state import Column, ForeignKey, Partition, State, Table

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


def index_obj(table: str, columns: tuple[str, ...], name: str, unique: bool, also: tuple[str, ...] = ()) -> Obj:
    """An index or unique key over ``columns`` (a key others may need when ``unique``),
    using ``also`` besides (INCLUDE columns)."""
    provides = frozenset({_key(table, columns)}) if unique else frozenset()
    return Obj(provides, frozenset({("table", table), *_cols(table, (*columns, *also))}), ("name", name))


def fk_obj(table: str, fk: ForeignKey) -> Obj:
    needs = {("table", table), ("table", fk.ref_table), _key(fk.ref_table, fk.ref_columns)}
    needs |= _cols(table, fk.columns) | _cols(fk.ref_table, fk.ref_columns)
    return Obj(frozenset(), frozenset(needs), ("name", fk.name))


def check_obj(name: str) -> Obj:
    return Obj(frozenset(), frozenset(), ("name", name))


def table_objs(t: Table) -> list[Obj]:
    # the table and its columns as one object: a column needs only its own table, which
    # the same node makes or drops (one object, not one per column: 21,000 in 1,000 tables)
    name = t.name
    out = [
        Obj(frozenset([("table", name), *[("column", name, c.name) for c in t.columns]]), frozenset(), ("table", name))
    ]
    if t.primary_key:
        out.append(Obj(frozenset({_key(t.name, t.primary_key)}), frozenset(_cols(t.name, t.primary_key))))
    out += [index_obj(t.name, i.columns, i.name, i.unique and i.plain, i.include) for i in t.indexes]
    out += [index_obj(t.name, u.columns, u.name, True) for u in t.uniques]
    out += [fk_obj(t.name, f) for f in t.foreign_keys]
    out += [Obj(frozenset(), frozenset({("table", t.name)}), ("name", c.name)) for c in t.checks]
    for kind_name, values in t.extra_members:
        kind = _plugin_kind(kind_name)
        out += [member_obj(t.name, kind, v) for v in values]
    for p in t.partitions:
        out += partition_objs(p)
    return out


def partition_objs(p: Partition) -> list[Obj]:
    """A partition's own indexes (by name) and foreign keys: these need the tables
    and keys they reference."""
    out = [Obj(frozenset(), frozenset(), ("name", i.name)) for i in p.indexes]
    for fk in p.foreign_keys:
        needs = {("table", fk.ref_table), _key(fk.ref_table, fk.ref_columns), *_cols(fk.ref_table, fk.ref_columns)}
        out.append(Obj(frozenset(), frozenset(needs), ("name", fk.name)))
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


def table_order(tables: list[Table]) -> tuple[list[Table], set[str]]:
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
        for fk in (f for p in t.partitions for f in p.foreign_keys):  # a partition's own: made with the table
            if fk.ref_table in names and fk.ref_table != t.name and fk.ref_table not in placed:
                if fk.ref_table in visiting:  # closes a cycle: added once every table exists
                    deferred.add(fk.name)
                else:
                    visit(by_name[fk.ref_table])
        visiting.discard(t.name)
        placed.add(t.name)
        done.append(t)

    for t in sorted(tables, key=lambda t: t.name):
        visit(t)
    return done, deferred

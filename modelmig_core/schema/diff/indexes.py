"""Indexes: one that goes or changes is dropped before the columns change, one
that is new or changed is created after."""

from __future__ import annotations

from ..operations import CreateIndex, DropIndex
from ..state import Index, Table
from .context import Comparator, DiffContext, const
from .ordering import Node, index_obj


def _obj(table: str, ix: Index) -> object:
    """The index as the ordering sees it: it uses its key and INCLUDE columns; only a
    plain unique one (every row, whole columns) is a key a foreign key may need.
    A changed option is a different value: a drop, then a create."""
    return index_obj(table, ix.columns, ix.name, ix.unique and ix.plain, ix.include)


def indexes_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if not ctx.is_changed(a, b):
        return []
    assert a is not None and b is not None
    return [Node(const(DropIndex(a.name, ix)), removes=[_obj(a.name, ix)]) for ix in a.indexes if ix not in b.indexes]


def indexes_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    return [Node(const(CreateIndex(b.name, ix)), creates=[_obj(b.name, ix)]) for ix in b.indexes if ix not in a.indexes]


#: the comparators of the ``indexes`` kind
COMPARATORS = (Comparator("indexes", "drop", indexes_dropped), Comparator("indexes", "add", indexes_added))

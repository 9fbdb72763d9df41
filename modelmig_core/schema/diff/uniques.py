"""Unique constraints: one that goes or changes is dropped before the columns
change, one that is new or changed is added after."""

from __future__ import annotations

from ..operations import AddUnique, DropUnique
from ..state import Table
from .context import Comparator, DiffContext, const
from .ordering import Node, index_obj


def uniques_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if not ctx.is_changed(a, b):
        return []
    assert a is not None and b is not None
    return [
        Node(const(DropUnique(a.name, uq)), removes=[index_obj(a.name, uq.columns, uq.name, True)])
        for uq in a.uniques
        if uq not in b.uniques
    ]


def uniques_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    return [
        Node(const(AddUnique(b.name, uq)), creates=[index_obj(b.name, uq.columns, uq.name, True)])
        for uq in b.uniques
        if uq not in a.uniques
    ]


#: the comparators of the ``uniques`` kind
COMPARATORS = (Comparator("uniques", "drop", uniques_dropped), Comparator("uniques", "add", uniques_added))

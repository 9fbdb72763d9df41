"""The generic comparators of a plugin's kind: a value that is gone or changed is
dropped before the columns change; one that is new or changed is added once the
tables, columns and keys it may use exist."""

from __future__ import annotations

from ...vocabulary.kinds import Kind
from ..state import Table
from .context import Comparator, ComparatorFn, DiffContext, const
from .ordering import Node, member_obj


def members_dropped(kind: Kind) -> ComparatorFn:
    """The generic comparator of a plugin's kind, phase ``drop``: a value that is gone
    or changed is dropped from a kept table (a dropped table takes its own along)."""

    def fn(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
        if not ctx.is_changed(a, b):
            return []
        assert a is not None and b is not None
        wanted = b.member(kind.name)
        return [
            Node(const(kind.drop(a.name, v)), removes=[member_obj(a.name, kind, v)])
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
            Node(const(kind.add(b.name, v)), creates=[member_obj(b.name, kind, v)])
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

"""Check constraints: one that goes or changes is dropped before any rename (its
SQL names columns as they are now), one that is new or changed is added after
the columns change."""

from __future__ import annotations

from ..operations import AddCheck, DropCheck, Operation
from ..state import State, Table
from .context import Comparator, DiffContext, DiffHints, const
from .ordering import Node, check_obj


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


def checks_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if not ctx.is_changed(a, b):
        return []
    assert a is not None and b is not None
    return [Node(const(DropCheck(a.name, ck)), removes=[check_obj(ck.name)]) for ck in a.checks if ck not in b.checks]


def checks_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    return [Node(const(AddCheck(b.name, ck)), creates=[check_obj(ck.name)]) for ck in b.checks if ck not in a.checks]


#: the comparators of the ``checks`` kind (and ``checks_dropped_before_renames``, run before them)
COMPARATORS = (Comparator("checks", "drop", checks_dropped), Comparator("checks", "add", checks_added))

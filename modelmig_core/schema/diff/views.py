"""The views the models declare, around the tables' operations.

A view is created after every table it reads (it reads them by name: sqlglot
finds them in its SELECT) and after the views it reads; it is dropped before
any operation on a table it reads, and created again after them, on every
database (PostgreSQL refuses to change a column a view uses, MariaDB leaves a
view broken by a rename): its SELECT is the model's, which names the tables and
columns as they are after the change. A view whose SELECT alone changes is
replaced in place. Views that read a view that is dropped are dropped first,
and created again after it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..operations import CreateView, DropView, Operation, RenameTable, ReplaceView
from ..state import State, View
from ..views import tables_read


def touched_tables(ops: Iterable[Operation]) -> set[str]:
    """The tables the operations change (both names of a rename)."""
    out: set[str] = set()
    for op in ops:
        if isinstance(op, RenameTable):
            out |= {op.old, op.new}
        elif op.subject is not None:
            out.add(op.subject)
    return out


def view_order(views: dict[str, View]) -> list[str]:
    """The views' names, each after the views it reads (by name otherwise); a cycle
    keeps the name order for what is left."""
    reads = {n: tables_read(v.select) & set(views) - {n} for n, v in views.items()}
    out: list[str] = []
    placed: set[str] = set()
    while len(out) < len(views):
        ready = sorted(n for n in views if n not in placed and reads[n] <= placed)
        if not ready:
            ready = sorted(n for n in views if n not in placed)[:1]
        for n in ready:
            out.append(n)
            placed.add(n)
    return out


def views_around(old: State, new: State, table_ops: list[Operation]) -> list[Operation]:
    """``table_ops`` with the views' operations around them: drops first (views that
    read a view before it), creations and replacements last (in ``view_order``)."""
    touched = touched_tables(table_ops)
    dropped: set[str] = set()
    replaced: set[str] = set()
    for name, view in old.views.items():
        wanted = new.views.get(name)
        if wanted is None or tables_read(view.select) & touched:
            dropped.add(name)
        elif wanted != view:
            replaced.add(name)
    # a view that reads a view that is dropped or replaced goes with it, and comes back after
    changed = True
    while changed:
        changed = False
        for name, view in old.views.items():
            if name not in dropped and tables_read(view.select) & (dropped | replaced):
                dropped.add(name)
                replaced.discard(name)
                changed = True
    replaced -= dropped
    old_order = view_order(old.views)
    new_order = view_order(new.views)
    out: list[Operation] = [DropView(old.views[n]) for n in reversed(old_order) if n in dropped]
    out += table_ops
    for name in new_order:
        if name in replaced:
            out.append(ReplaceView(old.views[name], new.views[name]))
        elif name not in old.views or name in dropped:
            out.append(CreateView(new.views[name]))
    return out

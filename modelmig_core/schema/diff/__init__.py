"""The relational diff: the operations that turn one SQL state into another.

Registered as the core's own ``diff`` plugin (``model/relational.py``). Declared
renames come in ``hints``; nothing is guessed, so a rename is never a drop plus an
add.

A package of small modules, a comparator per kind and one dependency ordering:

- ``context``: ``DiffHints``, ``DiffContext`` (computed once per diff), the
  ``Comparator`` record and the ``PHASES``, the ``Recorder``, backfill rules;
- ``ordering``: the objects each operation removes and creates, and
  ``dependency_order``, the one place the result is ordered;
- ``tables``, ``columns``, ``indexes``, ``uniques``, ``foreign_keys``, ``checks``:
  the core's comparators, each module with its kind's (``COMPARATORS``);
- ``members``: the generic comparators of a plugin's kind;
- ``views``: the views the models declare, dropped before and created after
  the operations on the tables they read.

The core's kinds themselves (``Kind`` objects with these comparators and their
model syntax) are ``model/kinds.py``'s ``BUILTIN_KINDS``.

Checks that go or change are dropped first (their SQL names columns as they are
before any rename), then the declared renames run. Every comparator,
``fn(old_table, new_table, context) -> list[Node]``, is then asked phase by phase
(``PHASES``; ``DiffContext.pairs`` says about which tables); within a phase in the
order of ``COMPARATORS`` (``register_comparator`` adds one after the built-ins of
its phase), then the plugin kinds'. Between operations that do not depend on each
other the order is the phase order: drops of FKs, indexes, uniques and checks;
columns; new tables (FK targets first); new indexes, uniques, checks; new FKs;
dropped tables (children first).

A foreign key whose columns change type, or whose referenced unique key is
dropped and made again, is dropped and added back around the change (databases
refuse to change what a foreign key uses).
"""

from __future__ import annotations

from dataclasses import replace

from ...vocabulary.kinds import plugin_kinds
from ..operations import Operation
from ..state import State
from . import checks, columns, foreign_keys, indexes, tables, uniques
from .checks import checks_dropped_before_renames
from .context import (
    PHASES,
    TYPE_FIELDS,
    Comparator,
    ComparatorFn,
    DiffContext,
    DiffHints,
    Recorder,
    needs_value,
    zero_value,
)
from .members import kind_comparators, members_added, members_dropped
from .ordering import Key, Node, Obj, column_obj, dependency_order, fk_obj, index_obj, member_obj, table_objs
from .tables import declared_renames
from .views import views_around

__all__ = [
    "COMPARATORS",
    "PHASES",
    "TYPE_FIELDS",
    "Comparator",
    "ComparatorFn",
    "DiffContext",
    "DiffHints",
    "Key",
    "Node",
    "Obj",
    "Recorder",
    "column_obj",
    "comparators",
    "dependency_order",
    "diff_states",
    "fk_obj",
    "index_obj",
    "inverse_operations",
    "kind_comparators",
    "member_obj",
    "members_added",
    "members_dropped",
    "needs_value",
    "register_comparator",
    "table_objs",
    "zero_value",
]

#: The registered comparators; within a phase, in this order (per table): the
#: core's kinds' (foreign keys, indexes, uniques, checks), columns', tables'
COMPARATORS: list[Comparator] = [
    *foreign_keys.COMPARATORS,
    *indexes.COMPARATORS,
    *uniques.COMPARATORS,
    *checks.COMPARATORS,
    *columns.COMPARATORS,
    *tables.COMPARATORS,
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


def diff_states(old: State, new: State, hints: DiffHints | None = None) -> list[Operation]:
    if old == new:  # the every-day "no change": nothing to compare table by table
        return []
    if old.views or new.views:  # the views around the tables' operations (``views.py``)
        return views_around(old, new, _table_operations(replace(old, views={}), replace(new, views={}), hints))
    return _table_operations(old, new, hints)


def _table_operations(old: State, new: State, hints: DiffHints | None) -> list[Operation]:
    if old == new:
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

"""Foreign keys: dropped first (before what they use changes), added last (once
the tables, columns and keys they use exist), and dropped and added back around
a change of a column or key they use."""

from __future__ import annotations

from ..operations import AddForeignKey, DropForeignKey
from ..state import Table
from .context import Comparator, DiffContext, const
from .ordering import Node, fk_obj


def foreign_keys_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if a is None:
        return []
    if b is None:  # FKs among dropped tables that form a cycle are dropped before the tables
        fks = [fk for fk in a.foreign_keys if fk.name in ctx.drop_cycle_fks]
    else:
        fks = [fk for fk in a.foreign_keys if fk not in b.foreign_keys or ctx.remade(a.name, fk)]
    return [Node(const(DropForeignKey(a.name, fk)), removes=[fk_obj(a.name, fk)]) for fk in fks]


def foreign_keys_added(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    if b is None:
        return []
    if a is None:  # a new table's FKs that close a cycle, after all the tables exist
        fks = [fk for fk in b.foreign_keys if fk.name in ctx.create_cycle_fks]
    else:
        fks = [fk for fk in b.foreign_keys if fk not in a.foreign_keys or ctx.remade(b.name, fk)]
    return [Node(const(AddForeignKey(b.name, fk)), creates=[fk_obj(b.name, fk)]) for fk in fks]


#: the comparators of the ``foreign_keys`` kind
COMPARATORS = (
    Comparator("foreign_keys", "drop", foreign_keys_dropped),
    Comparator("foreign_keys", "add_foreign_keys", foreign_keys_added),
)

"""Columns of kept tables: dropped, added (a NOT NULL one without a default needs
a backfill), altered (never into or out of the primary key)."""

from __future__ import annotations

from ...errors import ModelError
from ..operations import AddColumn, AlterColumn, DropColumn
from ..state import Table
from .context import Comparator, DiffContext, const, needs_value, zero_value
from .ordering import Node, column_obj


def columns_dropped(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    out = []
    for col in a.columns:
        if not b.column(col.name):
            backfill = zero_value(col) if needs_value(col) else None
            out.append(Node(const(DropColumn(a.name, col, backfill)), removes=[column_obj(a.name, col)]))
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
        out.append(Node(const(AddColumn(name, col, backfill)), creates=[column_obj(name, col)]))
    return out


def columns_altered(a: Table | None, b: Table | None, ctx: DiffContext) -> list[Node]:
    assert a is not None and b is not None
    name, out = b.name, []
    for col in b.columns:
        before = a.column(col.name)
        if before is None or before == col:
            continue
        key = ("primary", "primary_position", "primary_length")
        if any(getattr(before, k) != getattr(col, k) for k in key):
            change = (
                "joins"
                if col.primary and not before.primary
                else "leaves"
                if before.primary and not col.primary
                else "moves in"
            )
            raise ModelError(
                f"{ctx.origin(name)}, field {col.name!r}: the column {change} the primary key of the existing table "
                f"{name!r}, which an AlterColumn cannot do on every database: keep primary= as it was, "
                "or change the key by hand (make:migration --empty, then op.RunSQL that drops and adds "
                "the primary key)"
            )
        if (before.generated, before.stored) != (col.generated, col.stored):
            raise ModelError(
                f"{ctx.origin(name)}, field {col.name!r}: a generated column's expression or storage cannot be "
                f"altered in place on every database: drop the column in one migration and add it back in the next"
            )
        objs = [column_obj(name, col)] if ("column", name, col.name) in ctx.changed_keys else []
        out.append(Node(const(AlterColumn(name, before, col)), removes=objs, creates=objs))
    return out


#: the comparators of columns, in their order
COMPARATORS = (
    Comparator("columns", "columns", columns_dropped),
    Comparator("columns", "columns", columns_added),
    Comparator("columns", "columns", columns_altered),
)

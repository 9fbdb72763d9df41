"""What a destructive operation drops, named for the operator: ``make:migration``
lists it when it writes the file (and marks it in the file), and run/rollback
print it per connection with the rows the table holds before the drop."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .operations import Operation

DROPS_DATA = "drops data"


def dropped(op: Operation) -> list[tuple[str | None, str | None]]:
    """[(table, column)] that ``op`` drops: (table, None) for a whole table or
    collection, (None, None) when only the operation can say (raw SQL). An
    operation may answer itself with a ``drops()`` method returning such pairs."""
    custom = getattr(op, "drops", None)
    if callable(custom):
        return [(t, c) for t, c in custom()]
    table = op.subject
    column = getattr(op, "column", None)
    column_name = getattr(column, "name", None)
    if table and isinstance(column_name, str):
        return [(table, column_name)]
    if table:
        return [(table, None)]
    return [(None, None)]


def destructive_ops(ops: list[Operation]) -> list[Operation]:
    return [op for op in ops if op.destructive]


def marker(op: Operation) -> str:
    """The comment a migration file carries above an operation that drops data."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in op.describe())  # one comment line
    return f"# {DROPS_DATA}: {text}"

"""What a destructive operation drops, named for the operator: ``make:migration``
lists it when it writes the file (and marks it in the file), and run/rollback
print it per connection with the rows the table holds before the drop, counted
under the name the table has when the migration starts (a table renamed earlier in
the same migration is counted under its old name).

A type change that narrows (``column_types.narrowing``) drops what does not fit:
before the column is altered, ``fit_checks`` reads its rows and the migration
fails, changing nothing, while any row does not fit the new type."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..driver import Statement, Step
    from ..schema.operations import Operation

DROPS_DATA = "drops data"
FETCH = 10_000  # rows read at a time by a fit check


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


def what(op: Operation) -> str:
    """What a destructive operation does, on one line: its ``destructive_detail``
    (the statement of raw SQL, the narrowing of a type change) or its description."""
    text = getattr(op, "destructive_detail", None) or op.describe()
    return " ".join(str(text).split())


def marker(op: Operation) -> str:
    """The comment a migration file carries above an operation that drops data (one
    line, whatever the names in it hold)."""
    text = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in what(op))  # NUL, ESC: escaped
    return f"# {DROPS_DATA}: {text}"


# ---------------------------------------------------------------- counted under the names of the moment


@dataclass(frozen=True)
class Drop:
    """One thing a migration drops: ``table`` and ``column`` as the operation names
    them; ``counted`` the table to count rows in when the migration starts (its name
    then), None when there is nothing to count there (raw SQL, or a table the
    migration itself creates: ``new`` is then True and it holds no rows yet)."""

    op: Operation
    table: str | None
    column: str | None
    counted: str | None
    new: bool = False


def drops(ops: Sequence[Operation]) -> list[Drop]:
    """What each destructive operation of ``ops`` (in the order they run) drops, with
    the name each table has before the first of them runs."""
    start = _Names()
    out: list[Drop] = []
    for op in ops:
        if op.destructive:
            for table, column in dropped(op):
                if table is None:
                    out.append(Drop(op, None, column, None))
                    continue
                origin = start.table(table)
                out.append(Drop(op, table, column, origin, new=origin is None))
        start.follow(op)
    return out


class _Names:
    """Table and column names followed back through a migration's operations to the
    names they have when it starts (None: made by the migration itself)."""

    def __init__(self) -> None:
        self.tables: dict[str, str | None] = {}  # name now -> name at the start
        self.columns: dict[tuple[str | None, str], str | None] = {}  # (start table, name now) -> name at start

    def table(self, name: str) -> str | None:
        return self.tables.get(name, name)

    def column(self, table: str, name: str) -> tuple[str | None, str | None]:
        origin = self.table(table)
        return origin, self.columns.get((origin, name), name)

    def follow(self, op: Operation) -> None:
        from ..schema.operations import AddColumn, CreateTable, DropColumn, DropTable, RenameColumn, RenameTable

        if isinstance(op, RenameTable):
            self.tables[op.new] = self.table(op.old)
            self.tables[op.old] = None  # a table made under the old name later is new
        elif isinstance(op, (CreateTable, DropTable)):
            self.tables[op.table.name] = None
        elif isinstance(op, RenameColumn):
            origin, col = self.column(op.table, op.old)
            self.columns[(origin, op.new)] = col
            self.columns[(origin, op.old)] = None
        elif isinstance(op, (AddColumn, DropColumn)):
            self.columns[(self.table(op.table), op.column.name)] = None


# ---------------------------------------------------------------- narrowing: the rows must fit


def fit_checks(steps: Sequence[Step], renderer: Any) -> tuple[list[Statement], dict[int, list[Statement]]]:
    """The checks that every row of a narrowed column fits its new type, as
    statements the session performs: those that can run before anything of the
    migration did (the column and its values are as they were when it started: a
    database without transactional DDL then changes nothing either), and, by step
    index, those that must run just before their step (the column was made, changed
    or written by an earlier step of the same migration)."""
    from ..schema.operations import (
        AddColumn,
        AlterColumn,
        CreateIndex,
        CreateTable,
        DropColumn,
        DropIndex,
        DropTable,
        RenameColumn,
        RenameTable,
    )

    plain = (AddColumn, CreateTable, DropColumn, DropTable, RenameColumn, RenameTable, CreateIndex, DropIndex)
    names = _Names()
    touched: set[tuple[str | None, str | None]] = set()
    written = False  # an earlier step may have changed rows (raw SQL or Python, or any other kind)
    front: list[Statement] = []
    at: dict[int, list[Statement]] = {}
    for i, step in enumerate(steps):
        op = step.op
        if isinstance(op, AlterColumn):
            origin = names.column(op.table, op.old.name)
            if op.narrows is not None:
                if not written and None not in origin and origin not in touched:
                    table, column = origin
                    assert table is not None and column is not None
                    front.append(_fit_check(renderer, table, column, op))
                else:
                    at.setdefault(i, []).append(_fit_check(renderer, op.table, op.old.name, op))
            touched.add(origin)
        elif not isinstance(op, plain) and type(op).__name__ not in _SCHEMA_ONLY:
            written = True
        names.follow(op)
    return _together(front), at


def _together(checks: list[Statement]) -> list[Statement]:
    """The checks that run first, as one statement: reading rows changes nothing, so
    the ledger of a database without transactional DDL still says nothing ran when
    the second check fails."""
    from ..driver import Statement

    if len(checks) < 2:
        return checks
    actions = [c.action for c in checks if c.action is not None]

    def check_all(raw: Any) -> None:
        for action in actions:
            action(raw)

    text = ";\n".join(c.text for c in checks)
    return [Statement(text, action=check_all, label=f"check the rows of {len(checks)} narrowed columns")]


# operations that change no row (constraints are checked by the server, never rewrite values)
_SCHEMA_ONLY = frozenset({"AddCheck", "DropCheck", "AddForeignKey", "DropForeignKey", "AddUnique", "DropUnique"})


def _fit_check(renderer: Any, table: str, column: str, op: Any) -> Statement:
    """A statement that reads every non-NULL value of ``table.column`` (and the
    server's text of it) and fails, naming the table, the column and how many rows,
    when any does not fit the new type of ``op``."""
    import sqlalchemy as sa

    from ..driver import Statement
    from ..errors import MigrationFailed
    from ..vocabulary.column_types import fits, type_label

    col = sa.column(column)
    query = sa.select(col, sa.cast(col, sa.Text())).select_from(sa.table(table)).where(col.is_not(None))
    sql = str(query.compile(dialect=renderer.dialect))
    fit = fits(op.old, op.new)
    label = type_label(op.new)
    narrows = op.narrows

    def check(raw: Any) -> None:
        # connection.execute() (sqlite3, psycopg, DuckDB) may return the connection
        # itself (DuckDB): only a cursor opened here is closed here
        cursor = raw.execute(sql) if hasattr(raw, "execute") else None
        opened = cursor is None
        if opened:
            cursor = raw.cursor()
            cursor.execute(sql)
        total = bad = 0
        try:
            while rows := cursor.fetchmany(FETCH):
                for value, text in rows:
                    total += 1
                    if not fit(value, text):
                        bad += 1
        finally:
            if opened:
                cursor.close()
        if bad:
            raise MigrationFailed(
                f"{bad} of the {total} non-NULL row(s) of {table}.{column} do not fit {label} "
                f"(the change narrows {narrows}); the column was left as it is: make those rows fit first "
                "(op.RunSQL with an UPDATE before it), or keep the old type"
            )

    flat = " ".join(f"{table}.{column}".split())
    return Statement(sql, action=check, label=f"check that every row of {flat} fits {label}")

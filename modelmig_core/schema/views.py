"""Which columns the views of a live database use: read by each SQL session's
``live_facts`` before a migration (views are not in the models), so that
dropping a column a view uses is refused the same way on every database.

A session that can ask its catalogue (PostgreSQL's ``view_column_usage``) gives
the pairs directly; the others give each view's SQL, understood here with
sqlglot: a column named with a table (or its alias) is that table's, a bare
column may be any of the view's tables', and ``*`` is every column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

ALL = "*"


@dataclass
class ViewColumns:
    """(view, table, column) triples; column ``*`` means every column of the table."""

    uses: set[tuple[str, str, str]] = field(default_factory=set)

    def add_sql(self, view: str, sql: str, dialect: str) -> None:
        self.uses |= {(view, t, c) for t, c in columns_of_view(sql, dialect)}

    def using(self, table: str, column: str) -> list[str]:
        return sorted({v for v, t, c in self.uses if t == table and c in (column, ALL)})

    def rename_table(self, old: str, new: str) -> None:
        self.uses = {(v, new if t == old else t, c) for v, t, c in self.uses}


def columns_of_view(sql: str, dialect: str) -> set[tuple[str, str]]:
    """{(table, column)} a view's SQL (``CREATE VIEW ... AS SELECT`` or the SELECT
    alone) reads; empty when sqlglot cannot parse it (the database then has the
    last word)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.ParseError:
        return set()
    if tree is None:
        return set()
    if isinstance(tree, exp.Create):
        tree = tree.expression or tree
    aliases: dict[str, str] = {}
    tables: set[str] = set()
    for t in tree.find_all(exp.Table):
        tables.add(t.name)
        aliases[t.alias_or_name] = t.name
        aliases[t.name] = t.name
    out: set[tuple[str, str]] = set()
    for col in tree.find_all(exp.Column):
        name = col.name
        targets = [aliases[col.table]] if col.table and col.table in aliases else sorted(tables)
        if isinstance(col.this, exp.Star):
            name = ALL
        out |= {(t, name) for t in targets}
    for star in tree.find_all(exp.Star):
        if not isinstance(star.parent, exp.Column) and not isinstance(star.parent, exp.Count):
            out |= {(t, ALL) for t in tables}
    return out


def views_using(facts: Any, table: str, column: str) -> list[str]:
    """The views that use ``table.column``, from a session's live facts (those
    that carry ``views: ViewColumns``); [] when the facts say nothing of views."""
    views = getattr(facts, "views", None)
    if isinstance(views, ViewColumns):
        return views.using(table, column)
    return []


def from_pairs(rows: Iterable[tuple[Any, Any, Any]]) -> ViewColumns:
    return ViewColumns({(str(v), str(t), str(c)) for v, t, c in rows})


def expression_columns(expression: str) -> set[str]:
    """The column names a SQL expression (a check) mentions; empty when sqlglot
    cannot parse it."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(expression)
    except sqlglot.errors.ParseError:
        return set()
    return {c.name for c in tree.find_all(exp.Column)} if tree is not None else set()

"""Views read back from a live database and compared with the models' views.

Reflection reads each view's definition through the Inspector
(``get_view_names`` / ``get_view_definition``) and keeps its SELECT; drift
compares SELECTs as sqlglot normalizes them: names without their schema,
every column qualified by its table and every output named (sqlglot's
``qualify``, with the tables' and the views' own columns), a join the server
wrapped in parentheses unwrapped, then ``normalize_sql``'s spelling. Two
SELECTs that read the same are then the same text, however the server wrote
its copy back (PostgreSQL qualifies and parenthesizes, MariaDB adds the
schema and aliases every column, SQLite keeps the text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..schema.diff.views import view_order
from ..schema.state import State, View


def select_of(definition: str, dialect: str) -> str | None:
    """The SELECT of a view's definition (``CREATE VIEW ... AS SELECT`` or the
    SELECT alone) written as the database reads it; None when sqlglot cannot read it
    as one SELECT."""
    import sqlglot
    from sqlglot import exp

    from ..schema.sqltext import _quiet

    try:
        with _quiet():
            trees = [t for t in sqlglot.parse(definition, read=dialect or None) if t is not None]
    except (sqlglot.errors.SqlglotError, ValueError):
        return None
    if len(trees) != 1:
        return None
    tree = trees[0]
    if isinstance(tree, exp.Create):
        tree = tree.expression
    if not isinstance(tree, exp.Query):
        return None
    _unqualified(tree)
    return str(tree.sql(dialect=dialect or None))


def _unqualified(tree: Any) -> None:
    """Names without their schema (MariaDB writes ``db.table.column`` in its copy)."""
    from sqlglot import exp

    for node in tree.find_all(exp.Table, exp.Column):
        for key in ("db", "catalog"):
            if node.args.get(key) is not None:
                node.set(key, None)


def read_views(insp: Any, dialect: str, skip: Callable[[str], bool]) -> dict[str, View]:
    """{name: View} of every view of the inspected schema whose definition reads as
    one SELECT (the others stay unmanaged objects, named by the driver)."""
    out: dict[str, View] = {}
    try:
        names = sorted(insp.get_view_names())
    except NotImplementedError:  # a dialect SQLAlchemy reads no views of
        return out
    for name in names:
        if skip(name):
            continue
        try:
            definition = insp.get_view_definition(name)
        except NotImplementedError:
            return {}
        select = select_of(str(definition), dialect) if definition else None
        if select is not None:
            out[name] = View(name, select)
    return out | read_materialized(insp, dialect, skip)


def read_materialized(insp: Any, dialect: str, skip: Callable[[str], bool]) -> dict[str, View]:
    """The materialized views (where the dialect has them) whose definition reads as
    one SELECT and that have no index (an index on one is not held by a View model:
    it stays an unmanaged object, named with its index)."""
    out: dict[str, View] = {}
    try:
        names = sorted(insp.get_materialized_view_names())
    except (NotImplementedError, AttributeError):
        return out
    for name in names:
        if skip(name) or insp.get_indexes(name):
            continue
        definition = insp.get_view_definition(name)
        select = select_of(str(definition), dialect) if definition else None
        if select is not None:
            out[name] = View(name, select, materialized=True)
    return out


def _unwrap_joins(tree: Any) -> None:
    """``FROM (a JOIN b ON ...)`` (PostgreSQL's copy) as ``FROM a JOIN b ON ...``."""
    from sqlglot import exp

    for select in list(tree.find_all(exp.Select)):
        source = select.args.get("from_") or select.args.get("from")
        if source is None:
            continue
        inner = source.this
        while isinstance(inner, exp.Subquery) and not inner.alias and isinstance(inner.this, exp.Table):
            table = inner.this
            joins = table.args.get("joins") or []
            table.set("joins", None)
            source.set("this", table)
            select.set("joins", [*joins, *(select.args.get("joins") or [])])
            inner = source.this


def normalized_select(
    select: str, dialect: str, schema: dict[str, dict[str, str]], normalize: Callable[[str], str]
) -> tuple[str, list[str]]:
    """(the SELECT spelled one way, its output columns; ``normalize`` is the
    reflection's spelling of SQL text); as written (stripped) when sqlglot cannot
    read it."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.optimizer.qualify import qualify

    from ..schema.sqltext import _quiet

    try:
        with _quiet():
            tree = sqlglot.parse_one(select, read=dialect or None)
            if isinstance(tree, exp.Create):
                tree = tree.expression
            _unqualified(tree)
            _unwrap_joins(tree)
            tree = qualify(tree, schema=schema, dialect=dialect or None, validate_qualify_columns=False, identify=False)
            columns = list(tree.named_selects) if isinstance(tree, exp.Query) else []
            text = normalize(tree.sql(dialect=dialect or None))
    except (sqlglot.errors.SqlglotError, ValueError, KeyError, AttributeError):
        return " ".join(select.split()), []
    return text, columns


def comparable_views(state: State, dialect: str, normalize: Callable[[str], str]) -> dict[str, View]:
    """The state's views, each SELECT normalized (``normalized_select``) against the
    state's tables and the views before it."""
    schema: dict[str, dict[str, str]] = {t.name: {c.name: "int" for c in t.columns} for t in state.tables.values()}
    out: dict[str, View] = {}
    for name in view_order(state.views):
        text, columns = normalized_select(state.views[name].select, dialect, schema, normalize)
        schema[name] = {c: "int" for c in columns}
        out[name] = View(name, text, state.views[name].materialized)
    return dict(sorted(out.items()))

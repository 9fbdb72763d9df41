"""SQL text in the models, written in one declared dialect, for each database.

A model's SQL text (a check, a generated column's expression, an index's
predicate or expression, a view's SELECT) is written in the dialect the project
declares (``sql_dialect = "postgres"`` in ``[tool.modelmig]``, or a chain's own;
undeclared: standard SQL, sqlglot's generic dialect). Each connection's renderer
writes it in its own dialect with sqlglot (``transpile``), and make refuses it
for a connection where the transpile is not faithful: sqlglot reports something
it cannot write there, or the text written there does not read back as the same
tree (``NotFaithful``). The state keeps the text as the model wrote it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

#: SQLAlchemy's dialect names that sqlglot spells otherwise
SQLGLOT_DIALECTS = {"postgresql": "postgres", "mariadb": "mysql"}


def sqlglot_name(dialect: str | None) -> str:
    """sqlglot's name of a SQLAlchemy dialect (``postgresql`` -> ``postgres``);
    ``""`` for none (sqlglot's generic dialect)."""
    return SQLGLOT_DIALECTS.get(dialect or "", dialect or "")


class NotFaithful(ValueError):
    """The text cannot be written faithfully in the target dialect (the message says why)."""


def known_dialect(name: str) -> bool:
    """Whether sqlglot has a dialect of this name."""
    from sqlglot.dialects.dialect import Dialect

    try:
        return Dialect.get(name) is not None
    except (ValueError, KeyError):  # pragma: no cover - sqlglot versions differ here
        return False


def _read(text: str, dialect: str, query: bool) -> Any:
    """One expression (or, ``query``, one SELECT) read in ``dialect``: no ';', no
    comment, balanced parentheses, and no statement inside (``sqltext``'s rules
    for a check, for every piece of model SQL)."""
    import sqlglot
    from sqlglot import exp

    from .sqltext import _as_expression, _quiet, _statement_in, _token_problem

    with _quiet():
        problem = _token_problem(text, dialect or None)
        if problem is not None:
            raise NotFaithful(problem)
        try:
            trees = sqlglot.parse(text if query else _as_expression(text, dialect or None), read=dialect or None)
        except (sqlglot.errors.SqlglotError, ValueError) as exc:
            raise NotFaithful(f"cannot be read as {_label(dialect)} SQL: {str(exc).splitlines()[0]}") from None
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise NotFaithful(f"must be one {'query' if query else 'expression'}, not {len(trees)} statements")
    tree = trees[0]
    if query:
        if not isinstance(tree, exp.Query):
            raise NotFaithful("must be one SELECT")
        writes = (exp.DDL, exp.DML, exp.Command, exp.Drop, exp.Alter, exp.TruncateTable)
        inner = next((n for n in tree.walk() if isinstance(n, writes)), None)
        if inner is not None:
            raise NotFaithful(f"contains a {inner.key.upper()} (a view is one SELECT that writes nothing)")
        return tree
    statement = _statement_in([tree])
    if statement is not None:
        raise NotFaithful(statement)
    while isinstance(tree, exp.Paren):  # the parentheses around an expression that starts with a command word
        tree = tree.this
    return tree


def _label(dialect: str) -> str:
    return dialect or "standard"


def _spelled(tree: Any, dialect: str) -> str:
    """A tree written in ``dialect`` with every name quoted as that dialect reads it
    unquoted (so that `lock`, "lock" and lock compare equal where they mean the same)."""
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    tree = normalize_identifiers(tree.copy(), dialect=dialect or None)
    return str(tree.sql(dialect=dialect or None, identify=True, comments=False))


def _unknown_functions(tree: Any) -> list[str]:
    """Functions sqlglot does not know (it passes them through as written)."""
    from sqlglot import exp

    return sorted({str(f.name) for f in tree.find_all(exp.Anonymous)})


def transpile(text: str, source: str, target: str, *, query: bool = False) -> str:
    """``text`` (one expression, or ``query``: one SELECT) written in ``source``,
    as ``target`` reads it. The same dialect: the text as written (once it reads
    as one expression). Else sqlglot writes it for ``target`` with unsupported
    features an error, and the result must read back in ``target`` as the tree
    ``source`` read (both written in ``source`` the same), and call no function
    sqlglot does not know: else ``NotFaithful``."""
    from sqlglot.errors import ErrorLevel, SqlglotError, UnsupportedError

    tree = _read(text, source, query)
    if source == target:
        return text
    unknown = _unknown_functions(tree)
    if unknown:
        names = ", ".join(f"{n}()" for n in unknown)
        raise NotFaithful(
            f"calls {names}, which sqlglot does not know: its meaning on {_label(target)} cannot be checked"
        )
    try:
        written = tree.sql(dialect=target or None, unsupported_level=ErrorLevel.RAISE, comments=False)
    except (UnsupportedError, SqlglotError, ValueError) as exc:
        raise NotFaithful(f"{_label(target)} has no faithful form: {str(exc).splitlines()[0]}") from None
    back = _read(written, target, query)
    if _spelled(back, source) != _spelled(tree, source):
        raise NotFaithful(
            f"written for {_label(target)} as {written!r}, which {_label(target)} reads otherwise "
            f"than {_label(source)} reads {text!r}"
        )
    return written


@dataclass(frozen=True)
class ModelSql:
    """One piece of SQL text a state holds: its table, the field or member that
    holds it (for messages), whether it is a query, and the text."""

    table: str
    field: str | None
    what: str
    text: str
    query: bool = False


def model_sql(state: Any) -> Iterator[ModelSql]:
    """Every piece of SQL text ``state`` holds (a SQL state; another family's: none)."""
    tables = getattr(state, "tables", None)
    if not isinstance(tables, dict):
        return
    for table in tables.values():
        for ck in getattr(table, "checks", ()):
            yield ModelSql(table.name, None, f"check {ck.name}", ck.expression)
        for col in getattr(table, "columns", ()):
            generated = getattr(col, "generated", None)
            if isinstance(generated, str):
                yield ModelSql(table.name, col.name, "generated expression", generated)
            default_sql = getattr(col, "default_sql", None)
            if isinstance(default_sql, str):
                yield ModelSql(table.name, col.name, "default expression", default_sql)
        yield from _index_sql(table.name, "", getattr(table, "indexes", ()))
        for partition in getattr(table, "partitions", None) or ():
            yield from _index_sql(table.name, f"partition {partition.name} ", partition.indexes)
    for view in (getattr(state, "views", None) or {}).values():
        yield ModelSql(view.name, None, f"view {view.name}", view.select, query=True)


def _index_sql(table: str, owner: str, indexes: Any) -> Iterator[ModelSql]:
    """The predicates and expressions of ``indexes`` (a table's, or with ``owner``
    ``"partition p "``, one of its partitions' own)."""
    for ix in indexes:
        where = getattr(ix, "where", None)
        if isinstance(where, str):
            yield ModelSql(table, None, f"{owner}index {ix.name} predicate", where)
        for expression in getattr(ix, "expressions", None) or ():
            if isinstance(expression, str):
                yield ModelSql(table, None, f"{owner}index {ix.name} expression", expression)


def refusals(state: Any, source: str, target: str) -> Iterator[tuple[ModelSql, str]]:
    """Each piece of ``state``'s SQL text that cannot be written faithfully for
    ``target`` from ``source``, with why. Texts in the same dialect are checked
    only to read as one expression; an undeclared source dialect checks only
    the new kinds of text (checks keep their standard-SQL reading)."""
    for item in model_sql(state):
        if not source and item.what.startswith("check "):
            continue
        try:
            transpile(item.text, source, target, query=item.query)
        except NotFaithful as exc:
            yield item, str(exc)


def state_for(state: Any, source: str, target: str) -> Any:
    """``state`` with its SQL text (generated columns, expression defaults, index
    predicates and expressions; checks when ``source`` is declared) as ``target``
    reads it: what drift compares with what the database reflects. A text that has no faithful form is kept as written
    (make refused it; the comparison then reports it)."""
    from dataclasses import replace

    tables = getattr(state, "tables", None)
    if not isinstance(tables, dict) or source == target:
        return state

    def one(text: str) -> str:
        try:
            return transpile(text, source, target)
        except NotFaithful:
            return text

    def written(indexes: Any) -> tuple[Any, ...]:
        return tuple(
            replace(
                ix,
                where=None if ix.where is None else one(ix.where),
                expressions=tuple(None if e is None else one(e) for e in ix.expressions),
            )
            if ix.where is not None or ix.expressions
            else ix
            for ix in indexes
        )

    out = {}
    for name, table in tables.items():
        indexes = written(table.indexes)
        partitions = tuple(
            replace(p, indexes=written(p.indexes)) if p.indexes else p for p in getattr(table, "partitions", ())
        )
        checks = tuple(replace(c, expression=one(c.expression)) for c in table.checks) if source else table.checks
        columns = tuple(
            replace(
                c,
                generated=None if c.generated is None else one(c.generated),
                default_sql=None if c.default_sql is None else one(c.default_sql),
            )
            if c.generated is not None or c.default_sql is not None
            else c
            for c in table.columns
        )
        out[name] = replace(table, columns=columns, indexes=indexes, checks=checks, partitions=partitions)
    return replace(state, tables=out)

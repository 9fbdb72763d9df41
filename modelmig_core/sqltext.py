"""What hand-written SQL text does, read with sqlglot (a real SQL parser, never
regular expressions): which statements of a ``RunSQL`` may drop data, and whether
a check constraint is exactly one SQL expression.

A migration chain is dialect-neutral, so the text is read as sqlglot's generic SQL
and as each SQL driver's dialect (PostgreSQL, MySQL/MariaDB, SQLite), and the
reading that finds a danger wins: a statement that drops data in any of them
counts, and so does text that none of them can parse (fail safe).

sqlglot is imported inside the functions: ``modelmig --help`` and a run with nothing
pending never load it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

# sqlglot's generic SQL first, then the dialects of the SQL drivers
DIALECTS: tuple[str | None, ...] = (None, "postgres", "mysql", "sqlite")
SNIPPET = 60  # characters of a statement quoted in a message


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


_QUIET = _DropAll()


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence sqlglot's "falling back to parsing as a Command" warnings: what it
    cannot parse is reported here, as one line, by the caller."""
    logger = logging.getLogger("sqlglot")
    logger.addFilter(_QUIET)
    try:
        yield
    finally:
        logger.removeFilter(_QUIET)


def snippet(text: str) -> str:
    """``text`` on one line, shortened and quoted, for a message."""
    flat = " ".join(text.split())
    if len(flat) > SNIPPET:
        flat = flat[: SNIPPET - 3].rstrip() + "..."
    return repr(flat)


# ---------------------------------------------------------------- RunSQL


def destructive_statements(sql: str | Sequence[str]) -> list[str]:
    """One short line per statement of ``sql`` that may drop data, e.g.
    ``'DROP TABLE items'``, ``'DELETE FROM logs' (no WHERE)`` or
    ``'SELEKT' (cannot be parsed)``; empty when nothing in it drops data.

    Destructive: DROP of anything (table, view, index, schema, database, ...), an
    ALTER TABLE that drops a column, constraint or partition, TRUNCATE, DELETE or
    UPDATE without WHERE (also inside a WITH), CREATE OR REPLACE TABLE, INSERT
    OVERWRITE, a statement kind this module does not know (MERGE, CALL, DO, ...),
    and text no dialect can parse. Each string of a sequence is read on its own
    (a driver sends each as one statement batch).
    """
    texts = [sql] if isinstance(sql, str) else list(sql)
    out: list[str] = []
    for text in texts:
        for finding in _findings(text):
            if finding not in out:
                out.append(finding)
    return out


@lru_cache(maxsize=512)
def _findings(text: str) -> tuple[str, ...]:
    import sqlglot

    understood = False
    with _quiet():
        for dialect in DIALECTS:
            try:
                statements = sqlglot.parse(text, read=dialect)
            except sqlglot.errors.SqlglotError:
                continue
            found, whole = _read(statements, dialect)
            if found:
                return tuple(found)
            understood = understood or whole
    if understood:
        return ()
    return (f"{snippet(text)} (cannot be parsed)",)


def _statement_kinds() -> tuple[type[Any], ...]:
    """The statements this module understands; any other counts as destructive."""
    from sqlglot import exp

    return (
        exp.Query,  # SELECT, UNION, ... (a data-modifying WITH is looked into)
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Create,
        exp.Drop,
        exp.Alter,
        exp.TruncateTable,
        exp.Comment,
        exp.Set,
        exp.Pragma,
        exp.Grant,
        exp.Revoke,
        exp.Use,
        exp.Transaction,
        exp.Commit,
        exp.Rollback,
        exp.Analyze,
    )


def _read(statements: list[Any], dialect: str | None) -> tuple[list[str], bool]:
    """The statements of one dialect's parse that may drop data, and whether that
    parse understood everything: known statements only, none of them left partly
    unparsed (sqlglot's opaque ``Command``)."""
    from sqlglot import exp

    kinds = _statement_kinds()
    found: list[str] = []
    whole = True
    for stmt in statements:
        if stmt is None or isinstance(stmt, exp.Semicolon):  # empty, or only a comment
            continue
        if not isinstance(stmt, kinds) or any(isinstance(node, exp.Command) for node in stmt.walk()):
            whole = False
        reason = _drops(stmt)
        if reason is not None:
            found.append(snippet(stmt.sql(dialect=dialect, comments=False)) + reason)
    return found, whole


def _drops(stmt: Any) -> str | None:
    """'' or ' (why)' when the statement may drop data, else None."""
    from sqlglot import exp

    for node in stmt.walk():
        if isinstance(node, (exp.Drop, exp.TruncateTable)) or type(node).__name__.startswith("Drop"):
            return ""  # DROP ..., ALTER TABLE ... DROP ..., TRUNCATE: the statement says it
        if isinstance(node, (exp.Delete, exp.Update)) and not node.args.get("where"):
            return " (no WHERE)"
        if isinstance(node, exp.Create) and node.args.get("replace") and str(node.args.get("kind")).upper() == "TABLE":
            return " (replaces a table)"
        if isinstance(node, exp.Insert) and node.args.get("overwrite"):
            return " (overwrites a table)"
        if isinstance(node, exp.Merge):
            return " (MERGE may update or delete rows)"
    return None


# ---------------------------------------------------------------- check constraints


def check_expression_problem(expr: str) -> str | None:
    """Why ``expr`` is not exactly one boolean SQL expression fit for
    ``CHECK (...)`` (e.g. "contains ';' (...)"), or None when it is.

    Every dialect's tokenizer must see no ';', no comment and balanced parentheses
    (so that nothing can close the CHECK and start another statement, whichever
    database runs it); then the text must parse as a single expression (generic SQL
    first, a driver's dialect for its own operators such as PostgreSQL's ``~``)
    with no statement or subquery in it.
    """
    import sqlglot

    with _quiet():
        for dialect in DIALECTS:
            problem = _token_problem(expr, dialect)
            if problem is not None:
                return problem
        for dialect in DIALECTS:
            try:
                parsed = [e for e in sqlglot.parse(expr, read=dialect) if e is not None]
            except sqlglot.errors.SqlglotError:
                continue
            statement = _statement_in(parsed)
            if statement is not None:
                return statement  # a statement in one dialect is not to be run in any
            if len(parsed) == 1 and _is_condition(parsed[0]):
                return None
    return "does not parse as one expression"


def _token_problem(expr: str, dialect: str | None) -> str | None:
    import sqlglot
    from sqlglot.tokens import TokenType

    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(expr)
    except sqlglot.errors.SqlglotError:
        return f"cannot be read as SQL{f' by {dialect}' if dialect else ''}"
    if any(token.token_type == TokenType.SEMICOLON for token in tokens):
        return "contains ';' (one expression, never several statements)"
    position = 0
    for token in tokens:
        if token.comments or expr[position : token.start].strip():
            return "contains a comment ('--', '/* */' or '#')"
        position = token.end + 1
    if expr[position:].strip():
        return "contains a comment ('--', '/* */' or '#')"
    depth = 0
    for token in tokens:
        depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(token.token_type, 0)
        if depth < 0:
            return "has unbalanced parentheses (a ')' closes more than was opened)"
    if depth:
        return "has unbalanced parentheses (a '(' is never closed)"
    return None


def _statement_in(parsed: list[Any]) -> str | None:
    from sqlglot import exp

    statement = (exp.Query, exp.DDL, exp.DML, exp.Command, exp.Drop, exp.Alter, exp.TruncateTable)
    for root in parsed:
        for node in root.walk():
            if isinstance(node, statement):
                word = node.key.upper()
                if node is root:
                    return f"is a {word} statement, not an expression"
                return f"contains a {word} (a check is one expression on the row's columns)"
    return None


def _is_condition(root: Any) -> bool:
    from sqlglot import exp

    return isinstance(root, exp.Condition)

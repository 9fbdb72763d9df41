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


def parse_statement(statement: str, dialect: str) -> Any:
    """One SQL statement read with sqlglot in ``dialect`` (a sqlglot dialect name),
    or None when it is not exactly one statement sqlglot can read; sqlglot's
    "falling back to parsing as a Command" warnings are not printed (such a
    statement comes back as the ``exp.Command`` it is)."""
    import sqlglot

    with _quiet():
        try:
            found = sqlglot.parse(statement, read=dialect)
        except sqlglot.errors.SqlglotError:
            return None
    return found[0] if len(found) == 1 and found[0] is not None else None


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
    ALTER TABLE that drops a column, constraint or partition or changes a column's
    type (with or without ``USING``), TRUNCATE, DELETE or UPDATE without WHERE or
    with one that is always true (``WHERE 1=1``, ``WHERE x OR NOT x``), also inside a
    WITH, CREATE OR REPLACE TABLE, INSERT OVERWRITE, a call of a function sqlglot
    does not know as a built-in (``SELECT f()``, ``SELECT setval(...)``: it may change
    data), a statement kind this module does not know (MERGE, CALL, DO, EXECUTE,
    ...), and, failing safe, text that a server's reading cannot parse or reads only
    as an opaque command, a NUL character, a comment that holds such a statement,
    and the comments MySQL reads differently from the other servers (``#``, and
    ``--`` not followed by a space). MySQL's executable comments (``/*! ... */``,
    ``/*!50000 ... */``, ``/*M! ... */``) are read as the SQL MySQL runs. Each
    string of a sequence is read on its own (a driver sends each as one batch).
    """
    texts = [sql] if isinstance(sql, str) else list(sql)
    out: list[str] = []
    for text in texts:
        for finding in _findings(text):
            if finding not in out:
                out.append(finding)
    return out


@lru_cache(maxsize=1)
def _readings() -> tuple[tuple[str, Any, bool], ...]:
    """(name, sqlglot dialect, stands for a server) for each reading of the text.

    The servers' readings must each understand the whole text (fail safe); the
    generic one only adds the dangers it sees. MySQL is read twice: with its
    default backslash escapes, and as a session with NO_BACKSLASH_ESCAPES reads it."""
    from sqlglot.dialects.mysql import MySQL

    class MySQLPlainStrings(MySQL):  # sql_mode NO_BACKSLASH_ESCAPES
        class Tokenizer(MySQL.Tokenizer):
            STRING_ESCAPES = ["'", '"']

    return (
        ("SQL", None, False),
        ("PostgreSQL", "postgres", True),
        ("MySQL", "mysql", True),
        ("MySQL (NO_BACKSLASH_ESCAPES)", MySQLPlainStrings, True),
        ("SQLite", "sqlite", True),
    )


def _is_mysql(dialect: Any) -> bool:
    from sqlglot.dialects.mysql import MySQL

    return dialect == "mysql" or (isinstance(dialect, type) and issubclass(dialect, MySQL))


@lru_cache(maxsize=512)
def _findings(text: str) -> tuple[str, ...]:
    import sqlglot

    if "\x00" in text:
        return (f"{snippet(text)} (contains a NUL character)",)
    problems: list[str] = []  # what a server's reading did not understand
    parsed_by_a_server = False
    with _quiet():
        for name, dialect, server in _readings():
            source = text
            if _is_mysql(dialect):
                source, problem = _expand_executable_comments(text, dialect)
                if problem is not None:
                    return (f"{snippet(text)} ({problem})",)
            try:
                statements = sqlglot.parse(source, read=dialect)
            except sqlglot.errors.SqlglotError:
                if server:
                    problems.append(f"{snippet(text)} (cannot be parsed as {name})")
                continue
            parsed_by_a_server = parsed_by_a_server or server
            found, opaque = _read(statements, dialect)
            if found:
                return tuple(found)
            comment = _comment_problem(source, dialect)
            if comment is not None:
                return (f"{snippet(text)} ({comment})",)
            if server:
                problems += opaque
    if problems and not parsed_by_a_server:
        return (f"{snippet(text)} (cannot be parsed)",)
    return tuple(dict.fromkeys(problems))[:1]


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


def _read(statements: list[Any], dialect: Any) -> tuple[list[str], list[str]]:
    """The statements of one dialect's parse that may drop data, and those it did not
    understand: a statement kind this module does not know, or one sqlglot left
    partly unparsed (its opaque ``Command``)."""
    from sqlglot import exp

    kinds = _statement_kinds()
    found: list[str] = []
    opaque: list[str] = []
    for stmt in statements:
        if stmt is None or isinstance(stmt, exp.Semicolon):  # empty, or only a comment
            continue
        text = snippet(stmt.sql(dialect=dialect, comments=False))
        if any(isinstance(node, exp.Command) for node in stmt.walk()):
            opaque.append(f"{text} (an opaque statement: it may change data)")
        elif not isinstance(stmt, kinds):
            opaque.append(f"{text} (cannot be parsed)")
        reason = _drops(stmt)
        if reason is not None:
            found.append(text + reason)
    return found, opaque


def _drops(stmt: Any) -> str | None:
    """'' or ' (why)' when the statement may drop data, else None."""
    from sqlglot import exp

    for node in stmt.walk():
        if isinstance(node, (exp.Drop, exp.TruncateTable)) or type(node).__name__.startswith("Drop"):
            return ""  # DROP ..., ALTER TABLE ... DROP ..., TRUNCATE: the statement says it
        if isinstance(node, (exp.Delete, exp.Update)):
            where = node.args.get("where")
            if not where:
                return " (no WHERE)"
            if _always_true(where.this):
                return " (its WHERE is always true)"
        if isinstance(node, exp.Create) and node.args.get("replace") and str(node.args.get("kind")).upper() == "TABLE":
            return " (replaces a table)"
        if isinstance(node, exp.Insert) and node.args.get("overwrite"):
            return " (overwrites a table)"
        if isinstance(node, exp.Merge):
            return " (MERGE may update or delete rows)"
        if isinstance(node, exp.AlterColumn) and node.args.get("dtype") is not None:
            if node.args.get("using") is not None:
                return " (changes a column's type; USING rewrites every value)"
            return " (changes a column's type: values may be cut or rounded)"
        if isinstance(node, exp.Anonymous):
            return f" (calls {node.name}(), which may change data)"
    return None


# ---------------------------------------------------------------- WHERE clauses that are always true

MAX_ATOMS = 12  # a WHERE with more distinct conditions is not looked into: it counts as always true


def _always_true(condition: Any) -> bool:
    """Whether a WHERE condition holds for every row, read as two-valued logic (a
    row whose condition is NULL counts as kept: that only ever says 'always true'
    more often, failing safe): constants (``1=1``, ``'a'='a'``, ``TRUE``, ``1``),
    a comparison of an expression with itself (``id = id``), and any combination of
    conditions true whatever each of them is (``x OR NOT x``, ``a > 1 OR a <= 1``)."""
    atoms: dict[str, Any] = {}
    formula = _formula(condition, atoms)
    if len(atoms) > MAX_ATOMS:
        return True
    names = list(atoms)
    for bits in range(1 << len(names)):
        values = {n: bool(bits >> i & 1) for i, n in enumerate(names)}
        if not _evaluate(formula, values):
            return False
    return True


# a formula: ("and"|"or", a, b), ("not", a), ("const", bool), ("atom", key)
Formula = tuple[Any, ...]

_COMPLEMENT = {"NEQ": "EQ", "GTE": "LT", "LTE": "GT", "NullSafeNEQ": "NullSafeEQ"}
_MIRROR = {"LT": "GT"}
_REFLEXIVE_TRUE = {"EQ", "GTE", "LTE", "NullSafeEQ", "Like", "ILike", "Is", "Glob"}
_REFLEXIVE_FALSE = {"NEQ", "GT", "LT", "NullSafeNEQ"}


def _formula(node: Any, atoms: dict[str, Any]) -> Formula:
    from sqlglot import exp

    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.And):
        return ("and", _formula(node.this, atoms), _formula(node.expression, atoms))
    if isinstance(node, exp.Or):
        return ("or", _formula(node.this, atoms), _formula(node.expression, atoms))
    if isinstance(node, exp.Xor) and node.this is not None and node.expression is not None:
        a, b = _formula(node.this, atoms), _formula(node.expression, atoms)
        return ("or", ("and", a, ("not", b)), ("and", ("not", a), b))
    if isinstance(node, exp.Not):
        return ("not", _formula(node.this, atoms))
    constant = _constant(node)
    if constant is not None:
        return ("const", constant)
    kind = type(node).__name__
    if isinstance(node, exp.Binary) and node.this is not None and node.expression is not None:
        left, right = node.this, node.expression
        if _same(left, right):
            if kind in _REFLEXIVE_TRUE:
                return ("const", True)
            if kind in _REFLEXIVE_FALSE:
                return ("const", False)
        if kind in _COMPLEMENT:
            return ("not", _atom(_COMPLEMENT[kind], left, right, atoms))
        if kind in _MIRROR:
            return _atom(_MIRROR[kind], right, left, atoms)
        return _atom(kind, left, right, atoms)
    if isinstance(node, exp.In) and not node.args.get("query"):
        if any(_same(node.this, e) for e in node.expressions):
            return ("const", True)
    if (
        isinstance(node, exp.Between)
        and _same(node.this, node.args.get("low"))
        and _same(node.this, node.args.get("high"))
    ):
        return ("const", True)
    key = node.sql()
    atoms.setdefault(key, node)
    return ("atom", key)


def _atom(kind: str, left: Any, right: Any, atoms: dict[str, Any]) -> Formula:
    """One comparison, its operands in a fixed order where the order does not matter."""
    a, b = left.sql(), right.sql()
    if kind in {"EQ", "NullSafeEQ"} and b < a:
        a, b = b, a
    key = f"{kind}({a}, {b})"
    atoms.setdefault(key, (left, right))
    return ("atom", key)


def _same(a: Any, b: Any) -> bool:
    """Two operands that are the same expression, evaluated without side effects
    (``random() = random()`` is not always true)."""
    from sqlglot import exp

    if a is None or b is None or a != b:
        return False
    return not any(isinstance(n, (exp.Rand, exp.Anonymous)) for n in a.walk())


def _constant(node: Any) -> bool | None:
    """The truth of a condition that reads no column and no subquery (``1=1``,
    ``'a'='a'``, ``2 > 1``, ``TRUE``, ``1``, ``NULL IS NULL``), or None."""
    from sqlglot import exp
    from sqlglot.optimizer.simplify import simplify

    if any(isinstance(n, (exp.Column, exp.Query, exp.Func, exp.Placeholder, exp.Parameter)) for n in node.walk()):
        return None
    try:
        value = simplify(node.copy())
    except Exception:  # noqa: BLE001 - a condition the simplifier cannot fold stays an unknown
        return None
    if isinstance(value, exp.Boolean):
        return bool(value.this)
    if isinstance(value, exp.Null):
        return False
    if isinstance(value, exp.Literal):
        if value.is_string:
            return True  # MySQL reads '1abc' as 1: fail safe
        try:
            return float(value.this) != 0
        except ValueError:
            return True
    return None


def _evaluate(formula: Formula, values: dict[str, bool]) -> bool:
    tag = formula[0]
    if tag == "and":
        return _evaluate(formula[1], values) and _evaluate(formula[2], values)
    if tag == "or":
        return _evaluate(formula[1], values) or _evaluate(formula[2], values)
    if tag == "not":
        return not _evaluate(formula[1], values)
    if tag == "const":
        return bool(formula[1])
    return values[formula[1]]


# ---------------------------------------------------------------- comments


def _comments(text: str, dialect: Any) -> list[tuple[str, int, int, str]]:
    """(kind, start, end, content) of each comment in ``text`` as ``dialect``
    tokenizes it: what lies between its tokens is only whitespace and comments.
    kind is ``--``, ``#``, ``/*`` or ``/*!`` (MySQL's executable comment, content
    without its ``!``/``M!`` and version)."""
    import sqlglot

    tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    gaps: list[tuple[int, int]] = []
    position = 0
    for token in tokens:
        gaps.append((position, token.start))
        position = token.end + 1
    gaps.append((position, len(text)))
    out = []
    for start, end in gaps:
        i = start
        while i < end:
            if text.startswith("/*", i):
                close = text.find("*/", i + 2, end)
                stop = end if close < 0 else close + 2
                body = text[i + 2 : stop - 2 if close >= 0 else end]
                marker = "!" if body.startswith("!") else "M!" if body.startswith("M!") else ""
                if marker:
                    rest = body[len(marker) :]
                    digits = len(rest) - len(rest.lstrip("0123456789"))
                    out.append(("/*!", i, stop, rest[digits:]))
                else:
                    out.append(("/*", i, stop, body))
                i = stop
            elif text.startswith("--", i) or text.startswith("#", i):
                kind = "#" if text[i] == "#" else "--"
                newline = text.find("\n", i, end)
                stop = end if newline < 0 else newline
                out.append((kind, i, stop, text[i + len(kind) : stop]))
                i = stop
            else:
                i += 1
    return out


def _expand_executable_comments(text: str, dialect: Any) -> tuple[str, str | None]:
    """``text`` as MySQL/MariaDB run it: each ``/*! ... */``, ``/*!50000 ... */``,
    ``/*M! ... */`` replaced by its content (whatever the version: fail safe), until
    none is left; or a problem when that cannot be done."""
    import sqlglot

    for _ in range(8):
        try:
            found = [c for c in _comments(text, dialect) if c[0] == "/*!"]
        except sqlglot.errors.SqlglotError:
            return text, None  # the reading itself reports what it cannot parse
        if not found:
            return text, None
        for _kind, start, stop, content in reversed(found):
            text = f"{text[:start]} {content} {text[stop:]}"
    return text, "executable comments nested too deep to read"


def _comment_problem(text: str, dialect: Any) -> str | None:
    """Why the comments of ``text`` may hide what a server runs, or None: a comment
    that MySQL reads differently from the other servers (``#``; ``--`` not followed
    by a space, tab or newline), or one that holds a statement that drops data."""
    import sqlglot

    try:
        comments = _comments(text, dialect)
    except sqlglot.errors.SqlglotError:
        return None
    for kind, start, _stop, content in comments:
        if _is_mysql(dialect) and kind == "#":
            return "a '#' comment: MySQL reads the rest of the line as a comment, PostgreSQL as SQL"
        if _is_mysql(dialect) and kind == "--" and text[start + 2 : start + 3] not in (" ", "\t", "\n", "\r", ""):
            return "a '--' comment not followed by a space: servers read it differently"
        held = _danger_in(content)
        if held is not None:
            if kind == "/*!":
                return f"MySQL runs what its executable comment holds: {held}"
            return f"a comment holds {held}"
    return None


def _danger_in(content: str) -> str | None:
    """The first statement that drops data in ``content`` read as SQL by any reading
    that can parse it (prose that parses as nothing is fine), or None."""
    import sqlglot

    for _name, dialect, _server in _readings():
        try:
            statements = sqlglot.parse(content, read=dialect)
        except sqlglot.errors.SqlglotError:
            continue
        found, _opaque = _read(statements, dialect)
        if found:
            return found[0]
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
                parsed = [e for e in sqlglot.parse(_as_expression(expr, dialect), read=dialect) if e is not None]
            except sqlglot.errors.SqlglotError:
                continue
            statement = _statement_in(parsed)
            if statement is not None:
                return statement  # a statement in one dialect is not to be run in any
            if len(parsed) == 1 and _is_condition(parsed[0]):
                return None
    return "does not parse as one expression"


def _starts_a_command(expr: str, dialect: str | None) -> bool:
    """Whether ``dialect``'s tokenizer reads ``expr`` as a command (its first word is
    one, ``lock`` on PostgreSQL) and so takes the rest for the command's text: an
    expression on a column named so is read in parentheses instead."""
    import sqlglot

    d = sqlglot.Dialect.get_or_raise(dialect)
    try:
        tokens = d.tokenize(expr)
    except sqlglot.errors.SqlglotError:
        return False
    return bool(tokens) and tokens[0].token_type in d.tokenizer_class.COMMANDS


def _as_expression(expr: str, dialect: str | None) -> str:
    return f"({expr})" if _starts_a_command(expr, dialect) else expr


def _tokens(expr: str, dialect: str | None) -> list[Any]:
    """``expr``'s tokens in ``dialect``, positions in ``expr``; an expression that
    starts with a command word is tokenized in parentheses (which are then left out,
    when the closing one is the one added)."""
    import sqlglot
    from sqlglot.tokens import TokenType

    d = sqlglot.Dialect.get_or_raise(dialect)
    if not _starts_a_command(expr, dialect):
        return list(d.tokenize(expr))
    tokens = list(d.tokenize(f"({expr})"))
    last = tokens[-1] if tokens else None
    if last is None or last.token_type != TokenType.R_PAREN or last.start != len(expr) + 1 or last.comments:
        return list(d.tokenize(expr))  # the added parenthesis is in a comment or a string: as it was
    for token in tokens:
        token.start, token.end = token.start - 1, token.end - 1
    return tokens[1:-1]


def _token_problem(expr: str, dialect: str | None) -> str | None:
    import sqlglot
    from sqlglot.tokens import TokenType

    try:
        tokens = _tokens(expr, dialect)
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

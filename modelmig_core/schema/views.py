"""The objects of a live database outside what the models hold (``Unmanaged``:
views, triggers, functions, sequences..., read by each driver's reflection), and
which columns the views of a live database use: read by each SQL session's
``live_facts`` before a migration (views are not in the models), so that
dropping a column a view uses is refused the same way on every database.

A session that can ask its catalogue (PostgreSQL's ``view_column_usage``) gives
the pairs directly; the others give each view's SQL, understood here with
sqlglot: a column named with a table (or its alias) is that table's, a bare
column may be any of the view's tables', and ``*`` is every column.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ALL = "*"


@dataclass(frozen=True)
class Unmanaged:
    """An object of the live database outside what the models hold (a view, a
    trigger, a function, a standalone sequence, a domain, an extension, a rule, a
    partition, a virtual table, an event...): its kind (singular, lower case:
    ``"view"``, ``"materialized view"``), its name, the tables it depends on, and
    one line of detail. Read by the driver's ``Reflection.unmanaged_objects``;
    listed by make:models, drift and baseline, never written as a model."""

    kind: str
    name: str
    tables: tuple[str, ...] = ()
    detail: str = ""

    @property
    def line(self) -> str:
        """``view film_list (on film, actor): detail``, one line."""
        on = f" (on {', '.join(self.tables)})" if self.tables else ""
        return f"{self.kind} {self.name}{on}" + (f": {self.detail}" if self.detail else "")

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name, "tables": list(self.tables), "detail": self.detail}


def unmanaged_summary(objects: Sequence[Unmanaged]) -> str:
    """``12 objects outside the models: 5 views, 3 triggers, ...`` (kinds by count,
    most first)."""
    counts: dict[str, int] = {}
    for o in objects:
        counts[o.kind] = counts.get(o.kind, 0) + 1
    kinds = sorted(counts, key=lambda k: (-counts[k], k))
    parts = ", ".join(f"{counts[k]} {k}{'s' if counts[k] != 1 else ''}" for k in kinds)
    noun = "object" if len(objects) == 1 else "objects"
    return f"{len(objects)} {noun} outside the models: {parts}"


@dataclass
class ViewColumns:
    """(view, table, column) triples; column ``*`` means every column of the table."""

    uses: set[tuple[str, str, str]] = field(default_factory=set)

    def add_sql(self, view: str, sql: str, dialect: str) -> None:
        self.uses |= {(view, t, c) for t, c in columns_of_view(sql, dialect)}

    def using(self, table: str, column: str) -> list[str]:
        return sorted({v for v, t, c in self.uses if t == table and c in (column, ALL)})

    def reading(self, table: str) -> list[str]:
        return sorted({v for v, t, _c in self.uses if t == table})

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
    except (sqlglot.errors.SqlglotError, ValueError):
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


def views_reading(facts: Any, table: str) -> list[str]:
    """The views that read ``table`` at all, from a session's live facts."""
    views = getattr(facts, "views", None)
    if isinstance(views, ViewColumns):
        return views.reading(table)
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


def tables_read(select: str, dialect: str = "") -> frozenset[str]:
    """The tables (and views) a SELECT reads, by name: its CTEs' own names left
    out; empty when sqlglot cannot parse it. Parsed once per text (the diff asks
    about each view several times). Without a dialect (the diff does not know the
    chain's ``sql_dialect``): standard SQL, else the first of the SQL drivers'
    dialects that reads it (backquoted names are MySQL's)."""
    if dialect:
        return _tables_read(select, dialect)
    for each in ("", "mysql", "postgres", "sqlite"):
        found = _tables_read(select, each)
        if found:
            return found
    return frozenset()


@lru_cache(maxsize=4096)
def _tables_read(select: str, dialect: str) -> frozenset[str]:
    import sqlglot
    from sqlglot import exp

    from .sqltext import _quiet

    try:
        with _quiet():
            tree = sqlglot.parse_one(select, read=dialect or None)
    except (sqlglot.errors.SqlglotError, ValueError):
        return frozenset()
    if tree is None:
        return frozenset()
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    return frozenset(t.name for t in tree.find_all(exp.Table) if t.name and t.name not in ctes)


@dataclass
class Bodies:
    """The bodies of a live database's triggers, functions and procedures, read by
    a session's ``live_facts`` before a migration that renames or drops a column:
    (kind, name, the table a trigger is on or ``""``, body), and the sqlglot
    dialect they are written in. A column a body names is found in the body's
    tokens (sqlglot's tokenizer: a word that is the column's name, outside strings
    and comments), never by a regex over the text."""

    items: list[tuple[str, str, str, str]] = field(default_factory=list)
    dialect: str = ""

    def add(self, kind: str, name: str, table: str, body: str) -> None:
        self.items.append((kind, name, table, body))

    def using(self, table: str, column: str) -> list[str]:
        """``trigger name`` / ``function name`` of each body that uses
        ``table.column``: read with sqlglot where the body parses (a column named
        with a table or alias is that table's, ``NEW.x``/``OLD.x`` the trigger's
        table's, a bare one any of the statement's tables'); where it does not
        (PL/pgSQL, a whole CREATE TRIGGER), a body that holds the column's name as
        a word and is on ``table`` or names it too."""
        out = []
        for kind, name, on, body in self.items:
            pairs = body_columns(body, self.dialect, on)
            if pairs is not None:
                used = (table, column) in pairs or (table, ALL) in pairs
            else:
                words = body_words(body, self.dialect)
                used = column.lower() in words and (on == table or table.lower() in words)
            if used:
                out.append(f"{kind} {name}")
        return sorted(set(out))


def body_columns(body: str, dialect: str, on: str) -> set[tuple[str, str]] | None:
    """{(table, column)} the statements of a body use (``on``: the table a trigger
    is on, for NEW and OLD), or None when sqlglot does not parse every statement."""
    import sqlglot
    from sqlglot import exp

    from .sqltext import _quiet

    try:
        with _quiet():
            trees = [t for t in sqlglot.parse(body, read=dialect or None) if t is not None]
    except (sqlglot.errors.SqlglotError, ValueError):
        return None
    if not trees or any(isinstance(t, exp.Command) or t.find(exp.Command) for t in trees):
        return None
    out: set[tuple[str, str]] = set()
    for tree in trees:
        aliases: dict[str, str] = {}
        tables: set[str] = {on} if on else set()
        for t in tree.find_all(exp.Table):
            tables.add(t.name)
            aliases[t.alias_or_name.lower()] = t.name
            aliases[t.name.lower()] = t.name
        for col in tree.find_all(exp.Column):
            qualifier = col.table.lower()
            if qualifier in ("new", "old") and on:
                targets = [on]
            elif qualifier and qualifier in aliases:
                targets = [aliases[qualifier]]
            else:
                targets = sorted(tables)
            name = ALL if isinstance(col.this, exp.Star) else col.name
            out |= {(t, name) for t in targets}
        for star in tree.find_all(exp.Star):
            if not isinstance(star.parent, (exp.Column, exp.Count)):
                out |= {(t, ALL) for t in tables}
    return out


def body_words(body: str, dialect: str) -> set[str]:
    """The names a body's tokens hold (identifiers and words, lower case), through
    sqlglot's tokenizer of ``dialect``; a body it cannot tokenize is read with the
    generic tokenizer, and as holding every word of its dollar-quoted or quoted
    parts otherwise (a PL/pgSQL body inside ``$$``)."""
    from sqlglot.dialects.dialect import Dialect
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import Tokenizer, TokenType

    from .sqltext import _quiet

    kinds = {TokenType.VAR, TokenType.IDENTIFIER}
    literals = {
        getattr(TokenType, n)
        for n in ("STRING", "NATIONAL_STRING", "BIT_STRING", "HEX_STRING", "BYTE_STRING", "UNICODE_STRING", "NUMBER")
        if hasattr(TokenType, n)
    }
    words: set[str] = set()
    todo = [body]
    while todo:
        text = todo.pop()
        try:
            with _quiet():
                tokenizer = Dialect.get_or_raise(dialect).tokenizer() if dialect else Tokenizer()
                tokens = tokenizer.tokenize(text)
        except (SqlglotError, ValueError):
            try:
                tokens = Tokenizer().tokenize(text)
            except (SqlglotError, ValueError):
                continue
        for token in tokens:
            if token.token_type in kinds:
                words.add(token.text.lower())
            elif token.token_type in (TokenType.HEREDOC_STRING, TokenType.RAW_STRING) and token.text != text:
                todo.append(token.text)  # a dollar-quoted body: its own words
            elif token.token_type not in literals and token.text.isidentifier():  # a keyword used as a name
                words.add(token.text.lower())
    return words


def bodies_using(facts: Any, table: str, column: str) -> list[str]:
    """The triggers, functions and procedures whose bodies use ``table.column``,
    from a session's live facts (those that carry ``bodies: Bodies``)."""
    bodies = getattr(facts, "bodies", None)
    if isinstance(bodies, Bodies):
        return bodies.using(table, column)
    return []


def unresolved_column(select: str, schema: dict[str, dict[str, str]]) -> tuple[str | None, list[str]]:
    """(why a column the SELECT names is in none of the tables it reads, or None;
    the SELECT's output columns). Checked only when every table it reads is in
    ``schema`` ({table or view: {column: type}}) and sqlglot reads it."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import OptimizeError, SqlglotError
    from sqlglot.optimizer.qualify import qualify

    from .sqltext import _quiet

    if not tables_read(select) <= set(schema):
        return None, []
    try:
        with _quiet():
            tree = qualify(sqlglot.parse_one(select), schema=schema, validate_qualify_columns=True, identify=False)
    except OptimizeError as exc:
        return str(exc).split(". Line:")[0], []
    except (SqlglotError, ValueError, KeyError, AttributeError):
        return None, []
    return None, list(tree.named_selects) if isinstance(tree, exp.Query) else []

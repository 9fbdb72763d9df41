"""MySQL's and MariaDB's spellings, read back into the relational state (the
walk itself is the core's ``Reflection``).

- Types: ``TINYINT(1)`` -> boolean, ``DATETIME(n)`` -> timestamp and ``TIME(n)``
  -> time (MySQL has no time-zone-aware type: ``use_tz`` cannot be read back and
  is not compared), native ``ENUM(...)`` -> enum, ``CHAR(36)`` -> uuid (what the
  renderer makes of one), ``JSON`` -> json and, on MariaDB, ``LONGTEXT`` with its
  ``CHECK (json_valid(col))`` -> json (that check is the type's, not a check of
  the models). Display widths (``INT(11)``) are ignored; other integer and text
  variants (``MEDIUMINT``, ``LONGTEXT``, ``TINYINT(4)``) keep their own names.
- Defaults through sqlglot: ``current_timestamp(6)`` -> default_now, ``'0'``/
  ``0`` of a boolean -> False.
- A unique key is a unique constraint (``Unique``): MySQL cannot tell one from
  a unique index (what older migration files' ``Index(unique=True)`` made), so
  ``comparable`` holds both as unique constraints.
- The index the server makes for a foreign key (named after it) is the server's,
  not the models'. ``RESTRICT`` is the server's default action and compares as
  no action.
"""

from __future__ import annotations

import codecs
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from modelmig_core.api import Column, ForeignKey, Reflection, Table, Unique, Unmanaged
from modelmig_core.api_sql import columns_of_view, raw_type

from .driver import DEFAULT_COLLATION

DEFAULT_CHARSET = "utf8mb4"
#: each table's engine, collation and that collation's character set (SHOW CREATE
#: TABLE leaves out a collation that is its charset's default)
TABLE_FACTS = (
    "SELECT t.table_name, t.engine, t.table_collation, MIN(a.character_set_name) FROM information_schema.tables AS t "
    "LEFT JOIN information_schema.collation_character_set_applicability AS a ON a.collation_name = t.table_collation "
    "WHERE t.table_schema = DATABASE() AND t.table_type = 'BASE TABLE' "
    "GROUP BY t.table_name, t.engine, t.table_collation"
)

#: the catalogue queries of the objects outside the models, in the current database
#: (names come back as values, never spliced into SQL)
UNMANAGED_QUERIES = {
    "views": "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = DATABASE()",
    "routines": (
        "SELECT routine_name, routine_type FROM information_schema.routines WHERE routine_schema = DATABASE()"
    ),
    "triggers": (
        "SELECT trigger_name, event_object_table, action_timing, event_manipulation "
        "FROM information_schema.triggers WHERE trigger_schema = DATABASE()"
    ),
    "events": "SELECT event_name, status FROM information_schema.events WHERE event_schema = DATABASE()",
    "sequences": (
        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'SEQUENCE'"
    ),
}

#: each column's character set and collation, its table's default collation,
#: EXTRA (ON UPDATE) and its default as information_schema spells it
COLUMN_FACTS = (
    "SELECT c.table_name, c.column_name, c.character_set_name, c.collation_name, "
    "t.table_collation, c.extra, c.column_default FROM information_schema.columns AS c "
    "JOIN information_schema.tables AS t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
    "WHERE c.table_schema = DATABASE()"
)


class ColumnFacts(set[tuple[str, str]]):
    """What ``read_extra`` found: the JSON columns (the set itself, as the type
    table reads it), each column's own charset/collation and its ON UPDATE default."""

    def __init__(self, json_columns: Any = ()) -> None:
        super().__init__(json_columns)
        self.collations: dict[tuple[str, str], dict[str, str]] = {}
        self.on_update: dict[tuple[str, str], str | None] = {}
        #: the catalogue's default of each column whose default is an expression
        #: (SQLAlchemy's reading of SHOW CREATE TABLE misses ``lcase('ABC')``)
        self.defaults: dict[tuple[str, str], str] = {}


OWN_TEXT_TYPES = (mysql.TINYTEXT, mysql.MEDIUMTEXT, mysql.LONGTEXT)
#: the fractional seconds precision of the DATETIME and TIME columns the driver makes (render.py)
FSP = 6


#: the escapes SHOW CREATE TABLE writes in an ENUM value (besides a doubled quote)
SHOW_CREATE_ESCAPES = {"\\": "\\", "0": "\0", "n": "\n", "r": "\r", "Z": "\x1a"}


def show_create_value(text: str) -> str:
    """An ENUM value as the server holds it, from the text SQLAlchemy read out of
    SHOW CREATE TABLE: its quotes undoubled already, its backslash escapes not."""
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in SHOW_CREATE_ESCAPES:
            out.append(SHOW_CREATE_ESCAPES[text[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


#: the codec reflection reads the server's text with: UTF-8, and any byte that is not
#: UTF-8 (a BINARY/VARBINARY default such as 0xFF00, which SHOW CREATE TABLE writes
#: raw) kept as a lone surrogate instead of failing mid-packet (PyMySQL then loses
#: its place in the protocol and the connection with it)
LOSSLESS = "modelmig_utf8_lossless"


def _lossless(name: str) -> codecs.CodecInfo | None:
    if name != LOSSLESS:
        return None
    utf8 = codecs.lookup("utf-8")
    return codecs.CodecInfo(
        name=LOSSLESS,
        encode=lambda text, errors="strict": utf8.encode(text, "surrogateescape"),
        decode=lambda data, errors="strict": utf8.decode(data, "surrogateescape"),
    )


codecs.register(_lossless)


@contextmanager
def lossless_text(raw: Any) -> Iterator[None]:
    """Text the server sends on ``raw`` (a PyMySQL connection) read with ``LOSSLESS``
    meanwhile; other client libraries as they are."""
    encoding = getattr(raw, "encoding", None)
    if not isinstance(encoding, str) or codecs.lookup(encoding).name != "utf-8":
        yield
        return
    raw.encoding = LOSSLESS
    try:
        yield
    finally:
        raw.encoding = encoding


def not_text(value: Any) -> bool:
    """Whether ``value`` holds bytes that are no UTF-8 text (read through ``LOSSLESS``)."""
    return isinstance(value, str) and any("\udc80" <= ch <= "\udcff" for ch in value)


def json_valid_column(sqltext: str) -> str | None:
    """The column of a ``json_valid(col)`` check (MariaDB's JSON type), else None."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sqltext, read="mysql")
    except (SqlglotError, ValueError):
        return None
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if isinstance(tree, exp.Anonymous) and tree.name.lower() == "json_valid" and len(tree.expressions) == 1:
        arg = tree.expressions[0]
        if isinstance(arg, exp.Column):
            return arg.name
    valid = tuple(t for t in (getattr(exp, "JSONValid", None), getattr(exp, "IsJSON", None)) if t is not None)
    if valid and isinstance(tree, valid):  # sqlglot versions parse json_valid into a node of its own
        arg = tree.this
        return arg.name if isinstance(arg, exp.Column) else None
    return None


def fractional(t: Any) -> dict[str, Any]:
    """A DATETIME, TIME or TIMESTAMP column's fractional seconds as the state says
    them: none for the precision the driver gives a column that says none (6)."""
    digits = int(getattr(t, "fsp", None) or 0)
    return {} if digits == FSP else {"precision": digits}


class MysqlReflection(Reflection):
    engine_url = "mysql+pymysql://"
    sqlglot_dialect = "mysql"

    def primary_name(self, table: str, info: dict[str, Any]) -> str | None:
        """Every primary key is named PRIMARY here: no name of its own."""
        return None

    def read(self, tables: Any = None) -> Any:
        """The Inspector's catalogue, but foreign keys from information_schema:
        SQLAlchemy finds them in SHOW CREATE TABLE with regular expressions, which
        miss one whose target table or name holds a backtick (it warns; that warning
        is not passed on, the key is read here)."""
        raw = self.session.raw if self.session is not None else None
        with warnings.catch_warnings(record=True) as caught, lossless_text(raw):
            warnings.simplefilter("always")
            found = super().read(tables)
        for w in caught:
            text = str(w.message)
            if not (text.startswith("Unknown schema content") and " FOREIGN KEY " in text):
                warnings.warn(w.message, w.category, stacklevel=2)
        if found.tables:
            found.foreign_keys = self.catalogue_foreign_keys(set(found.tables))
            self.index_details(found)
        return found

    def index_details(self, found: Any) -> None:
        """What the Inspector leaves out of MySQL's indexes, from
        information_schema.STATISTICS in one query: the descending key parts
        (COLLATION 'D') and the prefix lengths (SUB_PART) of every key, the
        primary key's included. A unique key with a prefix is no unique
        constraint over whole columns: it is kept as a unique index."""
        with self.engine().connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT table_name, index_name, column_name, collation, sub_part FROM information_schema.statistics "
                "WHERE table_schema = DATABASE() ORDER BY table_name, index_name, seq_in_index"
            ).all()
        wanted = set(found.tables)
        keys: dict[tuple[str, str], list[tuple[str, str | None, int | None]]] = {}
        for table, index, column, collation, sub_part in rows:
            if table in wanted:
                keys.setdefault((table, index), []).append((column, collation, sub_part))
        #: (table, column) -> the prefix the primary key holds of it (``PRIMARY KEY (id(100))``)
        self.primary_prefixes = {
            (t, str(c)): int(p) for (t, i), parts in keys.items() if i == "PRIMARY" for c, _, p in parts if p
        }
        for table in found.tables:
            prefixed = set()
            for info in found.indexes.get(table, []):
                parts = keys.get((table, info["name"]), [])
                desc = {c: ("desc",) for c, collation, _ in parts if collation == "D" and c}
                if desc:
                    info["column_sorting"] = desc
                lengths = {c: p for c, _, p in parts if p and c}
                if lengths:
                    info.setdefault("dialect_options", {})["mysql_length"] = lengths
                if desc or lengths:
                    prefixed.add(info["name"])
            found.uniques[table] = [u for u in found.uniques.get(table, []) if u.get("name") not in prefixed]

    def catalogue_foreign_keys(self, tables: set[str]) -> dict[str, list[dict[str, Any]]]:
        """Every foreign key of ``tables``, in the Inspector's shape, in one query."""
        with self.engine().connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT k.table_name, k.constraint_name, k.column_name, k.referenced_table_schema, "
                "k.referenced_table_name, k.referenced_column_name, r.update_rule, r.delete_rule, DATABASE() "
                "FROM information_schema.key_column_usage AS k JOIN information_schema.referential_constraints AS r "
                "ON r.constraint_schema = k.constraint_schema AND r.table_name = k.table_name "
                "AND r.constraint_name = k.constraint_name "
                "WHERE k.table_schema = DATABASE() AND k.referenced_table_name IS NOT NULL "
                "ORDER BY k.table_name, k.constraint_name, k.ordinal_position"
            ).all()
        out: dict[str, list[dict[str, Any]]] = {}
        keys: dict[tuple[str, str], dict[str, Any]] = {}
        for table, name, column, ref_schema, ref_table, ref_column, on_update, on_delete, here in rows:
            if table not in tables:
                continue
            fk = keys.get((table, name))
            if fk is None:
                fk = keys[(table, name)] = {
                    "name": name,
                    "constrained_columns": [],
                    "referred_schema": None if ref_schema == here else ref_schema,
                    "referred_table": ref_table,
                    "referred_columns": [],
                    "options": {"onupdate": on_update, "ondelete": on_delete},
                }
                out.setdefault(table, []).append(fk)
            fk["constrained_columns"].append(column)
            fk["referred_columns"].append(ref_column)
        return out

    def unmanaged_objects(self, connection: sa.Connection) -> list[Unmanaged]:
        """Views (the tables each reads, from its SQL through sqlglot), functions and
        procedures, triggers, events and (MariaDB) sequences of the current
        database, from information_schema."""

        def rows(key: str) -> list[Any]:
            return list(connection.exec_driver_sql(UNMANAGED_QUERIES[key]).all())

        out = []
        for name, sql in rows("views"):
            tables = tuple(sorted({t for t, _c in columns_of_view(str(sql or ""), "mysql")}))
            out.append(Unmanaged("view", str(name), tables))
        for name, routine in rows("routines"):
            out.append(Unmanaged(str(routine).lower(), str(name)))
        for name, table, timing, event in rows("triggers"):
            out.append(Unmanaged("trigger", str(name), (str(table),), f"{timing} {event}"))
        for name, status in rows("events"):
            out.append(Unmanaged("event", str(name), (), str(status).lower()))
        for (name,) in rows("sequences"):
            out.append(Unmanaged("sequence", str(name), (), "a sequence no column owns"))
        return out

    def inspector_name(self, name: str) -> str:
        """SQLAlchemy reads MySQL's keys and columns from SHOW CREATE TABLE and
        leaves a backtick in a name doubled (```a``b``` -> ``a``b``)."""
        return name.replace("``", "`")

    def read_checks(self, insp: Any, kw: dict[str, Any]) -> dict[Any, list[dict[str, Any]]]:
        """The Inspector's checks and, on MariaDB, the column-level ones it does not
        see (``price DECIMAL CHECK (price >= 0)``, and JSON's ``json_valid``), read in
        one query."""
        checks = super().read_checks(insp, kw)
        if getattr(self.sa_dialect, "is_mariadb", False):
            rows = insp.bind.execute(
                sa.text(
                    "SELECT table_name, constraint_name, check_clause FROM information_schema.check_constraints "
                    "WHERE constraint_schema = DATABASE() AND level = 'Column'"
                )
            )
            wanted = set(kw.get("filter_names") or ()) or None
            for table, name, clause in rows:
                if wanted is None or table in wanted:
                    checks.setdefault((None, table), []).append({"name": name, "sqltext": clause})
        self._json_columns = {
            (key[1], column)
            for key, infos in checks.items()
            for info in infos
            if (column := json_valid_column(info["sqltext"])) is not None
        }
        return checks

    def read_extra(self, connection: sa.Connection, tables: Sequence[str]) -> Any:
        """MariaDB's JSON columns (their ``json_valid`` checks), and each column's
        character set, collation and ON UPDATE from information_schema, in one query."""
        extra = ColumnFacts(getattr(self, "_json_columns", set()))
        wanted = set(tables)
        mariadb = bool(getattr(connection.dialect, "is_mariadb", False))
        for table, column, charset, collation, table_collation, more, default in connection.exec_driver_sql(
            COLUMN_FACTS
        ).all():
            if table not in wanted:
                continue
            key = (str(table), str(column))
            if collation and collation != table_collation:  # the column's own, not the table's default
                extra.collations[key] = {"charset": str(charset), "collation": str(collation)}
            if "on update" in str(more or "").lower():
                extra.on_update[key] = None if default is None else str(default)
            elif default is not None and (mariadb or "default_generated" in str(more or "").lower()):
                extra.defaults[key] = str(default)  # MariaDB: SQL text; MySQL 8: an expression's text
        return extra

    def column(self, table: str, info: dict[str, Any], pk: tuple[str, ...], extra: Any) -> Column:
        """ON UPDATE CURRENT_TIMESTAMP is an attribute of its own, not part of the
        default (SQLAlchemy reads both as the default's text); a primary key's
        prefix length (``PRIMARY KEY (id(100))``) from the catalogue."""
        key = (table, info["name"])
        if isinstance(extra, ColumnFacts) and key in extra.on_update:
            info = {**info, "default": extra.on_update[key]}
        elif isinstance(extra, ColumnFacts) and info.get("default") is None and key in extra.defaults:
            found = extra.defaults[key]
            if found.upper() != "NULL":  # MariaDB's word for a nullable column without a default
                info = {**info, "default": found}
        col = super().column(table, info, pk, extra)
        length = getattr(self, "primary_prefixes", {}).get((table, col.name))
        return col if length is None or not col.primary else replace(col, primary_length=length)

    def attributes(
        self, table: str, info: dict[str, Any], extra: Any, type_: str, autoincrement: bool
    ) -> dict[str, Any]:
        """The column's own character set and collation (where they differ from the
        table's default), and ON UPDATE CURRENT_TIMESTAMP."""
        if not isinstance(extra, ColumnFacts):
            return {}
        key = (table, info["name"])
        out: dict[str, Any] = dict(extra.collations.get(key, {}))
        if key in extra.on_update:
            out["on_update_now"] = True
        return out

    def rewrite(self, node: Any, compare: bool) -> Any:
        """MariaDB stores ``LENGTH(x)`` as ``octet_length(x)``: the same function; and
        a view's ``count(*)`` as ``count(0)``: the same count."""
        from sqlglot import exp

        if compare and isinstance(node, exp.Anonymous) and node.name.lower() == "octet_length" and node.expressions:
            return exp.Length(this=node.expressions[0])
        if compare and isinstance(node, exp.Count) and isinstance(node.this, exp.Literal) and node.this.this == "0":
            return exp.Count(this=exp.Star())
        return node

    #: MySQL's own entries of the table back, before the generic ones
    type_table = (
        (mysql.TINYINT, lambda t, seen: {"type": "boolean"} if t.display_width == 1 else None),
        (mysql.TINYINT, lambda t, seen: {"type": "unsignedTinyInteger" if t.unsigned else "tinyInteger"}),
        (mysql.LONGTEXT, lambda t, seen: {"type": "json"} if (seen.table, seen.column) in seen.extra else None),
        (mysql.MEDIUMTEXT, lambda t, seen: {"type": "mediumText"}),
        (mysql.LONGTEXT, lambda t, seen: {"type": "longText"}),
        (mysql.MEDIUMBLOB, lambda t, seen: {"type": "mediumBinary"}),
        (mysql.LONGBLOB, lambda t, seen: {"type": "longBinary"}),
        (mysql.TINYBLOB, lambda t, seen: {"type": raw_type(t, seen.dialect)}),
        (mysql.YEAR, lambda t, seen: {"type": "year"}),
        (
            mysql.SET,
            lambda t, seen: (
                {"type": "set", "values": tuple(show_create_value(v) for v in t.values)} if t.values else None
            ),
        ),
        (sa.VARBINARY, lambda t, seen: {"type": "varbinary", "length": t.length} if t.length is not None else None),
        (sa.BINARY, lambda t, seen: {"type": "fixedBinary", "length": t.length} if t.length is not None else None),
        (
            (mysql.TINYINT, mysql.MEDIUMINT, mysql.BIT, mysql.SET, *OWN_TEXT_TYPES),
            lambda t, seen: {"type": raw_type(t, seen.dialect)},
        ),
        (mysql.SMALLINT, lambda t, seen: {"type": "unsignedSmallInteger"} if t.unsigned else None),
        (mysql.BIGINT, lambda t, seen: {"type": "unsignedBigInteger"} if t.unsigned else None),
        (mysql.INTEGER, lambda t, seen: {"type": "unsignedInteger"} if t.unsigned else None),
        (sa.CHAR, lambda t, seen: {"type": "uuid"} if t.length == 36 else None),
        (mysql.TIMESTAMP, lambda t, seen: {"type": "utcTimestamp", **fractional(t)}),
        (sa.DateTime, lambda t, seen: {"type": "timestamp", **fractional(t)}),
        (sa.Time, lambda t, seen: {"type": "time", **fractional(t)}),
        (
            sa.Enum,
            lambda t, seen: (
                {"type": "enum", "values": tuple(show_create_value(v) for v in t.enums)} if t.enums else None
            ),
        ),
    )

    def index_options(self, table: str, info: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
        """FULLTEXT or SPATIAL, and the prefix length of each column (``KEY (path(768))``)."""
        options = info.get("dialect_options") or {}
        out: dict[str, Any] = {}
        prefix = str(options.get("mysql_prefix") or "").lower()
        if prefix in ("fulltext", "spatial"):
            out["kind"] = prefix
        lengths = options.get("mysql_length") or {}
        if isinstance(lengths, int):  # SQLAlchemy gives a bare number for a one-column key
            lengths = {columns[0]: lengths} if columns else {}
        if any(lengths.get(c) for c in columns):
            out["lengths"] = tuple(lengths.get(c) or None for c in columns)
        return out

    def column_notes(self, table: str, info: dict[str, Any]) -> list[str]:
        """A binary default that is no UTF-8 text (``0xFF00``): the models hold a
        default as text, so it is named and left out, never written as another value."""
        if not_text(info.get("default")):
            return ["a default of bytes that are no UTF-8 text; the models cannot say it, left out"]
        return super().column_notes(table, info)

    def plain_text(self, t: Any) -> bool:
        """A SET is no plain text (its values are a set of members)."""
        return super().plain_text(t) and not isinstance(t, mysql.SET)

    def default(self, text: str | None, type_: str, autoincrement: bool) -> Any:
        """A YEAR's default is a number (the server writes it as a string); a
        BINARY(n)'s is the value the models gave, without the zero bytes that pad it
        to n (the same value there)."""
        if not_text(text):
            return None  # named by column_notes
        value = super().default(text, type_, autoincrement)
        if type_ == "year" and isinstance(value, str) and value.isdigit():
            return int(value)
        if type_ == "fixedBinary" and isinstance(value, str):
            return value.rstrip("\0")
        return value

    def own_index(self, table: str, info: dict[str, Any], fks: list[ForeignKey]) -> bool:
        cols = tuple(info.get("column_names") or ())
        return not info.get("unique") and any(fk.name == info["name"] and fk.columns == cols for fk in fks)

    def own_check(self, table: str, info: dict[str, Any], columns: list[Column], extra: Any) -> bool:
        column = json_valid_column(info["sqltext"])
        return column is not None and (table, column) in extra

    def action(self, value: str | None) -> str | None:
        action = super().action(value)
        return None if action == "RESTRICT" else action

    def comparable_table(self, table: Table) -> Table:
        """A unique index is a unique key here, as a unique constraint is; the
        table's options and collations as ``comparable_attributes`` says."""
        table = self.comparable_attributes(super().comparable_table(table))
        keys = [i for i in table.indexes if i.unique and i.plain and not i.descending]
        if not keys:
            return table
        return replace(
            table,
            indexes=tuple(i for i in table.indexes if i not in keys),
            uniques=(*table.uniques, *(Unique(i.name, i.columns) for i in keys)),
        )

    def read_options(self, insp: Any, kw: dict[str, Any]) -> dict[str, dict[str, str]]:
        """ENGINE, DEFAULT CHARSET and COLLATE of every table, in one query;
        those the driver gives every table it makes (InnoDB, its default charset
        and collation) are left out, as a model leaves them out."""
        out: dict[str, dict[str, str]] = {}
        wanted = set(kw.get("filter_names") or ()) or None
        for table, engine, collation, charset in insp.bind.execute(sa.text(TABLE_FACTS)):
            if wanted is not None and table not in wanted:
                continue
            found = {"engine": engine, "collation": collation, "charset": charset}
            options = {k: str(v) for k, v in found.items() if v}
            if options.get("engine", "").lower() == "innodb":  # the driver's own: no option of the models
                del options["engine"]
            if options.get("collation") in (None, DEFAULT_COLLATION):
                options.pop("collation", None)
                options.pop("charset", None)
            out[str(table)] = options
        return out

    def comparable_attributes(self, table: Table) -> Table:
        """The driver's own table options (InnoDB, its default charset and
        collation) are no option of the models; a column whose collation is its
        table's is a column without one of its own (the database says none)."""
        collation = table.option("collation") or DEFAULT_COLLATION
        columns = tuple(
            replace(c, collation=None, charset=None) if c.collation == collation else c for c in table.columns
        )
        options = dict(table.options)
        if options.get("engine", "").lower() == "innodb":
            del options["engine"]
        if options.get("collation") == DEFAULT_COLLATION:
            options.pop("collation")
            options.pop("charset", None)
        if "collation" in options:  # a collation names its charset
            options.pop("charset", None)
        if options.get("charset") == DEFAULT_CHARSET and "collation" not in options:
            options.pop("charset")
        return replace(table, columns=columns, options=options)

    def comparable_column(self, table: Table, col: Column) -> Column:
        """No time zone; a collation names its character set (``utf8mb4_bin`` is
        utf8mb4's), so a charset beside a collation says nothing more."""
        col = super().comparable_column(table, col)
        if col.type == "fixedBinary" and isinstance(col.default, str) and col.default.endswith("\0"):
            col = replace(col, default=col.default.rstrip("\0"))  # zero bytes pad every BINARY(n) value
        if col.precision == FSP and col.type in ("timestamp", "time", "utcTimestamp"):
            col = replace(col, precision=None)  # the precision a column that says none gets
        if col.collation is not None and col.charset is not None:
            col = replace(col, charset=None)
        if col.enum_name is not None:  # an ENUM is the column's own here: its values are all there is to it
            col = replace(col, enum_name=None)
        return replace(col, use_tz=False) if col.use_tz else col

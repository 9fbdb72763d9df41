"""MySQL 8 / MariaDB 10.11+ DDL.

Every column says NULL or NOT NULL, and DEFAULT wherever one is declared, so the
server never adds an implicit NOT NULL, DEFAULT or ``ON UPDATE CURRENT_TIMESTAMP``.

Type mapping:
- timestamp -> ``DATETIME(6)`` (``DEFAULT CURRENT_TIMESTAMP(6)`` when it defaults
  to now). DATETIME has no implicit ``ON UPDATE``, no 2038 limit and no session
  time-zone conversion; MySQL has no time-zone-aware type, so ``use_tz`` is
  stored as DATETIME as well (keep UTC in it).
- boolean -> ``TINYINT(1)`` (defaults 1/0), enum -> native ``ENUM(...)``,
  json -> ``JSON`` (MariaDB: an alias of LONGTEXT with a json_valid check),
  uuid -> ``CHAR(36)`` (MySQL 8 has no UUID type), decimal -> ``DECIMAL(p, s)``,
  binary -> ``BLOB``, auto-increment keys -> ``AUTO_INCREMENT``.

Alterations are ``MODIFY COLUMN`` with the full new definition; checks are
dropped with ``DROP CONSTRAINT`` (MySQL 8.0.19+ and MariaDB), foreign keys with
``DROP FOREIGN KEY`` and then the index the server made for them, if any.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.dialects import mysql

from modelmig_core import api
from modelmig_core.api import Column, MigrationFailed, Renderer, Step, Table, renders_operation
from modelmig_core.api_sql import Bodies, ViewColumns


def explicit_null_compiler(base: type) -> type:
    """The dialect's DDL compiler, with an explicit NULL on every nullable column."""

    class ExplicitNullDDLCompiler(base):  # type: ignore[valid-type,misc]
        def get_column_specification(self, column: Any, **kw: Any) -> str:
            spec: str = super().get_column_specification(column, **kw)
            if column.nullable and column.computed is None:  # MariaDB takes no NULL on a generated column
                head = " ".join(
                    [
                        self.preparer.format_column(column),
                        self.dialect.type_compiler_instance.process(column.type, type_expression=column),
                    ]
                )
                rest = spec[len(head) :]
                if spec.startswith(head) and not rest.startswith(" NULL"):
                    spec = head + " NULL" + rest
            digits = column.info.get("on_update_now")
            if digits is not None:  # asked for explicitly, never implicit; at the column's own precision
                spec += f" ON UPDATE CURRENT_TIMESTAMP({int(digits)})" if digits else " ON UPDATE CURRENT_TIMESTAMP"
            return spec

        def visit_primary_key_constraint(self, constraint: Any, **kw: Any) -> str:
            """``PRIMARY KEY (path(768), id)``: a column's prefix from the constraint's
            ``info["lengths"]`` (the core's renderer sets it), each length an int."""
            lengths = constraint.info.get("lengths") or {}
            if not lengths:
                return str(super().visit_primary_key_constraint(constraint, **kw))
            parts = [
                self.preparer.quote(c.name) + (f"({int(lengths[c.name])})" if c.name in lengths else "")
                for c in constraint.columns
            ]
            return f"PRIMARY KEY ({', '.join(parts)})"

    return ExplicitNullDDLCompiler


#: the state types that take a character set and collation (made again after a CONVERT TO)
TEXT_TYPES = frozenset({"string", "char", "text", "tinyText", "mediumText", "longText", "enum", "set", "uuid"})
EXPRESSION_DEFAULT_TYPES = frozenset({"text", "mediumText", "longText", "binary", "mediumBinary", "longBinary", "json"})


@dataclass
class MysqlFacts:
    """(table, index name) of every index of the database, and the columns each
    view uses, read before the migration."""

    indexes: set[tuple[str, str]] = field(default_factory=set)
    views: ViewColumns = field(default_factory=ViewColumns)
    #: the bodies of the schema's triggers, functions and procedures
    bodies: Bodies = field(default_factory=lambda: Bodies(dialect="mysql"))


def covered(table: Table, columns: tuple[str, ...]) -> bool:
    """Whether a declared index, unique key (or the primary key) can serve a
    foreign key on ``columns``: they are its leftmost columns."""
    keys = [ix.columns for ix in table.indexes] + [u.columns for u in table.uniques]
    if table.primary_key:
        keys.append(table.primary_key)
    return any(k[: len(columns)] == columns for k in keys)


def enum_literal_compiler(base: type, renderer: Renderer) -> type:
    """The dialect's type compiler, with ENUM values written by ``renderer.string_literal``."""

    class EnumLiteralTypeCompiler(base):  # type: ignore[valid-type,misc]
        def _visit_enumerated_values(self, name: str, type_: Any, enumerated_values: Any) -> str:
            values = ",".join(renderer.string_literal(v) for v in enumerated_values)
            return str(self._extend_string(type_, {}, f"{name}({values})"))

    return EnumLiteralTypeCompiler


#: the fractional seconds of a DATETIME, TIME or TIMESTAMP column that says none
FSP = 6


def fraction(col: Column) -> int:
    """The fractional seconds precision the column is rendered with."""
    return FSP if col.precision is None else int(col.precision)


def sql_mode_flags(sql_mode: str) -> tuple[bool, bool]:
    """(backslash escapes, ANSI_QUOTES) of a session's ``@@SESSION.sql_mode``."""
    modes = {m.strip().upper() for m in sql_mode.split(",")}
    return "NO_BACKSLASH_ESCAPES" not in modes, "ANSI_QUOTES" in modes


class MysqlRenderer(Renderer):
    """Literals are written the way the session's sql_mode reads them
    (``read_sql_mode``, called by ``MysqlSession.renderer`` with the mode the
    server reports): with backslash escapes (the server's default) a backslash
    is doubled and NUL written ``\\0``; with NO_BACKSLASH_ESCAPES only quotes are
    doubled. Names are always in backticks, which ANSI_QUOTES leaves names; a
    check's double-quoted names are written in backticks too (a string without
    ANSI_QUOTES, a name with it: a backtick is a name under both)."""

    #: MySQL 8 and MariaDB take an expression default only in parentheses
    parenthesized_defaults = True

    def index_kwargs(self, table: Any, ix: Any) -> dict[str, Any]:
        """FULLTEXT or SPATIAL."""
        return {} if ix.kind is None else {"mysql_prefix": ix.kind.upper()}

    def index_column(self, column: Any, length: int | None) -> Any:
        """``path(768)``: a prefix of the column (its length an int, checked at make time)."""
        if length is None:
            return column
        from sqlalchemy import literal_column

        return literal_column(f"{self.q(column.name)}({int(length)})")

    #: a view keeps a renamed column's or table's old name and breaks: refused
    renames_break_views = True

    dialect_name = "mysql"
    native_enum = True
    online_forms = True  # ALGORITHM=INSTANT / INPLACE, LOCK=NONE where the declared server has them
    requote_names = True
    backslash_escapes = True  # MySQL's and MariaDB's default sql_mode

    #: state type -> MySQL/MariaDB DDL type
    types = {
        **Renderer.types,
        # fractional seconds: 6 unless the column says (DATETIME(0) is written DATETIME)
        "timestamp": lambda c: mysql.DATETIME(fsp=fraction(c) or None),
        "time": lambda c: mysql.TIME(fsp=fraction(c) or None),
        "utcTimestamp": lambda c: mysql.TIMESTAMP(fsp=fraction(c) or None),
        "set": lambda c: mysql.SET(*c.values or (), retrieve_as_bitwise=False),
        "year": lambda c: mysql.YEAR(),
        "varbinary": lambda c: mysql.VARBINARY(c.length),
        "fixedBinary": lambda c: mysql.BINARY(c.length),
        "boolean": lambda c: mysql.TINYINT(1),
        "decimal": lambda c: mysql.DECIMAL(c.precision, c.scale),
        "uuid": lambda c: mysql.CHAR(36),
        "double": lambda c: mysql.DOUBLE(),
        "float": lambda c: mysql.FLOAT(),
        "json": lambda c: mysql.JSON(),
        "enum": lambda c: mysql.ENUM(*c.values or ()),
        "tinyInteger": lambda c: mysql.TINYINT(),
        "unsignedTinyInteger": lambda c: mysql.TINYINT(unsigned=True),
        "unsignedSmallInteger": lambda c: mysql.SMALLINT(unsigned=True),
        "unsignedInteger": lambda c: mysql.INTEGER(unsigned=True),
        "unsignedBigInteger": lambda c: mysql.BIGINT(unsigned=True),
        "mediumText": lambda c: mysql.MEDIUMTEXT(),
        "longText": lambda c: mysql.LONGTEXT(),
        "mediumBinary": lambda c: mysql.MEDIUMBLOB(),
        "longBinary": lambda c: mysql.LONGBLOB(),
    }

    def __init__(self, hook: Any = None) -> None:
        super().__init__(hook)
        self.dialect.ddl_compiler = explicit_null_compiler(type(self.dialect).ddl_compiler)  # type: ignore[misc]
        types = enum_literal_compiler(type(self.dialect.type_compiler_instance), self)(self.dialect)
        self.dialect.type_compiler_instance = self.dialect.type_compiler = types  # type: ignore[misc]

    def read_sql_mode(self, sql_mode: str) -> None:
        """Render for a session whose ``@@SESSION.sql_mode`` is ``sql_mode``."""
        escapes, _ansi_quotes = sql_mode_flags(sql_mode)
        self.backslash_escapes = escapes
        self.dialect._backslash_escapes = escapes  # type: ignore[attr-defined]  # SQLAlchemy's own, alike
        self._types.clear()

    def string_literal(self, value: str) -> str:
        if not self.backslash_escapes:
            return super().string_literal(value)
        return "'" + value.replace("\\", "\\\\").replace("'", "''").replace("\0", "\\0") + "'"

    #: the session's server would give a TIMESTAMP NOT NULL column without a default
    #: an implicit default and ON UPDATE (``MysqlSession.implicit_timestamps``)
    implicit_timestamps = False

    def sa_column(self, col: Column) -> Any:
        if self.implicit_timestamps and col.type == "utcTimestamp" and not col.nullable:
            if col.default is None and not col.default_now and col.default_sql is None:
                raise MigrationFailed(
                    f"column {col.name}: a TIMESTAMP NOT NULL column without a default would get an implicit "
                    "DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP (explicit_defaults_for_timestamp is OFF "
                    "and the session may not turn it on): turn it on for the server, or give the column a default"
                )
        column = super().sa_column(col)
        if col.on_update_now:
            column.info["on_update_now"] = fraction(col)  # MySQL refuses ON UPDATE at another precision
        return column

    def now_default(self, col: Column) -> str:
        """The current time at the column's own fractional seconds (a DATETIME(0)
        refuses CURRENT_TIMESTAMP(6) as its default)."""
        digits = fraction(col)
        return f"CURRENT_TIMESTAMP({digits})" if digits else "CURRENT_TIMESTAMP"

    def collated(self, t: Any, col: Column) -> Any:
        """A text column's own ``CHARACTER SET`` and ``COLLATE``, their names in
        backticks (SQLAlchemy's MySQL compiler writes them bare)."""
        if col.collation is None and col.charset is None:
            return t
        if not hasattr(t, "collation"):
            raise MigrationFailed(f"column {col.name}: type {col.type!r} takes no character set or collation")
        t = t.copy()
        if col.collation is not None:
            t.collation = self.q_always(col.collation)
        if col.charset is not None:
            t.charset = self.q_always(col.charset)
        return t

    def q_always(self, name: str) -> str:
        """A name in backticks whatever it is (a collation or character set)."""
        return "`" + name.replace("`", "``") + "`"

    #: ``Table.options`` -> SQLAlchemy's MySQL table keywords
    OPTION_KEYWORDS = {"engine": "mysql_engine", "charset": "mysql_charset", "collation": "mysql_collate"}

    def sa_table(self, table: Table, md: Any = None, name: str | None = None) -> Any:
        """The table with its own options (engine, charset, collation) over the
        connection's (validated as plain names at make time)."""
        if not table.options:
            return super().sa_table(table, md, name)
        saved = self.table_options
        self.table_options = {**saved, **{self.OPTION_KEYWORDS[k]: v for k, v in table.options}}
        try:
            return super().sa_table(table, md, name)
        finally:
            self.table_options = saved

    @renders_operation(api.SetTableOptions)
    def op_set_table_options(self, op: Any, step: Step) -> list[str]:
        """ENGINE; a new charset and collation converts every text column (CONVERT TO,
        which may also widen TEXT types), then each is made again as the state says
        (its own collation, its type)."""
        old, new = dict(op.old), dict(op.new)
        t = self.q(op.table)
        out = []
        engine = new.get("engine") or str(self.table_options.get("mysql_engine", "InnoDB"))
        if old.get("engine") != new.get("engine"):
            out.append(f"ALTER TABLE {t} ENGINE = {self.q(engine)}")
        if (old.get("charset"), old.get("collation")) != (new.get("charset"), new.get("collation")):
            charset = new.get("charset") or str(self.table_options.get("mysql_charset", "utf8mb4"))
            collation = new.get("collation") or self.table_options.get("mysql_collate")
            convert = f"ALTER TABLE {t} CONVERT TO CHARACTER SET {self.q(charset)}"
            out.append(convert + (f" COLLATE {self.q(str(collation))}" if collation else ""))
            after = step.after.table(op.table)
            out += [
                f"ALTER TABLE {t} MODIFY COLUMN {self.column_spec(op.table, c)}"
                for c in after.columns
                if c.type in TEXT_TYPES
            ]
        return out

    def server_default(self, col: Column) -> Any:
        """TEXT, BLOB and JSON columns take a default only as an expression on MySQL 8
        (8.0.13+; a literal fails with 1101): ``DEFAULT ('')``. MariaDB accepts it too."""
        if col.default is not None and col.type in EXPRESSION_DEFAULT_TYPES:
            import sqlalchemy as sa

            return sa.literal_column(f"({self.literal(col.default)})")
        return super().server_default(col)

    # ------------------------------------------------------------ operations

    @renders_operation(api.AlterColumn)
    def op_alter_column(self, op: Any, step: Step) -> list[str]:
        if op.old.name != op.new.name:
            raise MigrationFailed(f"AlterColumn on {op.table}: renames are RenameColumn operations")
        if op.old.primary != op.new.primary:
            raise MigrationFailed(
                f"{op.table}.{op.new.name}: changing which columns form the primary key is not supported by AlterColumn"
            )
        return [f"ALTER TABLE {self.q(op.table)} MODIFY COLUMN {self.column_spec(op.table, op.new)}"]

    @renders_operation(api.DropCheck)
    def op_drop_check(self, op: Any, step: Step) -> list[str]:
        return [f"ALTER TABLE {self.q(op.table)} DROP CONSTRAINT {self.q(op.check.name)}"]

    @renders_operation(api.DropForeignKey)
    def op_drop_foreign_key(self, op: Any, step: Step) -> list[str]:
        out = [f"ALTER TABLE {self.q(op.table)} DROP FOREIGN KEY {self.q(op.foreign_key.name)}"]
        # the server made an index named after the FK unless an index already served it
        declared = {i.name for i in step.before.table(op.table).indexes}
        key = (op.table, op.foreign_key.name)
        if op.foreign_key.name not in declared and key in self.live.indexes:
            out.append(f"DROP INDEX {self.q(op.foreign_key.name)} ON {self.q(op.table)}")
            self.live.indexes.discard(key)
        return out

    @property
    def live(self) -> MysqlFacts:
        if not isinstance(self.facts, MysqlFacts):
            self.facts = MysqlFacts()
        return self.facts

    def _made_fk_index(self, table: Table, fk: Any) -> None:
        """Adding a foreign key that no index serves makes the server add one named after it."""
        if not covered(table, fk.columns):
            self.live.indexes.add((table.name, fk.name))

    @renders_operation(api.AddForeignKey)
    def op_add_foreign_key(self, op: Any, step: Step) -> list[str]:
        self._made_fk_index(step.after.table(op.table), op.foreign_key)
        return super().op_add_foreign_key(op, step)

    @renders_operation(api.CreateTable)
    def op_create_table(self, op: Any, step: Step) -> list[str]:
        for fk in op.table.foreign_keys:
            self._made_fk_index(op.table, fk)
        return super().op_create_table(op, step)

    @renders_operation(api.RenameTable)
    def op_rename_table(self, op: Any, step: Step) -> list[str]:
        self.live.indexes = {(op.new if t == op.old else t, i) for t, i in self.live.indexes}
        return super().op_rename_table(op, step)

    # ------------------------------------------------------------ online forms (context.online)

    def settings(self) -> list[str]:
        """How long a statement waits for its metadata lock (whole seconds, at
        least 1), and on MariaDB how long one may run (``max_statement_time``, in
        seconds: MariaDB 10.1+). MySQL has no such bound for DDL (its
        ``max_execution_time`` applies to SELECT only): no statement_timeout there."""
        from .costs import product_version

        seconds = max(1, math.ceil(self.context.seconds(self.context.lock_timeout)))
        out = [f"SET SESSION lock_wait_timeout = {seconds}"]
        if product_version(self.context.server)[0] == "mariadb":
            limit = self.context.seconds(self.context.statement_timeout)
            out.append(f"SET SESSION max_statement_time = {limit:g}")
        return out

    def settings_reset(self) -> list[str]:
        from .costs import product_version

        out = ["SET SESSION lock_wait_timeout = DEFAULT"]
        if product_version(self.context.server)[0] == "mariadb":
            out.append("SET SESSION max_statement_time = DEFAULT")
        return out

    def statements(self, step: Step, facts: Any = None) -> list[str]:
        out = super().statements(step, facts)
        if not self.online:
            return out
        from .costs import online_form

        return [online_form(text, step, self.context.server) for text in out]

    def drop_index_sql(self, table: str, name: str) -> str:
        """MariaDB's DROP INDEX takes no ALGORITHM: online, its ALTER TABLE form does."""
        if self.online:
            return f"ALTER TABLE {self.q(table)} DROP INDEX {self.q(name)}"
        return f"DROP INDEX {self.q(name)} ON {self.q(table)}"

    @renders_operation(api.AddColumn)
    def op_add_column(self, op: Any, step: Step) -> list[str]:
        if self.backfilled(op):
            return self.add_with_backfill(op, step)
        return [f"ALTER TABLE {self.q(op.table)} ADD COLUMN {self.column_spec(op.table, op.column)}"]

    def keep_fk_indexes(self, table: str, step: Step) -> list[str]:
        """MySQL refuses to drop the index a foreign key uses (error 1553): before
        an index or unique key goes, each foreign key it leaves without one gets the
        index the server would have made for it (named after the key)."""
        out = []
        after = step.after.table(table)
        for fk in after.foreign_keys:
            if not covered(after, fk.columns) and (table, fk.name) not in self.live.indexes:
                cols = ", ".join(self.q(c) for c in fk.columns)
                out.append(f"CREATE INDEX {self.q(fk.name)} ON {self.q(table)} ({cols})")
                self.live.indexes.add((table, fk.name))
        return out

    @renders_operation(api.DropIndex)
    def op_drop_index(self, op: Any, step: Step) -> list[str]:
        if self.online:
            return [*self.keep_fk_indexes(op.table, step), self.drop_index_sql(op.table, op.index.name)]
        return self.keep_fk_indexes(op.table, step) + super().op_drop_index(op, step)

    @renders_operation(api.DropUnique)
    def op_drop_unique(self, op: Any, step: Step) -> list[str]:
        out = self.keep_fk_indexes(op.table, step)
        return [*out, self.drop_index_sql(op.table, op.unique.name)]

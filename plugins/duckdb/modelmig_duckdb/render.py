"""DuckDB DDL through SQLAlchemy Core (duckdb-engine's dialect).

- Types are DuckDB's own names (what its catalogue reports), in the driver's type
  table (``DuckdbRenderer.types``, as every driver keeps one): VARCHAR for strings,
  text and enums (DuckDB ignores a VARCHAR length; enum values are not enforced,
  see ``DuckdbRenderer.enum_checks``), DECIMAL(p,s), DOUBLE, BLOB... A type the
  table has no entry for is a ``render_column`` hook's or the registered type's own
  ``ddl["duckdb"]``, through the core's ``column_type``.
- Auto-increment keys: a sequence per column, ``DEFAULT nextval('<table>_<column>_seq')``.
- DuckDB cannot alter a table that has indexes: those are dropped before and
  made again after a rename, an alteration or a dropped column, in the same
  transaction.
- Unique constraints are unique indexes: DuckDB can add or drop an index on an
  existing table, but no constraint.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.schema import CreateIndex

from modelmig_core import api
from modelmig_core.api import Column, Index, Renderer, Step, Table, renders_operation


class Named(sa.types.UserDefinedType[Any]):
    """A type that compiles to its DuckDB name."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


def named(name: str) -> Callable[[Column], Any]:
    return lambda col: Named(name)


def with_tz(name: str) -> Callable[[Column], Any]:
    return lambda col: Named(f"{name} WITH TIME ZONE" if col.use_tz else name)


#: modelmig type -> DuckDB DDL type (the driver's type table; back: ``reflect.py``)
TYPES: dict[str, Callable[[Column], Any]] = {
    "integer": named("INTEGER"),
    "bigInteger": named("BIGINT"),
    "smallInteger": named("SMALLINT"),
    "string": named("VARCHAR"),
    "text": named("VARCHAR"),
    "enum": named("VARCHAR"),
    "boolean": named("BOOLEAN"),
    "decimal": lambda col: Named(f"DECIMAL({col.precision},{col.scale})"),
    "float": named("FLOAT"),
    "double": named("DOUBLE"),
    "date": named("DATE"),
    "time": with_tz("TIME"),
    "timestamp": with_tz("TIMESTAMP"),
    "json": named("JSON"),
    "uuid": named("UUID"),
    "binary": named("BLOB"),
}


@functools.lru_cache(maxsize=1)
def reserved_words() -> frozenset[str]:
    """The words DuckDB reserves (more than PostgreSQL does: AT, ...), quoted too.
    Read once, on a private in-memory connection: DuckDB's module-level default
    connection is one object for every thread, and renderers are made in the
    threads of `--jobs` ("connection is busy with another call")."""
    import duckdb

    keywords = "SELECT keyword_name FROM duckdb_keywords() WHERE keyword_category <> 'unreserved'"
    with duckdb.connect(":memory:") as con:
        return frozenset(w for (w,) in con.execute(keywords).fetchall())


def sequence(table: str, column: str) -> str:
    return f"{table}_{column}_seq"


def indexed(table: Table) -> Table:
    """``table`` with its unique constraints as unique indexes."""
    return replace(
        table, uniques=(), indexes=(*table.indexes, *(Index(u.name, u.columns, True) for u in table.uniques))
    )


class DuckdbRenderer(Renderer):
    dialect_name = "duckdb"
    table = ""  # the table whose columns are being rendered (sequence names)
    unique_constraints_as_indexes = True
    types = TYPES

    def __init__(self, hook: Any = None) -> None:
        super().__init__(hook)
        preparer = self.dialect.identifier_preparer
        preparer.reserved_words = preparer.reserved_words | reserved_words()

    def enum_checks(self, table: Table) -> list[Any]:
        """None: enums stay VARCHAR without the CHECK that holds their values on other
        databases, as DuckDB can neither drop that CHECK when the values change nor
        change the type of a column under a CHECK; DuckDB does not enforce them."""
        return []

    def literal(self, value: str | int | float | bool) -> str:
        return ("true" if value else "false") if isinstance(value, bool) else super().literal(value)

    def sa_column(self, col: Column) -> sa.Column[Any]:
        if not col.autoincrement:
            return super().sa_column(col)
        default = sa.text(f"nextval({self.literal(sequence(self.table, col.name))})")
        return sa.Column(
            col.name, self.column_type(col), primary_key=col.primary, server_default=default, comment=col.comment
        )

    def sa_table(self, table: Table, md: sa.MetaData | None = None, name: str | None = None) -> sa.Table:
        self.table = name or table.name
        return super().sa_table(table, md, name)

    def create_table(self, table: Table, name: str | None = None) -> list[str]:
        seqs = [sequence(name or table.name, c.name) for c in table.columns if c.autoincrement]
        return [f"CREATE SEQUENCE IF NOT EXISTS {self.q(s)}" for s in seqs] + super().create_table(indexed(table), name)

    @renders_operation(api.AddUnique)
    def op_add_unique(self, op: Any, step: Step) -> list[str]:
        index = self.sa_index(
            self._stub(sa.MetaData(), op.table, op.unique.columns), Index(op.unique.name, op.unique.columns, True)
        )
        return [self.compile(CreateIndex(index))]

    @renders_operation(api.DropUnique)
    def op_drop_unique(self, op: Any, step: Step) -> list[str]:
        return [f"DROP INDEX {self.q(op.unique.name)}"]

    @renders_operation(api.DropTable)
    def op_drop_table(self, op: Any, step: Step) -> list[str]:
        seqs = [sequence(op.table.name, c.name) for c in op.table.columns if c.autoincrement]
        return super().op_drop_table(op, step) + [f"DROP SEQUENCE IF EXISTS {self.q(s)}" for s in seqs]

    def keeping_indexes(self, before: Table, after: Table, statements: list[str]) -> list[str]:
        """``statements`` between dropping ``before``'s indexes and making ``after``'s."""
        before, after = indexed(before), indexed(after)
        if not statements or not before.indexes:
            return statements
        t = self.sa_table(after)
        creates = [self.compile(CreateIndex(self.sa_index(t, ix))) for ix in after.indexes]
        return [f"DROP INDEX {self.q(ix.name)}" for ix in before.indexes] + statements + creates

    @renders_operation(api.RenameTable)
    def op_rename_table(self, op: Any, step: Step) -> list[str]:
        out = super().op_rename_table(op, step)
        return self.keeping_indexes(step.before.table(op.old), step.after.table(op.new), out)

    @renders_operation(api.RenameColumn)
    def op_rename_column(self, op: Any, step: Step) -> list[str]:
        out = super().op_rename_column(op, step)
        return self.keeping_indexes(step.before.table(op.table), step.after.table(op.table), out)

    @renders_operation(api.DropColumn)
    def op_drop_column(self, op: Any, step: Step) -> list[str]:
        out = super().op_drop_column(op, step)
        return self.keeping_indexes(step.before.table(op.table), step.after.table(op.table), out)

    @renders_operation(api.AlterColumn)
    def op_alter_column(self, op: Any, step: Step) -> list[str]:
        old, new = op.old, op.new
        alter = f"ALTER TABLE {self.q(op.table)} ALTER COLUMN {self.q(new.name)}"
        out = []
        new_type = self.column_type(new).name if isinstance(self.column_type(new), Named) else None
        if new_type is None or self.column_type(old).name != new_type:
            out.append(f"{alter} TYPE {self.compile_type(new)}")
        default = self.server_default(new)
        if default is not None and (old.default, old.default_now) != (new.default, new.default_now):
            out.append(f"{alter} SET DEFAULT {self.compile(default)}")
        elif default is None and (old.default is not None or old.default_now):
            out.append(f"{alter} DROP DEFAULT")
        if old.nullable != new.nullable:
            out.append(f"{alter} {'DROP' if new.nullable else 'SET'} NOT NULL")
        if old.comment != new.comment:
            comment = self.literal(new.comment) if new.comment is not None else "NULL"
            out.append(f"COMMENT ON COLUMN {self.q(op.table)}.{self.q(new.name)} IS {comment}")
        return self.keeping_indexes(step.before.table(op.table), step.after.table(op.table), out)

    def compile_type(self, col: Column) -> str:
        return str(self.column_type(col).compile(dialect=self.dialect))

"""DuckDB's live schema as the relational state (``Driver.reflect``: drift,
``make:models``, ``migrate:baseline`` and the conformance kit).

duckdb-engine's SQLAlchemy dialect cannot reflect, so ``read`` queries DuckDB's
own catalogue, one query per kind for every table: ``duckdb_columns()``,
``duckdb_constraints()`` (primary keys, foreign keys, checks with their
``expression``, unique constraints) and ``duckdb_indexes()``, whose ``CREATE
INDEX`` text is parsed by sqlglot for the indexed columns (exact for any quoted
name). Types are DuckDB's names (``VARCHAR``, ``DECIMAL(10,3)``, ``TIMESTAMP
WITH TIME ZONE``), parsed by sqlglot and read as the SQLAlchemy type of that name
(``SA_TYPES``): from there the core's own path reads them, as it does every
driver's (a registered type's ``reflects["duckdb"]`` first, then the driver's
``type_table``, then the generic table back), so a plugin's column type
round-trips here too. A name neither knows keeps DuckDB's spelling in lower case.
An integer key whose default is ``nextval(...)`` of its sequence is auto-increment.

What DuckDB cannot say is not compared (``comparable``, both sides): a VARCHAR
has no length and no enum values (string, text and enum are all text); unique
constraints are the unique indexes the renderer makes of them. Foreign keys and
checks have the names DuckDB gives them: the driver declares
``constraint_names=False``, so ``SqlDriver.comparable`` matches them by what they
are, not by name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from modelmig_core.api import Catalogue, Column, Index, Reflection, Table

#: DuckDB's type (as sqlglot names what the catalogue reports) -> the SQLAlchemy type
#: of that name, from its arguments (DECIMAL without them is DuckDB's DECIMAL(18,3))
SA_TYPES: dict[str, Callable[[list[int]], Any]] = {
    "INT": lambda args: sa.INTEGER(),
    "BIGINT": lambda args: sa.BIGINT(),
    "SMALLINT": lambda args: sa.SMALLINT(),
    "BOOLEAN": lambda args: sa.BOOLEAN(),
    "TEXT": lambda args: sa.TEXT(),
    "VARCHAR": lambda args: sa.TEXT(),  # DuckDB keeps no length
    "FLOAT": lambda args: sa.REAL(),
    "DOUBLE": lambda args: sa.DOUBLE(),
    "DECIMAL": lambda args: sa.DECIMAL(*args) if len(args) == 2 else sa.DECIMAL(18, 3),
    "DATE": lambda args: sa.DATE(),
    "TIME": lambda args: sa.TIME(),
    "TIMETZ": lambda args: sa.TIME(timezone=True),
    "TIMESTAMP": lambda args: sa.TIMESTAMP(),
    "TIMESTAMPTZ": lambda args: sa.TIMESTAMP(timezone=True),
    "JSON": lambda args: sa.JSON(),
    "UUID": lambda args: sa.UUID(),
    "VARBINARY": lambda args: sa.LargeBinary(),
    "BLOB": lambda args: sa.LargeBinary(),
}
TEXT_TYPES = ("string", "text", "enum")


def sa_type(text: str) -> Any:
    """The SQLAlchemy type of a DuckDB type name, or None when it has none here."""
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        t = exp.DataType.build(text, dialect="duckdb")
    except (SqlglotError, ValueError):
        return None
    make = SA_TYPES.get(t.this.name)
    if make is None:
        return None
    args = [int(p.this.this) for p in t.expressions if isinstance(p.this, exp.Literal)]
    return make(args)


def calls(default: str) -> str | None:
    """The name (lower case) of the function a column default calls as a whole
    (``nextval('t_id_seq')`` -> ``"nextval"``), read with sqlglot as DuckDB; None
    for anything else (a third party's own reading: the plugin needs only the api)."""
    from sqlglot import exp, parse_one
    from sqlglot.errors import SqlglotError

    try:
        tree = parse_one(" ".join(str(default).split()), read="duckdb")
    except (SqlglotError, ValueError):
        return None
    if isinstance(tree, exp.Anonymous):
        return str(tree.name).lower()
    if isinstance(tree, exp.Func):
        return str(tree.sql_name()).lower()
    return None


def index_columns(sql: str) -> tuple[str, ...] | None:
    """The columns (or expressions, as SQL) of a ``CREATE INDEX`` statement; None
    when sqlglot cannot read it."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(sql, read="duckdb")
    except (SqlglotError, ValueError):
        return None
    params = tree.this.args.get("params") if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Index) else None
    if params is None:
        return None
    out = []
    for item in params.args.get("columns") or []:
        node = item.this if isinstance(item, exp.Ordered) else item
        out.append(node.name if isinstance(node, exp.Column) else node.sql(dialect="duckdb"))
    return tuple(out)


class DuckdbReflection(Reflection):
    sqlglot_dialect = "duckdb"

    def where(self, tables: list[str] | None) -> tuple[str, list[Any]]:
        sql = " WHERE database_name = current_database() AND schema_name = current_schema()"
        if not tables:
            return sql, []
        return sql + f" AND table_name IN ({', '.join('?' for _ in tables)})", list(tables)

    def rows(self, select: str, tables: list[str] | None, order: str) -> list[Any]:
        assert self.session is not None, "reflection needs a session"
        where, params = self.where(tables)
        return list(self.session.execute(f"{select}{where} ORDER BY {order}", params) or [])

    def read(self, tables: Iterable[str] | None = None) -> Catalogue:
        names = [r[0] for r in self.rows("SELECT table_name FROM duckdb_tables()", None, "1")]
        names = [n for n in names if not self.skip_table(n)]
        if tables is not None:
            wanted = set(tables)
            names = [n for n in names if n in wanted]
        if not names:
            return Catalogue([])
        found = Catalogue(names)
        select = "SELECT table_name, column_name, data_type, is_nullable, column_default, comment FROM duckdb_columns()"
        for table, name, type_, nullable, default, comment in self.rows(select, names, "table_name, column_index"):
            info = {"name": name, "type": type_, "nullable": nullable, "default": default, "comment": comment}
            found.columns.setdefault(table, []).append(info)
        select = (
            "SELECT table_name, constraint_type, constraint_name, constraint_column_names, expression, "
            "referenced_table, referenced_column_names FROM duckdb_constraints()"
        )
        for table, kind, name, columns, expression, ref_table, ref_columns in self.rows(
            select, names, "table_name, constraint_index"
        ):
            if kind == "PRIMARY KEY":
                found.primary_keys[table] = {"constrained_columns": list(columns)}
            elif kind == "FOREIGN KEY":
                found.foreign_keys.setdefault(table, []).append(
                    {
                        "name": name,
                        "constrained_columns": list(columns),
                        "referred_table": ref_table,
                        "referred_columns": list(ref_columns),
                    }
                )
            elif kind == "CHECK":
                found.checks.setdefault(table, []).append({"name": name, "sqltext": expression})
            elif kind == "UNIQUE":
                found.uniques.setdefault(table, []).append({"name": name, "column_names": list(columns)})
        select = "SELECT table_name, index_name, is_unique, sql FROM duckdb_indexes()"
        for table, name, unique, sql in self.rows(select, names, "table_name, index_name"):
            columns = index_columns(sql or "")
            if columns is not None:
                found.indexes.setdefault(table, []).append(
                    {"name": name, "column_names": list(columns), "unique": unique}
                )
        return found

    def logical_type(self, table: str, info: dict[str, Any], extra: Any) -> dict[str, Any]:
        """DuckDB's type name read as its SQLAlchemy type, then the core's reading of it."""
        text = str(info["type"])
        t = sa_type(text)
        if t is None:
            return {"type": text.lower()}
        if self.sa_dialect is None:  # no Inspector here: the dialect the types are read for
            self.sa_dialect = sa.dialects.registry.load("duckdb")()
        return super().logical_type(table, {**info, "type": t}, extra)

    def autoincrement(self, table: str, info: dict[str, Any], pk: tuple[str, ...], type_: str) -> bool:
        """An integer key that numbers itself from its sequence: ``DEFAULT nextval('t_id_seq')``."""
        if pk != (info["name"],) or type_ not in ("integer", "bigInteger", "smallInteger") or not info["default"]:
            return False
        return calls(info["default"]) == "nextval"

    # ------------------------------------------------------------ comparing

    def comparable_table(self, table: Table) -> Table:
        """Unique constraints as the unique indexes the renderer makes of them."""
        table = super().comparable_table(table)
        return replace(
            table, indexes=(*table.indexes, *(Index(u.name, u.columns, True) for u in table.uniques)), uniques=()
        )

    def comparable_column(self, table: Table, col: Column) -> Column:
        col = super().comparable_column(table, col)
        if col.type in TEXT_TYPES:
            return replace(col, type="text", length=None, values=None)
        return col

"""SQLite's declared types, read back into the relational state (the walk
itself is the core's ``Reflection``).

SQLite keeps the type a table was declared with: ``VARCHAR(n)`` -> string(n),
``INTEGER``, ``BIGINT``, ``SMALLINT``, ``TEXT``, ``BOOLEAN``, ``NUMERIC(p, s)`` ->
decimal, ``FLOAT``/``REAL`` -> float, ``DOUBLE``, ``DATE``, ``TIME``, ``DATETIME``
-> timestamp, ``JSON``, ``CHAR(32)`` -> uuid (SQLAlchemy's UUID on SQLite),
``BLOB`` -> binary. A single-column ``INTEGER`` primary key is SQLite's rowid,
which numbers itself: auto-increment.

What SQLite does not keep is not compared (``comparable``): an enum is a
VARCHAR as long as its longest value (its values are not stored), an
auto-increment key is always INTEGER, time zones and comments are dropped.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from modelmig_core.api import Column, Reflection, Table, generic_type


class SqliteReflection(Reflection):
    engine_url = "sqlite://"
    sqlglot_dialect = "sqlite"

    def skip_table(self, name: str) -> bool:
        return super().skip_table(name) or name.startswith("sqlite_")

    def logical_type(self, table: str, info: dict[str, Any], extra: Any) -> dict[str, Any]:
        t = info["type"]
        if isinstance(t, sa.CHAR) and t.length == 32:
            return {"type": "uuid"}
        return generic_type(t, self.sa_dialect)

    def autoincrement(self, table: str, info: dict[str, Any], pk: tuple[str, ...], type_: str) -> bool:
        # only a column declared exactly INTEGER is the rowid
        return pk == (info["name"],) and type(info["type"]) is sa.INTEGER

    def comparable_column(self, table: Table, col: Column) -> Column:
        col = super().comparable_column(table, col)
        changes: dict[str, Any] = {"use_tz": False, "comment": None}
        if col.type == "enum" and col.values:
            changes.update(type="string", length=max(len(v) for v in col.values), values=None)
        if table.primary_key == (col.name,):
            if col.autoincrement and col.type in ("bigInteger", "smallInteger"):
                changes["type"] = "integer"
            if changes.get("type", col.type) == "integer":
                changes["autoincrement"] = True
        return replace(col, **changes)

"""A ``citext`` column type: text that compares without regard to case, added on
the public api alone. PostgreSQL: CITEXT (the citext extension); MySQL/MariaDB:
VARCHAR(255) in a case-insensitive collation; SQLite: TEXT COLLATE NOCASE.

    [modelmig]
    plugins = ["citext"]

    schema = {"email": column("citext", default="nobody@example.com")}
"""

from __future__ import annotations

from typing import Any

from modelmig_core.api import ColumnType, hookimpl

#: MySQL/MariaDB: a collation no table defaults to, so the column reads back as citext
COLLATION = "utf8mb4_unicode_520_ci"


def _postgresql(column: Any) -> Any:
    from sqlalchemy.dialects.postgresql import CITEXT

    return CITEXT()


def _mysql(column: Any) -> Any:
    from sqlalchemy.dialects.mysql import VARCHAR

    return VARCHAR(255, collation=COLLATION)


def _sqlite(column: Any) -> Any:
    import sqlalchemy as sa

    return sa.Text(collation="NOCASE")


def _read_postgresql(t: Any) -> dict[str, Any] | None:
    from sqlalchemy.dialects.postgresql import CITEXT

    return {"type": "citext"} if isinstance(t, CITEXT) else None


def _read_mysql(t: Any) -> dict[str, Any] | None:
    import sqlalchemy as sa

    same = isinstance(t, sa.String) and t.length == 255 and getattr(t, "collation", None) == COLLATION
    return {"type": "citext"} if same else None


def _read_sqlite(t: Any) -> dict[str, Any] | None:
    import sqlalchemy as sa

    same = isinstance(t, sa.Text) and (getattr(t, "collation", None) or "").upper() == "NOCASE"
    return {"type": "citext"} if same else None


class Citext(ColumnType):
    """Case-insensitive text: a string default, at most 255 characters (MySQL's
    VARCHAR), keyed as 255 characters."""

    def value_problem(self, column: Any, value: Any) -> str | None:
        if not isinstance(value, str):
            return f"{value!r} is not a string"
        return f"{value!r} is longer than 255 characters" if len(value) > 255 else None

    def widens(self, old: Any, new: Any) -> bool:
        """Holds every citext, and every string of at most 255 characters."""
        if new.length is not None:
            return False
        return (old.type == "citext" and old.length is None) or (old.type == "string" and (old.length or 255) <= 255)

    def fits(self, old: Any, new: Any) -> Any:
        return lambda value, text: text is not None and len(text) <= 255


CITEXT = Citext(
    "citext",
    zero="",
    key_size=4 * 255,
    ddl={"postgresql": _postgresql, "mysql": _mysql, "sqlite": _sqlite},
    reflects={"postgresql": _read_postgresql, "mysql": _read_mysql, "sqlite": _read_sqlite},
)


@hookimpl
def column_types() -> list[ColumnType]:
    return [CITEXT]

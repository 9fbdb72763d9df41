"""PostgreSQL's spellings, read back into the relational state (the walk itself
is the core's ``Reflection``).

- Types: ``character varying(n)`` -> string(n), ``text``, ``integer``/``bigint``/
  ``smallint``, ``numeric(p, s)`` -> decimal, ``real`` -> float, ``double
  precision`` -> double, ``boolean``, ``date``, ``time``/``timestamp`` [``with time
  zone``] (``use_tz``), ``jsonb``/``json`` -> json, ``uuid``, ``bytea`` -> binary,
  enum types -> enum with their labels (the type's name is not part of the state).
- An identity or serial (``nextval``) integer primary key -> auto-increment.
- Defaults through sqlglot: ``now()``/``CURRENT_TIMESTAMP`` -> default_now,
  ``'draft'::posts_status_enum`` -> "draft", ``false`` -> False.
- Checks are read as PostgreSQL stores them (``(length((title)::text) > 0)``,
  ``(status)::text = ANY ((ARRAY['a'::character varying])::text[])``) and
  written back without what it added (``length(title) > 0``, ``status IN ('a')``,
  ``price >= 0`` for ``(price >= (0)::numeric)``).
"""

from __future__ import annotations

from typing import Any

from modelmig_core.api import Reflection
from modelmig_core.api_sql import function_called


class PgReflection(Reflection):
    engine_url = "postgresql+psycopg://"
    sqlglot_dialect = "postgres"

    def rewrite(self, node: Any, compare: bool) -> Any:
        """``x = ANY (ARRAY['a', 'b'])``, PostgreSQL's spelling of ``x IN ('a', 'b')``;
        ``(0)::numeric``, the cast it gives a number compared with a numeric column."""
        from sqlglot import exp

        if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.NUMERIC_TYPES):
            value = node.this.this if isinstance(node.this, exp.Neg) else node.this
            if isinstance(value, exp.Literal) and not value.is_string:
                return node.this

        if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
            values = node.expression.this
            while isinstance(values, (exp.Paren, exp.Cast)):
                values = values.this
            if isinstance(values, exp.Array):
                return exp.In(this=node.this, expressions=list(values.expressions))
        return node

    def column_notes(self, table: str, info: dict[str, Any]) -> list[str]:
        """An enum type of another name than the one the driver gives a column's enum
        (``<table>_<column>_enum``): the models cannot say the name, nor that several
        columns share the type."""
        from sqlalchemy.dialects import postgresql

        from .render import enum_type_name

        t = info["type"]
        out = []
        if isinstance(t, postgresql.ENUM) and t.name and t.name != enum_type_name(table, info["name"]):
            out.append(f"enum type {t.name}; the models cannot say its name (a new column gets a type of its own)")
        default = info.get("default")
        if default is not None and function_called(default, self.sqlglot_dialect) == "nextval":
            out.append(
                f"default {' '.join(str(default).split())} from a sequence; the models cannot say the sequence "
                "(an increments column is an identity column, numbered from 1)"
            )
        return out

    def autoincrement(self, table: str, info: dict[str, Any], pk: tuple[str, ...], type_: str) -> bool:
        default = info.get("default")
        automatic = bool(info.get("identity")) or (
            default is not None and function_called(default, self.sqlglot_dialect) == "nextval"
        )
        return automatic and pk == (info["name"],) and type_ in ("integer", "bigInteger", "smallInteger")

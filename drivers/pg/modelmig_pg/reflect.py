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
  written back without what it added (``length(title) > 0``, ``status IN ('a')``).
"""

from __future__ import annotations

from typing import Any

from modelmig_core.api import Reflection


class PgReflection(Reflection):
    engine_url = "postgresql+psycopg://"
    sqlglot_dialect = "postgres"

    def rewrite(self, node: Any, compare: bool) -> Any:
        """``x = ANY (ARRAY['a', 'b'])``, PostgreSQL's spelling of ``x IN ('a', 'b')``."""
        from sqlglot import exp

        if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
            values = node.expression.this
            while isinstance(values, (exp.Paren, exp.Cast)):
                values = values.this
            if isinstance(values, exp.Array):
                return exp.In(this=node.this, expressions=list(values.expressions))
        return node

    def autoincrement(self, table: str, info: dict[str, Any], pk: tuple[str, ...], type_: str) -> bool:
        default = str(info.get("default") or "").lower()
        automatic = bool(info.get("identity")) or default.startswith("nextval(")
        return automatic and pk == (info["name"],) and type_ in ("integer", "bigInteger", "smallInteger")

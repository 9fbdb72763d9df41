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

import sqlalchemy as sa

from modelmig_core.api import Partition, Reflection, Unmanaged
from modelmig_core.api_sql import Partitioning, canonical_bound, canonical_key, function_called

#: what is no object of the schema's own: an extension's members (``deptype 'e'``)
NOT_OF_EXTENSION = (
    "NOT EXISTS (SELECT 1 FROM pg_depend AS e WHERE e.classid = {cls}::regclass AND e.objid = {oid} "
    "AND e.deptype = 'e')"
)
#: pg_class relkinds outside the models
RELKINDS = {"v": "view", "m": "materialized view", "S": "sequence", "f": "foreign table"}
PROKINDS = {"f": "function", "p": "procedure", "a": "aggregate", "w": "window function"}
#: the extension every database has
BUILTIN_EXTENSIONS = ("plpgsql",)

#: the catalogue queries of the objects outside the models, in the current schema;
#: names come back as values (never spliced into SQL)
UNMANAGED_QUERIES = {
    "relations": (
        "SELECT c.relname, c.relkind FROM pg_class AS c JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema() AND c.relkind IN ('v', 'm', 'S', 'f') "
        "AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.classid = 'pg_class'::regclass "
        "AND d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))"
    ),
    "reads": (
        "SELECT DISTINCT v.relname, t.relname FROM pg_depend AS d "
        "JOIN pg_rewrite AS r ON r.oid = d.objid JOIN pg_class AS v ON v.oid = r.ev_class "
        "JOIN pg_class AS t ON t.oid = d.refobjid JOIN pg_namespace AS n ON n.oid = v.relnamespace "
        "WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
        "AND t.oid <> v.oid AND n.nspname = current_schema() ORDER BY 1, 2"
    ),
    "partitions": (
        "SELECT c.relname, p.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_class AS c "
        "JOIN pg_inherits AS i ON i.inhrelid = c.oid JOIN pg_class AS p ON p.oid = i.inhparent "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE c.relispartition AND c.relkind IN ('r', 'p') AND n.nspname = current_schema()"
    ),
    "partition_indexes": (
        "SELECT i.relname, c.relname FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid "
        "JOIN pg_class AS c ON c.oid = x.indrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE c.relispartition AND NOT i.relispartition AND n.nspname = current_schema() "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.oid AND k.conrelid = c.oid) ORDER BY 1"
    ),
    "partition_constraints": (
        "SELECT k.conname, c.relname, k.contype FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid "
        "JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE c.relispartition AND k.conparentid = 0 "
        "AND k.conislocal AND k.contype IN ('f', 'c', 'u', 'p', 'x') AND n.nspname = current_schema() ORDER BY 1"
    ),
    "partitioned": (
        "SELECT c.relname, pg_get_partkeydef(c.oid), c.relispartition FROM pg_partitioned_table AS t "
        "JOIN pg_class AS c ON c.oid = t.partrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE n.nspname = current_schema()"
    ),
    "routines": (
        "SELECT p.proname, p.prokind, pg_get_function_identity_arguments(p.oid) FROM pg_proc AS p "
        "JOIN pg_namespace AS n ON n.oid = p.pronamespace WHERE n.nspname = current_schema() AND "
        + NOT_OF_EXTENSION.format(cls="'pg_proc'", oid="p.oid")
    ),
    "triggers": (
        "SELECT t.tgname, c.relname, t.tgfoid::regproc::text FROM pg_trigger AS t "
        "JOIN pg_class AS c ON c.oid = t.tgrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE NOT t.tgisinternal AND n.nspname = current_schema()"
    ),
    "domains": (
        "SELECT t.typname, format_type(t.typbasetype, t.typtypmod) FROM pg_type AS t "
        "JOIN pg_namespace AS n ON n.oid = t.typnamespace WHERE t.typtype = 'd' AND n.nspname = current_schema() "
        "AND " + NOT_OF_EXTENSION.format(cls="'pg_type'", oid="t.oid")
    ),
    "extensions": "SELECT extname, extversion FROM pg_extension",
    "rules": "SELECT rulename, tablename FROM pg_rules WHERE schemaname = current_schema()",
    "indexes": (
        "SELECT i.relname, c.relname FROM pg_index AS x JOIN pg_class AS i ON i.oid = x.indexrelid "
        "JOIN pg_class AS c ON c.oid = x.indrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'm' AND n.nspname = current_schema() ORDER BY 1"
    ),
}
#: the foreign keys PostgreSQL clones from one of a table (no partition) that
#: references a partitioned table: (name, table)
CLONED_FOREIGN_KEYS = (
    "SELECT k.conname, c.relname FROM pg_constraint AS k JOIN pg_class AS c ON c.oid = k.conrelid "
    "JOIN pg_namespace AS n ON n.oid = c.relnamespace WHERE k.contype = 'f' AND k.conparentid <> 0 "
    "AND NOT c.relispartition AND n.nspname = current_schema()"
)
#: the sequences a column owns (``deptype 'a'``: serial columns, ``OWNED BY``; an
#: identity's is ``'i'``), per table and column
OWNED_SEQUENCES = (
    "SELECT c.relname, a.attname, s.relname FROM pg_depend AS d "
    "JOIN pg_class AS s ON s.oid = d.objid AND s.relkind = 'S' "
    "JOIN pg_class AS c ON c.oid = d.refobjid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = d.refobjsubid "
    "WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'a' "
    "AND n.nspname = current_schema()"
)
#: the primary keys whose columns are in another order than the table's, per table
#: (the state says a key's columns in table order)
PK_ORDERS = (
    "SELECT c.relname, array_agg(a.attname::text ORDER BY k.ord) FROM pg_constraint AS p "
    "JOIN pg_class AS c ON c.oid = p.conrelid JOIN pg_namespace AS n ON n.oid = c.relnamespace "
    "CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, ord) "
    "JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum "
    "WHERE p.contype = 'p' AND n.nspname = current_schema() "
    "AND p.conkey <> (SELECT array_agg(x ORDER BY x) FROM unnest(p.conkey) AS x) GROUP BY c.relname"
)
#: the longest name PostgreSQL keeps (NAMEDATALEN - 1 bytes)
MAX_NAME = 63


def default_pkey_name(table: str) -> str:
    """The name PostgreSQL gives a table's primary key: ``<table>_pkey``, the table's
    part cut to fit 63 bytes."""
    head = table.encode()
    while len(head) + len(b"_pkey") > MAX_NAME:
        head = head[:-1]
    return head.decode(errors="ignore") + "_pkey"


def bytea_text(value: str) -> str:
    """``\\x616263`` (bytea's hex output) -> ``abc`` where the bytes are UTF-8 text
    without a backslash (what a string literal default makes); else as it is."""
    if not value.startswith("\\x"):
        return value
    try:
        decoded = bytes.fromhex(value[2:]).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return value
    return value if "\\" in decoded or "\0" in decoded else decoded


def fractional(t: Any) -> dict[str, Any]:
    """A time or timestamp's fractional seconds, where the column says them: none
    for 6, which a column that says none keeps too (microseconds)."""
    precision = getattr(t, "precision", None)
    return {} if precision is None or int(precision) == 6 else {"precision": int(precision)}


def _pg_types() -> tuple[Any, ...]:
    from sqlalchemy.dialects import postgresql

    return (
        (postgresql.JSONB, lambda t, seen: {"type": "json"}),
        (postgresql.JSON, lambda t, seen: {"type": "jsonText"}),
        (postgresql.INET, lambda t, seen: {"type": "inet"}),
        (postgresql.CIDR, lambda t, seen: {"type": "cidr"}),
        (postgresql.MACADDR, lambda t, seen: {"type": "macaddr"} if type(t) is postgresql.MACADDR else None),
        (postgresql.TSVECTOR, lambda t, seen: {"type": "tsvector"}),
        (
            postgresql.INTERVAL,
            lambda t, seen: {"type": "interval"} if t.fields is None and t.precision is None else None,
        ),
        (sa.DateTime, lambda t, seen: {"type": "timestamp", "use_tz": bool(t.timezone), **fractional(t)}),
        (sa.Time, lambda t, seen: {"type": "time", "use_tz": bool(t.timezone), **fractional(t)}),
    )


def serial_sequence_name(table: str, column: str) -> str:
    """The name PostgreSQL gives a serial column's sequence when it fits
    (``<table>_<column>_seq``; a longer one is cut, which is not rebuilt here)."""
    return f"{table}_{column}_seq"


class PgReflection(Reflection):
    engine_url = "postgresql+psycopg://"
    sqlglot_dialect = "postgres"
    #: PostgreSQL's own entries of the table back, before the generic ones
    type_table = _pg_types()

    def logical_type(self, table: str, info: dict[str, Any], extra: Any) -> dict[str, Any]:
        """An array column is its element's type with ``array``; a multi-dimensional
        one reads the same (PostgreSQL keeps no dimension count)."""
        from sqlalchemy.dialects import postgresql

        t = info["type"]
        if isinstance(t, postgresql.ARRAY):
            return {**super().logical_type(table, {**info, "type": t.item_type}, extra), "array": True}
        if isinstance(t, postgresql.DOMAIN):  # its base type; the domain itself is named (unmanaged_objects)
            self.unsaid.append(
                (table, f"{table}.{info['name']}: of domain {t.name}; the models say its base type, not the domain")
            )
            return super().logical_type(table, {**info, "type": t.data_type}, extra)
        return super().logical_type(table, info, extra)

    def index_note(self, table: str, info: dict[str, Any]) -> str | None:
        """An operator class on an expression of the key is left out and named (the
        models say one on a column only)."""
        ops = (info.get("dialect_options") or {}).get("postgresql_ops") or {}
        names = set(info.get("column_names") or ())
        odd = {k: v for k, v in ops.items() if k not in names}
        if not odd:
            return None
        said = ", ".join(f"{k} {v}" for k, v in sorted(odd.items()))
        return f"an index with operator classes on expressions ({said}); the models cannot say them, left out"

    def index_options(self, table: str, info: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
        """A partial index's WHERE, its INCLUDE columns and its access method (btree, the default, is none)."""
        options = info.get("dialect_options") or {}
        out: dict[str, Any] = {}
        if options.get("postgresql_where"):
            out["where"] = str(options["postgresql_where"])
        if options.get("postgresql_include"):
            out["include"] = tuple(options["postgresql_include"])
        ops = options.get("postgresql_ops") or {}
        if any(ops.get(c) for c in columns):
            out["operator_classes"] = tuple(ops.get(c) or None for c in columns)
        method = str(options.get("postgresql_using") or "btree").lower()
        if method != "btree":
            out["method"] = method
        return out

    def rewrite(self, node: Any, compare: bool) -> Any:
        """``x = ANY (ARRAY['a', 'b'])``, PostgreSQL's spelling of ``x IN ('a', 'b')``;
        ``(0)::numeric``, the cast it gives a number compared with a numeric column;
        ``'1 day'::interval``, its spelling of ``INTERVAL '1 day'``."""
        from sqlglot import exp

        if isinstance(node, exp.Cast) and node.to.is_type(*exp.DataType.NUMERIC_TYPES):
            value = node.this.this if isinstance(node.this, exp.Neg) else node.this
            if isinstance(value, exp.Literal) and not value.is_string:
                return node.this
        if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.INTERVAL):
            if isinstance(node.this, exp.Literal) and node.this.is_string:  # '1 day'::interval, INTERVAL '1 day'
                import sqlglot

                return sqlglot.parse_one("INTERVAL " + node.this.sql(dialect="postgres"), read="postgres")

        if isinstance(node, exp.EQ) and isinstance(node.expression, exp.Any):
            values = node.expression.this
            while isinstance(values, (exp.Paren, exp.Cast)):
                values = values.this
            if isinstance(values, exp.Array):
                return exp.In(this=node.this, expressions=list(values.expressions))
        return node

    def partition_facts(self, connection: sa.Connection, note: bool = False) -> tuple[Partitioning, list[Unmanaged]]:
        """The partitioned tables the models can say (a key of plain columns, a table
        that is no partition itself) with their partitions (each a plain table with a
        bound of literals), and the partitions they cannot say, named as before (a
        partition of its own partitions, one of a table keyed by an expression)."""

        def rows(key: str) -> list[Any]:
            return list(connection.exec_driver_sql(UNMANAGED_QUERIES[key]).all())

        keys: dict[str, tuple[str, tuple[str, ...]]] = {}
        subpartitioned = set()
        for name, keydef, is_partition in rows("partitioned"):
            key = canonical_key(str(keydef))
            if is_partition:
                subpartitioned.add(str(name))
            elif key is None:
                if note:
                    self.unsaid.append(
                        (str(name), f"{name}: partitioned by {keydef}; the models say plain columns only")
                    )
            else:
                keys[str(name)] = key
        found: dict[str, list[Partition]] = {}
        outside = []
        for name, parent, bound in rows("partitions"):
            text = None
            if str(parent) in keys and str(name) not in subpartitioned:
                try:
                    text = canonical_bound(str(bound))
                except ValueError:
                    text = None
            if text is None:
                detail = f"partition of {parent} {bound}; the models cannot say it"
                outside.append(Unmanaged("partition", str(name), (str(parent),), detail))
            else:
                found.setdefault(str(parent), []).append(Partition(str(name), text))
        parts = Partitioning(keys, {k: tuple(v) for k, v in found.items()})
        kept = parts.children
        own: dict[str, set[str]] = {}
        # a partition's own indexes and foreign keys are its Partition's; its own
        # unique, primary, check and exclusion constraints the models cannot say
        held = "the models hold a partition's own indexes and foreign keys, not its other constraints"
        for name, table in rows("partition_indexes"):
            if str(table) in kept:
                own.setdefault(str(table), set()).add(str(name))
        for name, table, contype in rows("partition_constraints"):
            if str(table) not in kept:
                continue
            if contype == "f":
                own.setdefault(str(table), set()).add(str(name))
            else:
                outside.append(Unmanaged("constraint", str(name), (str(table),), f"of partition {table}; {held}"))
        parts.own = {k: frozenset(v) for k, v in own.items()}
        return parts, outside

    def read_partitions(self, connection: sa.Connection) -> Partitioning:
        self.cloned_fks = frozenset((str(t), str(n)) for n, t in connection.exec_driver_sql(CLONED_FOREIGN_KEYS).all())
        return self.partition_facts(connection, note=True)[0]

    #: (table, name) of the foreign keys PostgreSQL made itself, one per partition of
    #: a partitioned table a table's foreign key references (``read_partitions``)
    cloned_fks: frozenset[tuple[str, str]] = frozenset()

    def foreign_keys(self, table: str, infos: list[dict[str, Any]]) -> list[Any]:
        """A table's foreign keys, without the clones PostgreSQL keeps of one that
        references a partitioned table (one to each partition, not the models')."""
        return super().foreign_keys(table, [i for i in infos if (table, str(i.get("name"))) not in self.cloned_fks])

    def state(self, tables: Any = None) -> Any:
        """The core's walk; what the models cannot say of a partitioned table's
        columns (a default left out...) is said of each partition too, whose
        columns are its table's."""
        out = super().state(tables)
        for name, table in out.tables.items():
            if not table.partitions:
                continue
            said = [line for t, line in self.unsaid if t == name and line.startswith((f"{name}.", f"{name}:"))]
            for p in table.partitions:
                rest = [line[len(name) :] for line in said]
                self.unsaid += [(name, f"{p.name}{r} (partition of {name})") for r in rest]
        return out

    def unmanaged_objects(self, connection: sa.Connection) -> list[Unmanaged]:
        """Views, materialized views, standalone sequences (owned by no column),
        foreign tables, partitions, functions and procedures, triggers, domains,
        extensions and rules of the current schema, from pg_catalog (an
        extension's own members are the extension's)."""

        def rows(key: str) -> list[Any]:
            return list(connection.exec_driver_sql(UNMANAGED_QUERIES[key]).all())

        indexed: dict[str, list[str]] = {}
        for index, relation in rows("indexes"):
            indexed.setdefault(str(relation), []).append(str(index))
        reads: dict[str, list[str]] = {}
        for view, table in rows("reads"):
            reads.setdefault(str(view), []).append(str(table))
        out = []
        for name, relkind in rows("relations"):
            kind = RELKINDS[str(relkind)]
            detail = {
                "sequence": "a sequence no column owns",
                "foreign table": "a table of a foreign server",
            }.get(kind, "")
            if indexed.get(str(name)):
                detail = f"with index {', '.join(indexed[str(name)])}"
            out.append(Unmanaged(kind, str(name), tuple(reads.get(str(name), ())), detail))
        out += self.partition_facts(connection)[1]
        for name, prokind, args in rows("routines"):
            out.append(Unmanaged(PROKINDS.get(str(prokind), "function"), f"{name}({args})"))
        for name, table, function in rows("triggers"):
            out.append(Unmanaged("trigger", str(name), (str(table),), f"executes {function}()"))
        for name, base in rows("domains"):
            out.append(Unmanaged("domain", str(name), (), f"over {base}"))
        for name, version in rows("extensions"):
            if str(name) not in BUILTIN_EXTENSIONS:
                out.append(Unmanaged("extension", str(name), (), f"version {version}"))
        for name, table in rows("rules"):
            out.append(Unmanaged("rule", str(name), (str(table),)))
        return out

    def primary_name(self, table: str, info: dict[str, Any]) -> str | None:
        """A primary key of another name than PostgreSQL's own (``<table>_pkey``,
        what a new table gets) is kept by that name."""
        name = info.get("name")
        return str(name) if name and name != default_pkey_name(table) else None

    def column_notes(self, table: str, info: dict[str, Any]) -> list[str]:
        """A nextval default from a sequence the column does not own, or a serial
        column whose sequence has another name than PostgreSQL would give it."""
        out = []
        default = info.get("default")
        if default is not None and function_called(default, self.sqlglot_dialect) == "nextval":
            owned = getattr(self, "_owned", {}).get((table, info["name"]))
            if owned is None:
                out.append(
                    f"default {' '.join(str(default).split())} from a sequence the column does not own; the models "
                    "cannot say the sequence"
                )
            elif owned != serial_sequence_name(table, info["name"]):
                out.append(f"serial over sequence {owned}; a new serial column's sequence is named by PostgreSQL")
        return out

    def read_extra(self, connection: sa.Connection, tables: Any) -> Any:
        """The sequences columns own (serial columns), in one query."""
        self._owned = {(str(t), str(c)): str(q) for t, c, q in connection.exec_driver_sql(OWNED_SEQUENCES).all()}
        self._pk_orders = {str(t): [str(c) for c in cols] for t, cols in connection.exec_driver_sql(PK_ORDERS).all()}
        return None

    def attributes(
        self, table: str, info: dict[str, Any], extra: Any, type_: str, autoincrement: bool
    ) -> dict[str, Any]:
        """The collation, and how an auto-increment column is numbered: identity
        ALWAYS, or serial (a sequence the column owns, its nextval default); BY
        DEFAULT is the driver's own way (None)."""
        from sqlalchemy.dialects import postgresql

        from .render import enum_type_name

        out = super().attributes(table, info, extra, type_, autoincrement)
        t = info["type"]
        if isinstance(t, postgresql.ENUM) and t.name and t.name != enum_type_name(table, info["name"]):
            out["enum_name"] = str(t.name)  # a type of its own name, which other columns may share
        if autoincrement:
            identity = info.get("identity")
            if identity and identity.get("always"):
                out["identity"] = "always"
            elif not identity and (table, info["name"]) in getattr(self, "_owned", {}):
                out["identity"] = "serial"
        return out

    def plain_text(self, t: Any) -> bool:
        """citext compares without case: a cast of it to text changes a comparison."""
        from sqlalchemy.dialects import postgresql

        return super().plain_text(t) and not isinstance(t, postgresql.CITEXT)

    def default(self, text: str | None, type_: str, autoincrement: bool) -> Any:
        """A bytea default as the text the models gave it: PostgreSQL keeps
        ``'abc'`` as ``'\\x616263'::bytea``; bytes that are no UTF-8 text keep that
        spelling (the models write it so too)."""
        value = super().default(text, type_, autoincrement)
        if type_ == "binary" and isinstance(value, str):
            return bytea_text(value)
        return value

    def autoincrement(self, table: str, info: dict[str, Any], pk: tuple[str, ...], type_: str) -> bool:
        default = info.get("default")
        automatic = bool(info.get("identity")) or (
            default is not None and function_called(default, self.sqlglot_dialect) == "nextval"
        )
        return automatic and pk == (info["name"],) and type_ in ("integer", "bigInteger", "smallInteger")

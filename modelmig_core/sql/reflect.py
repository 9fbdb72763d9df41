"""Reflection: the live schema of a SQL database as the relational state values
that replay produces (``State``/``Table``/``Column``/``Index``/``Unique``/
``ForeignKey``/``Check``), so that one comparison serves drift, ``make:models`` and
``migrate:baseline``.

The walk is shared and batched: one call per kind through SQLAlchemy's
Inspector (``get_multi_columns``, ``get_multi_pk_constraint``,
``get_multi_indexes``, ``get_multi_unique_constraints``,
``get_multi_foreign_keys``, ``get_multi_check_constraints``), over the
session's own DB-API connection (``Reflection.read``, into a ``Catalogue``; a
driver whose database SQLAlchemy cannot reflect, DuckDB, overrides ``read`` with
its own catalogue queries). What a dialect spells its own way (types,
defaults, the indexes it makes by itself) is normalised by the driver's
``Reflection`` subclass (``modelmig_<driver>/reflect.py``); SQL text (defaults,
check expressions) is understood through sqlglot, never with regexes.

``comparable(state)`` gives a state as the dialect can hold it: what the
database cannot say (SQLite keeps no time zone, MySQL no time zone and no
difference between a unique index and a unique key) is dropped from both sides
before drift compares them.

Where the database has no enum type (``Features.native_enum`` false: SQLite),
an enum column is read back from the named CHECK the renderer gives it
(``ck_<table>_<column>_enum``, ``column IN (...)``) when ``enum_checks`` is set.

Each kind is read by its own method (``columns``, ``primary_key``,
``indexes``, ``unique_constraints``, ``foreign_keys``, ``checks``), so that a
new state value for a kind changes one method.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.pool import StaticPool

from ..driver import LEDGER, Session
from ..schema.state import Check, Column, ForeignKey, Index, State, Table, Unique
from ..schema.views import Unmanaged, unmanaged_summary  # noqa: F401 - what reflection reads outside the models
from ..vocabulary.kinds import plugin_kinds
from ..vocabulary.naming import check_name, enum_check_name, foreign_key_name, index_name
from .views import comparable_views, read_views

INTEGER_TYPES = (
    "integer",
    "bigInteger",
    "smallInteger",
    "tinyInteger",
    "unsignedTinyInteger",
    "unsignedSmallInteger",
    "unsignedInteger",
    "unsignedBigInteger",
)
NUMERIC_TYPES = ("decimal", "float", "double")
#: the state types that hold text (a collation or character set applies to them)
TEXT_TYPES = frozenset({"string", "char", "text", "tinyText", "mediumText", "longText", "enum", "set"})
ACTIONS = {"CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"}


@dataclass(frozen=True)
class Now:
    """A default that is the current time (``now()``, ``CURRENT_TIMESTAMP(6)``...)."""


NOW = Now()


@dataclass(frozen=True)
class Expression:
    """A default that is an SQL expression other than the current time: kept as text."""

    sql: str


@dataclass
class Catalogue:
    """What ``Reflection.read`` found, per table name, in the shapes of
    SQLAlchemy's Inspector (``get_columns``, ``get_pk_constraint``,
    ``get_indexes``, ``get_unique_constraints``, ``get_foreign_keys``,
    ``get_check_constraints``); ``extra`` is the driver's own (``read_extra``)."""

    tables: list[str]
    columns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    primary_keys: dict[str, dict[str, Any]] = field(default_factory=dict)
    indexes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    uniques: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    foreign_keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    checks: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    extra: Any = None
    #: a plugin's kinds: {kind name: {table: [state values]}} (``Kind.reflect``)
    members: dict[str, Mapping[str, Sequence[Any]]] = field(default_factory=dict)
    #: each table's comment, where it has one
    comments: dict[str, str] = field(default_factory=dict)
    #: each table's physical options (``Table.options``), where the dialect has them
    options: dict[str, dict[str, str]] = field(default_factory=dict)
    #: each partitioned table's key, (method, columns), and its declared partitions
    partitioning: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    partitions: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    #: by partition, the names of the indexes and foreign keys it has of its own
    partition_own: dict[str, frozenset[str]] = field(default_factory=dict)


@dataclass
class Partitioning:
    """What ``Reflection.read_partitions`` found: each partitioned table's key and
    ``Partition`` values, by table; the partitions are no tables of their own."""

    keys: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)
    partitions: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    #: by partition, the names of the indexes and foreign keys it has of its own (not
    #: its table's): these are read into its ``Partition`` value
    own: dict[str, frozenset[str]] = field(default_factory=dict)

    @property
    def children(self) -> set[str]:
        return {p.name for parts in self.partitions.values() for p in parts}


class Reflection:
    """The live schema of one SQL session as a ``State``. Drivers subclass it
    (``SqlDriver.reflection_class``) and override the dialect hooks below."""

    #: the SQLAlchemy URL of the dialect and DB-API module (no host: the session's
    #: own connection is used)
    engine_url: ClassVar[str] = "sqlite://"
    #: sqlglot's name of the dialect, for defaults and check expressions
    sqlglot_dialect: ClassVar[str] = "sqlite"
    #: the database has no enum type: an enum column is a string with a named
    #: CHECK of its values (``naming.enum_check_name``), read back as the enum
    enum_checks: ClassVar[bool] = False
    #: the driver's table back from what it reflects to modelmig types (entries of
    #: ``TypeReading``), walked before the generic ``GENERIC_TYPES``
    type_table: ClassVar[tuple[Any, ...]] = ()

    def __init__(self, session: Session | None = None) -> None:
        self.session = session
        self.sa_dialect: Any = None  # the SQLAlchemy dialect, once connected
        #: (table, column) -> SQL text of defaults that are expressions, not literals
        #: (the state holds their text as the default; make:models must not quote it)
        self.expression_defaults: dict[tuple[str, str], str] = {}
        #: what the database holds of the tables that no state value says (a column's
        #: own character set or collation, ...): (table, one line) each; make:models lists them
        self.unsaid: list[tuple[str, str]] = []
        self.table_columns: dict[str, list[dict[str, Any]]] = {}
        #: the columns of a text type of the table being read (``added_cast``); None: not known
        self.text_columns: frozenset[str] | None = None

    # ------------------------------------------------------------ the walk

    def engine(self) -> sa.Engine:
        assert self.session is not None, "reflection needs a session"
        raw = self.session.raw
        # the session's own connection, lent: one pooled connection that is never
        # reset (it is in autocommit mode) and never closed here (the session owns it)
        return sa.create_engine(self.engine_url, creator=lambda: raw, poolclass=StaticPool, pool_reset_on_return=None)

    def skip_table(self, name: str) -> bool:
        """modelmig's own tables (the ledger, a rebuild's temporary table) and the
        database's own."""
        return name == LEDGER or name.startswith("_modelmig_")

    def state(self, tables: Iterable[str] | None = None) -> State:
        """Every table of the session's schema (or only ``tables``): what ``read``
        found, built into state values kind by kind."""
        found = self.read(tables)
        out: dict[str, Table] = {}
        for name in found.tables:
            self.text_columns = self.reflected_text_columns(found.columns.get(name, []))
            pk = self.primary_key(name, found.primary_keys.get(name) or {})
            table_fks = self.foreign_keys(name, found.foreign_keys.get(name, []))
            table_uniques = self.unique_constraints(name, found.uniques.get(name, []))
            table_indexes = self.indexes(name, found.indexes.get(name, []), table_fks, pk, table_uniques)
            cols = self.columns(name, found.columns.get(name, []), pk, found.extra)
            table_checks = self.checks(name, found.checks.get(name, []), cols, found.extra)
            if self.enum_checks:
                cols, table_checks = enum_columns(name, cols, table_checks, self.sqlglot_dialect)
            out[name] = Table(
                name,
                tuple(cols),
                tuple(table_indexes),
                tuple(table_fks),
                tuple(table_checks),
                comment=found.comments.get(name),
                options=found.options.get(name, {}),
                partition_by=found.partitioning.get(name),
                partitions=self.partitions_with_members(found, found.partitions.get(name, ())),
                uniques=tuple(table_uniques),
                primary_name=self.primary_name(name, found.primary_keys.get(name) or {}) if pk else None,
                **{kind: tuple(by_table.get(name, ())) for kind, by_table in found.members.items()},
            )
        return State(out, self.views() if tables is None else {})

    def partitions_with_members(self, found: Catalogue, partitions: tuple[Any, ...]) -> tuple[Any, ...]:
        """Each partition with the indexes and foreign keys it has of its own (those
        ``Partitioning.own`` names), read as a table's are."""
        out = []
        for p in partitions:
            own = found.partition_own.get(p.name, frozenset())
            if not own:
                out.append(p)
                continue
            fks = self.foreign_keys(p.name, [i for i in found.foreign_keys.get(p.name, []) if i.get("name") in own])
            infos = [i for i in found.indexes.get(p.name, []) if i.get("name") in own]
            out.append(replace(p, indexes=tuple(self.indexes(p.name, infos, fks, ())), foreign_keys=tuple(fks)))
        return tuple(out)

    def views(self) -> dict[str, Any]:
        """The views of the session's schema whose definition reads as one SELECT
        (``sql/views.py``), by name: what view models are compared with. Read
        through the Inspector of the SQLAlchemy dialect the driver names
        (``engine_url``); a driver that names none (it reads its catalogue
        itself: DuckDB's) reads none unless it overrides this."""
        if not any("engine_url" in vars(c) for c in type(self).__mro__ if c is not Reflection):
            return {}
        engine = self.engine()
        with engine.connect() as connection:
            insp = sa.inspect(connection)
            return read_views(insp, self.sqlglot_dialect, self.skip_table)

    def read(self, tables: Iterable[str] | None = None) -> Catalogue:
        """The catalogue of every table (or only ``tables``), in one batched
        Inspector call per kind. A driver whose database SQLAlchemy cannot reflect
        overrides this with its own catalogue queries (same shapes; a column's
        ``type`` is then whatever its ``logical_type`` reads)."""
        engine = self.engine()
        with engine.connect() as connection:
            self.sa_dialect = connection.dialect
            insp = sa.inspect(connection)
            parts = self.read_partitions(connection)
            children = parts.children
            names = sorted(t for t in insp.get_table_names() if not self.skip_table(t) and t not in children)
            if tables is not None:
                wanted = set(tables)
                names = [n for n in names if n in wanted]
            if not names:
                return Catalogue([])
            kw: dict[str, Any] = {} if tables is None else {"filter_names": names}
            kept = {p.name for n in names for p in parts.partitions.get(n, ())}
            # a partition's own indexes and foreign keys are read as a table's are
            kw_own: dict[str, Any] = {} if tables is None else {"filter_names": [*names, *sorted(kept)]}

            def by_table(found: dict[Any, Any]) -> dict[str, Any]:
                return {key[1]: value for key, value in found.items()}  # (schema, table) -> table

            names_of = self.inspector_names
            return Catalogue(
                names,
                columns=by_table(names_of(insp.get_multi_columns(**kw))),
                primary_keys=by_table(names_of(insp.get_multi_pk_constraint(**kw))),
                indexes=by_table(names_of(insp.get_multi_indexes(**kw_own))),
                uniques=by_table(names_of(insp.get_multi_unique_constraints(**kw))),
                foreign_keys=by_table(names_of(insp.get_multi_foreign_keys(**kw_own))),
                checks=by_table(self.read_checks(insp, kw)),
                comments=self.read_comments(insp, kw),
                options=self.read_options(insp, kw),
                partitioning={k: v for k, v in parts.keys.items() if k in names},
                partitions={k: v for k, v in parts.partitions.items() if k in names},
                partition_own={k: v for k, v in parts.own.items() if k in kept},
                extra=self.read_extra(connection, names),
                members=self.read_members(connection, names),
            )

    def objects(self) -> list[Unmanaged]:
        """Every object of the session's schema outside what the models hold
        (``unmanaged_objects``), sorted by kind and name. A driver that reads none
        (it does not override the hook: DuckDB's) is not asked to connect."""
        if type(self).unmanaged_objects is Reflection.unmanaged_objects:
            return []
        engine = self.engine()
        with engine.connect() as connection:
            self.sa_dialect = connection.dialect
            found = self.unmanaged_objects(connection)
        return sorted(dict.fromkeys(found), key=lambda o: (o.kind, o.name))

    def unmanaged_objects(self, connection: sa.Connection) -> list[Unmanaged]:
        """Dialect hook: the objects outside the models (views, triggers, functions,
        standalone sequences, ...), read from the database's catalogue. Default:
        none."""
        return []

    def read_members(self, connection: sa.Connection, tables: Sequence[str]) -> dict[str, Mapping[str, Sequence[Any]]]:
        """The values of every plugin kind that reads itself back on this dialect
        (``Kind.reflect``), one call per kind for every table at once."""
        out: dict[str, Mapping[str, Sequence[Any]]] = {}
        for kind in plugin_kinds():
            read = kind.reflect.get(connection.dialect.name)
            if read is not None:
                out[kind.name] = read(connection, tables)
        return out

    def read_comments(self, insp: Any, kw: dict[str, Any]) -> dict[str, str]:
        """Each table's comment (one batched call), where the dialect has them."""
        if not getattr(self.sa_dialect, "supports_comments", False):
            return {}
        found = self.inspector_names(insp.get_multi_table_comment(**kw))
        return {key[1]: info["text"] for key, info in found.items() if info and info.get("text")}

    def read_partitions(self, connection: sa.Connection) -> Partitioning:
        """The partitioned tables the models can say and their partitions (dialect
        hook; none by default)."""
        return Partitioning()

    def read_options(self, insp: Any, kw: dict[str, Any]) -> dict[str, dict[str, str]]:
        """Each table's physical options (``Table.options``): dialect hook; none by default."""
        return {}

    def read_checks(self, insp: Any, kw: dict[str, Any]) -> dict[Any, list[dict[str, Any]]]:
        try:
            return self.inspector_names(insp.get_multi_check_constraints(**kw))
        except NotImplementedError:
            return {}

    def inspector_name(self, name: str) -> str:
        """A name as the Inspector reported it -> the name the database holds.
        Default: as it is (a dialect whose Inspector leaves a name escaped
        overrides it: MySQL's, which reads SHOW CREATE TABLE, keeps a backtick
        doubled)."""
        return name

    def inspector_names(self, found: dict[Any, Any]) -> dict[Any, Any]:
        """``inspector_name`` applied to every name in an Inspector answer (per
        table: a list of dicts, or one dict for a primary key)."""
        if type(self).inspector_name is Reflection.inspector_name:
            return found
        fix = self.inspector_name

        def one(info: dict[str, Any]) -> dict[str, Any]:
            out = dict(info)
            for key in ("name", "referred_table"):
                if isinstance(out.get(key), str):
                    out[key] = fix(out[key])
            for key in ("column_names", "constrained_columns", "referred_columns"):
                if isinstance(out.get(key), list):
                    out[key] = [fix(c) if isinstance(c, str) else c for c in out[key]]
            return out

        return {
            key: [one(i) for i in value]
            if isinstance(value, list)
            else one(value)
            if isinstance(value, dict)
            else value
            for key, value in found.items()
        }

    def read_extra(self, connection: sa.Connection, tables: Sequence[str]) -> Any:
        """What a dialect must read besides the Inspector's answers (one query at
        most, for every table at once). Default: nothing."""
        return None

    # ------------------------------------------------------------ one method per kind

    def index_note(self, table: str, info: dict[str, Any]) -> str | None:
        """Why the index is of a kind the state cannot hold (dialect hook: MySQL's
        FULLTEXT), which leaves it out of the state and names it; None: it is a
        plain or unique index."""
        return None

    def column_notes(self, table: str, info: dict[str, Any]) -> list[str]:
        """What the column holds that its state value cannot say (dialect hook), one
        note each; the default: nothing."""
        return []

    def primary_key(self, table: str, info: dict[str, Any]) -> tuple[str, ...]:
        return tuple(info.get("constrained_columns") or ())

    def primary_name(self, table: str, info: dict[str, Any]) -> str | None:
        """The primary key constraint's own name, None where it is the database's
        own (dialect hook; the default: the name the Inspector reports, if any)."""
        name = info.get("name")
        return str(name) if name else None

    def columns(self, table: str, infos: list[dict[str, Any]], pk: tuple[str, ...], extra: Any) -> list[Column]:
        self.table_columns = {table: infos}  # the table's columns in order, for the primary key's order
        return [self.column(table, info, pk, extra) for info in infos]

    def column(self, table: str, info: dict[str, Any], pk: tuple[str, ...], extra: Any) -> Column:
        name = info["name"]
        self.unsaid += [(table, f"{table}.{name}: {note}") for note in self.column_notes(table, info)]
        logical = self.logical_type(table, info, extra)
        kw: dict[str, Any] = {"type": logical.pop("type"), **logical}
        primary = name in pk
        autoincrement = self.autoincrement(table, info, pk, kw["type"])
        default = self.default(info.get("default"), kw["type"], autoincrement)
        if isinstance(default, Now) and kw["type"] not in ("timestamp", "utcTimestamp"):
            default = Expression(" ".join(str(info.get("default")).split()))  # CURRENT_DATE on a date column
        if isinstance(default, Now):
            kw["default_now"] = True
        elif isinstance(default, Expression) and self.expression_default(default.sql):
            kw["default_sql"] = self.check_text(default.sql)
        elif isinstance(default, Expression):
            kw["default"] = default.sql
            self.expression_defaults[(table, name)] = default.sql
        elif default is not None:
            kw["default"] = default
        comment = info.get("comment") or None
        attributes = self.attributes(table, info, extra, kw["type"], autoincrement)
        if kw["type"] not in TEXT_TYPES:  # a JSON kept as text (MariaDB's) has a collation of its type's own
            attributes = {k: v for k, v in attributes.items() if k not in ("collation", "charset")}
        computed = info.get("computed")
        if computed and computed.get("sqltext"):  # GENERATED ALWAYS AS (...) STORED|VIRTUAL
            kw["generated"] = self.check_text(str(computed["sqltext"]))
            kw["stored"] = bool(computed.get("persisted"))
            kw.pop("default", None)
            kw.pop("default_now", None)
            kw.pop("default_sql", None)
        infos = self.table_columns.get(table)  # None: a driver's own ``columns`` walk
        in_column_order = [i["name"] for i in infos or () if i["name"] in pk]
        if primary and infos is not None and in_column_order != list(pk):  # PRIMARY KEY (b, a) over columns a, b
            kw["primary_position"] = pk.index(name) + 1
        return Column(
            name,
            nullable=bool(info.get("nullable", True)) and not primary,
            primary=primary,
            autoincrement=autoincrement,
            comment=comment,
            **attributes,
            **kw,
        )

    def attributes(
        self, table: str, info: dict[str, Any], extra: Any, type_: str, autoincrement: bool
    ) -> dict[str, Any]:
        """The column's attributes beside its type (``collation``, ``charset``,
        ``on_update_now``, ``identity``), only those it has. Default: the collation
        the Inspector put on a text type (a dialect that reads them from its own
        catalogue overrides it)."""
        collation = getattr(info["type"], "collation", None)
        return {"collation": str(collation)} if collation else {}

    def indexes(
        self,
        table: str,
        infos: list[dict[str, Any]],
        fks: list[ForeignKey],
        pk: tuple[str, ...],
        uniques: Sequence[Unique] = (),
    ) -> list[Index]:
        """Plain and unique indexes (a unique index is what ``CREATE UNIQUE INDEX``
        made). Left out: the index behind a unique constraint (PostgreSQL's
        ``duplicates_constraint``; MySQL's unique keys, which are the constraints
        themselves, share their name) and those the database made by itself
        (``own_index``)."""
        backing = {u.name for u in uniques}
        out = []
        for info in infos:
            if info.get("duplicates_constraint") or (info.get("unique") and info["name"] in backing):
                continue
            if self.own_index(table, info, fks):
                continue
            note = self.index_note(table, info)
            if note is not None:  # a kind of index the state cannot hold: named, never a plain index
                self.unsaid.append((table, f"{table}.{info['name']}: {note}"))
                continue
            out.append(Index(info["name"], unique=bool(info.get("unique")), **self.index_fields(table, info)))
        return out

    def index_fields(self, table: str, info: dict[str, Any]) -> dict[str, Any]:
        """The ``Index`` fields of one index the Inspector read: its key parts in
        order (``column_names``, with None where ``expressions`` has an expression),
        the descending ones (``column_sorting``), and the dialect's options
        (``index_options``). Expressions and predicates are read as the database
        spells them (``check_text``)."""
        names, exprs = self._index_parts(info)
        sorting = info.get("column_sorting") or {}
        columns: list[str] = []
        expressions: list[str | None] = []
        descending: list[int] = []
        for i, (name, expression) in enumerate(zip(names, exprs, strict=True)):
            key = name if name is not None else expression
            order = tuple(sorting.get(key) or ())
            if "desc" in order:
                descending.append(i)
            if any(o.startswith("nulls") for o in order):
                self.unsaid.append(
                    (table, f"{table}.{info['name']}: NULLS FIRST/LAST on {key}; the models cannot say it")
                )
            if name is not None:
                columns.append(name)
                expressions.append(None)
            else:
                expressions.append(self.check_text(str(expression)))
        fields: dict[str, Any] = {
            "columns": tuple(columns),
            "expressions": tuple(expressions) if any(e is not None for e in expressions) else (),
            "descending": tuple(descending),
        }
        fields.update(self.index_options(table, info, tuple(columns)))
        if fields.get("where") is not None:
            fields["where"] = self.check_text(fields["where"])
        return fields

    def index_options(self, table: str, info: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
        """The dialect's options of one index (dialect hook): ``where``, ``include``,
        ``method``, ``kind``, ``lengths`` (one per column of ``columns``), from its
        ``dialect_options``. Default: none."""
        return {}

    @staticmethod
    def _index_parts(info: dict[str, Any]) -> tuple[list[Any], list[Any]]:
        names = list(info.get("column_names") or [])
        exprs = list(info.get("expressions") or [None] * len(names))
        if len(exprs) < len(names):
            exprs += [None] * (len(names) - len(exprs))
        return names, [None if n is not None else e for n, e in zip(names, exprs[: len(names)], strict=True)]

    def unique_constraints(self, table: str, infos: list[dict[str, Any]]) -> list[Unique]:
        """UNIQUE constraints (MySQL: every unique key), as ``Unique`` values; an
        unnamed one (SQLite's column-level ``UNIQUE``) gets the name modelmig would
        give it."""
        out = []
        have: set[str] = set()
        for info in infos:
            cols = tuple(info["column_names"])
            name = info.get("name") or index_name(table, cols, True)
            if name in have:
                continue
            out.append(Unique(name, cols))
            have.add(name)
        return out

    def foreign_keys(self, table: str, infos: list[dict[str, Any]]) -> list[ForeignKey]:
        out = []
        for info in infos:
            cols = tuple(info["constrained_columns"])
            ref = info["referred_table"]
            options = info.get("options") or {}
            initially = str(options.get("initially") or "").lower()
            out.append(
                ForeignKey(
                    info.get("name") or foreign_key_name(table, cols, ref),
                    cols,
                    ref,
                    tuple(info["referred_columns"]),
                    self.action(options.get("ondelete")),
                    self.action(options.get("onupdate")),
                    bool(options.get("deferrable")),
                    "deferred" if initially == "deferred" and options.get("deferrable") else None,
                )
            )
        return out

    def checks(self, table: str, infos: list[dict[str, Any]], columns: list[Column], extra: Any) -> list[Check]:
        """CHECK constraints, but those the database made for a column type
        (``own_check``). An unnamed check gets the name modelmig would give it."""
        out = []
        for info in infos:
            if self.own_check(table, info, columns, extra):
                continue
            expression = self.check_text(info["sqltext"])
            out.append(Check(info.get("name") or check_name(table, expression), expression))
        return out

    # ------------------------------------------------------------ dialect hooks

    def logical_type(self, table: str, info: dict[str, Any], extra: Any) -> dict[str, Any]:
        """The column's logical type and its arguments (``type``, ``length``,
        ``precision``, ``scale``, ``values``, ``use_tz``), from the SQLAlchemy type
        object the Inspector returned. A type modelmig has no name for keeps the
        dialect's own spelling, in lower case (drift shows it as it is). A
        registered type's ``reflects`` answers first, then ``type_table``."""
        t = info["type"]
        return registered_type(t, self.sa_dialect) or read_type(
            (*self.type_table, *GENERIC_TYPES), t, TypeSeen(table, info["name"], extra, self.sa_dialect)
        )

    def autoincrement(self, table: str, info: dict[str, Any], pk: tuple[str, ...], type_: str) -> bool:
        return bool(info.get("autoincrement") is True and pk == (info["name"],) and type_ in INTEGER_TYPES)

    def default(self, text: str | None, type_: str, autoincrement: bool) -> Any:
        """A column default as the state holds it: ``NOW``, a literal of the
        column's type, an ``Expression``, or None."""
        if text is None or autoincrement:
            return None
        return parse_default(text, type_, self.sqlglot_dialect)

    def expression_default(self, sql: str) -> bool:
        """Whether a default that is an SQL expression is one the models hold
        (``Column.default_sql``): not a ``nextval(...)`` of a sequence, which the
        models do not hold (it stays named by make:models)."""
        return function_called(sql, self.sqlglot_dialect) != "nextval"

    def reflected_text_columns(self, infos: Sequence[dict[str, Any]]) -> frozenset[str] | None:
        """The columns of a plain text type among the Inspector's ``infos``
        (``plain_text``); None where a type is none of SQLAlchemy's (a driver that
        reads its own catalogue): not known."""
        if any(not isinstance(i.get("type"), sa.types.TypeEngine) for i in infos):
            return None
        return frozenset(str(i["name"]) for i in infos if self.plain_text(i["type"]))

    def plain_text(self, t: Any) -> bool:
        """Whether a column of SQLAlchemy type ``t`` holds text as it is, so that a
        cast of it to text changes nothing (dialect hook: a driver excludes its own
        text types that compare otherwise). Default: a string, not an enum."""
        return isinstance(t, sa.String) and not isinstance(t, sa.Enum)

    def own_index(self, table: str, info: dict[str, Any], fks: list[ForeignKey]) -> bool:
        """An index the database made by itself (MySQL's for a foreign key)."""
        return False

    def own_check(self, table: str, info: dict[str, Any], columns: list[Column], extra: Any) -> bool:
        """A check the database made for a column type (MariaDB's ``json_valid``)."""
        return False

    def action(self, value: str | None) -> str | None:
        """A referential action; the database's default (NO ACTION) as None."""
        if not value:
            return None
        action = " ".join(value.upper().split())
        return None if action == "NO ACTION" or action not in ACTIONS else action

    def check_text(self, sql: str) -> str:
        return normalize_sql(sql, self.sqlglot_dialect, rewrite=self.rewrite, text_columns=self.text_columns)

    def rewrite(self, node: Any, compare: bool) -> Any:
        """The dialect's own spelling of one parsed node (sqlglot) back into the
        common one (PostgreSQL's ``= ANY (ARRAY[...])`` for ``IN (...)``); with
        ``compare``, its synonyms too. Default: as it is."""
        return node

    # ------------------------------------------------------------ comparing

    def comparable(self, state: State) -> State:
        """``state`` as this dialect can hold it, spelled one way: applied to both the
        live and the expected state before drift compares them."""
        tables = {name: self.comparable_table(t) for name, t in state.tables.items()}
        if not state.views:
            return State(tables)
        dialect = self.sqlglot_dialect

        def normalize(text: str) -> str:
            return normalize_sql(text, dialect, compare=True, rewrite=self.rewrite)

        return State(tables, comparable_views(state, dialect, normalize))

    def comparable_table(self, table: Table) -> Table:
        texts = state_text_columns(table)
        return replace(
            table,
            columns=tuple(self.comparable_column(table, c) for c in table.columns),
            foreign_keys=tuple(
                replace(fk, on_delete=self.action(fk.on_delete), on_update=self.action(fk.on_update))
                for fk in table.foreign_keys
            ),
            checks=tuple(replace(c, expression=self.comparable_check(c.expression, texts)) for c in table.checks),
            indexes=tuple(self.comparable_index(ix, texts) for ix in table.indexes),
            partitions=tuple(
                replace(
                    p,
                    indexes=tuple(self.comparable_index(ix, texts) for ix in p.indexes),
                    foreign_keys=tuple(
                        replace(fk, on_delete=self.action(fk.on_delete), on_update=self.action(fk.on_update))
                        for fk in p.foreign_keys
                    ),
                )
                for p in table.partitions
            ),
        )

    def comparable_index(self, ix: Index, text_columns: Collection[str] | None = None) -> Index:
        """An index's predicate and expressions in one spelling (as checks are)."""
        if ix.where is None and not ix.expressions:
            return ix
        where = None if ix.where is None else self.comparable_check(ix.where, text_columns)
        expressions = tuple(None if e is None else self.comparable_check(e, text_columns) for e in ix.expressions)
        return replace(ix, where=where, expressions=expressions)

    def comparable_column(self, table: Table, col: Column) -> Column:
        texts = state_text_columns(table)
        if col.generated is not None:
            col = replace(col, generated=self.comparable_check(col.generated, texts))
        if col.default_sql is not None:
            col = replace(col, default_sql=self.comparable_check(col.default_sql, texts))
        default = comparable_default(col)
        return col if default == col.default and type(default) is type(col.default) else replace(col, default=default)

    def comparable_check(self, expression: str, text_columns: Collection[str] | None = None) -> str:
        return normalize_sql(
            expression, self.sqlglot_dialect, compare=True, rewrite=self.rewrite, text_columns=text_columns
        )


#: the state types whose values are text as they are (a cast to text changes nothing);
#: an enum or set is not (PostgreSQL's enum types compare by their order)
PLAIN_TEXT_TYPES = frozenset({"string", "char", "text", "tinyText", "mediumText", "longText"})


def state_text_columns(table: Table) -> frozenset[str]:
    """The table's columns of a plain text type (``added_cast``)."""
    return frozenset(c.name for c in table.columns if c.type in PLAIN_TEXT_TYPES and not c.array)


def named_by_content(state: State) -> State:
    """``state`` with its foreign keys and checks named by what they are (their
    columns and target; their expression), for a database that does not keep the
    names it is given (``Features.constraint_names`` false): applied to both sides
    of a comparison, they are matched by content, not by name."""

    def fk_name(fk: ForeignKey) -> str:
        return f"({', '.join(fk.columns)}) -> {fk.ref_table}({', '.join(fk.ref_columns)})"

    return State(
        {
            name: replace(
                t,
                foreign_keys=tuple(replace(fk, name=fk_name(fk)) for fk in t.foreign_keys),
                checks=tuple(replace(c, name=c.expression) for c in t.checks),
            )
            for name, t in state.tables.items()
        },
        state.views,
    )


# ---------------------------------------------------------------- enums kept in a CHECK


def enum_values(expression: str, column: str, dialect: str) -> tuple[str, ...] | None:
    """The values of ``column IN ('a', 'b')`` (the CHECK an enum gets where the
    database has no enum type), else None."""
    from sqlglot import exp

    tree = _parse(" ".join(expression.split()), dialect)
    while isinstance(tree, exp.Paren):
        tree = tree.this
    if not isinstance(tree, exp.In) or not isinstance(tree.this, exp.Column) or tree.this.name != column:
        return None
    items = tree.expressions
    if not items or not all(isinstance(v, exp.Literal) and v.is_string for v in items):
        return None
    return tuple(str(v.this) for v in items)


def enum_columns(
    table: str, columns: list[Column], checks: list[Check], dialect: str
) -> tuple[list[Column], list[Check]]:
    """Columns whose ``ck_<table>_<column>_enum`` CHECK lists their values, as enums
    of those values; those checks are the type's, not checks of the models."""
    by_name = {c.name: c for c in checks}
    enums: dict[str, tuple[str, ...]] = {}
    for col in columns:
        check = by_name.get(enum_check_name(table, col.name))
        if check is None or col.type not in ("string", "text"):
            continue
        values = enum_values(check.expression, col.name, dialect)
        if values is not None:
            enums[col.name] = values
    if not enums:
        return columns, checks
    out = [replace(c, type="enum", length=None, values=enums[c.name]) if c.name in enums else c for c in columns]
    kept = [c for c in checks if c.name not in {enum_check_name(table, n) for n in enums}]
    return out, kept


# ---------------------------------------------------------------- types


@dataclass(frozen=True)
class TypeSeen:
    """Where a reflected type was read (a type table entry may need more than the
    type: MariaDB's JSON is a LONGTEXT with a ``json_valid`` check of its column)."""

    table: str
    column: str
    extra: Any
    dialect: Any


#: one entry of a driver's table back: (SQLAlchemy type classes, a function of the
#: reflected type and where it was seen returning the state Column's type fields,
#: or None to leave it to the next entry)
TypeReading = tuple[Any, Callable[[Any, TypeSeen], "dict[str, Any] | None"]]


def _string(t: Any, seen: TypeSeen) -> dict[str, Any] | None:
    if isinstance(t, (sa.CHAR, sa.NCHAR)):
        return None
    return {"type": "string", "length": t.length} if t.length is not None else {"type": "text"}


#: the generic table back from SQLAlchemy's types to modelmig's, walked in order
#: (a subclass before its base); a driver's ``Reflection.type_table`` puts its own
#: entries before these
GENERIC_TYPES: tuple[TypeReading, ...] = (
    (sa.Enum, lambda t, seen: {"type": "enum", "values": tuple(t.enums)} if t.enums else None),
    (sa.Boolean, lambda t, seen: {"type": "boolean"}),
    (sa.SmallInteger, lambda t, seen: {"type": "smallInteger"}),
    (sa.BigInteger, lambda t, seen: {"type": "bigInteger"}),
    (sa.Integer, lambda t, seen: {"type": "integer"}),
    (sa.Uuid, lambda t, seen: {"type": "uuid"}),
    (sa.Double, lambda t, seen: {"type": "double"}),
    (sa.Float, lambda t, seen: {"type": "float"}),
    (
        sa.Numeric,
        lambda t, seen: (
            {"type": "decimal", "precision": t.precision, "scale": t.scale or 0} if t.precision is not None else None
        ),
    ),
    (sa.DateTime, lambda t, seen: {"type": "timestamp", "use_tz": bool(getattr(t, "timezone", False))}),
    (sa.Date, lambda t, seen: {"type": "date"}),
    (sa.Time, lambda t, seen: {"type": "time", "use_tz": bool(getattr(t, "timezone", False))}),
    (sa.JSON, lambda t, seen: {"type": "json"}),
    (sa.LargeBinary, lambda t, seen: {"type": "binary"}),
    (sa.Text, lambda t, seen: {"type": "text"}),
    ((sa.CHAR, sa.NCHAR), lambda t, seen: {"type": "char", "length": t.length} if t.length is not None else None),
    (sa.String, _string),
)


def read_type(table: Iterable[TypeReading], t: Any, seen: TypeSeen) -> dict[str, Any]:
    """A reflected type through a type table back: the first entry whose classes
    ``t`` is an instance of and that answers; else the dialect's own spelling."""
    for classes, read in table:
        if isinstance(t, classes):
            found = read(t, seen)
            if found is not None:
                return found
    return {"type": raw_type(t, seen.dialect)}


def registered_type(t: Any, dialect: Any) -> dict[str, Any] | None:
    """A registered type's own reading of ``t`` for this dialect (its ``reflects``),
    before any driver table: a plugin type is more specific than the built-in it is
    made of (``citext`` before ``text``)."""
    from ..vocabulary.column_types import registered_types

    for ctype in registered_types():
        read = ctype.reflects.get(dialect.name)
        found = read(t) if read is not None else None
        if found is not None:
            return dict(found)
    return None


def generic_type(t: Any, dialect: Any) -> dict[str, Any]:
    """Logical type arguments from a SQLAlchemy type object (the generic table; a
    driver's own entries come first in its ``Reflection.type_table``)."""
    return read_type(GENERIC_TYPES, t, TypeSeen("", "", None, dialect))


def raw_type(t: Any, dialect: Any) -> str:
    """The dialect's own spelling of a type modelmig has no name for."""
    try:
        return str(t.compile(dialect=dialect)).lower()
    except Exception:  # noqa: BLE001 - a type SQLAlchemy cannot compile: its repr
        return repr(t).lower()


# ---------------------------------------------------------------- SQL text (sqlglot)


def _parse(sql: str, dialect: str) -> Any:
    """One SQL expression (a default, a check) parsed in the dialect it came from.
    An expression that starts with a word the dialect also reads as a command (a
    column named ``lock``, ``analyze``) is read as the expression it is: the text
    as the one parenthesized item of a SELECT and nothing else; None when it is
    not one expression."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    log = logging.getLogger("sqlglot")
    level = log.level
    log.setLevel(logging.ERROR)  # sqlglot's "falling back to parsing as a Command" is handled here
    try:
        try:
            tree = sqlglot.parse_one(sql, read=dialect)
        except (SqlglotError, ValueError):
            tree = None
        if tree is not None and not isinstance(tree, exp.Command):
            return tree
        try:
            wrapped = sqlglot.parse_one(f"SELECT ({sql})", read=dialect)
        except (SqlglotError, ValueError):
            return None
    finally:
        log.setLevel(level)
    used = {k for k, v in wrapped.args.items() if v}
    if isinstance(wrapped, exp.Select) and used == {"expressions"} and len(wrapped.expressions) == 1:
        only = wrapped.expressions[0]
        if isinstance(only, exp.Paren):
            return only.this
    return None


def function_called(sql: str, dialect: str) -> str | None:
    """The name (lower case) of the function that SQL text ``sql`` calls as a
    whole (``nextval('users_id_seq'::regclass)`` -> ``"nextval"``), parsed by
    sqlglot in ``dialect``; None for anything else."""
    from sqlglot import exp

    tree = _parse(" ".join(str(sql).split()), dialect)
    if isinstance(tree, exp.Anonymous):
        return str(tree.name).lower()
    if isinstance(tree, exp.Func):
        return tree.sql_name().lower()
    return None


#: a dialect's rewrite of one parsed node (sqlglot): ``rewrite(node, compare) -> node``
Rewrite = Callable[[Any, bool], Any]

_TEXT_TYPES = ("TEXT", "VARCHAR", "CHAR", "NVARCHAR", "NCHAR", "BPCHAR")


def _precedence(node: Any) -> int:
    """How tightly an operator binds (higher: tighter); atoms bind tightest."""
    from sqlglot import exp

    levels: tuple[tuple[Any, int], ...] = (
        (exp.Or, 1),
        (exp.And, 2),
        (exp.Not, 3),
        (exp.Predicate, 4),
        ((exp.Add, exp.Sub, exp.DPipe), 5),
        ((exp.Mul, exp.Div, exp.Mod), 6),
        (exp.Neg, 7),
    )
    for kinds, level in levels:
        if isinstance(node, kinds):
            return level
    if isinstance(node, (exp.Binary, exp.Unary)):
        return 4
    return 9


def _operator(node: Any) -> bool:
    from sqlglot import exp

    return isinstance(node, (exp.Binary, exp.Unary, exp.Connector, exp.Not, exp.Predicate))


def _strip(
    tree: Any, compare: bool, rewrite: Rewrite | None = None, text_columns: Collection[str] | None = None
) -> Any:
    """Remove what a database adds to an expression it stores: casts to text of
    what is text already (``added_cast``), parentheses that change nothing,
    identifier quotes; then the dialect's own ``rewrite`` of a node (its synonyms,
    its spellings). Bottom-up, with each node's parent known."""
    from sqlglot import exp

    texts = None if text_columns is None else {c.lower() for c in text_columns}

    def redundant(inner: Any, parent: Any, key: str) -> bool:
        if parent is None or not _operator(parent):
            return True  # the whole expression, a function argument, a cast's operand
        mine, theirs = _precedence(inner), _precedence(parent)
        return mine > theirs or (mine == theirs and key == "this" and not isinstance(parent, exp.Unary))

    def visit(node: Any, parent: Any, key: str) -> Any:
        if isinstance(node, exp.Paren) and redundant(node.this, parent, key):
            return node.this
        if isinstance(node, exp.Cast) and not _cast_operand(parent):  # ('now'::text)::date: not added
            to = node.args.get("to")
            if to is not None and _type_name(to) in _TEXT_TYPES and added_cast(node.this, texts):
                return node.this
            if (
                to is not None
                and to.is_type(exp.DataType.Type.ARRAY)
                and all(_type_name(e) in _TEXT_TYPES for e in to.expressions)
                and added_cast(node.this, texts)
            ):
                return node.this
        if isinstance(node, exp.Identifier):
            name = node.name.lower() if compare else node.name
            if node.args.get("quoted") or node.name != name:
                return exp.Identifier(this=name, quoted=False)
        return rewrite(node, compare) if rewrite is not None else node

    def walk(node: Any, parent: Any, key: str) -> Any:
        for name, child in list(node.args.items()):
            if isinstance(child, exp.Expression):
                node.set(name, walk(child, node, name))
            elif isinstance(child, list):
                node.set(name, [walk(c, node, name) if isinstance(c, exp.Expression) else c for c in child])
        out = visit(node, parent, key)
        while out is not node:  # what replaced a node may itself simplify
            node, out = out, visit(out, parent, key)
        return out

    return walk(tree.copy(), None, "")


def _type_name(data_type: Any) -> str:
    """A cast's type name (sqlglot keeps a type it has no name for, PostgreSQL's
    ``regclass``, as its text)."""
    return str(getattr(data_type.this, "name", data_type.this))


def _cast_operand(parent: Any) -> bool:
    """Whether a node under ``parent`` is what a cast converts (through parentheses)."""
    from sqlglot import exp

    while isinstance(parent, exp.Paren):
        parent = parent.parent
    return isinstance(parent, exp.Cast)


def added_cast(operand: Any, text_columns: Collection[str] | None) -> bool:
    """Whether a cast to text of ``operand`` is one the database adds (it changes
    nothing): of a string literal (PostgreSQL's ``'a'::text``), of an array of
    them, of a column whose type is text already (``(name)::text`` on a varchar).
    ``text_columns`` None: the column types are not known, every cast to text of a
    column is taken for an added one (a view's text). A cast of anything else (an
    integer column, an expression) changes what it compares, and is kept."""
    from sqlglot import exp

    if isinstance(operand, exp.Literal):
        return bool(operand.is_string)
    if isinstance(operand, exp.Array):
        return all(added_cast(e, text_columns) for e in operand.expressions)
    if isinstance(operand, exp.Column):
        return text_columns is None or operand.name.lower() in text_columns
    return text_columns is None


def normalize_sql(
    sql: str,
    dialect: str,
    compare: bool = False,
    rewrite: Rewrite | None = None,
    text_columns: Collection[str] | None = None,
) -> str:
    """A check expression as modelmig writes it: parsed in ``dialect`` and written
    back without the casts, parentheses and quotes the database added, and with
    the dialect's ``rewrite`` of each node (a driver's ``Reflection.rewrite``).
    With ``compare``, in one spelling for comparison (lower case). ``text_columns``:
    the table's columns of a text type (a cast to text of another is kept)."""
    text = " ".join(str(sql).split())
    tree = _parse(text, dialect)
    if tree is None:
        return text.lower() if compare else text
    stripped = _strip(tree, compare, rewrite, text_columns)
    out = stripped.sql(dialect="" if compare else dialect, normalize_functions="lower")
    return out.lower() if compare else out


@lru_cache(maxsize=4096)
def parse_default(text: str, type_: str, dialect: str) -> Any:
    """A column default's SQL text -> ``NOW``, a Python literal of the column's
    logical type, an ``Expression``, or None (``NULL``). Cached: a schema repeats
    the same few defaults in every table."""
    from sqlglot import exp

    tree = _parse(str(text).strip(), dialect)
    if tree is None:
        return Expression(" ".join(str(text).split()))
    casts = 0
    while isinstance(tree, (exp.Paren, exp.Cast)):
        casts += isinstance(tree, exp.Cast)
        tree = tree.this
    if casts > 1:  # ('now'::text)::date: a conversion made on every insert, no literal
        return Expression(" ".join(str(text).split()))
    if isinstance(tree, (exp.CurrentTimestamp, exp.CurrentDate, exp.CurrentTime)) or (
        isinstance(tree, exp.Anonymous) and tree.name.lower() in ("now", "localtimestamp", "current_timestamp")
    ):
        return NOW
    if isinstance(tree, exp.Null):
        return None
    negative = False
    if isinstance(tree, exp.Neg):
        negative, tree = True, tree.this
        while isinstance(tree, (exp.Paren, exp.Cast)):
            tree = tree.this
    if isinstance(tree, exp.Boolean):
        return bool(tree.this)
    if isinstance(tree, exp.Literal):
        value = ("-" if negative else "") + str(tree.this)
        return typed_literal(value, type_, quoted=tree.is_string)
    return Expression(" ".join(str(text).split()))


def typed_literal(value: str, type_: str, quoted: bool = False) -> Any:
    """A default's literal text as the Python value a model would give for a column
    of ``type_``."""
    if type_ == "boolean":
        low = value.strip().lower()
        if low in ("1", "true", "t", "yes", "y", "on"):
            return True
        if low in ("0", "false", "f", "no", "n", "off"):
            return False
        return value
    if type_ in INTEGER_TYPES:
        try:
            return int(value)
        except ValueError:
            return value
    if type_ in ("float", "double"):
        try:
            number = float(value)
        except ValueError:
            return value
        return int(number) if number.is_integer() and not quoted and "." not in value else number
    return value


def comparable_default(col: Column) -> Any:
    """A default in one spelling per logical type, so that ``1.500`` and ``1.5``,
    ``"0"`` and ``0``, ``1`` and ``True`` compare equal where the column's type
    makes them the same value."""
    value = col.default
    if value is None:
        return None
    if col.type == "boolean":
        return typed_literal(str(value), "boolean") if not isinstance(value, bool) else value
    if col.type in INTEGER_TYPES or col.type in NUMERIC_TYPES:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            return str(value)
        return str(number.normalize()) if number != 0 else "0"
    return str(value) if not isinstance(value, bool) else value

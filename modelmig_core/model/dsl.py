"""The model DSL: ``Model`` with its ``schema`` and ``database`` blocks.

The DSL only records what the user wrote; ``compile.py`` validates it and turns it
into state, so that every error can name the model and field it comes from.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, ClassVar


@dataclass(frozen=True)
class ColumnSpec:
    type: str
    arg: Any = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RelationSpec:
    kind: str
    target: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ForeignKeySpec:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    name: str | None = None
    on_delete: str | None = None
    on_update: str | None = None
    deferrable: Any = False
    initially: Any = None


@dataclass(frozen=True)
class IndexSpec:
    columns: tuple[Any, ...]
    name: str | None = None
    unique: bool = False
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PartitionSpec:
    bound: str
    indexes: tuple[Any, ...] = ()
    foreign_keys: tuple[Any, ...] = ()


@dataclass(frozen=True)
class CheckSpec:
    expression: str
    name: str | None = None


def column(type: str, arg: Any = None, /, **options: Any) -> ColumnSpec:
    """A column: ``column("string", 200, nullable=True)``.

    ``arg`` is the length of a string, ``(precision, scale)`` of a decimal, the values
    of an enum. Options: nullable, default, unique, index, primary, comment, use_tz,
    default_now, renamed_from, length, precision, scale, values; collation and
    charset (text columns), on_update_now (a timestamp that MySQL sets on every
    update, asked for explicitly), identity ("always", "by default" or "serial": how
    PostgreSQL numbers an auto-increment column).
    """
    return ColumnSpec(type, arg, dict(options))


def relation(kind: str, target: str, /, **options: Any) -> RelationSpec:
    """A runtime relation (belongsTo, hasOne, hasMany, belongsToMany). Not DDL."""
    return RelationSpec(kind, target, dict(options))


def _names(value: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    return (value,) if isinstance(value, str) else tuple(value)


@dataclass(frozen=True)
class KeyPart:
    """One part of an index's key that is more than a column name: a column in
    descending order or with a prefix length, or an SQL expression."""

    column: str | None = None
    sql: str | None = None
    desc: bool = False
    length: int | None = None
    ops: str | None = None


def part(
    column: str | None = None,
    /,
    *,
    sql: str | None = None,
    desc: bool = False,
    length: int | None = None,
    ops: str | None = None,
) -> KeyPart:
    """A key part of ``index``/``unique``: ``part("created_at", desc=True)``,
    ``part("path", length=768)`` (MySQL's prefix key), ``part(sql="lower(email)")``
    (an expression, in the chain's ``sql_dialect``), ``part("name", ops="text_pattern_ops")``
    (PostgreSQL's operator class)."""
    return KeyPart(column, sql, desc, length, ops)


def foreign_key(
    columns: str | list[str],
    ref_table: str,
    ref_columns: str | list[str] = ("id",),
    *,
    name: str | None = None,
    on_delete: str | None = None,
    on_update: str | None = None,
    deferrable: bool = False,
    initially: str | None = None,
) -> ForeignKeySpec:
    """A foreign key; ``deferrable=True`` (with ``initially="deferred"``) is checked
    at commit where the database can (PostgreSQL, SQLite; MySQL refuses it)."""
    spec = ForeignKeySpec(_names(columns), ref_table, _names(ref_columns), name, on_delete, on_update)
    return replace(spec, deferrable=deferrable, initially=initially) if deferrable or initially else spec


def _key(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, (str, KeyPart)) else tuple(value)


def index(columns: Any = None, *, name: str | None = None, **options: Any) -> IndexSpec:
    """A (composite) index: column names or ``part(...)`` entries. SQL options:
    ``unique``, ``where`` (a partial index's predicate), ``expressions`` (SQL
    expressions appended to the key), ``include`` (PostgreSQL), ``method``
    (PostgreSQL: gin, gist, brin, hash, ...), ``kind`` (MySQL: "fulltext",
    "spatial"). Document stores also read ``partial`` and ``expire_after_seconds``."""
    return IndexSpec(_key(columns), name, False, dict(options))


def unique(columns: Any = None, *, name: str | None = None, **options: Any) -> IndexSpec:
    """A unique constraint; with ``where``, expressions or prefix lengths, a unique index
    (a partial unique index stays one, never a constraint over every row)."""
    return IndexSpec(_key(columns), name, True, dict(options))


def partition(bound: str, *, indexes: Any = (), foreign_keys: Any = ()) -> PartitionSpec:
    """A declared partition (a value of ``Model.partitions``) with the indexes
    (``index(...)``) and foreign keys (``foreign_key(...)``) it has of its own, beside
    those of its table; a plain bound string is a partition with none."""
    return PartitionSpec(bound, tuple(indexes), tuple(foreign_keys))


def check(expression: str, *, name: str | None = None) -> CheckSpec:
    return CheckSpec(expression, name)


class Model:
    """Base class of every model.

    ``table`` names the table (or collection), ``schema`` maps names to ``column``
    and ``relation`` values, ``database`` holds ``foreign_keys``, ``unique``,
    ``indexes`` and ``checks``. ``store`` names the driver family the model lives in
    (``"sql"`` by default, ``"mongo"`` for a document store). ``renamed_from`` declares
    a table rename.
    """

    table: ClassVar[str] = ""
    schema: ClassVar[dict[str, Any]] = {}
    database: ClassVar[dict[str, Any]] = {}
    store: ClassVar[str] = "sql"
    renamed_from: ClassVar[str | None] = None
    abstract: ClassVar[bool] = False
    #: the table's comment (PostgreSQL, MySQL; refused on SQLite, which keeps none)
    comment: ClassVar[str | None] = None
    #: the table's physical options: MySQL's ``engine``, ``charset`` and
    #: ``collation`` (the last two together); refused where the database has none
    options: ClassVar[dict[str, str]] = {}
    #: PostgreSQL declarative partitioning: the key, ``("range", ["payment_date"])``
    #: (range, list or hash over columns), and the declared partitions by name, each
    #: with its bound: ``{"payment_p2022_01": "FROM ('2022-01-01') TO ('2022-02-01')"}``,
    #: ``"IN ('a', 'b')"``, ``"WITH (MODULUS 4, REMAINDER 0)"``, ``"DEFAULT"``
    partition_by: ClassVar[tuple[str, list[str]] | None] = None
    #: (a bound, or ``partition(bound, indexes=[...], foreign_keys=[...])`` for a
    #: partition with indexes and foreign keys of its own)
    partitions: ClassVar[dict[str, Any]] = {}


class View(Model):
    """A view declared as a model: ``view`` names it, ``select`` is its one SELECT
    (written in the chain's ``sql_dialect``; sqlglot reads it, each connection
    gets it in its own dialect). It has no ``schema`` or ``database`` block: its
    columns are what the SELECT gives::

        class ActiveUsers(View):
            view = "active_users"
            select = "SELECT id, email FROM users WHERE deleted_at IS NULL"

    (A ``Model`` with ``view = ...`` and ``select = ...`` is a view too.)"""

    abstract: ClassVar[bool] = True
    view: ClassVar[str] = ""
    select: ClassVar[str] = ""
    #: a materialized view (its rows stored; PostgreSQL: refused at make time where the database has none)
    materialized: ClassVar[bool] = False


def is_view(model: type[Model]) -> bool:
    """Whether ``model`` declares a view (a ``View``, or a ``Model`` with ``view =``)."""
    return issubclass(model, View) or "view" in vars(model) or bool(getattr(model, "view", None))

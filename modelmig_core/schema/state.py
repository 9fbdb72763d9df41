"""Relational schema state: plain, comparable values.

State is never read from a database to write a migration: it is the replay of the
migration files in order (see ``history.py``). This is the ``sql`` family's state;
other families (the mongo driver's documents) bring their own. Everything here is
immutable; operations return new states.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import MISSING, dataclass, field, replace
from typing import Any


def _tuple(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuple(v) for v in value)
    return value


class Value:
    """Base for state values: lists given by migration files become tuples."""

    def __post_init__(self) -> None:
        # the instance dict holds exactly the dataclass fields; this runs for every
        # column of every replayed or compiled state, so it stays this lean
        for name, v in self.__dict__.items():
            if type(v) is list:
                object.__setattr__(self, name, _tuple(v))


@dataclass(frozen=True)
class Column(Value):
    """A column in its normalized, dialect-neutral form."""

    name: str
    type: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    values: tuple[str, ...] | None = None
    nullable: bool = False
    default: str | int | float | bool | None = None
    default_now: bool = False
    primary: bool = False
    autoincrement: bool = False
    use_tz: bool = False
    comment: str | None = None
    #: the column's place (1-based) in a primary key whose order is not the columns'
    #: order (``PRIMARY KEY (b, a)`` over columns a, b); None: the columns' order
    primary_position: int | None = None
    #: the prefix (characters) of the column the primary key holds (MySQL ``PRIMARY KEY (id(100))``)
    primary_length: int | None = None
    #: a generated column's expression (model SQL, in the chain's ``sql_dialect``)
    generated: str | None = None
    #: a generated column is stored (computed on write); False: virtual (computed on read)
    stored: bool = False


@dataclass(frozen=True)
class Index(Value):
    """An index. ``unique=True`` is what migration files written before unique
    constraints existed say: it keeps meaning a unique index (models now give a
    ``Unique`` constraint instead)."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False
    #: a partial index's predicate (model SQL, in the chain's ``sql_dialect``)
    where: str | None = None
    #: the key's parts when some are SQL expressions: one entry per part, the
    #: expression's text, or None for the next of ``columns``; empty: the key is ``columns``
    expressions: tuple[str | None, ...] = ()
    #: the key parts (0-based) in descending order
    descending: tuple[int, ...] = ()
    #: columns stored in the index beside its key (PostgreSQL's INCLUDE)
    include: tuple[str, ...] = ()
    #: the access method (PostgreSQL: btree, hash, gin, gist, brin, spgist); None: the default
    method: str | None = None
    #: MySQL's FULLTEXT or SPATIAL index ("fulltext", "spatial"); None: a plain one
    kind: str | None = None
    #: a prefix length per column of ``columns`` (MySQL ``KEY (path(768))``), None for a whole column
    lengths: tuple[int | None, ...] = ()
    #: an operator class per column of ``columns`` (PostgreSQL ``name text_pattern_ops``), None for the default
    operator_classes: tuple[str | None, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.expressions and sum(e is None for e in self.expressions) != len(self.columns):
            from ..errors import MigrationFileError

            raise MigrationFileError(
                f"index {self.name}: expressions has {sum(e is None for e in self.expressions)} column part(s) "
                f"(None) for {len(self.columns)} column(s)"
            )
        if self.operator_classes and len(self.operator_classes) != len(self.columns):
            from ..errors import MigrationFileError

            raise MigrationFileError(
                f"index {self.name}: operator classes do not match its {len(self.columns)} columns"
            )
        if self.lengths and len(self.lengths) != len(self.columns):
            from ..errors import MigrationFileError

            raise MigrationFileError(
                f"index {self.name}: {len(self.lengths)} prefix lengths for {len(self.columns)} columns"
            )

    @property
    def parts(self) -> tuple[tuple[str, bool], ...]:
        """The key's parts in order: (column name or expression text, is an expression)."""
        if not self.expressions:
            return tuple((c, False) for c in self.columns)
        names = iter(self.columns)
        return tuple((next(names), False) if e is None else (e, True) for e in self.expressions)

    @property
    def plain(self) -> bool:
        """A key over whole columns, all of the table's rows: a unique one is a key others may reference."""
        return not (self.where or self.expressions or self.lengths or self.kind)


@dataclass(frozen=True)
class Unique(Value):
    """A named UNIQUE constraint (MySQL: a unique key)."""

    name: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class ForeignKey(Value):
    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True)
class Check(Value):
    name: str
    expression: str


#: the core's kinds, in the order a migration file writes them on a Table
BUILTIN_MEMBERS = ("indexes", "foreign_keys", "checks", "uniques")

Members = tuple[tuple[str, tuple[Any, ...]], ...]


def _members(pairs: Iterable[tuple[str, Any]]) -> Members:
    """Members as stored: (kind name, values) pairs, empty ones left out, in name order."""
    found = {k: v if type(v) is tuple else _tuple(list(v)) for k, v in pairs}
    return tuple((k, v) for k, v in sorted(found.items()) if v)


@dataclass(frozen=True, init=False)
class Table(Value):
    """A table: its columns, and what it holds of every registered kind of key,
    constraint and index (``members``: kind name -> tuple of values). The core's
    kinds read as ``indexes``, ``foreign_keys``, ``checks`` and ``uniques``; a
    plugin's kind as ``table.member("exclusions")``. ``Table(name, columns,
    indexes=..., exclusions=...)`` takes any kind's values by its name."""

    name: str
    columns: tuple[Column, ...]
    members: Members
    comment: str | None

    def __init__(
        self,
        name: str,
        columns: Iterable[Column] = (),
        indexes: Iterable[Index] | None = None,
        foreign_keys: Iterable[ForeignKey] | None = None,
        checks: Iterable[Check] | None = None,
        comment: str | None = None,
        uniques: Iterable[Unique] | None = None,
        members: Members | Mapping[str, Any] = (),
        **kinds: Iterable[Any],
    ) -> None:
        given = dict(members.items() if isinstance(members, Mapping) else members)
        named = {"indexes": indexes, "foreign_keys": foreign_keys, "checks": checks, "uniques": uniques}
        for key, values in (*named.items(), *kinds.items()):
            if values is not None:  # given (a ``replace`` passes the members, then what changes)
                given[key] = values
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "columns", columns if type(columns) is tuple else _tuple(list(columns)))
        object.__setattr__(self, "members", _members(given.items()))
        object.__setattr__(self, "comment", comment)

    def member(self, kind: str) -> tuple[Any, ...]:
        """The values of kind ``kind`` (its registered name) this table holds."""
        for key, values in self.members:
            if key == kind:
                return values
        return ()

    def with_member(self, kind: str, values: Iterable[Any]) -> Table:
        """This table with the values of ``kind`` replaced."""
        return replace(self, members=_members([*self.members, (kind, tuple(values))]))

    @property
    def indexes(self) -> tuple[Index, ...]:
        return self.member("indexes")

    @property
    def foreign_keys(self) -> tuple[ForeignKey, ...]:
        return self.member("foreign_keys")

    @property
    def checks(self) -> tuple[Check, ...]:
        return self.member("checks")

    @property
    def uniques(self) -> tuple[Unique, ...]:
        return self.member("uniques")

    @property
    def extra_members(self) -> Members:
        """The members of kinds that are not the core's own (a plugin's)."""
        return tuple((k, v) for k, v in self.members if k not in BUILTIN_MEMBERS)

    def source_fields(self) -> list[tuple[str, Any, Any]]:
        """(name, value, default) as a migration file writes this table: the core's
        kinds where they always stood, a plugin's kinds after them by name."""
        out: list[tuple[str, Any, Any]] = [("name", self.name, MISSING), ("columns", self.columns, ())]
        out += [(k, self.member(k), ()) for k in ("indexes", "foreign_keys", "checks")]
        out += [("comment", self.comment, None), ("uniques", self.uniques, ())]
        return out + [(k, v, ()) for k, v in self.extra_members]

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        """The primary key's columns in key order (``primary_position``, else the columns' order)."""
        key = [c for c in self.columns if c.primary]
        if any(c.primary_position is not None for c in key):
            key.sort(key=lambda c: c.primary_position or 0)
        return tuple(c.name for c in key)

    def unique_keys(self) -> list[tuple[str, ...]]:
        """Column sets that are unique: the primary key, unique constraints, unique indexes."""
        keys = [u.columns for u in self.uniques] + [i.columns for i in self.indexes if i.unique and i.plain]
        return [self.primary_key, *keys] if self.primary_key else keys


@dataclass(frozen=True)
class State:
    """The whole relational schema of one migration chain."""

    tables: dict[str, Table] = field(default_factory=dict)

    def with_table(self, table: Table) -> State:
        return replace(self, tables={**self.tables, table.name: table})

    def without_table(self, name: str) -> State:
        return replace(self, tables={k: v for k, v in self.tables.items() if k != name})

    def canonical(self) -> State:
        """The same schema with members sorted by name: equal canonical forms mean
        equal schemas (a column added later sits last in the database, wherever the
        model declares it)."""

        def by_name(items: tuple[Any, ...]) -> tuple[Any, ...]:
            return tuple(sorted(items, key=lambda i: i.name))

        tables = {
            n: replace(
                t,
                columns=by_name(t.columns),
                members=tuple((k, by_name(v)) for k, v in t.members),
            )
            for n, t in sorted(self.tables.items())
        }
        return State(tables)

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            from ..errors import MigrationFileError

            raise MigrationFileError(f"table {name!r} does not exist in the migration state") from None

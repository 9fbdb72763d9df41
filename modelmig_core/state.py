"""Relational schema state: plain, comparable values.

State is never read from a database to write a migration: it is the replay of the
migration files in order (see ``history.py``). This is the ``sql`` family's state;
other families (the mongo driver's documents) bring their own. Everything here is
immutable; operations return new states.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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


@dataclass(frozen=True)
class Index(Value):
    """An index. ``unique=True`` is what migration files written before unique
    constraints existed say: it keeps meaning a unique index (models now give a
    ``Unique`` constraint instead)."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False


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


@dataclass(frozen=True)
class Table(Value):
    name: str
    columns: tuple[Column, ...] = ()
    indexes: tuple[Index, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    checks: tuple[Check, ...] = ()
    comment: str | None = None
    uniques: tuple[Unique, ...] = ()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def primary_key(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.primary)

    def unique_keys(self) -> list[tuple[str, ...]]:
        """Column sets that are unique: the primary key, unique constraints, unique indexes."""
        keys = [u.columns for u in self.uniques] + [i.columns for i in self.indexes if i.unique]
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
                indexes=by_name(t.indexes),
                foreign_keys=by_name(t.foreign_keys),
                checks=by_name(t.checks),
                uniques=by_name(t.uniques),
            )
            for n, t in sorted(self.tables.items())
        }
        return State(tables)

    def table(self, name: str) -> Table:
        try:
            return self.tables[name]
        except KeyError:
            from .errors import MigrationFileError

            raise MigrationFileError(f"table {name!r} does not exist in the migration state") from None

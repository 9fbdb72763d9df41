"""The base of every operation, and helpers for operations on named members."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from ...errors import MigrationFileError
from ..state import State, Value


class Operation(Value):
    """Base of all operations: a small declarative value that knows how it changes
    its family's state (``state_forwards``) and what undoes it (``inverse``).
    Drivers know how to run it."""

    family: ClassVar[str] = "sql"
    #: what a CreateX operation creates ("table"), for migration names
    creates: ClassVar[str | None] = None
    destructive: ClassVar[bool] = False  # drops data when applied

    def state_forwards(self, state: Any) -> Any:
        raise NotImplementedError

    def inverse(self) -> Operation:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def requires(self, before: Any) -> tuple[str, ...]:
        """The ``Features`` flags a driver needs to run this operation on a database
        in state ``before``. make:migration checks them against every configured
        connection of the family, so that no deploy finds out first."""
        return ()

    def name_hint(self) -> str:
        return self.describe().replace(" ", "_")

    @property
    def subject(self) -> str | None:
        """The name of the table/collection this operation works on (for names)."""
        for attr in ("table", "collection"):
            value = getattr(self, attr, None)
            if isinstance(value, str):
                return value
            if value is not None and isinstance(getattr(value, "name", None), str):
                return str(value.name)
        return None


def replace_named(items: tuple[Any, ...], name: str, new: Any | None) -> tuple[Any, ...]:
    out = []
    found = False
    for item in items:
        if item.name == name:
            found = True
            if new is not None:
                out.append(new)
        else:
            out.append(item)
    if not found:
        raise MigrationFileError(f"{name!r} does not exist in the migration state")
    return tuple(out)


def has_named(items: tuple[Any, ...], name: str) -> bool:
    return any(i.name == name for i in items)


def referenced(state: Any, table: str) -> bool:
    """Whether a foreign key of any table (``table`` itself included) points at ``table``."""
    return any(fk.ref_table == table for t in state.tables.values() for fk in t.foreign_keys)


def fk_needs(fk: Any) -> tuple[str, ...]:
    return ("fk_actions",) if fk.on_delete or fk.on_update else ()


def member_ops(kind: str, attr: str) -> tuple[Any, Any]:
    """Build the Add/Drop pair for one kind of table member (index, FK, check)."""

    def add_forwards(self: Any, state: State) -> State:
        t = state.table(self.table)
        item = getattr(self, kind)
        if has_named(getattr(t, attr), item.name):
            raise MigrationFileError(f"{type(self).__name__}: {item.name!r} already exists on {self.table}")
        return state.with_table(replace(t, **{attr: (*getattr(t, attr), item)}))

    def drop_forwards(self: Any, state: State) -> State:
        t = state.table(self.table)
        item = getattr(self, kind)
        return state.with_table(replace(t, **{attr: replace_named(getattr(t, attr), item.name, None)}))

    return add_forwards, drop_forwards

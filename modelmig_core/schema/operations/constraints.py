"""Operations on indexes, unique constraints, foreign keys and check constraints of a
table, and ``AddMember``/``DropMember``, the operations of a plugin's kind."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from ...errors import MigrationFileError
from ...vocabulary.kinds import Kind
from ..state import Check, ForeignKey, Index, State, Unique
from .base import Operation, fk_needs, has_named, replace_named


def _member_ops(kind: str, attr: str) -> tuple[Any, Any]:
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


_idx_add, _idx_drop = _member_ops("index", "indexes")
_fk_add, _fk_drop = _member_ops("foreign_key", "foreign_keys")
_ck_add, _ck_drop = _member_ops("check", "checks")
_uq_add, _uq_drop = _member_ops("unique", "uniques")


@dataclass(frozen=True)
class CreateIndex(Operation):
    """Create ``index`` (a named, non-unique or legacy unique index) on ``table``."""

    table: str
    index: Index
    state_forwards = _idx_add  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return DropIndex(self.table, self.index)

    def describe(self) -> str:
        return f"create {self.index.name} on {self.table}"


@dataclass(frozen=True)
class DropIndex(Operation):
    """Drop ``index`` from ``table`` (the whole index, so the inverse can make it again)."""

    table: str
    index: Index
    state_forwards = _idx_drop  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return CreateIndex(self.table, self.index)

    def describe(self) -> str:
        return f"drop {self.index.name} from {self.table}"


@dataclass(frozen=True)
class AddForeignKey(Operation):
    """Add the named ``foreign_key`` to an existing ``table``
    (``Features.add_constraint_to_existing_table``; SQLite rebuilds the table)."""

    table: str
    foreign_key: ForeignKey
    state_forwards = _fk_add  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return DropForeignKey(self.table, self.foreign_key)

    def describe(self) -> str:
        return f"add {self.foreign_key.name} to {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("add_constraint_to_existing_table", *fk_needs(self.foreign_key))


@dataclass(frozen=True)
class DropForeignKey(Operation):
    """Drop the named ``foreign_key`` from ``table``."""

    table: str
    foreign_key: ForeignKey
    state_forwards = _fk_drop  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return AddForeignKey(self.table, self.foreign_key)

    def describe(self) -> str:
        return f"drop {self.foreign_key.name} from {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("add_constraint_to_existing_table",)


@dataclass(frozen=True)
class AddCheck(Operation):
    """Add the named ``check`` (one SQL expression) to an existing ``table``."""

    table: str
    check: Check
    state_forwards = _ck_add  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return DropCheck(self.table, self.check)

    def describe(self) -> str:
        return f"add {self.check.name} to {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("add_constraint_to_existing_table", "check_constraints")


@dataclass(frozen=True)
class DropCheck(Operation):
    """Drop the named ``check`` from ``table``."""

    table: str
    check: Check
    state_forwards = _ck_drop  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return AddCheck(self.table, self.check)

    def describe(self) -> str:
        return f"drop {self.check.name} from {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("add_constraint_to_existing_table", "check_constraints")


@dataclass(frozen=True)
class AddUnique(Operation):
    """A named UNIQUE constraint on an existing table."""

    table: str
    unique: Unique
    state_forwards = _uq_add  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return DropUnique(self.table, self.unique)

    def describe(self) -> str:
        return f"add {self.unique.name} to {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("add_unique_to_existing_table",)


@dataclass(frozen=True)
class DropUnique(Operation):
    """Drop the named UNIQUE constraint ``unique`` from ``table``."""

    table: str
    unique: Unique
    state_forwards = _uq_drop  # type: ignore[assignment]

    def inverse(self) -> Operation:
        return AddUnique(self.table, self.unique)

    def describe(self) -> str:
        return f"drop {self.unique.name} from {self.table}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("add_unique_to_existing_table",)


# ---------------------------------------------------------------- a plugin's kind


def _kind(op: Any) -> Kind:
    kind = getattr(type(op), "member_kind", None)
    if not isinstance(kind, Kind):
        raise MigrationFileError(f"{type(op).__qualname__} is the operation of no registered kind (Kind(add=, drop=))")
    return kind


@dataclass(frozen=True)
class AddMember(Operation):
    """Add ``value`` (a state value of a registered ``Kind``) to ``table``. A plugin's
    kind subclasses it (``class AddExclusion(AddMember): ...``) and names the pair in
    its ``Kind(add=..., drop=...)``; the subclass's ``member_kind`` is that Kind."""

    table: str
    value: Any
    member_kind: ClassVar[Kind | None] = None

    def state_forwards(self, state: State) -> State:
        kind = _kind(self)
        t = state.table(self.table)
        have = t.member(kind.name)
        if has_named(have, self.value.name):
            raise MigrationFileError(f"{type(self).__name__}: {self.value.name!r} already exists on {self.table}")
        return state.with_table(t.with_member(kind.name, (*have, self.value)))

    def inverse(self) -> Operation:
        return _kind(self).drop(self.table, self.value)  # type: ignore[no-any-return]

    def describe(self) -> str:
        return f"add {_kind(self).title} {self.value.name} to {self.table}"

    def name_hint(self) -> str:
        return f"add {self.value.name} to {self.table}".replace(" ", "_")

    def requires(self, before: Any) -> tuple[str, ...]:
        return _kind(self).requires


@dataclass(frozen=True)
class DropMember(Operation):
    """Drop ``value`` (a state value of a registered ``Kind``) from ``table``: the
    whole value, so that the inverse can add it again."""

    table: str
    value: Any
    member_kind: ClassVar[Kind | None] = None

    def state_forwards(self, state: State) -> State:
        kind = _kind(self)
        t = state.table(self.table)
        return state.with_table(t.with_member(kind.name, replace_named(t.member(kind.name), self.value.name, None)))

    def inverse(self) -> Operation:
        return _kind(self).add(self.table, self.value)  # type: ignore[no-any-return]

    def describe(self) -> str:
        return f"drop {_kind(self).title} {self.value.name} from {self.table}"

    def name_hint(self) -> str:
        return f"drop {self.value.name} from {self.table}".replace(" ", "_")

    def requires(self, before: Any) -> tuple[str, ...]:
        return _kind(self).requires

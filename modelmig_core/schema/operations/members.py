"""``AddMember``/``DropMember``: the operations of a plugin's kind (a subclass pair
named in its ``Kind(add=..., drop=...)``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import MigrationFileError
from ...vocabulary.kinds import Kind
from ..state import State
from .base import Operation, has_named, replace_named


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

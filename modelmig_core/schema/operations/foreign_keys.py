"""Operations on the foreign keys of a table: add, drop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..state import ForeignKey
from .base import Operation, fk_needs, member_ops

_fk_add, _fk_drop = member_ops("foreign_key", "foreign_keys")


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

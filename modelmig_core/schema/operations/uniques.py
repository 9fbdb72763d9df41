"""Operations on the unique constraints of a table: add, drop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..state import Unique
from .base import Operation, member_ops

_uq_add, _uq_drop = member_ops("unique", "uniques")


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

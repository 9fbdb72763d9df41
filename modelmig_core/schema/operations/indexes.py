"""Operations on the indexes of a table: create, drop."""

from __future__ import annotations

from dataclasses import dataclass

from ..state import Index
from .base import Operation, member_ops

_idx_add, _idx_drop = member_ops("index", "indexes")


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

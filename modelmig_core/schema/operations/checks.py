"""Operations on the check constraints of a table: add, drop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..state import Check
from .base import Operation, member_ops

_ck_add, _ck_drop = member_ops("check", "checks")


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

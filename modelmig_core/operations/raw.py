"""The escape hatches: hand-written SQL and Python in a migration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import MigrationFileError
from ..state import State
from .base import Operation


@dataclass(frozen=True)
class RunSQL(Operation):
    """Raw SQL, written by hand into a migration. ``reverse_sql=None`` is irreversible."""

    sql: str | Sequence[str]
    reverse_sql: str | Sequence[str] | None = None
    destructive_sql: bool = False

    @property
    def statements(self) -> list[str]:
        return [self.sql] if isinstance(self.sql, str) else list(self.sql)

    def state_forwards(self, state: State) -> State:
        return state

    def inverse(self) -> Operation:
        if self.reverse_sql is None:
            raise MigrationFileError("RunSQL without reverse_sql cannot be rolled back")
        return RunSQL(self.reverse_sql, self.sql, self.destructive_sql)

    def describe(self) -> str:
        return "run sql"


@dataclass(frozen=True)
class RunPython(Operation):
    """Python code given the driver's DB-API (or pymongo database) connection."""

    forward: Callable[[Any], None]
    backward: Callable[[Any], None] | None = None
    family: ClassVar[str] = "any"

    def state_forwards(self, state: State) -> State:
        return state

    def inverse(self) -> Operation:
        if self.backward is None:
            raise MigrationFileError("RunPython without backward cannot be rolled back")
        return RunPython(self.backward, self.forward)

    def describe(self) -> str:
        return f"run python {getattr(self.forward, '__name__', 'code')}"

"""The escape hatches: hand-written SQL and Python in a migration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from ...errors import MigrationFileError
from ..state import State
from .base import Operation


@dataclass(frozen=True)
class RunSQL(Operation):
    """Raw SQL, written by hand into a migration. ``reverse_sql=None`` is irreversible.

    ``destructive_sql`` says whether the SQL drops data, which puts it under the
    production guard and the backup-and-verify, like DropTable:

    - ``None`` (the default): decided from the SQL, read with sqlglot
      (``sqltext.destructive_statements``): DROP, ALTER TABLE ... DROP, TRUNCATE,
      DELETE or UPDATE without WHERE, or text it cannot parse. Each direction is read
      on its own: ``sql`` when applied, ``reverse_sql`` when rolled back.
    - ``True`` / ``False``: the author's word, for both ``sql`` and ``reverse_sql``
      (``inverse()`` keeps it); ``False`` is the explicit opt-out.
    """

    sql: str | Sequence[str]
    reverse_sql: str | Sequence[str] | None = None
    destructive_sql: bool | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.destructive_sql is not None and not isinstance(self.destructive_sql, bool):
            raise MigrationFileError("RunSQL: destructive_sql must be True, False or None (decide from the SQL)")

    @property
    def statements(self) -> list[str]:
        return [self.sql] if isinstance(self.sql, str) else list(self.sql)

    @property
    def destructive(self) -> bool:  # type: ignore[override]  # a ClassVar elsewhere: computed from the SQL here
        return self.destructive_detail is not None

    @property
    def destructive_detail(self) -> str | None:
        """What drops data, for the guard's message ("RunSQL 'DROP TABLE items'"), or None."""
        if self.destructive_sql is False:
            return None
        if self.destructive_sql is True:
            first = next((s for s in self.statements if s.strip()), "")
            from ..sqltext import snippet

            return f"RunSQL {snippet(first)} (destructive_sql=True)"
        from ..sqltext import destructive_statements

        found = destructive_statements(self.sql)
        if not found:
            return None
        return f"RunSQL {found[0]}" + (f" (+{len(found) - 1} more)" if len(found) > 1 else "")

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
    """Python code given the driver's DB-API (or pymongo database) connection.

    What the code does cannot be read, so it counts as dropping data (the production
    guard and the backup-and-verify apply, like DropTable) unless its author says it
    does not: ``op.RunPython(fn, destructive=False)``, the opt-out ``RunSQL`` has in
    ``destructive_sql=False``. ``inverse()`` keeps the author's word."""

    forward: Callable[[Any], None]
    backward: Callable[[Any], None] | None = None
    destructive: bool = True  # type: ignore[misc]  # a ClassVar on Operation: the author's word here
    family: ClassVar[str] = "any"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.destructive, bool):
            raise MigrationFileError("RunPython: destructive must be True or False")
        if not callable(self.forward) or (self.backward is not None and not callable(self.backward)):
            raise MigrationFileError("RunPython: forward and backward must be functions")

    @property
    def destructive_detail(self) -> str | None:
        """What the guard names ("RunPython seed (...)"), or None."""
        if not self.destructive:
            return None
        name = getattr(self.forward, "__name__", "code")
        return f"RunPython {name} (may change data; destructive=False says it does not)"

    def state_forwards(self, state: State) -> State:
        return state

    def inverse(self) -> Operation:
        if self.backward is None:
            raise MigrationFileError("RunPython without backward cannot be rolled back")
        return RunPython(self.backward, self.forward, self.destructive)

    def describe(self) -> str:
        return f"run python {getattr(self.forward, '__name__', 'code')}"

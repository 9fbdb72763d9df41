"""The core's own plugin: SQL models -> state, the relational diff, and the
backup before anything is dropped in production."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .backup import backup_before_drop
from .compile import compile_sql_models
from .diff import DiffHints, diff_states
from .driver import Connection
from .hookspecs import hookimpl
from .model import Model
from .operations import Operation
from .state import State


@hookimpl(trylast=True)
def build_state(store: str, models: Sequence[type[Model]], column_types: frozenset[str]) -> State | None:
    if store != "sql":
        return None
    return compile_sql_models(list(models), column_types)


@hookimpl
def diff(old: State, new: State, hints: DiffHints) -> list[Operation]:
    if not old.tables and not new.tables:
        return []
    return diff_states(old, new, hints)


@hookimpl
def before_destructive(command: str, connection: Connection, target: Any, echo: Any) -> None:
    backup_before_drop(command, connection, target, echo)

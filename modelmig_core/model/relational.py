"""The core's own contributions to the hooks that make migrations: the relational
family and its diff, the built-in column types and kinds, registered with the plugin manager exactly as a plugin's are
(``Registry.hook``). What applies a migration (``builtin.py``) sits in the run
layer and is registered by the runner that applies one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..hookspecs import hookimpl
from ..schema.diff import DiffHints, diff_states
from ..schema.operations import Operation
from ..schema.state import State
from ..vocabulary.column_types import BUILTIN_TYPES, ColumnType
from ..vocabulary.kinds import Kind
from .family import Family, relational
from .kinds import BUILTIN_KINDS


@hookimpl
def families() -> Iterable[Family]:
    return [relational()]


@hookimpl
def column_types() -> Iterable[ColumnType]:
    """The core's own column types, registered as a plugin's are."""
    return BUILTIN_TYPES


@hookimpl
def kinds() -> Iterable[Kind]:
    """The core's own kinds of keys, constraints and indexes, registered as a plugin's are."""
    return BUILTIN_KINDS


@hookimpl
def diff(old: Any, new: Any, hints: DiffHints) -> list[Operation]:
    if not isinstance(old, State) or not isinstance(new, State):
        return []
    return diff_states(old, new, hints)

"""The public surface of modelmig for driver and plugin authors, and for apps that
migrate from Python. Everything else in ``modelmig_core`` is private and may
change between releases; what is here follows ``API_VERSION``.

Driver authors: subclass ``SqlDriver``/``SqlSession`` (a SQL database over
DB-API; rendering with a ``Renderer`` subclass through SQLAlchemy Core) or
``Driver``/``Session``/``LedgerStore`` (anything else), declare ``Features``,
and register the driver object or class in the ``modelmig.drivers`` entry-point
group. ``docs/writing-a-driver.md`` walks through it.

Plugin authors: ``hookimpl`` and the hooks in ``hookspecs`` (diff,
render_column, apply, record_state, column_types, families,
before_destructive).

Apps: ``open_project``, then ``run``/``rollback``/``reset``/``fresh``/``status``
on the project's connections, with results as values (see ``commands.py``).

Names that would import SQLAlchemy (``Renderer``) are loaded on first use, so
that importing this module stays cheap on the every-deploy path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .commands import (
    MigrationResult,
    Project,
    StatusResult,
    StatusRow,
    fresh,
    open_project,
    reset,
    rollback,
    run,
    status,
)
from .compile import column_specs, compile_column, table_name, where
from .diff import DiffHints, Recorder, inverse_operations
from .driver import (
    API_VERSION,
    LEDGER,
    Backup,
    Driver,
    DriverInfo,
    Features,
    LedgerRow,
    LedgerStore,
    Session,
    Statement,
    Step,
    redact,
)
from .errors import (
    ConfigError,
    GuardError,
    InterruptedMigration,
    LockError,
    MigrationFailed,
    MigrationFileError,
    ModelError,
    ModelmigError,
)
from .family import Family
from .guard import in_production
from .hookspecs import hookimpl
from .migrations import Migration
from .model import CheckSpec, ColumnSpec, ForeignKeySpec, IndexSpec, Model, RelationSpec
from .naming import enum_check_name, index_name
from .operations import Operation, RunPython, RunSQL
from .operations.base import has_named, replace_named
from .sql.driver import SqlDriver, SqlLedgerStore, SqlSession
from .sql.tools import find_tool, run_tool, tool_lines
from .sql.views import ViewColumns, views_using
from .state import Check, Column, ForeignKey, Index, State, Table, Unique, Value

if TYPE_CHECKING:
    from .sql.render import Renderer

__all__ = [
    "API_VERSION",
    "LEDGER",
    "Backup",
    "Check",
    "CheckSpec",
    "Column",
    "ColumnSpec",
    "ConfigError",
    "DiffHints",
    "Driver",
    "DriverInfo",
    "Family",
    "Features",
    "ForeignKey",
    "ForeignKeySpec",
    "GuardError",
    "Index",
    "IndexSpec",
    "InterruptedMigration",
    "LedgerRow",
    "LedgerStore",
    "LockError",
    "Migration",
    "MigrationFailed",
    "MigrationFileError",
    "MigrationResult",
    "Model",
    "ModelError",
    "ModelmigError",
    "Operation",
    "Project",
    "Recorder",
    "RelationSpec",
    "Renderer",
    "RunPython",
    "RunSQL",
    "Session",
    "SqlDriver",
    "SqlLedgerStore",
    "SqlSession",
    "State",
    "Statement",
    "StatusResult",
    "StatusRow",
    "Step",
    "Table",
    "Unique",
    "Value",
    "ViewColumns",
    "column_specs",
    "compile_column",
    "enum_check_name",
    "find_tool",
    "fresh",
    "has_named",
    "hookimpl",
    "in_production",
    "index_name",
    "inverse_operations",
    "open_project",
    "redact",
    "replace_named",
    "reset",
    "rollback",
    "run",
    "run_tool",
    "status",
    "table_name",
    "tool_lines",
    "views_using",
    "where",
]


def __getattr__(name: str) -> Any:
    if name == "Renderer":
        from .sql.render import Renderer

        return Renderer
    raise AttributeError(f"module 'modelmig_core.api' has no attribute {name!r}")

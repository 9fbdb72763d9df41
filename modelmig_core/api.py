"""The public surface of modelmig for driver and plugin authors, and for apps that
migrate from Python. Everything else in ``modelmig_core`` is private and may
change between releases; what is here follows ``API_VERSION``.

Driver authors: subclass ``SqlDriver``/``SqlSession`` (a SQL database over
DB-API; rendering with a ``Renderer`` subclass through SQLAlchemy Core) or
``Driver``/``Session``/``LedgerStore`` (anything else), declare ``Features``,
and register the driver object or class in the ``modelmig.drivers`` entry-point
group. ``docs/writing-a-driver.md`` walks through it; ``check_driver`` (and
``modelmig drivers:check URL``) runs the conformance kit, the scenarios every driver
must pass (``conformance_scenarios``, ``run_scenario`` for one per test).

SQL drivers also have ``modelmig_core.api_sql`` (public like this module): the
helpers that read SQL text (``function_called``, ``normalize_sql``,
``parse_default``, ``generic_type``, ``raw_type``, views' columns) and run a
database's command-line tools (``find_tool``, ``run_tool``, ...).

Plugin authors: ``hookimpl``, ``HookContext`` (where a hook runs: ``connection``,
``driver``, ``test`` and ``chain``, the name of the chain it runs) and the hooks in ``hookspecs`` (diff,
render_column, apply, record_state, column_types, kinds, families,
before_destructive, on_event). A new column type is a ``ColumnType`` returned from the
``column_types`` hook; ``type_of(name)`` is the registered type of a name. A new
kind of key, constraint or index is a ``Kind`` returned from the ``kinds`` hook,
its operations ``AddMember``/``DropMember`` subclasses; a table holds its values
under the kind's name (``Table.member(name)``). Another kind of schema object is
compared by a ``Comparator`` (``fn(old_table, new_table, DiffContext) -> list[Node]``,
each ``Node`` with the ``Obj`` it removes and creates) added with ``register_comparator``.

Apps: ``open_project``, then ``run``/``rollback``/``reset``/``fresh``/``status``
on the project's connections, with results as values, and the events they report
as they go (``on_event=``, ``subscribe``; see ``commands.py``).

Names that would import SQLAlchemy (``Renderer``) are loaded on first use, so
that importing this module stays cheap on the every-deploy path.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .commands import (
        Event,
        MigrationApplied,
        MigrationResult,
        Project,
        StatusResult,
        StatusRow,
        fresh,
        lint,
        open_project,
        reset,
        rollback,
        run,
        status,
        subscribe,
    )
    from .conformance import Outcome as ConformanceOutcome
    from .conformance import Scenario as ConformanceScenario
    from .conformance import check_driver, conformance_scenarios, run_scenario
    from .driver import (
        API_VERSION,
        LEDGER,
        LOCK_NOTICE_SECONDS,
        Backup,
        Cost,
        Driver,
        DriverInfo,
        Features,
        Finding,
        LedgerRow,
        LedgerStore,
        LockWait,
        PlanContext,
        Refusal,
        Session,
        Statement,
        Step,
        TableKey,
        ledger_int,
        redact,
        scrub,
        server_version,
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
    from .history.migrations import Migration
    from .hookspecs import HookContext, hookimpl
    from .model.compile import column_specs, compile_column, table_name, where
    from .model.dsl import CheckSpec, ColumnSpec, ForeignKeySpec, IndexSpec, Model, RelationSpec, View
    from .model.family import Family
    from .run.guard import in_production
    from .run.lint import LintFinding
    from .schema.diff import Comparator, DiffContext, DiffHints, Node, Obj, Recorder, register_comparator
    from .schema.differences import Comparison, Difference
    from .schema.operations import (
        AddCheck,
        AddColumn,
        AddForeignKey,
        AddUnique,
        AlterColumn,
        CreateIndex,
        CreateTable,
        CreateView,
        DropCheck,
        DropColumn,
        DropForeignKey,
        DropIndex,
        DropTable,
        DropUnique,
        DropView,
        Operation,
        RenameColumn,
        RenameTable,
        ReplaceView,
        RunPython,
        RunSQL,
        SetTableComment,
        SetTableOptions,
    )
    from .schema.operations.base import has_named, replace_named
    from .schema.operations.members import AddMember, DropMember
    from .schema.operations.partitions import AddPartition, ChangePartition, DropPartition
    from .schema.state import Check, Column, ForeignKey, Index, Partition, State, Table, Unique, Value
    from .schema.views import Unmanaged
    from .sql.driver import RENDERER_OPERATIONS, RENDERER_TYPE_NAMES, SqlDriver, SqlLedgerStore, SqlSession
    from .sql.reflect import Catalogue, Reflection
    from .sql.render import Outside, Renderer, renders_operation
    from .vocabulary.column_types import ColumnType, type_of
    from .vocabulary.kinds import Kind
    from .vocabulary.naming import enum_check_name, index_name

# each public name -> the private module that defines it; imported on first use,
# so that a driver importing a few names loads only what they need (the
# nothing-pending path stays free of SQLAlchemy and of the diff and make machinery)
_WHERE: dict[str, str] = {
    "check_driver": ".conformance",
    "conformance_scenarios": ".conformance",
    "run_scenario": ".conformance",
    "API_VERSION": ".driver",
    "Backup": ".driver",
    "Cost": ".driver",
    "Finding": ".driver",
    "LintFinding": ".run.lint",
    "lint": ".commands",
    "Check": ".schema.state",
    "CheckSpec": ".model.dsl",
    "Column": ".schema.state",
    "ColumnSpec": ".model.dsl",
    "ColumnType": ".vocabulary.column_types",
    "ConfigError": ".errors",
    "ConformanceOutcome": ".conformance",
    "ConformanceScenario": ".conformance",
    "Comparison": ".schema.differences",
    "DiffHints": ".schema.diff",
    "DiffContext": ".schema.diff",
    "Comparator": ".schema.diff",
    "Node": ".schema.diff",
    "Obj": ".schema.diff",
    "register_comparator": ".schema.diff",
    "Difference": ".schema.differences",
    "Driver": ".driver",
    "DriverInfo": ".driver",
    "Family": ".model.family",
    "Features": ".driver",
    "ForeignKey": ".schema.state",
    "ForeignKeySpec": ".model.dsl",
    "GuardError": ".errors",
    "Index": ".schema.state",
    "IndexSpec": ".model.dsl",
    "InterruptedMigration": ".errors",
    "LEDGER": ".driver",
    "LOCK_NOTICE_SECONDS": ".driver",
    "LockWait": ".driver",
    "ledger_int": ".driver",
    "LedgerRow": ".driver",
    "LedgerStore": ".driver",
    "LockError": ".errors",
    "Migration": ".history.migrations",
    "MigrationFailed": ".errors",
    "MigrationFileError": ".errors",
    "MigrationResult": ".commands",
    "Event": ".commands",
    "MigrationApplied": ".commands",
    "subscribe": ".commands",
    "Model": ".model.dsl",
    "View": ".model.dsl",
    "CreateView": ".schema.operations",
    "DropView": ".schema.operations",
    "ReplaceView": ".schema.operations",
    "ModelError": ".errors",
    "ModelmigError": ".errors",
    "AddCheck": ".schema.operations",
    "AddColumn": ".schema.operations",
    "AddForeignKey": ".schema.operations",
    "AddMember": ".schema.operations.members",
    "DropMember": ".schema.operations.members",
    "Kind": ".vocabulary.kinds",
    "AddUnique": ".schema.operations",
    "AlterColumn": ".schema.operations",
    "SetTableComment": ".schema.operations",
    "SetTableOptions": ".schema.operations",
    "AddPartition": ".schema.operations",
    "DropPartition": ".schema.operations",
    "ChangePartition": ".schema.operations",
    "Partition": ".schema.state",
    "CreateIndex": ".schema.operations",
    "CreateTable": ".schema.operations",
    "DropCheck": ".schema.operations",
    "DropColumn": ".schema.operations",
    "DropForeignKey": ".schema.operations",
    "DropIndex": ".schema.operations",
    "DropTable": ".schema.operations",
    "DropUnique": ".schema.operations",
    "RenameColumn": ".schema.operations",
    "RenameTable": ".schema.operations",
    "Operation": ".schema.operations",
    "Project": ".commands",
    "Recorder": ".schema.diff",
    "Refusal": ".driver",
    "RelationSpec": ".model.dsl",
    "Renderer": ".sql.render",
    "Outside": ".sql.render",
    "PlanContext": ".driver",
    "renders_operation": ".sql.render",
    "Reflection": ".sql.reflect",
    "Unmanaged": ".schema.views",
    "Catalogue": ".sql.reflect",
    "RunPython": ".schema.operations",
    "RunSQL": ".schema.operations",
    "Session": ".driver",
    "SqlDriver": ".sql.driver",
    "RENDERER_TYPE_NAMES": ".sql.driver",
    "RENDERER_OPERATIONS": ".sql.driver",
    "SqlLedgerStore": ".sql.driver",
    "SqlSession": ".sql.driver",
    "State": ".schema.state",
    "Statement": ".driver",
    "StatusResult": ".commands",
    "StatusRow": ".commands",
    "Step": ".driver",
    "Table": ".schema.state",
    "TableKey": ".driver",
    "Unique": ".schema.state",
    "Value": ".schema.state",
    "enum_check_name": ".vocabulary.naming",
    "column_specs": ".model.compile",
    "compile_column": ".model.compile",
    "fresh": ".commands",
    "has_named": ".schema.operations.base",
    "hookimpl": ".hookspecs",
    "HookContext": ".hookspecs",
    "in_production": ".run.guard",
    "index_name": ".vocabulary.naming",
    "open_project": ".commands",
    "redact": ".driver",
    "scrub": ".driver",
    "replace_named": ".schema.operations.base",
    "reset": ".commands",
    "rollback": ".commands",
    "run": ".commands",
    "server_version": ".driver",
    "status": ".commands",
    "table_name": ".model.compile",
    "type_of": ".vocabulary.column_types",
    "where": ".model.compile",
}

__all__ = [
    "API_VERSION",
    "LEDGER",
    "LOCK_NOTICE_SECONDS",
    "RENDERER_OPERATIONS",
    "RENDERER_TYPE_NAMES",
    "AddCheck",
    "AddColumn",
    "AddForeignKey",
    "AddMember",
    "AddPartition",
    "AddUnique",
    "AlterColumn",
    "Backup",
    "Catalogue",
    "ChangePartition",
    "Check",
    "CheckSpec",
    "Column",
    "ColumnSpec",
    "ColumnType",
    "Comparator",
    "Comparison",
    "ConfigError",
    "ConformanceOutcome",
    "ConformanceScenario",
    "Cost",
    "CreateIndex",
    "CreateTable",
    "CreateView",
    "DiffContext",
    "DiffHints",
    "Difference",
    "Driver",
    "DriverInfo",
    "DropCheck",
    "DropColumn",
    "DropForeignKey",
    "DropIndex",
    "DropMember",
    "DropPartition",
    "DropTable",
    "DropUnique",
    "DropView",
    "Event",
    "Family",
    "Features",
    "Finding",
    "ForeignKey",
    "ForeignKeySpec",
    "GuardError",
    "HookContext",
    "Index",
    "IndexSpec",
    "InterruptedMigration",
    "Kind",
    "LedgerRow",
    "LedgerStore",
    "LintFinding",
    "LockError",
    "LockWait",
    "Migration",
    "MigrationApplied",
    "MigrationFailed",
    "MigrationFileError",
    "MigrationResult",
    "Model",
    "ModelError",
    "ModelmigError",
    "Node",
    "Obj",
    "Operation",
    "Outside",
    "Partition",
    "PlanContext",
    "Project",
    "Recorder",
    "Reflection",
    "Refusal",
    "RelationSpec",
    "RenameColumn",
    "RenameTable",
    "Renderer",
    "ReplaceView",
    "RunPython",
    "RunSQL",
    "Session",
    "SetTableComment",
    "SetTableOptions",
    "SqlDriver",
    "SqlLedgerStore",
    "SqlSession",
    "State",
    "Statement",
    "StatusResult",
    "StatusRow",
    "Step",
    "Table",
    "TableKey",
    "Unique",
    "Unmanaged",
    "Value",
    "View",
    "check_driver",
    "column_specs",
    "compile_column",
    "conformance_scenarios",
    "enum_check_name",
    "fresh",
    "has_named",
    "hookimpl",
    "in_production",
    "index_name",
    "ledger_int",
    "lint",
    "open_project",
    "redact",
    "register_comparator",
    "renders_operation",
    "replace_named",
    "reset",
    "rollback",
    "run",
    "run_scenario",
    "scrub",
    "server_version",
    "status",
    "subscribe",
    "table_name",
    "type_of",
    "where",
]


#: public names whose object has another name in its module
_RENAMED = {"ConformanceOutcome": "Outcome", "ConformanceScenario": "Scenario"}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'modelmig_core.api' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __package__), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

"""The hook specifications every driver and plugin implements.

Drivers are found through the entry-point group ``modelmig.drivers`` and loaded
by name, only when a command needs them. Hooks that act on a connection are
``firstresult``: each driver answers only for its own connections (compare
``connection.driver`` with its name) and returns ``None`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from pathlib import Path

    from .diff import DiffHints
    from .driver import Backup, Connection, DriverInfo, LedgerRow
    from .migrations import Migration
    from .model import Model
    from .operations import Operation
    from .state import Column, State

hookspec = pluggy.HookspecMarker("modelmig")
hookimpl = pluggy.HookimplMarker("modelmig")


@hookspec
def driver_info() -> DriverInfo:  # type: ignore[empty-body]
    """Name, URL schemes, family (``sql``/``document``) and capabilities of a driver."""


@hookspec
def column_types() -> Iterable[str]:  # type: ignore[empty-body]
    """Extra logical column types this plugin renders (claimed in ``render_column``)."""


@hookspec(firstresult=True)
def build_state(store: str, models: Sequence[type[Model]], column_types: frozenset[str]) -> State | None:
    """Validate the models of one store and turn them into state (``sql`` is the core's).
    ``column_types`` are the extra types that plugins declared."""


@hookspec
def diff(old: State, new: State, hints: DiffHints) -> list[Operation]:  # type: ignore[empty-body]
    """Operations that turn ``old`` into ``new``. Each plugin handles its own part
    of the state (the core: tables; a document driver: collections)."""


@hookspec(firstresult=True)
def render_column(column: Column, dialect: str) -> Any:
    """A state Column -> a SQLAlchemy Column for ``dialect``; plugins can claim custom types."""


@hookspec(firstresult=True)
def connect(driver: str, url: str) -> Connection | None:
    """Open a connection for ``url`` if ``driver`` is this plugin's name."""


@hookspec(firstresult=True)
def close(connection: Connection) -> bool | None:
    """Close the connection."""


@hookspec(firstresult=True)
def read_ledger(connection: Connection) -> list[LedgerRow] | None:
    """The ledger rows, oldest first; an empty list when there is no ledger yet.
    One query, through the driver's own DB-API connection."""


@hookspec(firstresult=True)
def ensure_ledger(connection: Connection) -> bool | None:
    """Create the ledger table/collection if it does not exist."""


@hookspec(firstresult=True)
def acquire_lock(connection: Connection, timeout: float) -> bool | None:
    """Take the one-runner-per-database lock; raise LockError after ``timeout`` seconds."""


@hookspec(firstresult=True)
def release_lock(connection: Connection) -> bool | None:
    """Release the lock taken by ``acquire_lock`` (called even after a failure)."""


@hookspec(firstresult=True)
def transaction(
    connection: Connection, migration: Migration, direction: str, batch: int
) -> AbstractContextManager[bool] | None:
    """A context manager around one migration and its ledger write. It yields False
    when the migration turns out to be done already (another runner did it); it
    commits on success and rolls back on error where the database can. ``batch`` is
    the batch the migration is (or was) recorded in, for drivers that write the
    ledger row before the first statement."""


@hookspec(firstresult=True)
def apply(connection: Connection, operations: Sequence[Operation], state: State, migration: Migration) -> bool | None:
    """Execute ``operations`` on the live connection; ``state`` is the schema before them."""


@hookspec(firstresult=True)
def record_state(
    connection: Connection, migration: Migration, direction: str, batch: int, duration_ms: int
) -> bool | None:
    """Write the ledger: ``up`` records the migration as applied, ``down`` removes it."""


@hookspec(firstresult=True)
def resolve_ledger(connection: Connection, migration_id: str, applied: bool) -> bool | None:
    """Settle a migration left ``running`` by an interruption (``migrate:resolve``),
    after the user repaired the schema by hand: ``applied=True`` marks it applied,
    ``applied=False`` removes its ledger row (it counts as rolled back)."""


@hookspec(firstresult=True)
def render_operations(connection: Connection, operations: Sequence[Operation], state: State) -> list[str] | None:
    """What ``apply`` would send, as text (``--pretend``)."""


@hookspec(firstresult=True)
def wipe(connection: Connection) -> list[str] | None:
    """Drop every table/collection of the database (``migrate:fresh``); return their names."""


@hookspec
def before_destructive(command: str, connection: Connection, target: Any, echo: Any) -> None:
    """Called before anything is dropped (reset, fresh, a destructive migration),
    after the production guard let the command through. The core's own
    implementation takes and verifies a backup in production (``backup.py``); a
    plugin may do more, and raises a ModelmigError to refuse."""


@hookspec(firstresult=True)
def backup(connection: Connection, directory: Path, label: str) -> Backup | None:
    """Write a backup of the connection's whole database into ``directory`` (file
    names start with ``label``), read it back to verify it holds every table or
    collection with its row count, and return what was written. Raise a
    ModelmigError when it cannot be taken or verified."""

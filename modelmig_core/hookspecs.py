"""Plugin hooks: extension points that many plugins contribute to or wrap.

Drivers are not hooks: a driver is an object the core calls directly (see
``driver.py``). The hooks are the design card's four, with stable argument
names (``migration`` has ``.id``; ``direction`` is ``"up"`` or ``"down"``), and
the contribution hooks beside them. A plugin implements any subset of a hook's
arguments.

| hook            | kind                                                   |
|-----------------|--------------------------------------------------------|
| diff            | broadcast: each family contributes its operations      |
| render_column   | first result: claim a custom column type               |
| apply           | first result, wrappable: the core's impl applies       |
| record_state    | broadcast, after the ledger row is written             |
| column_types    | contribution: extra logical column types               |
| families        | contribution: state families besides the relational    |
| before_destructive | broadcast before anything is dropped                |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .diff import DiffHints
    from .driver import Session, Step
    from .family import Family
    from .ledger import MigrationRecord
    from .migrations import Migration
    from .operations import Operation
    from .state import Column

hookspec = pluggy.HookspecMarker("modelmig")
hookimpl = pluggy.HookimplMarker("modelmig")


@hookspec
def diff(old: Any, new: Any, hints: DiffHints) -> list[Operation]:  # type: ignore[empty-body]
    """Operations that turn state ``old`` into ``new``. Every family's diff is
    asked; each answers for its own kind of state (the core: tables; the mongo
    driver: collections) and returns [] for any other."""


@hookspec(firstresult=True)
def render_column(column: Column, dialect: str) -> Any:
    """A state Column -> a SQLAlchemy Column for ``dialect`` (a SQLAlchemy dialect
    name). Return None to leave a column to the next plugin and finally the driver."""


@hookspec(firstresult=True)
def apply(
    session: Session, migration: Migration, steps: Sequence[Step], direction: str, record: MigrationRecord
) -> Any:
    """Apply one migration's ``steps`` in ``direction`` on ``session``. The core's
    own implementation (tried last) performs the session's plan of the steps and
    counts each statement on ``record``. A plugin observes it with a plain
    implementation, wraps it (timing, audit) with ``wrapper=True``, or vetoes it by
    raising a ModelmigError."""


@hookspec
def record_state(session: Session, migration: Migration, direction: str, batch: int, duration_ms: int) -> None:
    """Called after the ledger row of ``migration`` is written and committed:
    ``up`` it is applied, ``down`` it was rolled back. For audit logs,
    notifications, metrics."""


@hookspec
def column_types() -> Iterable[str]:  # type: ignore[empty-body]
    """Extra logical column types this plugin renders (claimed in ``render_column``)."""


@hookspec
def families() -> Iterable[Family]:  # type: ignore[empty-body]
    """State families besides the core's relational one (``sql``): how their
    models become state, their empty state, and where their operations live."""


@hookspec
def before_destructive(command: str, session: Session, target: Any, echo: Any) -> None:
    """Called before anything is dropped (reset, fresh, a destructive migration),
    after the production guard let the command through. The core's own
    implementation takes and verifies a backup in production (``backup.py``) and
    returns its path (reported by ``--json``); a plugin may do more, and raises a
    ModelmigError to refuse. Called once per command and connection."""

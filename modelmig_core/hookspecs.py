"""Plugin hooks: extension points that many plugins contribute to or wrap.

Drivers are not hooks: a driver is an object the core calls directly (see
``driver.py``). The hooks are the design card's four, with stable argument
names (``migration`` has ``.id``; ``direction`` is ``"up"`` or ``"down"``;
``context`` is a ``HookContext``: the connection's name, its driver's name,
whether it is the test connection, and the name of the chain it runs), and the contribution hooks beside them. A
plugin implements any subset of a hook's arguments.

| hook            | kind                                                   |
|-----------------|--------------------------------------------------------|
| diff            | broadcast: each family contributes its operations      |
| render_column   | first result: the DDL type of a column                 |
| apply           | first result, wrappable: the core's impl applies       |
| record_state    | broadcast, after the ledger row is written             |
| column_types    | contribution: ColumnType objects (the core's too)      |
| kinds           | contribution: Kind objects (the core's too)            |
| families        | contribution: state families besides the relational    |
| before_destructive | broadcast before anything is dropped                |
| on_event        | broadcast: every event a command reports               |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from .driver import Session, Step
    from .history.migrations import Migration
    from .model.family import Family
    from .run.ledger import MigrationRecord
    from .run.report import Event
    from .schema.diff import DiffHints
    from .schema.operations import Operation
    from .schema.state import Column
    from .vocabulary.column_types import ColumnType
    from .vocabulary.kinds import Kind

hookspec = pluggy.HookspecMarker("modelmig")
hookimpl = pluggy.HookimplMarker("modelmig")


@dataclass(frozen=True)
class HookContext:
    """Where a hook runs: given as ``context`` to ``apply``, ``record_state`` and
    ``before_destructive``, so an audit or policy plugin can say which database it
    acted on. ``connection`` is the connection's name in the config (``main``),
    ``driver`` its driver's name (``pg``), ``test`` True on the connection's test
    database (``--test``), ``chain`` the name of the chain of migrations it runs: a
    declared ``[chains.<name>]``'s name (``analytics``), or the default chain's,
    which is its family's (``sql``)."""

    connection: str
    driver: str
    test: bool = False
    chain: str = ""


@hookspec
def diff(old: Any, new: Any, hints: DiffHints) -> list[Operation]:  # type: ignore[empty-body]
    """Operations that turn state ``old`` into ``new``. Every family's diff is
    asked; each answers for its own kind of state (the core: tables; the mongo
    driver: collections) and returns [] for any other."""


@hookspec(firstresult=True)
def render_column(column: Column, dialect: str) -> Any:
    """The DDL type of a state Column for ``dialect`` (a SQLAlchemy dialect name):
    a SQLAlchemy type. Return None to leave a column to the next plugin, then the
    driver's type table, then the type's own ``ddl``. The core builds the column
    around it (nullability, default, comment) on every path; a SQLAlchemy Column
    answered (the older form) gives only its type."""


@hookspec(firstresult=True)
def apply(
    session: Session,
    migration: Migration,
    steps: Sequence[Step],
    direction: str,
    record: MigrationRecord,
    context: HookContext,
) -> Any:
    """Apply one migration's ``steps`` in ``direction`` on ``session``. The core's
    own implementation (tried last) performs the session's plan of the steps and
    counts each statement on ``record``. A plugin observes it with a plain
    implementation, wraps it (timing, audit) with ``wrapper=True``, or vetoes it by
    raising a ModelmigError. ``context`` says which connection it runs on."""


@hookspec
def record_state(
    session: Session, migration: Migration, direction: str, batch: int, duration_ms: int, context: HookContext
) -> None:
    """Called after the ledger row of ``migration`` is written and committed:
    ``up`` it is applied, ``down`` it was rolled back. For audit logs,
    notifications, metrics; ``context`` says which connection it ran on."""


@hookspec
def column_types() -> Iterable[ColumnType | str]:  # type: ignore[empty-body]
    """The column types this plugin adds, as ``ColumnType`` objects (the core's
    own types are registered through this hook too, ``builtin.py``). A type
    carries its validation, zero value, key size, comparison and narrowing, and
    its DDL per dialect (``ddl``) and reflection back (``reflects``) where the
    drivers' own tables have no entry for it. A bare name is the older form: a type
    without arguments that a ``render_column`` hook renders."""


@hookspec
def kinds() -> Iterable[Kind]:  # type: ignore[empty-body]
    """The kinds of keys, constraints and indexes this plugin adds, as ``Kind``
    objects (the core's own index, unique, foreign key and check are registered
    through this hook too, ``relational.py``). A kind carries its state value class,
    its add and drop operations (``AddMember``/``DropMember`` subclasses), its
    model syntax (a key of a model's ``database`` block), its rendering and
    reflection per dialect, and how make:models writes it back. A table holds its
    values under the kind's name (``Table.member(name)``)."""


@hookspec
def families() -> Iterable[Family]:  # type: ignore[empty-body]
    """State families besides the core's relational one (``sql``): how their
    models become state, their empty state, and where their operations live."""


@hookspec
def before_destructive(command: str, session: Session, target: Any, echo: Any, context: HookContext) -> None:
    """Called before anything is dropped (reset, fresh, a destructive migration),
    after the production guard let the command through. The core's own
    implementation takes and verifies a backup in production (``backup.py``) and
    returns its path (reported by ``--json``); a plugin may do more, and raises a
    ModelmigError to refuse. Called once per command and connection; ``context``
    says which."""


@hookspec
def on_event(event: Event) -> None:
    """Every event a command reports (``report.py``: ``ConnectionStarted``,
    ``MigrationStarted``, ``MigrationApplied``, ``MigrationFailure``, ``Warned``,
    ``LockWaiting``, ``Progress``, ``ConnectionFinished``), given to each installed
    plugin exactly as to a callable added with ``commands.subscribe``: as it
    happens, after the command's own ``on_event``, in the thread that reported it
    (under ``--jobs`` several at once). ``event.connection`` names the connection.
    An exception raised here is the command's, as a subscriber's is."""

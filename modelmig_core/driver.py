"""The driver contract: what the core calls on a driver, and the values they share.

A driver is an object (one per installed driver), found by name through its
entry point in the ``modelmig.drivers`` group and called directly by the core:

- ``Driver``: ``info``, ``features``, ``connect(url) -> Session``, and for the
  checks and tools ``reflect``, ``backup`` and ``wipe``.
- ``Session``: one live connection: ``lock``/``unlock``, its ``ledger`` (a
  ``LedgerStore``), ``transaction()``, ``plan(steps)`` (what a migration sends,
  read and rendered in one explicit step), ``perform(statement)``.
- ``Features``: typed flags with defaults; a driver states only what differs.

The ledger protocol (running -> progress -> applied, interrupted, resolve) is
written once, in ``ledger.py``, over any ``LedgerStore``; backup verification is
written once, in ``backup.py``, over the counts a driver read back from its
backup. Nothing here imports a database library or SQLAlchemy.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from .errors import ModelmigError
from .redaction import redact, scrub  # noqa: F401 - part of the driver API (api.py)

if TYPE_CHECKING:
    from .schema.operations import Operation

#: The version of the driver API (``modelmig_core.api``). A driver declares the
#: version it was written for in ``Driver.api_version``; the core refuses, in one
#: line naming the driver, a driver written for another version. Version 1 is the
#: API of modelmig 0.2.x: a driver distribution depends on ``modelmig>=0.2,<0.3``.
API_VERSION = 1

#: After this many seconds of waiting for another runner's lock, ``Session.lock``
#: calls its ``on_wait`` callback (once) with a description of the holder.
LOCK_NOTICE_SECONDS = 1.0

#: ``on_wait(holder)``: told who holds the lock, as a sentence
#: ("PostgreSQL backend 4711 (user app, ...) holds the migration lock").
LockWait = Callable[[str], None]

LEDGER = "modelmig_migrations"


@dataclass(frozen=True)
class Features:
    """What a driver's database can do: typed flags with defaults. A driver
    derives its own from its base's with ``base.features.but(flag=value)``, so it
    states only what differs and never drops a flag by accident."""

    # Each flag says what the driver can *run*, natively or by emulation (SQLite
    # rebuilds a table to alter a column: it declares alter_column=True). A driver
    # says what it lacks by declaring a flag False; make:migration lists, at once,
    # everything a configured connection's driver lacks for the models and for the
    # planned steps (and writes nothing), and the conformance kit skips the
    # scenarios a driver declares it cannot run.
    sql: bool = False  # a relational database: --all-connections selects it, the SQL chain applies to it
    #
    # What the models may use at all (refused naming the model and the field):
    foreign_keys: bool = True  # FOREIGN KEY constraints (database["foreign_keys"])
    unique_constraints: bool = True  # UNIQUE constraints or unique indexes (unique=True, database["unique"])
    increments: bool = True  # auto-increment primary keys (column("increments"), "bigIncrements")
    check_constraints: bool = True  # CHECK constraints (database["checks"])
    fk_actions: bool = True  # ON DELETE / ON UPDATE of a foreign key
    native_enum: bool = False  # enum types of the database's own (else: a string and a CHECK of its values)
    arrays: bool = False  # array columns (column(..., array=True): PostgreSQL's integer[])
    # a time or timestamp column's fractional seconds precision (column("timestamp", 3))
    fractional_seconds: bool = False
    # a string column refuses a value longer than its length (SQLite and DuckDB store it whole: False)
    enforces_length: bool = True
    #
    # What a step may change on an existing table (Operation.requires names these;
    # alter_column_type is read from the planned AlterColumn steps):
    alter_column: bool = True  # type/null/default changes of an existing column
    alter_column_type: bool = True  # a new type (or length, precision, scale, enum values) of an existing column
    rename_column: bool = True
    rename_table: bool = True
    add_constraint_to_existing_table: bool = True  # ADD/DROP FOREIGN KEY / CHECK on an existing table
    add_unique_to_existing_table: bool = True  # add/drop a unique key of an existing table (a constraint or index)
    alter_referenced_table: bool = True  # rename, alter or drop columns of a table that FKs point at; rename it
    # alter or rename a column that its table's FKs use, or change the type of one an index or a check uses
    alter_constrained_column: bool = True
    # ADD COLUMN ... NOT NULL DEFAULT x on a table with indexes or a primary key
    add_not_null_column_to_indexed_table: bool = True
    #
    # How it runs and what it keeps:
    transactional_ddl: bool = False  # a migration and its ledger row commit together or not at all
    constraint_names: bool = True  # the database keeps the names of foreign keys and checks
    advisory_lock: bool = False  # one runner at a time through a server-side lock
    progress_ledger: bool = False  # the ledger counts statements done (no transactional DDL)
    backup: bool = True  # Driver.backup works (the production guard refuses destructive commands without it)
    max_identifier_length: int | None = None
    materialized_views: bool = False  # CREATE MATERIALIZED VIEW (a View model with materialized = True)

    def but(self, **changes: Any) -> Features:
        """A copy with ``changes``; an unknown flag name is an error, not a new flag."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise TypeError(f"unknown feature flag(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        return replace(self, **changes)

    def as_dict(self) -> dict[str, bool | int | None]:
        return asdict(self)

    def lacking(self, required: Iterable[str]) -> list[str]:
        """The flags of ``required`` that this driver does not have (false or unset)."""
        return [flag for flag in required if not getattr(self, flag, False)]


@dataclass(frozen=True)
class DriverInfo:
    """Who a driver is: its name (the entry point's), URL schemes, family and a
    one-line description."""

    name: str
    schemes: tuple[str, ...]
    family: str  # "sql", or a family a plugin contributes ("document")
    description: str = ""


def ledger_int(value: Any, field: str, migration_id: Any, where: str) -> int:
    """An integer ledger value, or one error line naming the row, the field and
    the value (a hand-edited or corrupt ledger)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ModelmigError(
            f"the ledger {where} has a corrupt row for {migration_id!r}: {field} is {value!r}, not a number; "
            "fix or delete that row"
        ) from None


class TransactionEnded(ModelmigError):
    """A migration's transaction was ended (committed or rolled back) before the
    migration finished, by one of its own statements or by the server: what ran
    before that may or may not have taken effect, and nothing may claim otherwise."""


@dataclass
class LedgerRow:
    id: str
    batch: int
    checksum: str
    applied_at: str
    duration_ms: int = 0
    status: str = "applied"  # "applied", or "running" while applied / after an interruption
    progress: int = 0  # statements done, for migrations outside a transaction


class LedgerStore:
    """Where a database keeps its ledger: rows keyed by migration id. A driver
    implements these five methods; the protocol on top is ``ledger.py``'s."""

    def ensure(self) -> None:
        """Create the ledger table/collection if it does not exist."""
        raise NotImplementedError

    def rows(self) -> list[LedgerRow]:
        """Every row, oldest first (batch, id); an empty list when there is no ledger.
        One query: this is the every-deploy path."""
        raise NotImplementedError

    def insert(self, row: LedgerRow) -> None:
        raise NotImplementedError

    def update(self, migration_id: str, **values: Any) -> None:
        """Set ``values`` (LedgerRow field names) on the row of ``migration_id``."""
        raise NotImplementedError

    def delete(self, migration_id: str, status: str | None = None) -> None:
        """Delete the row of ``migration_id`` (only while it has ``status``, if given)."""
        raise NotImplementedError

    def find(self, migration_id: str) -> LedgerRow | None:
        """The row of ``migration_id``, if any (drivers may answer with one query)."""
        return next((r for r in self.rows() if r.id == migration_id), None)


@dataclass(frozen=True)
class Step:
    """One operation of a migration with the states just before and after it.
    Renderers turn a Step into statements from these alone."""

    op: Operation
    before: Any  # the family's state value
    after: Any


@dataclass(frozen=True)
class Statement:
    """One thing a migration sends: ``text`` is what ``--pretend`` prints and what
    ``Session.perform`` executes (SQL, or a command document). ``action`` is set for
    what is not text, such as RunPython: ``perform`` calls it with the session."""

    text: str
    action: Callable[[Any], None] | None = None
    label: str = ""  # a short name for errors ("create activity"); default: the text's first line
    #: the step it was rendered from (None: a check the core adds, such as a narrowing's);
    #: what ``migrate:lint`` hands the driver's ``cost`` with the statement
    step: Step | None = field(default=None, compare=False, repr=False)
    #: online plans: runs outside any transaction (PostgreSQL's CONCURRENTLY); the
    #: runner records it on the ledger once it completed
    outside: bool = False
    #: what to send before running it again after an interruption left it half done
    #: (an INVALID index of an interrupted concurrent build is dropped first)
    repair: tuple[str, ...] = ()
    #: a session setting the plan starts with (``SET lock_timeout``): sent again when
    #: an interrupted online migration is resumed
    setup: bool = False


@dataclass(frozen=True)
class PlanContext:
    """What a connection asks of its plans besides the steps: ``online`` renders
    the driver's lock-safe forms (the connection's ``online``, or the migration's,
    which wins); ``lock_timeout`` and ``statement_timeout`` bound each statement
    (``"2s"``, ``"500ms"``, ``"5min"``) and ``lock_retries`` how often a statement
    whose lock was not granted is tried again, with a doubling pause from
    ``retry_pause`` seconds."""

    online: bool = False
    lock_timeout: str = "2s"
    statement_timeout: str = "30min"
    lock_retries: int = 5
    retry_pause: float = 0.5
    #: the server the connection declares (``"mariadb-10.11"``): which online forms it has
    server: str | None = None
    #: the sqlglot dialect the models' SQL text is written in (``sql_dialect``; ``""``: standard SQL)
    sql_dialect: str = ""

    @staticmethod
    def seconds(duration: str) -> float:
        """``"2s"`` -> 2.0, ``"500ms"`` -> 0.5, ``"5min"`` -> 300.0, ``"1h"`` -> 3600.0."""
        for unit, factor in (("ms", 0.001), ("min", 60.0), ("s", 1.0), ("h", 3600.0)):
            if duration.endswith(unit) and duration[: -len(unit)].isdigit():
                return int(duration[: -len(unit)]) * factor
        raise ValueError(f"not a duration: {duration!r}")


@dataclass(frozen=True)
class Cost:
    """What one statement costs a table that holds rows, in the database's own
    words: ``lock`` is the lock it takes and holds while it works
    (``"ACCESS EXCLUSIVE"``, ``"SHARE"``; MySQL: ``"ALGORITHM=COPY, LOCK=SHARED"``),
    ``rewrites`` whether it writes the table anew, ``scans`` whether it reads every
    row (to build an index, to validate a constraint)."""

    lock: str
    rewrites: bool = False
    scans: bool = False

    def describe(self) -> str:
        """``takes ACCESS EXCLUSIVE, scans the table``."""
        parts = [f"takes {self.lock}"]
        if self.rewrites:
            parts.append("rewrites the table")
        elif self.scans:
            parts.append("scans the table")
        return ", ".join(parts)


@dataclass(frozen=True)
class Finding:
    """One risk a driver's cost table sees in one statement, on a busy database:
    ``rule`` is its name (squawk's names where one maps:
    ``require-concurrent-index-creation``, ``constraint-missing-not-valid``...),
    ``cost`` what the statement takes, ``why`` in a few words what it does to the
    application's traffic, ``safe_form`` what to write instead."""

    rule: str
    cost: Cost
    why: str
    safe_form: str


#: a table or collection in a backup's counts: ``(schema, name)`` (the schema is
#: the database for MySQL and MongoDB, ``"main"`` for SQLite); a plain ``name``
#: stands for ``("", name)``
TableKey = tuple[str, str] | str


@dataclass(frozen=True)
class Backup:
    """A backup a driver wrote: where it is (under the scratch folder it was
    given; ``backup.py`` renames it into place once verified), the rows it holds
    per table or collection, counted by reading the backup back, and ``live``:
    the rows per table counted in the same snapshot the dump read (None: the
    driver cannot, and ``backup.py`` counts the live database after the dump)."""

    path: Path
    rows: dict[TableKey, int]
    live: dict[TableKey, int] | None = None


class Session:
    """One live connection of a driver. Used as a context manager by the core."""

    driver: Driver
    url: str
    #: the driver's own connection object (DB-API connection, pymongo Database):
    #: what RunPython code receives
    raw: Any = None
    #: set by the core before a migration: what the connections of one command
    #: share (``modelmig_core.shared.Shared``), or None
    shared: Any = None
    #: set by the core before a migration is planned: what its plan must honour
    #: (``PlanContext``: online forms, timeouts)
    context: PlanContext = PlanContext()

    # ---- the runner lock: one runner at a time per database
    def lock(self, timeout: float, on_wait: LockWait | None = None) -> None:
        """Take the runner lock; raise LockError (naming the holder) after ``timeout`` s.
        While it waits, after ``LOCK_NOTICE_SECONDS`` (and only if ``timeout`` is
        longer), call ``on_wait`` once with who holds the lock, so the operator sees
        why nothing happens. A database whose lock is taken later (SQLite's write
        lock at ``BEGIN IMMEDIATE``) keeps ``on_wait`` and calls it from there."""

    def unlock(self) -> None:
        """Release the lock taken by ``lock`` (called even after a failure)."""

    # ---- the ledger
    @property
    def ledger(self) -> LedgerStore:
        raise NotImplementedError

    # ---- transactions: only called where ``features.transactional_ddl``
    def transaction(self) -> AbstractContextManager[None]:
        """BEGIN ... COMMIT on this session's own connection, ROLLBACK on error.
        A session that can tell (``transaction_open``) raises ``TransactionEnded``
        when the transaction was ended before its end, instead of claiming a
        rollback it cannot have done."""
        return _no_transaction()

    def without_transaction(self) -> AbstractContextManager[None]:
        """Around a migration that runs statement by statement, outside a transaction
        (``atomic = False``, or a database without transactional DDL): what the
        database needs for the whole of it (SQLite: foreign keys off, so that a table
        rebuild never cascades into child rows). Default: nothing."""
        return _no_transaction()

    def carry_facts(self, steps: Sequence[Step]) -> AbstractContextManager[None]:
        """``--pretend`` over several migrations (``steps``: all of theirs, in order):
        the live facts are read once, before the first, and carried from each
        migration's rendering to the next one's, as ``run`` would find them after
        performing it. Default: nothing to carry."""
        return _no_transaction()

    def transaction_open(self) -> bool | None:
        """Whether a transaction is open on this session's connection now, as its
        client library knows it; None when that cannot be told. The core asks after
        each statement of a transactional migration: a migration whose own statements
        commit or roll back is stopped and marked interrupted, never half-recorded."""
        return None

    # ---- a migration's statements
    def plan(self, steps: Sequence[Step]) -> list[Statement]:
        """The statements of ``steps``, in order. The live facts a dialect needs
        (objects the models do not declare) are read here, once, before rendering;
        rendering itself is pure. ``--pretend`` prints exactly this list and
        ``migrate:run`` performs exactly this list."""
        raise NotImplementedError

    def statements(self, steps: Sequence[Step]) -> Iterator[Statement]:
        """``plan(steps)`` one statement at a time, rendered as they are taken: inside
        a transaction the core performs each as it comes, so a session that sends
        statements in the background keeps the server busy while the next ones are
        rendered. The same statements as ``plan``, in the same order."""
        return iter(self.plan(steps))

    def perform(self, statement: Statement) -> None:
        """Execute one statement on this session's connection (inside a transaction a
        session may defer it and send several together: see ``flush``)."""
        raise NotImplementedError

    def online_forms(self) -> bool:
        """Whether this session's plans have lock-safe forms for ``context.online``
        (an online plan then runs step by step: see ``run/ledger.py``). Default: no."""
        return False

    def completed(self, statement: Statement) -> str | None:
        """Whether the effect of ``statement`` is already in place, read from the
        live database (``"column owners.email exists"``), or None when it is not or
        cannot be told. Asked of the first statement a resumed online migration
        sends: on a database without transactional DDL a statement can complete
        after its runner died, before its progress was written; such a statement
        is recorded and not sent again. Default: None (sent again)."""
        return None

    def lock_not_granted(self, exc: BaseException) -> bool:
        """Whether ``exc`` says a lock was not granted within the plan's lock
        timeout (PostgreSQL's SQLSTATE 55P03): the statement is tried again after
        a pause. Default: never."""
        return False

    def refused(self, exc: BaseException) -> bool:
        """Whether ``exc``, raised by ``perform``, is the server's refusal of the
        statement (an error reply: a duplicate key, a syntax error, a missing
        table), so that it did not run; False when it may or may not have (a lost
        connection, a timeout, a kill) or the driver cannot tell."""
        return False

    def flush(self) -> None:
        """Send what ``perform`` deferred, if anything (the core calls it after a
        migration's last statement, before the ledger row)."""

    def row_counts(self) -> dict[str, int]:
        """{table or collection: rows} of the whole database, live (backup checks)."""
        raise NotImplementedError

    def server(self) -> str | None:
        """The server this session talks to, as ``<product>-<major>.<minor>``
        (``"mariadb-10.11"``, ``"postgresql-15.4"``), or None if unknown. The runner
        warns when it disagrees with the ``server`` a connection declares."""
        return None

    def count_rows(self, table: str) -> int | None:
        """The rows of one table or collection now (what a drop would lose); None
        when it cannot be counted. Drivers answer with one query; the default
        counts the whole database."""
        try:
            return self.row_counts().get(table)
        except NotImplementedError:
            return None

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Driver:
    """The base of every driver. Subclasses set ``info`` and ``features`` and
    implement ``connect``; ``backup``, ``wipe`` and ``reflect`` serve the tools
    (fresh, backup-and-verify, drift) and may raise ``NotImplementedError``."""

    info: ClassVar[DriverInfo]
    features: ClassVar[Features] = Features()
    #: required: the driver API version this driver was written for (``API_VERSION``);
    #: a driver class that declares none is refused when it is loaded
    api_version: ClassVar[int]
    #: an object with hook implementations this driver contributes (a family, a
    #: diff...), registered with the plugin manager when the driver is loaded
    hooks: ClassVar[Any] = None

    @property
    def name(self) -> str:
        return self.info.name

    def connect(self, url: str) -> Session:
        raise NotImplementedError

    def ledger_session(self, url: str) -> Session | None:
        """A session only for reading the ledger (``ledger.rows()``), through a client
        lighter to load than ``connect``'s that keeps its guarantees for that read
        (the same URL semantics, the same errors): what ``migrate:run`` and
        ``migrate:status`` with nothing pending use. None (the default): ``connect``'s."""
        return None

    def exists(self, url: str) -> bool | None:
        """Whether the database of ``url`` exists, when that can be told without
        creating it (an embedded database file); None when it cannot be told
        (servers: connecting says so). Read-only commands (``migrate:status``,
        rollback, reset) ask first, so that they never create a database."""
        return None

    def scratch(self, url: str) -> Session | None:
        """A session on a new, empty database standing in for ``url``'s, which does
        not exist (``exists`` said so): ``--pretend`` plans on it instead of creating
        the real one. None (the default) when the driver has none to offer."""
        return None

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        """Write a backup of the whole database into ``directory`` (a scratch folder
        of the core's; names start with ``label``) and return the rows per table it
        read back from the backup, and those counted in the snapshot it dumped."""
        raise NotImplementedError(f"driver {self.name} cannot take backups")

    def wipe(self, session: Session) -> list[str]:
        """Drop every table/collection but the lock's (``migrate:fresh``); their names."""
        raise NotImplementedError(f"driver {self.name} cannot wipe a database")

    def reflect(self, session: Session) -> Any:
        """The live schema as the family's state value."""
        raise NotImplementedError(f"driver {self.name} cannot reflect a database")

    #: How the database scopes the names of indexes and constraints, per kind name
    #: (``"indexes"``, ``"uniques"``, ``"foreign_keys"``, ``"checks"``, a plugin's):
    #: ``"table"``, the name need only be unique on its table (MySQL's indexes), or
    #: the name of a schema-wide namespace that the kinds mapped to it share
    #: (PostgreSQL's indexes and unique constraints are both relations). A kind not
    #: listed is in the ``"schema"`` namespace. Two members of one table never share
    #: a name (the core refuses that for every database); ``name_clashes`` finds the
    #: rest, and the SQL drivers refuse them at make time.
    name_scopes: ClassVar[Mapping[str, str]] = {}

    def refusals(self, state: Any, server: str | None, steps: Sequence[Step] = ()) -> list[Refusal]:
        """What the database would refuse, known at make time: in ``state`` (the
        models' state) or in ``steps`` (the planned steps that lead there, each with
        the states just before and after it; empty when nothing is planned).
        ``server`` is what the connection declares (``"mysql-8.4"``,
        ``"mongodb-6.0"``), None for the oldest server the driver supports.
        make:migration lists every refusal of every configured connection at once
        (naming the connection) and writes nothing. A driver extends its base's
        (``super().refusals(state, server, steps) + ...``). What ``features`` says
        the driver lacks is refused by the core: no need to repeat it here. An
        override written for the older ``refusals(state, server)`` is still called
        (without the steps): see ``refusals_of``."""
        return []

    def value_problem(self, value: Any) -> str | None:
        """Why the database cannot hold ``value`` (a backfill, a default...) as
        written, or None. Default: it can."""
        return None

    def renders(self, type_name: str) -> bool:
        """Whether this driver can make a column of the state type ``type_name``
        (its own type table, or the registered type's ``ddl``). Default: any."""
        return True

    def type_refusal(self, table: str, column: Any) -> Refusal | None:
        """The refusal of a column whose type this driver has no entry for (naming
        the type and the driver), or None. make:migration asks ``renders`` for every
        column (and a ``render_column`` hook after it) and lists each refusal."""
        if self.renders(column.type):
            return None
        return Refusal(
            table,
            column.name,
            f"column type {column.type!r} has no rendering for {self.name}: install or configure the plugin "
            f"that renders it for {self.name}, or use another type",
        )

    def cost(self, step: Step | None, statement: str, server: str | None) -> list[Finding]:
        """The risks of sending ``statement`` (rendered from ``step``; None for a
        check the core adds) to a busy database of the ``server`` a connection
        declares (None: the driver's oldest supported server): the driver's cost
        table, read for this one statement. Raw SQL (``RunSQL``) comes here too,
        one statement at a time, for the driver to read (with sqlglot). Default:
        the driver knows of no risk."""
        return []

    def lint_plan(
        self, plan: Sequence[tuple[Step | None, str]], server: str | None, atomic: bool
    ) -> list[list[Finding]]:
        """The findings of each statement of one migration's plan (``(step, text)``,
        in order; ``atomic``: it runs in one transaction), one list per statement.
        Default: ``cost`` of each statement on its own; a driver overrides it where
        what came before matters (a ``SET lock_timeout`` earlier in the migration)."""
        return [self.cost(step, text, server) for step, text in plan]

    def plan_offline(
        self, steps: Sequence[Step], hook: Any = None, context: PlanContext | None = None
    ) -> list[Statement] | None:
        """The statements of ``steps`` rendered from the states alone, without a
        connection (``make:migration`` lints what it wrote); None when the driver
        cannot render without one (the default)."""
        return None

    def comparable(self, state: Any) -> Any:
        """``state`` as this driver's database can hold it, spelled one way (what the
        database cannot say, such as SQLite's enum values, is dropped). Drift compares
        the comparable forms of the live and the expected state. Default: as it is."""
        return state


@dataclass(frozen=True)
class Refusal:
    """One thing a database would refuse: the table or collection, the field (or
    None) and why, in words a model author can act on."""

    table: str
    field: str | None
    reason: str


def name_clashes(state: Any, scopes: Mapping[str, str]) -> list[Refusal]:
    """Indexes and constraints of different tables that share a name in one of the
    database's schema-wide namespaces (``Driver.name_scopes``), one refusal each."""
    seen: dict[tuple[str, str], str] = {}
    out = []
    owners = []
    for table in state.tables.values():
        owners.append((table.name, table.members))
        # a partition's own indexes and foreign keys: a table of its own name holds them
        for p in getattr(table, "partitions", ()):
            owners.append((p.name, (("indexes", p.indexes), ("foreign_keys", p.foreign_keys))))
    for owner, members in owners:
        for kind, values in members:
            namespace = scopes.get(kind, "schema")
            if namespace == "table":
                continue
            for member in values:
                other = seen.setdefault((namespace, member.name), owner)
                if other != owner:
                    out.append(
                        Refusal(
                            owner,
                            None,
                            f"{member.name!r} names an index or constraint of table {other!r} too; "
                            "the database keeps these names per schema: rename one",
                        )
                    )
    return out


def refusals_of(driver: Driver, state: Any, server: str | None, steps: Sequence[Step] = ()) -> list[Refusal]:
    """``driver.refusals`` with the planned ``steps`` where its signature takes them
    (a ``steps`` parameter or ``**kwargs``), without them for an override written
    for the older ``refusals(state, server)``."""
    try:
        params = inspect.signature(driver.refusals).parameters.values()
    except (TypeError, ValueError):  # a callable without a signature: call it the old way
        params = ()  # type: ignore[assignment]
    if any(p.name == "steps" or p.kind is inspect.Parameter.VAR_KEYWORD for p in params):
        return list(driver.refusals(state, server, steps=steps))
    return list(driver.refusals(state, server))


def server_version(server: str | None, product: str, default: tuple[int, int]) -> tuple[int, int]:
    """``"mongodb-6.0"`` -> (6, 0) for ``product`` "mongodb"; ``default`` when
    undeclared or declared for another product."""
    if not server or not server.startswith(product + "-"):
        return default
    parts = server.split("-", 1)[1].split(".")
    try:
        return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return default


@contextmanager
def _no_transaction() -> Iterator[None]:
    yield

"""The ledger protocol, written once over any driver's ``LedgerStore``.

In a transaction (the database has transactional DDL and the migration is
``atomic``): the ledger row is written in the same transaction as the
migration's statements, so both commit or neither does.

Outside one (MySQL/MariaDB, MongoDB, ``atomic = False``): the row says
``running`` before the first statement, and ``progress`` is set to k *before*
statement k is sent. A runner killed while the database works on statement k
(which the server may still finish) thus leaves an honest record: statement k
was sent and may or may not have completed, the ones before it did. The row is
marked ``applied`` (up) or deleted (down) at the end. An interruption after a
statement was sent leaves it ``running``: every later run and rollback reports
it by name until ``migrate:resolve`` settles it. A failure before any statement
completed (the first one failed) puts the ledger back as it was.

Online plans (``PlanContext.online`` on a driver with online forms) run as
several steps: each statement in a transaction of its own together with the
row's ``progress`` (the statements completed), or, for one that cannot run in a
transaction (``CREATE INDEX CONCURRENTLY``, and every statement on a database
without transactional DDL: MySQL/MariaDB), alone, its progress recorded once it
completed. The row says ``online`` (``online-down`` for a rollback) until the
last step: an interrupted online migration is told apart from one interrupted
outside a transaction, and the next run (or rollback) resumes it after its last
recorded step, repairing the one that was cut short (an INVALID index is dropped
and built again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ..driver import LedgerRow, LedgerStore, Session, TransactionEnded
from ..errors import ModelmigError

if TYPE_CHECKING:
    from ..history.migrations import Migration


#: the statuses a ledger row may have: ``applied``; ``running`` while a migration
#: runs outside a transaction (and after it was interrupted); ``wiping`` while
#: ``migrate:fresh`` drops every table (the ledger goes last)
STATUSES = ("applied", "running", "wiping", "online", "online-down")
#: the statuses of an online migration cut short, by the direction it ran in
ONLINE = {"up": "online", "down": "online-down"}


def check_rows(rows: list[LedgerRow], where: str) -> list[LedgerRow]:
    """``rows``, or one error line naming the first row whose status is none of
    ``STATUSES`` (a hand-edited or foreign ledger): such a row never counts as applied."""
    for r in rows:
        if r.status not in STATUSES:
            raise ModelmigError(
                f"the ledger {where} has a row for {r.id!r} with an unknown status {r.status!r} "
                f"(known: {', '.join(STATUSES)}); fix or delete that row"
            )
    return rows


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class MigrationRecord:
    """The ledger's view of one migration being applied or rolled back."""

    def __init__(
        self,
        store: LedgerStore,
        migration: Migration,
        direction: str,
        batch: int,
        tracked: bool,
        session: Session | None = None,
    ) -> None:
        self.store = store
        self.session = session  # in a transaction: asked whether it is still open before the row is written
        self.migration = migration
        self.direction = direction
        self.batch = batch
        self.tracked = tracked  # outside a transaction: progress is recorded
        self.sent = 0  # statements sent (the last may not have completed)
        self.done = 0  # statements that completed
        self.online = False  # an online plan: statement by statement, each step recorded
        self.resumed = False  # online: an interrupted run is resumed
        self.resume_from = 0  # online: the statements an interrupted run completed
        #: online: a step runs in a transaction of its own with its progress (transactional DDL)
        self.step_transactions = True
        #: online: a line for each lock not granted (a retry) and each repair
        self.notify: Callable[[str], None] | None = None

    @property
    def progress(self) -> int:
        """Statements completed (for hooks written against the first API)."""
        return self.done

    def statement_started(self, number: int) -> None:
        """Before statement ``number`` (1-based) is sent: outside a transaction, the
        ledger records it first."""
        self.sent = number
        if self.tracked:
            self.store.update(self.migration.id, progress=number)

    def statement_done(self) -> None:
        """After each statement completed."""
        self.done += 1

    def step_done(self, number: int) -> None:
        """Online: statement ``number`` completed (written in its transaction, or
        right after a statement that runs outside one)."""
        self.store.update(self.migration.id, progress=number)

    def tell(self, line: str) -> None:
        if self.notify is not None:
            self.notify(line)

    def finish(self, duration_ms: int) -> None:
        m = self.migration
        if not self.tracked and self.session is not None and self.session.transaction_open() is False:
            raise TransactionEnded(
                "its transaction was ended before the migration finished (a COMMIT, ROLLBACK or the like among its "
                "statements): what ran before that may or may not have taken effect"
            )
        if self.direction == "down":
            self.store.delete(m.id)
        elif self.tracked:  # the row was written as 'running' before the first statement
            self.store.update(m.id, status="applied", batch=self.batch, applied_at=now(), duration_ms=duration_ms)
        else:
            self.store.insert(LedgerRow(m.id, self.batch, m.checksum, now(), duration_ms, "applied", 0))


def _pending(row: LedgerRow | None, direction: str) -> bool:
    """Whether the migration still has to run in ``direction`` given its row."""
    return row is None if direction == "up" else row is not None


@contextmanager
def recording(
    session: Session, migration: Migration, direction: str, batch: int, transactional: bool, online: bool = False
) -> Iterator[MigrationRecord | None]:
    """Around one migration: yields None when it turns out to be done already
    (another runner did it), else the record to count statements on; the caller
    calls ``finish`` after the last statement."""
    store = session.ledger
    if online:
        if transactional:
            with _online(store, migration, direction, batch) as record:
                yield record
            return
        with session.without_transaction(), _online(store, migration, direction, batch) as record:
            if record is not None:
                record.step_transactions = False  # DDL commits by itself: each step recorded once it completed
            yield record
        return
    if transactional and migration.atomic:
        record: MigrationRecord | None = None
        try:
            with session.transaction():
                if not _pending(store.find(migration.id), direction):
                    yield None
                    return
                record = MigrationRecord(store, migration, direction, batch, tracked=False, session=session)
                yield record
        except TransactionEnded as exc:
            sent = record.sent if record is not None else 0
            raise TransactionEnded(_ended(store, migration, direction, batch, sent, str(exc))) from None
        return

    mid = migration.id
    if not _pending(store.find(mid), direction):
        yield None
        return
    if direction == "up":
        store.insert(LedgerRow(mid, batch, migration.checksum, now(), 0, "running", 0))
    else:
        store.update(mid, status="running", progress=0)
    record = MigrationRecord(store, migration, direction, batch, tracked=True)
    try:
        with session.without_transaction():
            yield record
    except BaseException:
        if record.done == 0:  # nothing completed: the ledger goes back to what it was
            try:
                if direction == "up":
                    store.delete(mid, status="running")
                else:
                    store.update(mid, status="applied", progress=0)
            except Exception:  # noqa: BLE001 - the connection is gone: the row stays 'running', honestly
                pass
        raise


@contextmanager
def _online(store: LedgerStore, migration: Migration, direction: str, batch: int) -> Iterator[MigrationRecord | None]:
    """An online plan's ledger row: ``online`` (or ``online-down``) with the
    statements completed, resumed from there when an earlier run was cut short."""
    mid, status = migration.id, ONLINE[direction]
    row = store.find(mid)
    resumed = row is not None and row.status == status
    if not resumed and not _pending(row, direction):
        yield None
        return
    record = MigrationRecord(store, migration, direction, batch, tracked=True)
    record.online = True
    if resumed:
        assert row is not None
        record.resumed, record.resume_from = True, row.progress
    elif direction == "up":
        store.insert(LedgerRow(mid, batch, migration.checksum, now(), 0, status, 0))
    else:
        store.update(mid, status=status, progress=0)
    try:
        yield record
    except BaseException:
        if record.done == 0 and not resumed:  # nothing completed: the ledger goes back to what it was
            try:
                if direction == "up":
                    store.delete(mid, status=status)
                else:
                    store.update(mid, status="applied", progress=0)
            except Exception:  # noqa: BLE001 - the connection is gone: the row stays, to be resumed
                pass
        raise


def _ended(store: LedgerStore, migration: Migration, direction: str, batch: int, sent: int, why: str) -> str:
    """The transaction of ``migration`` was ended by something other than the core:
    its row says ``running`` (interrupted) so that every later command stops at it
    until ``migrate:resolve``; the message says so, and never that nothing changed."""
    mid = migration.id
    try:
        if direction == "up":
            if store.find(mid) is None:
                store.insert(LedgerRow(mid, batch, migration.checksum, now(), 0, "running", sent))
        else:
            store.update(mid, status="running", progress=sent)
        marked = f"{mid} is marked as interrupted"
    except Exception as exc:  # noqa: BLE001 - the connection is gone: say what the ledger does not record
        detail = " ".join(str(exc).split()) or type(exc).__name__
        marked = f"the ledger could not mark {mid} as interrupted ({detail}), so migrate:status does not show it"
    return (
        f"{migration.path.name}: {why}; {marked}: check the schema by hand and repair it, then run "
        f"`modelmig migrate:resolve {mid} --applied` or `--rolled-back` (a migration that runs in a transaction "
        "must not commit or roll back: remove that statement, or set atomic = False)"
    )


def mark_wiping(store: LedgerStore) -> int:
    """``migrate:fresh``, before it drops anything: every row says ``wiping``, so that
    an interrupted wipe is reported as such (never as applied migrations whose
    tables are gone); the ledger itself is dropped last."""
    rows = store.rows()
    for r in rows:
        if r.status != "wiping":
            store.update(r.id, status="wiping")
    return len(rows)


def resolve(store: LedgerStore, migration_id: str, applied: bool) -> None:
    """``migrate:resolve``: an interrupted migration counts as applied, or its row
    goes (it counts as rolled back)."""
    row = store.find(migration_id)
    if row is None or row.status not in ("running", *ONLINE.values()):
        return
    if applied:
        store.update(migration_id, status="applied")
    else:
        store.delete(migration_id, status=row.status)

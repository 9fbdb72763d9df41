"""The core's own plugin for applying migrations: applying one through its
session, and the backup before anything is dropped in production. The runner
registers it (``Runner.hook``); the relational family and its diff, which
``make:migration`` needs without a runner, are ``relational.py``."""

from __future__ import annotations

import os
import signal
from collections.abc import Generator, Iterator, Sequence
from typing import Any

from ..driver import Session, Statement, Step
from ..errors import MigrationFailed, ModelmigError
from ..history.migrations import Migration
from ..hookspecs import hookimpl
from .backup import backup_before_drop
from .ledger import MigrationRecord


def _perform(
    session: Session,
    migration: Migration,
    record: MigrationRecord,
    statements: Sequence[Statement] | Iterator[Statement],
) -> int:
    """Perform each statement; how many there were."""
    noun = getattr(session, "statement_noun", "statement")
    total = len(statements) if isinstance(statements, Sequence) else 0
    number = 0
    for number, statement in enumerate(statements, 1):
        record.statement_started(number)
        try:
            session.perform(statement)
        except Exception as exc:
            if isinstance(exc, ModelmigError) and not isinstance(exc, MigrationFailed):
                raise
            if not record.tracked:
                outcome = "rolled back: nothing was changed"
            elif record.done and session.refused(exc):
                outcome = (
                    f"{noun} {number} of {total} was refused by the server, "
                    f"the {record.done} before it completed; {migration.id} stays marked as interrupted"
                )
            elif record.done:
                outcome = (
                    f"{noun} {number} of {total} was sent and may or may not have completed, "
                    f"the {record.done} before it completed; {migration.id} stays marked as interrupted"
                )
            else:
                outcome = "nothing was changed"
            detail = " ".join(str(exc).split()) or type(exc).__name__
            label = statement.label or statement.text.splitlines()[0][:120]
            raise MigrationFailed(f"{migration.path.name}: {label}: {detail} ({outcome})") from exc
        record.statement_done()
    return number


#: for tests only: ``MIGRATION_ID:N`` kills the runner (SIGKILL) right after statement N
#: of that migration's online plan completed, before its progress is written, as a
#: runner killed at the worst moment would be; a full migration id is needed to reach it
DIE_BEFORE_RECORDING = "MODELMIG_TESTING_DIE_BEFORE_RECORDING"


def _die_before_recording(migration: Migration, number: int) -> None:
    if os.environ.get(DIE_BEFORE_RECORDING) == f"{migration.id}:{number}":
        os.kill(os.getpid(), signal.SIGKILL)


def _perform_online(session: Session, migration: Migration, record: MigrationRecord, plan: list[Statement]) -> bool:
    """An online plan, step by step: the session settings first (again when
    resumed), then each statement in a transaction of its own with the ledger's
    progress, or alone when it cannot run in one (its progress written once it
    completed; every statement so on a database without transactional DDL). A
    statement an interrupted run did not finish is repaired first
    (``Statement.repair``: an INVALID index dropped). A lock not granted within
    the lock timeout (``Session.lock_not_granted``) is tried again,
    ``lock_retries`` times with a doubling pause, each retry reported."""
    import time

    context = session.context
    total = len(plan)
    noun = getattr(session, "statement_noun", "statement")
    sending = False  # the first statement a resumed run sends is repaired first
    for number, statement in enumerate(plan, 1):
        if statement.setup:
            session.perform(statement)
            continue
        if number <= record.resume_from:
            continue
        label = statement.label or statement.text.splitlines()[0][:120]
        first, sending = not sending, True
        if record.resumed and first and (effect := session.completed(statement)):
            record.tell(
                f"{migration.id}: {noun} {number} of {total} had completed before the run was cut short "
                f"({effect}): recorded, not sent again ({label})"
            )
            record.step_done(number)
            record.statement_done()
            continue
        if record.resumed and first and statement.repair:
            for text in statement.repair:
                record.tell(f"{migration.id}: {noun} {number} was cut short: repairing it first: {text}")
                session.perform(Statement(text, outside=True))
        attempt = 0
        while True:
            record.sent = number
            try:
                if statement.outside or not record.step_transactions:
                    session.perform(statement)
                    _die_before_recording(migration, number)
                    record.step_done(number)
                else:
                    with session.transaction():
                        session.perform(statement)
                        record.step_done(number)
                break
            except Exception as exc:
                if isinstance(exc, ModelmigError) and not isinstance(exc, MigrationFailed):
                    raise
                detail = " ".join(str(exc).split()) or type(exc).__name__
                if session.lock_not_granted(exc) and attempt < context.lock_retries:
                    attempt += 1
                    pause = context.retry_pause * 2 ** (attempt - 1)
                    record.tell(
                        f"{migration.id}: {noun} {number} of {total} did not get its lock within "
                        f"lock_timeout {context.lock_timeout}: retry {attempt} of {context.lock_retries} "
                        f"in {pause:g} s ({label})"
                    )
                    for text in statement.repair:  # a concurrent build cut short leaves an INVALID index
                        session.perform(Statement(text, outside=True))
                    time.sleep(pause)
                    continue
                for text in statement.repair:  # what a failed concurrent build left is not kept
                    try:
                        session.perform(Statement(text, outside=True))
                    except Exception:  # noqa: BLE001 - the connection is gone: the next run repairs it
                        break
                done = number - 1
                outcome = (
                    f"{noun} {number} of {total} failed, the {done} before it completed and are recorded; "
                    f"{migration.id} stays marked as an interrupted online migration: the next run resumes it "
                    f"from {noun} {number} (or settle it with migrate:resolve)"
                    if record.done or record.resumed
                    else "nothing was changed"
                )
                raise MigrationFailed(f"{migration.path.name}: {label}: {detail} ({outcome})") from exc
        record.statement_done()
    return True


@hookimpl(trylast=True)
def apply(
    session: Session, migration: Migration, steps: Sequence[Step], direction: str, record: MigrationRecord
) -> Any:
    """Perform the session's plan of the steps, one statement at a time: each is
    recorded as started on the ledger before it is sent (outside a transaction),
    and counted when it completed. Inside a transaction the statements are taken
    as they are rendered (``Session.statements``): a session that sends them in the
    background overlaps the server's work with the rendering of the rest."""
    if record.online:
        return _perform_online(session, migration, record, session.plan(steps))
    statements: Sequence[Statement] | Iterator[Statement]
    statements = session.plan(steps) if record.tracked else session.statements(steps)
    try:
        number = _perform(session, migration, record, statements)
    finally:
        if isinstance(statements, Generator):
            statements.close()  # a rendering shared with other connections is let go at once
    try:
        session.flush()  # statements a session sends together (in a transaction)
    except Exception as exc:
        if isinstance(exc, ModelmigError) and not isinstance(exc, MigrationFailed):
            raise
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise MigrationFailed(
            f"{migration.path.name}: one of its {number} statements, sent together in its transaction: {detail} "
            "(rolled back: nothing was changed)"
        ) from exc
    return True


@hookimpl
def before_destructive(command: str, session: Session, target: Any, echo: Any) -> Any:
    """The verified backup's path (None when no backup was wanted)."""
    return backup_before_drop(command, session, target, echo)

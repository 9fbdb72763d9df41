"""The core's own plugin for applying migrations: applying one through its
session, and the backup before anything is dropped in production. The runner
registers it (``Runner.hook``); the relational family and its diff, which
``make:migration`` needs without a runner, are ``relational.py``."""

from __future__ import annotations

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


@hookimpl(trylast=True)
def apply(
    session: Session, migration: Migration, steps: Sequence[Step], direction: str, record: MigrationRecord
) -> Any:
    """Perform the session's plan of the steps, one statement at a time: each is
    recorded as started on the ledger before it is sent (outside a transaction),
    and counted when it completed. Inside a transaction the statements are taken
    as they are rendered (``Session.statements``): a session that sends them in the
    background overlaps the server's work with the rendering of the rest."""
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

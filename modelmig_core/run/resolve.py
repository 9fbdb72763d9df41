"""``migrate:resolve``: settle a migration that was interrupted on a database
without transactional DDL (MySQL/MariaDB, or an ``atomic = False`` migration),
or an online migration cut short (status ``online``/``online-down``) that is not
to be resumed.

Such a migration leaves its ledger row with status ``running``; every later
``migrate:run``/``migrate:rollback`` refuses to go on until the user has
repaired the schema by hand and said which way it went:

- ``--applied``: the migration's changes are all in place; it counts as applied.
- ``--rolled-back``: none of them are; the ledger row is removed.
"""

from __future__ import annotations

from ..errors import ModelmigError
from .ledger import resolve as resolve_row
from .runner import Runner, sent_note


class ResolveError(ModelmigError):
    """migrate:resolve was asked for something the ledger does not support."""


def resolve(runner: Runner, migration_id: str, applied: bool) -> str:
    """Mark ``migration_id`` (a full id or an unambiguous prefix) applied or rolled
    back on the runner's connection, under the migration lock; returns a summary."""
    target = runner.target
    mid = migration_id.removesuffix(".py")
    if runner.database_missing():
        raise ResolveError(f"{target.tag}: the database does not exist; nothing to resolve")
    rows = runner.ledger()
    matches = [r for r in rows if r.id == mid] or [r for r in rows if r.id.startswith(mid)]
    if not matches:
        raise ResolveError(f"{target.tag}: migration {mid} is not in the ledger; nothing to resolve")
    if len(matches) > 1:
        raise ResolveError(f"{target.name}: {mid!r} matches {len(matches)} migrations; give the full id")
    row = matches[0]
    if row.status == "wiping":
        raise ResolveError(
            f"{target.tag}: migrate:fresh was interrupted while it dropped every table; there is no migration to "
            f"resolve: run `modelmig migrate:fresh` --connection {target.name} again to finish it"
        )
    if row.status not in ("running", "online", "online-down"):
        raise ResolveError(f"{target.name}: migration {row.id} is {row.status}, not interrupted: nothing to resolve")
    runner.registry.refuse_broken_vetoes("migrate:resolve")
    session = runner.connection
    session.lock(runner.config.lock_timeout, on_wait=runner.lock_notice)
    try:
        resolve_row(session.ledger, row.id, applied)
    finally:
        session.unlock()
    outcome = "applied" if applied else "rolled back"
    noun = getattr(session, "statement_noun", "statement")
    if row.status != "running":  # an online migration records the statements that completed
        when = f"online, {row.progress} {noun}(s) of its plan had completed"
    else:
        when = sent_note(row.progress, noun)
    runner.echo(f"{target.tag}: marked {row.id} as {outcome} (when it stopped, {when})")
    return f"{row.id} {outcome}"

"""``migrate:baseline``: adopt an existing database.

Every migration of the chain up to ``--to`` (default: all) is marked as applied
without running it, once the live schema is what those migrations add up to
(the drift comparison, ``drift.py``). Otherwise nothing is written and the
drift is listed. The objects outside what the models hold (views, triggers,
functions...) do not block it: each is named, with why and what to do (create it
with RunSQL in a migration, or leave it unmanaged). Only the ledger changes: its rows are written through the
session's ``LedgerStore`` as one batch, in one transaction where the database
has transactional DDL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..driver import LedgerRow
from ..errors import InterruptedMigration, MigrationFileError, ModelmigError
from ..run.ledger import now
from ..schema.views import unmanaged_summary
from .drift import compare_live, live_objects, managed_views
from .modelgen import shown

if TYPE_CHECKING:
    from ..run.runner import Runner
    from ..schema.differences import Difference


class BaselineRefused(ModelmigError):
    """The live schema is not what the migrations add up to."""

    exit_code = 1


def unsaid_notes(runner: Runner) -> list[str]:
    """What the driver's reflection saw of the live schema that the models cannot
    say (``Reflection.unsaid``: "table.column: note" lines); none for a driver
    without one."""
    reflection = getattr(runner.driver, "reflection", None)
    if reflection is None:
        return []
    r = reflection(runner.connection)
    r.state()
    return [line for _table, line in getattr(r, "unsaid", ())]


def notes_on(d: Difference, notes: list[str]) -> list[str]:
    """The notes on the object ``d`` names (a note's line starts with its name)."""
    return [line[len(d.name) + 1 :].strip() for line in notes if line.startswith(f"{d.name}:")]


def what_to_do(d: Difference) -> str:
    """What to do about a difference the models cannot hold."""
    change = f"change the {d.kind} in the database to what the models can say (by hand, or with RunSQL)"
    return (
        "the models cannot hold what the database has here, so the migrations cannot match it: create that object "
        f"with RunSQL in a migration (then make the change there too), or {change}, then make:migration again"
    )


def baseline(runner: Runner, to: str | None = None) -> int:
    """Mark the migrations through ``to`` as applied; returns how many were marked."""
    name = runner.target.name
    history = runner.history()
    if not history.migrations:
        raise MigrationFileError(
            f"{name}: there is no migration to baseline: run make:migration first (make:models writes the models)"
        )
    if to is None:
        last = len(history.migrations) - 1
    else:
        ids = [m.id for m in history.migrations]
        if to not in ids:
            raise MigrationFileError(
                f"{name}: --to {to}: no such migration in the {history.chain or history.family} chain"
            )
        last = ids.index(to)
    chosen = history.migrations[: last + 1]
    expected = history.states[last + 1]
    runner.registry.refuse_broken_vetoes("migrate:baseline")
    session = runner.connection
    session.lock(runner.config.lock_timeout)
    try:
        rows = runner.ledger()
        for r in rows:
            if r.status in ("running", "online", "online-down"):  # an online migration cut short, too
                raise InterruptedMigration(
                    f"{name}: migration {r.id} is running or was interrupted; settle it with migrate:resolve first"
                )
        applied = {r.id for r in rows}
        later = [m.id for m in history.migrations[last + 1 :] if m.id in applied]
        if later:
            raise MigrationFileError(
                f"{name}: {later[0]} is applied already, after {chosen[-1].id}: a baseline only marks "
                "migrations at the start of the chain"
            )
        todo = [m for m in chosen if m.id not in applied]
        if not todo:
            runner.echo(f"{name}: nothing to baseline: every migration through {chosen[-1].id} is applied")
            return 0
        family = runner.registry.family(runner.family)
        comparison = compare_live(runner, expected, family)
        objects = managed_views(live_objects(runner), expected)  # a view model's view is not listed
        if objects:
            runner.echo(
                shown(
                    f"{name}: {unmanaged_summary(objects)}; the models cannot hold them, so baseline leaves them "
                    "as they are (they are not drift). To manage one, create it with RunSQL in a migration; "
                    "otherwise leave it unmanaged (migrate:status --drift lists it):"
                )
            )
            for o in objects:
                runner.echo(shown(f"  unmanaged {o.line}"))
        if comparison.differences:
            runner.echo(f"{name}: the live schema differs from what the migrations through {chosen[-1].id} add up to:")
            notes = unsaid_notes(runner)
            for d in comparison.differences:  # names from the database: one printable line each
                runner.echo(shown(f"  {d.line}"))
                for note in notes_on(d, notes):
                    runner.echo(shown(f"    why: {note}"))
                    runner.echo(shown(f"    what to do: {what_to_do(d)}"))
            raise BaselineRefused(
                f"{name}: baseline refused: {len(comparison.differences)} difference(s) between the live schema "
                f"and the migrations through {chosen[-1].id}; nothing was marked"
            )
        batch = max((r.batch for r in rows), default=0) + 1
        store = session.ledger
        store.ensure()

        def mark() -> None:
            for m in todo:
                store.insert(LedgerRow(m.id, batch, m.checksum, now(), 0, "applied", 0))

        if runner.driver.features.transactional_ddl:
            with session.transaction():
                mark()
        else:
            mark()
    finally:
        session.unlock()
    for m in todo:
        runner.echo(f"{name}: marked {m.id} as applied (batch {batch}, not run)")
    for table in comparison.unmanaged:
        runner.echo(shown(f"{name}: unmanaged {comparison.unmanaged_kind} {table} (no model or migration knows it)"))
    return len(todo)

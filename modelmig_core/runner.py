"""Running migrations on one connection: run, rollback, reset, fresh, status.

The runner calls the connection's driver and session directly: ``connect``,
``lock``/``unlock``, the ledger (through ``ledger.py``), and for each migration
the ``apply`` hook (whose core implementation performs the session's plan) and
then ``record_state``. ``--pretend`` prints the same plan instead.

``migrate:run`` and ``migrate:status`` with nothing pending read only the ledger
(one query through the driver's DB-API connection) and the migration files' names
and checksums: no migration module is imported and no SQLAlchemy is loaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .config import Config
from .driver import LedgerRow, Session
from .errors import InterruptedMigration, LockError, MigrationFileError
from .guard import check_production
from .history import History, replay
from .ledger import recording
from .migrations import Migration, MigrationFile, list_files
from .registry import Registry
from .targets import Target

Echo = Callable[[str], None]


@dataclass
class StatusRow:
    id: str
    status: str  # applied, pending, modified, missing, running, interrupted
    batch: int | None = None
    applied_at: str | None = None
    duration_ms: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "batch": self.batch,
            "applied_at": self.applied_at,
            "duration_ms": self.duration_ms,
        }


def _interrupted_message(target: Target, row: LedgerRow) -> str:
    return (
        f"{target.name}: migration {row.id} was interrupted (started {row.applied_at}, "
        f"{row.progress} statement(s) done) outside a transaction, so what it changed stays; "
        f"repair the schema by hand, then run `modelmig migrate:resolve {row.id} --applied` "
        f"or `--rolled-back` --connection {target.name}"
    )


class Runner:
    """One connection's migration work. Use as a context manager."""

    def __init__(self, config: Config, registry: Registry, target: Target, echo: Echo) -> None:
        self.config = config
        self.registry = registry
        self.target = target
        self.driver = target.driver
        self.family = target.driver.info.family
        self.echo = echo
        self.session: Session | None = None
        self._history: History | None = None

    def __enter__(self) -> Runner:
        self.session = self.driver.connect(self.target.url)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.session is not None:
            try:
                self.session.unlock()
            finally:
                self.session.close()
                self.session = None

    @property
    def hook(self) -> Any:
        return self.registry.hook

    # ------------------------------------------------------------ reading

    @property
    def connection(self) -> Session:
        assert self.session is not None, "use Runner as a context manager"
        return self.session

    def files(self) -> list[MigrationFile]:
        return list_files(self.config.migrations, self.family)

    def ledger(self) -> list[LedgerRow]:
        return self.connection.ledger.rows()

    def history(self) -> History:
        """The chain, loaded and replayed once per runner."""
        if self._history is None:
            family = self.registry.family(self.family)
            self._history = replay(self.config.migrations, self.family, family.empty)
        return self._history

    def _another_runner_active(self) -> bool:
        """Whether another runner holds the lock right now (tried without waiting)."""
        try:
            self.connection.lock(0)
        except LockError:
            return True
        self.connection.unlock()
        return False

    def status(self) -> list[StatusRow]:
        files = {f.id: f for f in self.files()}
        rows = {r.id: r for r in self.ledger()}
        # a 'running' row is a migration at work while its runner holds the lock,
        # and an interrupted one once nobody does
        started = any(r.status == "running" for r in rows.values())
        running = "running" if started and self._another_runner_active() else "interrupted"
        out = []
        for mid in sorted(set(files) | set(rows)):
            f, r = files.get(mid), rows.get(mid)
            if r is None:
                out.append(StatusRow(mid, "pending"))
                continue
            if r.status == "running":
                status = running
            elif f is None:
                status = "missing"
            elif f.checksum != r.checksum:
                status = "modified"
            else:
                status = "applied"
            out.append(StatusRow(mid, status, r.batch, r.applied_at, r.duration_ms))
        return out

    def _check_interrupted(self, rows: list[LedgerRow]) -> None:
        for r in rows:
            if r.status == "running":
                raise InterruptedMigration(_interrupted_message(self.target, r))

    def _warn_drift(self, rows: list[LedgerRow], files: list[MigrationFile]) -> None:
        by_id = {f.id: f for f in files}
        for r in rows:
            f = by_id.get(r.id)
            if f is None:
                self.echo(f"warning: {self.target.name}: applied migration {r.id} has no file")
            elif f.checksum != r.checksum:
                self.echo(f"warning: {self.target.name}: {f.path.name} was modified after it was applied")

    # ------------------------------------------------------------ applying

    def _execute(self, migration: Migration, direction: str, batch: int) -> bool:
        session = self.connection
        session.hook = self.hook  # render_column for custom column types
        steps = self.history().steps(migration, direction)
        transactional = self.driver.features.transactional_ddl
        with recording(session, migration, direction, batch, transactional) as record:
            if record is None:
                return False
            started = time.perf_counter()
            self.hook.apply(session=session, migration=migration, steps=steps, direction=direction, record=record)
            duration = int((time.perf_counter() - started) * 1000)
            record.finish(duration)
        self.hook.record_state(
            session=session, migration=migration, direction=direction, batch=batch, duration_ms=duration
        )
        return True

    def _locked(self, work: Callable[[], int]) -> int:
        """``work`` under the one-runner lock, with the ledger in place. The lock comes
        first: concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL."""
        session = self.connection
        session.lock(self.config.lock_timeout)
        try:
            session.ledger.ensure()
            return work()
        finally:
            session.unlock()

    def _check_server(self) -> None:
        """Warn when the server is not the one the connection declares (the make-time
        rules followed the declaration)."""
        declared = self.target.server
        if not declared:
            return
        actual = self.connection.server()
        if actual is None:
            return
        product, _, version = declared.partition("-")
        a_product, _, a_version = actual.partition("-")
        if product != a_product or a_version.split(".")[: len(version.split("."))] != version.split("."):
            self.echo(
                f"warning: {self.target.name}: the connection declares server = {declared!r}, "
                f"but the server is {actual}; make:migration checked the models against {declared}"
            )

    def _prepare(
        self, migrations: list[Migration], direction: str, command: str, *, pretend: bool, force: bool, yes: bool
    ) -> bool:
        """Check the production guard before anything changes; print instead with
        --pretend. True when the migrations should be executed."""
        self._check_server()
        destructive = [label for m in migrations if (label := m.destructive_label(direction))]
        if pretend:
            for m in migrations:
                self._pretend(m, direction)
            return False
        if destructive:
            check_production(f"{command} ({', '.join(destructive)})", force=force, yes=yes)
            self.hook.before_destructive(command=command, session=self.connection, target=self.target, echo=self.echo)
        return True

    def pending(self) -> tuple[list[MigrationFile], list[LedgerRow]]:
        rows = self.ledger()
        done = {r.id for r in rows}
        return [f for f in self.files() if f.id not in done], rows

    def run(self, *, pretend: bool = False, force: bool = False, yes: bool = False) -> int:
        """Apply every pending migration in one new batch; returns how many ran."""
        todo, rows = self.pending()
        # Before the lock, a 'running' row may be another runner at work right now;
        # only under the lock (in work()) does it mean an interrupted migration.
        in_progress = any(r.status == "running" for r in rows)
        if pretend:
            self._check_interrupted(rows)
        if not todo and not in_progress:
            self.echo(f"{self.target.name}: nothing to migrate")
            return 0
        self._warn_drift(rows, self.files())
        history = self.history()  # every file loaded once, the chain checked
        migrations = [history.migration(f.id) for f in todo]
        if not self._prepare(migrations, "up", "migrate:run", pretend=pretend, force=force, yes=yes):
            return 0

        def work() -> int:
            # re-read under the lock: another runner may have applied some meanwhile
            current = self.ledger()
            self._check_interrupted(current)
            done = {r.id for r in current}
            batch = max((r.batch for r in current), default=0) + 1
            count = 0
            for m in migrations:
                if m.id in done:
                    continue
                if self._execute(m, "up", batch):
                    count += 1
                    self.echo(f"{self.target.name}: applied {m.id}")
            return count

        count = self._locked(work)
        if count == 0:
            self.echo(f"{self.target.name}: nothing to migrate (another runner applied them)")
        return count

    def _rollback_set(self, rows: list[LedgerRow], step: int | None, everything: bool) -> list[LedgerRow]:
        applied = sorted(rows, key=lambda r: (r.batch, r.id), reverse=True)
        if everything:
            return applied
        if step is not None:
            return applied[:step]
        if not applied:
            return []
        last = applied[0].batch
        return [r for r in applied if r.batch == last]

    def rollback(
        self,
        *,
        step: int | None = None,
        everything: bool = False,
        pretend: bool = False,
        force: bool = False,
        yes: bool = False,
        command: str = "migrate:rollback",
    ) -> int:
        rows = self.ledger()
        if pretend:  # otherwise checked under the lock: a 'running' row may be another runner at work
            self._check_interrupted(rows)
        chosen = self._rollback_set(rows, step, everything)
        if not chosen:
            self.echo(f"{self.target.name}: nothing to roll back")
            return 0
        files = {f.id for f in self.files()}
        for r in chosen:
            if r.id not in files:
                raise MigrationFileError(f"{self.target.name}: cannot roll back {r.id}: its file is missing")
        history = self.history()
        migrations = [history.migration(r.id) for r in chosen]
        if not self._prepare(migrations, "down", command, pretend=pretend, force=force, yes=yes):
            return 0

        def work() -> int:
            rows = self.ledger()
            self._check_interrupted(rows)
            if [r.id for r in self._rollback_set(rows, step, everything)] != [r.id for r in chosen]:
                raise LockError(
                    f"{self.target.name}: another runner changed the ledger while this one waited for the lock; "
                    "nothing was rolled back: run the command again"
                )
            current = {r.id: r for r in rows}
            count = 0
            for m in migrations:
                row = current.get(m.id)
                if row is None:
                    continue
                if self._execute(m, "down", row.batch):
                    count += 1
                    self.echo(f"{self.target.name}: rolled back {m.id}")
            return count

        return self._locked(work)

    def fresh(self, *, pretend: bool = False, force: bool = False, yes: bool = False) -> int:
        """Drop everything in the database, then run every migration."""
        if pretend:
            self.echo(f"{self.target.name}: would drop every table, then run all migrations")
            for m in self.history().migrations:
                self._pretend(m, "up")
            return 0
        self.history()  # a broken chain fails before anything is dropped
        self.hook.before_destructive(
            command="migrate:fresh", session=self.connection, target=self.target, echo=self.echo
        )

        def wipe() -> int:
            dropped = self.driver.wipe(self.connection)
            self.echo(f"{self.target.name}: dropped {len(dropped)} table(s) or collection(s)")
            return len(dropped)

        self._locked(wipe)
        return self.run(force=True, yes=True)

    def plan(self, migration: Migration, direction: str) -> list[str]:
        """The statements of ``migration`` in ``direction`` as text: what ``--pretend``
        prints, taken by exactly the path that ``run`` performs."""
        steps = self.history().steps(migration, direction)
        self.connection.hook = self.hook  # render_column for custom column types
        return [s.text for s in self.connection.plan(steps)]

    def _pretend(self, migration: Migration, direction: str) -> None:
        lines = self.plan(migration, direction)
        self.echo(f"-- {self.target.name}: {migration.id} ({direction})")
        for line in lines:
            self.echo(line if line.rstrip().endswith(";") else line + ";")

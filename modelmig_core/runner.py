"""Running migrations on one connection: run, rollback, reset, fresh, status.

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
from .driver import Connection, LedgerRow
from .errors import InterruptedMigration, LockError, MigrationFileError
from .guard import check_production
from .history import History, replay
from .migrations import Migration, MigrationFile, list_files, load
from .plugins import Plugins
from .targets import Target

Echo = Callable[[str], None]


@dataclass
class StatusRow:
    id: str
    status: str  # applied, pending, modified, missing, running, interrupted
    batch: int | None = None
    applied_at: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "status": self.status, "batch": self.batch, "applied_at": self.applied_at}


def _interrupted_message(target: Target, row: LedgerRow) -> str:
    return (
        f"{target.name}: migration {row.id} was interrupted (started {row.applied_at}, "
        f"{row.progress} statement(s) done) outside a transaction, so what it changed stays; "
        f"repair the schema by hand, then run `modelmig migrate:resolve {row.id} --applied` "
        f"or `--rolled-back` --connection {target.name}"
    )


class Runner:
    """One connection's migration work. Use as a context manager."""

    def __init__(self, config: Config, plugins: Plugins, target: Target, echo: Echo) -> None:
        self.config = config
        self.plugins = plugins
        self.hook = plugins.hook
        self.target = target
        self.family = target.driver.family
        self.echo = echo
        self.conn: Connection | None = None
        self._history: History | None = None

    def __enter__(self) -> Runner:
        conn = self.hook.connect(driver=self.target.driver.name, url=self.target.url)
        if conn is None:
            raise MigrationFileError(f"driver {self.target.driver.name} did not open {self.target.label}")
        conn.hook = self.hook
        self.conn = conn
        return self

    def __exit__(self, *exc: object) -> None:
        if self.conn is not None:
            self.hook.close(connection=self.conn)
            self.conn = None

    # ------------------------------------------------------------ reading

    @property
    def connection(self) -> Connection:
        assert self.conn is not None, "use Runner as a context manager"
        return self.conn

    def files(self) -> list[MigrationFile]:
        return list_files(self.config.migrations, self.family)

    def ledger(self) -> list[LedgerRow]:
        return list(self.hook.read_ledger(connection=self.connection) or [])

    def history(self) -> History:
        if self._history is None:
            self._history = replay(self.config.migrations, self.family)
        return self._history

    def _another_runner_active(self) -> bool:
        """Whether another runner holds the lock right now (tried without waiting)."""
        try:
            self.hook.acquire_lock(connection=self.connection, timeout=0)
        except LockError:
            return True
        self.hook.release_lock(connection=self.connection)
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
            out.append(StatusRow(mid, status, r.batch, r.applied_at))
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
        ops = migration.up if direction == "up" else migration.down
        history = self.history()
        state = history.state_before(migration.id) if direction == "up" else history.state_after(migration.id)
        with self.hook.transaction(
            connection=self.connection, migration=migration, direction=direction, batch=batch
        ) as go:
            if not go:
                return False
            started = time.perf_counter()
            self.hook.apply(connection=self.connection, operations=ops, state=state, migration=migration)
            duration = int((time.perf_counter() - started) * 1000)
            self.hook.record_state(
                connection=self.connection, migration=migration, direction=direction, batch=batch, duration_ms=duration
            )
        return True

    def _locked(self, work: Callable[[], int]) -> int:
        """``work`` under the one-runner lock, with the ledger in place. The lock comes
        first: concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL."""
        self.hook.acquire_lock(connection=self.connection, timeout=self.config.lock_timeout)
        try:
            self.hook.ensure_ledger(connection=self.connection)
            return work()
        finally:
            self.hook.release_lock(connection=self.connection)

    def _prepare(
        self, migrations: list[Migration], direction: str, command: str, *, pretend: bool, force: bool, yes: bool
    ) -> bool:
        """Check the chain and the production guard before anything changes; print
        instead with --pretend. True when the migrations should be executed."""
        self.history()  # replay (and check) the whole chain first
        destructive = [label for m in migrations if (label := m.destructive_label(direction))]
        if pretend:
            for m in migrations:
                self._pretend(m, direction)
            return False
        if destructive:
            check_production(f"{command} ({', '.join(destructive)})", force=force, yes=yes)
            self.hook.before_destructive(
                command=command, connection=self.connection, target=self.target, echo=self.echo
            )
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
        migrations = [load(f) for f in todo]
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
        files = {f.id: f for f in self.files()}
        for r in chosen:
            if r.id not in files:
                raise MigrationFileError(f"{self.target.name}: cannot roll back {r.id}: its file is missing")
        migrations = [load(files[r.id]) for r in chosen]
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
            files = self.files()
            history = self.history()
            for f in files:
                self._pretend(history.migrations[history.index(f.id)], "up")
            return 0
        self.history()  # a broken chain fails before anything is dropped
        self.hook.before_destructive(
            command="migrate:fresh", connection=self.connection, target=self.target, echo=self.echo
        )

        def wipe() -> int:
            dropped = self.hook.wipe(connection=self.connection) or []
            self.echo(f"{self.target.name}: dropped {len(dropped)} table(s) or collection(s)")
            return len(dropped)

        self._locked(wipe)
        return self.run(force=True, yes=True)

    def _pretend(self, migration: Migration, direction: str) -> None:
        history = self.history()
        ops = migration.up if direction == "up" else migration.down
        state = history.state_before(migration.id) if direction == "up" else history.state_after(migration.id)
        lines = self.hook.render_operations(connection=self.connection, operations=ops, state=state) or []
        self.echo(f"-- {self.target.name}: {migration.id} ({direction})")
        for line in lines:
            self.echo(line if line.rstrip().endswith(";") else line + ";")

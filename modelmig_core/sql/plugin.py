"""SqlDriver: the base of the SQL driver plugins.

A driver subclasses it, sets its name, schemes and SQLAlchemy dialect, opens its
DB-API connection and overrides what its database does differently. Each hook
answers only for connections of its own driver. No SQLAlchemy import here.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ..driver import LEDGER, Connection, DriverInfo, LedgerRow, redact
from ..errors import MigrationFailed
from ..hookspecs import hookimpl
from ..operations import Operation, RunPython
from ..state import Column, State

if TYPE_CHECKING:
    from ..migrations import Migration
    from .render import Renderer

LEDGER_COLUMNS = "id, batch, checksum, applied_at, duration_ms, status, progress"


class SqlDriver:
    name = ""
    schemes: tuple[str, ...] = ()
    dialect = ""  # SQLAlchemy dialect name
    renderer_class = "modelmig_core.sql.render:Renderer"
    capabilities: frozenset[str] = frozenset({"sql"})
    max_identifier_length: int | None = None
    transactional_ddl = True
    param = "%s"  # DB-API placeholder
    description = ""

    # ------------------------------------------------------------ to override

    def open(self, url: str) -> Any:
        """The driver's DB-API connection for ``url`` (autocommit mode)."""
        raise NotImplementedError

    def is_missing_table(self, exc: Exception) -> bool:
        raise NotImplementedError

    def list_tables(self, raw: Any) -> list[str]:
        raise NotImplementedError

    def drop_tables(self, raw: Any, tables: list[str]) -> None:
        raise NotImplementedError

    def ledger_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {LEDGER} ("
            "id VARCHAR(255) NOT NULL PRIMARY KEY, "
            "batch INTEGER NOT NULL, "
            "checksum VARCHAR(64) NOT NULL, "
            "applied_at VARCHAR(40) NOT NULL, "
            "duration_ms INTEGER NOT NULL DEFAULT 0, "
            "status VARCHAR(16) NOT NULL DEFAULT 'applied', "
            "progress INTEGER NOT NULL DEFAULT 0)"
        )

    def begin(self, raw: Any) -> None:
        self.execute(raw, "BEGIN")

    def commit(self, raw: Any) -> None:
        self.execute(raw, "COMMIT")

    def rollback(self, raw: Any) -> None:
        self.execute(raw, "ROLLBACK")

    def lock(self, conn: Connection, timeout: float) -> None:
        """Take the runner lock (no-op where transactions serialize runners)."""

    def unlock(self, conn: Connection) -> None:
        """Release the runner lock."""

    def renderer(self, conn: Connection | None) -> Renderer:
        module, _, cls = self.renderer_class.partition(":")
        return getattr(importlib.import_module(module), cls)(
            hook=conn.hook if conn else None, raw=conn.raw if conn else None
        )

    # ------------------------------------------------------------ helpers

    def execute(self, raw: Any, sql: str, params: Sequence[Any] | None = None) -> Any:
        cur = raw.cursor()
        try:
            if params is None:
                cur.execute(sql)
            else:
                cur.execute(sql, tuple(params))
            return cur.fetchall() if cur.description else None
        finally:
            cur.close()

    def _mine(self, conn: Any) -> bool:
        return isinstance(conn, Connection) and conn.driver == self.name

    @staticmethod
    def now() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def quote(self, name: str) -> str:
        """An identifier quoted the standard SQL way (drivers override where needed)."""
        return '"' + name.replace('"', '""') + '"'

    def row_counts(self, raw: Any) -> dict[str, int]:
        """{table: number of rows} for every table of the database (backup verification)."""
        out = {}
        for table in self.list_tables(raw):
            rows = self.execute(raw, f"SELECT COUNT(*) FROM {self.quote(table)}")
            out[table] = int(rows[0][0]) if rows else 0
        return out

    def is_recorded(self, raw: Any, mid: str) -> bool:
        rows = self.execute(raw, f"SELECT status FROM {LEDGER} WHERE id = {self.param}", [mid])
        return bool(rows)

    def run_statement(self, conn: Connection, migration: Migration | None, sql: str) -> None:
        try:
            self.execute(conn.raw, sql)
        except Exception as exc:
            where = migration.path.name if migration else "statement"
            detail = " ".join(str(exc).split())
            raise MigrationFailed(f"{where}: {sql.splitlines()[0][:120]}: {detail}") from exc

    def statements_for(self, renderer: Renderer, op: Operation, state: State) -> list[str]:
        return renderer.statements(op, state)

    # ------------------------------------------------------------ hooks

    @hookimpl
    def driver_info(self) -> DriverInfo:
        caps = set(self.capabilities)
        if self.transactional_ddl:
            caps.add("transactional_ddl")
        return DriverInfo(self.name, self.schemes, "sql", frozenset(caps), self.max_identifier_length, self.description)

    @hookimpl(trylast=True)
    def render_column(self, column: Column, dialect: str) -> Any:
        if dialect != self.dialect:
            return None
        return self.renderer(None).sa_column(column)

    @hookimpl
    def connect(self, driver: str, url: str) -> Connection | None:
        if driver != self.name:
            return None
        try:
            raw = self.open(url)
        except Exception as exc:  # noqa: BLE001
            from ..errors import ModelmigError

            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise ModelmigError(f"cannot connect to {redact(url)}: {detail}") from None
        return Connection(driver=self.name, url=url, raw=raw)

    @hookimpl
    def close(self, connection: Connection) -> bool | None:
        if not self._mine(connection):
            return None
        connection.raw.close()
        return True

    @hookimpl
    def read_ledger(self, connection: Connection) -> list[LedgerRow] | None:
        if not self._mine(connection):
            return None
        try:
            rows = self.execute(connection.raw, f"SELECT {LEDGER_COLUMNS} FROM {LEDGER} ORDER BY batch, id")
        except Exception as exc:
            if self.is_missing_table(exc):
                return []
            raise
        return [LedgerRow(r[0], int(r[1]), r[2], str(r[3]), int(r[4]), r[5], int(r[6])) for r in rows or []]

    @hookimpl
    def ensure_ledger(self, connection: Connection) -> bool | None:
        if not self._mine(connection):
            return None
        self.execute(connection.raw, self.ledger_ddl())
        return True

    @hookimpl
    def acquire_lock(self, connection: Connection, timeout: float) -> bool | None:
        if not self._mine(connection):
            return None
        self.lock(connection, timeout)
        return True

    @hookimpl
    def release_lock(self, connection: Connection) -> bool | None:
        if not self._mine(connection):
            return None
        self.unlock(connection)
        return True

    def atomic(self, migration: Migration) -> bool:
        """Whether ``migration`` runs in one transaction with its ledger row."""
        return migration.atomic and self.transactional_ddl

    @contextmanager
    def migration_transaction(
        self, conn: Connection, migration: Migration, direction: str, batch: int
    ) -> Iterator[bool]:
        """Default: BEGIN, check the ledger again, yield, COMMIT (or ROLLBACK).

        Without a transaction (the database has no transactional DDL, or the
        migration says ``atomic = False``) the ledger records progress instead:
        see ``tracked_migration``."""
        if not self.atomic(migration):
            with self.tracked_migration(conn, migration, direction, batch) as go:
                yield go
            return
        raw = conn.raw
        self.begin(raw)
        try:
            recorded = self.is_recorded(raw, migration.id)
            yield (not recorded) if direction == "up" else recorded
            self.commit(raw)
        except BaseException:
            self.rollback(raw)
            raise

    @contextmanager
    def tracked_migration(self, conn: Connection, migration: Migration, direction: str, batch: int) -> Iterator[bool]:
        """A migration without a transaction: its ledger row says ``running`` before
        the first statement, ``progress`` counts the statements done, and
        ``record_state`` marks it applied (up) or deletes it (down) at the end. An
        interruption after a statement has run leaves the row ``running``: the next
        run reports it and ``migrate:resolve`` settles it. A failure before any
        statement has run leaves the ledger as it was."""
        raw, p, mid = conn.raw, self.param, migration.id
        recorded = self.is_recorded(raw, mid)
        if (direction == "up") == recorded:
            yield False
            return
        if direction == "up":
            self.execute(
                raw,
                f"INSERT INTO {LEDGER} ({LEDGER_COLUMNS}) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                [mid, batch, migration.checksum, self.now(), 0, "running", 0],
            )
        else:
            self.execute(raw, f"UPDATE {LEDGER} SET status = 'running', progress = 0 WHERE id = {p}", [mid])
        conn.extra["tracking"] = mid
        conn.extra["progress"] = 0
        try:
            yield True
        except BaseException:
            if conn.extra.get("progress") == 0:  # nothing ran: the ledger goes back to what it was
                if direction == "up":
                    self.execute(raw, f"DELETE FROM {LEDGER} WHERE id = {p}", [mid])
                else:
                    self.execute(raw, f"UPDATE {LEDGER} SET status = 'applied' WHERE id = {p}", [mid])
            raise
        finally:
            conn.extra.pop("tracking", None)

    def step_done(self, conn: Connection, migration: Migration) -> None:
        """After each statement of a tracked migration: record the progress."""
        if conn.extra.get("tracking") != migration.id:
            return
        conn.extra["progress"] = conn.extra.get("progress", 0) + 1
        self.execute(
            conn.raw,
            f"UPDATE {LEDGER} SET progress = {self.param} WHERE id = {self.param}",
            [conn.extra["progress"], migration.id],
        )

    @hookimpl
    def transaction(
        self, connection: Connection, migration: Migration, direction: str, batch: int
    ) -> AbstractContextManager[bool] | None:
        if not self._mine(connection):
            return None
        return self.migration_transaction(connection, migration, direction, batch)

    @hookimpl
    def apply(
        self, connection: Connection, operations: Sequence[Operation], state: State, migration: Migration
    ) -> bool | None:
        if not self._mine(connection):
            return None
        renderer = self.renderer(connection)
        for op in operations:
            if isinstance(op, RunPython):
                op.forward(connection.raw)
                self.step_done(connection, migration)
            else:
                for sql in self.statements_for(renderer, op, state):
                    self.run_statement(connection, migration, sql)
                    self.step_done(connection, migration)
            state = op.state_forwards(state)
        return True

    @hookimpl
    def record_state(
        self, connection: Connection, migration: Migration, direction: str, batch: int, duration_ms: int
    ) -> bool | None:
        if not self._mine(connection):
            return None
        p = self.param
        if direction == "up":
            if not self.atomic(migration):  # the row was written as 'running' before the first statement
                self.execute(
                    connection.raw,
                    f"UPDATE {LEDGER} SET status = 'applied', batch = {p}, applied_at = {p}, duration_ms = {p} "
                    f"WHERE id = {p}",
                    [batch, self.now(), duration_ms, migration.id],
                )
                return True
            self.execute(
                connection.raw,
                f"INSERT INTO {LEDGER} ({LEDGER_COLUMNS}) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                [migration.id, batch, migration.checksum, self.now(), duration_ms, "applied", 0],
            )
        else:
            self.execute(connection.raw, f"DELETE FROM {LEDGER} WHERE id = {p}", [migration.id])
        return True

    @hookimpl
    def resolve_ledger(self, connection: Connection, migration_id: str, applied: bool) -> bool | None:
        if not self._mine(connection):
            return None
        p = self.param
        if applied:
            self.execute(
                connection.raw,
                f"UPDATE {LEDGER} SET status = 'applied' WHERE id = {p} AND status = 'running'",
                [migration_id],
            )
        else:
            self.execute(connection.raw, f"DELETE FROM {LEDGER} WHERE id = {p} AND status = 'running'", [migration_id])
        return True

    @hookimpl
    def render_operations(
        self, connection: Connection, operations: Sequence[Operation], state: State
    ) -> list[str] | None:
        if not self._mine(connection):
            return None
        renderer = self.renderer(connection)
        out: list[str] = []
        for op in operations:
            if isinstance(op, RunPython):
                out.append(f"-- {op.describe()}")
            else:
                out.extend(self.statements_for(renderer, op, state))
            state = op.state_forwards(state)
        return out

    @hookimpl
    def wipe(self, connection: Connection) -> list[str] | None:
        if not self._mine(connection):
            return None
        tables = self.list_tables(connection.raw)
        self.drop_tables(connection.raw, tables)
        return tables

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

    @contextmanager
    def migration_transaction(self, conn: Connection, migration: Migration, direction: str) -> Iterator[bool]:
        """Default: BEGIN, check the ledger again, yield, COMMIT (or ROLLBACK)."""
        atomic = migration.atomic and self.transactional_ddl
        raw = conn.raw
        if atomic:
            self.begin(raw)
        try:
            recorded = self.is_recorded(raw, migration.id)
            yield (not recorded) if direction == "up" else recorded
            if atomic:
                self.commit(raw)
        except BaseException:
            if atomic:
                self.rollback(raw)
            raise

    @hookimpl
    def transaction(
        self, connection: Connection, migration: Migration, direction: str
    ) -> AbstractContextManager[bool] | None:
        if not self._mine(connection):
            return None
        return self.migration_transaction(connection, migration, direction)

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
            else:
                for sql in self.statements_for(renderer, op, state):
                    self.run_statement(connection, migration, sql)
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
            self.execute(
                connection.raw,
                f"INSERT INTO {LEDGER} ({LEDGER_COLUMNS}) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
                [migration.id, batch, migration.checksum, self.now(), duration_ms, "applied", len(migration.up)],
            )
        else:
            self.execute(connection.raw, f"DELETE FROM {LEDGER} WHERE id = {p}", [migration.id])
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

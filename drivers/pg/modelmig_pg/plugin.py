"""The PostgreSQL driver plugin (psycopg 3). Imports neither psycopg nor
SQLAlchemy at module level: psycopg is imported in ``open`` and DDL rendering
(render.py) is loaded only when a migration is rendered.

- A migration and its ledger row commit in one transaction (PostgreSQL has
  transactional DDL); ``atomic = False`` migrations run in autocommit with a
  progress-tracked ledger row (see ``SqlDriver.tracked_migration``).
- One runner per database: a *session-level* advisory lock, taken by polling
  ``pg_try_advisory_lock`` so that a waiting runner never sits inside a
  statement (a runner blocked in ``pg_advisory_lock`` holds a snapshot, and a
  ``CREATE INDEX CONCURRENTLY`` of the lock holder would wait for it forever).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any
from urllib.parse import unquote, urlsplit

from modelmig_core.driver import Connection, redact
from modelmig_core.errors import LockError
from modelmig_core.hookspecs import hookimpl
from modelmig_core.sql.plugin import SqlDriver

POLL_SECONDS = 0.05


def conninfo(url: str) -> str:
    """postgresql[+psycopg]://... or postgres://... -> a libpq URI."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return "postgresql://" + rest if scheme.split("+", 1)[0] in ("postgresql", "postgres") else url


def database_name(url: str) -> str:
    return unquote(urlsplit(conninfo(url)).path.lstrip("/")) or "postgres"


def lock_key(database: str) -> int:
    """A stable signed 64-bit advisory lock key for one database."""
    digest = hashlib.sha256(f"modelmig:{database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgDriver(SqlDriver):
    name = "pg"
    schemes = ("postgresql", "postgres")
    dialect = "postgresql"
    renderer_class = "modelmig_pg.render:PgRenderer"
    capabilities = frozenset({"sql", "advisory_lock"})
    max_identifier_length = 63
    transactional_ddl = True
    param = "%s"
    description = "PostgreSQL 12+ through psycopg 3"

    def open(self, url: str) -> Any:
        import psycopg

        return psycopg.connect(conninfo(url), autocommit=True, application_name="modelmig")

    def is_missing_table(self, exc: Exception) -> bool:
        from psycopg import errors

        return isinstance(exc, errors.UndefinedTable)

    def list_tables(self, raw: Any) -> list[str]:
        rows = self.execute(raw, "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        return [r[0] for r in rows or []]

    def drop_tables(self, raw: Any, tables: list[str]) -> None:
        """Drop the tables (and what depends on them), then the enum types of the schema."""
        q = self.quote
        self.begin(raw)
        try:
            if tables:
                self.execute(raw, f"DROP TABLE IF EXISTS {', '.join(q(t) for t in tables)} CASCADE")
            types = self.execute(
                raw,
                "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                "WHERE t.typtype = 'e' AND n.nspname = current_schema() ORDER BY 1",
            )
            for (name,) in types or []:
                self.execute(raw, f"DROP TYPE IF EXISTS {q(name)} CASCADE")
            self.commit(raw)
        except BaseException:
            self.rollback(raw)
            raise

    @staticmethod
    def quote(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    # ------------------------------------------------------------ lock

    def lock(self, conn: Connection, timeout: float) -> None:
        key = lock_key(database_name(conn.url))
        deadline = time.monotonic() + timeout
        while True:
            rows = self.execute(conn.raw, "SELECT pg_try_advisory_lock(%s)", [key])
            if rows and rows[0][0]:
                conn.extra["lock_key"] = key
                return
            if time.monotonic() >= deadline:
                raise LockError(
                    f"another runner holds the migration lock on {database_name(conn.url)} "
                    f"({redact(conn.url)}); waited {timeout:g}s — try again when it has finished"
                )
            time.sleep(POLL_SECONDS)

    def unlock(self, conn: Connection) -> None:
        key = conn.extra.pop("lock_key", None)
        if key is None:
            return
        try:
            if conn.raw.info.transaction_status != 0:  # not idle: a failed statement left a transaction open
                conn.raw.rollback()
            self.execute(conn.raw, "SELECT pg_advisory_unlock(%s)", [key])
        except Exception:  # noqa: BLE001 - closing the session releases a session-level lock too
            conn.raw.close()

    @hookimpl
    def ensure_ledger(self, connection: Connection) -> bool | None:
        """CREATE TABLE IF NOT EXISTS races between sessions on PostgreSQL (a unique
        violation in pg_type): the loser finds the table there and carries on."""
        if not self._mine(connection):
            return None
        from psycopg import errors

        try:
            self.execute(connection.raw, self.ledger_ddl())
        except (errors.UniqueViolation, errors.DuplicateTable):
            pass
        return True


plugin = PgDriver()

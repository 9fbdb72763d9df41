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
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from modelmig_core.driver import Backup, Connection, redact
from modelmig_core.errors import LockError, MigrationFailed
from modelmig_core.hookspecs import hookimpl
from modelmig_core.sql.plugin import SqlDriver
from modelmig_core.sql.tools import find_tool, run_tool, tool_lines

POLL_SECONDS = 0.05


def conninfo(url: str) -> str:
    """postgresql[+psycopg]://... or postgres://... -> a libpq URI."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return "postgresql://" + rest if scheme.split("+", 1)[0] in ("postgresql", "postgres") else url


def database_name(url: str) -> str:
    return unquote(urlsplit(conninfo(url)).path.lstrip("/")) or "postgres"


def libpq_args(url: str) -> tuple[list[str], dict[str, str]]:
    """Command-line arguments and environment for pg_dump/pg_restore: the password
    goes in PGPASSWORD, never on the command line."""
    parts = urlsplit(conninfo(url))
    args = [f"--dbname={database_name(url)}"]
    if parts.hostname:
        args.append(f"--host={parts.hostname}")
    if parts.port:
        args.append(f"--port={parts.port}")
    if parts.username:
        args.append(f"--username={unquote(parts.username)}")
    env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
    return args, env


_COPY = re.compile(r'^COPY (?:(?:"(?:[^"]|"")+"|[^ ."]+)\.)?("(?:[^"]|"")+"|[^ ."]+) ')


def copy_counts(lines: Iterator[str]) -> dict[str, int]:
    """{table: rows} from the COPY blocks of ``pg_restore --data-only`` output."""
    counts: dict[str, int] = {}
    table: str | None = None
    for line in lines:
        if table is None:
            m = _COPY.match(line)
            if m:
                name = m.group(1)
                table = name[1:-1].replace('""', '"') if name.startswith('"') else name
                counts[table] = 0
        elif line.rstrip("\n") == "\\.":
            table = None
        else:
            counts[table] += 1
    return counts


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

    # ------------------------------------------------------------ backup

    @hookimpl
    def backup(self, connection: Connection, directory: Path, label: str) -> Backup | None:
        """pg_dump's custom format, then pg_restore reads it back: every table of the
        schema must be in it with the live row count."""
        if not self._mine(connection):
            return None
        path = directory / f"{label}.dump"
        args, env = libpq_args(connection.url)
        run_tool([find_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={path}", *args], env)
        with tool_lines([find_tool("pg_restore"), "--data-only", "--file=-", str(path)], env) as lines:
            rows = copy_counts(lines)
        live = self.row_counts(connection.raw)
        missing = {t: n for t, n in live.items() if rows.get(t) != n}
        if missing:
            table = sorted(missing)[0]
            raise MigrationFailed(
                f"backup {path} does not verify: {table} has {live[table]} rows, the backup "
                f"{rows.get(table, 'none')}; nothing was dropped"
            )
        return Backup(path, {t: rows[t] for t in live})

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

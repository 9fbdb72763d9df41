"""The PostgreSQL driver (psycopg 3). Imports neither psycopg nor
SQLAlchemy at module level: psycopg is imported in ``open`` and DDL rendering
(render.py) is loaded only when a migration is rendered.

- A migration and its ledger row commit in one transaction (PostgreSQL has
  transactional DDL); ``atomic = False`` migrations run in autocommit with a
  progress-tracked ledger row (the core's ``ledger.py``).
- One runner per database: a *session-level* advisory lock, taken by polling
  ``pg_try_advisory_lock`` so that a waiting runner never sits inside a
  statement (a runner blocked in ``pg_advisory_lock`` holds a snapshot, and a
  ``CREATE INDEX CONCURRENTLY`` of the lock holder would wait for it forever).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from modelmig_core.api import (
    LOCK_NOTICE_SECONDS,
    Backup,
    DriverInfo,
    LockError,
    LockWait,
    ModelmigError,
    Session,
    SqlDriver,
    SqlSession,
    Step,
    find_tool,
    redact,
    run_tool,
    tool_lines,
)

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


def copy_table(line: str) -> str | None:
    """The table of a data block's header in ``pg_restore --data-only`` output,
    ``COPY [schema.]table (columns) FROM stdin;``, read by sqlglot's PostgreSQL
    parser (quoted names with spaces, dots and doubled quotes are exact); None
    for a line that is no COPY statement."""
    if not line.startswith("COPY "):
        return None
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(line, read="postgres")
    except (SqlglotError, ValueError):
        tree = None
    if isinstance(tree, exp.Copy) and tree.args.get("kind"):  # kind: COPY ... FROM (True), not TO
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this  # a column list, or none
        if isinstance(target, exp.Table):
            return target.name
    raise ModelmigError(f"pg_restore wrote a COPY line modelmig cannot read: {line.strip()[:200]}")


def copy_counts(lines: Iterator[str]) -> dict[str, int]:
    """{table: rows} from the COPY blocks of ``pg_restore --data-only`` output: a
    block is its header line, one line per row, and ``\\.``."""
    counts: dict[str, int] = {}
    table: str | None = None
    for line in lines:
        if table is None:
            table = copy_table(line)
            if table is not None:
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


class PgSession(SqlSession):
    param = "%s"
    batch_in_transaction = True  # psycopg runs several statements in one execute (no parameters)
    overlap_every = 32  # psycopg connections may be used from another thread: the server works while we render

    def is_missing_table(self, exc: Exception) -> bool:
        from psycopg import errors

        return isinstance(exc, errors.UndefinedTable)

    def render_key(self) -> Hashable:
        return ("postgresql",)  # the renderer reads nothing of the URL or the server

    def transaction_open(self) -> bool | None:
        """psycopg's view of the connection: ACTIVE, INTRANS or INERROR (a transaction
        block is open), IDLE (none), UNKNOWN (the connection is gone)."""
        from psycopg.pq import TransactionStatus

        status = self.raw.info.transaction_status
        if status == TransactionStatus.UNKNOWN:
            return None
        return status != TransactionStatus.IDLE

    def list_tables(self) -> list[str]:
        rows = self.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        return [r[0] for r in rows or []]

    def drop_tables(self, tables: list[str]) -> None:
        """Drop the tables (and what depends on them), then the enum types of the schema."""
        q = self.quote
        with self.transaction():
            if tables:
                self.execute(f"DROP TABLE IF EXISTS {', '.join(q(t) for t in tables)} CASCADE")
            for name in self.list_types():
                self.execute(f"DROP TYPE IF EXISTS {q(name)} CASCADE")

    def list_types(self) -> list[str]:
        """The enum types of the schema."""
        rows = self.execute(
            "SELECT t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
            "WHERE t.typtype = 'e' AND n.nspname = current_schema() ORDER BY 1"
        )
        return [r[0] for r in rows or []]

    def server(self) -> str | None:
        rows = self.execute("SHOW server_version")
        return f"postgresql-{str(rows[0][0]).split()[0]}" if rows else None

    def live_facts(self, steps: Sequence[Step]) -> Any:
        """The columns each view uses, when the migration drops a column."""
        from .render import PgFacts

        facts = PgFacts()
        if any(type(s.op).__name__ == "DropColumn" for s in steps):
            rows = self.execute(
                "SELECT view_name, table_name, column_name FROM information_schema.view_column_usage "
                "WHERE view_schema = current_schema() AND table_schema = current_schema()"
            )
            facts.views.uses = {(str(v), str(t), str(c)) for v, t, c in rows or []}
        return facts

    def ensure_ledger_table(self) -> None:
        """CREATE TABLE IF NOT EXISTS races between sessions on PostgreSQL (a unique
        violation in pg_type): the loser finds the table there and carries on."""
        from psycopg import errors

        try:
            self.execute(self.ledger_ddl())
        except (errors.UniqueViolation, errors.DuplicateTable):
            pass

    # ------------------------------------------------------------ lock

    def lock(self, timeout: float, on_wait: LockWait | None = None) -> None:
        key = lock_key(database_name(self.url))
        started = time.monotonic()
        deadline = started + timeout
        while True:
            rows = self.execute("SELECT pg_try_advisory_lock(%s)", [key])
            if rows and rows[0][0]:
                self._lock_key: int | None = key
                return
            now = time.monotonic()
            if now >= deadline:
                raise LockError(
                    f"another runner holds the migration lock on {database_name(self.url)} "
                    f"({redact(self.url)}); waited {timeout:g}s — try again when it has finished"
                )
            if on_wait is not None and now - started >= LOCK_NOTICE_SECONDS:
                on_wait(self.lock_holder(key))
                on_wait = None
            time.sleep(POLL_SECONDS)

    def lock_holder(self, key: int) -> str:
        """Who holds advisory lock ``key``, from pg_locks and pg_stat_activity. A
        bigint key is stored as classid (high 32 bits) and objid (low 32 bits)."""
        unsigned = key & 0xFFFFFFFFFFFFFFFF
        rows = self.execute(
            "SELECT a.pid, a.usename, a.application_name, host(a.client_addr), "
            "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND l.classid = %s::bigint::oid AND l.objid = %s::bigint::oid",
            [unsigned >> 32, unsigned & 0xFFFFFFFF],
        )
        if not rows:
            return "another session holds the migration lock (it could not be identified)"
        pid, user, app, addr, since = rows[0]
        where = f" from {addr}" if addr else " over a local socket"
        return (
            f"PostgreSQL backend {pid} (user {user}, application {app or '?'}{where}, connected since {since}) "
            "holds the migration lock"
        )

    def unlock(self) -> None:
        key = getattr(self, "_lock_key", None)
        if key is None:
            return
        self._lock_key = None
        try:
            if self.raw.info.transaction_status != 0:  # not idle: a failed statement left a transaction open
                self.raw.rollback()
            self.execute("SELECT pg_advisory_unlock(%s)", [key])
        except Exception:  # noqa: BLE001 - closing the session releases a session-level lock too
            self.raw.close()


class PgDriver(SqlDriver):
    info = DriverInfo("pg", ("postgresql", "postgres"), "sql", "PostgreSQL 12+ through psycopg 3")
    features = SqlDriver.features.but(native_enum=True, advisory_lock=True, max_identifier_length=63)
    dialect = "postgresql"
    renderer_class = "modelmig_pg.render:PgRenderer"
    reflection_class = "modelmig_pg.reflect:PgReflection"
    session_class = PgSession

    def open(self, url: str) -> Any:
        import psycopg

        return psycopg.connect(conninfo(url), autocommit=True, application_name="modelmig")

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        """pg_dump's custom format, then pg_restore reads it back: the rows of every
        table are counted in its COPY blocks."""
        path = directory / f"{label}.dump"
        args, env = libpq_args(session.url)
        run_tool([find_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={path}", *args], env)
        with tool_lines([find_tool("pg_restore"), "--data-only", "--file=-", str(path)], env) as lines:
            rows = copy_counts(lines)
        return Backup(path, rows)


driver = PgDriver()

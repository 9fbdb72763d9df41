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
import re
import time
from collections.abc import Hashable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from modelmig_core.api import (
    API_VERSION,
    LOCK_NOTICE_SECONDS,
    RENDERER_OPERATIONS,
    RENDERER_TYPE_NAMES,
    Backup,
    ConfigError,
    DriverInfo,
    Finding,
    LockError,
    LockWait,
    ModelmigError,
    Refusal,
    Session,
    SqlDriver,
    SqlSession,
    Step,
    TableKey,
    redact,
)
from modelmig_core.api_sql import find_tool, run_tool, tool_lines

POLL_SECONDS = 0.05


def conninfo(url: str) -> str:
    """postgresql[+psycopg]://... or postgres://... -> a libpq URI."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    return "postgresql://" + rest if scheme.split("+", 1)[0] in ("postgresql", "postgres") else url


#: the libpq connection parameters a URL may set, each with the values it may take
#: (None: any text without NUL or newline); options= sets only the server
#: parameters listed in SERVER_OPTIONS, each to a plain value
ENUM_OPTIONS = {
    "sslmode": ("disable", "allow", "prefer", "require", "verify-ca", "verify-full"),
    "gssencmode": ("disable", "prefer", "require"),
    "channel_binding": ("disable", "prefer", "require"),
    "target_session_attrs": ("any", "read-write", "read-only", "primary", "standby", "prefer-standby"),
    "keepalives": ("0", "1"),
}
NUMBER_OPTIONS = ("port", "connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count")
TEXT_OPTIONS = (
    "host", "hostaddr", "dbname", "user", "password", "passfile", "application_name",
    "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword", "service",
)  # fmt: skip
SERVER_OPTIONS = ("search_path", "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "timezone")
PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.,:+/-]{1,200}")


def url_options(url: str) -> dict[str, str]:
    """The query options of a postgresql:// URL, each checked against what libpq
    takes: an unknown, repeated or malformed one is an error naming it, never
    passed on (``options`` could otherwise change how the session reads SQL)."""
    out: dict[str, str] = {}
    known = sorted({*ENUM_OPTIONS, *NUMBER_OPTIONS, *TEXT_OPTIONS, "options"})
    for key, value in parse_qsl(urlsplit(conninfo(url)).query, keep_blank_values=True):

        def bad(why: str, key: str = key) -> ConfigError:
            return ConfigError(f"cannot connect to {redact(url)}: URL option {key}: {why}")

        if key not in known:
            raise bad(f"unknown (known: {', '.join(known)})", repr(key))
        if key in out:
            raise bad("given twice")
        if not value or set(value) & {"\x00", "\n", "\r"}:
            raise bad("empty, or holding a NUL character or a line break")
        if key in ENUM_OPTIONS and value not in ENUM_OPTIONS[key]:
            raise bad(f"must be one of {', '.join(ENUM_OPTIONS[key])}")
        if key in NUMBER_OPTIONS and not (value.isdigit() and int(value) < 2**31):
            raise bad("must be a whole number")
        if key == "options":
            for item in server_options(value):
                name, _, setting = item.partition("=")
                if name not in SERVER_OPTIONS or not PLAIN_VALUE.fullmatch(setting):
                    raise bad(f"{item!r}: only -c with {', '.join(SERVER_OPTIONS)} set to a plain value")
        out[key] = value
    return out


def server_options(value: str) -> list[str]:
    """``-c name=value -cname=value`` -> ["name=value", ...]; anything else is one bad item."""
    words = value.split()
    items: list[str] = []
    while words:
        word = words.pop(0)
        if word == "-c" and words:
            items.append(words.pop(0))
        elif word.startswith("-c") and len(word) > 2:
            items.append(word[2:])
        else:
            items.append(word)
    return items


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


def copy_table(line: str) -> tuple[str, str] | None:
    """The ``(schema, table)`` of a data block's header in ``pg_restore --data-only``
    output, ``COPY [schema.]table (columns) FROM stdin;``, read by sqlglot's
    PostgreSQL parser (quoted names with spaces, dots and doubled quotes are
    exact; an unqualified name has schema ``""``); None for a line that is no
    COPY statement."""
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
        if isinstance(target, exp.Table) and not target.catalog:
            return target.db, target.name
    raise ModelmigError(f"pg_restore wrote a COPY line modelmig cannot read: {line.strip()[:200]}")


def copy_counts(lines: Iterator[str]) -> dict[TableKey, int]:
    """{(schema, table): rows} from the COPY blocks of ``pg_restore --data-only``
    output: a block is its header line, one line per row, and ``\\.``. A leaf
    partition is a block of its own (its parent has none)."""
    counts: dict[TableKey, int] = {}
    table: tuple[str, str] | None = None
    for line in lines:
        if table is None:
            table = copy_table(line)
            if table is not None:
                counts.setdefault(table, 0)
        elif line.rstrip("\n") == "\\.":
            table = None
        else:
            counts[table] += 1
    return counts


#: the tables whose rows pg_dump writes, in every schema: plain tables and leaf
#: partitions (relkind 'r'; a partitioned parent holds no rows of its own), not
#: the system's, not another session's temporary ones, not an extension's
DUMPED_TABLES = (
    "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relkind = 'r' AND c.relpersistence <> 't' "
    "AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%' "
    "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
    "AND d.objid = c.oid AND d.deptype = 'e') ORDER BY 1, 2"
)


def lock_key(database: str) -> int:
    """A stable signed 64-bit advisory lock key for one database."""
    digest = hashlib.sha256(f"modelmig:{database}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PgSession(SqlSession):
    param = "%s"
    batch_in_transaction = True  # psycopg runs several statements in one execute (no parameters)
    overlap_every = 32  # psycopg connections may be used from another thread: the server works while we render

    def is_missing_table(self, exc: Exception) -> bool:
        """SQLSTATE 42P01 (undefined_table), from psycopg (``sqlstate``) or from
        psycopg2 (``pgcode``), which reads the ledger when nothing is pending."""
        return (getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)) == "42P01"

    def lock_not_granted(self, exc: BaseException) -> bool:
        """SQLSTATE 55P03 (lock_not_available): ``lock_timeout`` fired."""
        return getattr(exc, "sqlstate", None) == "55P03"

    def completed(self, statement: Any) -> str | None:
        """A concurrent index build (the one statement of an online plan that runs,
        and is recorded, outside a transaction) that finished after its runner died:
        its index exists and is valid, so it is recorded instead of dropped and built
        again. An INVALID one is left to ``Statement.repair``."""
        from sqlglot import exp

        from modelmig_core.api_sql import parse_statement

        if not statement.outside:
            return None
        tree = parse_statement(statement.text, "postgres")
        if not (isinstance(tree, exp.Create) and tree.args.get("concurrently") and isinstance(tree.this, exp.Index)):
            return None
        index, table = tree.this.this, tree.this.args.get("table")
        if not isinstance(index, exp.Identifier) or not isinstance(table, exp.Table):
            return None

        def folded(ident: Any) -> str | None:  # unquoted identifiers are folded to lower case
            return None if ident is None else (ident.this if ident.quoted else ident.this.lower())

        name, relation, schema = folded(index), folded(table.this), folded(table.args.get("db"))
        rows = self.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_class t ON t.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relname = %s AND t.relname = %s AND n.nspname = coalesce(%s, current_schema())",
            (name, relation, schema),
        )
        if rows and rows[0][0]:
            return f"index {relation}.{name} exists and is valid"
        return None

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
        from modelmig_core.api import DropColumn, DropTable, RenameColumn  # off the nothing-pending path

        from .render import PgFacts

        facts = PgFacts()
        if any(isinstance(s.op, (DropColumn, DropTable)) for s in steps):
            rows = self.execute(
                "SELECT view_name, table_name, column_name FROM information_schema.view_column_usage "
                "WHERE view_schema = current_schema() AND table_schema = current_schema()"
            )
            facts.views.uses = {(str(v), str(t), str(c)) for v, t, c in rows or []}
        if any(isinstance(s.op, (DropColumn, RenameColumn)) for s in steps):
            # functions and procedures of the schema (not an extension's), each with the
            # tables whose triggers run it (its NEW.x and OLD.x are theirs)
            rows = self.execute(
                "SELECT CASE p.prokind WHEN 'p' THEN 'procedure' ELSE 'function' END, p.proname, "
                "COALESCE(c.relname, ''), p.prosrc "
                "FROM pg_proc AS p JOIN pg_namespace AS n ON n.oid = p.pronamespace "
                "LEFT JOIN pg_trigger AS t ON t.tgfoid = p.oid AND NOT t.tgisinternal "
                "LEFT JOIN pg_class AS c ON c.oid = t.tgrelid "
                "WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend AS d WHERE d.objid = p.oid AND d.deptype = 'e')"
            )
            for kind, name, table, body in rows or []:
                facts.bodies.add(str(kind), str(name), str(table), str(body or ""))
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
    api_version = API_VERSION  # the driver API it was written for (required)
    info = DriverInfo("pg", ("postgresql", "postgres"), "sql", "PostgreSQL 12+ through psycopg 3")
    features = SqlDriver.features.but(
        native_enum=True,
        advisory_lock=True,
        max_identifier_length=63,
        arrays=True,
        fractional_seconds=True,
        materialized_views=True,
    )
    #: column collations (no character sets: a database has one encoding), table
    #: comments, deferrable keys, identity ALWAYS and serial columns
    column_collations = True
    deferrable_keys = True
    table_comments = True
    column_comments = True
    named_primary_keys = True
    partitioning = True
    identities = frozenset({"always", "serial"})

    def refusals(self, state: Any, server: str | None, steps: Sequence[Step] = ()) -> list[Refusal]:
        """The SQL base's, and a collation on an enum column (an enum type has none)."""
        out = super().refusals(state, server, steps)
        for table in state.tables.values():
            for c in table.columns:
                if c.type == "enum" and c.collation is not None:
                    out.append(
                        Refusal(table.name, c.name, f"collation {c.collation!r}: a pg enum type has no collation")
                    )
        return out

    #: indexes and unique constraints are relations of the schema; foreign keys and
    #: checks are named per table
    name_scopes = {"indexes": "relations", "uniques": "relations", "foreign_keys": "table", "checks": "table"}
    index_options = frozenset({"where", "expressions", "descending", "include", "method", "operator_classes"})
    index_methods = ("btree", "hash", "gin", "gist", "brin", "spgist")
    generated_columns = ("stored",)  # PostgreSQL 15 has no virtual generated column
    dialect = "postgresql"
    renderer_class = "modelmig_pg.render:PgRenderer"
    operation_names = RENDERER_OPERATIONS | {"AlterColumn"}
    type_names = RENDERER_TYPE_NAMES | {
        "jsonText",
        "inet",
        "cidr",
        "macaddr",
        "tsvector",
        "interval",
    }  # PgRenderer.types
    reflection_class = "modelmig_pg.reflect:PgReflection"
    session_class = PgSession

    def open(self, url: str) -> Any:
        import psycopg

        url_options(url)
        return psycopg.connect(conninfo(url), autocommit=True, application_name="modelmig")

    def open_for_ledger(self, url: str) -> Any | None:
        """psycopg2 where it is installed: libpq as psycopg's, so the same URI, service
        and password files, environment and TLS settings, with about a quarter of
        psycopg's import (asyncio, its adapters): the nothing-pending read of every
        deploy. Without it, psycopg serves (None)."""
        try:
            import psycopg2
        except ImportError:
            return None
        url_options(url)
        raw = psycopg2.connect(conninfo(url), application_name="modelmig")
        raw.autocommit = True
        return raw

    def cost(self, step: Step | None, statement: str, server: str | None) -> list[Finding]:
        """The statement's risks on a busy table, from the cost table (``costs.py``)."""
        from .costs import cost

        return cost(step, statement, server)

    def lint_plan(
        self, plan: Sequence[tuple[Step | None, str]], server: str | None, atomic: bool
    ) -> list[list[Finding]]:
        """``cost`` of each statement, and lock_timeout/statement_timeout where no
        ``SET`` earlier in the migration bounds a DDL statement (``costs.py``)."""
        from .costs import lint_plan

        return lint_plan(plan, server, atomic)

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        """pg_dump's custom format of one exported snapshot, then pg_restore reads it
        back: the rows of every table are counted in its COPY blocks. The live
        counts are taken inside the REPEATABLE READ transaction that exported the
        snapshot pg_dump reads (``--snapshot``), so writers elsewhere change neither."""
        from psycopg import sql

        path = directory / f"{label}.dump"
        args, env = libpq_args(session.url)
        pg_dump, pg_restore = find_tool("pg_dump"), find_tool("pg_restore")
        raw = self.open(session.url)
        try:
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            snapshot = raw.execute("SELECT pg_export_snapshot()").fetchone()[0]
            live: dict[TableKey, int] = {}
            for schema, table in raw.execute(DUMPED_TABLES).fetchall():
                query = sql.SQL("SELECT COUNT(*) FROM ONLY {}").format(sql.Identifier(schema, table))
                live[(schema, table)] = int(raw.execute(query).fetchone()[0])
            command = [pg_dump, "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={path}", *args]
            run_tool(command, env)  # while the exporting transaction is open
            raw.execute("COMMIT")
        finally:
            raw.close()
        with tool_lines([pg_restore, "--data-only", "--file=-", str(path)], env) as lines:
            rows = copy_counts(lines)
        return Backup(path, rows, live)


driver = PgDriver()

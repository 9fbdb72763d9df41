"""The MySQL 8 / MariaDB 10.11+ driver (PyMySQL). Imports neither PyMySQL
nor SQLAlchemy at module level: PyMySQL is imported in ``open`` and DDL
rendering (render.py) is loaded only when a migration is rendered.

MySQL commits every DDL statement on its own, so a migration cannot be rolled
back as a whole: the ledger row is written as ``running`` before the first
statement, its ``progress`` is updated after each statement, and it is marked
``applied`` (or deleted, when rolling back) at the end (the core's
``ledger.py``). An interrupted migration is then reported
by name on the next ``migrate:status``/``migrate:run`` until
``migrate:resolve`` settles it. One runner per database: ``GET_LOCK``, a
session-level named lock, with the configured timeout.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Hashable, Iterable, Sequence
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
    MigrationFailed,
    Refusal,
    Session,
    SqlDriver,
    SqlSession,
    Step,
    TableKey,
    redact,
)
from modelmig_core.api_sql import find_tool, tool_writing

ER_NO_SUCH_TABLE = 1146
#: a lock not granted in time: 1205 (lock_wait_timeout / innodb_lock_wait_timeout
#: fired, a metadata lock included), 3572 (NOWAIT, MySQL 8)
LOCK_NOT_GRANTED = frozenset({1205, 3572})
#: server errors after which a statement may have done part of its work: shutdown,
#: query interrupted (KILL QUERY), connection killed, statement timeouts
MIDWAY_ERRORS = frozenset({1053, 1317, 1927, 1969, 3024})
STRICT_SQL_MODE = ",".join(
    (
        "STRICT_ALL_TABLES",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "NO_ENGINE_SUBSTITUTION",
    )
)


SSL_MODES = ("DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY")
URL_OPTIONS = frozenset(
    {"charset", "collation", "unix_socket", "connect_timeout", "ssl_mode", "ssl_ca", "ssl_cert", "ssl_key"}
)
DEFAULT_COLLATION = "utf8mb4_unicode_ci"  # PAD SPACE on MySQL 8 and MariaDB alike


def tls_args(options: dict[str, str], url: str) -> dict[str, Any]:
    """``ssl_mode`` (as MySQL's client spells it) and ``ssl_ca``/``ssl_cert``/``ssl_key``
    -> PyMySQL's ``ssl`` options."""
    mode = options.get("ssl_mode", "VERIFY_IDENTITY" if "ssl_ca" in options else "PREFERRED").upper()
    if mode not in SSL_MODES:
        raise ConfigError(f"{redact(url)}: ssl_mode must be one of {', '.join(SSL_MODES)}")
    if mode == "DISABLED":
        return {"ssl_disabled": True}
    if mode == "PREFERRED" and not ({"ssl_cert", "ssl_key"} & set(options)):
        return {}
    if mode in ("VERIFY_CA", "VERIFY_IDENTITY") and "ssl_ca" not in options:
        raise ConfigError(f"{redact(url)}: ssl_mode={mode} needs ssl_ca (the CA certificate file)")
    ssl: dict[str, Any] = {
        "verify_mode": "required" if mode in ("VERIFY_CA", "VERIFY_IDENTITY") else "none",
        "check_hostname": mode == "VERIFY_IDENTITY",
    }
    for key in ("ca", "cert", "key"):
        if f"ssl_{key}" in options:
            ssl[key] = options[f"ssl_{key}"]
    return {"ssl": ssl}


NAME_GRAMMAR = re.compile(r"[A-Za-z0-9_]{1,64}")  # a character set's or a collation's name
MAX_CONNECT_TIMEOUT = 31_536_000  # PyMySQL's own bound


def option_error(url: str, key: str, why: str) -> ConfigError:
    return ConfigError(f"cannot connect to {redact(url)}: URL option {key}: {why}")


def url_options(url: str) -> dict[str, str]:
    """The query options of a mysql:// URL, each checked against what it may be
    (a name is a name, never SQL: ``charset`` and ``collation`` reach ``SET NAMES``
    and every table's DDL); an unknown, repeated or empty one is an error, not ignored."""
    options: dict[str, str] = {}
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        if key not in URL_OPTIONS:
            raise option_error(url, repr(key), f"unknown (known: {', '.join(sorted(URL_OPTIONS))})")
        if key in options:
            raise option_error(url, key, "given twice")
        if not value or "\x00" in value:
            raise option_error(url, key, "empty or holding a NUL character")
        if key in ("charset", "collation") and not NAME_GRAMMAR.fullmatch(value):
            raise option_error(url, key, f"{value!r} is not a {key} name (letters, digits and _)")
        if key == "connect_timeout" and not (value.isdigit() and 0 < int(value) <= MAX_CONNECT_TIMEOUT):
            raise option_error(url, key, f"must be a whole number of seconds from 1 to {MAX_CONNECT_TIMEOUT}")
        if key in ("ssl_ca", "ssl_cert", "ssl_key") and not Path(value).is_file():
            raise option_error(url, key, f"{value!r} is not a file")
        options[key] = value
    if "charset" in options:
        from pymysql.charset import charset_by_name

        try:
            known = charset_by_name(options["charset"].lower()) is not None
        except KeyError:
            known = False
        if not known:
            raise option_error(url, "charset", f"{options['charset']!r} is not a MySQL character set")
    return options


def check_collation(raw: Any, url: str, charset: str, collation: str) -> None:
    """The collation must be one of the server's own for the connection's
    character set (information_schema.COLLATIONS): then it is set, as a quoted
    value (``SET NAMES`` takes strings)."""
    with raw.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM information_schema.COLLATIONS WHERE COLLATION_NAME = %s AND CHARACTER_SET_NAME = %s",
            (collation, charset),
        )
        if not cur.fetchall():
            raise option_error(url, "collation", f"{collation!r} is not a collation of {charset} on this server")
        cur.execute("SET NAMES %s COLLATE %s", (charset, collation))


def connect_args(url: str) -> dict[str, Any]:
    """mysql[+pymysql]://user:password@host:port/database?charset=...&ssl_mode=... ->
    pymysql.connect kwargs."""
    parts = urlsplit(url)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise ConfigError(f"{redact(url)}: name the database, as in mysql://user@host/database")
    args: dict[str, Any] = {
        "host": parts.hostname or "localhost",
        "port": parts.port or 3306,
        "user": unquote(parts.username or "root"),
        "password": unquote(parts.password or ""),
        "database": database,
        "charset": "utf8mb4",
        "autocommit": True,
        "connect_timeout": 10,
        # the server never invents or truncates data: what does not fit is an error
        "init_command": f"SET SESSION sql_mode = '{STRICT_SQL_MODE}'",
    }
    options = url_options(url)
    for key in ("charset", "collation", "unix_socket"):
        if key in options:
            args[key] = options[key]
    if "connect_timeout" in options:
        try:
            args["connect_timeout"] = int(options["connect_timeout"])
        except ValueError:
            raise ConfigError(f"{redact(url)}: connect_timeout must be a number of seconds") from None
    args.setdefault("collation", DEFAULT_COLLATION if args["charset"] == "utf8mb4" else None)
    if args["collation"] is None:
        del args["collation"]
    args.update(tls_args(options, url))
    return args


def pymysql_args(url: str) -> dict[str, Any]:
    """``connect_args`` for pymysql.connect: the collation is checked and set once
    connected (``check_collation``), never pasted into PyMySQL's ``SET NAMES``."""
    args = connect_args(url)
    args.pop("collation", None)
    return args


SANDBOX_LINE = "/*M!999999\\- enable the sandbox mode */"


def portable_dump(path: Path) -> None:
    """mariadb-dump starts its dumps with a MariaDB-only command (the sandbox line)
    that MySQL's own client refuses; a dump of a MySQL server drops it, so that
    ``mysql < dump.sql`` restores it."""
    with path.open(encoding="utf-8", errors="surrogateescape") as f:
        first = f.readline()
        if first.strip() != SANDBOX_LINE:
            return
        rest = f.read()
    path.write_text(rest, encoding="utf-8", errors="surrogateescape")


def lock_name(database: str) -> str:
    """GET_LOCK names are at most 64 characters."""
    name = f"modelmig:{database}"
    return name if len(name) <= 64 else "modelmig:" + hashlib.sha256(database.encode()).hexdigest()[:40]


class MysqlSession(SqlSession):
    param = "%s"

    def is_missing_table(self, exc: Exception) -> bool:
        args = getattr(exc, "args", ())
        return bool(args) and args[0] == ER_NO_SUCH_TABLE

    def lock_not_granted(self, exc: BaseException) -> bool:
        """Error 1205 (Lock wait timeout exceeded: the plan's lock_wait_timeout
        fired) or 3572 (NOWAIT): the statement did not run, and is tried again."""
        import pymysql

        args = getattr(exc, "args", ())
        return isinstance(exc, pymysql.err.MySQLError) and bool(args) and args[0] in LOCK_NOT_GRANTED

    def refused(self, exc: BaseException) -> bool:
        """An error the server replied with (its numbers; 2000-2999 are the
        client's own: a lost connection), but for the ones that stop a statement
        midway (killed, interrupted, shut down, timed out)."""
        import pymysql

        args = getattr(exc, "args", ())
        code = args[0] if args and isinstance(args[0], int) else None
        return (
            isinstance(exc, pymysql.err.MySQLError)
            and code is not None
            and code >= 1000
            and not 2000 <= code < 3000
            and code not in MIDWAY_ERRORS
        )

    def completed(self, statement: Any) -> str | None:
        """Whether the effects of ``statement`` (``resume.effects``: a column, an
        index, a named constraint added, renamed or dropped) are all in place now:
        then it completed after an earlier runner died, before the ledger recorded it."""
        from .resume import COUNTS, effects

        found = effects(statement.text)
        if not found:
            return None
        for e in found:
            rows = self.execute(COUNTS[e.kind], (e.table, e.name))
            if bool(rows and rows[0][0]) != e.present:
                return None
        return ", ".join(e.describe() for e in found)

    def ledger_ddl(self) -> str:
        return super().ledger_ddl() + " ENGINE=InnoDB"

    def server(self) -> str | None:
        rows = self.execute("SELECT VERSION()")
        version = str(rows[0][0]) if rows else ""
        product = "mariadb" if "mariadb" in version.lower() else "mysql"
        return f"{product}-{'.'.join(version.split('-')[0].split('.')[:2])}"

    def sql_mode(self) -> str:
        """The session's sql_mode as the server reports it (read once): literals are
        written the way it reads them (``MysqlRenderer.read_sql_mode``)."""
        mode = getattr(self, "_sql_mode", None)
        if mode is None:
            rows = self.execute("SELECT @@SESSION.sql_mode, @@SESSION.explicit_defaults_for_timestamp")
            mode = self._sql_mode = str(rows[0][0]) if rows else ""
            self.implicit_timestamps = bool(rows) and not int(rows[0][1] or 0)
            if self.implicit_timestamps:
                self.explicit_timestamps()
        return mode

    #: the server gives the first TIMESTAMP NOT NULL column without a default an
    #: implicit DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP (MariaDB before
    #: 10.10 and MySQL 5.7 by default): never wanted, so the session turns it off
    implicit_timestamps = False

    def explicit_timestamps(self) -> None:
        """``explicit_defaults_for_timestamp`` on for this session; where the server
        refuses (MySQL 8 without SESSION_VARIABLES_ADMIN) the renderer refuses such a
        column instead (``MysqlRenderer.implicit_timestamps``)."""
        import pymysql

        try:
            self.execute("SET SESSION explicit_defaults_for_timestamp = 1")
        except (pymysql.err.MySQLError, MigrationFailed):
            return
        self.implicit_timestamps = False

    def render_key(self) -> Hashable:
        """The renderer reads the charset and collation of the URL and the session's
        sql_mode, nothing else."""
        args = connect_args(self.url)
        return ("mysql", args["charset"], args.get("collation"), self.sql_mode())

    def renderer(self) -> Any:
        """Tables are created with the connection's charset and collation, stated
        explicitly: MySQL 8's default collation (NO PAD) and MariaDB's (PAD SPACE)
        compare 'a' and 'a ' differently, so neither default is left to the server."""
        renderer = super().renderer()
        renderer.read_sql_mode(self.sql_mode())
        renderer.implicit_timestamps = self.implicit_timestamps
        args = connect_args(self.url)
        renderer.table_options = {"mysql_engine": "InnoDB", "mysql_charset": args["charset"]}
        if "collation" in args:
            renderer.table_options["mysql_collate"] = args["collation"]
        return renderer

    def list_tables(self) -> list[str]:
        rows = self.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1"
        )
        return [r[0] for r in rows or []]

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def drop_tables(self, tables: list[str]) -> None:
        self.execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for t in tables:
                self.execute(f"DROP TABLE IF EXISTS {self.quote(t)}")
        finally:
            self.execute("SET FOREIGN_KEY_CHECKS = 1")

    def live_facts(self, steps: Sequence[Step]) -> Any:
        """The indexes that exist now, per table: dropping a foreign key also drops
        the index the server made for it, if it made one."""
        from modelmig_core.api import DropColumn, DropTable, RenameColumn, RenameTable  # off the nothing-pending path

        from .render import MysqlFacts

        rows = self.execute(
            "SELECT DISTINCT table_name, index_name FROM information_schema.statistics WHERE table_schema = DATABASE()"
        )
        facts = MysqlFacts({(str(t), str(i)) for t, i in rows or []})
        if any(isinstance(s.op, (DropColumn, DropTable, RenameColumn, RenameTable)) for s in steps):
            views = self.execute(
                "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = DATABASE()"
            )
            for name, sql in views or []:
                facts.views.add_sql(str(name), str(sql), "mysql")
        if any(isinstance(s.op, (DropColumn, RenameColumn)) for s in steps):
            triggers = self.execute(
                "SELECT trigger_name, event_object_table, action_statement FROM information_schema.triggers "
                "WHERE trigger_schema = DATABASE()"
            )
            for name, table, body in triggers or []:
                facts.bodies.add("trigger", str(name), str(table), str(body or ""))
            routines = self.execute(
                "SELECT LOWER(routine_type), routine_name, routine_definition FROM information_schema.routines "
                "WHERE routine_schema = DATABASE()"
            )
            for kind, name, body in routines or []:
                facts.bodies.add(str(kind), str(name), "", str(body or ""))
        return facts

    # ------------------------------------------------------------ lock

    def lock(self, timeout: float, on_wait: LockWait | None = None) -> None:
        """GET_LOCK waits in the server: with ``on_wait``, it first waits up to
        LOCK_NOTICE_SECONDS, says who holds the lock, then waits for the rest."""
        database = connect_args(self.url)["database"]
        name = lock_name(database)
        got = False
        if on_wait is not None and timeout > LOCK_NOTICE_SECONDS:
            got = self._get_lock(name, LOCK_NOTICE_SECONDS)
            if not got:
                on_wait(self.lock_holder(name))
                got = self._get_lock(name, timeout - LOCK_NOTICE_SECONDS)
        else:
            got = self._get_lock(name, timeout)
        if not got:
            raise LockError(
                f"another runner holds the migration lock on {database} ({redact(self.url)}); "
                f"waited {timeout:g}s — try again when it has finished"
            )
        self._lock_name: str | None = name

    def _get_lock(self, name: str, seconds: float) -> bool:
        rows = self.execute("SELECT GET_LOCK(%s, %s)", [name, math.ceil(seconds)])
        return bool(rows) and rows[0][0] == 1

    def lock_holder(self, name: str) -> str:
        """Who holds the named lock: IS_USED_LOCK gives its connection id, the
        process list the rest."""
        rows = self.execute("SELECT IS_USED_LOCK(%s)", [name])
        conn_id = rows[0][0] if rows else None
        if conn_id is None:
            return "another session held the migration lock (it has just released it)"
        info = self.execute(
            "SELECT user, host, db, command, time FROM information_schema.processlist WHERE id = %s", [conn_id]
        )
        if not info:
            return f"MySQL connection {conn_id} holds the migration lock"
        user, host, db, command, seconds = info[0]
        return (
            f"MySQL connection {conn_id} (user {user}@{host}, database {db}, {command} for {seconds}s) "
            "holds the migration lock"
        )

    def unlock(self) -> None:
        name = getattr(self, "_lock_name", None)
        if name is None:
            return
        self._lock_name = None
        try:
            self.execute("SELECT RELEASE_LOCK(%s)", [name])
        except Exception:  # noqa: BLE001 - closing the session releases the lock too
            self.raw.close()

    def close(self) -> None:
        """Closed once: ``unlock`` closes a connection that failed, and PyMySQL's
        second ``close`` would raise ("Already closed") over the error that counts."""
        if getattr(self.raw, "open", True):
            self.raw.close()


def dump_table(line: str) -> str | None:
    """The table a dump's ``CREATE TABLE `name` (`` line creates, read by sqlglot's
    MySQL tokenizer (a name with backticks, spaces or parentheses is exact); None
    for any other line."""
    if not line.startswith("CREATE TABLE "):
        return None
    from sqlglot.dialects.mysql import MySQL
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    try:
        tokens = MySQL().tokenize(line)
    except (SqlglotError, ValueError):
        tokens = []
    if len(tokens) < 3 or tokens[2].token_type not in (TokenType.IDENTIFIER, TokenType.VAR):
        raise MigrationFailed(f"the dump has a CREATE TABLE line modelmig cannot read: {line.strip()[:200]}")
    return tokens[2].text


def dump_counts(lines: Iterable[str], database: str = "") -> tuple[dict[TableKey, int], str]:
    """{(database, table): rows} of a ``--skip-extended-insert`` dump of one
    database, and its last non-empty line. A table's rows follow its ``CREATE
    TABLE``, one ``INSERT INTO `name` VALUES`` line each, the name quoted as the
    dump quotes it."""
    rows: dict[TableKey, int] = {}
    current: TableKey = ("", "")
    insert = None  # how the rows of the current table start
    last = ""
    for line in lines:
        table = dump_table(line)
        if table is not None:
            current, insert = (database, table), "INSERT INTO `" + table.replace("`", "``") + "` VALUES "
            rows.setdefault(current, 0)
        elif insert is not None and line.startswith(insert):
            rows[current] += 1
        if line.strip():
            last = line
    return dict(sorted(rows.items())), last


#: lines a dump writes only once its transaction (and so its snapshot) has
#: started: the header before them is written first
AFTER_SNAPSHOT = (
    b"-- Table structure for table ",
    b"-- Temporary table structure for view ",
    b"-- Dumping data for table ",
    b"-- Dumping routines for database ",
    b"-- Dumping events for database ",
    b"-- Dump completed",
)
#: the longest commits are held while the dump starts its snapshot (seconds);
#: past it they are let go, and the counts decide whether the backup verifies
HOLD_SECONDS = 20.0
ER_ACCESS_DENIED = (1045, 1142, 1227)


def after_snapshot(line: bytes) -> bool:
    return line.startswith(AFTER_SNAPSHOT)


def hold_commits(conn: Any, mariadb: bool) -> None:
    """No transaction commits anywhere while this connection holds it (MariaDB's
    ``BACKUP STAGE BLOCK_COMMIT``; MySQL's global read lock): every snapshot
    started meanwhile sees the same rows."""
    import pymysql

    with conn.cursor() as cur:
        cur.execute("SET SESSION lock_wait_timeout = %s", [int(HOLD_SECONDS)])
        try:
            if mariadb:
                cur.execute("BACKUP STAGE START")
                cur.execute("BACKUP STAGE BLOCK_COMMIT")
            else:
                cur.execute("FLUSH TABLES WITH READ LOCK")
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] in ER_ACCESS_DENIED:
                raise MigrationFailed(
                    "cannot take a backup: the user needs the RELOAD privilege (commits are held for a moment "
                    "while the dump and the counts start one snapshot); nothing was dropped"
                ) from None
            detail = " ".join(str(exc.args[-1] if exc.args else exc).split())
            raise MigrationFailed(
                f"cannot take a backup: holding commits while the dump starts failed: {detail}; nothing was dropped"
            ) from None


def let_commits_go(conn: Any, mariadb: bool) -> None:
    with conn.cursor() as cur:
        cur.execute("BACKUP STAGE END" if mariadb else "UNLOCK TABLES")


class MysqlDriver(SqlDriver):
    api_version = API_VERSION  # the driver API it was written for (required)
    info = DriverInfo("mysql", ("mysql", "mariadb"), "sql", "MySQL 8 and MariaDB 10.11+ through PyMySQL")
    features = SqlDriver.features.but(
        transactional_ddl=False,
        native_enum=True,
        advisory_lock=True,
        progress_ledger=True,
        max_identifier_length=64,
        fractional_seconds=True,
    )
    #: a column's own character set and collation, ON UPDATE CURRENT_TIMESTAMP,
    #: table comments; no deferrable keys, no identity ALWAYS or serial
    column_charsets = True
    column_collations = True
    on_update_now = True
    table_comments = True
    column_comments = True
    table_options = frozenset({"engine", "charset", "collation"})
    #: index names (a unique key is an index) are per table; foreign key names are
    #: per database, and so are check names on MySQL 8 (MariaDB keeps them per table)
    name_scopes = {"indexes": "table", "uniques": "table", "foreign_keys": "foreign_keys", "checks": "checks"}
    #: no partial index, no INCLUDE; MariaDB has no functional key part and InnoDB
    #: makes a B-tree whatever USING says, so neither is offered
    index_options = frozenset({"descending", "kind", "lengths"})
    index_kinds = ("fulltext", "spatial")
    generated_columns = ("stored", "virtual")
    generated_not_null = False
    generated_not_null_why = " (MariaDB takes no NULL or NOT NULL on one)"
    dialect = "mysql"
    renderer_class = "modelmig_mysql.render:MysqlRenderer"
    operation_names = RENDERER_OPERATIONS | {"AlterColumn"}
    type_names = RENDERER_TYPE_NAMES | {  # MysqlRenderer.types
        "utcTimestamp", "set", "year", "varbinary", "fixedBinary", "tinyInteger", "unsignedTinyInteger",
        "unsignedSmallInteger", "unsignedInteger", "unsignedBigInteger", "mediumText", "longText", "mediumBinary",
        "longBinary",
    }  # fmt: skip
    reflection_class = "modelmig_mysql.reflect:MysqlReflection"
    session_class = MysqlSession
    text_holds_nul = True  # written \0 (backslash escapes) or as it is

    def open(self, url: str) -> Any:
        import pymysql

        args = connect_args(url)
        raw = pymysql.connect(**pymysql_args(url))
        try:
            if "collation" in args:
                check_collation(raw, url, args["charset"], args["collation"])
        except BaseException:
            raw.close()
            raise
        return raw

    def cost(self, step: Step | None, statement: str, server: str | None) -> list[Finding]:
        """The statement's risks on a busy table at the declared server: the
        algorithm and lock InnoDB takes (``costs.py``)."""
        from .costs import cost

        return cost(step, statement, server)

    def lint_plan(
        self, plan: Sequence[tuple[Step | None, str]], server: str | None, atomic: bool
    ) -> list[list[Finding]]:
        """``cost`` of each statement, and lock_wait_timeout where no ``SET`` earlier
        in the migration bounds a DDL statement (``costs.py``)."""
        from .costs import lint_plan

        return lint_plan(plan, server, atomic)

    def refusals(self, state: Any, server: str | None, steps: Sequence[Step] = ()) -> list[Refusal]:
        """The SQL base's, and MySQL's key and enum rules (``rules.py``)."""
        from .rules import enum_refusals, index_refusals

        out = super().refusals(state, server, steps) + index_refusals(state) + enum_refusals(state)
        for table in state.tables.values():
            for c in table.columns:
                if c.charset is not None and c.collation is None:
                    out.append(
                        Refusal(
                            table.name,
                            c.name,
                            f"charset {c.charset!r} without a collation: its default collation differs between "
                            "MySQL and MariaDB versions; give collation= too",
                        )
                    )
        return out

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        """mariadb-dump (or mysqldump) in one consistent snapshot, one INSERT per row;
        read back: the dump must be complete, and its INSERTs are counted per table.

        The live rows are counted in a snapshot of the same moment: while one
        connection holds every commit back (``hold_commits``), a second starts a
        consistent snapshot and the dump starts its own (``--single-transaction``);
        commits go on as soon as the dump has written a line it writes only after
        that. The second connection then counts, inside its snapshot."""
        assert isinstance(session, MysqlSession)
        args = connect_args(session.url)
        database = args["database"]
        path = directory / f"{label}.sql"
        mariadb = (session.server() or "").startswith("mariadb")
        command = [
            find_tool("mariadb-dump", "mysqldump"),
            f"--host={args['host']}",
            f"--port={args['port']}",
            f"--user={args['user']}",
            "--single-transaction",
            "--skip-extended-insert",
            "--routines",
            "--triggers",
            database,
        ]
        env = {"MYSQL_PWD": args["password"]} if args["password"] else {}
        holder, counter = self.open(session.url), self.open(session.url)
        try:
            with counter.cursor() as cur:
                cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                hold_commits(holder, mariadb)
                held = True
                try:
                    cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")
                    cur.execute(
                        "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() "
                        "AND table_type IN ('BASE TABLE', 'SYSTEM VERSIONED') ORDER BY 1"
                    )
                    tables = [str(r[0]) for r in cur.fetchall()]
                    with tool_writing(command, env, path, after_snapshot) as started:
                        started.wait(HOLD_SECONDS)
                        held = False
                        let_commits_go(holder, mariadb)
                finally:
                    if held:
                        let_commits_go(holder, mariadb)
                live: dict[TableKey, int] = {}
                for table in tables:
                    cur.execute(f"SELECT COUNT(*) FROM {session.quote(table)}")
                    live[(database, table)] = int(cur.fetchone()[0])
                cur.execute("COMMIT")
        finally:
            holder.close()
            counter.close()
        with path.open(encoding="utf-8", errors="replace") as dump:
            rows, last = dump_counts(dump, database)
        if not last.startswith("-- Dump completed"):
            raise MigrationFailed(f"backup {path} does not verify: the dump is incomplete; nothing was dropped")
        if not mariadb:
            portable_dump(path)
        return Backup(path, rows, live)


driver = MysqlDriver()

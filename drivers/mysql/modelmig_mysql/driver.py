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
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from modelmig_core.api import (
    Backup,
    ConfigError,
    DriverInfo,
    LockError,
    MigrationFailed,
    Session,
    SqlDriver,
    SqlSession,
    Step,
    find_tool,
    redact,
    run_tool,
)

ER_NO_SUCH_TABLE = 1146
STRICT_SQL_MODE = ",".join(
    (
        "STRICT_ALL_TABLES",
        "NO_ZERO_DATE",
        "NO_ZERO_IN_DATE",
        "ERROR_FOR_DIVISION_BY_ZERO",
        "NO_ENGINE_SUBSTITUTION",
    )
)


def connect_args(url: str) -> dict[str, Any]:
    """mysql[+pymysql]://user:password@host:port/database?charset=... -> pymysql.connect kwargs."""
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
    for key, values in parse_qs(parts.query).items():
        if key == "charset":
            args["charset"] = values[-1]
        elif key == "unix_socket":
            args["unix_socket"] = values[-1]
        elif key == "connect_timeout":
            args["connect_timeout"] = int(values[-1])
    return args


def lock_name(database: str) -> str:
    """GET_LOCK names are at most 64 characters."""
    name = f"modelmig:{database}"
    return name if len(name) <= 64 else "modelmig:" + hashlib.sha256(database.encode()).hexdigest()[:40]


class MysqlSession(SqlSession):
    param = "%s"

    def is_missing_table(self, exc: Exception) -> bool:
        args = getattr(exc, "args", ())
        return bool(args) and args[0] == ER_NO_SUCH_TABLE

    def ledger_ddl(self) -> str:
        return super().ledger_ddl() + " ENGINE=InnoDB"

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
        from .render import MysqlFacts

        rows = self.execute(
            "SELECT DISTINCT table_name, index_name FROM information_schema.statistics WHERE table_schema = DATABASE()"
        )
        facts = MysqlFacts({(str(t), str(i)) for t, i in rows or []})
        if any(type(s.op).__name__ == "DropColumn" for s in steps):
            views = self.execute(
                "SELECT table_name, view_definition FROM information_schema.views WHERE table_schema = DATABASE()"
            )
            for name, sql in views or []:
                facts.views.add_sql(str(name), str(sql), "mysql")
        return facts

    # ------------------------------------------------------------ lock

    def lock(self, timeout: float) -> None:
        database = connect_args(self.url)["database"]
        name = lock_name(database)
        rows = self.execute("SELECT GET_LOCK(%s, %s)", [name, math.ceil(timeout)])
        if not rows or rows[0][0] != 1:
            raise LockError(
                f"another runner holds the migration lock on {database} ({redact(self.url)}); "
                f"waited {timeout:g}s — try again when it has finished"
            )
        self._lock_name: str | None = name

    def unlock(self) -> None:
        name = getattr(self, "_lock_name", None)
        if name is None:
            return
        self._lock_name = None
        try:
            self.execute("SELECT RELEASE_LOCK(%s)", [name])
        except Exception:  # noqa: BLE001 - closing the session releases the lock too
            self.raw.close()


class MysqlDriver(SqlDriver):
    info = DriverInfo("mysql", ("mysql", "mariadb"), "sql", "MySQL 8 and MariaDB 10.11+ through PyMySQL")
    features = SqlDriver.features.but(
        transactional_ddl=False,
        native_enum=True,
        advisory_lock=True,
        progress_ledger=True,
        max_identifier_length=64,
    )
    dialect = "mysql"
    renderer_class = "modelmig_mysql.render:MysqlRenderer"
    session_class = MysqlSession

    def open(self, url: str) -> Any:
        import pymysql

        return pymysql.connect(**connect_args(url))

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        """mariadb-dump (or mysqldump) in one consistent snapshot, one INSERT per row;
        read back: the dump must be complete, and its INSERTs are counted per table."""
        args = connect_args(session.url)
        path = directory / f"{label}.sql"
        command = [
            find_tool("mariadb-dump", "mysqldump"),
            f"--host={args['host']}",
            f"--port={args['port']}",
            f"--user={args['user']}",
            "--single-transaction",
            "--skip-extended-insert",
            "--routines",
            "--triggers",
            f"--result-file={path}",
            args["database"],
        ]
        run_tool(command, {"MYSQL_PWD": args["password"]} if args["password"] else {})
        rows: dict[str, int] = {}
        tables: set[str] = set()
        last = ""
        with path.open(encoding="utf-8", errors="replace") as dump:
            for line in dump:
                if line.startswith("CREATE TABLE `"):
                    tables.add(line[len("CREATE TABLE `") :].split("` (", 1)[0].replace("``", "`"))
                if line.startswith("INSERT INTO `"):
                    table = line[len("INSERT INTO `") :].split("` VALUES", 1)[0].replace("``", "`")
                    rows[table] = rows.get(table, 0) + 1
                if line.strip():
                    last = line
        if not last.startswith("-- Dump completed"):
            raise MigrationFailed(f"backup {path} does not verify: the dump is incomplete; nothing was dropped")
        return Backup(path, {t: rows.get(t, 0) for t in sorted(tables | set(rows))})


driver = MysqlDriver()

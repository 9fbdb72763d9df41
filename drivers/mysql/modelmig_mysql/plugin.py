"""The MySQL 8 / MariaDB 10.11+ driver plugin (PyMySQL). Imports neither PyMySQL
nor SQLAlchemy at module level: PyMySQL is imported in ``open`` and DDL
rendering (render.py) is loaded only when a migration is rendered.

MySQL commits every DDL statement on its own, so a migration cannot be rolled
back as a whole: the ledger row is written as ``running`` before the first
statement, its ``progress`` is updated after each statement, and it is marked
``applied`` (or deleted, when rolling back) at the end
(``SqlDriver.tracked_migration``). An interrupted migration is then reported
by name on the next ``migrate:status``/``migrate:run`` until
``migrate:resolve`` settles it. One runner per database: ``GET_LOCK``, a
session-level named lock, with the configured timeout.
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from modelmig_core.driver import Backup, Connection, redact
from modelmig_core.errors import ConfigError, LockError, MigrationFailed
from modelmig_core.hookspecs import hookimpl
from modelmig_core.sql.plugin import SqlDriver
from modelmig_core.sql.tools import find_tool, run_tool

ER_NO_SUCH_TABLE = 1146


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


class MysqlDriver(SqlDriver):
    name = "mysql"
    schemes = ("mysql", "mariadb")
    dialect = "mysql"
    renderer_class = "modelmig_mysql.render:MysqlRenderer"
    capabilities = frozenset({"sql", "advisory_lock", "progress_ledger"})
    max_identifier_length = 64
    transactional_ddl = False
    param = "%s"
    description = "MySQL 8 and MariaDB 10.11+ through PyMySQL"

    def open(self, url: str) -> Any:
        import pymysql

        return pymysql.connect(**connect_args(url))

    def is_missing_table(self, exc: Exception) -> bool:
        args = getattr(exc, "args", ())
        return bool(args) and args[0] == ER_NO_SUCH_TABLE

    def ledger_ddl(self) -> str:
        return super().ledger_ddl() + " ENGINE=InnoDB"

    def list_tables(self, raw: Any) -> list[str]:
        rows = self.execute(
            raw,
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY 1",
        )
        return [r[0] for r in rows or []]

    def quote(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def drop_tables(self, raw: Any, tables: list[str]) -> None:
        self.execute(raw, "SET FOREIGN_KEY_CHECKS = 0")
        try:
            for t in tables:
                self.execute(raw, f"DROP TABLE IF EXISTS {self.quote(t)}")
        finally:
            self.execute(raw, "SET FOREIGN_KEY_CHECKS = 1")

    # ------------------------------------------------------------ backup

    @hookimpl
    def backup(self, connection: Connection, directory: Path, label: str) -> Backup | None:
        """mariadb-dump (or mysqldump) in one consistent snapshot, one INSERT per row;
        read back, the dump must be complete and hold every table's live row count."""
        if not self._mine(connection):
            return None
        args = connect_args(connection.url)
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
        last = ""
        with path.open(encoding="utf-8", errors="replace") as dump:
            for line in dump:
                if line.startswith("INSERT INTO `"):
                    table = line[len("INSERT INTO `") :].split("` VALUES", 1)[0].replace("``", "`")
                    rows[table] = rows.get(table, 0) + 1
                if line.strip():
                    last = line
        live = self.row_counts(connection.raw)
        if not last.startswith("-- Dump completed"):
            raise MigrationFailed(f"backup {path} does not verify: the dump is incomplete; nothing was dropped")
        wrong = sorted(t for t, n in live.items() if rows.get(t, 0) != n)
        if wrong:
            raise MigrationFailed(
                f"backup {path} does not verify: {wrong[0]} has {live[wrong[0]]} rows, the backup "
                f"{rows.get(wrong[0], 0)}; nothing was dropped"
            )
        return Backup(path, {t: rows.get(t, 0) for t in live})

    # ------------------------------------------------------------ lock

    def lock(self, conn: Connection, timeout: float) -> None:
        database = connect_args(conn.url)["database"]
        name = lock_name(database)
        rows = self.execute(conn.raw, "SELECT GET_LOCK(%s, %s)", [name, math.ceil(timeout)])
        if not rows or rows[0][0] != 1:
            raise LockError(
                f"another runner holds the migration lock on {database} ({redact(conn.url)}); "
                f"waited {timeout:g}s — try again when it has finished"
            )
        conn.extra["lock_name"] = name

    def unlock(self, conn: Connection) -> None:
        name = conn.extra.pop("lock_name", None)
        if name is None:
            return
        try:
            self.execute(conn.raw, "SELECT RELEASE_LOCK(%s)", [name])
        except Exception:  # noqa: BLE001 - closing the session releases the lock too
            conn.raw.close()


plugin = MysqlDriver()

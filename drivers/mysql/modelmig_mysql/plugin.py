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
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from modelmig_core.driver import Connection, redact
from modelmig_core.errors import ConfigError, LockError
from modelmig_core.sql.plugin import SqlDriver

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

    def drop_tables(self, raw: Any, tables: list[str]) -> None:
        self.execute(raw, "SET FOREIGN_KEY_CHECKS = 0")
        try:
            for t in tables:
                self.execute(raw, "DROP TABLE IF EXISTS `{}`".format(t.replace("`", "``")))
        finally:
            self.execute(raw, "SET FOREIGN_KEY_CHECKS = 1")

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

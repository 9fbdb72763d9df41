"""The SQLite driver plugin. Imports no SQLAlchemy: the ledger and transactions
go through sqlite3 directly; DDL rendering (render.py) is loaded when needed.

Each migration runs in ``BEGIN IMMEDIATE`` (SQLite's write lock serializes
runners) with foreign keys switched off *before* the transaction starts, since
``PRAGMA foreign_keys`` has no effect inside one: a table rebuild then never
cascades into child rows. ``PRAGMA foreign_key_check`` runs before COMMIT.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from modelmig_core.driver import Backup, Connection
from modelmig_core.errors import ConfigError, LockError, MigrationFailed
from modelmig_core.hookspecs import hookimpl
from modelmig_core.sql.plugin import SqlDriver

if TYPE_CHECKING:
    from modelmig_core.migrations import Migration


def sqlite_path(url: str) -> str:
    """sqlite:///relative.db, sqlite:////absolute.db, sqlite:// or sqlite:///:memory:."""
    if not url.startswith("sqlite://"):
        raise ConfigError(f"{url!r} is not a sqlite:// URL")
    rest = url[len("sqlite://") :]
    path = urlsplit("x://" + rest).path if "?" in rest else rest
    if path in ("", "/", "/:memory:"):
        return ":memory:"
    if not path.startswith("/"):
        raise ConfigError(f"{url!r}: write sqlite:///relative/path.db or sqlite:////absolute/path.db")
    return path[1:]


class SqliteDriver(SqlDriver):
    name = "sqlite"
    schemes = ("sqlite",)
    dialect = "sqlite"
    renderer_class = "modelmig_sqlite.render:SqliteRenderer"
    transactional_ddl = True
    param = "?"
    description = "SQLite 3.35+ through the standard library's sqlite3"

    def open(self, url: str) -> Any:
        path = sqlite_path(url)
        query = parse_qs(urlsplit(url).query)
        timeout = float(query.get("timeout", ["30"])[0])
        if path != ":memory:" and not Path(path).parent.exists():
            raise ConfigError(f"sqlite database folder {Path(path).parent} does not exist")
        raw = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        raw.execute("PRAGMA foreign_keys=ON")
        return raw

    def is_missing_table(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)

    def begin(self, raw: Any) -> None:
        try:
            self.execute(raw, "BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise LockError("another runner holds the SQLite write lock; try again when it has finished") from None
            raise

    def list_tables(self, raw: Any) -> list[str]:
        rows = self.execute(
            raw, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [r[0] for r in rows or []]

    def drop_tables(self, raw: Any, tables: list[str]) -> None:
        self.execute(raw, "PRAGMA foreign_keys=OFF")
        try:
            self.execute(raw, "BEGIN IMMEDIATE")
            for (view,) in self.execute(raw, "SELECT name FROM sqlite_master WHERE type = 'view'") or []:
                self.execute(raw, f"DROP VIEW IF EXISTS {self.quote(view)}")
            for t in tables:
                self.execute(raw, f"DROP TABLE IF EXISTS {self.quote(t)}")
            self.execute(raw, "COMMIT")
        except BaseException:
            if raw.in_transaction:
                self.execute(raw, "ROLLBACK")
            raise
        finally:
            self.execute(raw, "PRAGMA foreign_keys=ON")

    @contextmanager
    def migration_transaction(
        self, conn: Connection, migration: Migration, direction: str, batch: int
    ) -> Iterator[bool]:
        raw = conn.raw
        self.execute(raw, "PRAGMA foreign_keys=OFF")  # must precede BEGIN to take effect
        try:
            with super().migration_transaction(conn, migration, direction, batch) as go:
                yield go
                if go:
                    self.check_foreign_keys(raw, migration)
        finally:
            self.execute(raw, "PRAGMA foreign_keys=ON")

    @hookimpl
    def backup(self, connection: Connection, directory: Path, label: str) -> Backup | None:
        """SQLite's online backup API into one file, then read back: integrity_check
        and every table's row count must match the live database."""
        if not self._mine(connection):
            return None
        path = directory / f"{label}.sqlite3"
        copy = sqlite3.connect(path)
        try:
            connection.raw.backup(copy)
            integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
            rows = self.row_counts(copy)
        finally:
            copy.close()
        live = self.row_counts(connection.raw)
        if integrity != "ok" or rows != live:
            raise MigrationFailed(f"backup {path} does not verify (integrity: {integrity}); nothing was dropped")
        return Backup(path, rows)

    def check_foreign_keys(self, raw: Any, migration: Migration) -> None:
        bad = self.execute(raw, "PRAGMA foreign_key_check")
        if bad:
            table, rowid, parent, _ = bad[0]
            raise MigrationFailed(
                f"{migration.path.name}: leaves {len(bad)} row(s) that break a foreign key "
                f"(first: {table} rowid {rowid} -> {parent}); nothing was changed"
            )


plugin = SqliteDriver()

"""The DuckDB driver: ``duckdb:///relative.duckdb``, ``duckdb:////absolute.duckdb``.

Written as a third party would, on ``modelmig_core.api`` alone. Imports neither
duckdb's SQLAlchemy dialect nor SQLAlchemy: DDL rendering (render.py) is loaded
only when a migration is rendered.

- The transaction rule: DuckDB's ``cursor()`` opens a *separate* connection, so
  ``cursor()`` returns the connection itself: BEGIN, the DDL, the ledger row and
  COMMIT all run on it, and a failing migration leaves nothing behind.
- One runner at a time: DuckDB lets one process open a database file for writing;
  within that process a lock per file serializes runners.
- Backups: ``COPY FROM DATABASE`` into a new file, whose rows are counted.
- Reflection (reflect.py): duckdb_columns(), duckdb_constraints() and
  duckdb_indexes() (the SQLAlchemy dialect cannot reflect); DuckDB does not keep
  constraint names.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from modelmig_core.api import (
    API_VERSION,
    LOCK_NOTICE_SECONDS,
    RENDERER_OPERATIONS,
    RENDERER_TYPE_NAMES,
    Backup,
    ConfigError,
    DriverInfo,
    LockError,
    LockWait,
    Session,
    SqlDriver,
    SqlSession,
)

_LOCKS: dict[str, threading.Lock] = {}


def database_path(url: str) -> str:
    if not url.startswith("duckdb://"):
        raise ConfigError(f"{url!r} is not a duckdb:// URL")
    path, _, query = url[len("duckdb://") :].partition("?")
    if query:  # none is read: one given would be silently ignored
        option = query.split("=", 1)[0][:40]
        raise ConfigError(f"cannot open {url.split('?', 1)[0]}: URL option {option!r}: unknown (duckdb:// takes none)")
    if path in ("", "/", "/:memory:"):
        return ":memory:"
    if not path.startswith("/"):
        raise ConfigError(f"{url!r}: write duckdb:///relative/path.duckdb or duckdb:////absolute/path.duckdb")
    return path[1:]


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class DuckdbSession(SqlSession):
    param = "?"

    def cursor(self) -> Any:
        return self.raw  # DuckDB's cursor() is another connection: never use it

    def is_missing_table(self, exc: Exception) -> bool:
        import duckdb

        return isinstance(exc, duckdb.CatalogException) and "does not exist" in str(exc)

    def list_tables(self) -> list[str]:
        rows = self.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = current_schema() ORDER BY 1"
        )
        return [r[0] for r in rows or []]

    def drop_tables(self, tables: list[str]) -> None:
        """Children before their parents (DuckDB refuses to drop a referenced table),
        then the sequences of auto-increment columns."""
        edges = self.execute(
            "SELECT table_name, referenced_table FROM duckdb_constraints() "
            "WHERE constraint_type = 'FOREIGN KEY' AND database_name = current_database()"
        )
        left = set(tables)
        with self.transaction():
            while left:
                free = sorted(t for t in left if not any(p == t and c in left and c != t for c, p in edges or []))
                for t in free or sorted(left):
                    self.execute(f"DROP TABLE IF EXISTS {self.quote(t)}")
                left -= set(free or left)
            for (seq,) in (
                self.execute("SELECT sequence_name FROM duckdb_sequences() WHERE database_name = current_database()")
                or []
            ):
                self.execute(f"DROP SEQUENCE IF EXISTS {self.quote(seq)}")

    def lock(self, timeout: float, on_wait: LockWait | None = None) -> None:
        lock = _LOCKS.setdefault(database_path(self.url), threading.Lock())
        first = min(max(timeout, 0), LOCK_NOTICE_SECONDS)
        if not lock.acquire(timeout=first):
            if on_wait is not None and timeout > first:
                on_wait("another runner of this process holds the lock on this DuckDB file")
            if timeout <= first or not lock.acquire(timeout=timeout - first):
                raise LockError(f"another runner holds the migration lock on {self.url}; waited {timeout:g}s")
        self._lock: threading.Lock | None = lock

    def unlock(self) -> None:
        lock, self._lock = getattr(self, "_lock", None), None
        if lock is not None:
            lock.release()


class DuckdbDriver(SqlDriver):
    api_version = API_VERSION  # the driver API it was written for (required)
    info = DriverInfo("duckdb", ("duckdb",), "sql", "DuckDB 1.1+ through the duckdb package")
    # What DuckDB 1.1+ has, as its catalogue and parser answer (checked on 2.0):
    # foreign keys (declared with the table; only RESTRICT / NO ACTION), unique
    # keys (made unique indexes), auto-increment keys (a sequence per column),
    # checks (declared with the table), type changes (the table's indexes are
    # dropped around them) and unique keys added to or dropped from an existing
    # table (CREATE/DROP of a unique index): the base's foreign_keys,
    # unique_constraints, increments, check_constraints, alter_column_type and
    # add_unique_to_existing_table stay true. What it lacks:
    features = SqlDriver.features.but(
        fk_actions=False,  # no ON DELETE / ON UPDATE actions
        add_constraint_to_existing_table=False,  # no ALTER TABLE ADD/DROP CONSTRAINT (FOREIGN KEY, CHECK)
        alter_referenced_table=False,  # a table an FK points at cannot be altered or renamed
        alter_constrained_column=False,  # nor an FK's own columns, nor a type under a CHECK ("cannot change the type")
        add_not_null_column_to_indexed_table=False,  # re-indexing rows a default filled fails in a transaction
        constraint_names=False,  # DuckDB names constraints itself
        enforces_length=False,  # VARCHAR(n) stores a longer value whole
    )
    # COMMENT ON COLUMN is kept (through renames and type changes) and read back from duckdb_columns()
    column_comments = True
    dialect = "duckdb"
    renderer_class = "modelmig_duckdb.render:DuckdbRenderer"
    operation_names = RENDERER_OPERATIONS | {"AlterColumn"}
    type_names = RENDERER_TYPE_NAMES - {"char"}  # render.TYPES
    reflection_class = "modelmig_duckdb.reflect:DuckdbReflection"  # imported only to reflect
    session_class = DuckdbSession

    def open(self, url: str) -> Any:
        import duckdb

        path = database_path(url)
        if path != ":memory:" and not Path(path).parent.exists():
            raise ConfigError(f"duckdb database folder {Path(path).parent} does not exist")
        return duckdb.connect(path)

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        assert isinstance(session, DuckdbSession)
        path = directory / f"{label}.duckdb"
        (source,) = (session.execute("SELECT current_database()") or [("memory",)])[0]
        session.execute(f"ATTACH {literal(str(path))} AS modelmig_backup")
        try:
            session.execute(f"COPY FROM DATABASE {session.quote(source)} TO modelmig_backup")
            tables = session.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = 'modelmig_backup' ORDER BY 1"
            )
            rows = {}
            for (t,) in tables or []:
                count = session.execute(f"SELECT COUNT(*) FROM modelmig_backup.{session.quote(t)}")
                rows[t] = int(count[0][0]) if count else 0
        finally:
            session.execute("DETACH modelmig_backup")
        return Backup(path, rows)

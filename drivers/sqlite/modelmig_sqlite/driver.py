"""The SQLite driver. Imports no SQLAlchemy: the ledger and transactions go
through sqlite3 directly; DDL rendering (render.py) is loaded when needed.

Each migration runs in ``BEGIN IMMEDIATE`` (SQLite's write lock serializes
runners) with foreign keys switched off *before* the transaction starts, since
``PRAGMA foreign_keys`` has no effect inside one: a table rebuild then never
cascades into child rows. ``PRAGMA foreign_key_check`` runs before COMMIT.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from modelmig_core.api import (
    API_VERSION,
    LEDGER,
    LOCK_NOTICE_SECONDS,
    RENDERER_OPERATIONS,
    RENDERER_TYPE_NAMES,
    Backup,
    ConfigError,
    DriverInfo,
    LockError,
    LockWait,
    MigrationFailed,
    Session,
    SqlDriver,
    SqlSession,
    Statement,
    Step,
    TableKey,
    redact,
)


def sqlite_path(url: str) -> str:
    """sqlite:///relative.db, sqlite:////absolute.db, sqlite:// or sqlite:///:memory:."""
    if not url.startswith("sqlite://"):
        raise ConfigError(f"{redact(url)!r} is not a sqlite:// URL")
    rest = url[len("sqlite://") :]
    path = urlsplit("x://" + rest).path if "?" in rest else rest
    if path in ("", "/", "/:memory:"):
        return ":memory:"
    if not path.startswith("/"):
        raise ConfigError(f"{redact(url)!r}: write sqlite:///relative/path.db or sqlite:////absolute/path.db")
    return path[1:]


WRITE_LOCK_HOLDER = "another runner holds the SQLite write lock"


def busy_seconds(url: str) -> float:
    """How long a writer waits for SQLite's write lock: ``?timeout=`` (default 30 s),
    the URL's one option: any other, a repeated one or a timeout that is not a
    finite number of seconds is an error naming it."""
    timeout = 30.0
    seen = set()
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        where = f"cannot open {redact(url)}: URL option"
        if key != "timeout":
            raise ConfigError(f"{where} {key!r}: unknown (a sqlite:// URL takes only timeout)")
        if key in seen:
            raise ConfigError(f"{where} timeout: given twice")
        seen.add(key)
        try:
            timeout = float(value)
        except ValueError:
            timeout = math.nan
        if not (math.isfinite(timeout) and 0 <= timeout <= 86_400):
            raise ConfigError(f"{where} timeout: must be a number of seconds from 0 to 86400")
    return timeout


def _no_attach(action: int, *args: Any) -> int:
    """The authorizer of --pretend's schema copy: it attaches no database file."""
    return sqlite3.SQLITE_DENY if action == sqlite3.SQLITE_ATTACH else sqlite3.SQLITE_OK


def _busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


class SqliteSession(SqlSession):
    """SQLite has no lock to take up front: runners are serialized by the write
    lock of each migration's ``BEGIN IMMEDIATE``. ``lock`` keeps ``on_wait`` for it."""

    param = "?"
    _on_wait: LockWait | None = None

    def render_key(self) -> Hashable:
        return ("sqlite",)  # the renderer reads nothing of the URL; the live facts say the rest

    def is_missing_table(self, exc: Exception) -> bool:
        return isinstance(exc, sqlite3.OperationalError) and "no such table" in str(exc)

    def server(self) -> str | None:
        return f"sqlite-{'.'.join(sqlite3.sqlite_version.split('.')[:2])}"

    def lock(self, timeout: float, on_wait: LockWait | None = None) -> None:
        self._on_wait = on_wait

    def unlock(self) -> None:
        self._on_wait = None

    def begin(self) -> None:
        """BEGIN IMMEDIATE; while another runner writes, wait (saying so once after
        LOCK_NOTICE_SECONDS when asked to), up to the URL's ``timeout``."""
        total = busy_seconds(self.url)
        on_wait, self._on_wait = self._on_wait, None
        try:
            if on_wait is not None and total > LOCK_NOTICE_SECONDS:
                self.execute(f"PRAGMA busy_timeout = {int(LOCK_NOTICE_SECONDS * 1000)}")
                try:
                    self.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if not _busy(exc):
                        raise
                on_wait(WRITE_LOCK_HOLDER)
                self.execute(f"PRAGMA busy_timeout = {int((total - LOCK_NOTICE_SECONDS) * 1000)}")
            self.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            if _busy(exc):
                raise LockError(f"{WRITE_LOCK_HOLDER}; waited {total:g}s — try again when it has finished") from None
            raise
        finally:
            if on_wait is not None:
                self.execute(f"PRAGMA busy_timeout = {int(total * 1000)}")

    def transaction_open(self) -> bool | None:
        return bool(self.raw.in_transaction)

    def ensure_ledger_table(self) -> None:
        """Created under the write lock like a migration (so a runner waiting for
        another one says so); nothing to write when it exists."""
        if self.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", [LEDGER]):
            return
        self.begin()
        try:
            self.execute(self.ledger_ddl())
            self.commit()
        except BaseException:
            self.rollback()
            raise

    def list_tables(self) -> list[str]:
        rows = self.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
        return [r[0] for r in rows or []]

    def drop_tables(self, tables: list[str]) -> None:
        self.execute("PRAGMA foreign_keys=OFF")
        try:
            self.execute("BEGIN IMMEDIATE")
            for (view,) in self.execute("SELECT name FROM sqlite_master WHERE type = 'view'") or []:
                self.execute(f"DROP VIEW IF EXISTS {self.quote(view)}")
            for t in tables:
                self.execute(f"DROP TABLE IF EXISTS {self.quote(t)}")
            self.execute("COMMIT")
        except BaseException:
            if self.raw.in_transaction:
                self.execute("ROLLBACK")
            raise
        finally:
            self.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Foreign keys off *before* BEGIN (the pragma is ignored inside a
        transaction), ``foreign_key_check`` before COMMIT."""
        self.execute("PRAGMA foreign_keys=OFF")
        try:
            with super().transaction():
                yield
                self.check_foreign_keys()
        finally:
            self.execute("PRAGMA foreign_keys=ON")

    @contextmanager
    def without_transaction(self) -> Iterator[None]:
        """``atomic = False``: foreign keys off for the whole migration (a rebuild's
        DROP TABLE would otherwise cascade into child rows), checked at its end."""
        self.execute("PRAGMA foreign_keys=OFF")
        try:
            yield
            bad = self.execute("PRAGMA foreign_key_check")
            if bad:
                table, rowid, parent, _ = bad[0]
                raise MigrationFailed(
                    f"the migration left {len(bad)} row(s) that break a foreign key (first: {table} rowid {rowid} "
                    f"-> {parent}); it ran outside a transaction (atomic = False), so its statements stay: "
                    "repair those rows"
                )
        finally:
            self.execute("PRAGMA foreign_keys=ON")

    def check_foreign_keys(self) -> None:
        bad = self.execute("PRAGMA foreign_key_check")
        if bad:
            table, rowid, parent, _ = bad[0]
            raise MigrationFailed(
                f"the migration leaves {len(bad)} row(s) that break a foreign key "
                f"(first: {table} rowid {rowid} -> {parent}); nothing was changed"
            )

    @contextmanager
    def carry_facts(self, steps: Sequence[Step]) -> Iterator[None]:
        """``--pretend`` over several migrations, planned on an in-memory copy of the
        schema (no rows): each migration's statements are performed on the copy once
        planned, so the next one reads the facts ``run`` would read (SQLite rewrites
        triggers and views when a table is renamed; a RunSQL may create some). The
        real database is only read. Where the schema cannot be copied, the facts are
        carried as the renderer keeps them."""
        copy = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        copy.set_authorizer(_no_attach)
        try:
            rows = self.execute(
                "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
            order = {"table": 0, "index": 1, "view": 2, "trigger": 3}
            for _, sql in sorted(rows or [], key=lambda r: order.get(str(r[0]), 4)):
                copy.execute(str(sql))
        except sqlite3.Error:
            copy.close()
            copy = None
        if copy is None:
            with super().carry_facts(steps):
                yield
            return
        real, self.raw = self.raw, copy
        self._on_copy, self._copy_broken = True, False
        try:
            yield
        finally:
            self.raw, self._on_copy = real, False
            copy.close()

    def statements(self, steps: Sequence[Step]) -> Iterator[Statement]:
        if not getattr(self, "_on_copy", False):
            yield from super().statements(steps)
            return
        for statement in list(super().statements(steps)):  # the facts were read from the copy first
            yield statement
            if statement.action is not None or getattr(self, "_copy_broken", False):
                continue
            words = statement.text.lstrip().split(None, 1)
            if words and words[0].upper() in ("VACUUM", "ATTACH"):
                continue  # never on the copy: they write files
            try:
                self.raw.executescript(statement.text)
            except sqlite3.Error as exc:
                self._copy_broken = True
                yield Statement(
                    f"-- note: --pretend could not follow this statement on a copy of the schema ({exc}): "
                    "the plans below read the facts as they were before it"
                )

    def next_migration_facts(self, facts: Any) -> Any:
        """A table renamed by an earlier migration is, to the next one, a table like
        any other (``run`` reads sqlite_master again)."""
        if facts is not None:
            facts.moved = set()
        return facts

    def live_facts(self, steps: Sequence[Step]) -> Any:
        """Every index, trigger, view and table definition in sqlite_master: a table
        rebuild keeps what the models do not declare."""
        from .render import SqliteFacts

        rows = self.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite_%' ORDER BY type, name"
        )
        return SqliteFacts.from_rows(rows or [], steps[0].before)


class SqliteDriver(SqlDriver):
    api_version = API_VERSION  # the driver API it was written for (required)
    info = DriverInfo("sqlite", ("sqlite",), "sql", "SQLite 3.35+ through the standard library's sqlite3")
    # what ALTER TABLE cannot do (alter a column, add or drop a constraint) is done
    # by rebuilding the table: the features say what the driver can run
    features = SqlDriver.features.but(enforces_length=False)  # VARCHAR(n) stores a longer value whole
    #: COLLATE (NOCASE, BINARY, RTRIM or one the application registers) and
    #: deferrable keys; no character sets, comments or ON UPDATE
    column_collations = True
    deferrable_keys = True
    named_primary_keys = True
    #: index names (unique ones too) are per database; constraint names inside a
    #: CREATE TABLE are only labels
    name_scopes = {"indexes": "indexes", "uniques": "indexes", "foreign_keys": "table", "checks": "table"}
    index_options = frozenset({"where", "expressions", "descending"})
    generated_columns = ("stored", "virtual")
    dialect = "sqlite"
    renderer_class = "modelmig_sqlite.render:SqliteRenderer"
    operation_names = RENDERER_OPERATIONS | {"AlterColumn"}
    type_names = RENDERER_TYPE_NAMES  # SqliteRenderer.types
    reflection_class = "modelmig_sqlite.reflect:SqliteReflection"
    session_class = SqliteSession

    def exists(self, url: str) -> bool | None:
        try:
            path = sqlite_path(url)
        except ConfigError:  # a subclass's own URL scheme: connecting will tell
            return None
        busy_seconds(url)  # a bad option is an error before anything else
        return True if path == ":memory:" else Path(path).is_file()

    def scratch(self, url: str) -> Session | None:
        """An in-memory database: what ``--pretend`` plans on while the file does not exist."""
        raw = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        raw.execute("PRAGMA foreign_keys=ON")
        return self.session_class(self, url, raw)

    def open(self, url: str) -> Any:
        path = sqlite_path(url)
        timeout = busy_seconds(url)
        if path != ":memory:" and not Path(path).parent.exists():
            raise ConfigError(f"sqlite database folder {Path(path).parent} does not exist")
        raw = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
        raw.execute("PRAGMA foreign_keys=ON")
        return raw

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        """SQLite's online backup API into one file, read back: integrity_check, and
        the rows of every table counted in the copy. The live rows are counted in
        the read transaction the copy is taken in (one snapshot: a writer on
        another connection changes neither)."""
        assert isinstance(session, SqliteSession)
        path = directory / f"{label}.sqlite3"
        copy = sqlite3.connect(path)
        source = session.raw
        try:
            if source.in_transaction:
                raise MigrationFailed("cannot take a backup inside a transaction; nothing was dropped")
            source.execute("BEGIN")  # deferred: the first read below starts the snapshot
            try:
                live: dict[TableKey, int] = {("main", t): n for t, n in session.row_counts().items()}
                source.backup(copy)  # the same connection: it reads inside the transaction
            finally:
                source.execute("COMMIT")
            integrity = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if integrity != "ok":
                raise MigrationFailed(f"backup {path} does not verify (integrity: {integrity}); nothing was dropped")
            counts = SqliteSession(self, f"sqlite:///{path}", copy).row_counts()
        finally:
            copy.close()
        return Backup(path, {("main", t): n for t, n in counts.items()}, live)


driver = SqliteDriver()

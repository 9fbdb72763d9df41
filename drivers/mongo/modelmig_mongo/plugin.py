"""The MongoDB driver plugin.

Loading it is cheap: pymongo is imported only when a connection is opened, so
``driver_info`` (asked for every configured connection) costs nothing.

- Ledger: collection ``modelmig_migrations``, one document per applied migration
  (``_id`` = migration id, ``batch``, ``checksum``, ``applied_at``, ``duration_ms``,
  ``status``, ``progress``).
- Lock: one document in ``modelmig_lock`` with an ``expires_at``. A runner takes it
  by inserting it (unique ``_id``) or by taking over an expired one, and renews it
  from a background thread while it holds it; a crashed runner stops renewing, so
  its lock expires after ``lock_ttl`` seconds. Expiry is judged on the runners'
  clocks, which must roughly agree (within ``lock_ttl``).
- No transactions for DDL: each migration's ledger document says ``running``
  before its first command and counts the commands done (``progress``); an
  interruption after a command has run leaves it ``running``, which every later
  run reports until ``migrate:resolve`` settles it.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from modelmig_core.diff import DiffHints
from modelmig_core.driver import LEDGER, Backup, Connection, DriverInfo, LedgerRow, redact
from modelmig_core.errors import ConfigError, LockError, MigrationFailed, ModelmigError
from modelmig_core.hookspecs import hookimpl
from modelmig_core.model import Model
from modelmig_core.operations import Operation
from modelmig_core.state import State

from .schema import LOCK_COLLECTION

if TYPE_CHECKING:
    from modelmig_core.migrations import Migration

LOCK_ID = "migrate"
INVALID_DB_CHARS = set('/\\. "$')
ClientFactory = Callable[[str], Any]


def database_name(url: str) -> str:
    """The database a mongodb:// or mongodb+srv:// URL names (it must name one)."""
    scheme = url.split("://", 1)[0].lower()
    if scheme not in ("mongodb", "mongodb+srv"):
        raise ConfigError(f"{redact(url)} is not a mongodb:// or mongodb+srv:// URL")
    name = unquote(urlsplit(url).path.lstrip("/"))
    if not name:
        raise ConfigError(f"{redact(url)}: the URL names no database; write mongodb://host:27017/<database>")
    if INVALID_DB_CHARS & set(name) or len(name) > 63:
        raise ConfigError(f"{redact(url)}: {name!r} is not a valid MongoDB database name")
    return name


def pymongo_client(url: str) -> Any:
    """A pymongo MongoClient for ``url`` (lazy: it connects on the first command)."""
    import pymongo

    options: dict[str, Any] = {"appname": "modelmig"}
    if "serverselectiontimeoutms" not in url.lower():
        options["serverSelectionTimeoutMS"] = 10_000
    return pymongo.MongoClient(url, **options)


def utcnow() -> datetime:
    """Naive UTC, as BSON dates come back from pymongo; truncated to BSON's milliseconds."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return str(value)


def detail(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def user_collections(db: Any) -> list[str]:
    """The database's collections but the lock's and the server's own."""
    return sorted(n for n in db.list_collection_names() if n != LOCK_COLLECTION and not n.startswith("system."))


class MongoDriver:
    name = "mongo"
    schemes = ("mongodb", "mongodb+srv")
    capabilities = frozenset({"collections", "json_schema_validation", "ttl_indexes", "partial_indexes", "lock"})
    description = "MongoDB 5.0+ through pymongo: collections, $jsonSchema validators, indexes"
    #: how the driver opens a client for a URL; tests swap it (never set in production code)
    client_factory: ClientFactory | None = None
    lock_ttl = 60.0  # seconds a lock lives without renewal
    lock_renew_every = 15.0  # seconds between renewals while it is held
    lock_poll = 0.2  # seconds between attempts while another runner holds it

    def _mine(self, conn: Any) -> bool:
        return isinstance(conn, Connection) and conn.driver == self.name

    @contextmanager
    def _talking(self, conn: Connection, what: str) -> Iterator[None]:
        """Server errors while keeping the books -> one line naming the database."""
        try:
            yield
        except ModelmigError:
            raise
        except Exception as exc:
            raise ModelmigError(f"{redact(conn.url)}: {what}: {type(exc).__name__}: {detail(exc)}") from exc

    # ------------------------------------------------------------ models and diff

    @hookimpl
    def driver_info(self) -> DriverInfo:
        return DriverInfo(self.name, self.schemes, "document", self.capabilities, None, self.description)

    @hookimpl
    def build_state(self, store: str, models: Sequence[type[Model]], column_types: frozenset[str]) -> State | None:
        if store != self.name:
            return None
        from .schema import build_collections

        return build_collections(models)

    @hookimpl
    def diff(self, old: State, new: State, hints: DiffHints) -> list[Operation]:
        if not old.collections and not new.collections:
            return []
        from .diff import diff_collections

        return diff_collections(old, new, hints)

    # ------------------------------------------------------------ connection

    @hookimpl
    def connect(self, driver: str, url: str) -> Connection | None:
        if driver != self.name:
            return None
        name = database_name(url)
        factory = self.client_factory or pymongo_client
        try:
            client = factory(url)
            db = client.get_database(name)
        except Exception as exc:
            raise ModelmigError(f"cannot connect to {redact(url)}: {detail(exc)}") from exc
        return Connection(driver=self.name, url=url, raw=db, extra={"client": client, "database": name})

    @hookimpl
    def close(self, connection: Connection) -> bool | None:
        if not self._mine(connection):
            return None
        self._stop_renewing(connection)
        connection.extra["client"].close()
        return True

    # ------------------------------------------------------------ ledger

    @hookimpl
    def read_ledger(self, connection: Connection) -> list[LedgerRow] | None:
        if not self._mine(connection):
            return None
        with self._talking(connection, "reading the ledger"):
            docs = list(connection.raw[LEDGER].find({}, sort=[("batch", 1), ("_id", 1)]))
        return [
            LedgerRow(
                str(d["_id"]),
                int(d.get("batch", 0)),
                str(d.get("checksum", "")),
                iso(d.get("applied_at", "")),
                int(d.get("duration_ms", 0)),
                str(d.get("status", "applied")),
                int(d.get("progress", 0)),
            )
            for d in docs
        ]

    @hookimpl
    def ensure_ledger(self, connection: Connection) -> bool | None:
        if not self._mine(connection):
            return None
        return True  # collections come into being with their first document

    @contextmanager
    def _tracked(self, conn: Connection, migration: Migration, direction: str, batch: int) -> Iterator[bool]:
        ledger = conn.raw[LEDGER]
        mid = migration.id
        with self._talking(conn, f"recording {mid} as running"):
            self._renew_now(conn)
            recorded = ledger.find_one({"_id": mid}) is not None
            if (direction == "up") == recorded:
                go = False
            elif direction == "up":
                go = True
                ledger.insert_one(
                    {
                        "_id": mid,
                        "batch": batch,
                        "checksum": migration.checksum,
                        "applied_at": utcnow(),
                        "duration_ms": 0,
                        "status": "running",
                        "progress": 0,
                    }
                )
            else:
                go = True
                ledger.update_one({"_id": mid}, {"$set": {"status": "running", "progress": 0}})
        if not go:
            yield False
            return
        conn.extra["tracking"] = mid
        conn.extra["progress"] = 0
        try:
            yield True
        except BaseException:
            if conn.extra.get("progress") == 0:  # nothing ran: the ledger goes back to what it was
                with self._talking(conn, f"restoring the ledger entry of {mid}"):
                    if direction == "up":
                        ledger.delete_one({"_id": mid, "status": "running"})
                    else:
                        ledger.update_one({"_id": mid}, {"$set": {"status": "applied"}})
            raise
        finally:
            conn.extra.pop("tracking", None)

    @hookimpl
    def transaction(
        self, connection: Connection, migration: Migration, direction: str, batch: int
    ) -> AbstractContextManager[bool] | None:
        if not self._mine(connection):
            return None
        return self._tracked(connection, migration, direction, batch)

    @hookimpl
    def record_state(
        self, connection: Connection, migration: Migration, direction: str, batch: int, duration_ms: int
    ) -> bool | None:
        if not self._mine(connection):
            return None
        ledger = connection.raw[LEDGER]
        with self._talking(connection, f"recording {migration.id}"):
            if direction == "up":
                ledger.update_one(
                    {"_id": migration.id},
                    {
                        "$set": {
                            "batch": batch,
                            "checksum": migration.checksum,
                            "applied_at": utcnow(),
                            "duration_ms": duration_ms,
                            "status": "applied",
                            "progress": connection.extra.get("progress", 0),
                        }
                    },
                    upsert=True,
                )
            else:
                ledger.delete_one({"_id": migration.id})
        return True

    @hookimpl
    def resolve_ledger(self, connection: Connection, migration_id: str, applied: bool) -> bool | None:
        if not self._mine(connection):
            return None
        ledger = connection.raw[LEDGER]
        with self._talking(connection, f"resolving {migration_id}"):
            if applied:
                ledger.update_one({"_id": migration_id, "status": "running"}, {"$set": {"status": "applied"}})
            else:
                ledger.delete_one({"_id": migration_id, "status": "running"})
        return True

    # ------------------------------------------------------------ lock

    @hookimpl
    def acquire_lock(self, connection: Connection, timeout: float) -> bool | None:
        if not self._mine(connection):
            return None
        from pymongo.errors import DuplicateKeyError

        locks = connection.raw[LOCK_COLLECTION]
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        deadline = time.monotonic() + timeout
        with self._talking(connection, "taking the migration lock"):
            while True:
                now = utcnow()
                doc = {"_id": LOCK_ID, "owner": owner, "acquired_at": now, "expires_at": self._expiry(now)}
                try:
                    locks.insert_one(doc)
                    break
                except DuplicateKeyError:
                    taken = locks.find_one_and_update(
                        {"_id": LOCK_ID, "expires_at": {"$lt": now}},
                        {"$set": {k: v for k, v in doc.items() if k != "_id"}},
                    )
                    if taken is not None:
                        break
                if time.monotonic() >= deadline:
                    holder = locks.find_one({"_id": LOCK_ID}) or {}
                    raise LockError(
                        f"{redact(connection.url)}: another runner holds the migration lock "
                        f"({holder.get('owner', 'unknown')}, since {iso(holder.get('acquired_at', '?'))}, "
                        f"expires {iso(holder.get('expires_at', '?'))} unless renewed); "
                        f"gave up after {timeout:g}s"
                    )
                time.sleep(max(0.0, min(self.lock_poll, deadline - time.monotonic())))
        connection.extra["lock_owner"] = owner
        connection.extra["lock_lost"] = False
        self._start_renewing(connection)
        return True

    @hookimpl
    def release_lock(self, connection: Connection) -> bool | None:
        if not self._mine(connection):
            return None
        self._stop_renewing(connection)
        owner = connection.extra.pop("lock_owner", None)
        if owner is not None:
            with self._talking(connection, "releasing the migration lock"):
                connection.raw[LOCK_COLLECTION].delete_one({"_id": LOCK_ID, "owner": owner})
        return True

    def _expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.lock_ttl)

    def _renew(self, conn: Connection) -> bool:
        """Push the lock's expiry forward; False when it is no longer ours."""
        owner = conn.extra.get("lock_owner")
        if owner is None:
            return True
        result = conn.raw[LOCK_COLLECTION].update_one(
            {"_id": LOCK_ID, "owner": owner}, {"$set": {"expires_at": self._expiry(utcnow())}}
        )
        if result.matched_count == 0:
            conn.extra["lock_lost"] = True
            return False
        return True

    def _renew_now(self, conn: Connection) -> None:
        if conn.extra.get("lock_lost") or not self._renew(conn):
            raise LockError(f"{redact(conn.url)}: the migration lock expired and was taken by another runner; stopped")

    def _start_renewing(self, conn: Connection) -> None:
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.lock_renew_every):
                try:
                    if not self._renew(conn):
                        return
                except Exception:  # noqa: BLE001 - the next command reports a broken server
                    continue

        thread = threading.Thread(target=renew, name="modelmig-mongo-lock", daemon=True)
        conn.extra["lock_thread"] = (thread, stop)
        thread.start()

    def _stop_renewing(self, conn: Connection) -> None:
        pair = conn.extra.pop("lock_thread", None)
        if pair is not None:
            thread, stop = pair
            stop.set()
            thread.join(timeout=5)

    # ------------------------------------------------------------ applying

    @hookimpl
    def apply(
        self, connection: Connection, operations: Sequence[Operation], state: State, migration: Migration
    ) -> bool | None:
        if not self._mine(connection):
            return None
        from .commands import commands_for

        db = connection.raw
        commands = commands_for(operations, state, connection.extra["database"])
        ledger = db[LEDGER]
        for i, command in enumerate(commands):
            if connection.extra.get("lock_lost"):
                self._renew_now(connection)
            try:
                command.run(db)
            except ModelmigError:
                raise
            except Exception as exc:
                done = connection.extra.get("progress", 0)
                outcome = (
                    f"{done} of {len(commands)} command(s) had run; {migration.id} stays marked as interrupted"
                    if done
                    else "nothing was changed"
                )
                raise MigrationFailed(
                    f"{migration.path.name}: {command.name} {command.target}: {detail(exc)} ({outcome})"
                ) from exc
            if connection.extra.get("tracking") == migration.id:
                connection.extra["progress"] = i + 1
                with self._talking(connection, f"recording the progress of {migration.id}"):
                    ledger.update_one({"_id": migration.id}, {"$set": {"progress": i + 1}})
        return True

    @hookimpl
    def render_operations(
        self, connection: Connection, operations: Sequence[Operation], state: State
    ) -> list[str] | None:
        if not self._mine(connection):
            return None
        from .commands import commands_for

        return [c.render() for c in commands_for(operations, state, connection.extra["database"])]

    @hookimpl
    def wipe(self, connection: Connection) -> list[str] | None:
        if not self._mine(connection):
            return None
        db = connection.raw
        with self._talking(connection, "dropping every collection"):
            names = user_collections(db)
            for name in names:
                db.drop_collection(name)
        return names

    @hookimpl
    def backup(self, connection: Connection, directory: Path, label: str) -> Backup | None:
        """Every collection (but the lock's) as Extended JSON lines, one file each, and
        its indexes in ``_collections.json``; then each file is read back
        and parsed, and its document count must match the live collection's."""
        if not self._mine(connection):
            return None
        from bson import json_util

        db = connection.raw
        folder = directory / label
        folder.mkdir(parents=True)
        rows: dict[str, int] = {}
        meta: dict[str, Any] = {}
        with self._talking(connection, "taking a backup"):
            names = user_collections(db)
            for name in names:
                coll = db[name]
                with (folder / f"{name}.jsonl").open("w", encoding="utf-8") as out:
                    for doc in coll.find({}, sort=[("_id", 1)]):
                        out.write(json_util.dumps(doc, json_options=json_util.CANONICAL_JSON_OPTIONS) + "\n")
                meta[name] = {"indexes": coll.index_information()}  # validators live in the migrations
            (folder / "_collections.json").write_text(json_util.dumps(meta, indent=2), encoding="utf-8")
            for name in names:
                with (folder / f"{name}.jsonl").open(encoding="utf-8") as back:
                    rows[name] = sum(1 for line in back if json_util.loads(line) is not None)
                live = db[name].count_documents({})
                if rows[name] != live:
                    raise MigrationFailed(
                        f"backup {folder} does not verify: {name} has {live} documents, the backup {rows[name]}; "
                        "nothing was dropped"
                    )
        return Backup(folder, rows)


plugin = MongoDriver()

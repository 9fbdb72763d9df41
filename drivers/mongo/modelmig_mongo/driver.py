"""The MongoDB driver.

Loading it is cheap: pymongo is imported only when a connection is opened.

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
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from modelmig_core.api import (
    API_VERSION,
    LEDGER,
    LOCK_NOTICE_SECONDS,
    Backup,
    ConfigError,
    Driver,
    DriverInfo,
    Features,
    LedgerRow,
    LedgerStore,
    LockError,
    LockWait,
    ModelmigError,
    Refusal,
    Session,
    Statement,
    Step,
    TableKey,
    ledger_int,
    redact,
    scrub,
    server_version,
)

from . import family
from .schema import LOCK_COLLECTION

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


#: how long the first command waits for a reachable server, unless the URL says
#: otherwise (``?serverSelectionTimeoutMS=...``, ``?connectTimeoutMS=...``)
CONNECT_TIMEOUT_MS = 3_000


def client_options(url: str) -> dict[str, Any]:
    """pymongo options: a server that cannot be reached fails in about 3 s, unless
    the URL sets its own timeouts."""
    lowered = url.lower()
    options: dict[str, Any] = {"appname": "modelmig"}
    if "serverselectiontimeoutms" not in lowered:
        options["serverSelectionTimeoutMS"] = CONNECT_TIMEOUT_MS
    if "connecttimeoutms" not in lowered:
        options["connectTimeoutMS"] = CONNECT_TIMEOUT_MS
    return options


def check_url_options(url: str) -> None:
    """Each query option of the URL must be one pymongo knows (its own table of URI
    options, names case-insensitive) with a value its validator accepts, given
    once: pymongo would only warn about an unknown one and go on without it."""
    from urllib.parse import parse_qsl

    from pymongo import common

    seen: set[str] = set()
    for key, value in parse_qsl(urlsplit(url).query, keep_blank_values=True):
        where = f"cannot connect to {redact(url)}: URL option"
        name = key.lower()
        if name not in common.URI_OPTIONS_VALIDATOR_MAP and name not in common.URI_OPTIONS_ALIAS_MAP:
            raise ConfigError(f"{where} {key!r}: unknown to pymongo")
        if name in seen:
            raise ConfigError(f"{where} {key}: given twice")
        seen.add(name)
        if not value or "\x00" in value:
            raise ConfigError(f"{where} {key}: empty or holding a NUL character")
        try:
            common.validate(name, value)
        except Exception as exc:  # noqa: BLE001 - ValueError, TypeError and pymongo's ConfigurationError
            secret = any(word in name for word in ("auth", "password", "key"))
            detail = "" if secret else ": " + " ".join(str(exc).split())[:200]
            raise ConfigError(f"{where} {key}: pymongo refuses its value{detail}") from None


def pymongo_client(url: str) -> Any:
    """A pymongo MongoClient for ``url`` (lazy: it connects on the first command)."""
    import pymongo

    check_url_options(url)
    return pymongo.MongoClient(url, **client_options(url))


def utcnow() -> datetime:
    """Naive UTC, as BSON dates come back from pymongo; truncated to BSON's milliseconds."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def iso(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    return str(value)


def detail(exc: BaseException) -> str:
    """The whole reason, on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__


def unreachable(exc: BaseException) -> str | None:
    """No server answered: pymongo's reason per server (``host:port: [Errno 111]
    Connection refused``) without its timeouts and topology dump; None for any
    other error."""
    if not any(c.__name__ in ("ServerSelectionTimeoutError", "ConnectionFailure") for c in type(exc).__mro__):
        return None
    reasons = str(exc).split(", Timeout: ", 1)[0].split(", Topology Description: ", 1)[0]
    while "(configured timeouts:" in reasons:
        head, _, tail = reasons.partition(" (configured timeouts:")
        reasons = head + tail.partition(")")[2]
    return " ".join(reasons.split())[:300] or type(exc).__name__


def failure(url: str, what: str, exc: BaseException) -> str:
    """One short line naming the (redacted) URL, with its host, and the cause,
    scrubbed of the URL's secrets (a client library's message may quote them)."""
    cause = unreachable(exc)
    if cause is not None:
        return scrub(f"{redact(url)}: {what}: no MongoDB server answered: {cause}", url)
    return scrub(f"{redact(url)}: {what}: {type(exc).__name__}: {detail(exc)}", url)


def user_collections(db: Any) -> list[str]:
    """The database's collections (not views) but the lock's and the server's own."""
    return sorted(n for n, info in _listing(db).items() if info.get("type", "collection") == "collection")


def user_views(db: Any) -> dict[str, dict[str, Any]]:
    """{view name: its options (viewOn, pipeline...)} — views have no documents and no
    indexes of their own (listIndexes on one fails with code 166)."""
    return {n: dict(info.get("options") or {}) for n, info in _listing(db).items() if info.get("type") == "view"}


def _listing(db: Any) -> dict[str, dict[str, Any]]:
    """listCollections, but the lock's collection and the server's own."""
    return {
        str(info["name"]): info
        for info in db.list_collections()
        if info["name"] != LOCK_COLLECTION and not str(info["name"]).startswith("system.")
    }


def majority(db: Any, name: str) -> Any:
    """The ledger and the lock are written with w: "majority" and read from the
    primary, whatever the URL says: a runner must see what another one committed."""
    from pymongo import ReadPreference, WriteConcern

    return db.get_collection(name, write_concern=WriteConcern("majority"), read_preference=ReadPreference.PRIMARY)


class MongoLedgerStore(LedgerStore):
    """The ledger as a collection: ``_id`` = migration id."""

    def __init__(self, session: MongoSession) -> None:
        self.session = session

    @property
    def collection(self) -> Any:
        return majority(self.session.raw, LEDGER)

    def ensure(self) -> None:
        """Collections come into being with their first document."""

    @staticmethod
    def _row(d: dict[str, Any]) -> LedgerRow:
        mid = d.get("_id")

        def number(field: str) -> int:
            return ledger_int(d.get(field, 0), field, mid, f"collection {LEDGER}")

        return LedgerRow(
            str(mid),
            number("batch"),
            str(d.get("checksum", "")),
            iso(d.get("applied_at", "")),
            number("duration_ms"),
            str(d.get("status", "applied")),
            number("progress"),
        )

    def rows(self) -> list[LedgerRow]:
        with self.session.talking("reading the ledger"):
            docs = list(self.collection.find({}, sort=[("batch", 1), ("_id", 1)]))
        return [self._row(d) for d in docs]

    def find(self, migration_id: str) -> LedgerRow | None:
        with self.session.talking(f"reading the ledger entry of {migration_id}"):
            doc = self.collection.find_one({"_id": migration_id})
        return self._row(doc) if doc is not None else None

    def insert(self, row: LedgerRow) -> None:
        with self.session.talking(f"recording {row.id}"):
            self.session.renew_now()
            self.collection.insert_one(
                {
                    "_id": row.id,
                    "batch": row.batch,
                    "checksum": row.checksum,
                    "applied_at": utcnow(),
                    "duration_ms": row.duration_ms,
                    "status": row.status,
                    "progress": row.progress,
                }
            )

    def update(self, migration_id: str, **values: Any) -> None:
        if "applied_at" in values:
            values["applied_at"] = utcnow()
        with self.session.talking(f"recording {migration_id}"):
            self.collection.update_one({"_id": migration_id}, {"$set": values})

    def delete(self, migration_id: str, status: str | None = None) -> None:
        query: dict[str, Any] = {"_id": migration_id}
        if status is not None:
            query["status"] = status
        with self.session.talking(f"removing the ledger entry of {migration_id}"):
            self.collection.delete_one(query)


class MongoSession(Session):
    """One pymongo client and its database (``raw``)."""

    statement_noun = "command"

    def __init__(self, driver: MongoDriver, url: str, client: Any, database: str) -> None:
        self.driver = driver
        self.url = url
        self.client = client
        self.database = database
        self.raw = client.get_database(database)
        self.hook: Any = None
        self.lock_owner: str | None = None
        self.lock_lost = False
        self._renewer: tuple[threading.Thread, threading.Event] | None = None
        self._ledger = MongoLedgerStore(self)

    @contextmanager
    def talking(self, what: str) -> Iterator[None]:
        """Server errors while keeping the books -> one line naming the database."""
        try:
            yield
        except ModelmigError:
            raise
        except Exception as exc:
            raise ModelmigError(failure(self.url, what, exc)) from exc

    @property
    def ledger(self) -> LedgerStore:
        return self._ledger

    # ------------------------------------------------------------ lock

    def lock(self, timeout: float, on_wait: LockWait | None = None) -> None:
        from pymongo.errors import DuplicateKeyError

        driver = self.driver
        locks = majority(self.raw, LOCK_COLLECTION)
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        started = time.monotonic()
        deadline = started + timeout
        with self.talking("taking the migration lock"):
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
                now_mono = time.monotonic()
                if now_mono >= deadline:
                    raise LockError(
                        f"{redact(self.url)}: another runner holds the migration lock "
                        f"({', '.join(self.lock_holder())}); gave up after {timeout:g}s"
                    )
                if on_wait is not None and now_mono - started >= LOCK_NOTICE_SECONDS:
                    owner, times = self.lock_holder()
                    on_wait(f"runner {owner} holds the migration lock ({times})")
                    on_wait = None
                time.sleep(max(0.0, min(driver.lock_poll, deadline - time.monotonic())))
        self.lock_owner = owner
        self.lock_lost = False
        self._start_renewing()

    def lock_holder(self) -> tuple[str, str]:
        """The lock document's owner (host:pid:id), and when it took it and expires."""
        holder = self.raw[LOCK_COLLECTION].find_one({"_id": LOCK_ID}) or {}
        return (
            str(holder.get("owner", "unknown")),
            f"since {iso(holder.get('acquired_at', '?'))}, expires {iso(holder.get('expires_at', '?'))} unless renewed",
        )

    def unlock(self) -> None:
        self._stop_renewing()
        owner, self.lock_owner = self.lock_owner, None
        if owner is not None:
            with self.talking("releasing the migration lock"):
                majority(self.raw, LOCK_COLLECTION).delete_one({"_id": LOCK_ID, "owner": owner})

    def _expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.driver.lock_ttl)

    def renew(self) -> bool:
        """Push the lock's expiry forward; False when it is no longer ours."""
        if self.lock_owner is None:
            return True
        result = majority(self.raw, LOCK_COLLECTION).update_one(
            {"_id": LOCK_ID, "owner": self.lock_owner}, {"$set": {"expires_at": self._expiry(utcnow())}}
        )
        if result.matched_count == 0:
            self.lock_lost = True
            return False
        return True

    def renew_now(self) -> None:
        """Stop when the lock was lost: another runner may be at work."""
        if self.lock_lost or not self.renew():
            raise LockError(f"{redact(self.url)}: the migration lock expired and was taken by another runner; stopped")

    def _start_renewing(self) -> None:
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.driver.lock_renew_every):
                try:
                    if not self.renew():
                        return
                except Exception:  # noqa: BLE001 - the next command reports a broken server
                    continue

        thread = threading.Thread(target=renew, name="modelmig-mongo-lock", daemon=True)
        self._renewer = (thread, stop)
        thread.start()

    def _stop_renewing(self) -> None:
        pair, self._renewer = self._renewer, None
        if pair is not None:
            thread, stop = pair
            stop.set()
            thread.join(timeout=5)

    # ------------------------------------------------------------ applying

    def plan(self, steps: Sequence[Step]) -> list[Statement]:
        from .commands import commands_for

        return [
            Statement(c.render(), action=c.run, label=f"{c.name} {c.target}".strip())
            for c in commands_for(steps, self.database)
        ]

    def perform(self, statement: Statement) -> None:
        if self.lock_lost:
            self.renew_now()
        assert statement.action is not None
        statement.action(self.raw)

    def server(self) -> str | None:
        with self.talking("reading the server version"):
            version = str(self.client.server_info().get("version", ""))
        return f"mongodb-{'.'.join(version.split('.')[:2])}" if version else None

    def row_counts(self) -> dict[str, int]:
        with self.talking("counting documents"):
            return {name: self.raw[name].count_documents({}) for name in user_collections(self.raw)}

    def count_rows(self, table: str) -> int | None:
        with self.talking(f"counting the documents of {table}"):
            return int(self.raw[table].count_documents({}))

    def close(self) -> None:
        self._stop_renewing()
        self.client.close()


class MongoDriver(Driver):
    api_version = API_VERSION  # the driver API it was written for (required)
    info = DriverInfo(
        "mongo",
        ("mongodb", "mongodb+srv"),
        "document",
        "MongoDB 5.0+ through pymongo: collections, validators, indexes",
    )
    # no foreign keys, checks or auto-increment keys: collections and unique indexes
    features = Features(foreign_keys=False, increments=False, check_constraints=False, fk_actions=False)
    hooks = family
    #: how the driver opens a client for a URL; tests swap it (never set in production code)
    client_factory: ClientFactory | None = None
    lock_ttl = 60.0  # seconds a lock lives without renewal
    lock_renew_every = 15.0  # seconds between renewals while it is held
    lock_poll = 0.2  # seconds between attempts while another runner holds it

    def connect(self, url: str) -> MongoSession:
        name = database_name(url)
        factory = self.client_factory or pymongo_client
        try:
            client = factory(url)
            return MongoSession(self, url, client, name)
        except ModelmigError:
            raise
        except Exception as exc:
            raise ModelmigError(scrub(f"cannot connect to {redact(url)}: {detail(exc)}", url)) from exc

    def renders(self, type_name: str) -> bool:
        from .schema import renders

        return renders(type_name)

    def refusals(self, state: Any, server: str | None, steps: Sequence[Step] = ()) -> list[Refusal]:
        """Partial filters with operators the declared server (default: 5.0) refuses."""
        from .rules import MIN_SERVER, partial_problem

        version = server_version(server, "mongodb", MIN_SERVER)
        out = []
        for coll in state.collections.values():
            for ix in coll.indexes:
                problem = partial_problem(ix.partial, version) if ix.partial is not None else None
                if problem:
                    out.append(Refusal(coll.name, ix.keys[0][0], f"index {ix.name}: {problem}"))
        return out

    def wipe(self, session: Session) -> list[str]:
        assert isinstance(session, MongoSession)
        db = session.raw
        with session.talking("dropping every collection"):
            views = sorted(user_views(db))
            names = user_collections(db)
            last = [n for n in names if n != LEDGER] + [n for n in names if n == LEDGER]  # the ledger last
            for name in [*views, *last]:  # views first: they read from the collections
                db.drop_collection(name)
        return views + names

    def reflect(self, session: Session) -> Any:
        """The live collections, validators and indexes (``reflect.py``:
        ``listCollections`` and ``listIndexes``)."""
        from .reflect import reflect_database

        assert isinstance(session, MongoSession)
        with session.talking("reading the collections and their indexes"):
            return reflect_database(session.raw)

    def backup(self, session: Session, directory: Path, label: str) -> Backup:
        """Every collection (but the lock's) as Extended JSON lines, one file each, and
        its indexes in ``_collections.json``; each file is then read back and parsed
        to count its documents. The live counts are the documents the server sent
        for each collection, counted as they were written (one read, so a writer
        elsewhere cannot make the two differ); the read back must hold them all.
        A file is named from ``backup_file`` (never a path of the collection's
        name), recorded as ``file`` in ``_collections.json``."""
        from bson import json_util

        assert isinstance(session, MongoSession)
        db = session.raw
        folder = directory / label
        folder.mkdir(parents=True)
        rows: dict[TableKey, int] = {}
        live: dict[TableKey, int] = {}
        meta: dict[str, Any] = {}
        with session.talking("taking a backup"):
            names = user_collections(db)
            views = user_views(db)  # no documents, no indexes: their definitions are kept
            files = {name: backup_file(name) for name in names}
            for name in names:
                coll = db[name]
                sent = 0
                with (folder / files[name]).open("x", encoding="utf-8") as out:  # "x": two names, one file: refused
                    for doc in coll.find({}, sort=[("_id", 1)]):
                        out.write(json_util.dumps(doc, json_options=json_util.CANONICAL_JSON_OPTIONS) + "\n")
                        sent += 1
                live[(session.database, name)] = sent
                # validators live in the migrations
                meta[name] = {"indexes": coll.index_information(), "file": files[name]}
            meta.update({name: {"view": options} for name, options in sorted(views.items())})
            (folder / "_collections.json").write_text(json_util.dumps(meta, indent=2), encoding="utf-8")
            for name in names:
                with (folder / files[name]).open(encoding="utf-8") as back:
                    rows[(session.database, name)] = sum(1 for line in back if json_util.loads(line) is not None)
        return Backup(folder, rows, live)


def backup_file(collection: str) -> str:
    """The file of a collection in a backup folder: its name percent-encoded (no
    separator, no NUL, never ``.`` or ``..``), or a hash of it when that is long."""
    from urllib.parse import quote

    name = quote(collection, safe="-_.")
    if len(name) > 200:
        import hashlib

        name = hashlib.sha256(collection.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{name}.jsonl"


driver = MongoDriver()

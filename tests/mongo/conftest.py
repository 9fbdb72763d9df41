"""Fixtures for the MongoDB driver's tests.

Two backends run the same tests:

- ``mongomock``: mongomock's in-memory server, always available. It models
  collections, documents, indexes (with their partial and TTL options as index
  metadata), unique keys and renames faithfully. It does not model
  ``create`` with options, ``collMod`` or validators: the recorder below keeps
  the options those commands carry (the exact arguments sent), so tests assert
  on them; it does not pretend to validate documents.
- ``server``: a real MongoDB at ``MODELMIG_TEST_MONGO_URL`` (each test gets its
  own database, dropped afterwards). Skipped, with the reason, when it is unset.

Both go through the driver's ``client_factory`` and record every schema call
(create_collection, command, create_index, drop_index, rename, drop_collection)
with its arguments. The factory is swapped for the duration of a test only.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import mongomock
import pytest
from modelmig_mongo.driver import driver
from pymongo.errors import OperationFailure

SERVER_ENV = "MODELMIG_TEST_MONGO_URL"


@dataclass
class Call:
    method: str
    target: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)


class RecordingCollection:
    def __init__(self, inner: Any, db: RecordingDatabase) -> None:
        self._inner = inner
        self._db = db

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def create_index(self, keys: Any, **kwargs: Any) -> Any:
        self._db._record("create_index", self._inner.name, (list(keys),), kwargs)
        return self._inner.create_index(keys, **kwargs)

    def drop_index(self, name: str) -> Any:
        self._db._record("drop_index", self._inner.name, (name,), {})
        return self._inner.drop_index(name)

    def index_information(self) -> Any:
        if self._db._backend.emulate and "viewOn" in self._db._backend.options.get((self._db.name, self.name), {}):
            raise OperationFailure(f"Namespace {self._db.name}.{self.name} is a view, not a collection", code=166)
        return self._inner.index_information()

    def rename(self, new: str, **kwargs: Any) -> Any:
        self._db._record("rename", self._inner.name, (new,), kwargs)
        result = self._inner.rename(new, **kwargs)
        if self._db._backend.emulate:
            opts = self._db._backend.options.pop((self._db.name, self._inner.name), None)
            if opts is not None:
                self._db._backend.options[(self._db.name, new)] = opts
        return result


class RecordingDatabase:
    def __init__(self, inner: Any, backend: Backend) -> None:
        self._inner = inner
        self._backend = backend

    @property
    def name(self) -> str:
        return str(self._inner.name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __getitem__(self, name: str) -> RecordingCollection:
        return RecordingCollection(self._inner[name], self)

    def get_collection(self, name: str, **kwargs: Any) -> RecordingCollection:
        self._backend.opened_collections.append((name, dict(kwargs)))
        return RecordingCollection(self._inner.get_collection(name, **kwargs), self)

    def _record(self, method: str, target: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        call = Call(method, target, args, dict(kwargs))
        self._backend.calls.append(call)
        fail = self._backend.fail_on
        if fail is not None and fail(call):
            raise OperationFailure(f"injected failure of {method} on {target}", code=8000)

    def create_collection(self, name: str, **kwargs: Any) -> Any:
        self._record("create_collection", name, (), kwargs)
        if not self._backend.emulate:
            return self._inner.create_collection(name, **kwargs)
        if name in self._inner.list_collection_names():
            raise OperationFailure(f"Collection {self.name}.{name} already exists.", code=48)
        self._inner.create_collection(name)  # mongomock takes no options: keep them here
        self._backend.options[(self.name, name)] = {k: v for k, v in kwargs.items() if k != "check_exists"}
        return self[name]

    def command(self, command: Any, **kwargs: Any) -> Any:
        name = next(iter(command))
        self._record("command", str(command[name]), (dict(command),), kwargs)
        if not self._backend.emulate or name != "collMod":
            return self._inner.command(command, **kwargs)
        coll = command["collMod"]
        if coll not in self._inner.list_collection_names():
            raise OperationFailure(f"ns does not exist: {self.name}.{coll}", code=26)
        if "index" in command:  # a TTL index's expiry: mongomock keeps it as index metadata
            spec = command["index"]
            inner = self._inner[coll]
            info = inner.index_information().get(spec["name"])
            if info is None or "expireAfterSeconds" not in info:
                raise OperationFailure(f"no TTL index named {spec['name']}", code=27)
            keep = {k: v for k, v in info.items() if k in ("unique", "sparse", "partialFilterExpression")}
            inner.drop_index(spec["name"])
            inner.create_index(info["key"], name=spec["name"], expireAfterSeconds=spec["expireAfterSeconds"], **keep)
            return {"ok": 1.0, "expireAfterSeconds_new": spec["expireAfterSeconds"]}
        opts = self._backend.options.setdefault((self.name, coll), {})
        opts.update({k: v for k, v in command.items() if k != "collMod"})
        return {"ok": 1.0}

    def list_collections(self, **kwargs: Any) -> Any:
        """mongomock has no listCollections: built from its collection names and the
        options kept by this recorder (a view is a collection created with viewOn)."""
        if not self._backend.emulate:
            return self._inner.list_collections(**kwargs)
        out = []
        for name in self._inner.list_collection_names():
            options = self._backend.options.get((self.name, name), {})
            kind = "view" if "viewOn" in options else "collection"
            out.append({"name": name, "type": kind, "options": dict(options)})
        return iter(out)

    def drop_collection(self, name: str, **kwargs: Any) -> Any:
        self._record("drop_collection", name, (), kwargs)
        self._backend.options.pop((self.name, name), None)
        return self._inner.drop_collection(name, **kwargs)


class RecordingClient:
    def __init__(self, inner: Any, backend: Backend) -> None:
        self._inner = inner
        self._backend = backend

    def get_database(self, name: str) -> RecordingDatabase:
        return RecordingDatabase(self._inner.get_database(name), self._backend)

    def close(self) -> None:
        self._backend.closed += 1
        if not self._backend.emulate:
            self._inner.close()


@dataclass
class Backend:
    """One MongoDB (mock or real) for one test."""

    kind: str
    url: str
    emulate: bool
    make_inner: Callable[[str], Any]
    calls: list[Call] = field(default_factory=list)
    options: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    opened: int = 0
    closed: int = 0
    fail_on: Callable[[Call], bool] | None = None
    opened_collections: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # get_collection kwargs
    _inspect: Any = None

    @property
    def dbname(self) -> str:
        return urlsplit(self.url).path.lstrip("/")

    def client(self, url: str) -> RecordingClient:
        self.opened += 1
        return RecordingClient(self.make_inner(url), self)

    @property
    def db(self) -> Any:
        """The database, for assertions (not recorded)."""
        if self._inspect is None:
            self._inspect = self.make_inner(self.url)
        return self._inspect.get_database(self.dbname)

    def collections(self) -> set[str]:
        return set(self.db.list_collection_names())

    def collection_options(self, name: str) -> dict[str, Any]:
        """What the collection was created/collMod'ed with (validator, level, action)."""
        if self.emulate:
            return dict(self.options.get((self.dbname, name), {}))
        info = next(iter(self.db.list_collections(filter={"name": name})), None)
        return dict(info["options"]) if info else {}

    def indexes(self, name: str) -> dict[str, dict[str, Any]]:
        """{index name: {key: [(field, direction)], unique, partialFilterExpression, expireAfterSeconds}}."""
        out = {}
        for ix_name, info in self.db[name].index_information().items():
            if ix_name == "_id_":
                continue
            entry: dict[str, Any] = {"key": [(k, int(d)) for k, d in info["key"]]}
            for opt in ("unique", "sparse", "partialFilterExpression", "expireAfterSeconds"):
                if info.get(opt) not in (None, False):
                    entry[opt] = info[opt]
            out[ix_name] = entry
        return out

    def ledger(self) -> list[dict[str, Any]]:
        return list(self.db["modelmig_migrations"].find({}, sort=[("batch", 1), ("_id", 1)]))

    def schema_calls(self) -> list[Call]:
        """Recorded calls, cleared."""
        out, self.calls[:] = list(self.calls), []
        return out


def _server_url(base: str) -> str:
    parts = urlsplit(base)
    return urlunsplit(parts._replace(path=f"/modelmig_test_{uuid.uuid4().hex[:10]}"))


@pytest.fixture(params=["mongomock", "server"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """The same test on mongomock and, when MODELMIG_TEST_MONGO_URL is set, on a real server."""
    if request.param == "mongomock":
        store = mongomock.store.ServerStore()
        b = Backend(
            "mongomock",
            f"mongodb://mongomock.invalid:27017/app_{uuid.uuid4().hex[:6]}",
            True,
            lambda url: mongomock.MongoClient(_store=store),
        )
    else:
        base = os.environ.get(SERVER_ENV)
        if not base:
            pytest.skip(f"{SERVER_ENV} is not set: no MongoDB server to run the real-server suite against")
        import pymongo

        b = Backend("server", _server_url(base), False, lambda url: pymongo.MongoClient(url))
    monkeypatch.setattr(driver, "client_factory", b.client)
    monkeypatch.setattr(driver, "lock_poll", 0.05)
    yield b
    if b.kind == "server":
        b.make_inner(b.url).drop_database(b.dbname)


@pytest.fixture
def mock_backend(monkeypatch: pytest.MonkeyPatch) -> Backend:
    """mongomock only (for tests about the driver's own logic, not server behaviour)."""
    store = mongomock.store.ServerStore()
    b = Backend(
        "mongomock",
        f"mongodb://mongomock.invalid:27017/app_{uuid.uuid4().hex[:6]}",
        True,
        lambda url: mongomock.MongoClient(_store=store),
    )
    monkeypatch.setattr(driver, "client_factory", b.client)
    monkeypatch.setattr(driver, "lock_poll", 0.05)
    return b

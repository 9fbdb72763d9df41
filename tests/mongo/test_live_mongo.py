"""The live MongoDB as an input: reflection through ``listCollections`` and
``listIndexes``, and ``migrate:status --drift`` for the document family.

mongomock models indexes (with their TTL, partial, sparse and unique options)
but not ``listCollections`` nor the options a collection is created with, so:

- indexes are read from mongomock's own ``listIndexes``;
- the reading of ``listCollections`` is checked on the exact documents a
  MongoDB server answers (``options.validator``, ``validationLevel``,
  ``validationAction``, with ``info`` and ``idIndex`` beside them);
- for the lifecycle, ``list_collections`` is served from the options the
  recorder kept of the ``create``/``collMod`` commands the driver sent, in the
  server's format (what a server would answer after those commands).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import mongomock
import pytest
from bson.int64 import Int64
from click.testing import CliRunner
from conftest import Backend, RecordingDatabase
from modelmig_mongo.reflect import collection_from_info, index_from_info, reflect_database
from modelmig_mongo.state import Collection, CollectionIndex, DocumentState

from modelmig_core.cli import cli
from modelmig_core.history.replay import replay

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blog"

SERVER_LIST_COLLECTIONS = [  # as MongoDB 7 answers listCollections
    {
        "name": "activity_log",
        "type": "collection",
        "options": {
            "validator": {
                "$jsonSchema": {
                    "bsonType": "object",
                    "required": ["action", "user_id"],
                    "properties": {
                        "user_id": {"bsonType": "int"},
                        "action": {"bsonType": "string", "enum": ["login", "logout"]},
                        "ip": {"bsonType": ["string", "null"], "maxLength": 45},
                    },
                }
            },
            "validationLevel": "moderate",
            "validationAction": "warn",
        },
        "info": {"readOnly": False, "uuid": "00000000-0000-0000-0000-000000000000"},
        "idIndex": {"v": 2, "key": {"_id": 1}, "name": "_id_"},
    },
    {"name": "plain", "type": "collection", "options": {}, "info": {"readOnly": False}},
    {"name": "recent", "type": "view", "options": {"viewOn": "activity_log", "pipeline": []}},
    {"name": "modelmig_migrations", "type": "collection", "options": {}},
    {"name": "modelmig_lock", "type": "collection", "options": {}},
    {"name": "system.views", "type": "collection", "options": {}},
]
SERVER_LIST_INDEXES = {
    "activity_log": [
        {"v": 2, "key": {"_id": 1}, "name": "_id_"},
        {"v": 2, "key": {"user_id": 1, "created_at": -1.0}, "name": "ix_recent"},
        {"v": 2, "key": {"created_at": Int64(1)}, "name": "ttl_created", "expireAfterSeconds": Int64(2592000)},
        {
            "v": 2,
            "key": {"user_id": 1, "action": 1},
            "name": "uq_login",
            "unique": True,
            "partialFilterExpression": {"action": "login"},
        },
        {"v": 2, "key": {"ip": 1}, "name": "ix_ip", "sparse": True},
    ],
    "plain": [{"v": 2, "key": {"_id": 1}, "name": "_id_"}],
}


class ServerShapedDatabase:
    """A database answering listCollections and listIndexes with a server's documents."""

    def list_collections(self) -> list[dict[str, Any]]:
        return SERVER_LIST_COLLECTIONS

    def __getitem__(self, name: str) -> Any:
        indexes = SERVER_LIST_INDEXES[name]

        class Coll:
            def list_indexes(self) -> list[dict[str, Any]]:
                return indexes

        return Coll()


def test_the_exact_list_collections_answer_is_read() -> None:
    state = reflect_database(ServerShapedDatabase())
    assert sorted(state.collections) == ["activity_log", "plain"]  # no view, no system or modelmig collection
    assert state.collections["plain"] == Collection("plain", None, "strict", "error", ())
    assert state.collections["activity_log"] == Collection(
        "activity_log",
        SERVER_LIST_COLLECTIONS[0]["options"]["validator"],
        "moderate",
        "warn",
        (
            CollectionIndex("ix_ip", (("ip", 1),), sparse=True),
            CollectionIndex("ix_recent", (("user_id", 1), ("created_at", -1))),
            CollectionIndex("ttl_created", (("created_at", 1),), expire_after_seconds=2592000),
            CollectionIndex("uq_login", (("user_id", 1), ("action", 1)), unique=True, partial={"action": "login"}),
        ),
    )
    # the numbers are plain ints, as the migration files write them
    ttl = state.collections["activity_log"].indexes[2]
    assert type(ttl.expire_after_seconds) is int and type(ttl.keys[0][1]) is int


def test_indexes_are_read_from_mongomock_list_indexes() -> None:
    db = mongomock.MongoClient().get_database("x")
    db.create_collection("events")
    db["events"].create_index([("at", 1)], name="ttl_at", expireAfterSeconds=60)
    db["events"].create_index(
        [("user", 1), ("at", -1)], name="uq_user_at", unique=True, partialFilterExpression={"user": {"$gt": 0}}
    )
    db["events"].create_index([("tag", 1)], name="ix_tag", sparse=True)
    indexes = [index_from_info(i) for i in db["events"].list_indexes() if i["name"] != "_id_"]
    assert sorted(indexes, key=lambda i: i.name) == [
        CollectionIndex("ix_tag", (("tag", 1),), sparse=True),
        CollectionIndex("ttl_at", (("at", 1),), expire_after_seconds=60),
        CollectionIndex("uq_user_at", (("user", 1), ("at", -1)), unique=True, partial={"user": {"$gt": 0}}),
    ]
    info = {"name": "events", "type": "collection", "options": {}}
    assert collection_from_info(info, list(db["events"].list_indexes())).indexes == tuple(
        sorted(indexes, key=lambda i: i.name)
    )


@pytest.fixture
def listing(mock_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Backend:
    """``list_collections`` on the recording mongomock database, answered as a server
    would after the create/collMod commands the driver sent (their recorded options)."""

    def list_collections(self: RecordingDatabase) -> list[dict[str, Any]]:
        out = []
        for name in sorted(self._inner.list_collection_names()):
            options = dict(self._backend.options.get((self.name, name), {}))
            if options.get("validator") == {}:
                options.pop("validator")
            out.append({"name": name, "type": "collection", "options": options, "info": {"readOnly": False}})
        return out

    monkeypatch.setattr(RecordingDatabase, "list_collections", list_collections, raising=False)
    return mock_backend


@pytest.fixture
def blog(tmp_path: Path, listing: Backend, monkeypatch: pytest.MonkeyPatch) -> Any:
    app = tmp_path / "blog"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    monkeypatch.setenv("BLOG_DB", str(app / "blog.sqlite3"))
    monkeypatch.setenv("BLOG_MONGO_URL", listing.url)
    monkeypatch.setenv("MODELMIG_NOW", "2026-11-25T12:00:00")

    def run(*args: str, code: int = 0) -> str:
        cwd = os.getcwd()
        try:
            os.chdir(app)
            result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        finally:
            os.chdir(cwd)
        assert result.exit_code == code, result.output
        return result.output

    run.app = app  # type: ignore[attr-defined]
    return run


def test_untouched_activity_log_reflects_to_the_replayed_state(blog: Any, listing: Backend) -> None:
    blog("migrate:run", "--mongo")
    blog("migrate:rollback", "--mongo", "--yes")
    blog("migrate:run", "--mongo")
    from modelmig_mongo.driver import driver

    with driver.connect(listing.url) as session:
        live = driver.reflect(session)
    replayed = replay(blog.app / "migrations", "document", DocumentState).head
    assert live.canonical() == replayed.canonical()
    assert "drift: none: the live schema matches the applied migrations" in blog("migrate:status", "--drift", "--mongo")


def test_hand_changes_to_collections_are_drift(blog: Any, listing: Backend) -> None:
    blog("migrate:run", "--mongo")
    db = listing.db
    db["activity_log"].drop_index("ttl_activity_log_created")
    db["activity_log"].create_index([("ip", 1)], name="ix_ip", sparse=True)
    db.create_collection("scratch")
    options = listing.options[(listing.dbname, "activity_log")]
    schema = json.loads(json.dumps(options["validator"]))
    schema["$jsonSchema"]["properties"]["ip"]["maxLength"] = 64
    schema["$jsonSchema"]["properties"]["country"] = {"bsonType": "string"}
    del schema["$jsonSchema"]["properties"]["meta"]
    options.update(validator=schema, validationAction="warn")  # what a collMod by hand leaves
    out = blog("migrate:status", "--drift", "--mongo", code=1)
    lines = [line.strip() for line in out.splitlines()]
    assert "changed validation action activity_log: warn in the database, error in the migrations" in lines
    assert 'extra validator field activity_log.country: {"bsonType": "string"}' in lines
    assert any(line.startswith("missing validator field activity_log.meta: ") for line in lines)
    assert any(
        line.startswith("changed validator field activity_log.ip: ") and '"maxLength": 64' in line for line in lines
    )
    assert "missing index activity_log.ttl_activity_log_created: {created_at: 1} TTL 2592000s" in lines
    assert "extra index activity_log.ix_ip: {ip: 1} sparse" in lines
    assert "unmanaged collection scratch (no model or migration knows it)" in lines
    report = json.loads(blog("migrate:status", "--drift", "--mongo", "--json", code=1))
    assert report["connections"][0]["unmanaged"] == [{"kind": "collection", "name": "scratch"}]


def test_baseline_adopts_collections_made_by_hand(blog: Any, listing: Backend) -> None:
    """The activity log made by hand, exactly as its migration would: baseline marks
    the migration applied without sending a schema command; a difference refuses."""
    from modelmig_mongo.commands import create_command, index_command

    replayed = replay(blog.app / "migrations", "document", DocumentState).head
    coll = replayed.collections["activity_log"]
    db = listing.db
    options = {k: v for k, v in create_command(coll).document.items() if k != "create"}
    db.create_collection("activity_log")
    listing.options[(listing.dbname, "activity_log")] = options  # what the server keeps of create's options
    for ix in coll.indexes:
        (spec,) = index_command("activity_log", ix).document["indexes"]
        db["activity_log"].create_index(list(spec["key"].items()), **{k: v for k, v in spec.items() if k != "key"})
    db["activity_log"].drop_index("ttl_activity_log_created")
    out = blog("migrate:baseline", "--mongo", code=1)
    assert "missing index activity_log.ttl_activity_log_created: {created_at: 1} TTL 2592000s" in out
    assert listing.ledger() == []
    db["activity_log"].create_index([("created_at", 1)], name="ttl_activity_log_created", expireAfterSeconds=2592000)
    listing.schema_calls()
    out = blog("migrate:baseline", "--mongo")
    assert "mongo: marked 20261125120000_create_activity_log_collection as applied (batch 1, not run)" in out
    assert [c.method for c in listing.schema_calls()] == []  # no schema command was sent
    assert [(d["_id"], d["status"], d["batch"]) for d in listing.ledger()] == [
        ("20261125120000_create_activity_log_collection", "applied", 1)
    ]
    assert "drift: none" in blog("migrate:status", "--drift", "--mongo")


def test_make_models_reads_sql_databases_only(blog: Any) -> None:
    out = blog("make:models", "--connection", "mongo", "--out", "-", code=2)
    assert "error: make:models reads SQL databases; connection mongo uses the mongo driver (document family)" in out

"""The SQL lifecycle, on MongoDB: make -> run -> status -> rollback -> run ->
rollback --step 1 -> reset -> fresh, through the real CLI.

Runs on mongomock and, when MODELMIG_TEST_MONGO_URL is set, on a real server
(see conftest.py). Collections, indexes (with partial/TTL options), renames and
the ledger are read back from the database; validators, validation levels and
collMod are asserted on the exact arguments sent (mongomock does not keep them,
a real server reports them through listCollections).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Backend
from models_src import (
    ACTIVITY_V1_INDEXES,
    ACTIVITY_V1_SCHEMA,
    ACTIVITY_V2_SCHEMA,
    NOTES_SCHEMA,
    V1,
    V2,
)
from pymongo.errors import DuplicateKeyError

M1 = "20260101000000_create_activity_notes_collections"
M2 = "20260101000001_update_schema"

STRICT = {"validationLevel": "strict", "validationAction": "error"}


def project(make_project: Any, backend: Backend, **extra: Any) -> Any:
    p = make_project(
        {
            "main": {"url": "sqlite:///app.sqlite3"},
            "docs": {"url": backend.url},
        },
        extra_config='default = "main"' + "".join(f"\n{k} = {v}" for k, v in extra.items()),
    )
    return p


def status(p: Any) -> dict[str, tuple[str, int | None]]:
    out = json.loads(p.ok("migrate:status", "--mongo", "--json").output)
    (conn,) = out["connections"]
    assert (conn["connection"], conn["driver"]) == ("docs", "mongo")
    return {m["id"]: (m["status"], m["batch"]) for m in conn["migrations"]}


def test_full_lifecycle(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)

    # make: two chains, each its own folder; no database is opened
    out = p.ok("make:migration").output
    assert f"migrations/document/{M1}.py (2 operation(s))" in out
    assert [f.stem for f in p.migration_files("document")] == [M1]
    assert [f.name for f in p.migration_files("sql")] == ["20260101000000_create_users_table.py"]
    assert backend.opened == 0
    assert p.ok("make:migration").output.strip() == "No changes: the models match the migrations."

    # run: collections with validators, indexes with their options
    assert f"docs: applied {M1}" in p.ok("migrate:run", "--mongo").output
    assert not (p.root / "app.sqlite3").exists()  # --mongo touches only mongo
    assert {"activity", "notes"} <= backend.collections()
    assert backend.collection_options("activity") == {"validator": ACTIVITY_V1_SCHEMA, **STRICT}
    assert backend.collection_options("notes") == {"validator": NOTES_SCHEMA, **STRICT}
    assert backend.indexes("activity") == ACTIVITY_V1_INDEXES
    assert backend.indexes("notes") == {}
    calls = backend.schema_calls()
    assert [(c.method, c.target) for c in calls] == [
        ("create_collection", "activity"),
        ("create_index", "activity"),
        ("create_index", "activity"),
        ("create_index", "activity"),
        ("create_collection", "notes"),
    ]
    assert calls[0].kwargs == {"check_exists": False, "validator": ACTIVITY_V1_SCHEMA, **STRICT}
    assert calls[2].args == ([("created_at", 1)],)
    assert calls[2].kwargs == {"name": "ttl_activity_created", "expireAfterSeconds": 3600}
    assert calls[3].kwargs == {
        "name": "uq_activity_user_kind",
        "unique": True,
        "partialFilterExpression": {"kind": "login"},
    }
    assert status(p) == {M1: ("applied", 1)}
    (row,) = backend.ledger()
    assert row["_id"] == M1 and row["status"] == "applied" and row["batch"] == 1
    assert len(row["checksum"]) == 64 and row["progress"] == 5 and "applied_at" in row
    assert backend.db["modelmig_lock"].count_documents({}) == 0  # released

    # the unique partial index is live: two logins of one user clash, posts do not
    docs = backend.db["activity"]
    now = row["applied_at"]
    docs.insert_one({"user_id": 1, "kind": "login", "created_at": now})
    docs.insert_one({"user_id": 1, "kind": "post", "created_at": now})
    docs.insert_one({"user_id": 1, "kind": "post", "created_at": now})
    with pytest.raises(DuplicateKeyError):
        docs.insert_one({"user_id": 1, "kind": "login", "created_at": now})
    docs.delete_many({})

    # v2: field changes, a TTL change, a declared rename and a validation level
    p.models(V2)
    assert f"migrations/document/{M2}.py (6 operation(s))" in p.ok("make:migration").output
    source = (p.root / "migrations" / "document" / f"{M2}.py").read_text()
    for expected in (
        'op.RenameCollection("notes", "memos")',
        'op.RemoveValidatorField(\n        "activity",\n        "detail",',
        'op.AlterValidatorField(\n        "activity",\n        "kind",',
        'op.AddValidatorField("activity", "ip", {"bsonType": ["string", "null"], "maxLength": 45})',
        'op.ChangeIndexExpiry("activity", "ttl_activity_created", 3600, 7200)',  # collMod, not drop + create
        "op.SetValidator(",
    ):
        assert expected in source, expected
    assert "DropCollection(" not in source  # a rename is never a drop plus a create

    p.ok("migrate:run", "--mongo")
    assert status(p) == {M1: ("applied", 1), M2: ("applied", 2)}
    assert "notes" not in backend.collections() and "memos" in backend.collections()
    assert backend.collection_options("activity") == {"validator": ACTIVITY_V2_SCHEMA, **STRICT}
    assert backend.collection_options("memos") == {
        "validator": NOTES_SCHEMA,
        "validationLevel": "moderate",
        "validationAction": "error",
    }
    assert backend.indexes("activity")["ttl_activity_created"]["expireAfterSeconds"] == 7200
    calls = backend.schema_calls()
    assert [(c.method, c.target) for c in calls] == [
        ("rename", "notes"),
        ("command", "activity"),  # the TTL, in place
        ("command", "activity"),  # three field changes, one collMod
        ("command", "memos"),
    ]
    assert calls[1].args == (
        {"collMod": "activity", "index": {"name": "ttl_activity_created", "expireAfterSeconds": 7200}},
    )
    assert calls[2].args == ({"collMod": "activity", "validator": ACTIVITY_V2_SCHEMA, **STRICT},)
    assert calls[3].args == (
        {"collMod": "memos", "validator": NOTES_SCHEMA, "validationLevel": "moderate", "validationAction": "error"},
    )

    # rollback: the last batch, back to v1 exactly
    assert f"docs: rolled back {M2}" in p.ok("migrate:rollback", "--mongo").output
    assert status(p) == {M1: ("applied", 1), M2: ("pending", None)}
    assert "notes" in backend.collections() and "memos" not in backend.collections()
    assert backend.collection_options("activity") == {"validator": ACTIVITY_V1_SCHEMA, **STRICT}
    assert backend.collection_options("notes") == {"validator": NOTES_SCHEMA, **STRICT}
    assert backend.indexes("activity") == ACTIVITY_V1_INDEXES
    backend.schema_calls()

    # run again, then rollback --step 1 rolls back one migration
    p.ok("migrate:run", "--mongo")
    assert status(p) == {M1: ("applied", 1), M2: ("applied", 2)}
    assert f"docs: rolled back {M2}" in p.ok("migrate:rollback", "--mongo", "--step", "1").output
    assert status(p) == {M1: ("applied", 1), M2: ("pending", None)}
    p.ok("migrate:run", "--mongo")

    # reset: everything rolled back, newest first
    out = p.ok("migrate:reset", "--mongo", "--yes").output
    assert out.index(f"rolled back {M2}") < out.index(f"rolled back {M1}")
    assert status(p) == {M1: ("pending", None), M2: ("pending", None)}
    assert not ({"activity", "notes", "memos"} & backend.collections())
    assert backend.ledger() == []

    # fresh: drop every collection (a stray one too), run everything in one batch
    p.ok("migrate:run", "--mongo")
    backend.db["stray"].insert_one({"x": 1})
    backend.schema_calls()
    out = p.ok("migrate:fresh", "--mongo", "--yes").output
    assert "applied" in out
    assert status(p) == {M1: ("applied", 1), M2: ("applied", 1)}
    assert "stray" not in backend.collections()
    dropped = {c.target for c in backend.schema_calls() if c.method == "drop_collection"}
    assert {"activity", "memos", "stray", "modelmig_migrations"} <= dropped
    assert "modelmig_lock" not in dropped  # the lock outlives fresh
    assert backend.collection_options("activity") == {"validator": ACTIVITY_V2_SCHEMA, **STRICT}


def test_pretend_prints_the_command_documents_and_changes_nothing(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    out = p.ok("migrate:run", "--mongo", "--pretend").output
    lines = [line for line in out.splitlines() if line.startswith("db.")]
    assert len(lines) == 5
    first = json.loads(lines[0].removeprefix("db.runCommand(").removesuffix(");"))
    assert first == {"create": "activity", "validator": ACTIVITY_V1_SCHEMA, **STRICT}
    ttl = json.loads(lines[2].removeprefix("db.runCommand(").removesuffix(");"))
    assert ttl == {
        "createIndexes": "activity",
        "indexes": [{"key": {"created_at": 1}, "name": "ttl_activity_created", "expireAfterSeconds": 3600}],
    }
    assert backend.schema_calls() == []
    assert "activity" not in backend.collections()
    assert status(p) == {M1: ("pending", None)}


def test_connection_by_name_and_test_url(make_project: Any, backend: Backend) -> None:
    p = make_project({"docs": {"url": "mongodb://unused.invalid/never", "test_url": backend.url}})
    p.models(
        V1.replace("class User(Model):", "class User(Model):\n    store = 'mongo'").replace(
            '"id": column("increments"), ', ""
        )
    )
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "docs", "--test")
    assert {"activity", "notes", "users"} <= backend.collections()
    assert backend.indexes("users") == {"uq_users_email": {"key": [("email", 1)], "unique": True}}

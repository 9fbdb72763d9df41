"""The document diff (operations and their inverses) and the exact command
documents each operation sends, as --pretend prints them and as pymongo's
helpers receive them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Backend
from modelmig_mongo import family
from modelmig_mongo.commands import commands_for
from modelmig_mongo.diff import diff_collections
from modelmig_mongo.operations import (
    AddValidatorField,
    AlterValidatorField,
    ChangeIndexExpiry,
    CreateCollection,
    CreateCollectionIndex,
    DropCollection,
    DropCollectionIndex,
    RemoveValidatorField,
    RenameCollection,
    RunPython,
    SetValidator,
)
from modelmig_mongo.state import Collection, CollectionIndex, DocumentState

from modelmig_core.driver import Step
from modelmig_core.errors import MigrationFailed, MigrationFileError
from modelmig_core.operations import CreateTable, Operation, RunSQL
from modelmig_core.schema.diff import DiffHints, inverse_operations
from modelmig_core.schema.state import Column, State, Table


def schema(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
    js: dict[str, Any] = {"bsonType": "object"}
    if required:
        js["required"] = required
    js["properties"] = props
    return {"$jsonSchema": js}


S = {"bsonType": "string"}
D = {"bsonType": "date"}
TTL = CollectionIndex("ttl_log_at", (("at", 1),), expire_after_seconds=60)
LOG = Collection("log", schema({"msg": S, "at": D}, ["at", "msg"]), indexes=(TTL,))


def state(*colls: Collection) -> DocumentState:
    return DocumentState({c.name: c for c in colls})


def steps(ops: list[Operation], before: DocumentState) -> list[Step]:
    """The ops as steps from ``before`` (an op of another family keeps the state)."""
    out = []
    for op in ops:
        try:
            after = op.state_forwards(before)
        except AttributeError:
            after = before
        out.append(Step(op, before, after))
        before = after
    return out


def replay(old: DocumentState, ops: list[Operation]) -> DocumentState:
    for op in ops:
        old = op.state_forwards(old)
    return old


def roundtrip(old: DocumentState, new: DocumentState, hints: DiffHints | None = None) -> list[Operation]:
    """The diff reproduces ``new``; its inverse goes back to ``old``."""
    ops = diff_collections(old, new, hints)
    after = replay(old, ops)
    assert after.canonical() == new.canonical()
    assert replay(after, inverse_operations(ops)).canonical() == old.canonical()
    return ops


def test_no_collections_no_operations() -> None:
    table = Table("users", (Column("id", "integer", primary=True),))
    assert family.diff(old=State(), new=State(tables={"users": table}), hints=DiffHints()) == []
    assert diff_collections(state(LOG), state(LOG)) == []


def test_create_and_drop_collection() -> None:
    assert roundtrip(DocumentState(), state(LOG)) == [CreateCollection(LOG)]
    ops = roundtrip(state(LOG), DocumentState())
    assert ops == [DropCollection(LOG)] and ops[0].destructive


def test_declared_rename_is_a_rename() -> None:
    new = Collection("events", LOG.validator, indexes=LOG.indexes)
    assert roundtrip(state(LOG), state(new), DiffHints(tables={"events": "log"})) == [RenameCollection("log", "events")]
    # undeclared: drop plus create, never guessed
    assert [type(o) for o in roundtrip(state(LOG), state(new))] == [CreateCollection, DropCollection]


def test_field_changes_become_field_operations() -> None:
    new = Collection(
        "log",
        schema({"msg": {"bsonType": "string", "maxLength": 10}, "level": S}, ["level"]),
        indexes=(),
    )
    ops = roundtrip(state(LOG), state(new))
    assert ops == [
        DropCollectionIndex("log", TTL),
        RemoveValidatorField("log", "at", D, True),
        AlterValidatorField("log", "msg", S, {"bsonType": "string", "maxLength": 10}, True, False),
        AddValidatorField("log", "level", S, True),
    ]
    assert ops[0].inverse() == CreateCollectionIndex("log", TTL)


def test_level_or_action_change_is_one_set_validator() -> None:
    new = Collection("log", LOG.validator, "moderate", "warn", LOG.indexes)
    assert roundtrip(state(LOG), state(new)) == [
        SetValidator("log", LOG.validator, LOG.validator, "strict", "moderate", "error", "warn")
    ]


def test_changed_index_is_drop_then_create() -> None:
    descending = CollectionIndex("ttl_log_at", (("at", -1),), expire_after_seconds=60)
    new = Collection("log", LOG.validator, indexes=(descending,))
    assert roundtrip(state(LOG), state(new)) == [
        DropCollectionIndex("log", TTL),
        CreateCollectionIndex("log", descending),
    ]


def test_a_changed_ttl_alone_is_one_collmod_without_a_window_without_the_index() -> None:
    longer = CollectionIndex("ttl_log_at", (("at", 1),), expire_after_seconds=3600)
    new = Collection("log", LOG.validator, indexes=(longer,))
    ops = roundtrip(state(LOG), state(new))
    assert ops == [ChangeIndexExpiry("log", "ttl_log_at", 60, 3600)]
    assert docs(ops, state(LOG)) == [{"collMod": "log", "index": {"name": "ttl_log_at", "expireAfterSeconds": 3600}}]
    assert docs(inverse_operations(ops), state(new)) == [
        {"collMod": "log", "index": {"name": "ttl_log_at", "expireAfterSeconds": 60}}
    ]


def test_field_operations_refuse_a_missing_field() -> None:
    with pytest.raises(MigrationFileError, match=r"log\.nope does not exist"):
        RemoveValidatorField("log", "nope", S).state_forwards(state(LOG))
    with pytest.raises(MigrationFileError, match=r"log\.msg already exists"):
        AddValidatorField("log", "msg", S).state_forwards(state(LOG))


# ---------------------------------------------------------------- command documents


def docs(ops: list[Operation], before: DocumentState) -> list[dict[str, Any]]:
    return [c.document for c in commands_for(steps(ops, before), "app")]


def test_command_documents_for_every_operation() -> None:
    partial = CollectionIndex("uq_log_msg", (("msg", 1),), True, partial={"msg": {"$type": "string"}})
    sparse = CollectionIndex("ix_log_msg", (("msg", -1),), sparse=True)
    strict = {"validationLevel": "strict", "validationAction": "error"}
    assert docs([CreateCollection(LOG)], DocumentState()) == [
        {"create": "log", "validator": LOG.validator, **strict},
        {"createIndexes": "log", "indexes": [{"key": {"at": 1}, "name": "ttl_log_at", "expireAfterSeconds": 60}]},
    ]
    assert docs([CreateCollection(Collection("raw"))], DocumentState()) == [{"create": "raw"}]
    assert docs([CreateCollectionIndex("log", partial), CreateCollectionIndex("log", sparse)], state(LOG)) == [
        {
            "createIndexes": "log",
            "indexes": [
                {
                    "key": {"msg": 1},
                    "name": "uq_log_msg",
                    "unique": True,
                    "partialFilterExpression": {"msg": {"$type": "string"}},
                }
            ],
        },
        {"createIndexes": "log", "indexes": [{"key": {"msg": -1}, "name": "ix_log_msg", "sparse": True}]},
    ]
    assert docs([DropCollectionIndex("log", TTL)], state(LOG)) == [{"dropIndexes": "log", "index": "ttl_log_at"}]
    assert docs([RenameCollection("log", "events")], state(LOG)) == [
        {"renameCollection": "app.log", "to": "app.events"}
    ]
    assert docs([DropCollection(LOG)], state(LOG)) == [{"drop": "log"}]
    assert docs([SetValidator("log", LOG.validator, None)], state(LOG)) == [
        {"collMod": "log", "validator": {}, **strict}
    ]
    assert docs(
        [SetValidator("log", LOG.validator, LOG.validator, new_level="off", new_action="warn")], state(LOG)
    ) == [{"collMod": "log", "validator": LOG.validator, "validationLevel": "off", "validationAction": "warn"}]


def test_consecutive_validator_changes_of_one_collection_are_one_coll_mod() -> None:
    other = Collection("other", schema({"a": S}, ["a"]))
    ops: list[Operation] = [
        AddValidatorField("log", "level", S, False),
        RemoveValidatorField("log", "at", D, True),
        AddValidatorField("other", "b", S, True),
        DropCollectionIndex("log", TTL),
        AlterValidatorField("log", "msg", S, {"bsonType": "string", "maxLength": 5}, True, True),
    ]
    out = docs(ops, state(LOG, other))
    strict = {"validationLevel": "strict", "validationAction": "error"}
    assert out == [
        {"collMod": "log", "validator": schema({"msg": S, "level": S}, ["msg"]), **strict},
        {"collMod": "other", "validator": schema({"a": S, "b": S}, ["a", "b"]), **strict},
        {"dropIndexes": "log", "index": "ttl_log_at"},
        {
            "collMod": "log",
            "validator": schema({"msg": {"bsonType": "string", "maxLength": 5}, "level": S}, ["msg"]),
            **strict,
        },
    ]


def test_sql_operations_are_refused_in_a_document_migration() -> None:
    with pytest.raises(MigrationFailed, match="RunSQL has no MongoDB meaning"):
        commands_for(steps([RunSQL("SELECT 1")], DocumentState()), "app")
    with pytest.raises(MigrationFailed, match="CreateTable has no MongoDB meaning"):
        commands_for(steps([CreateTable(Table("t", (Column("id", "integer"),)))], DocumentState()), "app")


def test_rendered_lines_are_the_documents_as_json() -> None:
    lines = [
        c.render()
        for c in commands_for(steps([CreateCollection(LOG), RenameCollection("log", "x")], DocumentState()), "app")
    ]
    assert (
        lines[0]
        == "db.runCommand("
        + json.dumps(
            {"create": "log", "validator": LOG.validator, "validationLevel": "strict", "validationAction": "error"}
        )
        + ")"
    )
    assert lines[2] == 'db.adminCommand({"renameCollection": "app.log", "to": "app.x"})'


def test_each_document_goes_through_the_matching_pymongo_helper(mock_backend: Backend) -> None:
    """Command.run calls the helper that sends exactly its document."""
    db = mock_backend.client(mock_backend.url).get_database(mock_backend.dbname)
    seen: list[Any] = []
    ops: list[Operation] = [
        CreateCollection(LOG),
        AddValidatorField("log", "level", S, False),
        DropCollectionIndex("log", TTL),
        RenameCollection("log", "events"),
        RunPython(lambda database: seen.append(database.name)),
        DropCollection(Collection("events", LOG.validator)),
    ]
    for command in commands_for(steps(ops, DocumentState()), mock_backend.dbname):
        command.run(db)
        if command.name == "create":
            assert mock_backend.collections() == {"log"}
    calls = [(c.method, c.target, c.args, c.kwargs) for c in mock_backend.schema_calls()]
    strict = {"validationLevel": "strict", "validationAction": "error"}
    assert calls == [
        ("create_collection", "log", (), {"check_exists": False, "validator": LOG.validator, **strict}),
        ("create_index", "log", ([("at", 1)],), {"name": "ttl_log_at", "expireAfterSeconds": 60}),
        (
            "command",
            "log",
            ({"collMod": "log", "validator": schema({"msg": S, "at": D, "level": S}, ["at", "msg"]), **strict},),
            {},
        ),
        ("drop_index", "log", ("ttl_log_at",), {}),
        ("rename", "log", ("events",), {}),
        ("drop_collection", "events", (), {}),
    ]
    assert seen == [mock_backend.dbname]
    assert mock_backend.collections() == set()

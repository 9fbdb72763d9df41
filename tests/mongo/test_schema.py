"""Mongo models -> collections: $jsonSchema per column type, required fields,
indexes (single, composite, unique, partial, TTL), and the errors for what has
no MongoDB meaning."""

from __future__ import annotations

from typing import Any

import pytest
from modelmig_mongo.schema import UUID_PATTERN, build_collections
from modelmig_mongo.state import Collection, CollectionIndex

from modelmig_core import Model, check, column, foreign_key, index, unique
from modelmig_core.errors import ModelError


def model(schema: dict[str, Any], database: dict[str, Any] | None = None, name: str = "things") -> type[Model]:
    return type("Thing", (Model,), {"table": name, "store": "mongo", "schema": schema, "database": database or {}})


def build(schema: dict[str, Any], database: dict[str, Any] | None = None) -> Collection:
    return build_collections([model(schema, database)]).collections["things"]


def props(coll: Collection) -> dict[str, Any]:
    assert coll.validator is not None
    return coll.validator["$jsonSchema"]["properties"]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (column("integer"), {"bsonType": "int"}),
        (column("smallInteger"), {"bsonType": "int", "minimum": -32768, "maximum": 32767}),
        (column("bigInteger"), {"bsonType": ["int", "long"]}),
        (column("decimal", (10, 2)), {"bsonType": "decimal"}),
        (column("float"), {"bsonType": "double"}),
        (column("double"), {"bsonType": "double"}),
        (column("boolean"), {"bsonType": "bool"}),
        (column("date"), {"bsonType": "date"}),
        (column("timestamp", use_tz=True), {"bsonType": "date"}),
        (column("softDeletes"), {"bsonType": ["date", "null"]}),
        (column("timestamp", default_now=False), {"bsonType": ["date", "null"]}),
        (column("string", 80), {"bsonType": "string", "maxLength": 80}),
        (column("string"), {"bsonType": "string", "maxLength": 255}),
        (column("text"), {"bsonType": "string"}),
        (column("enum", ["a", "b"]), {"bsonType": "string", "enum": ["a", "b"]}),
        (column("enum", ["a", "b"], nullable=True), {"bsonType": ["string", "null"], "enum": ["a", "b", None]}),
        (column("json"), {"bsonType": "object"}),
        (column("uuid"), {"bsonType": "string", "pattern": UUID_PATTERN}),
        (column("binary"), {"bsonType": "binData"}),
        (column("integer", nullable=True), {"bsonType": ["int", "null"]}),
        (column("text", comment="free text"), {"bsonType": "string", "description": "free text"}),
    ],
)
def test_bson_type_per_column_type(spec: Any, expected: dict[str, Any]) -> None:
    assert props(build({"f": spec}))["f"] == expected


def test_time_is_a_string_with_a_pattern() -> None:
    f = props(build({"at": column("time")}))["at"]
    assert f["bsonType"] == "string"
    import re

    assert re.match(f["pattern"], "23:59:01.5") and not re.match(f["pattern"], "24:00")


def test_required_lists_non_nullable_fields_sorted_and_additional_properties_stay_open() -> None:
    coll = build(
        {
            "zeta": column("integer"),
            "alpha": column("string", 10),
            "maybe": column("integer", nullable=True),
            "deleted_at": column("softDeletes"),
            "created_at": column("timestamp"),
        }
    )
    schema = coll.validator["$jsonSchema"]  # type: ignore[index]
    assert schema["bsonType"] == "object"
    assert schema["required"] == ["alpha", "created_at", "zeta"]
    assert "additionalProperties" not in schema
    assert (coll.validation_level, coll.validation_action) == ("strict", "error")


def test_all_nullable_fields_omit_required() -> None:
    # MongoDB rejects an empty "required" array
    assert "required" not in build({"a": column("text", nullable=True)}).validator["$jsonSchema"]  # type: ignore[index]


def test_indexes_single_composite_unique_partial_ttl_and_column_flags() -> None:
    coll = build(
        {
            "email": column("string", 100, unique=True),
            "user_id": column("bigInteger", index=True),
            "status": column("enum", ["on", "off"]),
            "created_at": column("timestamp"),
        },
        {
            "indexes": [
                index(["user_id", "-created_at"]),
                index("created_at", name="ttl_things", expire_after_seconds=86400),
                index("status", name="ix_sparse", sparse=True),
            ],
            "unique": [unique(["user_id", "status"], name="uq_active", partial={"status": {"$eq": "on"}})],
        },
    )
    assert coll.indexes == (
        CollectionIndex("ix_sparse", (("status", 1),), sparse=True),
        CollectionIndex("ix_things_user_id", (("user_id", 1),)),
        CollectionIndex("ix_things_user_id_created_at", (("user_id", 1), ("created_at", -1))),
        CollectionIndex("ttl_things", (("created_at", 1),), expire_after_seconds=86400),
        CollectionIndex("uq_active", (("user_id", 1), ("status", 1)), True, partial={"status": {"$eq": "on"}}),
        CollectionIndex("uq_things_email", (("email", 1),), True),
    )


def test_validation_level_and_action() -> None:
    coll = build({"a": column("text")}, {"validation": {"level": "moderate", "action": "warn"}})
    assert (coll.validation_level, coll.validation_action) == ("moderate", "warn")


def test_state_equals_its_replay_from_a_migration_file() -> None:
    """Lists, never tuples, inside validators and filters: a file reads back equal."""
    from modelmig_mongo import operations as op
    from modelmig_mongo.operations import CreateCollection

    from modelmig_core.history.source import to_source

    coll = build(
        {"kind": column("enum", ("a", "b")), "at": column("timestamp")},
        {"indexes": [index("kind", partial={"kind": {"$in": ("a",)}})]},
    )
    replayed = eval(to_source(CreateCollection(coll)), {"op": op})
    assert replayed.collection == coll


def test_the_document_family_builds_mongo_models() -> None:
    from modelmig_mongo.state import DocumentState

    from modelmig_core.registry import Registry

    m = model({"a": column("text")})
    family = Registry().family_for_store("mongo")
    assert family.name == "document" and family.operations_module == "modelmig_mongo.operations"
    state = family.build([m], frozenset())
    assert isinstance(state, DocumentState) and list(state.collections) == ["things"]


@pytest.mark.parametrize(
    ("schema", "database", "message"),
    [
        (
            {"user_id": column("integer")},
            {"foreign_keys": [foreign_key("user_id", "users", "id", name="fk_x")]},
            "model Thing: foreign key fk_x has no MongoDB meaning (store = 'mongo')",
        ),
        (
            {"title": column("text")},
            {"checks": [check("length(title) > 0", name="ck_title")]},
            "model Thing: check ck_title is a SQL expression with no MongoDB meaning",
        ),
        (
            {"a": column("text")},
            {"indexes": [index("nope")]},
            "model Thing, field 'nope': index names a field the schema does not declare",
        ),
        (
            {"a": column("text")},
            {"unique": [unique(["a", "-b"], name="uq_ab")]},
            "model Thing, field 'b': index uq_ab names a field the schema does not declare",
        ),
        ({"a": column("money")}, None, "model Thing, field 'a': unknown column type 'money'"),
        ({"id": column("increments")}, None, "field 'id': auto-increment has no MongoDB meaning"),
        ({"code": column("string", 5, primary=True)}, None, "field 'code': primary keys have no MongoDB meaning"),
        ({"on": column("boolean", default=True)}, None, "field 'on': default has no MongoDB meaning"),
        ({"n": column("integer", backfill=1)}, None, "field 'n': backfill has no MongoDB meaning"),
        (
            {"at": column("timestamp"), "n": column("integer")},
            {"indexes": [index(["at", "n"], name="ttl", expire_after_seconds=10)]},
            "index ttl: a TTL index (expire_after_seconds) needs exactly one date or timestamp field",
        ),
        (
            {"n": column("integer")},
            {"indexes": [index("n", name="ttl", expire_after_seconds=10)]},
            "index ttl: a TTL index (expire_after_seconds) needs exactly one date or timestamp field",
        ),
        (
            {"at": column("timestamp")},
            {"indexes": [index("at", name="ttl", expire_after_seconds=-1)]},
            "index ttl: expire_after_seconds must be a whole number from 0 to 2147483647",
        ),
        (
            {"a": column("text")},
            {"indexes": [index("a", name="ix", collation="en")]},
            "index ix: option 'collation' is not supported on mongo models",
        ),
        (
            {"a": column("text")},
            {"indexes": [index("a", name="ix", partial={"b": 1})]},
            "field 'b': index ix: partial filter names a field the schema does not declare",
        ),
        (
            {"a": column("text")},
            {"indexes": [index("a", name="ix", partial={"a": object()})]},
            "index ix: partial filter: values must be str, int, float, bool, None, lists or dicts",
        ),
        (
            {"a": column("text", index=True)},
            {"indexes": [index("a", name="ix_things_a")]},
            "two indexes are named 'ix_things_a'",
        ),
        ({"a": column("text")}, {"validation": {"level": "loose"}}, "validation level 'loose' is not one of"),
        ({"a": column("text")}, {"views": []}, "unknown database key 'views' for a mongo model"),
    ],
)
def test_model_errors_name_the_model_and_field(
    schema: dict[str, Any], database: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ModelError) as err:
        build(schema, database)
    text = str(err.value)
    assert message in text
    assert text.startswith(__file__.removesuffix("c")) and "\n" not in text


@pytest.mark.parametrize("name", ["modelmig_migrations", "modelmig_lock"])
def test_reserved_collection_names(name: str) -> None:
    with pytest.raises(ModelError, match="reserved"):
        build_collections([model({"a": column("text")}, name=name)])


def test_two_models_one_collection() -> None:
    with pytest.raises(ModelError, match="collection 'things' is already defined by model Thing"):
        build_collections([model({"a": column("text")}), model({"b": column("text")})])

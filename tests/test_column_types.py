"""Column types are objects (issue 18): the built-in types come through the
``column_types`` hook as a plugin's do, each driver has one table to its DDL type
and one back, a type a configured driver has no entry for is refused at make
time, and a plugin type (``tests/plugins/citext.py``, on ``modelmig_core.api``
only) goes make -> run -> drift -> make:models -> baseline on SQLite, PostgreSQL
and MariaDB, with the core building the column (default, NOT NULL) on every path."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from modelmig_core.api import ColumnType, Refusal, type_of
from modelmig_core.registry import Registry
from tests.conftest import Project
from tests.support.servers import ServerDb

PLUGIN = Path(__file__).parent / "plugins" / "citext.py"

MODELS = """
class Account(Model):
    table = "accounts"
    schema = {
        "id": column("increments"),
        "email": column("citext", default="nobody@example.com"),
        "nick": column("citext", nullable=True),
    }
"""


def citext_project(make_project: Any, db: ServerDb) -> Project:
    p: Project = make_project({"main": {"url": db.url}}, extra_config='plugins = ["citext"]')
    shutil.copy(PLUGIN, p.root / "citext.py")
    if db.driver == "pg":
        db.execute("CREATE EXTENSION IF NOT EXISTS citext")
    return p


def query(db: ServerDb, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = db.engine()
    try:
        with engine.begin() as c:
            result = c.execute(sa.text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def live_column(db: ServerDb, name: str) -> dict[str, Any]:
    engine = db.engine()
    try:
        return next(c for c in sa.inspect(engine).get_columns("accounts") if c["name"] == name)
    finally:
        engine.dispose()


def test_citext_round_trip(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    p = citext_project(make_project, db)
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")

    # the server's own behaviour: the default fills a row, and values compare without case
    query(db, "INSERT INTO accounts (nick) VALUES ('Ann')")
    query(db, "INSERT INTO accounts (email, nick) VALUES ('Bob@Example.COM', 'bob')")
    assert query(db, "SELECT email FROM accounts WHERE nick = 'ann'") == [("nobody@example.com",)]
    assert query(db, "SELECT nick FROM accounts WHERE email = 'bob@example.com'") == [("bob",)]
    assert live_column(db, "email")["nullable"] is False
    assert p.ok("migrate:status", "--drift").exit_code == 0

    # nullable -> NOT NULL with a default: PostgreSQL's ALTER, SQLite's rebuild, MySQL's MODIFY
    p.models(MODELS.replace('column("citext", nullable=True)', 'column("citext", default="x")'))
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    p.ok("migrate:run")
    assert live_column(db, "nick")["nullable"] is False
    query(db, "INSERT INTO accounts (email) VALUES ('c@example.com')")
    assert query(db, "SELECT nick FROM accounts WHERE email = 'C@EXAMPLE.COM'") == [("x",)]
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0, status.output

    # make:models writes the plugin's type back, with its defaults
    source = p.ok("make:models", "--out", "-").output
    assert 'column("citext", default="nobody@example.com")' in source, source
    assert 'column("citext", default="x")' in source, source

    # adopt the database afresh: the models make:models wrote, a new chain, baseline
    query(db, "DROP TABLE modelmig_migrations")
    shutil.rmtree(p.root / "migrations")
    p.ok("make:models", "--force")
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-03T00:00:00"})
    assert "marked" in p.ok("migrate:baseline").output
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0, status.output

    # changed by hand to the built-in it is made of: drift names it
    change = {
        "pg": ["ALTER TABLE accounts ALTER COLUMN email TYPE text"],
        "mysql": ["ALTER TABLE accounts MODIFY email VARCHAR(255) NOT NULL DEFAULT 'nobody@example.com'"],
        "sqlite": [
            "CREATE TABLE accounts_new (id INTEGER PRIMARY KEY AUTOINCREMENT, "
            "email TEXT NOT NULL DEFAULT 'nobody@example.com', nick TEXT COLLATE NOCASE NOT NULL DEFAULT 'x')",
            "INSERT INTO accounts_new SELECT id, email, nick FROM accounts",
            "DROP TABLE accounts",
            "ALTER TABLE accounts_new RENAME TO accounts",
        ],
    }[db.driver]
    for sql in change:
        query(db, sql)
    drift = p.run("migrate:status", "--drift")
    assert drift.exit_code != 0, drift.output
    assert "accounts.email" in drift.output and "citext" in drift.output, drift.output


def test_builtin_types_come_through_the_hook() -> None:
    registry = Registry()
    names = {t.name for types in registry.hook.column_types() for t in types}
    assert {"string", "decimal", "enum", "increments", "softDeletes"} <= names
    assert all(isinstance(t, ColumnType) for types in registry.hook.column_types() for t in types)
    assert type_of("integer").zero_value(None) == 0
    assert type_of("string").key_bytes(type("C", (), {"length": 50})()) == 200
    assert type_of("text").key_bytes(None) is None


#: built-in types only some databases have: the others refuse them at make time
MYSQL_ONLY = sorted(
    {"tinyInteger", "unsignedTinyInteger", "unsignedBigInteger", "unsignedInteger", "unsignedSmallInteger"}
    | {"mediumText", "longText"}
    | {"mediumBinary", "longBinary"}
    | {"set", "year", "utcTimestamp", "varbinary", "fixedBinary"}
)
PG_ONLY = sorted({"jsonText", "inet", "cidr", "macaddr", "tsvector", "interval"})
LACKING = {
    "sqlite": sorted(MYSQL_ONLY + PG_ONLY),
    "pg": MYSQL_ONLY,
    "mysql": PG_ONLY,
    "mongo": sorted(MYSQL_ONLY + PG_ONLY),
}


def test_every_builtin_type_has_an_entry_in_every_driver_table() -> None:
    """A built-in type missing from a driver's table fails here, not at run time;
    the ones a database lacks (UNSIGNED integers, MEDIUM/LONG text and blobs off
    MySQL) are known here."""
    from modelmig_core.vocabulary.column_types import STATE_TYPES

    registry = Registry()
    for name in ("sqlite", "pg", "mysql", "mongo"):
        driver = registry.driver(name)
        missing = sorted(t for t in STATE_TYPES if not driver.renders(t))
        assert missing == LACKING[name], (name, missing)


UNRENDERED = """
class Thing(Model):
    table = "things"
    schema = {"id": column("increments"), "where": column("point")}
"""

POINT_PLUGIN = """
from modelmig_core.api import ColumnType, hookimpl


@hookimpl
def column_types():
    return [ColumnType("point", ddl={"postgresql": lambda c: __import__("sqlalchemy").Text()})]
"""


def test_a_type_a_driver_has_no_entry_for_is_refused_at_make(make_project: Any) -> None:
    p = make_project(extra_config='plugins = ["point"]')
    (p.root / "point.py").write_text(POINT_PLUGIN)
    p.models(UNRENDERED)
    result = p.run("make:migration")
    assert result.exit_code == 2, result.output  # a model error
    assert "model Thing, field 'where'" in result.output, result.output
    assert "column type 'point' has no rendering for sqlite" in result.output, result.output
    assert not (p.root / "migrations").exists() or not list((p.root / "migrations").rglob("*.py"))
    driver = Registry().driver("sqlite")
    refusal = driver.type_refusal("things", type("C", (), {"name": "where", "type": "point"})())
    assert isinstance(refusal, Refusal) and "point" in refusal.reason and "sqlite" in refusal.reason
    assert Registry().driver("pg").renders("point")


def test_a_type_compares_its_own_values() -> None:
    assert type_of("decimal").same(0, "0.00") and type_of("decimal").same(1.5, "1.50")
    assert not type_of("decimal").same(1, "1.01")
    assert type_of("string").same("a", "a") and not type_of("string").same("a", "A")


def test_zero_values_come_from_the_types() -> None:
    from modelmig_core.schema.diff import zero_value
    from modelmig_core.schema.state import Column

    assert zero_value(Column("n", "bigInteger")) == 0
    assert zero_value(Column("s", "enum", values=("b", "a"))) == "b"
    assert zero_value(Column("t", "timestamp")) == "1970-01-01 00:00:00"
    citext = _citext()
    assert zero_value(Column("c", citext.name)) == ""


def _citext() -> ColumnType:
    import importlib.util

    spec = importlib.util.spec_from_file_location("citext_plugin", PLUGIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    from modelmig_core.vocabulary.column_types import register

    register([module.column_types()])
    return module.CITEXT


def test_mongo_refuses_a_type_it_has_no_entry_for_and_renders_one_it_has() -> None:
    import pytest
    from modelmig_mongo.schema import build_collections

    from modelmig_core.api import Model, ModelError
    from modelmig_core.model.dsl import column

    citext = _citext()

    class Doc(Model):
        table = "docs"
        store = "mongo"
        schema = {"email": column("citext")}

    with pytest.raises(ModelError, match="column type 'citext' has no entry for driver mongo"):
        build_collections([Doc], [citext])
    bson = ColumnType("bsonish", ddl={"mongo": lambda c: (["string"], {"maxLength": 9})})

    class Other(Model):
        table = "others"
        store = "mongo"
        schema = {"code": column("bsonish", nullable=True)}

    state = build_collections([Other], [bson])
    schema = state.collections["others"].validator
    assert schema is not None
    assert schema["$jsonSchema"]["properties"]["code"] == {"bsonType": ["string", "null"], "maxLength": 9}
    assert not Registry().driver("mongo").renders("citext") and Registry().driver("mongo").renders("bsonish")


BAD_PLUGIN = """
from modelmig_core.api import hookimpl


@hookimpl
def column_types():
    return [42]
"""


def test_a_column_types_hook_that_answers_no_type_is_one_error_line(make_project: Any) -> None:
    p = make_project(extra_config='plugins = ["badtypes"]')
    (p.root / "badtypes.py").write_text(BAD_PLUGIN)
    p.models(MODELS.replace('"citext"', '"text"'))
    result = p.run("make:migration")
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        "error: a column_types hook returned 42: expected a ColumnType (modelmig_core.api)"
    ], result.output

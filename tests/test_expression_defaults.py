"""Expression defaults (issue 19): ``column("date", default_sql="CURRENT_DATE")``.

make -> run -> the server fills the default -> reflect (the expression is read back)
and drift 0 -> a default changed by hand is reported by drift -> make:models writes
``default_sql`` back and its models make the same schema. Bad input (not one
expression, given with ``default``) is one error line; a ``nextval`` of a sequence
the models do not hold stays named, never modelled.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.history.replay import replay
from modelmig_core.registry import Registry
from modelmig_core.schema.state import State
from tests.support.servers import ServerDb

#: per driver: the models' own extra column, its default, and what a row gets from it
OWN = {
    "sqlite": ('"token": column("bigInteger", default_sql="abs(random())")', "token >= 0"),
    "pg": ('"token": column("uuid", default_sql="gen_random_uuid()")', "token IS NOT NULL"),
    "mysql": ('"token": column("string", 40, default_sql="uuid()")', "length(token) = 36"),
}

MODELS = """
class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "name": column("string", 20),
        "created": column("date", default_sql="CURRENT_DATE"),
        "code": column("string", 20, default_sql="lower('ABC')"),
        "total": column("integer", default_sql="%s"),
        %s,
    }
"""


def live_state(db: ServerDb) -> State:
    driver = Registry().driver(db.driver)
    with driver.connect(db.url) as session:
        return driver.reflect(session)


def comparable(db: ServerDb, state: State) -> State:
    return Registry().driver(db.driver).comparable(state).canonical()


def test_expression_defaults_make_run_fill_reflect_drift_and_write_back(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    own, filled = OWN[db.driver]
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS % ("2 * 3 + 1", own))
    p.ok("make:migration")
    text = p.migration_files()[0].read_text()
    assert 'default_sql="CURRENT_DATE"' in text, text
    p.ok("migrate:run")

    db.execute("INSERT INTO items (name) VALUES ('a')")
    assert db.rows(f"SELECT created IS NOT NULL, code, total, {filled} FROM items") in (
        [(True, "abc", 7, True)],
        [(1, "abc", 7, 1)],
    )

    live = live_state(db)
    columns = {c.name: c for c in live.tables["items"].columns}
    assert columns["created"].default_sql is not None and not columns["created"].default_now
    assert columns["token"].default_sql is not None and columns["token"].default is None
    assert comparable(db, live) == comparable(db, replay(p.root / "migrations", "sql").head)
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0 and "drift: none" in status.output, status.output

    # make:models writes default_sql back, and its models make the same schema
    adopt = make_project({"main": {"url": db.url}})
    adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    assert "default_sql=" in source and "SQL expression, left out" not in source, source
    adopt.ok("make:migration")
    assert comparable(db, replay(adopt.root / "migrations", "sql").head) == comparable(db, live)

    # a default changed by hand (the same text but one number) is drift
    if db.driver == "sqlite":
        with sqlite3.connect(db.name) as raw:  # one connection: the pragma holds for it only
            raw.execute("PRAGMA writable_schema = ON")
            raw.execute("UPDATE sqlite_master SET sql = replace(sql, '2 * 3 + 1', '2 * 3 + 2') WHERE name = 'items'")
        raw.close()
    elif db.driver == "pg":
        db.execute("ALTER TABLE items ALTER COLUMN total SET DEFAULT 2 * 3 + 2")
    else:
        db.execute("ALTER TABLE items ALTER COLUMN total SET DEFAULT (2 * 3 + 2)")
    status = p.run("migrate:status", "--drift")
    assert status.exit_code != 0 and "items.total" in status.output and "default" in status.output, status.output


def test_an_expression_default_changed_in_the_models_is_altered(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    own, _ = OWN[db.driver]
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS % ("1", own))
    p.ok("make:migration")
    p.ok("migrate:run")
    db.execute("INSERT INTO items (name) VALUES ('a')")
    p.models(MODELS % ("40 + 2", own + ',\n        "extra": column("integer", default_sql="3 * 3")'))
    p.ok("make:migration")
    text = p.migration_files()[1].read_text()
    assert "AlterColumn" in text and "AddColumn" in text and "backfill" not in text, text
    p.ok("migrate:run")
    db.execute("INSERT INTO items (name) VALUES ('b')")
    # the row that was there gets the added column's default, as a new one does
    assert db.rows("SELECT name, total, extra FROM items ORDER BY name") == [("a", 1, 9), ("b", 42, 9)]
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0 and "drift: none" in status.output, status.output


@pytest.mark.parametrize(
    ("options", "needle"),
    [
        ('default_sql="1; DROP TABLE items"', "default_sql must be one SQL expression"),
        ('default_sql=""', "default_sql must be a non-empty SQL expression"),
        ('default_sql="1", default=2', "give either default_sql or default, not both"),
        ('default_sql="1", generated="2"', "give either default_sql or generated"),
        ("default_sql=3", "default_sql must be a non-empty SQL expression"),
    ],
)
def test_bad_expression_defaults_are_one_error_line(make_project: Any, options: str, needle: str) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(f'class Item(Model):\n    table = "items"\n    schema = {{"n": column("integer", {options})}}\n')
    r = p.run("make:migration")
    assert r.exit_code != 0
    lines = [line for line in r.output.splitlines() if needle in line]
    assert len(lines) == 1 and "model Item, field 'n'" in lines[0], r.output
    assert p.migration_files() == []


def test_a_timestamp_with_an_expression_default_is_not_the_current_time(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}}, extra_config='sql_dialect = "postgres"')
    p.models(
        'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), '
        '"due": column("timestamp", use_tz=True, default_sql="now() + interval \'1 day\'")}\n'
    )
    p.ok("make:migration")
    p.ok("migrate:run")
    pg_db.execute("INSERT INTO items DEFAULT VALUES")
    assert pg_db.rows("SELECT due > now() + interval '23 hours' FROM items") == [(True,)]
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0 and "drift: none" in status.output, status.output


def test_a_sequence_default_the_models_do_not_hold_stays_named(make_project: Any, pg_db: ServerDb) -> None:
    pg_db.execute("CREATE SEQUENCE tickets_seq")
    pg_db.execute("CREATE TABLE items (id integer PRIMARY KEY, ticket bigint NOT NULL DEFAULT nextval('tickets_seq'))")
    adopt = make_project({"main": {"url": pg_db.url}})
    result = adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    assert "default_sql" not in source, source
    assert "nextval" in result.output + source and "tickets_seq" in source, result.output + source


# ---------------------------------------------------------------- casts in comparisons


@pytest.mark.parametrize(
    ("stored", "texts", "written"),
    [
        ("((n)::text < '5'::text)", {"name"}, "CAST(n AS TEXT) < '5'"),  # an integer as text: kept
        ("((name)::text < '5'::text)", {"name"}, "name < '5'"),  # a varchar as text: what PostgreSQL adds
        ("(length((name)::text) > 0)", {"name"}, "length(name) > 0"),
        ("((n + 1))::text = 'x'::text", {"name"}, "CAST(n + 1 AS TEXT) = 'x'"),
        (
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
            {"status"},
            "status IN ('a', 'b')",
        ),
        # a cast to a type sqlglot has no name for (it keeps it as text): read, kept
        (
            "nextval('payment_payment_id_seq'::regclass)",
            {"name"},
            "nextval(CAST('payment_payment_id_seq' AS REGCLASS))",
        ),
    ],
)
def test_only_the_casts_the_database_adds_are_stripped(stored: str, texts: set[str], written: str) -> None:
    from modelmig_pg.reflect import PgReflection

    from modelmig_core.api_sql import normalize_sql

    reader = PgReflection()
    assert normalize_sql(stored, "postgres", rewrite=reader.rewrite, text_columns=texts) == written
    again = normalize_sql(written, "postgres", rewrite=reader.rewrite, text_columns=texts)
    assert again == written  # idempotent


CAST_MODELS = """
class Item(Model):
    table = "items"
    schema = {"id": column("increments"), "n": column("integer"), "m": column("integer"), "name": column("string", 20)}
    database = {"checks": [check(%r, name="ck_items_cast")]}
"""


def test_a_check_rebuilt_without_its_cast_is_drift_on_sqlite(make_project: Any, sqlite_db: ServerDb) -> None:
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(CAST_MODELS % "CAST(n AS TEXT) < '5' AND CAST(name AS TEXT) <> ''")
    p.ok("make:migration")
    p.ok("migrate:run")
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0 and "drift: none" in status.output, status.output
    with sqlite3.connect(sqlite_db.name) as raw:  # the table rebuilt by hand, the check without the cast
        raw.executescript(
            "CREATE TABLE items_new (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, "
            "m INTEGER NOT NULL, name VARCHAR(20) NOT NULL, "
            "CONSTRAINT ck_items_cast CHECK (n < '5' AND CAST(name AS TEXT) <> ''));"
            "DROP TABLE items; ALTER TABLE items_new RENAME TO items;"
        )
    raw.close()
    status = p.run("migrate:status", "--drift")
    assert status.exit_code != 0 and "ck_items_cast" in status.output, status.output


def test_a_check_rebuilt_without_its_cast_is_drift_on_postgres(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(CAST_MODELS % "CAST(n AS TEXT) < CAST(m AS TEXT) AND CAST(name AS TEXT) <> ''")
    p.ok("make:migration")
    p.ok("migrate:run")
    pg_db.execute("INSERT INTO items (n, m, name) VALUES (10, 9, 'a')")  # '10' < '9' as text
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0 and "drift: none" in status.output, status.output

    adopt = make_project({"main": {"url": pg_db.url}})
    adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    assert "CAST(n AS TEXT) < CAST(m AS TEXT) AND name <> ''" in source, source

    pg_db.execute("DELETE FROM items")
    pg_db.execute("ALTER TABLE items DROP CONSTRAINT ck_items_cast")
    pg_db.execute("ALTER TABLE items ADD CONSTRAINT ck_items_cast CHECK (n < m AND name <> '')")
    status = p.run("migrate:status", "--drift")
    assert status.exit_code != 0 and "ck_items_cast" in status.output, status.output


def test_a_volatile_expression_default_is_refused_on_an_online_connection(make_project: Any, pg_db: ServerDb) -> None:
    """Adding a column whose default is computed per row (``gen_random_uuid()``)
    rewrites the table: the online lint refuses it, naming the rule."""
    p = make_project({"main": {"url": pg_db.url, "online": True}})
    base = 'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments")%s}\n'
    p.models(base % "")
    p.ok("make:migration")
    p.ok("migrate:run")
    p.models(base % ', "token": column("uuid", nullable=True, default_sql="gen_random_uuid()")')
    result = p.run("make:migration")
    assert result.exit_code != 0 and "adding-field-with-default" in result.output, result.output
    assert len(p.migration_files()) == 1
    stable = base % ', "created": column("date", nullable=True, default_sql="CURRENT_DATE")'
    p.models(stable)
    p.ok("make:migration")


def test_pagila_create_date_is_adopted_and_an_unknown_function_stays_named(make_project: Any, pg_db: ServerDb) -> None:
    """pagila's ``create_date date DEFAULT ('now'::text)::date`` (a conversion on
    every insert, not the literal 'now'), adopted and made again the same; a
    default calling a function sqlglot cannot check is named, never written."""
    pg_db.execute("CREATE FUNCTION next_code() RETURNS integer LANGUAGE sql AS 'SELECT 42'")
    pg_db.execute(
        "CREATE TABLE customer (id integer PRIMARY KEY, create_date date NOT NULL DEFAULT ('now'::text)::date, "
        "code integer NOT NULL DEFAULT next_code())"
    )
    original = pg_db.rows(
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'customer'::regclass ORDER BY adnum"
    )
    adopt = make_project({"main": {"url": pg_db.url}})
    result = adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    assert "default_sql=\"CAST(CAST('now' AS TEXT) AS DATE)\"" in source, source
    assert "customer.code: default next_code() is an SQL expression make cannot check" in result.output, result.output
    assert "next_code()" not in source.split("class Customer")[1], source
    adopt.ok("make:migration")
    pg_db.execute("DROP TABLE customer")
    adopt.ok("migrate:run")
    made = pg_db.rows(
        "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'customer'::regclass ORDER BY adnum"
    )
    assert made == original[:1], made  # the same conversion; next_code() left out
    pg_db.execute("INSERT INTO customer (id, code) VALUES (1, 1)")
    assert pg_db.rows("SELECT create_date = CURRENT_DATE FROM customer") == [(True,)]


#: column -> whether its type is text (a cast of it to text is one PostgreSQL adds)
TYPED = {"n": False, "m": False, "name": True, "code": True}


@st.composite
def comparisons(draw: st.DrawFn, depth: int = 0) -> tuple[str, int]:
    """An expression over ``TYPED`` columns, and how many casts of a non-text
    column (or of an expression) to text it holds: those must stay."""
    if depth > 2 or draw(st.booleans()):
        column = draw(st.sampled_from(sorted(TYPED)))
        if draw(st.booleans()):
            return f"CAST({column} AS TEXT)", 0 if TYPED[column] else 1
        return column, 0
    (left, a), (right, b) = draw(comparisons(depth + 1)), draw(comparisons(depth + 1))
    if draw(st.booleans()):
        return f"CAST({left} || {right} AS TEXT)", a + b + 1
    return draw(st.sampled_from(["{} < {}", "{} = {}", "{} || {}"])).format(left, right), a + b


@settings(max_examples=200, deadline=None)
@given(comparisons())
def test_every_cast_that_changes_a_value_is_kept(case: tuple[str, int]) -> None:
    from modelmig_core.api_sql import normalize_sql

    text, kept = case
    texts = {c for c, is_text in TYPED.items() if is_text}
    for compare in (False, True):
        out = normalize_sql(text, "postgres", compare=compare, text_columns=texts)
        assert out.lower().count("cast(") == kept, (text, out)
        assert normalize_sql(out, "postgres", compare=compare, text_columns=texts) == out  # idempotent


def test_an_expression_default_a_connection_cannot_read_is_refused_at_make_time(make_project: Any) -> None:
    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "other": {"url": "mysql://root@127.0.0.1:3306/never_used"}},
        extra_config='sql_dialect = "postgres"',
    )
    p.models(
        'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), '
        '"due": column("date", default_sql="age(now(), now()) > interval \'1 day\'")}\n'
    )
    r = p.run("make:migration")
    assert r.exit_code != 0
    refused = [line for line in r.output.splitlines() if "field 'due'" in line and "default expression" in line]
    assert any("connection 'main'" in line and "model Item" in line for line in refused), r.output
    assert p.migration_files() == []

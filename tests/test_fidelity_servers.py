"""Fidelity on every SQL driver (issue 9): what the models say is what SQLite,
PostgreSQL and MariaDB get, or a clear refusal. Each test is the regression test
of one defect and runs on all three databases; after each step the live schema
(SQLAlchemy's Inspector) equals the state the migration files add up to."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.schema import assert_schema, check, reflect, states
from tests.support.servers import ServerDb

DAY2 = {"MODELMIG_NOW": "2026-01-02T00:00:00"}
DAY3 = {"MODELMIG_NOW": "2026-01-03T00:00:00"}
LEGACY = Path(__file__).parent / "fixtures" / "legacy_unique_index"


def lifecycle(p: Any, db: ServerDb, v1: str, v2: str, seed: str | None = None) -> list[Any]:
    """make v1, run, (seed), make v2, run, rollback, run again: the schema matches
    the migrations after every step. Returns the states."""
    p.models(v1)
    p.ok("make:migration")
    p.ok("migrate:run")
    check(db, states(p)[1])
    if seed:
        for sql in seed.split(";"):
            if sql.strip():
                db.execute(sql)
    p.models(v2)
    p.ok("make:migration", env=DAY2)
    s = states(p)
    p.ok("migrate:run", "--force", "--yes")
    check(db, s[2])
    p.ok("migrate:rollback", "--force", "--yes")
    check(db, s[1])
    p.ok("migrate:run", "--force", "--yes")
    check(db, s[2])
    return s


# ---------------------------------------------------------------- 1. operation order

ORDER_V1 = """
class A(Model):
    table = "a"
    schema = {"id": column("increments"), "code": column("string", 20, unique=True)}


class B(Model):
    table = "b"
    schema = {"id": column("increments"), "a_code": column("string", 20)}
    database = {"foreign_keys": [foreign_key("a_code", "a", "code", name="fk_b_a_code")]}
"""

ORDER_V2 = """
class A(Model):
    table = "a"
    schema = {"id": column("increments")}
"""


def test_dropping_a_table_with_the_unique_column_its_foreign_key_uses(make_project: Any, any_db: ServerDb) -> None:
    """Before: DropIndex, DropColumn, then DropTable(b): PostgreSQL ("other objects
    depend on it") and MariaDB (1553) refused."""
    p = make_project({"main": {"url": any_db.url}})
    lifecycle(p, any_db, ORDER_V1, ORDER_V2, "INSERT INTO a (code) VALUES ('x');INSERT INTO b (a_code) VALUES ('x')")
    text = p.migration_files()[1].read_text()
    up = text[text.index("up = [") : text.index("down = [")]
    assert up.index("DropTable") < up.index("DropUnique") < up.index("DropColumn")
    p.ok("migrate:rollback", "--force", "--yes")
    assert any_db.rows("SELECT a_code FROM b") == []  # the table came back (empty: its rows were dropped)
    assert any_db.rows("SELECT code FROM a") == [("",)]  # the NOT NULL column came back with its zero value


def test_a_foreign_key_to_a_new_unique_column_is_added_after_it(make_project: Any, any_db: ServerDb) -> None:
    """Creates in reverse: the unique key a new table's FK needs is made first."""
    p = make_project({"main": {"url": any_db.url}})
    v1 = 'class A(Model):\n    table = "a"\n    schema = {"id": column("increments"), "code": column("string", 20, nullable=True)}\n'
    v2 = ORDER_V1.replace('column("string", 20, unique=True)', 'column("string", 20, nullable=True, unique=True)')
    lifecycle(p, any_db, v1, v2)


def test_changing_the_type_of_referenced_columns_drops_and_readds_the_key(make_project: Any, any_db: ServerDb) -> None:
    """MySQL refuses to MODIFY a column a foreign key uses: the key goes around the change."""
    v1 = """
class A(Model):
    table = "a"
    schema = {"id": column("increments")}


class B(Model):
    table = "b"
    schema = {"id": column("increments"), "a_id": column("integer")}
    database = {"foreign_keys": [foreign_key("a_id", "a", "id", name="fk_b_a")]}
"""
    v2 = v1.replace('column("increments")}\n\n\nclass B', 'column("bigIncrements")}\n\n\nclass B').replace(
        '"a_id": column("integer")', '"a_id": column("bigInteger")'
    )
    p = make_project({"main": {"url": any_db.url}})
    lifecycle(p, any_db, v1, v2, "INSERT INTO a (id) VALUES (7);INSERT INTO b (a_id) VALUES (7)")
    assert any_db.rows("SELECT a_id FROM b") == [(7,)]


# ---------------------------------------------------------------- 2. unique constraints

UNIQUE_V1 = """
class User(Model):
    table = "users"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "team": column("integer"),
        "handle": column("string", 50),
    }
    database = {"unique": [unique(["team", "handle"], name="uq_users_team_handle")]}
"""


def test_unique_is_a_named_constraint(make_project: Any, any_db: ServerDb) -> None:
    p = make_project({"main": {"url": any_db.url}})
    p.models(UNIQUE_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    check(any_db, states(p)[1])
    engine = any_db.engine()
    try:
        found = {u["name"]: u["column_names"] for u in sa.inspect(engine).get_unique_constraints("users")}
        assert found == {"uq_users_email": ["email"], "uq_users_team_handle": ["team", "handle"]}
        with engine.begin() as c:
            c.execute(sa.text("INSERT INTO users (email, team, handle) VALUES ('a@x', 1, 'a')"))
            with pytest.raises(sa.exc.IntegrityError):
                with c.begin_nested():
                    c.execute(sa.text("INSERT INTO users (email, team, handle) VALUES ('b@x', 1, 'a')"))
            if any_db.driver == "pg":  # the constraint can be named in ON CONFLICT
                c.execute(
                    sa.text(
                        "INSERT INTO users (email, team, handle) VALUES ('a@x', 2, 'z') "
                        "ON CONFLICT ON CONSTRAINT uq_users_email DO UPDATE SET handle = 'upserted'"
                    )
                )
                assert c.execute(sa.text("SELECT handle FROM users")).scalar() == "upserted"
    finally:
        engine.dispose()
    # dropped and added on an existing table
    p.models(UNIQUE_V1.replace(", unique=True", "").replace('["team", "handle"]', '["handle", "team"]'))
    p.ok("make:migration", env=DAY2)
    p.ok("migrate:run")
    check(any_db, states(p)[2])
    p.ok("migrate:rollback")
    check(any_db, states(p)[1])


def test_migration_files_with_unique_indexes_keep_meaning_unique_indexes(make_project: Any, any_db: ServerDb) -> None:
    """A migration file written before unique constraints (``Index(..., unique=True)``,
    the example app's first migration as it was) still makes unique indexes; the
    next make:migration turns them into constraints, and that applies and rolls back."""
    p = make_project({"main": {"url": any_db.url}})
    shutil.copytree(LEGACY / "migrations", p.root / "migrations")
    shutil.copy(LEGACY / "models.py", p.root / "models.py")
    p.ok("migrate:run")
    s = states(p)
    check(any_db, s[1])
    assert s[1].tables["users"].indexes[0].unique and not s[1].tables["users"].uniques
    engine = any_db.engine()
    try:
        if any_db.driver != "mysql":  # MySQL has no difference between the two
            assert sa.inspect(engine).get_unique_constraints("users") == []
            assert any(i["unique"] for i in sa.inspect(engine).get_indexes("users"))
    finally:
        engine.dispose()
    out = p.ok("make:migration", env=DAY2).output
    assert "Created" in out
    text = p.migration_files()[1].read_text()
    assert 'op.DropIndex("users", op.Index("uq_users_email", ["email"], unique=True))' in text
    assert 'op.AddUnique("users", op.Unique("uq_users_email", ["email"]))' in text
    p.ok("migrate:run")
    check(any_db, states(p)[2])
    p.ok("migrate:rollback")
    check(any_db, states(p)[1])
    p.ok("make:migration", "--check", env=DAY3)


# ---------------------------------------------------------------- 3. NOT NULL columns added to tables with rows

BACKFILL_V1 = """
class Event(Model):
    table = "events"
    schema = {"id": column("increments"), "title": column("string", 50)}
"""

BACKFILL_V2 = """
class Event(Model):
    table = "events"
    schema = {
        "id": column("increments"),
        "title": column("string", 50),
        "day": column("date", backfill="2026-01-01"),
        "starts": column("timestamp", default_now=False, nullable=False, backfill="2026-01-01 10:30:00"),
        "seats": column("integer", backfill=20),
        "kind": column("enum", ["talk", "workshop"], backfill="talk"),
        "notes": column("text", backfill=""),
        "public": column("boolean", backfill=True),
    }
"""


def test_not_null_column_added_to_a_table_with_rows_needs_a_value(make_project: Any, any_db: ServerDb) -> None:
    """Before: SQLite and PostgreSQL failed at deploy; MariaDB wrote 0 into every row."""
    p = make_project({"main": {"url": any_db.url}})
    p.models(BACKFILL_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    any_db.execute("INSERT INTO events (title) VALUES ('launch')")
    p.models(
        BACKFILL_V1.replace('"title": column("string", 50)}', '"title": column("string", 50), "day": column("date")}')
    )
    result = p.run("make:migration", env=DAY2)
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ")
    for needle in ("models.py", "model Event", "'day'", "default=", "nullable=True", "backfill="):
        assert needle in lines[0]
    assert len(p.migration_files()) == 1

    p.models(BACKFILL_V2)
    p.ok("make:migration", env=DAY2)
    s = states(p)
    p.ok("migrate:run")
    check(any_db, s[2])  # the columns keep no default: the backfill was one-off
    assert all(c.default is None for c in s[2].tables["events"].columns)
    row = any_db.rows("SELECT day, starts, seats, kind, notes, public FROM events")[0]
    assert str(row[0]) == "2026-01-01" and str(row[1]).startswith("2026-01-01 10:30:00")
    assert row[2:5] == (20, "talk", "") and row[5] in (True, 1)
    engine = any_db.engine()
    try:  # no default is left behind: an insert without the column fails
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO events (title, starts, seats, kind, notes, public) VALUES ('x', '2026-01-01', 1, 'talk', '', true)"
                )
            )
    finally:
        engine.dispose()
    p.ok("migrate:rollback", "--force", "--yes")
    check(any_db, s[1])
    # a later make:migration does not see the backfill as a change
    p.ok("migrate:run")
    assert "agree" in p.ok("make:migration", "--check", env=DAY3).output


def test_mysql_sessions_are_strict(make_project: Any, mysql_db: ServerDb) -> None:
    """The server never invents or truncates data in a migration session."""
    from modelmig_mysql.driver import driver

    session = driver.connect(mysql_db.url)
    try:
        mode = session.execute("SELECT @@SESSION.sql_mode")[0][0]
        for flag in ("STRICT_ALL_TABLES", "NO_ZERO_DATE", "NO_ZERO_IN_DATE", "ERROR_FOR_DIVISION_BY_ZERO"):
            assert flag in mode
        session.execute("CREATE TABLE t (s VARCHAR(3) NOT NULL, d DATE NULL)")
        with pytest.raises(Exception, match="too long"):
            session.execute("INSERT INTO t (s) VALUES ('abcdef')")
        with pytest.raises(Exception, match="Incorrect date value"):
            session.execute("INSERT INTO t (s, d) VALUES ('a', '0000-00-00')")
        assert session.execute("SELECT COUNT(*) FROM t")[0][0] == 0
    finally:
        session.close()


# ---------------------------------------------------------------- 6. views and triggers

VIEW_V1 = """
class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "title": column("string", 50), "body": column("text", nullable=True)}
"""


def test_dropping_a_column_a_view_uses_is_refused_on_every_database(make_project: Any, any_db: ServerDb) -> None:
    """Before: SQLite and MariaDB left a broken view; PostgreSQL refused with its own words."""
    p = make_project({"main": {"url": any_db.url}})
    p.models(VIEW_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    any_db.execute("CREATE VIEW post_bodies AS SELECT p.id, p.body FROM posts p")
    any_db.execute("CREATE VIEW post_titles AS SELECT title FROM posts")
    any_db.execute("INSERT INTO posts (title, body) VALUES ('t', 'b')")
    p.models(VIEW_V1.replace(', "body": column("text", nullable=True)', ""))
    p.ok("make:migration", env=DAY2)
    result = p.run("migrate:run", "--force", "--yes")
    assert result.exit_code != 0
    assert "cannot drop column posts.body: view post_bodies uses it; drop or change the view first" in result.output
    check(any_db, states(p)[1])  # nothing changed
    assert any_db.rows("SELECT body FROM post_bodies") == [("b",)]
    # a column no view uses can go; the views keep working
    any_db.execute("DROP VIEW post_bodies")
    p.ok("migrate:run", "--force", "--yes")
    check(any_db, states(p)[2])
    assert any_db.rows("SELECT title FROM post_titles") == [("t",)]


def test_sqlite_rebuild_keeps_a_trigger_on_another_table_that_names_it(make_project: Any, sqlite_db: ServerDb) -> None:
    """Before: "error in trigger audit_post: no such table: main.posts"."""
    p = make_project({"main": {"url": sqlite_db.url}})
    v1 = (
        VIEW_V1
        + '\n\nclass Log(Model):\n    table = "log"\n    schema = {"id": column("increments"), "post_id": column("integer")}\n'
    )
    p.models(v1)
    p.ok("make:migration")
    p.ok("migrate:run")
    sqlite_db.execute(
        "CREATE TRIGGER audit_post AFTER INSERT ON log BEGIN UPDATE posts SET title = 'seen' WHERE id = NEW.post_id; END"
    )
    sqlite_db.execute("INSERT INTO posts (title, body) VALUES ('t', 'b')")
    p.models(v1.replace('"title": column("string", 50)', '"title": column("string", 80)'))
    p.ok("make:migration", env=DAY2)
    p.ok("migrate:run")
    check(sqlite_db, states(p)[2])
    triggers = sqlite_db.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'")
    assert triggers == [("audit_post",)]
    sqlite_db.execute("INSERT INTO log (post_id) VALUES (1)")
    assert sqlite_db.rows("SELECT title FROM posts") == [("seen",)]
    p.ok("migrate:rollback")
    check(sqlite_db, states(p)[1])
    assert sqlite_db.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'") == [("audit_post",)]


# ---------------------------------------------------------------- 7. enums without an enum type

ENUM_V1 = """
class Ticket(Model):
    table = "tickets"
    schema = {"id": column("increments"), "state": column("enum", ["open", "closed"], default="open")}
"""


def test_enum_values_are_enforced_on_every_database(make_project: Any, any_db: ServerDb) -> None:
    """Before: SQLite's enum was a bare VARCHAR that took any value."""
    p = make_project({"main": {"url": any_db.url}})
    v2 = (
        ENUM_V1.replace('["open", "closed"]', '["open", "closed", "parked"]')
        .replace('"tickets"', '"issues"\n    renamed_from = "tickets"')
        .replace('"state": column(', '"status": column(renamed_from="state", type=')
    )
    v2 = v2.replace('column(renamed_from="state", type="enum", ', 'column("enum", renamed_from="state", values=')
    v2 = v2.replace(
        'values=["open", "closed", "parked"], default="open")', 'values=["open", "closed", "parked"], default="open")'
    )
    p.models(ENUM_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    check(any_db, states(p)[1])
    any_db.execute("INSERT INTO tickets (state) VALUES ('closed')")
    with pytest.raises(sa.exc.DBAPIError):
        any_db.execute("INSERT INTO tickets (state) VALUES ('bogus')")
    if any_db.driver == "sqlite":
        checks = sa.inspect(engine := any_db.engine()).get_check_constraints("tickets")
        engine.dispose()
        assert [c["name"] for c in checks] == ["ck_tickets_state_enum"]
    p.models(
        'class Ticket(Model):\n    table = "issues"\n    renamed_from = "tickets"\n'
        '    schema = {"id": column("increments"), "status": column("enum", ["open", "closed", "parked"], default="open", renamed_from="state")}\n'
    )
    p.ok("make:migration", env=DAY2)
    p.ok("migrate:run")
    check(any_db, states(p)[2])
    any_db.execute("INSERT INTO issues (status) VALUES ('parked')")
    with pytest.raises(sa.exc.DBAPIError):
        any_db.execute("INSERT INTO issues (status) VALUES ('bogus')")
    assert sorted(any_db.rows("SELECT status FROM issues")) == [("closed",), ("parked",)]
    any_db.execute("DELETE FROM issues WHERE status = 'parked'")
    p.ok("migrate:rollback")
    check(any_db, states(p)[1])
    assert any_db.rows("SELECT state FROM tickets") == [("closed",)]


def test_reflection_of_a_fresh_sqlite_database_shows_enum_checks(make_project: Any, sqlite_db: ServerDb) -> None:
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(ENUM_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    tickets = reflect("sqlite", sqlite_db.url).tables["tickets"]
    # the CHECK of its values is the enum's type, read back as the enum, not as a check of the models
    state = tickets.column("state")
    assert state is not None and (state.type, state.values) == ("enum", ("open", "closed"))
    assert tickets.checks == ()
    assert_schema("sqlite", sqlite_db.url, states(p)[1])


# ---------------------------------------------------------------- found by the property tests, kept


def test_renaming_a_column_and_dropping_its_check_rolls_back(make_project: Any, any_db: ServerDb) -> None:
    """Shrunk from a Hypothesis failure: the rollback added the check back (naming
    the old column) before it undid the rename. Checks now go before renames. The
    renamed json column is the MariaDB side of the same example (its json_valid
    check keeps the column's first name)."""
    v1 = """
class Item(Model):
    table = "items"
    schema = {"id": column("increments"), "qty": column("integer"), "data": column("json")}
    database = {"checks": [check("qty >= 0", name="ck_items_qty")]}
"""
    v2 = """
class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "amount": column("integer", renamed_from="qty"),
        "payload": column("json", renamed_from="data"),
    }
"""
    p = make_project({"main": {"url": any_db.url}})
    lifecycle(p, any_db, v1, v2, """INSERT INTO items (qty, data) VALUES (3, '{"a": 1}')""")
    assert any_db.rows("SELECT amount FROM items") == [(3,)]
    p.ok("migrate:rollback", "--force", "--yes")
    assert any_db.rows("SELECT qty FROM items") == [(3,)]


# ---------------------------------------------------------------- the example app, reflected


def test_the_example_blog_matches_its_models_after_every_step(make_project: Any, any_db: ServerDb) -> None:
    """The committed example migration (unique constraints, checks, FKs, an enum)
    against the reflected schema after run, rollback, run, reset and fresh."""
    example = Path(__file__).parents[1] / "examples" / "blog"
    p = make_project({"main": {"url": any_db.url}})
    shutil.copytree(example / "blog", p.root / "blog")
    shutil.copytree(example / "migrations", p.root / "migrations")
    (p.root / "pyproject.toml").write_text(
        '[tool.modelmig]\nmodels = ["blog.models"]\nmigrations = "migrations"\n'
        f'[tool.modelmig.connections.main]\nurl = "{any_db.url}"\n'
    )
    assert "agree" in p.ok("make:migration", "--check").output
    s = states(p)
    for step, state in (
        (("migrate:run",), s[1]),
        (("migrate:rollback", "--yes"), s[0]),
        (("migrate:run",), s[1]),
        (("migrate:reset", "--yes"), s[0]),
        (("migrate:fresh", "--yes"), s[1]),
    ):
        p.ok(*step)
        check(any_db, state)
    engine = any_db.engine()
    try:
        uniques = {u["name"] for u in sa.inspect(engine).get_unique_constraints("users")}
        assert uniques == {"uq_users_email"}
    finally:
        engine.dispose()


def test_dropping_the_index_a_foreign_key_uses_keeps_the_key_served(make_project: Any, any_db: ServerDb) -> None:
    """MySQL refuses to drop the only index a foreign key can use (1553): the index
    the server would have made for the key is made first."""
    v1 = """
class A(Model):
    table = "a"
    schema = {"id": column("increments")}


class B(Model):
    table = "b"
    schema = {"id": column("increments"), "a_id": column("integer"), "n": column("integer")}
    database = {
        "foreign_keys": [foreign_key("a_id", "a", "id", name="fk_b_a")],
        "indexes": [index(["a_id", "n"], name="ix_b_a_n")],
    }
"""
    v2 = v1.replace('\n        "indexes": [index(["a_id", "n"], name="ix_b_a_n")],', "")
    p = make_project({"main": {"url": any_db.url}})
    lifecycle(p, any_db, v1, v2, "INSERT INTO a (id) VALUES (1);INSERT INTO b (a_id, n) VALUES (1, 2)")

"""Views declared as models (issue 19, item 3): a ``View`` model's SELECT is
parsed with sqlglot, created after the tables it reads, dropped and created again
around a change to a table it reads (on every database: MariaDB would keep a
broken view, PostgreSQL refuses the change), read back by reflection and compared
by drift (SELECTs normalized through sqlglot), written by make:models; hostile
SELECTs are refused in one line naming the model."""

from __future__ import annotations

import ast
import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.schema.diff import DiffHints, diff_states, inverse_operations
from modelmig_core.schema.diff.views import touched_tables as touched
from modelmig_core.schema.operations import CreateView, DropView, ReplaceView
from modelmig_core.schema.state import Column, State, Table, View
from modelmig_core.schema.views import tables_read
from tests.support.servers import ServerDb

USERS = """
from modelmig_core import Model, View, column


class User(Model):
    table = "users"
    schema = {{
        "id": column("increments"),
        "{email}": column("string", 100{renamed}),
        "deleted_at": column("softDeletes"),
    }}


class ActiveUsers(View):
    view = "active_users"
    select = "SELECT id, {email} FROM users WHERE deleted_at IS NULL"


class ActiveEmails(View):
    view = "active_emails"
    select = "SELECT {email} FROM active_users"
"""


def models(email: str = "email", renamed_from: str | None = None) -> str:
    renamed = f", renamed_from={renamed_from!r}" if renamed_from else ""
    return USERS.format(email=email, renamed=renamed)


def view_names(db: ServerDb) -> set[str]:
    engine = db.engine()
    try:
        return set(sa.inspect(engine).get_view_names())
    finally:
        engine.dispose()


def checksum(db: ServerDb, sql: str) -> str:
    return hashlib.sha256(repr(sorted(db.rows(sql))).encode()).hexdigest()


@pytest.mark.parametrize("driver", ["sqlite", "pg", "mysql"])
def test_view_models_round_trip_drift_and_a_rename_that_recreates_them(
    make_project: Any, request: pytest.FixtureRequest, driver: str
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(models())
    p.ok("make:migration", "--name", "v1")
    first = p.migration_files()[-1].read_text()
    assert first.index("op.CreateTable(") < first.index('op.CreateView(\n        op.View("active_users"')
    assert first.index('op.View("active_users"') < first.index('op.CreateView(op.View("active_emails"')
    p.ok("migrate:run")
    assert view_names(db) >= {"active_users", "active_emails"}
    db.execute("INSERT INTO users (email) VALUES ('a@x'), ('b@x')")
    db.execute("UPDATE users SET deleted_at = CURRENT_TIMESTAMP WHERE email = 'b@x'")
    assert db.rows("SELECT email FROM active_emails") == [("a@x",)]

    # reflect: drift 0, and the views are managed, not listed as unmanaged
    status = p.ok("migrate:status", "--drift")
    assert "drift: none" in status.output, status.output
    assert "unmanaged view" not in status.output, status.output

    # a rename of a column both views use: dropped before, created after, rows kept
    before = checksum(db, "SELECT id, email FROM users")
    p.models(models("address", renamed_from="email"))
    p.ok("make:migration", "--name", "rename", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    second = p.migration_files()[-1].read_text()
    drop = second.index("op.DropView(")
    assert drop < second.index("op.RenameColumn(") < second.index("op.CreateView(")
    pretend = p.ok("migrate:run", "--pretend")
    assert "DROP VIEW" in pretend.output and "CREATE VIEW" in pretend.output
    p.ok("migrate:run")
    assert checksum(db, "SELECT id, address FROM users") == before
    assert db.rows("SELECT address FROM active_emails") == [("a@x",)]
    status = p.ok("migrate:status", "--drift")
    assert "drift: none" in status.output, status.output

    # a change made by hand on the live view is reported by drift
    db.execute("DROP VIEW active_emails")
    db.execute("CREATE VIEW active_emails AS SELECT address, id FROM active_users")
    status = p.run("migrate:status", "--drift")
    assert "changed view active_emails" in status.output, status.output
    db.execute("DROP VIEW active_emails")
    status = p.run("migrate:status", "--drift")
    assert "missing view active_emails" in status.output, status.output
    db.execute("CREATE VIEW active_emails AS SELECT address FROM active_users")
    assert "drift: none" in p.ok("migrate:status", "--drift").output

    # rollback: the views go back to the old column, the rows stay
    p.ok("migrate:rollback")
    assert checksum(db, "SELECT id, email FROM users") == before
    assert db.rows("SELECT email FROM active_emails") == [("a@x",)]
    assert "drift: none" in p.ok("migrate:status", "--drift").output


@pytest.mark.parametrize("driver", ["sqlite", "pg", "mysql"])
def test_make_models_writes_view_models_and_baseline_accepts_them(
    make_project: Any, request: pytest.FixtureRequest, driver: str
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    key = "INTEGER PRIMARY KEY" if driver == "sqlite" else "INT PRIMARY KEY"
    db.execute(f"CREATE TABLE authors (id {key}, name VARCHAR(100) NOT NULL)")
    db.execute("CREATE VIEW author_names AS SELECT a.id, a.name FROM authors AS a WHERE a.id > 0")
    p = make_project({"main": {"url": db.url}})
    made = p.ok("make:models")
    source = (p.root / "models.py").read_text()
    tree = ast.parse(source)
    views = {
        stmt.targets[0].id: ast.literal_eval(stmt.value)  # type: ignore[attr-defined]
        for node in tree.body
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", "") == "View" for b in node.bases)
        for stmt in node.body
        if isinstance(stmt, ast.Assign)
    }
    assert views["view"] == "author_names", source
    assert "author_names" not in str([n for n in tree.body if isinstance(n, ast.Assign)]), source
    assert "outside the models" not in made.output
    p.ok("make:migration")
    baseline = p.ok("migrate:baseline")
    assert "unmanaged" not in baseline.output and "marked" in baseline.output, baseline.output
    status = p.ok("migrate:status", "--drift")
    assert "drift: none" in status.output, status.output
    assert "unmanaged" not in status.output, status.output


HOSTILE = {
    "two statements": "SELECT 1; DROP TABLE users",
    "a comment": "SELECT id FROM users -- DROP TABLE users",
    "a block comment": "SELECT id /* x */ FROM users",
    "a CTE that deletes": "WITH gone AS (DELETE FROM users RETURNING id) SELECT id FROM gone",
    "no SELECT": "DELETE FROM users",
    "an empty text": "  ",
}


@pytest.mark.parametrize("what", sorted(HOSTILE))
def test_hostile_selects_are_refused_in_one_line_naming_the_model(make_project: Any, what: str) -> None:
    p = make_project()
    p.models(
        "from modelmig_core import Model, View, column\n\n\n"
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments")}\n\n\n'
        f"class Bad(View):\n    view = 'bad'\n    select = {HOSTILE[what]!r}\n"
    )
    result = p.run("make:migration")
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "model Bad" in lines[0], result.output
    assert "Traceback" not in result.output
    assert not p.migration_files()


def test_a_hostile_view_name_is_quoted_and_read_back(make_project: Any, any_db: ServerDb) -> None:
    name = "v\"'` ; DROP TABLE users"
    p = make_project({"main": {"url": any_db.url}})
    p.models(
        "from modelmig_core import Model, View, column\n\n\n"
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments")}\n\n\n'
        f"class Odd(View):\n    view = {name!r}\n    select = 'SELECT id FROM users'\n"
    )
    p.ok("make:migration")
    p.ok("migrate:run")
    assert name in view_names(any_db)
    assert "users" in sa.inspect(any_db.engine()).get_table_names()
    assert "drift: none" in p.ok("migrate:status", "--drift").output


def test_a_changed_select_replaces_the_view_and_rolls_back(make_project: Any, any_db: ServerDb) -> None:
    p = make_project({"main": {"url": any_db.url}})
    p.models(models())
    p.ok("make:migration", "--name", "v1")
    p.ok("migrate:run")
    any_db.execute("INSERT INTO users (email) VALUES ('a@x')")
    p.models(models().replace("SELECT id, email FROM users WHERE", "SELECT id, email, deleted_at FROM users WHERE"))
    p.ok("make:migration", "--name", "more", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    source = p.migration_files()[-1].read_text()
    # the view that reads it goes first and comes back after; the view itself is replaced in place
    assert source.index('op.DropView(op.View("active_emails"') < source.index("op.ReplaceView(")
    assert source.index("op.ReplaceView(") < source.index('op.CreateView(op.View("active_emails"')
    p.ok("migrate:run")
    assert any_db.rows("SELECT email, deleted_at FROM active_users") == [("a@x", None)]
    assert "drift: none" in p.ok("migrate:status", "--drift").output
    p.ok("migrate:rollback")
    with pytest.raises(sa.exc.DBAPIError):
        any_db.rows("SELECT deleted_at FROM active_users")
    assert any_db.rows("SELECT email FROM active_emails") == [("a@x",)]
    assert "drift: none" in p.ok("migrate:status", "--drift").output


def test_a_model_with_view_is_a_view_model_too(make_project: Any) -> None:
    p = make_project()
    p.models(
        "from modelmig_core import Model, column\n\n\n"
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments")}\n\n\n'
        "class Ids(Model):\n    view = 'user_ids'\n    select = 'SELECT id FROM users'\n"
    )
    p.ok("make:migration")
    assert 'op.CreateView(op.View("user_ids", "SELECT id FROM users"))' in p.migration_files()[-1].read_text()
    p.ok("migrate:run")
    assert "drift: none" in p.ok("migrate:status", "--drift").output


def test_a_rename_the_view_select_does_not_follow_is_refused_at_make_time(make_project: Any) -> None:
    p = make_project()
    p.models(models())
    p.ok("make:migration", "--name", "v1")
    stale = models("address", renamed_from="email").replace(
        "SELECT id, address FROM users", "SELECT id, email FROM users"
    )
    p.models(stale)
    result = p.run("make:migration", "--name", "rename")
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "model ActiveUsers, field 'select'" in lines[0] and "email" in lines[0], lines
    assert len(p.migration_files()) == 1


def test_make_migration_for_one_view_model_keeps_the_others(make_project: Any) -> None:
    p = make_project()
    p.models(models())
    p.ok("make:migration", "--name", "v1")
    p.models(models().replace("SELECT id, email FROM users WHERE", "SELECT id, email, deleted_at FROM users WHERE"))
    p.ok("make:migration", "ActiveUsers", "--name", "one", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    source = p.migration_files()[-1].read_text()
    assert "op.ReplaceView(" in source and "DropTable" not in source
    p.ok("migrate:run")
    assert "drift: none" in p.ok("migrate:status", "--drift").output


def test_a_view_the_history_knows_and_the_models_dropped_is_extra_when_it_comes_back(make_project: Any) -> None:
    p = make_project()
    p.models(models())
    p.ok("make:migration", "--name", "v1")
    p.models(models().split("class ActiveEmails")[0])
    p.ok("make:migration", "--name", "drop", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    assert 'op.DropView(op.View("active_emails"' in p.migration_files()[-1].read_text()
    p.ok("migrate:run")
    db = p.root / "app.sqlite3"
    engine = sa.create_engine(f"sqlite:///{db}")
    try:
        with engine.begin() as c:
            c.exec_driver_sql("CREATE VIEW active_emails AS SELECT email FROM active_users")
            c.exec_driver_sql("CREATE VIEW by_hand AS SELECT id FROM users")
    finally:
        engine.dispose()
    status = p.run("migrate:status", "--drift")
    assert "extra view active_emails" in status.output, status.output
    assert "unmanaged view by_hand" in status.output and "extra view by_hand" not in status.output


def test_a_select_with_no_faithful_form_for_a_connection_is_refused_naming_the_model(make_project: Any) -> None:
    p = make_project(extra_config='sql_dialect = "postgres"')
    p.models(
        'class User(Model):\n    table = "users"\n    schema = {"id": column("increments")}\n\n\n'
        "from modelmig_core import View\n\n\n"
        "class Odd(View):\n    view = 'odd'\n    select = 'SELECT my_own_function(id) FROM users'\n"
    )
    result = p.run("make:migration")
    assert result.exit_code != 0
    assert "model Odd" in result.output and "my_own_function()" in result.output and "sqlite" in result.output
    assert not p.migration_files()


# ---------------------------------------------------------------- the diff's order, for any views (Hypothesis)

TABLES = ("t0", "t1", "t2")


@st.composite
def states(draw: Any) -> State:
    tables = {}
    for t in draw(st.lists(st.sampled_from(TABLES), min_size=1, unique=True)):  # a table may come or go
        extra = draw(st.lists(st.sampled_from(("a", "b", "c")), unique=True))
        cols = (Column("id", "integer", primary=True), *(Column(c, "integer", nullable=True) for c in sorted(extra)))
        tables[t] = Table(t, cols)
    views: dict[str, View] = {}
    for i in range(draw(st.integers(0, 4))):
        reads = draw(st.lists(st.sampled_from([*sorted(tables), *views]), min_size=1, max_size=3, unique=True))
        shape = draw(st.sampled_from(("1 AS x", "2 AS x")))
        joins = " CROSS JOIN ".join(reads)
        views[f"v{i}"] = View(f"v{i}", f"SELECT {shape} FROM {joins}")
    return State(tables, views)


@settings(max_examples=150, deadline=None)
@given(states(), states())
def test_views_are_dropped_before_and_created_after_every_change_to_what_they_read(old: State, new: State) -> None:
    ops = diff_states(old, new, DiffHints())
    state = old
    for op in ops:
        if not isinstance(op, (CreateView, DropView, ReplaceView)):
            changed = touched([op])
            standing = [n for n, v in state.views.items() if tables_read(v.select) & changed]
            assert standing == [], (op, standing)  # no view stands on a table while it changes
        if isinstance(op, (CreateView, ReplaceView)):
            view = op.view if isinstance(op, CreateView) else op.new
            assert tables_read(view.select) <= {*state.tables, *state.views}, op  # what it reads exists
        state = op.state_forwards(state)
    assert state.canonical() == new.canonical()
    back = new
    for op in inverse_operations(ops):
        back = op.state_forwards(back)
    assert back.canonical() == old.canonical()


SHAPES = {
    "star": "SELECT * FROM users",
    "join": "SELECT u.id, p.title FROM users AS u JOIN posts AS p ON p.user_id = u.id WHERE p.title <> 'x'",
    "aggregate": "SELECT user_id, count(*) AS n FROM posts GROUP BY user_id HAVING count(*) > 1",
    "case": "SELECT id, CASE WHEN deleted_at IS NULL THEN 'live' ELSE 'gone' END AS state FROM users",
    "cte": "WITH recent AS (SELECT user_id FROM posts WHERE id > 10) SELECT DISTINCT user_id FROM recent",
    "subquery": "SELECT id FROM users WHERE id IN (SELECT user_id FROM posts)",
    "left join": "SELECT u.email, coalesce(p.title, '') AS title FROM users u LEFT JOIN posts p ON p.user_id = u.id",
    "literals": "SELECT id, 'a\\b' AS slash, 'it''s' AS quote FROM users",
}

POSTS = """

class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "user_id": column("integer"), "title": column("string", 100)}


class Shape(View):
    view = "shape"
    select = %r
"""


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("driver", ["sqlite", "pg", "mysql"])
def test_selects_of_every_common_shape_read_back_with_no_drift(
    make_project: Any, request: pytest.FixtureRequest, driver: str, shape: str
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(models() + POSTS % SHAPES[shape])
    p.ok("make:migration")
    p.ok("migrate:run")
    status = p.ok("migrate:status", "--drift")
    assert "drift: none" in status.output, status.output
    # a column added to both tables: the views on them are dropped and made again (a star takes it)
    grown = (models() + POSTS % SHAPES[shape]).replace(
        '"deleted_at": column("softDeletes"),',
        '"deleted_at": column("softDeletes"),\n        "nick": column("string", 20, nullable=True),',
    )
    p.models(
        grown.replace(
            '"title": column("string", 100)}', '"title": column("string", 100), "n": column("integer", nullable=True)}'
        )
    )
    p.ok("make:migration", "--name", "grow", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    up = p.migration_files()[-1].read_text().split("down = [")[0]
    assert up.count('"shape"') == 2 and "op.DropView(" in up  # dropped, then created again
    p.ok("migrate:run")
    status = p.ok("migrate:status", "--drift")
    assert "drift: none" in status.output, status.output
    if shape == "star":
        assert db.rows("SELECT nick FROM shape") == []
    if shape == "literals":  # a backslash and a quote kept as written, on MariaDB too
        db.execute("INSERT INTO users (email) VALUES ('a@x')")
        assert db.rows("SELECT slash, quote FROM shape") == [("a\\b", "it's")]


MATERIALIZED = """

class EmailCount(View):
    view = "email_counts"
    select = "SELECT count(*) AS n FROM users"
    materialized = True
"""


def test_a_materialized_view_model_on_postgresql(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    pg_db.execute("SELECT 1")
    p.models(models() + MATERIALIZED)
    p.ok("make:migration", "--name", "v1")
    assert "materialized=True" in p.migration_files()[-1].read_text()
    p.ok("migrate:run")
    assert pg_db.rows("SELECT matviewname FROM pg_matviews") == [("email_counts",)]
    status = p.ok("migrate:status", "--drift")
    assert "drift: none" in status.output and "unmanaged" not in status.output, status.output
    pg_db.execute("INSERT INTO users (email) VALUES ('a@x'), ('b@x')")
    # a change to the table it reads: dropped and made again, its rows computed again
    p.models(models("address", renamed_from="email") + MATERIALIZED)
    p.ok("make:migration", "--name", "rename", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    p.ok("migrate:run")
    assert pg_db.rows("SELECT n FROM email_counts") == [(2,)]
    assert "drift: none" in p.ok("migrate:status", "--drift").output
    # made a plain view by hand: drift says so
    pg_db.execute("DROP MATERIALIZED VIEW email_counts")
    pg_db.execute("CREATE VIEW email_counts AS SELECT count(*) AS n FROM users")
    status = p.run("migrate:status", "--drift")
    assert "changed view email_counts: materialized, now not materialized" in status.output, status.output
    pg_db.execute("DROP VIEW email_counts")
    pg_db.execute("CREATE MATERIALIZED VIEW email_counts AS SELECT count(*) AS n FROM users")
    p.ok("migrate:rollback")
    assert pg_db.rows("SELECT n FROM email_counts") == [(2,)]
    assert "drift: none" in p.ok("migrate:status", "--drift").output
    # make:models writes it back as a materialized view model
    other = make_project({"main": {"url": pg_db.url}})
    other.ok("make:models")
    assert "materialized = True" in (other.root / "models.py").read_text()


@pytest.mark.parametrize("driver", ["sqlite", "mysql"])
def test_a_materialized_view_is_refused_at_make_time_where_the_database_has_none(
    make_project: Any, request: pytest.FixtureRequest, driver: str
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(models() + MATERIALIZED)
    result = p.run("make:migration")
    assert result.exit_code != 0
    assert "model EmailCount" in result.output and "materialized_views" in result.output, result.output
    assert not p.migration_files()

"""The live database as an input, on SQLite, PostgreSQL and MySQL/MariaDB:
reflection gives the state replay gives, and ``migrate:status --drift`` names
every hand change (column added, type changed, index dropped, FK dropped, check
added, enum value added), lists unknown tables apart as unmanaged, and exits 0
(no drift), 1 (drift) or 2 (error)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from modelmig_core.history.replay import replay
from modelmig_core.registry import Registry
from modelmig_core.schema.state import State
from tests.conftest import Project
from tests.support.schema import by_hand as sql
from tests.support.schema import drift, sqlite_edit_table
from tests.support.servers import ServerDb

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "blog"
BLOG_NOW = "2026-11-25T12:00:00"


def blog_project(make_project: Any, db: ServerDb) -> Project:
    """The example blog (its models and committed migrations) on ``db``."""
    p: Project = make_project({"main": {"url": db.url}})
    shutil.copytree(EXAMPLE / "blog", p.root / "blog")
    shutil.copytree(EXAMPLE / "migrations", p.root / "migrations")
    text = (p.root / "pyproject.toml").read_text().replace('models = ["models"]', 'models = ["blog.models"]')
    (p.root / "pyproject.toml").write_text(text)
    p.env["MODELMIG_NOW"] = BLOG_NOW
    return p


def lifecycle(p: Project) -> None:
    """The blog's lifecycle, as nox -s migrations runs it."""
    p.ok("make:migration", "--check")
    p.ok("migrate:run")
    p.ok("migrate:rollback")
    p.ok("migrate:run")
    p.ok("migrate:reset", "--yes")
    p.ok("migrate:fresh", "--yes")


def live_state(db: ServerDb) -> State:
    driver = Registry().driver(db.driver)
    with driver.connect(db.url) as session:
        return driver.reflect(session)


# ---------------------------------------------------------------- reflection


def test_untouched_blog_reflects_to_the_replayed_state(make_project: Any, any_db: ServerDb) -> None:
    """After the blog's whole lifecycle, the live schema reflects to the state the
    migrations replay to: equal once both are as the database can hold them
    (SQLite keeps no time zones, MySQL no time zones), and on
    PostgreSQL equal as they are."""
    p = blog_project(make_project, any_db)
    lifecycle(p)
    live = live_state(any_db)
    replayed = replay(p.root / "migrations", "sql").head
    driver = Registry().driver(any_db.driver)
    assert sorted(live.tables) == ["comments", "post_tag", "posts", "tags", "users"]  # the ledger is not a table of it
    assert driver.comparable(live).canonical() == driver.comparable(replayed).canonical()
    if any_db.driver == "pg":
        assert live.canonical() == replayed.canonical()
    code, out = drift(p)
    assert code == 0, out
    assert "drift: none: the live schema matches the applied migrations (through 20261125120000_" in out


def test_reflection_of_every_type_and_option(make_project: Any, any_db: ServerDb) -> None:
    """The conformance suite's models (every column type and option, composite and
    unique indexes, FK actions, checks) reflect back to their replayed state."""
    from modelmig_core.conformance.fixtures import V1, adapted

    p = make_project({"main": {"url": any_db.url}})
    driver = Registry().driver(any_db.driver)
    # without its column comments where the database has none (refused there at make time)
    p.models(adapted(V1, driver.features, driver.column_comments))
    p.ok("make:migration")
    p.ok("migrate:run")
    live = live_state(any_db)
    replayed = replay(p.root / "migrations", "sql").head
    assert driver.comparable(live).canonical() == driver.comparable(replayed).canonical()
    authors = live.tables["authors"]
    assert authors.column("id").autoincrement and authors.column("id").primary
    assert authors.column("role").default == "viewer"
    assert authors.column("is_active").default is True and authors.column("views").default == 0
    assert authors.column("created_at").default_now and not authors.column("published_at").default_now
    assert live.tables["posts"].checks[0].name == "ck_posts_title"
    if any_db.driver == "pg":
        assert live.canonical() == replayed.canonical()
        assert authors.column("role").values == ("admin", "editor", "viewer")
        assert authors.column("created_at").use_tz and authors.column("name").comment == "display name"
        assert live.tables["posts"].column("id").type == "bigInteger"
    if any_db.driver == "mysql":
        assert authors.column("meta").type == "json"  # MariaDB: LONGTEXT with its json_valid check
        assert [c.name for c in authors.checks] == ["ck_authors_views"]
        assert authors.column("name").comment == "display name"
    if any_db.driver == "sqlite":  # the enum's values are read back from its CHECK, which is the type's
        assert authors.column("role").type == "enum"
        assert authors.column("role").values == ("admin", "editor", "viewer")
        assert [c.name for c in authors.checks] == ["ck_authors_views"]


# ---------------------------------------------------------------- drift


def test_each_hand_change_is_reported_by_name(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    p = blog_project(make_project, db)
    p.ok("migrate:run")
    assert drift(p)[0] == 0

    sql(db, "ALTER TABLE posts ADD COLUMN summary TEXT")
    if db.driver == "sqlite":
        sqlite_edit_table(db, "tags", "label VARCHAR(100)", "label VARCHAR(150)")
        sqlite_edit_table(
            db,
            "comments",
            ", \n\tCONSTRAINT fk_comments_user FOREIGN KEY(user_id) REFERENCES users (id) ON DELETE SET NULL",
            "",
        )
        sqlite_edit_table(
            db,
            "posts",
            "CHECK (length(title) > 0)",
            "CHECK (length(title) > 0), CONSTRAINT ck_posts_body CHECK (length(body) > 0)",
        )
        sql(db, "DROP INDEX ix_posts_user_created")
    elif db.driver == "pg":
        sql(
            db,
            "ALTER TABLE tags ALTER COLUMN label TYPE VARCHAR(150)",
            "ALTER TABLE comments DROP CONSTRAINT fk_comments_user",
            "ALTER TABLE posts ADD CONSTRAINT ck_posts_body CHECK (length(body) > 0)",
            "DROP INDEX ix_posts_user_created",
        )
    else:
        sql(
            db,
            "ALTER TABLE tags MODIFY label VARCHAR(150) NOT NULL",
            "ALTER TABLE comments DROP FOREIGN KEY fk_comments_user",
            "ALTER TABLE posts ADD CONSTRAINT ck_posts_body CHECK (length(body) > 0)",
            "DROP INDEX ix_posts_user_created ON posts",
        )
    code, out = drift(p)
    assert code == 1, out
    lines = [line.strip() for line in out.splitlines()]
    assert "extra column posts.summary: text NULL" in lines
    assert "changed column tags.label: type string(150) in the database, string(100) in the migrations" in lines
    assert "missing index posts.ix_posts_user_created: (user_id, created_at)" in lines
    assert "missing foreign key comments.fk_comments_user: (user_id) -> users(id) ON DELETE SET NULL" in lines
    check = next(line for line in lines if line.startswith("extra check posts.ck_posts_body: "))
    assert "length(body) > 0" in check
    if db.driver == "mysql":  # the index the server made for the FK stays when the FK goes: a real difference
        assert "extra index comments.fk_comments_user: (user_id)" in lines
    assert f"drift: {6 if db.driver == 'mysql' else 5} difference(s) from the applied migrations" in out

    report = json.loads(p.run("migrate:status", "--drift", "--json").output)
    (conn,) = report["connections"]
    assert report["drift"] is True and conn["connection"] == "main"
    kinds = {(d["change"], d["kind"], d["name"]) for d in conn["drift"]}
    assert {
        ("extra", "column", "posts.summary"),
        ("changed", "column", "tags.label"),
        ("missing", "index", "posts.ix_posts_user_created"),
        ("missing", "foreign key", "comments.fk_comments_user"),
        ("extra", "check", "posts.ck_posts_body"),
    } <= kinds


@pytest.mark.parametrize("kind", ["sqlite", "pg", "mysql"])
def test_an_enum_value_added_by_hand_is_reported(make_project: Any, kind: str, request: pytest.FixtureRequest) -> None:
    """On every database: PostgreSQL's enum type, MySQL's ENUM column, SQLite's
    VARCHAR with the named CHECK of its values (ck_posts_status_enum)."""
    db: ServerDb = request.getfixturevalue(f"{kind}_db")
    p = blog_project(make_project, db)
    p.ok("migrate:run")
    if kind == "sqlite":
        sqlite_edit_table(db, "posts", "'archived')", "'archived', 'hidden')")
    elif kind == "pg":
        sql(db, "ALTER TYPE posts_status_enum ADD VALUE 'hidden'")
    else:
        sql(
            db, "ALTER TABLE posts MODIFY status ENUM('draft','published','archived','hidden') NOT NULL DEFAULT 'draft'"
        )
    code, out = drift(p)
    assert code == 1, out
    assert (
        "changed enum values posts.status: draft, published, archived, hidden in the database, "
        "draft, published, archived in the migrations"
    ) in out
    assert "1 difference(s)" in out


def test_unmanaged_tables_are_listed_apart(make_project: Any, any_db: ServerDb) -> None:
    p = blog_project(make_project, any_db)
    p.ok("migrate:run")
    sql(any_db, "CREATE TABLE audit_log (id INTEGER PRIMARY KEY, what VARCHAR(100))")
    code, out = drift(p)
    assert code == 0, out  # an unmanaged table is not drift
    assert "drift: none" in out
    assert "unmanaged table audit_log (no model or migration knows it)" in out
    assert "modelmig_migrations" not in out
    report = json.loads(p.run("migrate:status", "--drift", "--json").output)
    assert report["connections"][0]["unmanaged"] == [{"kind": "table", "name": "audit_log"}]
    # a table the migrations know (the blog's) that is dropped by hand is drift, not unmanaged
    sql(any_db, "DROP TABLE post_tag")
    code, out = drift(p)
    assert code == 1 and "missing table post_tag" in out


def test_drift_is_measured_against_the_applied_migrations_only(make_project: Any, sqlite_db: ServerDb) -> None:
    """A pending migration is not expected in the database; the table it will
    create is known to the migrations, so when it is there early it is drift."""
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models('class Tag(Model):\n    table = "tags"\n    schema = {"id": column("increments")}\n')
    p.ok("make:migration")
    p.ok("migrate:run")
    p.models(
        'class Tag(Model):\n    table = "tags"\n    schema = {"id": column("increments")}\n\n'
        'class Note(Model):\n    table = "notes"\n    schema = {"id": column("increments"), "body": column("text")}\n'
    )
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    code, out = drift(p)
    assert code == 0 and "pending" in out, out
    sql(sqlite_db, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
    code, out = drift(p)
    assert code == 1 and "extra table notes: 2 column(s)" in out, out
    sql(sqlite_db, "DROP TABLE notes")
    p.ok("migrate:rollback")  # nothing applied any more: the database should hold no table
    code, out = drift(p)
    assert code == 0 and "(no migration applied)" in out, out
    sql(sqlite_db, "CREATE TABLE tags (id INTEGER PRIMARY KEY)")
    code, out = drift(p)
    assert code == 1 and "extra table tags: 1 column(s)" in out, out


def test_drift_errors_exit_2(make_project: Any, tmp_path: Path) -> None:
    p = make_project({"main": {"url": "postgresql://nobody@127.0.0.1:9/none"}})
    p.models('class Tag(Model):\n    table = "tags"\n    schema = {"id": column("increments")}\n')
    p.ok("make:migration")
    result = p.run("migrate:status", "--drift")
    assert result.exit_code == 2
    assert result.output.startswith("error: cannot connect to postgresql://nobody@127.0.0.1:9/none")
    result = p.run("migrate:status", "--drift", "--connection", "nope")
    assert result.exit_code == 2 and "unknown connection 'nope'" in result.output

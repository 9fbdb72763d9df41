"""One cross-dialect conformance suite: the same models and the same migration
chain through SQLite, PostgreSQL and MySQL/MariaDB.

The fixtures use every column type and option, composite and unique indexes,
named foreign keys with on_delete/on_update, checks, a table rename, a column
rename and alterations of type, length, precision, nullability, default, enum
values and comment. After each step the live schema, reflected with
SQLAlchemy's Inspector, equals the state the migration files add up to; after
a rollback it equals the earlier state again. Rows survive alterations.
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa

from modelmig_core.history import replay
from modelmig_core.state import State
from tests.support.schema import assert_schema, enum_types
from tests.support.servers import ServerDb

V1 = """
class Author(Model):
    table = "authors"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "name": column("string", 100, comment="display name"),
        "is_active": column("boolean", default=True),
        "is_admin": column("boolean", default=False),
        "score": column("decimal", (10, 3), default="1.500"),
        "rating": column("float", nullable=True),
        "weight": column("double", nullable=True),
        "born": column("date", nullable=True),
        "wakes": column("time", nullable=True),
        "age": column("smallInteger", nullable=True),
        "views": column("bigInteger", default=0),
        "counter": column("integer", default=0),
        "bio": column("text", nullable=True),
        "meta": column("json", nullable=True),
        "token": column("uuid"),
        "avatar": column("binary", nullable=True),
        "role": column("enum", ["admin", "editor", "viewer"], default="viewer"),
        "legacy_code": column("string", 20, nullable=True),
        "nickname": column("string", 50, nullable=True, index=True),
        "created_at": column("timestamp", use_tz=True),
        "updated_at": column("timestamp"),
        "published_at": column("timestamp", use_tz=True, default_now=False),
        "deleted_at": column("softDeletes", use_tz=True),
        "posts": relation("hasMany", "Post", foreign_key="author_id"),
    }
    database = {"checks": [check("views >= 0", name="ck_authors_views")]}


class Post(Model):
    table = "posts"
    schema = {
        "id": column("bigIncrements"),
        "author_id": column("integer"),
        "editor_id": column("integer", nullable=True),
        "title": column("string", 200),
        "slug": column("string", 64),
        "body": column("text", nullable=True),
        "status": column("enum", ["draft", "published"], default="draft"),
    }
    database = {
        "foreign_keys": [
            foreign_key("author_id", "authors", "id", name="fk_posts_author", on_delete="cascade", on_update="cascade"),
            foreign_key("editor_id", "authors", "id", name="fk_posts_editor", on_delete="set null"),
        ],
        "unique": [unique(["author_id", "slug"], name="uq_posts_author_slug")],
        "indexes": [index(["author_id", "title"], name="ix_posts_author_title")],
        "checks": [check("length(title) > 0", name="ck_posts_title")],
    }


class Tag(Model):
    table = "tags"
    schema = {"id": column("increments"), "label": column("string", 50, unique=True)}


class PostTag(Model):
    table = "post_tag"
    schema = {
        "post_id": column("bigInteger", primary=True),
        "tag_id": column("integer", primary=True),
    }
    database = {
        "foreign_keys": [
            foreign_key("post_id", "posts", "id", name="fk_post_tag_post", on_delete="cascade"),
            foreign_key("tag_id", "tags", "id", name="fk_post_tag_tag", on_delete="restrict"),
        ],
        "indexes": [index("tag_id", name="ix_post_tag_tag")],
    }
"""

# v2: a table rename, a column rename, alterations of every kind, added and
# dropped columns, indexes, foreign keys and checks
V2 = """
class Writer(Model):
    table = "writers"
    renamed_from = "authors"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "name": column("string", 150, comment="full name"),
        "is_active": column("boolean", default=False),
        "is_admin": column("boolean", default=False),
        "score": column("decimal", (12, 4), nullable=True),
        "rating": column("float", nullable=True),
        "weight": column("double", nullable=True),
        "born": column("date", nullable=True),
        "wakes": column("time", nullable=True),
        "age": column("integer", nullable=True),
        "views": column("bigInteger", default=0),
        "counter": column("bigInteger", default=5),
        "bio": column("text"),
        "meta": column("json", nullable=True),
        "token": column("uuid"),
        "role": column("enum", ["admin", "editor", "viewer", "guest"], default="guest"),
        "legacy_code": column("integer", nullable=True),
        "nickname": column("string", 50, nullable=True),
        "website": column("string", 200, nullable=True),
        "level": column("integer", default=1),
        "created_at": column("timestamp", use_tz=True),
        "updated_at": column("timestamp", use_tz=True),
        "published_at": column("timestamp", use_tz=True, default_now=False),
        "deleted_at": column("softDeletes", use_tz=True),
    }
    database = {"checks": [check("counter >= 0", name="ck_writers_counter")]}


class Post(Model):
    table = "posts"
    schema = {
        "id": column("bigIncrements"),
        "author_id": column("integer"),
        "editor_id": column("integer", nullable=True),
        "title": column("string", 200),
        "slug": column("string", 64),
        "content": column("text", nullable=True, renamed_from="body"),
        "status": column("string", 20, default="draft"),
    }
    database = {
        "foreign_keys": [
            foreign_key("author_id", "writers", "id", name="fk_posts_author", on_delete="cascade", on_update="cascade"),
            foreign_key("editor_id", "writers", "id", name="fk_posts_editor", on_delete="cascade"),
        ],
        "unique": [
            unique(["author_id", "slug"], name="uq_posts_author_slug"),
            unique("slug", name="uq_posts_slug"),
        ],
        "indexes": [index("title", name="ix_posts_title")],
        "checks": [check("length(title) > 1", name="ck_posts_title")],
    }


class Tag(Model):
    table = "tags"
    schema = {
        "id": column("increments"),
        "label": column("string", 50, unique=True),
        "color": column("enum", ["red", "green"], nullable=True),
    }


class PostTag(Model):
    table = "post_tag"
    schema = {
        "post_id": column("bigInteger", primary=True),
        "tag_id": column("integer", primary=True),
    }
    database = {
        "foreign_keys": [
            foreign_key("post_id", "posts", "id", name="fk_post_tag_post", on_delete="cascade"),
            foreign_key("tag_id", "tags", "id", name="fk_post_tag_tag", on_delete="restrict"),
        ],
        "indexes": [index("tag_id", name="ix_post_tag_tag")],
    }
"""

RENDERERS = {
    "sqlite": "modelmig_sqlite.render:SqliteRenderer",
    "pg": "modelmig_pg.render:PgRenderer",
    "mysql": "modelmig_mysql.render:MysqlRenderer",
}


def renderer(driver: str) -> Any:
    module, _, cls = RENDERERS[driver].partition(":")
    return getattr(importlib.import_module(module), cls)()


def states(project: Any) -> list[State]:
    return replay(project.root / "migrations", "sql").states


def check(db: ServerDb, state: State) -> None:
    engine = db.engine()
    try:
        assert_schema(engine, state, renderer(db.driver))
        # every enum type the database holds belongs to a column of the state
        enum_columns = sum(1 for t in state.tables.values() for c in t.columns if c.type == "enum")
        assert len(enum_types(engine)) in (0, enum_columns)
    finally:
        engine.dispose()


def seed(db: ServerDb) -> None:
    engine = db.engine()
    try:
        with engine.begin() as c:
            c.execute(
                sa.text(
                    "INSERT INTO authors (email, name, token, legacy_code, bio) "
                    "VALUES ('ann@example.com', 'Ann', '6f1c6a36-2b0e-4c55-9f43-3c1f3b1f0001', '42', 'hello')"
                )
            )
            author = c.execute(sa.text("SELECT id FROM authors")).scalar()
            c.execute(
                sa.text(
                    "INSERT INTO posts (author_id, title, slug, body) VALUES (:a, 'First post', 'first', 'Body text')"
                ),
                {"a": author},
            )
    finally:
        engine.dispose()


def rows(db: ServerDb, sql: str) -> list[tuple[Any, ...]]:
    return db.rows(sql)


def test_same_chain_same_schema_on_every_driver(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    p = make_project({"main": {"url": db.url}})

    p.models(V1)
    p.ok("make:migration", "--name", "create_blog")
    p.ok("migrate:run")
    s0, s1 = states(p)
    check(db, s1)
    seed(db)
    if db.driver == "mysql":  # the server added no implicit ON UPDATE / NOT NULL to any timestamp
        create = db.rows("SHOW CREATE TABLE authors")[0][1].lower()
        assert "on update" not in create
        assert "`published_at` datetime(6) default null" in create

    p.models(V2)
    out = p.ok("make:migration", "--name", "rework_blog", env={"MODELMIG_NOW": "2026-01-02T00:00:00"}).output
    assert "Created" in out
    s2 = states(p)[2]
    assert "writers" in s2.tables and "authors" not in s2.tables
    p.ok("migrate:run", "--force", "--yes")
    check(db, s2)
    # rows survived the rename and the alterations; the string code became an integer
    assert rows(db, "SELECT email, legacy_code, role FROM writers") == [("ann@example.com", 42, "viewer")]
    assert rows(db, "SELECT title, content, status FROM posts") == [("First post", "Body text", "draft")]

    p.ok("migrate:rollback", "--force", "--yes")
    check(db, s1)
    assert rows(db, "SELECT email, legacy_code FROM authors") == [("ann@example.com", "42")]
    assert rows(db, "SELECT title, body FROM posts") == [("First post", "Body text")]

    p.ok("migrate:run", "--force", "--yes")
    check(db, s2)

    status = p.ok("migrate:status").output
    assert status.count("applied") == 2

    p.ok("migrate:reset", "--yes")
    check(db, s0)
    engine = db.engine()
    try:
        assert enum_types(engine) == []  # PostgreSQL: no enum type outlives its column
    finally:
        engine.dispose()

    p.ok("migrate:fresh", "--yes")
    check(db, s2)


def test_pretend_prints_dialect_sql_and_changes_nothing(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    p = make_project({"main": {"url": db.url}})
    p.models(V1)
    p.ok("make:migration", "--name", "create_blog")
    out = p.ok("migrate:run", "--pretend").output
    assert "CREATE TABLE" in out
    if db.driver == "pg":
        assert "TIMESTAMP WITH TIME ZONE" in out and "CREATE TYPE" in out and "JSONB" in out
    if db.driver == "mysql":
        assert "DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)" in out or "DEFAULT CURRENT_TIMESTAMP(6)" in out
        assert "ON UPDATE CURRENT_TIMESTAMP" not in out.upper()
        assert "`bio` TEXT NULL" in out or "bio TEXT NULL" in out  # NULL is explicit too
        assert "ENUM('admin','editor','viewer')" in out
    check(db, states(p)[0])


def test_names_longer_than_the_database_allows_are_rejected_at_make_time(make_project: Any) -> None:
    """63 characters on PostgreSQL, 64 on MySQL: checked by make:migration, no server needed."""
    for url, driver, limit in (
        ("postgresql://u@127.0.0.1:9/x", "pg", 63),
        ("mysql://u@127.0.0.1:9/x", "mysql", 64),
    ):
        p = make_project({"main": {"url": url}})
        long_name = "c" * (limit + 1)
        p.models(
            f"""
class Thing(Model):
    table = "things"
    schema = {{"id": column("increments"), "{long_name}": column("integer")}}
"""
        )
        result = p.run("make:migration")
        assert result.exit_code != 0
        assert "model Thing" in result.output and long_name in result.output
        assert f"{driver} allows at most {limit}" in result.output
        assert p.migration_files() == []
        # at the limit it is fine
        p.models(
            f"""
class Thing(Model):
    table = "things"
    schema = {{"id": column("increments"), "{"c" * limit}": column("integer")}}
"""
        )
        p.ok("make:migration")

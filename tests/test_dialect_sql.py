"""What each dialect's SQL must say beyond the conformance kit's reflection:
PostgreSQL's and MySQL's --pretend text, MySQL's explicit NULL/DEFAULT without an
implicit ON UPDATE, and identifier limits checked at make time."""

from __future__ import annotations

from typing import Any

from modelmig_core.conformance import fixtures
from modelmig_core.history.replay import replay
from modelmig_core.registry import Registry
from tests.support.servers import ServerDb


def models(project: Any, source: str, db: ServerDb) -> None:
    """``source`` as the project's models, adapted to ``db`` (no column comments on SQLite)."""
    driver = Registry().driver(db.driver)
    (project.root / "models.py").write_text(fixtures.adapted(source, driver.features, driver.column_comments))


def test_pretend_prints_dialect_sql_and_changes_nothing(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    p = make_project({"main": {"url": db.url}})
    models(p, fixtures.V1, db)
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
    driver = Registry().driver(db.driver)
    with driver.connect(db.url) as session:
        assert session.list_tables() == []  # nothing changed, not even the ledger
    assert len(replay(p.root / "migrations", "sql").migrations) == 1


def test_mysql_timestamps_get_no_implicit_on_update(make_project: Any, mysql_db: ServerDb) -> None:
    p = make_project({"main": {"url": mysql_db.url}})
    models(p, fixtures.V1, mysql_db)
    p.ok("make:migration", "--name", "create_blog")
    p.ok("migrate:run")
    create = mysql_db.rows("SHOW CREATE TABLE authors")[0][1].lower()
    assert "on update" not in create
    assert "`published_at` datetime(6) default null" in create


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

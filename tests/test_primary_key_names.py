"""A primary key constraint of its own name (issue 19: northwind's ``pk_categories``
came back as ``categories_pkey``, named but not kept): ``database["primary_key_name"]``
is created, reflected, compared by drift and written back by make:models on
PostgreSQL and SQLite, refused at make time on MySQL (every key is PRIMARY there),
and a change of it on an existing table is one error line."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from tests.conftest import Project
from tests.support.servers import ServerDb

HOSTILE = 'pk "x"; DROP TABLE t --'

MODELS = """
class Category(Model):
    table = "categories"
    schema = {"id": column("integer", primary=True), "name": column("string", 40)}
    database = {"primary_key_name": %r}
"""


def pk_name_pg(db: ServerDb) -> str:
    return str(db.scalar("SELECT conname FROM pg_constraint WHERE conrelid = 'categories'::regclass AND contype = 'p'"))


@pytest.mark.parametrize("name", ["pk_categories", HOSTILE])
def test_a_named_primary_key_round_trips_on_postgresql(make_project: Any, pg_db: ServerDb, name: str) -> None:
    p: Project = make_project({"main": {"url": pg_db.url}})
    p.models(MODELS % name)
    p.ok("make:migration")
    p.ok("migrate:run")
    assert pk_name_pg(pg_db) == name
    assert "drift: none" in p.ok("migrate:status", "--drift").output
    pg_db.execute(f'ALTER TABLE categories RENAME CONSTRAINT "{name.replace(chr(34), chr(34) * 2)}" TO other_pk')
    drift = p.run("migrate:status", "--drift").output
    assert "primary key name 'other_pk' in the database" in drift, drift
    pg_db.execute(f'ALTER TABLE categories RENAME CONSTRAINT other_pk TO "{name.replace(chr(34), chr(34) * 2)}"')
    p.ok("make:models", "--force", "--out", "adopted.py")
    written = (p.root / "adopted.py").read_text()
    assert any(f'"primary_key_name": {literal},' in written for literal in (repr(name), '"' + name + '"')), written
    p.ok("migrate:rollback")
    assert pg_db.scalar("SELECT to_regclass('categories')") is None


def test_the_databases_own_name_is_not_written_and_not_compared(make_project: Any, pg_db: ServerDb) -> None:
    """A key PostgreSQL named itself (``<table>_pkey``) is no name of the model's; a
    model without a name is not compared (a table renamed keeps ``<old>_pkey``)."""
    p: Project = make_project({"main": {"url": pg_db.url}})
    p.models(
        """
        class Category(Model):
            table = "categories"
            schema = {"id": column("integer", primary=True)}
        """
    )
    p.ok("make:migration")
    p.ok("migrate:run")
    assert pk_name_pg(pg_db) == "categories_pkey"
    pg_db.execute("ALTER TABLE categories RENAME CONSTRAINT categories_pkey TO legacy_pk")
    assert "drift: none" in p.ok("migrate:status", "--drift").output
    p.ok("make:models", "--force", "--out", "adopted.py")
    assert '"primary_key_name": "legacy_pk",' in (p.root / "adopted.py").read_text()


def test_a_named_primary_key_on_sqlite(make_project: Any) -> None:
    p: Project = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(MODELS % "pk_categories")
    p.ok("make:migration")
    p.ok("migrate:run")
    with sqlite3.connect(p.root / "app.sqlite3") as db:
        sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'categories'").fetchone()[0]
    assert "CONSTRAINT pk_categories PRIMARY KEY (id)" in sql
    assert "drift: none" in p.ok("migrate:status", "--drift").output


def test_mysql_refuses_a_primary_key_name_at_make_time(make_project: Any) -> None:
    p: Project = make_project({"main": {"url": "mysql://root@127.0.0.1:3306/never_used"}})
    p.models(MODELS % "pk_categories")
    r = p.run("make:migration")
    assert r.exit_code != 0
    lines = [line for line in r.output.splitlines() if "primary key name" in line]
    assert len(lines) == 1 and "Category" in lines[0] and "connection 'main'" in lines[0], r.output
    assert p.migration_files() == []


def test_a_changed_name_on_an_existing_table_is_one_error_line(make_project: Any) -> None:
    p: Project = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(MODELS % "pk_categories")
    p.ok("make:migration")
    p.models(MODELS % "pk_renamed")
    r = p.run("make:migration")
    assert r.exit_code != 0
    assert "database['primary_key_name'] of the existing table 'categories' changes" in r.output, r.output
    assert len(p.migration_files()) == 1


@pytest.mark.parametrize("value", ["", 7, "a\nb"])
def test_a_bad_primary_key_name_is_one_error_line(make_project: Any, value: Any) -> None:
    p: Project = make_project()
    p.models(MODELS % (value,))
    r = p.run("make:migration")
    assert r.exit_code != 0 and "database['primary_key_name'] must be a name" in r.output, r.output

"""The pytest plugin (plugins/pytest): an app's own test run gets its test
databases migrated once per session, and never its real database."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

APP_TEST = """
import sqlite3


def test_tables_are_there(modelmig_db):
    assert modelmig_db.connection == "main" and modelmig_db.url.endswith("app_test.sqlite3")
    path = modelmig_db.url[len("sqlite:///"):]
    names = {r[0] for r in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "modelmig_migrations"} <= names


def test_same_session_same_database(modelmig_databases):
    assert list(modelmig_databases) == ["main"]


def test_the_migrations_applied_come_from_the_events(modelmig_db):
    from modelmig_core import api

    assert modelmig_db.migrations == ("20260101000000_create_users_table",)
    kinds = [type(e).__name__ for e in modelmig_db.events]
    assert kinds[:1] == ["ConnectionStarted"] and kinds[-1] == "ConnectionFinished"
    assert [e.migration for e in modelmig_db.events if isinstance(e, api.MigrationApplied)] == list(
        modelmig_db.migrations
    )
"""

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100)}
"""


def run_pytest(root, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("APP_ENV", None)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )


def test_app_tests_get_a_migrated_test_database(make_project) -> None:
    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    (p.root / "test_app.py").write_text(APP_TEST)
    result = run_pytest(p.root, "test_app.py")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    assert not (p.root / "app.sqlite3").exists()  # the real database is never touched
    # a second session starts fresh again: rows written by tests do not leak
    c = sqlite3.connect(p.root / "app_test.sqlite3")
    c.execute("INSERT INTO users (email) VALUES ('leftover@x')")
    c.commit()
    c.close()
    assert run_pytest(p.root, "test_app.py").returncode == 0
    c = sqlite3.connect(p.root / "app_test.sqlite3")
    assert c.execute("SELECT count(*) FROM users").fetchone() == (0,)
    c.close()


def test_a_connection_without_test_url_fails_the_session(make_project) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(MODELS)
    p.ok("make:migration")
    (p.root / "test_app.py").write_text(APP_TEST)
    result = run_pytest(p.root, "test_app.py")
    assert result.returncode != 0
    assert "connection 'main' has no test_url" in result.stdout
    assert not (p.root / "app.sqlite3").exists()

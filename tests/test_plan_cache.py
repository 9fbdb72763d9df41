"""The plan cache (``sql/plancache.py``): a migration's rendered plan kept on disk,
keyed by everything it was rendered from, served to the next database without
rendering (or importing SQLAlchemy); an entry altered under a valid key is
ignored; a plan that read the live facts is served only where they match."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelmig_core.sql import plancache
from modelmig_core.sql.driver import SqlSession
from tests.support.servers import ServerDb

USERS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191, unique=True), "name": column("string", 50)}
"""
USERS_WITHOUT_NAME = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191, unique=True)}
"""

PROBE = """
import sys
from modelmig_core.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
print("LOADED:", sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy"))
"""

TWO_SQLITE = {"a": {"url": "sqlite:///a.sqlite3"}, "b": {"url": "sqlite:///b.sqlite3"}}


def probe(root: Path, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def entries(root: Path) -> list[Path]:
    return sorted((root / "migrations" / ".modelmig-cache" / "plans" / "sql").glob("*.json"))


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}


def ledger_ids(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM modelmig_migrations ORDER BY id")]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL text the sessions send (in this process)."""
    out: list[str] = []
    original = SqlSession._execute

    def record(self: SqlSession, sql: str, params: Any = None) -> Any:
        out.append(sql)
        return original(self, sql, params)

    monkeypatch.setattr(SqlSession, "_execute", record)
    return out


def no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: SqlSession, steps: Any, facts: Any) -> Any:
        raise AssertionError("rendered although the plan was cached")

    monkeypatch.setattr(SqlSession, "_render", refuse)


def pretended(output: str) -> list[str]:
    """The statements of ``--pretend`` output (its ``--`` headers, its connection's
    lines and warnings left out)."""
    keep = [
        line
        for line in output.splitlines()
        if not line.startswith(("-- ", "warning:")) and not line.split(" ", 1)[0].endswith(":")
    ]
    return [s.strip() for s in ("\n".join(keep) + "\n").split(";\n") if s.strip()]


def test_the_next_database_takes_the_plan_without_sqlalchemy_and_the_same_schema(make_project: Any) -> None:
    p = make_project(TWO_SQLITE)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "a")
    assert len(entries(p.root)) == 1
    out = probe(p.root, "migrate:run", "--connection", "b")
    assert "b: applied" in out and "LOADED: []" in out, out
    # the schema made from the cached plan is the one made by rendering
    with sqlite3.connect(p.root / "a.sqlite3") as a, sqlite3.connect(p.root / "b.sqlite3") as b:
        query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'modelmig%' ORDER BY name"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()
    assert ledger_ids(p.root / "b.sqlite3") == ledger_ids(p.root / "a.sqlite3")


def test_a_planned_run_on_postgresql_imports_no_sqlalchemy(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run")
    p.ok("migrate:rollback")  # the up plan stays cached
    assert pg_db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'") == 0
    out = probe(p.root, "migrate:run")
    assert "applied" in out and "LOADED: []" in out, out
    columns = pg_db.rows(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
        "WHERE table_name = 'users' ORDER BY column_name"
    )
    assert columns == [
        ("email", "character varying", "NO"),
        ("id", "integer", "NO"),
        ("name", "character varying", "NO"),
    ]


def test_pretend_and_a_cached_run_send_the_same_statements(
    make_project: Any, sent: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = make_project(TWO_SQLITE)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "a")
    printed = pretended(p.ok("migrate:run", "--connection", "b", "--pretend").output)
    assert printed and any(s.startswith("CREATE TABLE users") for s in printed)
    sent.clear()
    no_rendering(monkeypatch)
    p.ok("migrate:run", "--connection", "b")
    texts = [s.strip().rstrip(";") for s in sent]
    positions = [texts.index(s) for s in printed]
    assert positions == sorted(positions)


def test_a_cache_entry_altered_under_its_key_is_ignored(make_project: Any, sent: list[str]) -> None:
    p = make_project(TWO_SQLITE)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "a")
    [entry] = entries(p.root)
    original = entry.read_text()
    header, body = original.split("\n", 1)
    statements = json.loads(body)
    statements.append(["DROP TABLE keepme", "", False, [], False])
    entry.write_text(header + "\n" + json.dumps(statements, separators=(",", ":")))
    with sqlite3.connect(p.root / "b.sqlite3") as conn:
        conn.execute("CREATE TABLE keepme (x INTEGER)")
    expected = pretended(p.ok("migrate:run", "--connection", "b", "--pretend").output)
    assert any(s.startswith("CREATE TABLE users") for s in expected)
    sent.clear()
    p.ok("migrate:run", "--connection", "b")
    assert "keepme" in tables(p.root / "b.sqlite3") and "users" in tables(p.root / "b.sqlite3")
    assert not any("keepme" in s for s in sent)
    texts = [s.strip().rstrip(";") for s in sent]
    assert [s for s in expected if s in texts] == expected  # the fresh render was sent
    assert entry.read_text() == original  # and stored again, as rendered


@pytest.mark.parametrize(
    "edit",
    [
        lambda h: {**h, "facts": "0" * 64},  # a facts digest slipped in
        lambda h: {**h, "key": "0" * 64},  # another key
        lambda h: {**h, "format": 999},
    ],
)
def test_an_entry_whose_header_was_altered_is_ignored(make_project: Any, edit: Any) -> None:
    p = make_project(TWO_SQLITE)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "a")
    [entry] = entries(p.root)
    header, body = entry.read_text().split("\n", 1)
    key = entry.stem
    assert plancache.load(entry.parent, key) is not None
    entry.write_text(json.dumps(edit(json.loads(header))) + "\n" + body)
    assert plancache.load(entry.parent, key) is None


def test_a_plan_that_read_the_live_facts_is_served_only_where_they_match(
    make_project: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dropping a column reads which views use it: database b has a view on it, so
    a's cached plan is not b's; b's fresh render refuses, naming the view."""
    p = make_project({**TWO_SQLITE, "c": {"url": "sqlite:///c.sqlite3"}})
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", "--all-connections")
    p.models(USERS_WITHOUT_NAME)
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "a")
    headers = [json.loads(e.read_text().split("\n", 1)[0]) for e in entries(p.root)]
    assert sorted(h["facts"] is None for h in headers) == [False, True]  # the drop read the facts, the create not
    with sqlite3.connect(p.root / "b.sqlite3") as conn:
        conn.execute("CREATE VIEW names AS SELECT name FROM users")
    result = p.run("migrate:run", "--connection", "b")
    assert result.exit_code != 0 and "view names uses it" in result.output
    assert "name" in [r[1] for r in sqlite3.connect(p.root / "b.sqlite3").execute("PRAGMA table_info(users)")]
    no_rendering(monkeypatch)  # c's facts are a's: the cached plan serves it
    p.ok("migrate:run", "--connection", "c")
    assert [r[1] for r in sqlite3.connect(p.root / "c.sqlite3").execute("PRAGMA table_info(users)")] == ["id", "email"]


def test_no_cache_means_rendering(make_project: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    p = make_project(TWO_SQLITE)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "a", env={"MODELMIG_NO_CACHE": "1"})
    assert entries(p.root) == []


facts_values = st.sets(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=8)


@given(facts_values, st.randoms())
def test_the_facts_digest_ignores_the_order_of_a_set(values: set[tuple[str, str]], rnd: Any) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)
    assert plancache.facts_digest({"uses": values}) == plancache.facts_digest({"uses": set(shuffled)})


@given(facts_values, facts_values)
def test_different_facts_have_different_digests(a: set[tuple[str, str]], b: set[tuple[str, str]]) -> None:
    assert (plancache.facts_digest({"uses": a}) == plancache.facts_digest({"uses": b})) == (a == b)

"""Compare a live database with a state, as the conformance kit does
(``modelmig_core.conformance.compare``): the driver's ``reflect`` and drift's
comparison of the two states made comparable by the driver."""

from __future__ import annotations

from typing import Any

from modelmig_core.conformance import compare
from modelmig_core.registry import Registry
from modelmig_core.schema.state import State


def reflect(driver: str, url: str) -> State:
    """The live schema of the database at ``url`` (driver ``driver``), as a State."""
    d = Registry().driver(driver)
    with d.connect(url) as session:
        return d.reflect(session)


def differences(driver: str, expected: State, live: State) -> list[str]:
    """Where ``live`` differs from ``expected`` (drift's lines); [] when they agree."""
    return compare.compare_states(Registry().driver(driver), expected, live)


def assert_schema(driver: str, url: str, state: State) -> None:
    problems = differences(driver, state, reflect(driver, url))
    assert not problems, "; ".join(problems)


def types(db: Any) -> list[str]:
    """The named types (PostgreSQL's enum types) of ``db`` (a ServerDb)."""
    with Registry().driver(db.driver).connect(db.url) as session:
        return session.list_types()


RENDERERS = {
    "sqlite": "modelmig_sqlite.render:SqliteRenderer",
    "pg": "modelmig_pg.render:PgRenderer",
    "mysql": "modelmig_mysql.render:MysqlRenderer",
}


def renderer(driver: str) -> Any:
    """The renderer of a driver of this repository (tables as SQLAlchemy Core objects)."""
    import importlib

    module, _, cls = RENDERERS[driver].partition(":")
    return getattr(importlib.import_module(module), cls)()


def states(project: Any) -> list[State]:
    """The states a project's SQL chain goes through (the replay of its files)."""
    from modelmig_core.history.replay import replay

    return replay(project.root / "migrations", "sql").states


def check(db: Any, state: State) -> None:
    """The live schema of ``db`` (a ServerDb) is ``state``; every named type the
    database holds belongs to an enum column of the state."""
    d = Registry().driver(db.driver)
    with d.connect(db.url) as session:
        problems = compare.differences(d, session, state) + compare.leftover_types(session, state)
    assert not problems, "; ".join(problems)


# ---------------------------------------------------------------- changes made by hand, and drift


def by_hand(db: Any, *statements: str) -> None:
    """Run ``statements`` on a test database as a person would, outside modelmig
    (SQLite through Python's sqlite3, in autocommit; a server through its session)."""
    if db.driver == "sqlite":
        import sqlite3

        c = sqlite3.connect(db.name, isolation_level=None)
        try:
            for s in statements:
                c.execute(s)
        finally:
            c.close()
        return
    for s in statements:
        db.execute(s)


def sqlite_edit_table(db: Any, table: str, old: str, new: str) -> None:
    """Change a table's declaration by hand the way SQLite allows it (its stored
    CREATE TABLE text, with writable_schema), as a person repairing a schema would."""
    import sqlite3

    c = sqlite3.connect(db.name, isolation_level=None)
    try:
        (text,) = c.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).fetchone()
        assert old in text, text
        version = c.execute("PRAGMA schema_version").fetchone()[0]
        c.execute("PRAGMA writable_schema = ON")
        c.execute("UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = ?", (text.replace(old, new), table))
        c.execute(f"PRAGMA schema_version = {version + 1}")
        c.execute("PRAGMA writable_schema = OFF")
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        c.close()


def drift(p: Any, *args: str) -> tuple[int, str]:
    """``migrate:status --drift`` of project ``p``: (exit code, output)."""
    result = p.run("migrate:status", "--drift", *args)
    return result.exit_code, result.output

"""Compare a live database (reflected with SQLAlchemy's Inspector) with a state:
the conformance kit's comparison (``modelmig_core.conformance.compare``) over an
engine, for the tests that hold one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from modelmig_core.conformance import compare
from modelmig_core.state import State


def inspector(engine: sa.Engine) -> Any:
    """The Inspector the drivers' own inspect() gives (MariaDB's JSON columns as JSON)."""
    insp = sa.inspect(engine)
    if getattr(engine.dialect, "is_mariadb", False):
        from modelmig_mysql.driver import MariadbJsonInspector

        return MariadbJsonInspector(insp)
    return insp


def reflect(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    return compare.reflect(inspector(engine), engine.dialect)


def expected(state: State, renderer: Any) -> dict[str, dict[str, Any]]:
    return compare.expected(state, renderer)


def assert_schema(engine: sa.Engine, state: State, renderer: Any) -> None:
    problems = compare.differences(inspector(engine), state, renderer)
    assert not problems, "; ".join(problems)


def enum_types(engine: sa.Engine) -> list[str]:
    return compare.enum_types(sa.inspect(engine))


RENDERERS = {
    "sqlite": "modelmig_sqlite.render:SqliteRenderer",
    "pg": "modelmig_pg.render:PgRenderer",
    "mysql": "modelmig_mysql.render:MysqlRenderer",
}


def renderer(driver: str) -> Any:
    """The renderer of a driver of this repository, for the expected side of a comparison."""
    import importlib

    module, _, cls = RENDERERS[driver].partition(":")
    return getattr(importlib.import_module(module), cls)()


def states(project: Any) -> list[State]:
    """The states a project's SQL chain goes through (the replay of its files)."""
    from modelmig_core.history import replay

    return replay(project.root / "migrations", "sql").states


def check(db: Any, state: State) -> None:
    """The live schema of ``db`` (a ServerDb) is ``state``; every enum type the
    database holds belongs to a column of the state."""
    engine = db.engine()
    try:
        assert_schema(engine, state, renderer(db.driver))
        enum_columns = sum(1 for t in state.tables.values() for c in t.columns if c.type == "enum")
        assert len(enum_types(engine)) in (0, enum_columns)
    finally:
        engine.dispose()

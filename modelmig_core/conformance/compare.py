"""The live schema against the state the migrations add up to, on the one
reflection path that ``migrate:status --drift``, ``make:models`` and
``migrate:baseline`` use.

The live side is the driver's ``reflect(session)``: the live schema as the same
``State`` values that replay produces (SQLAlchemy's batched Inspector and the
driver's ``Reflection`` subclass, SQL text understood through sqlglot). Both
sides are brought to what the database can hold by the driver's
``comparable(state)`` (what it cannot say, such as SQLite's time zones or
DuckDB's constraint names, is dropped from both) and compared by drift's
relational comparison, so that the kit passes exactly when drift would say
"none". Every difference is one line, as drift prints it; a table only the
database has is a difference here (the scenarios' databases start empty).
"""

from __future__ import annotations

from typing import Any

from ..schema.differences import compare_relational
from ..schema.state import State


def differences(driver: Any, session: Any, state: State) -> list[str]:
    """Where the live schema of ``session`` differs from ``state``; [] when they agree."""
    return compare_states(driver, state, driver.reflect(session))


def compare_states(driver: Any, expected: State, live: State) -> list[str]:
    """Where ``live`` (a reflected state) differs from ``expected``, both made
    comparable by ``driver``; a table only ``live`` has is a difference too."""
    found = driver.comparable(live)
    comparison = compare_relational(driver.comparable(expected), found, known=set(found.tables))
    return [d.line for d in comparison.differences]


def leftover_types(session: Any, state: State) -> list[str]:
    """The database's named types (PostgreSQL's enum types) beyond one per enum
    column of ``state``: a type a dropped or altered column left behind. []
    where they agree, or where the database has no types of its own."""
    types = session.list_types()
    columns = sum(1 for t in state.tables.values() for c in t.columns if c.type == "enum")
    if types and len(types) != columns:
        return [f"{len(types)} named type(s) in the database for {columns} enum column(s): {types}"]
    return []

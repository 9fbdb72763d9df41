"""Compare a live database (reflected with SQLAlchemy's Inspector) with a state:
the conformance kit's comparison (``modelmig_core.conformance.compare``) over an
engine, for the tests that hold one."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from modelmig_core.conformance import compare
from modelmig_core.state import State


def reflect(engine: sa.Engine) -> dict[str, dict[str, Any]]:
    return compare.reflect(sa.inspect(engine), engine.dialect)


def expected(state: State, renderer: Any) -> dict[str, dict[str, Any]]:
    return compare.expected(state, renderer)


def assert_schema(engine: sa.Engine, state: State, renderer: Any) -> None:
    problems = compare.differences(sa.inspect(engine), state, renderer)
    assert not problems, "; ".join(problems)


def enum_types(engine: sa.Engine) -> list[str]:
    return compare.enum_types(sa.inspect(engine))

"""What a SQL driver declares of its renderer so that make imports neither the
renderer nor SQLAlchemy (``SqlDriver.type_names`` and ``operation_names``) is what
the renderer has: the type table's keys, and operations it implements."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest
from modelmig_duckdb.driver import DuckdbDriver
from modelmig_mysql.driver import MysqlDriver
from modelmig_pg.driver import PgDriver
from modelmig_sqlite.driver import SqliteDriver

import modelmig_core.schema.operations as operations_package
from modelmig_core.api import RENDERER_OPERATIONS, RENDERER_TYPE_NAMES, Renderer, SqlDriver
from modelmig_core.conformance.scenarios import declared_tables_problems
from modelmig_core.schema.operations import Operation

DRIVERS = [SqliteDriver, PgDriver, MysqlDriver, DuckdbDriver]


def core_operations() -> dict[str, type[Operation]]:
    out: dict[str, type[Operation]] = {}
    for module in pkgutil.iter_modules(operations_package.__path__):
        loaded = importlib.import_module(f"{operations_package.__name__}.{module.name}")
        for value in vars(loaded).values():
            if inspect.isclass(value) and issubclass(value, Operation) and value.__module__ == loaded.__name__:
                out[value.__qualname__] = value
    return out


def renderer_of(driver: type[SqlDriver]) -> type[Renderer]:
    module, _, name = driver.renderer_class.partition(":")
    renderer: type[Renderer] = getattr(importlib.import_module(module), name)
    return renderer


def test_the_cores_names_are_the_core_renderers() -> None:
    assert set(Renderer.types) == RENDERER_TYPE_NAMES
    implemented = {n for n, cls in core_operations().items() if Renderer.implements(cls)}
    assert implemented == RENDERER_OPERATIONS


@pytest.mark.parametrize("driver", DRIVERS, ids=lambda d: d.__name__)
def test_each_drivers_declared_tables_are_its_renderers(driver: type[SqlDriver]) -> None:
    renderer = renderer_of(driver)
    assert driver.type_names == set(renderer.types)
    ops = core_operations()
    assert driver.operation_names is not None and driver.operation_names <= set(ops)
    assert all(renderer.implements(ops[n]) for n in driver.operation_names)
    assert driver.dialect == renderer.dialect_name
    assert declared_tables_problems(driver()) == []  # the kit's own check passes


def test_the_kit_names_a_declared_type_the_renderer_lacks() -> None:
    class Boasting(SqliteDriver):
        type_names = RENDERER_TYPE_NAMES | {"inet"}

    class Claiming(SqliteDriver):
        operation_names = frozenset({"AlterColumn", "Frobnicate"})

    assert declared_tables_problems(Boasting()) == ["type_names has 'inet': SqliteRenderer.types has none"]
    assert declared_tables_problems(Claiming()) == [
        "operation_names has 'Frobnicate', which is not an operation of modelmig_core"
    ]

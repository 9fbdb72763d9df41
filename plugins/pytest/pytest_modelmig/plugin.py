"""Migrate the app's test databases once per test session.

Only a connection's ``test_url`` is ever touched: the fixtures use the same
targets as ``modelmig migrate:fresh --test``, so a connection without a
``test_url`` is an error, never a fall-back to its real database.

    def test_signup(modelmig_db):        # the default connection's test database, migrated
        engine = sqlalchemy.create_engine(modelmig_db.url.replace("postgresql://", "postgresql+psycopg://"))

Options: ``--modelmig-config PATH`` (or ini ``modelmig_config``) names the
modelmig.toml / pyproject.toml (default: found from the rootdir upward);
``--modelmig-connection NAME`` (repeatable, or ini ``modelmig_connections``)
chooses connections (default: the config's default one); ``--modelmig-keep``
runs pending migrations instead of starting fresh.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("modelmig")
    group.addoption("--modelmig-config", default=None, help="modelmig.toml or pyproject.toml of the app")
    group.addoption("--modelmig-connection", action="append", default=None, help="connection whose test_url to migrate")
    group.addoption("--modelmig-keep", action="store_true", help="run pending migrations instead of migrate:fresh")
    parser.addini("modelmig_config", "modelmig.toml or pyproject.toml of the app", default="")
    parser.addini("modelmig_connections", "connections whose test_url to migrate", type="args", default=[])


@dataclass(frozen=True)
class MigratedDb:
    """One migrated test database."""

    connection: str
    driver: str
    url: str
    applied: int
    migrations: tuple[str, ...] = ()  # the ids applied, in order (from the command's events)
    events: tuple[Any, ...] = field(default=(), repr=False)  # every event of this connection (modelmig_core.api.Event)


def _config_path(config: pytest.Config) -> Path | None:
    value = config.getoption("--modelmig-config") or config.getini("modelmig_config")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(str(config.rootpath)) / path


@pytest.fixture(scope="session")
def modelmig_databases(pytestconfig: pytest.Config) -> Iterator[dict[str, MigratedDb]]:
    """{connection name: MigratedDb}: every chosen connection's test database,
    wiped and migrated (or brought up to date with --modelmig-keep) once."""
    from modelmig_core import api

    names = pytestconfig.getoption("--modelmig-connection") or pytestconfig.getini("modelmig_connections")
    keep = pytestconfig.getoption("--modelmig-keep")
    cwd = os.getcwd()
    out: dict[str, MigratedDb] = {}
    events: list[Any] = []  # the command's events (modelmig_core.api.Event), as the command line prints from
    try:
        project = api.open_project(_config_path(pytestconfig))
        if api.in_production():  # after opening the project: its config may name more production APP_ENVs
            pytest.fail("modelmig: refusing to migrate test databases with APP_ENV=production", pytrace=False)
        command = api.run if keep else api.fresh
        extra = {} if keep else {"yes": True}
        for result in command(project, connections=names, test=True, on_event=events.append, **extra):
            mine = tuple(e for e in events if e.connection == result.connection)
            applied = tuple(e.migration for e in mine if isinstance(e, api.MigrationApplied) and e.direction == "up")
            out[result.connection] = MigratedDb(
                result.connection, result.driver, result.url, result.count, applied, mine
            )
    except api.ModelmigError as exc:
        pytest.fail(f"modelmig: {exc}", pytrace=False)
    finally:
        os.chdir(cwd)  # open_app works from the app's folder
    yield out


@pytest.fixture(scope="session")
def modelmig_db(modelmig_databases: dict[str, MigratedDb]) -> MigratedDb:
    """The first chosen connection's migrated test database."""
    return next(iter(modelmig_databases.values()))

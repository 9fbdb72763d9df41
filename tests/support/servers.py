"""Real database servers for tests: URLs from the environment, throwaway
databases, and skip-or-fail when a server is unreachable.

``MODELMIG_TEST_PG_URL`` / ``MODELMIG_TEST_MYSQL_URL`` name an existing database
the tests may connect to (defaults: localhost, database ``modelmig_test``). Each
test gets its own scratch database created next to it and dropped afterwards,
so runs can repeat and run side by side. Unreachable server, or a reachable
server without that database: skip locally (saying which), fail when
``CI=true``. ``python3 dev.py test`` creates the databases when it can
(``tests/support/databases.py``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

PG_URL = os.environ.get("MODELMIG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/modelmig_test")
MYSQL_URL = os.environ.get("MODELMIG_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/modelmig_test")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unreachable(what: str, exc: BaseException) -> None:
    skip_or_fail(f"{what} is unreachable: {' '.join(str(exc).split())[:200]}")


def database_missing(what: str, database: str) -> None:
    skip_or_fail(
        f"{what} is reachable but has no database {database}: run `python3 dev.py test` "
        f"(it creates it) or create it yourself"
    )


def skip_or_fail(message: str) -> None:
    if in_ci():
        pytest.fail(f"{message} (CI=true: server tests must run)", pytrace=False)
    pytest.skip(message)


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def scratch_name(prefix: str = "mm") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@dataclass(frozen=True)
class ServerDb:
    """A scratch database: ``url`` for modelmig, ``sa_url`` for SQLAlchemy."""

    driver: str
    url: str
    sa_url: str
    name: str

    def engine(self) -> Any:
        import sqlalchemy as sa

        return sa.create_engine(self.sa_url, poolclass=sa.pool.NullPool)

    def scalar(self, sql: str) -> Any:
        import sqlalchemy as sa

        engine = self.engine()
        try:
            with engine.connect() as c:
                return c.execute(sa.text(sql)).scalar()
        finally:
            engine.dispose()

    def execute(self, sql: str) -> None:
        import sqlalchemy as sa

        engine = self.engine()
        try:
            with engine.begin() as c:
                c.execute(sa.text(sql))
        finally:
            engine.dispose()

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        import sqlalchemy as sa

        engine = self.engine()
        try:
            with engine.connect() as c:
                return [tuple(r) for r in c.execute(sa.text(sql))]
        finally:
            engine.dispose()


# ---------------------------------------------------------------- PostgreSQL


def pg_admin() -> Any:
    import psycopg

    from tests.support.databases import database_of, pg_connect

    try:
        return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        try:  # the server answers on its maintenance database: only ours is missing
            pg_connect(PG_URL, "postgres").close()
        except psycopg.OperationalError:
            unreachable(f"PostgreSQL ({PG_URL})", exc)
        database_missing(f"PostgreSQL ({PG_URL})", database_of(PG_URL))


def pg_sa_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


@pytest.fixture
def pg_db() -> Iterator[ServerDb]:
    admin = pg_admin()
    name = scratch_name("mm_pg")
    admin.execute(f'CREATE DATABASE "{name}"')
    url = with_database(PG_URL, name)
    try:
        yield ServerDb("pg", url, pg_sa_url(url), name)
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


# ---------------------------------------------------------------- MySQL / MariaDB


def mysql_admin() -> Any:
    import pymysql
    from modelmig_mysql.driver import connect_args

    from tests.support.databases import database_of

    try:
        return pymysql.connect(**connect_args(MYSQL_URL))
    except pymysql.err.OperationalError as exc:
        if exc.args and exc.args[0] == 1049:  # ER_BAD_DB_ERROR: the server answered, the database is missing
            database_missing(f"MySQL/MariaDB ({MYSQL_URL})", database_of(MYSQL_URL))
        unreachable(f"MySQL/MariaDB ({MYSQL_URL})", exc)


def mysql_sa_url(url: str) -> str:
    return "mysql+pymysql://" + url.split("://", 1)[1]


@pytest.fixture
def mysql_db() -> Iterator[ServerDb]:
    admin = mysql_admin()
    name = scratch_name("mm_my")
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    url = with_database(MYSQL_URL, name)
    try:
        yield ServerDb("mysql", url, mysql_sa_url(url), name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def hold_lock(db: ServerDb) -> Any:
    """Take the runner lock of ``db`` from another session (as a runner would); close to release."""
    if db.driver == "pg":
        import psycopg
        from modelmig_pg.driver import database_name, lock_key

        c = psycopg.connect(db.url, autocommit=True)
        c.execute("SELECT pg_advisory_lock(%s)", (lock_key(database_name(db.url)),))
        return c
    import pymysql
    from modelmig_mysql.driver import connect_args, lock_name

    c = pymysql.connect(**connect_args(db.url))
    with c.cursor() as cur:
        cur.execute("SELECT GET_LOCK(%s, 5)", (lock_name(db.name),))
    return c


# ---------------------------------------------------------------- SQLite and DuckDB: a file per test


@pytest.fixture
def sqlite_db(tmp_path: Any) -> ServerDb:
    path = tmp_path / "conformance.sqlite3"
    return ServerDb("sqlite", f"sqlite:///{path}", f"sqlite:///{path}", str(path))


@pytest.fixture
def duckdb_db(tmp_path: Any) -> ServerDb:
    path = tmp_path / "conformance.duckdb"
    return ServerDb("duckdb", f"duckdb:///{path}", f"duckdb:///{path}", str(path))


@pytest.fixture(params=["sqlite", "pg", "mysql"])
def any_db(request: pytest.FixtureRequest) -> ServerDb:
    """One database of each SQL driver: the same test runs on all three."""
    return request.getfixturevalue(f"{request.param}_db")

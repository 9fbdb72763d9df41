"""Create and drop databases on the local PostgreSQL and MariaDB/MySQL servers,
for the test suite, ``nox -s migrations`` and CI. Run with the project's venv
(it needs psycopg and PyMySQL, which the drivers install)::

    python tests/support/databases.py ensure                 # the test databases, when the servers are reachable
    python tests/support/databases.py create pg|mysql URL NAME   # a scratch database next to URL's
    python tests/support/databases.py drop pg|mysql URL NAME

``ensure`` creates the database named by ``MODELMIG_TEST_PG_URL`` /
``MODELMIG_TEST_MYSQL_URL`` (default ``modelmig_test`` on 127.0.0.1) if it is
missing; an unreachable server is reported and skipped (an error with
``CI=true``, where server tests must run).
"""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

PG_URL = os.environ.get("MODELMIG_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/modelmig_test")
MYSQL_URL = os.environ.get("MODELMIG_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/modelmig_test")


def database_of(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, parts.fragment))


def pg_connect(url: str, database: str | None = None) -> Any:
    """A psycopg connection to ``url``'s server (to ``database``, default the URL's)."""
    import psycopg

    target = with_database(url, database) if database else url
    return psycopg.connect(target, autocommit=True, connect_timeout=5)


def mysql_connect(url: str, database: str | None = "") -> Any:
    """A PyMySQL connection to ``url``'s server; ``database=None``: to no database."""
    import pymysql

    parts = urlsplit(url)
    return pymysql.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 3306,
        user=unquote(parts.username or "root"),
        password=unquote(parts.password or ""),
        database=(database_of(url) if database == "" else database),
        autocommit=True,
        connect_timeout=5,
    )


def create(kind: str, url: str, name: str, replace: bool = True) -> None:
    if kind == "pg":
        with pg_connect(url, "postgres") as c:
            if replace:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                c.execute(f'CREATE DATABASE "{name}"')
        return
    c = mysql_connect(url, None)
    try:
        with c.cursor() as cur:
            if replace:
                cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
            cur.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")
    finally:
        c.close()


def drop(kind: str, url: str, name: str) -> None:
    if kind == "pg":
        with pg_connect(url, "postgres") as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    c = mysql_connect(url, None)
    try:
        with c.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    finally:
        c.close()


def ensure() -> int:
    """The test databases, on each reachable server; one line per server."""
    failed = 0
    for kind, label, url in (("pg", "PostgreSQL", PG_URL), ("mysql", "MariaDB/MySQL", MYSQL_URL)):
        name = database_of(url)
        where = urlsplit(url).hostname or "localhost"
        try:
            create(kind, url, name, replace=False)
        except Exception as exc:  # noqa: BLE001 - a server that is not there is reported, not raised
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            print(f"{label} at {where} is unreachable ({reason}): its tests will be skipped")
            failed += 1
            continue
        print(f"{label} at {where}: database {name} is ready")
    ci = os.environ.get("CI", "").lower() in ("1", "true", "yes")
    return 1 if failed and ci else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["ensure"] and len(argv) == 1:
        return ensure()
    if len(argv) == 4 and argv[0] in ("create", "drop") and argv[1] in ("pg", "mysql"):
        action, kind, url, name = argv
        (create if action == "create" else drop)(kind, url, name)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Targets: ``--all-connections`` selects the connections whose driver declares
the ``sql`` feature (read from ``driver.features``, not from a list of names) and
runs them one after another with a per-connection summary; ``--pg``, ``--mysql``
and ``--sqlite`` select the connections of one driver. One migration chain
serves every SQL connection.

Fake drivers, registered through the config's ``plugins = ["module:obj"]``,
prove where the selection comes from: a fake SQL driver (a third party's) is
included; a fake document driver, and a fake driver of the ``sql`` family that
lacks the ``sql`` feature, are skipped (and never even connected to).
"""

from __future__ import annotations

import json
import re
from importlib.metadata import entry_points
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.servers import ServerDb, with_database

MODELS = """
class User(Model):
    table = "users"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "active": column("boolean", default=True),
        "created_at": column("timestamp", use_tz=True),
    }
"""

FAKES = '''
"""Third-party drivers for the test, registered through the config's plugins list."""
from pathlib import Path

from modelmig_core.api import API_VERSION, Driver, DriverInfo, Features
from modelmig_sqlite.driver import SqliteDriver

TOUCHED = Path(__file__).with_name("touched.txt")


class FakeSql(SqliteDriver):
    """A third-party SQL driver (SQLite underneath): it inherits the sql feature."""

    info = DriverInfo("fakesql", ("fakesql",), "sql")

    def open(self, url):
        return super().open("sqlite" + url[len("fakesql"):])


class Untouchable(Driver):
    """A driver without the sql feature: it must never be connected to."""

    api_version = API_VERSION

    def __init__(self, name, family, features):
        self.info = DriverInfo(name, (name,), family)
        self.features = features

    def connect(self, url):
        with TOUCHED.open("a") as f:
            f.write(self.info.name + "\\n")
        raise RuntimeError(f"{self.info.name} must not be selected by --all-connections")


fake_sql = FakeSql()
fake_docs = Untouchable("fakedocs", "document", Features())
fake_kv = Untouchable("fakekv", "sql", Features(advisory_lock=True))  # family sql, but no sql feature
'''

PLUGINS = 'plugins = ["fakedrivers:fake_sql", "fakedrivers:fake_docs", "fakedrivers:fake_kv"]'


def mongo_connection() -> dict[str, str]:
    """A mongo connection: the real driver if installed (at an address nobody
    listens on, so touching it would fail), else the fake document driver."""
    installed = any(ep.name == "mongo" for ep in entry_points(group="modelmig.drivers"))
    if installed:
        return {"url": "mongodb://127.0.0.1:9/blog?serverSelectionTimeoutMS=500"}
    return {"url": "fakedocs://127.0.0.1:9/blog", "driver": "fakedocs"}


def project(make_project: Any, connections: dict[str, dict[str, str]]) -> Any:
    p = make_project(connections, extra_config=PLUGINS)
    (p.root / "fakedrivers.py").write_text(FAKES)
    p.models(MODELS)
    p.ok("make:migration", "--name", "create_users")
    return p


def local_connections() -> dict[str, dict[str, str]]:
    return {
        "main": {"url": "sqlite:///main.sqlite3"},
        "third_party": {"url": "fakesql:///third.sqlite3"},
        "docs": {"url": "fakedocs://127.0.0.1:9/docs", "driver": "fakedocs"},
        "kv": {"url": "fakekv://127.0.0.1:9/kv", "driver": "fakekv"},
    }


def has_users(url: str) -> bool:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        return "users" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()


def selected(p: Any, *flags: str) -> list[str]:
    out = p.ok("migrate:status", "--json", *flags).output
    return [c["connection"] for c in json.loads(out)["connections"]]


def test_selection_comes_from_declared_capabilities(make_project: Any) -> None:
    p = project(make_project, local_connections())
    result = p.ok("migrate:run", "--all-connections")
    assert "summary:" in result.output
    summary = result.output.split("summary:")[1]
    assert "main [sqlite" in summary and "third_party [fakesql" in summary
    assert "docs" not in summary and "kv" not in summary
    assert not (p.root / "touched.txt").exists()  # the drivers without sql were never connected to
    assert has_users(f"sqlite:///{p.root / 'main.sqlite3'}")
    assert has_users(f"sqlite:///{p.root / 'third.sqlite3'}")
    assert selected(p, "--all-connections") == ["main", "third_party"]
    # a driver flag selects that driver's connections only; explicit names still work
    assert selected(p, "--sqlite") == ["main"]
    assert selected(p, "--driver", "fakesql") == ["third_party"]
    # --all-connections with only non-sql drivers configured is a clear error
    only_docs = make_project({"docs": {"url": "fakedocs://x/y", "driver": "fakedocs"}}, extra_config=PLUGINS)
    (only_docs.root / "fakedrivers.py").write_text(FAKES)
    only_docs.models(MODELS)
    refused = only_docs.run("migrate:run", "--all-connections")
    assert refused.exit_code != 0 and "no connection whose driver declares the sql feature" in refused.output


def test_all_connections_on_real_servers(
    make_project: Any,
    pg_db: ServerDb,
    mysql_db: ServerDb,
) -> None:
    connections = {
        "main": {"url": "sqlite:///main.sqlite3"},
        "pg": {"url": pg_db.url},
        "mysql": {"url": mysql_db.url},
        "mongo": mongo_connection(),
        "third_party": {"url": "fakesql:///third.sqlite3"},
        "kv": {"url": "fakekv://127.0.0.1:9/kv", "driver": "fakekv"},
    }
    p = project(make_project, connections)
    result = p.ok("migrate:run", "--all-connections")
    summary = result.output.split("summary:")[1].strip().splitlines()
    assert [line.split()[0] for line in summary] == ["main", "pg", "mysql", "third_party"]
    assert all(re.search(r": 1 applied in \d+ ms$", line) for line in summary), summary
    assert not (p.root / "touched.txt").exists()
    for url in (f"sqlite:///{p.root / 'main.sqlite3'}", pg_db.sa_url, mysql_db.sa_url):
        assert has_users(url)

    # one chain, every SQL connection: the same migration id in each ledger
    mid = p.migration_files()[0].stem
    for db in (pg_db, mysql_db):
        assert db.rows("SELECT id, status FROM modelmig_migrations") == [(mid, "applied")]
    assert selected(p, "--pg") == ["pg"]
    assert selected(p, "--mysql") == ["mysql"]
    assert selected(p, "--sqlite") == ["main"]
    assert selected(p, "--pg", "--mysql") == ["pg", "mysql"]

    again = p.ok("migrate:run", "--all-connections").output
    assert again.count("nothing to migrate") == 4
    p.ok("migrate:rollback", "--all-connections")
    assert not has_users(pg_db.sa_url) and not has_users(mysql_db.sa_url)


def test_one_failing_connection_fails_the_command_but_not_the_others(
    make_project: Any,
    pg_db: ServerDb,
    mysql_db: ServerDb,
) -> None:
    missing = with_database(pg_db.url, pg_db.name + "_missing")
    connections = {
        "main": {"url": "sqlite:///main.sqlite3"},
        "pg": {"url": pg_db.url},
        "pg_gone": {"url": missing},
        "mysql": {"url": mysql_db.url},
    }
    p = project(make_project, connections)
    result = p.run("migrate:run", "--all-connections")
    assert result.exit_code == 1
    assert "pg_gone" in result.output and "FAILED: cannot connect" in result.output
    assert "1 of 4 connection(s) failed" in result.output
    assert "Traceback" not in result.output
    for url in (f"sqlite:///{p.root / 'main.sqlite3'}", pg_db.sa_url, mysql_db.sa_url):
        assert has_users(url)


def gone_project(make_project: Any, pg_db: ServerDb) -> Any:
    """main (SQLite) and pg (a real server) with their migration applied; gone: a
    PostgreSQL nobody listens on, between them."""
    connections = {
        "main": {"url": "sqlite:///main.sqlite3"},
        "gone": {"url": "postgresql://app:pw123456@127.0.0.1:1/nowhere?connect_timeout=2"},
        "pg": {"url": pg_db.url},
    }
    p = project(make_project, connections)
    p.ok("migrate:run", "--connection", "main", "--connection", "pg")
    return p


@pytest.mark.parametrize("jobs", ["1", "3"])
def test_status_with_an_unreachable_connection_prints_the_others(make_project: Any, pg_db: ServerDb, jobs: str) -> None:
    p = gone_project(make_project, pg_db)
    mid = p.migration_files()[0].stem
    result = p.run("migrate:status", "--all-connections", "--jobs", jobs)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("main [sqlite") and lines[1].split() == [
        mid,
        "applied",
        "batch",
        "1",
        *lines[1].split()[4:],
    ]
    assert lines[2].startswith("gone [pg postgresql://app:***@127.0.0.1:1/")
    assert lines[3].startswith("  FAILED: cannot connect to postgresql://app:***@127.0.0.1:1/")
    assert lines[4].startswith("pg [pg ") and lines[5].split()[:2] == [mid, "applied"]
    assert result.stderr.strip().splitlines()[-1] == "error: 1 of 3 connection(s) failed"
    assert "pw123456" not in result.output and "Traceback" not in result.output

    as_json = p.run("migrate:status", "--all-connections", "--jobs", jobs, "--json")
    assert as_json.exit_code == 1
    doc = json.loads(as_json.stdout)  # exactly one document on stdout
    assert doc["ok"] is False
    by_name = {c["connection"]: c for c in doc["connections"]}
    assert list(by_name) == ["main", "gone", "pg"]
    assert by_name["gone"]["ok"] is False and by_name["gone"]["error"].startswith("cannot connect to postgresql://")
    assert by_name["gone"]["migrations"] == []
    for name in ("main", "pg"):
        assert by_name[name]["ok"] is True and by_name[name]["error"] is None
        assert [(m["id"], m["status"]) for m in by_name[name]["migrations"]] == [(mid, "applied")]


@pytest.mark.parametrize("jobs", ["1", "3"])
def test_drift_with_an_unreachable_connection_reports_the_others(make_project: Any, pg_db: ServerDb, jobs: str) -> None:
    p = gone_project(make_project, pg_db)
    pg_db.execute("ALTER TABLE users ADD COLUMN nickname VARCHAR(20)")  # drift, by hand, on pg only
    result = p.run("migrate:status", "--drift", "--all-connections", "--jobs", jobs)
    assert result.exit_code == 2  # an error wins over drift
    out = result.stdout
    assert "gone [pg postgresql://app:***@" in out and "  FAILED: cannot connect to" in out
    pg_part = out.split("\npg [pg ")[1]
    assert "users.nickname" in pg_part
    main_part = out.split("main [sqlite")[1].split("gone [pg")[0]
    assert "users.nickname" not in main_part and "applied" in main_part
    assert "error: 1 of 3 connection(s) failed" in result.stderr

    as_json = p.run("migrate:status", "--drift", "--all-connections", "--jobs", jobs, "--json")
    assert as_json.exit_code == 2
    doc = json.loads(as_json.stdout)
    assert doc["ok"] is False and doc["drift"] is True
    by_name = {c["connection"]: c for c in doc["connections"]}
    assert list(by_name) == ["main", "gone", "pg"]
    assert by_name["gone"]["error"].startswith("cannot connect to postgresql://app:***@")
    assert by_name["main"]["ok"] is True and by_name["main"]["drift"] == []
    assert {d["name"] for d in by_name["pg"]["drift"]} == {"users.nickname"}
    assert "pw123456" not in as_json.output

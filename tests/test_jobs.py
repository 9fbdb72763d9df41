"""--jobs N: a fleet of databases (one per tenant or shard) migrated N at a time.
Each connection is worked on in its own thread with its own session; output
lines stay whole and name their connection; one connection's failure does not
stop the others (unless --fail-fast); the summary lists every connection."""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

MODELS = """
class Tenant(Model):
    table = "tenants"
    schema = {"id": column("increments"), "name": column("string", 100)}
"""

# a plugin that records when each connection's migration starts and ends
TIMELINE = """
import json, threading, time
from pathlib import Path

from modelmig_core.api import hookimpl

LOG = Path(__file__).with_name("timeline.jsonl")
LOCK = threading.Lock()


@hookimpl(wrapper=True)
def apply(session, migration):
    start = time.monotonic()
    time.sleep(0.3)  # long enough for migrations of other connections to overlap when they may
    result = yield
    with LOCK, LOG.open("a") as f:
        f.write(json.dumps([session.url, start, time.monotonic()]) + "\\n")
    return result
"""


def fleet(make_project: Any, count: int, plugin: bool = False) -> Any:
    sys.modules.pop("timeline", None)
    conns = {f"t{i}": {"url": f"sqlite:///tenant{i}.sqlite3"} for i in range(count)}
    p = make_project(conns, extra_config='default = "t0"' + ('\nplugins = ["timeline"]' if plugin else ""))
    if plugin:
        (p.root / "timeline.py").write_text(TIMELINE)
    p.models(MODELS)
    p.ok("make:migration")
    return p


def overlaps(p: Any) -> int:
    spans = [json.loads(line)[1:] for line in (p.root / "timeline.jsonl").read_text().splitlines()]
    (p.root / "timeline.jsonl").unlink()
    return sum(1 for i, a in enumerate(spans) for b in spans[i + 1 :] if a[0] < b[1] and b[0] < a[1])


def test_jobs_work_on_several_connections_at_once(make_project: Any) -> None:
    p = fleet(make_project, 6, plugin=True)
    result = p.ok("migrate:run", "--all-connections", "--jobs", "4")
    assert overlaps(p) > 0  # migrations of different connections ran at the same time
    lines = result.output.splitlines()
    for line in lines:  # every line whole, and each progress line names its connection
        assert re.match(r"^(t\d: |summary:|  t\d \[sqlite )", line), line
    for i in range(6):
        assert f"t{i}: applied 20260101000000_create_tenants_table (" in result.output
    summary = lines[lines.index("summary:") + 1 :]
    assert [s.split()[0] for s in summary] == [f"t{i}" for i in range(6)]  # in the configured order
    status = json.loads(p.ok("migrate:status", "--all-connections", "--jobs", "3", "--json").output)
    assert [c["connection"] for c in status["connections"]] == [f"t{i}" for i in range(6)]
    assert {m["status"] for c in status["connections"] for m in c["migrations"]} == {"applied"}


def test_one_job_works_on_one_connection_at_a_time(make_project: Any) -> None:
    p = fleet(make_project, 3, plugin=True)
    p.ok("migrate:run", "--all-connections")
    assert overlaps(p) == 0


def break_tenant(p: Any, i: int) -> None:
    import sqlite3

    db = sqlite3.connect(p.root / f"tenant{i}.sqlite3")
    db.execute("CREATE TABLE tenants (id INTEGER)")  # the migration's CREATE TABLE fails there
    db.close()


def test_a_failure_does_not_stop_the_others(make_project: Any) -> None:
    p = fleet(make_project, 5)
    break_tenant(p, 1)
    result = p.run("migrate:run", "--all-connections", "--jobs", "3", "--json")
    assert result.exit_code != 0
    doc = json.loads(result.stdout)
    by_name = {c["connection"]: c for c in doc["connections"]}
    assert by_name["t1"]["error"] and "already exists" in by_name["t1"]["error"]
    assert all(by_name[f"t{i}"]["error"] is None and by_name[f"t{i}"]["applied"] for i in (0, 2, 3, 4))
    assert "1 of 5 connection(s) failed" in result.stderr


def test_fail_fast_starts_no_more_after_a_failure(make_project: Any) -> None:
    p = fleet(make_project, 4)
    break_tenant(p, 0)
    result = p.run("migrate:run", "--all-connections", "--fail-fast")
    assert result.exit_code != 0
    assert "t0 [sqlite" in result.output and "FAILED" in result.output
    assert result.output.count("not started (--fail-fast after a failure)") == 3
    statuses = json.loads(p.ok("migrate:status", "--all-connections", "--json").output)
    assert {m["status"] for c in statuses["connections"] for m in c["migrations"]} == {"pending"}


def test_fail_fast_with_jobs_starts_no_more_after_a_failure(make_project: Any) -> None:
    """--jobs 2: t0 fails at once (its file is no database) while t1 is still at
    work (the timeline plugin holds each migration 0.3 s): t1 finishes, no more
    connection is started."""
    p = fleet(make_project, 5, plugin=True)
    (p.root / "tenant0.sqlite3").write_bytes(b"not a database" * 100)
    result = p.run("migrate:run", "--all-connections", "--jobs", "2", "--fail-fast", "--json")
    assert result.exit_code != 0
    by_name = {c["connection"]: c for c in json.loads(result.stdout)["connections"]}
    assert by_name["t0"]["error"] and "not started" not in by_name["t0"]["error"]
    assert by_name["t1"]["error"] is None and len(by_name["t1"]["applied"]) == 1
    assert [by_name[f"t{i}"]["error"] for i in (2, 3, 4)] == ["not started (--fail-fast after a failure)"] * 3
    assert "4 of 5 connection(s) failed" in result.stderr
    for i in (2, 3, 4):
        assert not (p.root / f"tenant{i}.sqlite3").exists()  # never even connected to


def test_jobs_must_be_positive(make_project: Any) -> None:
    p = fleet(make_project, 2)
    result = p.run("migrate:run", "--all-connections", "--jobs", "0")
    assert result.exit_code != 0 and "--jobs" in result.output


def test_a_fleet_replays_the_chain_once_and_renders_each_migration_once(make_project: Any, monkeypatch: Any) -> None:
    """Databases alike (one driver, configured alike, the same live facts) share the
    replayed chain and the rendered statements: the work per database is the
    server's. Each still gets every statement."""
    import sqlite3

    from modelmig_core.history import replay as history
    from modelmig_core.sql.render import Renderer

    monkeypatch.setenv("MODELMIG_JOBS_MODE", "threads")  # counted in this process (workers would count apart)
    p = fleet(make_project, 4)
    loads: list[str] = []
    renders: list[str] = []
    real_load, real_render = history.load, Renderer.statements
    monkeypatch.setattr(history, "load", lambda f: loads.append(f.id) or real_load(f))

    def render(self: Renderer, step: Any, facts: Any = None) -> list[str]:
        renders.append(type(step.op).__name__)
        return real_render(self, step, facts)

    monkeypatch.setattr(Renderer, "statements", render)
    p.ok("migrate:run", "--all-connections", "--jobs", "2")
    assert len(loads) == 1  # one migration file, loaded once for four databases
    assert renders == ["CreateTable"]  # rendered once
    for i in range(4):
        db = sqlite3.connect(p.root / f"tenant{i}.sqlite3")
        assert db.execute("SELECT name FROM sqlite_master WHERE name = 'tenants'").fetchall() == [("tenants",)]
        db.close()


def test_a_database_whose_live_facts_differ_gets_its_own_rendering(make_project: Any) -> None:
    """t1 has an index made by hand, which SQLite's table rebuild must keep: its
    statements are not t0's."""
    import sqlite3

    p = fleet(make_project, 2)
    p.ok("migrate:run", "--all-connections")
    db = sqlite3.connect(p.root / "tenant1.sqlite3")
    db.execute("CREATE INDEX ix_by_hand ON tenants (name)")
    db.commit()
    db.close()
    p.models(MODELS.replace('column("string", 100)', 'column("string", 200)'))  # a rebuild on SQLite
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    p.ok("migrate:run", "--all-connections", "--jobs", "2")
    indexes = {}
    for i in range(2):
        db = sqlite3.connect(p.root / f"tenant{i}.sqlite3")
        indexes[i] = db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'ix_by_hand'"
        ).fetchall()
        db.close()
    assert indexes == {0: [], 1: [("ix_by_hand",)]}


SERVER_MODELS = """
class Tenant(Model):
    table = "tenants"
    schema = {
        "id": column("increments"),
        "name": column("string", 100),
        "status": column("enum", ["new", "active"], default="new"),
        "created_at": column("timestamp", use_tz=True),
    }
    database = {"indexes": [index("name")]}


class Note(Model):
    table = "notes"
    schema = {
        "id": column("increments"),
        "tenant_id": column("integer"),
        "body": column("text", nullable=True),
    }
    database = {"foreign_keys": [foreign_key("tenant_id", "tenants", "id")]}
"""


#: rounds of the fresh-process race test: nox -s fuzz runs twenty
ROUNDS = 20 if os.environ.get("MODELMIG_HYPOTHESIS_PROFILE", "ci") == "fuzz" else 5


def test_jobs_over_sqlite_pg_and_mariadb_succeed_round_after_round(
    make_project: Any, pg_db: Any, mysql_db: Any
) -> None:
    """Each round is a new process (nothing imported yet), three connections of
    three drivers applied in three threads at once: whatever a thread needs is
    imported before the threads start (SQLAlchemy's lazy imports raced: an
    ImportError on every connection). Between rounds the migrations are rolled back."""
    p = make_project(
        {"lite": {"url": "sqlite:///lite.sqlite3"}, "pg": {"url": pg_db.url}, "maria": {"url": mysql_db.url}},
        extra_config='default = "lite"',
    )
    p.models(SERVER_MODELS)
    p.ok("make:migration")
    mid = p.migration_files()[0].stem
    for round in range(ROUNDS):
        result = p.sh("migrate:run", "--all-connections", "--jobs", "3")
        assert result.returncode == 0, f"round {round}:\n{result.stdout}\n{result.stderr}"
        assert "Error" not in result.stderr, f"round {round}: {result.stderr}"
        for name in ("lite", "pg", "maria"):
            assert f"{name}: applied {mid} (" in result.stdout, f"round {round}: {result.stdout}"
        for db in (pg_db, mysql_db):
            assert db.rows("SELECT id, status FROM modelmig_migrations") == [(mid, "applied")]
            assert db.scalar("SELECT COUNT(*) FROM tenants") == 0  # the table is there, and readable
        reset = p.sh("migrate:reset", "--all-connections", "--jobs", "3", "--yes")  # rolled back in threads too
        assert reset.returncode == 0, f"round {round}:\n{reset.stdout}\n{reset.stderr}"
        for db in (pg_db, mysql_db):
            assert db.rows("SELECT id FROM modelmig_migrations") == []

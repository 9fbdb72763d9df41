"""Events: what a command does, reported as it happens through the Python API
(``modelmig_core.commands``), the same events the command line prints from."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

import pytest

from modelmig_core import commands
from modelmig_core.errors import ModelmigError
from tests.support.servers import ServerDb, hold_lock

MODELS = """
class Tenant(Model):
    table = "tenants"
    schema = {"id": column("increments"), "name": column("string", 100)}
"""


def fleet(make_project: Any, count: int = 2, **more: dict[str, str]) -> Any:
    conns = {f"t{i}": {"url": f"sqlite:///tenant{i}.sqlite3"} for i in range(count)}
    p = make_project({**conns, **more}, extra_config='default = "t0"')
    p.models(MODELS)
    p.ok("make:migration")
    return p


class Recorder:
    """A subscriber that keeps state: guarded, events arrive from several threads."""

    def __init__(self) -> None:
        self.events: list[commands.Event] = []
        self.lock = threading.Lock()

    def __call__(self, event: commands.Event) -> None:
        with self.lock:
            self.events.append(event)

    def of(self, kind: type, connection: str | None = None) -> list[Any]:
        return [e for e in self.events if isinstance(e, kind) and connection in (None, e.connection)]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_subscriber_receives_each_connections_events(make_project: Any, jobs: int) -> None:
    p = fleet(make_project)
    mid = p.migration_files()[0].stem
    seen = Recorder()
    unsubscribe = commands.subscribe(seen)
    try:
        project = commands.open_project(p.root / "pyproject.toml")
        results = commands.run(project, all_connections=True, jobs=jobs)
    finally:
        unsubscribe()
    assert [(r.connection, r.count, r.chain) for r in results] == [("t0", 1, "sql"), ("t1", 1, "sql")]
    for name in ("t0", "t1"):
        mine = [e for e in seen.events if e.connection == name]
        assert [type(e) for e in mine] == [
            commands.ConnectionStarted,
            commands.MigrationStarted,
            commands.MigrationApplied,
            commands.ConnectionFinished,
        ]
        started, applied, finished = mine[1], mine[2], mine[3]
        assert (started.migration, started.direction, started.text) == (mid, "up", f"{name}: applying {mid}")
        assert (applied.migration, applied.direction) == (mid, "up") and applied.duration_ms >= 1
        assert applied.text == f"{name}: applied {mid} ({applied.duration_ms} ms)"
        assert finished.error is None and finished.started is True
        assert mine[0].driver == "sqlite"
        assert {e.chain for e in mine} == {"sql"}  # no [chains]: the default chain, named by its family
        # the lines the command returns are the events' lines
        assert next(r for r in results if r.connection == name).lines == [e.text for e in mine if e.text]

    # unsubscribed: a later command reaches only its own on_event
    mine_only = Recorder()
    commands.rollback(project, all_connections=True, yes=True, on_event=mine_only)
    assert len(seen.of(commands.MigrationApplied)) == 2
    downs = mine_only.of(commands.MigrationApplied)
    assert sorted((e.connection, e.migration, e.direction) for e in downs) == [("t0", mid, "down"), ("t1", mid, "down")]
    warned = mine_only.of(commands.Warned, "t0")  # rolling back a create table drops its rows
    assert warned and "drops data" in warned[0].message and warned[0].text == f"warning: {warned[0].message}"

    nothing = Recorder()
    commands.rollback(project, all_connections=True, on_event=nothing)
    assert [e.text for e in nothing.of(commands.Progress)] == ["t0: nothing to roll back", "t1: nothing to roll back"]


def test_a_failing_migration_yields_a_failure_event(make_project: Any) -> None:
    p = fleet(make_project, 3)
    mid = p.migration_files()[0].stem
    db = sqlite3.connect(p.root / "tenant1.sqlite3")
    db.execute("CREATE TABLE tenants (id INTEGER)")  # the migration's CREATE TABLE fails there
    db.close()
    seen = Recorder()
    project = commands.open_project(p.root / "pyproject.toml")
    with pytest.raises(Exception, match="already exists"):
        commands.run(project, all_connections=True, on_event=seen)
    [failure] = seen.of(commands.MigrationFailure)
    assert (failure.connection, failure.migration, failure.direction) == ("t1", mid, "up")
    assert "already exists" in failure.error and failure.text == ""
    finished = {e.connection: e for e in seen.of(commands.ConnectionFinished)}
    assert finished["t1"].error is not None and "already exists" in finished["t1"].error
    assert isinstance(finished["t1"].exception, Exception)
    assert finished["t0"].error is None and finished["t2"].error is None  # the others still ran
    assert {e.connection for e in seen.of(commands.MigrationApplied)} == {"t0", "t2"}


def test_a_connection_that_cannot_connect_yields_a_finished_event_with_its_error(make_project: Any) -> None:
    p = fleet(make_project, 1, gone={"url": "postgresql://app:pw123456@127.0.0.1:1/x?connect_timeout=2"})
    seen = Recorder()
    project = commands.open_project(p.root / "pyproject.toml")
    with pytest.raises(ModelmigError, match="cannot connect"):
        commands.status(project, connections=["t0", "gone"], on_event=seen)
    finished = {e.connection: e for e in seen.of(commands.ConnectionFinished)}
    assert finished["t0"].error is None
    assert finished["gone"].error.startswith("cannot connect to postgresql://app:***@127.0.0.1:1/")


def test_fail_fast_through_the_api_stops_starting_connections(make_project: Any) -> None:
    p = fleet(make_project, 3)
    (p.root / "tenant0.sqlite3").write_bytes(b"not a database" * 100)
    seen = Recorder()
    project = commands.open_project(p.root / "pyproject.toml")
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error for a file that is no database
        commands.run(project, all_connections=True, fail_fast=True, on_event=seen)
    assert [e.connection for e in seen.of(commands.ConnectionStarted)] == ["t0"]
    finished = {e.connection: e for e in seen.of(commands.ConnectionFinished)}
    assert finished["t1"].started is False and finished["t1"].error == commands.NOT_STARTED
    assert finished["t2"].started is False


def test_a_lock_wait_is_an_event(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}}, extra_config="lock_timeout = 3")
    p.models(MODELS)
    p.ok("make:migration")
    seen = Recorder()
    project = commands.open_project(p.root / "pyproject.toml")
    with hold_lock(pg_db), pytest.raises(ModelmigError):
        commands.run(project, connections=["main"], on_event=seen)
    waits = seen.of(commands.LockWaiting, "main")
    assert waits and waits[0].text == f"main: waiting for the lock: {waits[0].holder}"

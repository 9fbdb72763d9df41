"""The operator's view of the MongoDB driver: a waiting runner is told who holds
the lock, an unreachable server fails within a few seconds (configurable in the
URL) with the whole reason, and a corrupt ledger document is one error line."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from conftest import Backend
from modelmig_mongo.driver import CONNECT_TIMEOUT_MS, LOCK_ID, client_options, driver, utcnow
from models_src import V1


def project(make_project: Any, backend: Backend, extra: str = "") -> Any:
    return make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "docs": {"url": backend.url}},
        extra_config='default = "main"' + extra,
    )


def test_a_waiting_runner_is_told_who_holds_the_lock(mock_backend: Backend) -> None:
    backend = mock_backend  # driver logic: mongomock (no MongoDB server here)
    backend.db["modelmig_lock"].insert_one(
        {
            "_id": LOCK_ID,
            "owner": "busy-host:42:abc",
            "acquired_at": utcnow(),
            "expires_at": utcnow() + timedelta(seconds=60),
        }
    )
    timer = threading.Timer(1.6, lambda: backend.db["modelmig_lock"].delete_one({"owner": "busy-host:42:abc"}))
    notices: list[str] = []
    session = driver.connect(backend.url)
    timer.start()
    try:
        session.lock(20, on_wait=notices.append)
        session.unlock()
    finally:
        timer.join()
        session.close()
    assert len(notices) == 1
    assert notices[0].startswith("runner busy-host:42:abc holds the migration lock (since ")
    assert "unless renewed)" in notices[0]


def test_the_cli_prints_the_waiting_line(make_project: Any, mock_backend: Backend) -> None:
    backend = mock_backend  # driver logic: mongomock (no MongoDB server here)
    p = project(make_project, backend, "\nlock_timeout = 20")
    p.models(V1)
    p.ok("make:migration")
    backend.db["modelmig_lock"].insert_one(
        {
            "_id": LOCK_ID,
            "owner": "busy-host:42:abc",
            "acquired_at": utcnow(),
            "expires_at": utcnow() + timedelta(seconds=60),
        }
    )
    timer = threading.Timer(1.6, lambda: backend.db["modelmig_lock"].delete_one({"owner": "busy-host:42:abc"}))
    timer.start()
    try:
        out = p.ok("migrate:run", "--mongo").stdout
    finally:
        timer.join()
    assert out.splitlines()[0].startswith(
        "docs: waiting for the lock: runner busy-host:42:abc holds the migration lock"
    )
    assert "docs: applied 20260101000000_create_activity_notes_collections (" in out


def test_the_connect_timeout_is_three_seconds_unless_the_url_says_otherwise() -> None:
    assert CONNECT_TIMEOUT_MS == 3_000
    assert client_options("mongodb://db:27017/app") == {
        "appname": "modelmig",
        "serverSelectionTimeoutMS": 3_000,
        "connectTimeoutMS": 3_000,
    }
    own = client_options("mongodb://db:27017/app?serverSelectionTimeoutMS=500&connectTimeoutMS=700")
    assert own == {"appname": "modelmig"}  # pymongo reads the URL's own values


def test_an_unreachable_server_is_one_short_line_with_host_and_cause(make_project: Any) -> None:
    url = "mongodb://app:s3cret@127.0.0.1:9/app?serverSelectionTimeoutMS=300"
    p = make_project({"docs": {"url": url}})
    result = p.run("migrate:status", "--mongo")
    assert result.exit_code != 0
    [line] = [x for x in result.stderr.splitlines() if x.strip()]
    assert line == (
        "error: mongodb://app:***@127.0.0.1:9/app?serverSelectionTimeoutMS=300: reading the ledger: "
        "no MongoDB server answered: 127.0.0.1:9: [Errno 111] Connection refused"
    )
    assert "Topology" not in result.output and "configured timeouts" not in result.output  # no selection dump
    assert "s3cret" not in result.output


def test_a_corrupt_ledger_document_is_one_error_line(make_project: Any, mock_backend: Backend) -> None:
    backend = mock_backend  # driver logic: mongomock (no MongoDB server here)
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    p.ok("migrate:run", "--mongo")
    backend.db["modelmig_migrations"].update_many({}, {"$set": {"batch": "abc"}})
    result = p.run("migrate:status", "--mongo")
    assert result.exit_code != 0
    assert result.stderr.strip() == (
        "error: the ledger collection modelmig_migrations has a corrupt row for "
        "'20260101000000_create_activity_notes_collections': batch is 'abc', not a number; fix or delete that row"
    )

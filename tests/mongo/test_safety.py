"""One runner at a time (the lock document), interrupted migrations, the
production guard, which connections a command touches, and model errors."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from datetime import timedelta
from typing import Any

import pytest
from conftest import Backend
from modelmig_mongo.driver import LOCK_ID, MongoSession, driver, utcnow
from models_src import V1

from modelmig_core.errors import LockError

M1 = "20260101000000_create_activity_notes_collections"


def project(make_project: Any, backend: Backend, extra: str = "") -> Any:
    return make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "docs": {"url": backend.url}},
        extra_config='default = "main"' + extra,
    )


def connect(backend: Backend) -> MongoSession:
    conn = driver.connect(backend.url)
    assert conn is not None
    return conn


def statuses(p: Any) -> dict[str, str]:
    out = json.loads(p.ok("migrate:status", "--mongo", "--json").output)
    return {m["id"]: m["status"] for m in out["connections"][0]["migrations"]}


def error_line(result: Any) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.output
    return lines[0]


# ---------------------------------------------------------------- the lock


def test_a_held_lock_blocks_a_second_runner_until_released(backend: Backend) -> None:
    first, second = connect(backend), connect(backend)
    try:
        first.lock(1)
        started = time.monotonic()
        with pytest.raises(LockError, match="another runner holds the migration lock") as err:
            second.lock(0.3)
        assert time.monotonic() - started >= 0.3
        assert first.lock_owner in str(err.value)
        first.unlock()
        second.lock(0.3)
        second.unlock()
        assert backend.db["modelmig_lock"].count_documents({}) == 0
    finally:
        first.close()
        second.close()


def test_two_runners_never_hold_the_lock_at_once(backend: Backend) -> None:
    inside: list[int] = []
    overlaps: list[bool] = []

    def runner(n: int) -> None:
        conn = connect(backend)
        try:
            for _ in range(3):
                conn.lock(10)
                overlaps.append(bool(inside))
                inside.append(n)
                time.sleep(0.02)
                inside.remove(n)
                conn.unlock()
        finally:
            conn.close()

    threads = [threading.Thread(target=runner, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(overlaps) == 9 and not any(overlaps)


def test_a_crashed_runners_lock_expires_and_is_taken_over(backend: Backend) -> None:
    past = utcnow() - timedelta(seconds=5)
    backend.db["modelmig_lock"].insert_one(
        {"_id": LOCK_ID, "owner": "crashed:1", "acquired_at": past, "expires_at": past}
    )
    conn = connect(backend)
    try:
        conn.lock(0.5)
        doc = backend.db["modelmig_lock"].find_one({"_id": LOCK_ID})
        assert doc["owner"] == conn.lock_owner and doc["expires_at"] > utcnow()
        conn.unlock()
    finally:
        conn.close()


def test_the_lock_is_renewed_while_held_and_a_lost_lock_stops_the_runner(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(driver, "lock_ttl", 1.0)
    monkeypatch.setattr(driver, "lock_renew_every", 0.05)
    conn = connect(backend)
    try:
        conn.lock(1)
        first = backend.db["modelmig_lock"].find_one({"_id": LOCK_ID})["expires_at"]
        time.sleep(0.3)
        assert backend.db["modelmig_lock"].find_one({"_id": LOCK_ID})["expires_at"] > first
        # another runner took it over (say this one was paused past the expiry)
        backend.db["modelmig_lock"].update_one({"_id": LOCK_ID}, {"$set": {"owner": "someone-else"}})
        time.sleep(0.2)
        assert conn.lock_lost
        with pytest.raises(LockError, match="expired and was taken by another runner"):
            conn.renew_now()
        conn.unlock()
        assert backend.db["modelmig_lock"].find_one({"_id": LOCK_ID})["owner"] == "someone-else"
    finally:
        conn.close()


def test_cli_reports_a_held_lock_in_one_line(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend, "\nlock_timeout = 0.2")
    p.models(V1)
    p.ok("make:migration")
    future = utcnow() + timedelta(seconds=60)
    backend.db["modelmig_lock"].insert_one(
        {"_id": LOCK_ID, "owner": "busy-host:42:abc", "acquired_at": utcnow(), "expires_at": future}
    )
    result = p.run("migrate:run", "--mongo")
    assert result.exit_code == 3
    assert "another runner holds the migration lock (busy-host:42:abc" in error_line(result)
    assert statuses(p) == {M1: "pending"}
    assert "activity" not in backend.collections()


# ---------------------------------------------------------------- interrupted migrations


def test_a_failure_halfway_is_reported_and_blocks_until_resolved(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    backend.fail_on = lambda c: c.method == "create_index" and c.kwargs.get("name") == "ttl_activity_created"
    result = p.run("migrate:run", "--mongo")
    assert result.exit_code != 0
    line = error_line(result)
    assert f"{M1}.py: createIndexes activity: injected failure" in line
    assert (
        f"command 3 of 5 was sent and may or may not have completed, the 2 before it completed; "
        f"{M1} stays marked as interrupted" in line
    )
    (row,) = backend.ledger()
    assert (row["status"], row["progress"]) == ("running", 3)  # recorded as sent before it was sent
    assert statuses(p) == {M1: "interrupted"}

    backend.fail_on = None
    again = p.run("migrate:run", "--mongo")
    assert again.exit_code != 0
    assert f"migration {M1} was interrupted" in error_line(again) and "migrate:resolve" in error_line(again)
    assert p.run("migrate:rollback", "--mongo").exit_code != 0

    # the user repairs by hand (drops the half-made collection), then resolves
    backend.db.drop_collection("activity")
    p.ok("migrate:resolve", M1, "--rolled-back", "--mongo")
    assert backend.ledger() == []
    p.ok("migrate:run", "--mongo")
    assert statuses(p) == {M1: "applied"}


def test_resolve_applied_marks_it_applied(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    backend.fail_on = lambda c: c.method == "create_collection" and c.target == "notes"
    assert p.run("migrate:run", "--mongo").exit_code != 0
    backend.fail_on = None
    assert statuses(p) == {M1: "interrupted"}
    backend.db.create_collection("notes")  # the user finishes the migration by hand
    p.ok("migrate:resolve", M1, "--applied", "--mongo")
    assert statuses(p) == {M1: "applied"}


def test_a_failure_before_anything_ran_leaves_the_ledger_as_it_was(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    backend.db.create_collection("activity")  # in the way: create fails with NamespaceExists
    result = p.run("migrate:run", "--mongo")
    assert result.exit_code != 0
    assert f"{M1}.py: create activity:" in error_line(result) and "(nothing was changed)" in error_line(result)
    assert backend.ledger() == []
    assert statuses(p) == {M1: "pending"}
    backend.db.drop_collection("activity")
    p.ok("migrate:run", "--mongo")
    assert statuses(p) == {M1: "applied"}


# ---------------------------------------------------------------- production guard


PROD = {"APP_ENV": "production"}
ALLOW = {"APP_ENV": "production", "MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}


def test_production_guard_covers_mongo_like_sql(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    p.ok("migrate:run", "--mongo", env=PROD)  # creating is not destructive

    for args, env in [
        (("migrate:reset", "--mongo", "--yes"), PROD),
        (("migrate:reset", "--mongo", "--yes", "--force"), PROD),
        (("migrate:reset", "--mongo", "--yes"), ALLOW),
        (("migrate:fresh", "--mongo", "--yes", "--force"), PROD),
        (("migrate:rollback", "--mongo"), PROD),  # down drops the collections
        (("migrate:rollback", "--mongo", "--step", "1", "--yes"), ALLOW),
    ]:
        result = p.run(*args, env=env)
        assert result.exit_code != 0, args
        assert "refused" in error_line(result) and "APP_ENV=production" in error_line(result), args
        assert statuses(p) == {M1: "applied"}, args
        assert {"activity", "notes"} <= backend.collections(), args

    p.ok("migrate:rollback", "--mongo", "--force", "--yes", env=ALLOW)
    assert statuses(p) == {M1: "pending"}
    p.ok("migrate:run", "--mongo", env=PROD)
    p.ok("migrate:fresh", "--mongo", "--force", "--yes", env=ALLOW)
    p.ok("migrate:reset", "--mongo", "--force", "--yes", env=ALLOW)
    assert statuses(p) == {M1: "pending"}


def test_reset_and_fresh_need_confirmation_outside_production(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    p.ok("migrate:run", "--mongo")
    for command in ("migrate:reset", "migrate:fresh"):
        result = p.run(command, "--mongo")
        assert result.exit_code != 0 and "pass --yes" in error_line(result)
    assert statuses(p) == {M1: "applied"}


# ---------------------------------------------------------------- which connections


def test_all_connections_and_the_default_never_touch_mongo(make_project: Any, backend: Backend) -> None:
    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    out = p.ok("migrate:run", "--all-connections").output
    assert "main: applied 20260101000000_create_users_table" in out
    report = json.loads(p.ok("migrate:status", "--all-connections", "--json").output)
    assert [c["connection"] for c in report["connections"]] == ["main"]
    p.ok("migrate:run")
    p.ok("migrate:rollback", "--all-connections")
    p.ok("migrate:reset", "--all-connections", "--yes")
    p.ok("migrate:fresh", "--all-connections", "--yes")
    assert backend.opened == 0
    assert backend.collections() == set()
    # both, when asked for both
    out = p.ok("migrate:run", "--sqlite", "--mongo").output
    assert f"docs: applied {M1}" in out and backend.opened == 1


def test_mongo_flag_without_a_mongo_connection_is_a_clear_error(make_project: Any) -> None:
    p = make_project()
    p.models(V1)
    result = p.run("migrate:run", "--mongo")
    assert result.exit_code != 0
    assert error_line(result).endswith("--mongo given but no mongo connection is configured")


def test_all_connections_with_only_mongo_is_a_clear_error(make_project: Any, backend: Backend) -> None:
    p = make_project({"docs": {"url": backend.url}})
    result = p.run("migrate:status", "--all-connections")
    assert result.exit_code != 0
    assert "--all-connections found no connection whose driver declares the sql feature" in error_line(result)
    assert backend.opened == 0


# ---------------------------------------------------------------- model errors


BAD_MODELS = {
    "fk": (
        """
class Activity(Model):
    table = "activity"
    store = "mongo"
    schema = {"user_id": column("integer")}
    database = {"foreign_keys": [foreign_key("user_id", "users", "id")]}
""",
        "models.py: model Activity: foreign key has no MongoDB meaning (store = 'mongo')",
    ),
    "index": (
        """
class Activity(Model):
    table = "activity"
    store = "mongo"
    schema = {"user_id": column("integer")}
    database = {"indexes": [index("created_at", name="ix_created")]}
""",
        "models.py: model Activity, field 'created_at': index ix_created names a field the schema does not declare",
    ),
    "type": (
        """
class Activity(Model):
    table = "activity"
    store = "mongo"
    schema = {"where": column("geoPoint")}
""",
        "models.py: model Activity, field 'where': unknown column type 'geoPoint'",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MODELS))
def test_model_errors_are_one_line_non_zero_and_write_nothing(make_project: Any, backend: Backend, case: str) -> None:
    source, message = BAD_MODELS[case]
    p = project(make_project, backend)
    p.models(source)
    for args in (("make:migration",), ("make:migration", "--check")):
        result = p.run(*args)
        assert result.exit_code != 0
        assert result.output.count("\n") == 1 and message in error_line(result)
        assert "Traceback" not in result.output
    assert not (p.root / "migrations").exists()
    assert backend.opened == 0
    sub = p.sh("make:migration")  # the installed command, in a subprocess
    assert sub.returncode != 0 and message in sub.stderr and sub.stderr.count("\n") == 1


# ---------------------------------------------------------------- connecting


def test_loading_the_driver_imports_no_pymongo() -> None:
    code = (
        "import sys; from modelmig_core.registry import Registry; d = Registry().driver('mongo'); "
        "print(d.info.family, d.info.schemes, d.features.sql, 'pymongo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["document", "('mongodb',", "'mongodb+srv')", "False", "False"]


def test_a_url_without_a_database_is_a_clear_error(make_project: Any) -> None:
    p = make_project({"docs": {"url": "mongodb://127.0.0.1:27017"}})
    result = p.run("migrate:status", "--mongo")
    assert result.exit_code != 0
    assert "the URL names no database; write mongodb://host:27017/<database>" in error_line(result)


def test_an_unreachable_server_is_one_line_without_the_password(make_project: Any) -> None:
    url = "mongodb://app:s3cret@127.0.0.1:9/app?serverSelectionTimeoutMS=200&connectTimeoutMS=200"
    p = make_project({"docs": {"url": url}})
    result = p.run("migrate:status", "--mongo")
    assert result.exit_code != 0
    line = error_line(result)
    assert line.startswith("error: mongodb://app:***@127.0.0.1:9/app") and "reading the ledger" in line
    assert "s3cret" not in result.output


def test_concurrent_runners_apply_each_migration_once(make_project: Any, backend: Backend) -> None:
    """Four runners at once on one database: one batch, each command sent once."""
    from modelmig_core.config import load_config
    from modelmig_core.registry import Registry
    from modelmig_core.run.runner import Runner
    from modelmig_core.targets import select_targets

    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    config = load_config(p.root / "pyproject.toml")
    plugins = Registry()
    (target,) = select_targets(config, plugins, drivers=["mongo"])
    counts: list[int] = []
    errors: list[BaseException] = []
    backend.fail_on = lambda call: time.sleep(0.05) or False  # slow commands: the runners overlap

    def run() -> None:
        try:
            with Runner(config, plugins, target, lambda _line: None) as runner:
                counts.append(runner.run())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == [] and sorted(counts) == [0, 0, 0, 1]
    assert [(r["_id"], r["batch"], r["status"]) for r in backend.ledger()] == [(M1, 1, "applied")]
    creates = [c.target for c in backend.calls if c.method == "create_collection"]
    assert creates == ["activity", "notes"]


def test_production_backup_holds_every_document_before_the_drop(make_project: Any, backend: Backend) -> None:
    from bson import json_util

    p = project(make_project, backend)
    p.models(V1)
    p.ok("make:migration")
    p.ok("migrate:run", "--mongo")
    docs = [
        {"user_id": 1, "kind": "login", "detail": "multi\nline", "created_at": utcnow()},
        {"user_id": 2, "kind": "post", "detail": None, "created_at": utcnow()},
    ]
    backend.db["activity"].insert_many(docs)
    result = p.ok("migrate:fresh", "--mongo", "--force", "--yes", env=ALLOW)
    assert "backed up and verified" in result.output
    [folder] = (p.root / "modelmig-backups").iterdir()
    saved = [json_util.loads(line) for line in (folder / "activity.jsonl").read_text().splitlines()]
    assert [(d["user_id"], d["kind"], d["detail"]) for d in saved] == [(1, "login", "multi\nline"), (2, "post", None)]
    assert {d["_id"] for d in saved} == {d["_id"] for d in docs}
    assert "ttl_activity_created" in json_util.loads((folder / "_collections.json").read_text())["activity"]["indexes"]
    assert backend.db["activity"].count_documents({}) == 0  # fresh dropped them; the backup has them

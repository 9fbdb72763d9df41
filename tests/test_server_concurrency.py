"""Eight ``migrate:run`` processes at once on one PostgreSQL database and on one
MariaDB database: every migration is applied exactly once, the ledger is
consistent, and every process exits 0 or with the clear "another runner"
message. Also: the lock's timeout message, and an ``atomic = False`` migration
(``CREATE INDEX CONCURRENTLY``) under the lock while other runners wait.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import ServerDb, hold_lock

RUNNERS = 8

MODELS = """
class User(Model):
    table = "users"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "created_at": column("timestamp", use_tz=True),
    }

class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "user_id": column("integer"), "title": column("string", 200)}
    database = {"foreign_keys": [foreign_key("user_id", "users", "id", name="fk_posts_user")]}
"""

MORE = """
class Tag(Model):
    table = "tags"
    schema = {"id": column("increments"), "label": column("string", 50, unique=True)}
"""

SLEEP = {"pg": "SELECT pg_sleep(2)", "mysql": "SELECT SLEEP(2)"}  # longer than a waiter's 1s


def modelmig_exe() -> str:
    return str(Path(sys.executable).parent / "modelmig")


def start_all(root: Path, args: list[str], n: int = RUNNERS) -> list[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return [
        subprocess.Popen(
            [modelmig_exe(), *args], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(n)
    ]


def finish(procs: list[subprocess.Popen[str]], timeout: float = 120) -> list[tuple[int, str, str]]:
    out = []
    deadline = time.monotonic() + timeout
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
        out.append((proc.returncode, stdout, stderr))
    return out


def chain(make_project: Any, db: ServerDb, extra_config: str = "", slow: bool = False) -> Any:
    """Three migrations; with ``slow`` the second one sleeps two seconds in the database."""
    p = make_project({"main": {"url": db.url}}, extra_config=extra_config)
    p.models(MODELS)
    p.ok("make:migration", "--name", "create_users_posts")
    p.models(MODELS + MORE)
    p.ok("make:migration", "--name", "create_tags", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    if slow:
        path = p.migration_files()[-1]
        source = path.read_text().replace("up = [\n", f"up = [\n    op.RunSQL({SLEEP[db.driver]!r}, 'SELECT 1'),\n", 1)
        path.write_text(source)
    p.models(MODELS + MORE.replace('"label": column("string", 50, unique=True)', '"label": column("string", 80)'))
    p.ok("make:migration", "--name", "widen_tags", env={"MODELMIG_NOW": "2026-01-03T00:00:00"})
    return p


def check_runs(db: ServerDb, p: Any, results: list[tuple[int, str, str]], expect_all_ok: bool) -> dict[str, int]:
    ids = [f.stem for f in p.migration_files()]
    applied_lines: dict[str, int] = dict.fromkeys(ids, 0)
    codes = {"ok": 0, "locked": 0}
    for code, stdout, stderr in results:
        assert "Traceback" not in stdout + stderr
        if code == 0:
            codes["ok"] += 1
        else:
            assert code == 3, f"exit {code}: {stdout}{stderr}"
            assert "another runner holds the migration lock" in stderr, stderr
            assert len(stderr.strip().splitlines()) == 1  # one clear line
            codes["locked"] += 1
        for mid in ids:
            applied_lines[mid] += stdout.count(f"main: applied {mid} (")
    assert applied_lines == dict.fromkeys(ids, 1), applied_lines  # each migration applied by exactly one process
    ledger = db.rows("SELECT id, status, batch FROM modelmig_migrations ORDER BY id")
    assert [r[0] for r in ledger] == ids
    assert {r[1] for r in ledger} == {"applied"}
    if expect_all_ok:
        assert codes == {"ok": RUNNERS, "locked": 0}
    return codes


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_eight_runners_at_once(make_project: Any, driver: str, request: pytest.FixtureRequest) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = chain(make_project, db)
    results = finish(start_all(p.root, ["migrate:run"]))
    check_runs(db, p, results, expect_all_ok=True)
    # the schema is complete and a ninth run has nothing to do
    assert db.scalar("SELECT COUNT(*) FROM tags") == 0
    assert "nothing to migrate" in p.ok("migrate:run").output
    # every applied migration is in one batch: only one process did the work
    assert {r[0] for r in db.rows("SELECT batch FROM modelmig_migrations")} == {1}


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_eight_runners_with_short_lock_timeout(make_project: Any, driver: str, request: pytest.FixtureRequest) -> None:
    """A slow migration and a half-second lock timeout: the waiting runners give up
    with the clear message; the work is still done exactly once."""
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = chain(make_project, db, extra_config="lock_timeout = 0.5", slow=True)
    results = finish(start_all(p.root, ["migrate:run"]))
    codes = check_runs(db, p, results, expect_all_ok=False)
    assert codes["ok"] >= 1 and codes["locked"] >= 1, codes


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_lock_held_elsewhere_times_out_with_clear_message(
    make_project: Any, driver: str, request: pytest.FixtureRequest
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}}, extra_config="lock_timeout = 1")
    p.models(MODELS)
    p.ok("make:migration")
    holder = hold_lock(db)
    try:
        started = time.monotonic()
        result = p.sh("migrate:run")
        waited = time.monotonic() - started
    finally:
        holder.close()
    assert result.returncode == 3
    assert result.stderr.startswith(f"error: another runner holds the migration lock on {db.name}")
    assert waited < 10
    assert p.sh("migrate:run").returncode == 0  # free again once the holder is gone


NON_ATOMIC = '''"""An index built without locking writers: outside a transaction."""

from modelmig_core import operations as op

id = "20260105000000_index_posts_title_concurrently"
family = "sql"
parent = {parent!r}
atomic = False

up = [
    op.RunSQL("CREATE INDEX CONCURRENTLY ix_posts_title ON posts (title)", "DROP INDEX CONCURRENTLY ix_posts_title"),
]

down = [
    op.RunSQL("DROP INDEX CONCURRENTLY ix_posts_title", "CREATE INDEX CONCURRENTLY ix_posts_title ON posts (title)"),
]
'''


def test_pg_non_atomic_concurrent_index_under_the_lock(make_project: Any, pg_db: ServerDb) -> None:
    """``atomic = False`` runs CREATE INDEX CONCURRENTLY (impossible in a transaction)
    under the advisory lock, while seven other runners wait for that lock: no hang."""
    p = make_project({"main": {"url": pg_db.url}})
    p.models(MODELS)
    p.ok("make:migration", "--name", "create_users_posts")
    parent = p.migration_files()[0].stem
    (p.root / "migrations" / "sql" / "20260105000000_index_posts_title_concurrently.py").write_text(
        NON_ATOMIC.format(parent=parent)
    )
    results = finish(start_all(p.root, ["migrate:run"]), timeout=60)
    assert all(code == 0 for code, _, _ in results), [r for r in results if r[0] != 0]
    assert sum(out.count("applied 20260105000000_index_posts_title_concurrently") for _, out, _ in results) == 1
    assert pg_db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_posts_title'::regclass") is True
    assert pg_db.rows("SELECT status FROM modelmig_migrations WHERE id LIKE '20260105%'") == [("applied",)]

    p.ok("migrate:rollback", "--step", "1")
    assert pg_db.scalar("SELECT to_regclass('ix_posts_title')") is None
    assert pg_db.rows("SELECT id FROM modelmig_migrations") == [(parent,)]


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_runners_released_at_one_instant_on_a_database_without_ledger(
    make_project: Any, driver: str, request: pytest.FixtureRequest
) -> None:
    """Eight runners in threads, released by a barrier at the same instant on a
    database that has no ledger yet. The ledger is created under the lock:
    concurrent CREATE TABLE IF NOT EXISTS collide on PostgreSQL (UniqueViolation)."""
    import threading

    from modelmig_core.app import open_app
    from modelmig_core.run.runner import Runner
    from modelmig_core.targets import select_targets

    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    cwd = os.getcwd()
    config, plugins = open_app(p.root / "pyproject.toml")
    os.chdir(cwd)
    [target] = select_targets(config, plugins)
    barrier = threading.Barrier(RUNNERS)
    applied: list[int] = []
    errors: list[str] = []

    def runner() -> None:
        with Runner(config, plugins, target, lambda line: None) as r:
            barrier.wait()
            try:
                applied.append(r.run())
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=runner) for _ in range(RUNNERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(applied) == [0] * (RUNNERS - 1) + [1]
    assert db.scalar("SELECT COUNT(*) FROM modelmig_migrations") == 1

"""docs/deploying-to-a-busy-database.md is executed on PostgreSQL: its config,
its models before and after, the online plan it prints (exactly what --pretend
prints), the retry and repair lines it quotes (produced by a held lock and by a
killed runner), the refusal it quotes and the migration that acknowledges it,
the rollback refusal and its acknowledgement; and on MariaDB: the plan it prints,
the retry line it quotes (a metadata lock held by an open transaction) and the
line of a statement that completed unrecorded (a runner killed just after it)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import tomllib
from pathlib import Path
from typing import Any

import psycopg

from tests.support.servers import ServerDb
from tests.test_online import backend_waiting, pretend_sql

DOC = Path(__file__).resolve().parent.parent / "docs" / "deploying-to-a-busy-database.md"
LATER = {"MODELMIG_NOW": "2026-01-02T00:00:00"}


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```$", DOC.read_text(), re.MULTILINE | re.DOTALL)


def guide_project(make_project: Any, db: ServerDb) -> Any:
    [config] = blocks("toml")
    conn = tomllib.loads(config)["tool"]["modelmig"]["connections"]["main"]
    assert conn.pop("url").startswith("postgresql://")
    p = make_project({"main": {"url": db.url, **conn}})
    before, after = (b for b in blocks("python") if b.startswith("# models.py"))
    p.models(before)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    db.execute(
        "INSERT INTO items (id, code, note, price) SELECT i, 'c' || i, 'n' || i, i FROM generate_series(1, 500) AS i"
    )
    p.models(after)
    p.ok("make:migration", "--name", "items", env=LATER)
    return p


def test_the_guides_plan_is_what_pretend_prints_and_it_runs(make_project: Any, pg_db: ServerDb) -> None:
    p = guide_project(make_project, pg_db)
    [plan] = [b for b in blocks("sql") if b.startswith("SET lock_timeout")]
    assert pretend_sql(p, "migrate:run") == plan
    # the file wins: online = False plans the default way
    [flag] = [b for b in blocks("python") if b.startswith("online = False")]
    path = p.migration_files()[-1]
    source = path.read_text()
    path.write_text(source + "\n" + flag)
    assert "CONCURRENTLY" not in pretend_sql(p, "migrate:run")
    path.write_text(source)
    # a lock held past lock_timeout (2s): the retry line the guide quotes, then the run completes
    retry = blocks("text")[0]
    holder = psycopg.connect(pg_db.url)
    holder.execute("LOCK TABLE items IN ACCESS SHARE MODE")
    release = threading.Timer(2.6, holder.rollback)
    release.start()
    try:
        done = p.ok("migrate:run")
    finally:
        release.join()
        holder.close()
    assert retry.strip() in done.output.splitlines(), done.output
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_the_guides_repair_line_after_a_killed_run(make_project: Any, pg_db: ServerDb) -> None:
    p = guide_project(make_project, pg_db)
    p.connections["main"]["lock_timeout"] = "60s"
    p.write_config()
    repair = blocks("text")[1]
    # a transaction whose snapshot is older than the build's: the build waits for it at its end, with
    # its index in the catalogue but not valid yet (the statements before it take no lock it holds)
    holder = psycopg.connect(pg_db.url)
    holder.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    holder.execute("SELECT COUNT(*) FROM modelmig_migrations")
    modelmig = str(Path(sys.executable).parent / "modelmig")
    env = {**os.environ, **LATER}
    runner = subprocess.Popen([modelmig, "migrate:run"], cwd=p.root, env=env, stdout=subprocess.DEVNULL)
    try:
        pid = backend_waiting(pg_db, "CREATE INDEX CONCURRENTLY ix_items_price")
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        pg_db.scalar(f"SELECT pg_terminate_backend({pid})")
    finally:
        if runner.poll() is None:
            runner.kill()
        holder.rollback()
        holder.close()
    assert p.run("migrate:status").stdout.count("interrupted") == 1
    done = p.ok("migrate:run")
    assert repair.strip() in done.output.splitlines(), done.output
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_the_guides_refusal_and_acknowledgement(make_project: Any, pg_db: ServerDb) -> None:
    refusal = blocks("text")[2]
    [ack] = [b for b in blocks("python") if "lint_ignore" in b and "up = " in b]
    p = make_project({"main": {"url": pg_db.url, "online": True}})
    p.models(
        'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "qty": column("integer")}\n'
    )
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    p.models(
        'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "qty": column("bigInteger")}\n'
    )
    made = p.run("make:migration", env=LATER)
    assert made.exit_code != 0
    assert made.output.startswith(refusal.strip().removesuffix("..."))
    p.ok("make:migration", "--empty", "--name", "qty_bigint", env=LATER)
    path = p.migration_files()[-1]
    up, down, ignore = ack.strip().splitlines()
    path.write_text(path.read_text().replace("up = []", up).replace("down = []", down) + "\n" + ignore + "\n")
    lint = p.run("migrate:lint")
    assert lint.exit_code == 0 and "(acknowledged: run in the Sunday window: items is small)" in lint.stdout
    p.ok("migrate:run")
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_the_guides_mariadb_plan_and_retry_line(make_project: Any, mysql_db: ServerDb) -> None:
    import sqlalchemy as sa

    [plan] = [b for b in blocks("sql") if b.startswith("SET SESSION")]
    retry = blocks("text")[4]
    p = make_project({"main": {"url": mysql_db.url, "online": True, "server": "mariadb-10.11"}})
    items = 'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "price": column("integer")}\n'
    p.models(items)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    mysql_db.execute("INSERT INTO items (price) VALUES " + ", ".join(f"({i})" for i in range(500)))
    p.models(items + '    database = {"indexes": [index(["price"], name="ix_items_price")]}\n')
    p.ok("make:migration", "--name", "items", env=LATER)
    assert pretend_sql(p, "migrate:run") == plan
    # an open transaction that has read items holds its metadata lock past lock_wait_timeout (2 s)
    engine = mysql_db.engine()
    holder = engine.connect()
    holder.execute(sa.text("SELECT COUNT(*) FROM items")).scalar()
    release = threading.Timer(2.6, holder.rollback)
    release.start()
    try:
        done = p.ok("migrate:run")
    finally:
        release.join()
        holder.close()
        engine.dispose()
    assert retry.strip() in done.output.splitlines(), done.output
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_the_guides_rollback_refusal_and_acknowledgement(make_project: Any, pg_db: ServerDb) -> None:
    down_refusal = blocks("text")[3]
    [ack] = [b for b in blocks("python") if b.startswith('lint_ignore = {"ban-drop-column"')]
    p = make_project({"main": {"url": pg_db.url, "online": True}})
    items = (
        'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "price": column("integer")'
    )
    p.models(items + "}\n")
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    p.models(items + ', "discount": column("integer", nullable=True)}\n')
    made = p.ok("make:migration", "--name", "discount", env=LATER)
    assert "(down): ban-drop-column: ALTER TABLE items DROP COLUMN discount" in made.output
    p.ok("migrate:run")
    refused = p.run("migrate:rollback")
    assert refused.exit_code != 0
    [error] = [x for x in refused.output.splitlines() if x.startswith("error:")]
    assert error.startswith(down_refusal.strip().removesuffix("...")), error
    path = p.migration_files()[-1]
    path.write_text(path.read_text() + "\n" + ack)
    p.ok("migrate:rollback", "--force")  # the file was edited after it was applied
    assert not pg_db.scalar("SELECT COUNT(*) FROM information_schema.columns WHERE column_name = 'discount'")


def test_the_guides_mariadb_line_for_a_statement_that_completed_unrecorded(
    make_project: Any, mysql_db: ServerDb
) -> None:
    line = blocks("text")[5]
    p = make_project({"main": {"url": mysql_db.url, "online": True, "server": "mariadb-10.11"}})
    items = 'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "price": column("integer")}\n'
    p.models(items)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    p.models(items + '    database = {"indexes": [index(["price"], name="ix_items_price")]}\n')
    p.ok("make:migration", "--name", "items", env=LATER)
    mid = p.migration_files()[-1].stem
    modelmig = str(Path(sys.executable).parent / "modelmig")
    env = {**os.environ, **LATER, "MODELMIG_TESTING_DIE_BEFORE_RECORDING": f"{mid}:3"}
    died = subprocess.run([modelmig, "migrate:run"], cwd=p.root, env=env, capture_output=True, timeout=120)
    assert died.returncode == -signal.SIGKILL
    done = p.ok("migrate:run")
    assert line.strip() in done.output.splitlines(), done.output
    assert p.run("migrate:status", "--drift").exit_code == 0

"""Online plans (issue 20, item 3): ``online = true`` on a connection, or
``online = True/False`` in a migration file (which wins), renders the lock-safe
forms, and the runner runs them step by step.

What is checked, against the real servers:

- squawk (squawk-cli, the outside oracle) over what ``--pretend`` prints of the
  online plans of a catalogue of thirteen changes to a table with rows, up and
  down, finds nothing from the issue's locking rules; the same changes planned
  the default way (``online = False`` in the file) fire them (the control);
  the online plan runs, and the live schema ends as the models say;
- a writer with ``lock_timeout = '200ms'`` updating rows throughout an online
  migration never times out, and does under the default plan (the control);
- an online index build interrupted mid-way (the runner killed while the build
  waits on a transaction the test holds open) leaves ``indisvalid = false``; the
  next run drops it, builds it again, and the schema ends as the models say;
- a lock not granted within ``lock_timeout`` is tried again, each retry a line;
- changes with no lock-safe form are refused at make time, naming them;
- the configuration and the migration file attribute are validated.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.support.servers import ServerDb
from tests.test_lint import AFTER, BEFORE, LOCKING_RULES, fill, squawk

#: thirteen changes to ``items`` that have a lock-safe form: rename a column, drop
#: an index, drop a unique constraint, add a column with a default, add a nullable
#: column, add a NOT NULL column (backfilled), DROP NOT NULL, SET NOT NULL, change a
#: default, add an index, a unique constraint, a check and a foreign key
ONLINE_AFTER = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}

class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "owner_id": column("integer"),
        "code": column("string", 20, unique=True),
        "qty": column("integer", nullable=True),
        "note": column("string", 100),
        "renamed": column("string", 20, nullable=True, renamed_from="old"),
        "label": column("string", 20, nullable=True, default="none"),
        "price": column("integer"),
        "tag": column("string", 20, nullable=True),
        "flag": column("boolean", default=False),
        "extra": column("string", 10, nullable=True),
        "due": column("date", backfill="2026-01-01"),
    }
    database = {
        "indexes": [index(["price"], name="ix_items_price")],
        "foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_items_owner")],
        "checks": [check("price >= 0", name="ck_items_price")],
    }
"""

LATER = {"MODELMIG_NOW": "2026-01-02T00:00:00"}


def online_catalogue(make_project: Any, db: ServerDb, **conn: Any) -> Any:
    p = make_project({"main": {"url": db.url, "online": True, **conn}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    fill(db)
    p.models(ONLINE_AFTER)
    made = p.ok("make:migration", "--name", "catalogue", env=LATER)
    assert "(13 operation(s))" in made.output
    assert "warning: lint:" not in made.output  # the online plan make lints has nothing to say
    return p


def pretend_sql(p: Any, *args: str) -> str:
    """What --pretend prints, less its header lines: the SQL modelmig sends, in order."""
    lines = p.ok(*args, "--pretend").stdout.splitlines()
    return "\n".join(x for x in lines if not x.startswith("-- main:") and not x.startswith("main:")) + "\n"


def squawk_file(sql: str, path: Path) -> set[str]:
    """squawk's rules over ``sql``, linted as one migration file (no ignore comments)."""
    assert "squawk-ignore" not in sql
    path.write_text(sql)
    done = subprocess.run([squawk(), "--reporter", "json", str(path)], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return {v["rule_name"] for v in json.loads(done.stdout or "[]")}


def test_squawk_finds_no_locking_rule_in_the_online_plans(make_project: Any, pg_db: ServerDb, tmp_path: Path) -> None:
    p = online_catalogue(make_project, pg_db)
    up = pretend_sql(p, "migrate:run")
    assert "CREATE INDEX CONCURRENTLY ix_items_price" in up and "NOT VALID" in up and "VALIDATE CONSTRAINT" in up
    assert up.startswith("SET lock_timeout = '2s';\nSET statement_timeout = '30min';\n")
    assert squawk_file(up, tmp_path / "up.sql") & LOCKING_RULES == set()
    # modelmig's lint agrees: nothing to acknowledge
    result = p.run("migrate:lint", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout)["findings"] == 0
    p.ok("migrate:run")
    assert p.run("migrate:status", "--drift").exit_code == 0
    assert pg_db.scalar("SELECT COUNT(*) FROM items WHERE due = '2026-01-01' AND note IS NOT NULL") == 200
    # no temporary NOT NULL check and no invalid index is left behind
    assert pg_db.scalar("SELECT COUNT(*) FROM pg_constraint WHERE conname LIKE '%%_not_null'") == 0
    assert pg_db.scalar("SELECT COUNT(*) FROM pg_index WHERE NOT indisvalid") == 0
    # the rollback plan is online too
    down = pretend_sql(p, "migrate:rollback")
    assert "DROP INDEX CONCURRENTLY IF EXISTS ix_items_price" in down
    assert squawk_file(down, tmp_path / "down.sql") & LOCKING_RULES == set()
    p.ok("migrate:rollback")
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_online_false_in_the_file_wins_and_fires_the_rules(make_project: Any, pg_db: ServerDb, tmp_path: Path) -> None:
    """The control: the same changes planned the default way fire squawk's locking rules."""
    p = online_catalogue(make_project, pg_db)
    path = p.migration_files()[-1]
    path.write_text(path.read_text() + "\nonline = False\n")
    default = pretend_sql(p, "migrate:run")
    assert "CONCURRENTLY" not in default and "SET lock_timeout" not in default
    fired = squawk_file(default, tmp_path / "default.sql") & LOCKING_RULES
    assert fired == LOCKING_RULES - {"ban-concurrent-index-creation-in-transaction", "changing-column-type"}
    result = p.run("migrate:lint")
    assert result.exit_code == 1 and "require-concurrent-index-creation" in result.stdout
    # and the other way round: online = True in a file on a connection that is not online
    q = make_project({"main": {"url": pg_db.url}})
    q.models(BEFORE)
    q.ok("make:migration", "--name", "start", env={"MODELMIG_NOW": "2026-01-03T00:00:00"})
    start = q.migration_files()[-1]
    q.models(ONLINE_AFTER)
    q.ok("make:migration", "--name", "catalogue", env={"MODELMIG_NOW": "2026-01-04T00:00:00"})
    mine = q.migration_files()[-1]
    assert mine != start
    mine.write_text(mine.read_text() + "\nonline = True\n")
    assert "CREATE INDEX CONCURRENTLY" in pretend_sql(q, "migrate:run")


# ---------------------------------------------------------------- a writer that must not be blocked


class Writer(threading.Thread):
    """Single-row updates of ``items`` in a loop, each in its own transaction, with
    ``lock_timeout = '200ms'``: the longest wait, and how many timed out."""

    def __init__(self, url: str, rows: int) -> None:
        super().__init__(daemon=True)
        self.url, self.rows = url, rows
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.longest = 0.0
        self.timeouts = 0
        self.updates = 0
        self.errors: list[str] = []

    def run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("SET lock_timeout = '200ms'")
            i = 0
            while not self.stop.is_set():
                i = (i * 7919 + 13) % self.rows
                started = time.perf_counter()
                try:
                    conn.execute("UPDATE items SET price = price + 1 WHERE id = %s", (i + 1,))
                    self.updates += 1
                except psycopg.errors.LockNotAvailable:
                    self.timeouts += 1
                except psycopg.Error as exc:  # a statement the migration makes fail is a finding too
                    self.errors.append(str(exc))
                self.longest = max(self.longest, time.perf_counter() - started)
                self.started_writing.set()


WRITER_BEFORE = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}

class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "owner_id": column("integer"),
        "code": column("string", 20),
        "note": column("string", 100, nullable=True),
        "price": column("integer"),
    }
"""

#: the issue's seven common operations but the type change (which has no online form):
#: an index, a unique constraint, a foreign key, a check, SET NOT NULL, a column with a default
WRITER_AFTER = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}

class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "owner_id": column("integer"),
        "code": column("string", 20, unique=True),
        "note": column("string", 100),
        "price": column("integer"),
        "flag": column("boolean", default=False),
    }
    database = {
        "indexes": [index(["note"], name="ix_items_note")],
        "foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_items_owner")],
        "checks": [check("price >= 0", name="ck_items_price")],
    }
"""


def writer_project(make_project: Any, db: ServerDb, rows: int, online: bool) -> Any:
    p = make_project({"main": {"url": db.url, "online": online}})
    p.models(WRITER_BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    db.execute("INSERT INTO owners (id, name) VALUES (1, 'one'), (2, 'two')")
    db.execute(
        "INSERT INTO items (id, owner_id, code, note, price) "
        f"SELECT i, 1 + i % 2, 'c' || i, 'note ' || md5(i::text), i FROM generate_series(1, {rows}) AS i"
    )
    db.execute("ANALYZE items")
    p.models(WRITER_AFTER)
    p.ok("make:migration", "--name", "busy", env=LATER)
    return p


def migrate_under_writer(p: Any, db: ServerDb, rows: int) -> Writer:
    writer = Writer(db.url, rows)
    writer.start()
    assert writer.started_writing.wait(10)
    try:
        p.ok("migrate:run")
    finally:
        time.sleep(0.2)
        writer.stop.set()
        writer.join(10)
    assert writer.updates > 0 and not writer.errors, writer.errors
    assert p.run("migrate:status", "--drift").exit_code == 0
    return writer


def writer_check(make_project: Any, pg_db: ServerDb, rows: int) -> tuple[Writer, Writer]:
    online = migrate_under_writer(writer_project(make_project, pg_db, rows, True), pg_db, rows)
    pg_db.execute("DROP TABLE items, owners, modelmig_migrations")
    default = migrate_under_writer(writer_project(make_project, pg_db, rows, False), pg_db, rows)
    return online, default


@pytest.mark.heavy
def test_a_writer_is_never_blocked_by_an_online_migration_of_200k_rows(make_project: Any, pg_db: ServerDb) -> None:
    online, default = writer_check(make_project, pg_db, 200_000)
    assert online.timeouts == 0, f"online: {online.timeouts} timeout(s), longest wait {online.longest:.3f} s"
    assert default.timeouts > 0, f"default: longest wait {default.longest:.3f} s"


def test_a_writer_is_never_blocked_by_an_online_migration(make_project: Any, pg_db: ServerDb) -> None:
    """The normal suite's version: 120,000 rows, enough for the default plan to hold
    its locks past the writer's 200 ms."""
    online, default = writer_check(make_project, pg_db, 120_000)
    assert online.timeouts == 0, f"online: {online.timeouts} timeout(s), longest wait {online.longest:.3f} s"
    assert default.timeouts > 0, f"default: longest wait {default.longest:.3f} s"

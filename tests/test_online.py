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
- and at plan time, before any statement, by migrate:run / migrate:rollback (and
  --pretend, and migrate:lint): a hand-written migration's (raw SQL, operations
  by hand, a volatile default) and a down plan's (the drop of a column the
  migration added), until the migration acknowledges the rule (``lint_ignore``);
- a statement that completed after its runner died, before the ledger recorded it
  (MariaDB: a column or an index; PostgreSQL: a concurrent build), is found in the
  live schema by the resumed run and recorded, not sent again;
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
    lint = [x for x in made.output.splitlines() if x.startswith("warning: lint: main: ")]
    # the online plan make lints has nothing to say; its down plan drops the three columns it adds
    assert all(x.startswith("warning: lint: main: 20260102000000_catalogue (down): ban-drop-column: ") for x in lint)
    dropped = {x.split("DROP COLUMN ")[1].split(":")[0] for x in lint}
    assert dropped == {"flag", "extra", "due"}, lint
    assert all("migrate:rollback refuses it on online connection 'main'" in x for x in lint)
    return p


def acknowledge_drops(p: Any) -> None:
    """The rollback of the last migration drops the columns it added: acknowledged before it runs."""
    path = p.migration_files()[-1]
    path.write_text(
        path.read_text() + '\nlint_ignore = {"ban-drop-column": "rolled back before any client reads them"}\n'
    )


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
    acknowledge_drops(p)
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
    acknowledge_drops(p)  # its rollback drops flag
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
def test_a_writer_is_never_blocked_by_an_online_migration_of_2m_rows(make_project: Any, pg_db: ServerDb) -> None:
    online, default = writer_check(make_project, pg_db, 2_000_000)
    assert online.timeouts == 0, f"online: {online.timeouts} timeout(s), longest wait {online.longest:.3f} s"
    assert default.timeouts > 0, f"default: longest wait {default.longest:.3f} s"


def test_a_writer_is_never_blocked_by_an_online_migration(make_project: Any, pg_db: ServerDb) -> None:
    """The normal suite's version: 400,000 rows, so that the default plan holds its
    locks well past the writer's 200 ms on any machine (120,000 rows held them
    180-210 ms here: the control failed either way), while the online plan's brief
    locks do not grow with the rows."""
    online, default = writer_check(make_project, pg_db, 400_000)
    assert online.timeouts == 0, f"online: {online.timeouts} timeout(s), longest wait {online.longest:.3f} s"
    assert default.timeouts > 0, f"default: longest wait {default.longest:.3f} s"


# ---------------------------------------------------------------- an interrupted concurrent build

INDEXED = WRITER_BEFORE.replace(
    '"price": column("integer"),\n    }',
    '"price": column("integer"),\n    }\n    database = {"indexes": [index(["note"], name="ix_items_note")]}',
)


def first_row(db: ServerDb, query: str, what: str, timeout: float = 20.0) -> int:
    """The integer ``query`` returns once it returns one, polled every 50 ms."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = db.scalar(query)
        if found is not None:
            return int(found)
        time.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout} s")


def backend_waiting(db: ServerDb, prefix: str, timeout: float = 20.0) -> int:
    """The pid of the server process running a statement starting with ``prefix``
    once it waits on a lock."""
    query = (
        "SELECT pid FROM pg_stat_activity WHERE query LIKE "
        f"'{prefix}%%' AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
    )
    return first_row(db, query, f"statement {prefix!r} waited on a lock", timeout)


def test_an_interrupted_concurrent_build_is_repaired_by_the_next_run(make_project: Any, pg_db: ServerDb) -> None:
    p = writer_project(make_project, pg_db, 2_000, True)
    p.connections["main"]["lock_timeout"] = "60s"  # the build waits on the test's transaction, not on a timeout
    p.write_config()
    p.models(INDEXED)
    path = p.migration_files()[-1]
    path.unlink()
    p.ok("make:migration", "--name", "note_index", env=LATER)
    holder = psycopg.connect(pg_db.url)  # a transaction that has written to items, held open
    holder.execute("UPDATE items SET price = price WHERE id = 1")
    env = {**os.environ, "MODELMIG_NOW": LATER["MODELMIG_NOW"]}
    modelmig = str(Path(sys.executable).parent / "modelmig")
    runner = subprocess.Popen([modelmig, "migrate:run"], cwd=p.root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        pid = backend_waiting(pg_db, "CREATE INDEX CONCURRENTLY ix_items_note")
        # the runner dies, and its server process with it, while the build waits
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        assert pg_db.scalar(f"SELECT pg_terminate_backend({pid})") is True
    finally:
        if runner.poll() is None:
            runner.kill()
        holder.rollback()
        holder.close()
    deadline = time.monotonic() + 10
    while pg_db.scalar(f"SELECT COUNT(*) FROM pg_stat_activity WHERE pid = {pid}") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pg_db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_items_note'::regclass") is False
    mid = p.migration_files()[-1].stem
    assert pg_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "online"
    status = p.run("migrate:status")
    assert f"{mid}" in status.stdout and "interrupted" in status.stdout
    # another command stops at it, naming what resumes it
    refused = p.run("migrate:rollback")
    assert refused.exit_code != 0 and "run `modelmig migrate:run`" in refused.output
    # the next run drops the invalid index, builds it again, and finishes the migration
    pretend = p.ok("migrate:run", "--pretend").output
    assert f"would resume online migration {mid} where it stopped (0 statement(s) of its plan" in pretend
    done = p.ok("migrate:run")
    assert "repairing it first: DROP INDEX CONCURRENTLY IF EXISTS ix_items_note" in done.output
    assert f"main: resuming {mid} (an interrupted online migration: 0 statement(s) of its plan" in done.output
    assert pg_db.scalar("SELECT indisvalid FROM pg_index WHERE indexrelid = 'ix_items_note'::regclass") is True
    assert pg_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "applied"
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_a_lock_not_granted_is_tried_again(make_project: Any, pg_db: ServerDb) -> None:
    p = writer_project(make_project, pg_db, 100, True)
    p.connections["main"]["lock_timeout"] = "100ms"
    p.write_config()
    holder = psycopg.connect(pg_db.url)
    holder.execute("LOCK TABLE items IN ACCESS SHARE MODE")  # what every ALTER TABLE waits for
    release = threading.Timer(1.2, holder.rollback)
    release.start()
    try:
        done = p.ok("migrate:run")
    finally:
        release.join()
        holder.close()
    retries = [x for x in done.output.splitlines() if "did not get its lock within lock_timeout 100ms" in x]
    assert retries and "retry 1 of 5" in retries[0], done.output
    assert p.run("migrate:status", "--drift").exit_code == 0
    # a lock never granted: bounded retries, then one error line; the ledger says where it stopped
    p.ok("migrate:rollback")
    p.connections["main"]["lock_retries"] = 1
    p.write_config()
    holder = psycopg.connect(pg_db.url)
    holder.execute("LOCK TABLE items IN ACCESS SHARE MODE")
    try:
        failed = p.run("migrate:run")
    finally:
        holder.rollback()
        holder.close()
    assert failed.exit_code != 0
    assert "retry 1 of 1" in failed.output and "canceling statement due to lock timeout" in failed.output
    p.ok("migrate:run")
    assert p.run("migrate:status", "--drift").exit_code == 0


# ---------------------------------------------------------------- make-time refusals, configuration


def test_changes_without_a_lock_safe_form_are_refused_at_make_time(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url, "online": True}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    before = p.migration_files()
    p.models(AFTER)  # the lint catalogue: it changes a type (a rewrite) and drops a column
    made = p.run("make:migration", "--name", "catalogue", env=LATER)
    assert made.exit_code != 0 and p.migration_files() == before  # nothing written
    errors = [x for x in made.output.splitlines() if x.startswith("error:")]
    assert any(x.startswith("error: drop label from items: connection 'main' is online") for x in errors), errors
    assert any("alter qty on items" in x and "changing-column-type" in x and "rewrites the table" in x for x in errors)
    assert all("lint_ignore" in x for x in errors[:-1]) and "2 refusal(s)" in errors[-1]


def test_an_acknowledged_change_runs_online(make_project: Any, pg_db: ServerDb) -> None:
    """A change make refuses is written by hand as a migration of its own that
    acknowledges it (``lint_ignore``); migrate:lint then passes and it runs."""
    p = make_project({"main": {"url": pg_db.url, "online": True}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    fill(pg_db)
    p.ok("make:migration", "--empty", "--name", "qty_bigint", env=LATER)
    path = p.migration_files()[-1]
    up = (
        'up = [op.AlterColumn("items", op.Column("qty", "integer"), op.Column("qty", "bigInteger"))]\n'
        'down = [op.AlterColumn("items", op.Column("qty", "bigInteger"), op.Column("qty", "integer"))]\n'
        'lint_ignore = {"changing-column-type": "a maintenance window: items is small"}'
    )
    source = path.read_text().replace("up = []", up.split("\n")[0]).replace("down = []", up.split("\n")[1])
    path.write_text(source + "\n" + up.split("\n")[2] + "\n")
    lint = p.run("migrate:lint")
    assert lint.exit_code == 0 and "(acknowledged: a maintenance window: items is small)" in lint.stdout
    p.ok("migrate:run")
    assert pg_db.scalar("SELECT data_type FROM information_schema.columns WHERE column_name = 'qty'") == "bigint"


@pytest.mark.parametrize(
    ("key", "value", "says"),
    [
        ("online", "yes", "'online' must be true or false, got 'yes'"),
        ("lock_timeout", "2 seconds", "'lock_timeout' must be a duration like \"2s\""),
        ("lock_timeout", 2, "'lock_timeout' must be a duration like \"2s\""),
        ("statement_timeout", "1s'; DROP TABLE items; --", "'statement_timeout' must be a duration"),
        ("lock_retries", -1, "'lock_retries' must be a whole number from 0 to 100, got -1"),
        ("lock_retries", True, "'lock_retries' must be a whole number from 0 to 100, got True"),
    ],
)
def test_bad_online_settings_are_one_error_naming_the_connection(
    make_project: Any, pg_db: ServerDb, key: str, value: Any, says: str
) -> None:
    p = make_project({"main": {"url": pg_db.url, key: value}})
    p.models(BEFORE)
    result = p.run("migrate:run")
    assert result.exit_code != 0
    errors = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and "connection 'main'" in errors[0] and says in errors[0], result.output
    assert pg_db.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'") == 0


def test_a_bad_online_attribute_is_one_error_naming_the_file(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    path = p.migration_files()[-1]
    path.write_text(path.read_text() + '\nonline = "yes"\n')
    result = p.run("migrate:run")
    assert result.exit_code != 0
    errors = [x for x in result.output.splitlines() if x.startswith("error:")]
    assert len(errors) == 1 and path.name in errors[0] and "'online' must be True or False, got str" in errors[0]
    assert pg_db.scalar("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'") == 0


# ---------------------------------------------------------------- MariaDB: explicit algorithms, executed

MARIADB_AFTER = ONLINE_AFTER.replace(
    '        "foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_items_owner")],\n'
    '        "checks": [check("price >= 0", name="ck_items_price")],\n',
    "",
)


def test_mariadb_online_plans_ask_for_instant_or_inplace_and_run(make_project: Any, mysql_db: ServerDb) -> None:
    import sqlalchemy as sa

    p = make_project({"main": {"url": mysql_db.url, "online": True, "server": "mariadb-10.11"}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    fill(mysql_db)
    # the lint catalogue: the changes only a table copy can do are refused at make time, one line each
    p.models(AFTER)
    made = p.run("make:migration", "--name", "catalogue", env=LATER)
    assert made.exit_code != 0
    errors = [x for x in made.output.splitlines() if x.startswith("error:")]
    copies = [x for x in errors if "takes ALGORITHM=COPY, LOCK=SHARED" in x]
    assert {x.split(":")[1].strip() for x in copies} == {
        "alter qty on items",
        "add ck_items_price to items",
        "add fk_items_owner to items",
    }
    assert any(x.startswith("error: drop label from items:") for x in errors) and "4 refusal(s)" in errors[-1]
    # the server agrees: it refuses to change the type in place, without a lock
    with pytest.raises(sa.exc.DBAPIError) as refused:
        mysql_db.execute("ALTER TABLE items MODIFY COLUMN qty BIGINT NOT NULL, ALGORITHM=INPLACE, LOCK=NONE")
    assert refused.value.orig.args[0] in (1845, 1846)
    # the rest, online: every ALTER and index names its algorithm, the server runs them all
    p.models(MARIADB_AFTER)
    p.ok("make:migration", "--name", "online", env=LATER)
    acknowledge_drops(p)  # its rollback drops the columns it adds
    for direction in ("migrate:run", "migrate:rollback", "migrate:run"):
        plan = [x for x in pretend_sql(p, direction).splitlines() if x.strip()]
        # MariaDB bounds each statement too (max_statement_time, seconds): statement_timeout's 30min
        assert plan[:2] == ["SET SESSION lock_wait_timeout = 2;", "SET SESSION max_statement_time = 1800;"]
        assert plan[-2:] == ["SET SESSION lock_wait_timeout = DEFAULT;", "SET SESSION max_statement_time = DEFAULT;"]
        ddl = [x for x in plan if x.startswith(("ALTER", "CREATE", "DROP"))]
        assert ddl and all(
            x.endswith(("ALGORITHM=INSTANT;", "ALGORITHM=INPLACE, LOCK=NONE;", "ALGORITHM=INPLACE LOCK=NONE;"))
            for x in ddl
        ), plan
        assert p.run("migrate:lint").exit_code == 0
        p.ok(direction)
        assert p.run("migrate:status", "--drift").exit_code == 0
    assert mysql_db.scalar("SELECT COUNT(*) FROM items WHERE due = '2026-01-01' AND note IS NOT NULL") == 200


def test_an_interrupted_online_migration_can_be_resolved_instead(make_project: Any, pg_db: ServerDb) -> None:
    p = writer_project(make_project, pg_db, 500, True)
    p.connections["main"]["lock_retries"] = 0
    p.connections["main"]["lock_timeout"] = "100ms"
    p.write_config()
    holder = psycopg.connect(pg_db.url)
    holder.execute("SELECT 1")
    try:
        # the statements on items complete; the foreign key's lock on owners is not granted
        holder.execute("LOCK TABLE owners IN SHARE MODE")
        failed = p.run("migrate:run")
    finally:
        holder.rollback()
        holder.close()
    assert failed.exit_code != 0 and "stays marked as an interrupted online migration" in failed.output
    mid = p.migration_files()[-1].stem
    assert pg_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "online"
    assert pg_db.scalar(f"SELECT progress FROM modelmig_migrations WHERE id = '{mid}'") > 2
    # the schema is finished by hand (here: the foreign key), and the migration marked applied
    pg_db.execute("ALTER TABLE items ADD CONSTRAINT fk_items_owner FOREIGN KEY (owner_id) REFERENCES owners (id)")
    resolved = p.ok("migrate:resolve", mid, "--applied")
    assert "marked" in resolved.output and "online" in resolved.output
    assert pg_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "applied"
    assert p.run("migrate:status", "--drift").exit_code == 0


# ---------------------------------------------------------------- MariaDB: retries, resumed runs

#: owners gains a column, items an index: two statements, on two tables
MARIADB_BUSY = (
    WRITER_BEFORE.replace(
        '    schema = {"id": column("increments"), "name": column("string", 50)}',
        '    schema = {"id": column("increments"), "name": column("string", 50), "email": column("string", 80, nullable=True)}',
    )
    + '    database = {"indexes": [index(["note"], name="ix_items_note")]}\n'
)


def mariadb_busy_project(make_project: Any, db: ServerDb, **conn: Any) -> Any:
    """An online MariaDB project whose pending migration adds a column to owners,
    then an index to items (which holds rows)."""
    p = make_project({"main": {"url": db.url, "online": True, "server": "mariadb-10.11", **conn}})
    p.models(WRITER_BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    db.execute("INSERT INTO owners (id, name) VALUES (1, 'one'), (2, 'two')")
    values = ", ".join(f"({i}, {1 + i % 2}, 'c{i}', 'note {i}', {i})" for i in range(1, 501))
    db.execute(f"INSERT INTO items (id, owner_id, code, note, price) VALUES {values}")
    p.models(MARIADB_BUSY)
    p.ok("make:migration", "--name", "busy", env=LATER)
    acknowledge_drops(p)  # its rollback drops owners.email
    plan = [x for x in pretend_sql(p, "migrate:run").splitlines() if x.startswith(("ALTER", "CREATE"))]
    assert len(plan) == 2 and plan[0].startswith("ALTER TABLE owners ADD COLUMN email"), plan  # the order relied on
    assert plan[1].startswith("CREATE INDEX ix_items_note ON items"), plan
    return p


def metadata_lock_holder(db: ServerDb) -> Any:
    """A session in an open transaction that has read items: it holds a shared
    metadata lock on the table until it ends, and every ALTER of items waits for it."""
    import sqlalchemy as sa

    engine = db.engine()
    holder = engine.connect()
    holder.execute(sa.text("SELECT COUNT(*) FROM items")).scalar()
    return holder


def test_mariadb_a_lock_not_granted_is_tried_again(make_project: Any, mysql_db: ServerDb) -> None:
    p = mariadb_busy_project(make_project, mysql_db, lock_timeout="1s")
    holder = metadata_lock_holder(mysql_db)
    release = threading.Timer(1.5, holder.rollback)
    release.start()
    try:
        done = p.ok("migrate:run")
    finally:
        release.join()
        holder.close()
    retries = [x for x in done.output.splitlines() if "did not get its lock within lock_timeout 1s" in x]
    assert retries and "statement 4 of 6" in retries[0] and "retry 1 of 5" in retries[0], done.output
    assert mysql_db.scalar(
        "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 'ix_items_note'"
    )
    assert p.run("migrate:status", "--drift").exit_code == 0
    # a lock never granted: bounded retries, then one error line naming the server's error;
    # the column on owners completed and is recorded (statement 3: the plan starts with
    # lock_wait_timeout and max_statement_time), the next run resumes after it
    p.ok("migrate:rollback")
    p.connections["main"]["lock_retries"] = 1
    p.write_config()
    holder = metadata_lock_holder(mysql_db)
    try:
        failed = p.run("migrate:run")
    finally:
        holder.rollback()
        holder.close()
    assert failed.exit_code != 0
    assert "retry 1 of 1" in failed.output and "Lock wait timeout exceeded" in failed.output, failed.output
    assert "stays marked as an interrupted online migration: the next run resumes it from statement 4" in failed.output
    mid = p.migration_files()[-1].stem
    assert mysql_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "online"
    assert mysql_db.scalar(f"SELECT progress FROM modelmig_migrations WHERE id = '{mid}'") == 3
    resumed = p.ok("migrate:run")
    assert f"resuming {mid} (an interrupted online migration: 3 statement(s) of its plan" in resumed.output
    assert p.run("migrate:status", "--drift").exit_code == 0


def mysql_waiting(db: ServerDb, name: str, timeout: float = 20.0) -> int:
    """The id of the server thread running a statement that names ``name`` once
    it waits for a metadata lock."""
    query = (
        "SELECT id FROM information_schema.processlist WHERE state LIKE 'Waiting for table metadata lock%%' "
        f"AND info LIKE '%%{name}%%' AND db = DATABASE()"
    )
    return first_row(db, query, f"statement naming {name!r} waited on a metadata lock", timeout)


def test_mariadb_an_interrupted_online_migration_is_resumed_by_the_next_run(
    make_project: Any, mysql_db: ServerDb
) -> None:
    p = mariadb_busy_project(make_project, mysql_db, lock_timeout="60s")  # the ALTER waits on the test, not a timeout
    holder = metadata_lock_holder(mysql_db)
    env = {**os.environ, "MODELMIG_NOW": LATER["MODELMIG_NOW"]}
    modelmig = str(Path(sys.executable).parent / "modelmig")
    runner = subprocess.Popen([modelmig, "migrate:run"], cwd=p.root, env=env, stdout=subprocess.PIPE, text=True)
    try:
        thread = mysql_waiting(mysql_db, "ix_items_note")
        # the runner dies while its ALTER waits; its server thread is ended with it
        runner.send_signal(signal.SIGKILL)
        runner.wait(10)
        mysql_db.execute(f"KILL {thread}")
    finally:
        if runner.poll() is None:
            runner.kill()
        holder.rollback()
        holder.close()
    deadline = time.monotonic() + 10
    while mysql_db.scalar(f"SELECT COUNT(*) FROM information_schema.processlist WHERE id = {thread}"):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    mid = p.migration_files()[-1].stem
    # the column on owners completed and was recorded; the index was never built
    assert mysql_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "online"
    assert mysql_db.scalar(f"SELECT progress FROM modelmig_migrations WHERE id = '{mid}'") == 3
    assert (
        mysql_db.scalar(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = DATABASE() AND column_name = 'email'"
        )
        == 1
    )
    assert not mysql_db.scalar(
        "SELECT COUNT(*) FROM information_schema.statistics WHERE table_schema = DATABASE() AND index_name = 'ix_items_note'"
    )
    status = p.run("migrate:status")
    assert mid in status.stdout and "interrupted" in status.stdout
    refused = p.run("migrate:rollback")  # another command stops at it, naming what resumes it
    assert refused.exit_code != 0 and "run `modelmig migrate:run`" in refused.output
    pretend = p.ok("migrate:run", "--pretend").output
    assert f"would resume online migration {mid} where it stopped (3 statement(s) of its plan" in pretend
    done = p.ok("migrate:run")  # from statement 4 (the two settings, then the column): the column is not added twice
    assert f"main: resuming {mid} (an interrupted online migration: 3 statement(s) of its plan" in done.output
    assert mysql_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "applied"
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_an_interrupted_online_rollback_is_resumed_by_the_next_rollback(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url, "online": True, "lock_timeout": "100ms", "lock_retries": 0}})
    p.models(WRITER_BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    p.models(MARIADB_BUSY)  # owners gains a column, items an index
    p.ok("make:migration", "--name", "busy", env=LATER)
    acknowledge_drops(p)  # its rollback drops owners.email
    p.ok("migrate:run")
    plan = [x for x in pretend_sql(p, "migrate:rollback").splitlines() if x.startswith(("ALTER", "DROP"))]
    assert plan == ["DROP INDEX CONCURRENTLY IF EXISTS ix_items_note;", "ALTER TABLE owners DROP COLUMN email;"]
    holder = psycopg.connect(pg_db.url)
    holder.execute("LOCK TABLE owners IN ACCESS SHARE MODE")  # the column's drop waits, the index's does not
    try:
        failed = p.run("migrate:rollback")
    finally:
        holder.rollback()
        holder.close()
    assert failed.exit_code != 0 and "canceling statement due to lock timeout" in failed.output, failed.output
    assert "stays marked as an interrupted online migration: the next run resumes it from statement 4" in failed.output
    mid = p.migration_files()[-1].stem
    assert pg_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "online-down"
    assert pg_db.scalar(f"SELECT progress FROM modelmig_migrations WHERE id = '{mid}'") == 3
    assert pg_db.scalar("SELECT to_regclass('ix_items_note')") is None  # the index is gone already
    status = p.run("migrate:status")
    assert mid in status.stdout and "interrupted" in status.stdout
    refused = p.run("migrate:run")  # another command stops at it, naming what resumes it
    assert refused.exit_code != 0 and "run `modelmig migrate:rollback`" in refused.output, refused.output
    done = p.ok("migrate:rollback")  # from statement 4: the index is not dropped again
    assert f"main: resuming the rollback of {mid} (an interrupted online migration: 3 statement(s)" in done.output
    assert pg_db.scalar(f"SELECT COUNT(*) FROM modelmig_migrations WHERE id = '{mid}'") == 0
    assert pg_db.scalar("SELECT COUNT(*) FROM information_schema.columns WHERE column_name = 'email'") == 0
    p.models(WRITER_BEFORE)
    assert p.run("migrate:status", "--drift").exit_code == 0


# ---------------------------------------------------------------- refused at plan time: down plans, hand-written files


def ledger_of(db: ServerDb) -> list[tuple[str, str]]:
    return [(str(r[0]), str(r[1])) for r in db.rows("SELECT id, status FROM modelmig_migrations ORDER BY id")]


@pytest.mark.parametrize("server", ["pg", "mariadb"])
def test_a_down_plan_without_a_lock_safe_form_is_refused_by_rollback(
    make_project: Any, pg_db: ServerDb, mysql_db: ServerDb, server: str
) -> None:
    """strong_migrations' check_down: the rollback of a migration that adds a column
    drops it, which clients that read it by then cannot survive. make prints it
    (marked down); migrate:rollback, and --pretend, refuse it before any statement,
    naming the migration, the statement and the rule, until the migration acknowledges it."""
    db = pg_db if server == "pg" else mysql_db
    extra = {"server": "mariadb-10.11"} if server == "mariadb" else {}
    here = "table_schema = DATABASE()" if server == "mariadb" else "table_schema = 'public'"
    p = make_project({"main": {"url": db.url, "online": True, **extra}})
    p.models(WRITER_BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    db.execute("INSERT INTO owners (id, name) VALUES (1, 'one'), (2, 'two')")
    p.models(MARIADB_BUSY)  # owners gains a column, items an index
    made = p.ok("make:migration", "--name", "busy", env=LATER)
    down = [x for x in made.output.splitlines() if "(down): " in x]
    assert len(down) == 1 and "ban-drop-column: ALTER TABLE owners DROP COLUMN email" in down[0], made.output
    assert "migrate:rollback refuses it on online connection 'main'" in down[0]
    assert "lint: 1 finding(s) on a busy database (1 in the rollback's plan, marked (down))" in made.output
    path = p.migration_files()[-1]
    p.ok("migrate:run")
    ledger = ledger_of(db)
    for args in (("migrate:rollback", "--pretend"), ("migrate:rollback",)):
        refused = p.run(*args)
        assert refused.exit_code != 0
        errors = [x for x in refused.output.splitlines() if x.startswith("error:")]
        assert len(errors) == 1, refused.output
        assert f"migrate:rollback refused on an online connection, nothing was sent: {path.name}: down:" in errors[0]
        assert "drop email from owners: ban-drop-column: ALTER TABLE owners DROP COLUMN email" in errors[0]
        assert "DROP" not in refused.stdout  # no plan printed, nothing sent
    assert ledger_of(db) == ledger  # nothing changed
    assert db.scalar(f"SELECT COUNT(*) FROM information_schema.columns WHERE {here} AND column_name = 'email'") == 1
    # acknowledged (the file edited after it ran: --force says so), the rollback runs online
    path.write_text(path.read_text() + '\nlint_ignore = {"ban-drop-column": "no client reads email yet"}\n')
    p.ok("migrate:rollback", "--force")
    assert db.scalar(f"SELECT COUNT(*) FROM information_schema.columns WHERE {here} AND column_name = 'email'") == 0
    p.models(WRITER_BEFORE)
    assert p.run("migrate:status", "--drift").exit_code == 0


#: hand-written migrations (not make's) with a change that has no lock-safe form, per server
HAND_WRITTEN = {
    ("pg", "sql"): (
        'up = [op.RunSQL("ALTER TABLE items ALTER COLUMN qty TYPE BIGINT", '
        '"ALTER TABLE items ALTER COLUMN qty TYPE INTEGER")]',
        "changing-column-type",
        "ALTER TABLE items ALTER COLUMN qty TYPE BIGINT",
    ),
    ("mariadb", "sql"): (
        'up = [op.RunSQL("ALTER TABLE items MODIFY COLUMN qty BIGINT NOT NULL", '
        '"ALTER TABLE items MODIFY COLUMN qty INT NOT NULL")]',
        "changing-column-type",
        "ALTER TABLE items MODIFY COLUMN qty BIGINT NOT NULL",
    ),
    ("pg", "op"): (
        'up = [op.AlterColumn("items", op.Column("qty", "integer"), op.Column("qty", "bigInteger"))]',
        "changing-column-type",
        "ALTER TABLE items ALTER COLUMN qty TYPE BIGINT",
    ),
    ("pg", "volatile"): (
        'up = [op.RunSQL("ALTER TABLE items ADD COLUMN token UUID DEFAULT gen_random_uuid()", '
        '"ALTER TABLE items DROP COLUMN token")]',
        "adding-field-with-default",
        "ALTER TABLE items ADD COLUMN token UUID DEFAULT gen_random_uuid()",
    ),
    ("mariadb", "volatile"): (
        'up = [op.RunSQL("ALTER TABLE items ADD COLUMN token VARCHAR(40) NULL DEFAULT (UUID())", '
        '"ALTER TABLE items DROP COLUMN token")]',
        "adding-field-with-default",
        "ALTER TABLE items ADD COLUMN token VARCHAR(40) NULL DEFAULT (UUID())",
    ),
    ("mariadb", "op"): (
        'up = [op.DropColumn("items", op.Column("tag", "string", 20, nullable=True))]',
        "ban-drop-column",
        "ALTER TABLE items DROP COLUMN tag",
    ),
}


@pytest.mark.parametrize(("server", "kind"), list(HAND_WRITTEN))
def test_a_hand_written_change_without_a_lock_safe_form_is_refused_at_plan_time(
    make_project: Any, pg_db: ServerDb, mysql_db: ServerDb, server: str, kind: str
) -> None:
    """A migration make did not write (raw SQL, or operations written by hand) is
    held to make's rule set on an online connection: migrate:run, --pretend and
    migrate:lint refuse it before any statement, naming the file, the statement
    and the rule, until it acknowledges the rule."""
    db = pg_db if server == "pg" else mysql_db
    extra = {"server": "mariadb-10.11"} if server == "mariadb" else {}
    p = make_project({"main": {"url": db.url, "online": True, **extra}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    fill(db)
    p.ok("make:migration", "--empty", "--name", "by_hand", env=LATER)
    path = p.migration_files()[-1]
    up, rule, statement = HAND_WRITTEN[(server, kind)]
    path.write_text(path.read_text().replace("up = []", up))
    ledger = ledger_of(db)
    for args in (("migrate:run", "--pretend"), ("migrate:run",)):
        refused = p.run(*args)
        assert refused.exit_code != 0
        errors = [x for x in refused.output.splitlines() if x.startswith("error:")]
        assert len(errors) == 1, refused.output
        assert f"migrate:run refused on an online connection, nothing was sent: {path.name}: up: " in errors[0]
        assert f"{rule}: {statement}" in errors[0] and "lint_ignore" in errors[0], errors[0]
        assert "ALTER TABLE" not in refused.stdout  # no plan printed, nothing sent
    lint = p.run("migrate:lint", "--json")
    found = json.loads(lint.stdout)
    assert lint.exit_code == 1 and any(
        f["rule"] == rule and f["statement"].startswith(statement) and f["acknowledged"] is None
        for c in found["connections"]
        for f in c["findings"]
    ), found
    assert ledger_of(db) == ledger  # nothing changed
    # acknowledged, it lints clean and runs
    path.write_text(path.read_text() + f'\nlint_ignore = {{"{rule}": "a quiet hour"}}\n')
    assert p.run("migrate:lint").exit_code == 0
    p.ok("migrate:run")
    assert len(ledger_of(db)) == len(ledger) + 1


# ---------------------------------------------------------------- MariaDB: a statement completed, not recorded


#: the plan: two settings, the column (3), the index (4), two settings; the settings are not progress
@pytest.mark.parametrize(
    ("number", "recorded", "effect"),
    [(3, 0, "column owners.email exists"), (4, 3, "index items.ix_items_note exists")],
)
def test_mariadb_a_statement_that_completed_unrecorded_is_recorded_not_sent_again(
    make_project: Any, mysql_db: ServerDb, number: int, recorded: int, effect: str
) -> None:
    """The runner dies after the server completed a statement, before the ledger
    recorded it (MODELMIG_TESTING_DIE_BEFORE_RECORDING stops it exactly there). The
    resumed run reads the live schema, finds the statement's effect in place, and
    records it instead of sending it again (which the server would refuse: a
    duplicate column or index)."""
    p = mariadb_busy_project(make_project, mysql_db)
    mid = p.migration_files()[-1].stem
    env = {
        **os.environ,
        "MODELMIG_NOW": LATER["MODELMIG_NOW"],
        "MODELMIG_TESTING_DIE_BEFORE_RECORDING": f"{mid}:{number}",
    }
    modelmig = str(Path(sys.executable).parent / "modelmig")
    died = subprocess.run([modelmig, "migrate:run"], cwd=p.root, env=env, capture_output=True, text=True, timeout=120)
    assert died.returncode == -signal.SIGKILL, died.stderr
    assert mysql_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "online"
    assert mysql_db.scalar(f"SELECT progress FROM modelmig_migrations WHERE id = '{mid}'") == recorded
    table, name = effect.split()[1].split(".")
    kind = "columns WHERE column_name" if effect.startswith("column") else "statistics WHERE index_name"
    where = f"table_schema = DATABASE() AND table_name = '{table}'"
    assert mysql_db.scalar(f"SELECT COUNT(*) FROM information_schema.{kind} = '{name}' AND {where}")  # it completed
    done = p.ok("migrate:run")
    said = f"main: {mid}: statement {number} of 6 had completed before the run was cut short ({effect}): recorded"
    assert said in done.output, done.output
    assert mysql_db.scalar(f"SELECT status FROM modelmig_migrations WHERE id = '{mid}'") == "applied"
    assert p.run("migrate:status", "--drift").exit_code == 0


@pytest.mark.parametrize("default", ["UUID()", "UUID_SHORT()", "SYSDATE()"])
def test_mariadb_has_no_online_form_for_a_column_with_a_volatile_default(mysql_db: ServerDb, default: str) -> None:
    """The server is the oracle of the cost table: for what the cost table calls a
    volatile default, MariaDB refuses both INSTANT and INPLACE; what the table lets
    through (NOW(), RAND()) it adds instantly."""
    import sqlalchemy as sa
    from modelmig_mysql.costs import cost

    mysql_db.execute("CREATE TABLE vt (id INT PRIMARY KEY)")
    mysql_db.execute("INSERT INTO vt VALUES (1), (2)")
    statement = f"ALTER TABLE vt ADD COLUMN c VARCHAR(60) NULL DEFAULT ({default})"
    assert [f.rule for f in cost(None, statement, "mariadb-10.11")] == ["adding-field-with-default"]
    for algorithm in ("ALGORITHM=INSTANT", "ALGORITHM=INPLACE, LOCK=NONE"):
        with pytest.raises(sa.exc.DBAPIError) as refused:
            mysql_db.execute(f"{statement}, {algorithm}")
        assert refused.value.orig.args[0] == 1845
    for fine in ("NOW()", "RAND()"):
        statement = f"ALTER TABLE vt ADD COLUMN c VARCHAR(60) NULL DEFAULT ({fine})"
        assert cost(None, statement, "mariadb-10.11") == []
        mysql_db.execute(f"{statement}, ALGORITHM=INSTANT")
        mysql_db.execute("ALTER TABLE vt DROP COLUMN c")


def test_a_concurrent_build_that_completed_unrecorded_is_recorded_not_built_again(
    make_project: Any, pg_db: ServerDb
) -> None:
    """PostgreSQL: the runner dies after a concurrent index build completed, before
    its progress was written (outside a transaction the two cannot commit
    together). The resumed run finds the index valid and records it: no repair,
    no second build of a table's whole index."""
    p = make_project({"main": {"url": pg_db.url, "online": True}})
    items = 'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "price": column("integer")}\n'
    p.models(items)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    pg_db.execute("INSERT INTO items (price) SELECT i FROM generate_series(1, 500) AS i")
    p.models(items + '    database = {"indexes": [index(["price"], name="ix_items_price")]}\n')
    p.ok("make:migration", "--name", "items", env=LATER)
    plan = [x for x in pretend_sql(p, "migrate:run").splitlines() if x.strip() and not x.startswith("--")]
    assert plan[2] == "CREATE INDEX CONCURRENTLY ix_items_price ON items (price);", plan  # statement 3
    mid = p.migration_files()[-1].stem
    modelmig = str(Path(sys.executable).parent / "modelmig")
    env = {**os.environ, **LATER, "MODELMIG_TESTING_DIE_BEFORE_RECORDING": f"{mid}:3"}
    died = subprocess.run([modelmig, "migrate:run"], cwd=p.root, env=env, capture_output=True, timeout=120)
    assert died.returncode == -signal.SIGKILL
    assert pg_db.scalar(f"SELECT progress FROM modelmig_migrations WHERE id = '{mid}'") == 0
    oid = pg_db.scalar("SELECT indexrelid FROM pg_index WHERE indexrelid = 'ix_items_price'::regclass AND indisvalid")
    done = p.ok("migrate:run")
    said = f"main: {mid}: statement 3 of {len(plan)} had completed before the run was cut short"
    assert f"{said} (index items.ix_items_price exists and is valid): recorded" in done.output, done.output
    assert "repairing" not in done.output
    assert pg_db.scalar("SELECT indexrelid FROM pg_index WHERE indexrelid = 'ix_items_price'::regclass") == oid
    assert p.run("migrate:status", "--drift").exit_code == 0

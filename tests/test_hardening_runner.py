"""Issue 17, the runner's classes: transaction control inside a migration (7), an
interrupted ``migrate:fresh`` (8), what a migration's checksum covers (9), stray
files, chain errors and unknown ledger statuses (11), and ``--pretend`` (13).

Asserted on the database (tables, ledger rows read back), not on rendered text,
wherever a server applies.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmig_core.history.sqlcontrol import transaction_control
from tests.support.servers import ServerDb

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191)}
"""

SECOND = "20260102000000_second"


def tables(db: ServerDb) -> set[str]:
    import sqlalchemy as sa

    engine = db.engine()
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def ledger(db: ServerDb) -> list[tuple[Any, ...]]:
    return db.rows("SELECT id, status, progress FROM modelmig_migrations ORDER BY id")


def second_migration(parent: str, up: str, atomic: bool = True, imports: str = "") -> str:
    return (
        f'"""Written by hand."""\n\n{imports}from modelmig_core import operations as op\n\n'
        f"id = {SECOND!r}\nfamily = 'sql'\nparent = {parent!r}\natomic = {atomic}\n\n"
        f"up = [\n{up}\n]\n\ndown = []\n"
    )


def project(make_project: Any, db: ServerDb | None = None) -> Any:
    p = make_project({"main": {"url": db.url}} if db is not None else None, extra_config="lock_timeout = 2")
    p.models(MODELS)
    p.ok("make:migration", "--name", "create_users")
    return p


def add_second(p: Any, up: str, atomic: bool = True, imports: str = "") -> Path:
    first = p.migration_files()[0].stem
    path = p.root / "migrations" / "sql" / f"{SECOND}.py"
    path.write_text(second_migration(first, up, atomic, imports))
    return path


NOTES = "    op.CreateTable(op.Table('notes', columns=[op.Column('id', 'integer', primary=True)])),"


# ---------------------------------------------------------------- 7. transaction control


CONTROL = [
    "COMMIT",
    "commit;",
    "END",
    "END TRANSACTION",
    "ROLLBACK",
    "ABORT",
    "SAVEPOINT s1",
    "RELEASE s1",
    "RELEASE SAVEPOINT s1",
    "ROLLBACK TO SAVEPOINT s1",
    "BEGIN",
    "BEGIN IMMEDIATE",
    "START TRANSACTION",
    "SET autocommit = 1",
    "SET @@session.autocommit = 0",
    "set  AUTOCOMMIT=0",
    "VACUUM",
    "COMMIT AND CHAIN",
    "/*!COMMIT*/",
    "/*!50000 COMMIT */",
    "/*M!100000 ROLLBACK */",
    "SELECT 1 /*!; COMMIT */",
    "PREPARE TRANSACTION 'x'",
    "XA START 'x'",
    "CREATE TABLE t (x int); COMMIT; CREATE TABLE u (x int)",
    "-- a comment\nCOMMIT",
    "SELECT 1 # mysql comment\n; COMMIT",
    "/* block */ COMMIT",
    "/* an unterminated comment",
]

HARMLESS = [
    "CREATE TABLE t (x int)",
    "INSERT INTO t VALUES ('COMMIT')",
    "INSERT INTO t VALUES ('a;COMMIT;--')",
    'SELECT "commit" FROM x',
    "UPDATE t SET end_at = 1 WHERE id = 2",
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET x = CASE WHEN 1 THEN 2 END; END",
    "DO $$ BEGIN PERFORM 1; END $$",
    "CREATE INDEX ix ON t (x) /* not COMMIT executable */",
    "PREPARE stmt AS SELECT 1",
    "",
]


@pytest.mark.parametrize("sql", CONTROL)
def test_transaction_control_is_found(sql: str) -> None:
    assert transaction_control(sql), sql
    assert transaction_control(["SELECT 1", sql])  # a list of statements too


@pytest.mark.parametrize("sql", HARMLESS)
def test_harmless_sql_is_not_transaction_control(sql: str) -> None:
    assert transaction_control(sql) == []


ATTACK = st.text(alphabet=list("ab COMMIT'\"*/!-#;\n\x00\\$`()"), max_size=30)


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ATTACK, st.sampled_from(["COMMIT", "ROLLBACK", "END", "SAVEPOINT s", "START TRANSACTION"]))
def test_control_after_any_literal_is_found(text: str, control: str) -> None:
    """Whatever a literal before it holds (quotes, comment openers, backslashes,
    NUL), a statement after it that ends the transaction is found."""
    assert transaction_control(f"INSERT INTO t VALUES ({literal(text)});\n{control}")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ATTACK.filter(lambda t: "\\" not in t))
def test_a_literal_is_never_transaction_control(text: str) -> None:
    """Text inside a string literal is data (backslashes aside: MySQL reads them as
    escapes, and then the text is read as the server would, which may refuse)."""
    assert transaction_control(f"INSERT INTO t VALUES ({literal(text)})") == []


@pytest.mark.parametrize("driver", ["sqlite", "pg"])
@pytest.mark.parametrize("sql", ["COMMIT", "END", "/*!COMMIT*/", "SAVEPOINT a; RELEASE a", "SET autocommit = 1"])
def test_runsql_that_controls_the_transaction_is_refused_at_load(
    make_project: Any, driver: str, sql: str, request: pytest.FixtureRequest
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = project(make_project, db)
    path = add_second(p, f"{NOTES}\n    op.RunSQL({sql!r}, 'SELECT 1'),")
    for command in (["make:migration", "--check"], ["migrate:run"], ["migrate:status", "--drift"]):
        result = p.run(*command)
        assert result.exit_code != 0, command
        assert str(path) in result.output and "controls the transaction" in result.output
        assert "atomic = False" in result.output and "Traceback" not in result.output
    # nothing ran: not even the first migration
    assert "notes" not in tables(db) and "users" not in tables(db)


@pytest.mark.parametrize("driver", ["sqlite", "pg", "mysql"])
def test_an_atomic_false_migration_runs_statement_by_statement_with_progress(
    make_project: Any, driver: str, request: pytest.FixtureRequest
) -> None:
    """``atomic = False``: each statement on its own, the ledger row says which one
    was sent; a failure leaves what ran and an interrupted row, resolved by name."""
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = project(make_project, db)
    bad = "    op.RunSQL('INSERT INTO no_such_table VALUES (1)', 'SELECT 1'),"
    path = add_second(p, f"{NOTES}\n{bad}", atomic=False)
    result = p.run("migrate:run")
    assert result.exit_code != 0 and "no_such_table" in result.output
    assert "nothing was changed" not in result.output
    assert "notes" in tables(db)  # statement 1 stayed
    assert ledger(db)[1] == (SECOND, "running", 2)
    status = json.loads(p.ok("migrate:status", "--json").stdout)["connections"][0]["migrations"]
    assert [m["status"] for m in status] == ["applied", "interrupted"]
    assert p.run("migrate:run").exit_code != 0
    p.ok("migrate:resolve", SECOND, "--rolled-back")
    db.execute("DROP TABLE notes")
    path.write_text(path.read_text().replace("INSERT INTO no_such_table VALUES (1)", "SELECT 2"))
    p.ok("migrate:run")
    assert [r[:2] for r in ledger(db)] == [(ledger(db)[0][0], "applied"), (SECOND, "applied")]
    assert "notes" in tables(db)


@pytest.mark.parametrize("driver", ["sqlite", "pg"])
@pytest.mark.parametrize("call", ["conn.commit()", "conn.rollback()", "conn.autocommit = True", "conn.close()"])
def test_runpython_cannot_end_the_transaction(
    make_project: Any, driver: str, call: str, request: pytest.FixtureRequest
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = project(make_project, db)
    helper = f"def forward(conn):\n    cur = conn.cursor()\n    cur.execute('INSERT INTO notes VALUES (1)')\n    {call}\n\n\n"
    add_second(p, f"{NOTES}\n    op.RunPython(forward),", imports=helper)
    result = p.run("migrate:run")
    assert result.exit_code != 0 and "RunPython called" in result.output
    assert "rolled back: nothing was changed" in result.output
    # true: the first migration applied, nothing of the second remains
    assert "notes" not in tables(db)
    assert [r[1] for r in ledger(db)] == ["applied"]


@pytest.mark.parametrize("driver", ["sqlite", "pg"])
def test_a_transaction_ended_behind_the_guards_is_marked_interrupted_never_nothing_changed(
    make_project: Any, driver: str, request: pytest.FixtureRequest
) -> None:
    """RunPython reaching the raw connection's cursor to COMMIT: the run stops at
    once, says the truth, and the ledger marks the migration interrupted, so the
    next run neither skips nor repeats it."""
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = project(make_project, db)
    helper = "def forward(conn):\n    conn.cursor().execute('COMMIT')\n\n\n"
    later = "    op.CreateTable(op.Table('later', columns=[op.Column('id', 'integer', primary=True)])),"
    add_second(p, f"{NOTES}\n    op.RunPython(forward),\n{later}", imports=helper)
    result = p.run("migrate:run")
    assert result.exit_code != 0
    assert "nothing was changed" not in result.output
    assert "ended the migration's transaction" in result.output and "marked as interrupted" in result.output
    assert "notes" in tables(db) and "later" not in tables(db)  # committed by the COMMIT: said, not hidden
    assert ledger(db)[1] == (SECOND, "running", 2)
    status = json.loads(p.ok("migrate:status", "--json").stdout)["connections"][0]["migrations"]
    assert status[1]["status"] == "interrupted"
    rerun = p.run("migrate:run")
    assert rerun.exit_code != 0 and f"migration {SECOND} was interrupted" in rerun.output
    assert "later" not in tables(db)


def test_pg_sql_that_ends_the_transaction_past_the_load_check_is_never_claimed_rolled_back(
    make_project: Any, pg_db: ServerDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defence in depth: with the load-time check out of the way, PostgreSQL's
    batched statements commit half-way and then fail; the runner sees the ended
    transaction and says so instead of "rolled back: nothing was changed"."""
    import modelmig_core.history.migrations as migrations

    monkeypatch.setattr(migrations, "refuse_transaction_control", lambda path, ops: None)
    p = project(make_project, pg_db)
    add_second(p, f"{NOTES}\n    op.RunSQL('COMMIT'),\n    op.RunSQL('INSERT INTO no_such_table VALUES (1)'),")
    result = p.run("migrate:run")
    assert result.exit_code != 0 and "no_such_table" in result.output
    assert "nothing was changed" not in result.output and "marked as interrupted" in result.output
    assert "notes" in tables(pg_db)
    assert ledger(pg_db)[1][:2] == (SECOND, "running")


def test_sqlite_sql_that_commits_past_the_load_check_is_stopped_at_once(
    make_project: Any, sqlite_db: ServerDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelmig_core.history.migrations as migrations

    monkeypatch.setattr(migrations, "refuse_transaction_control", lambda path, ops: None)
    p = project(make_project, sqlite_db)
    later = "    op.CreateTable(op.Table('later', columns=[op.Column('id', 'integer', primary=True)])),"
    add_second(p, f"{NOTES}\n    op.RunSQL('COMMIT'),\n{later}")
    result = p.run("migrate:run")
    assert result.exit_code != 0 and "nothing was changed" not in result.output
    assert "notes" in tables(sqlite_db) and "later" not in tables(sqlite_db)
    assert ledger(sqlite_db)[1] == (SECOND, "running", 2)


# ---------------------------------------------------------------- 8. an interrupted migrate:fresh

TWO_TABLES = """
class Account(Model):
    table = "accounts"
    schema = {"id": column("increments"), "name": column("string", 50)}

class Zebra(Model):
    table = "zebras"
    schema = {"id": column("increments"), "name": column("string", 50)}
"""


@pytest.mark.parametrize("driver", ["mysql", "sqlite", "pg"])
@pytest.mark.parametrize("failing", ["accounts", "zebras", "modelmig_migrations"])
def test_an_interrupted_fresh_never_leaves_the_ledger_claiming_applied(
    make_project: Any, driver: str, failing: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}}, extra_config="lock_timeout = 2")
    p.models(TWO_TABLES)
    p.ok("make:migration", "--name", "create_tables")
    p.ok("migrate:run")
    from modelmig_core.sql.driver import SqlSession

    real = SqlSession._execute

    def failing_execute(self: Any, sql: str, params: Any = None) -> Any:
        if sql.startswith("DROP TABLE") and failing in sql:
            raise RuntimeError(f"injected failure dropping {failing}")
        return real(self, sql, params)

    monkeypatch.setattr(SqlSession, "_execute", failing_execute)
    result = p.run("migrate:fresh", "--force", "--yes")
    assert result.exit_code != 0 and "injected failure" in result.output
    monkeypatch.setattr(SqlSession, "_execute", real)

    left = tables(db)
    statuses = [
        m["status"] for m in json.loads(p.ok("migrate:status", "--json").stdout)["connections"][0]["migrations"]
    ]
    if {"accounts", "zebras"} <= left:
        # nothing of the models was dropped (one transaction on PostgreSQL and SQLite)
        assert statuses in (["applied"], ["interrupted"])
    else:
        assert statuses == ["interrupted"]  # never "applied" while its tables are gone
    if statuses == ["interrupted"]:
        rerun = p.run("migrate:run")
        assert rerun.exit_code != 0 and "migrate:fresh was interrupted" in rerun.output
        mid = p.migration_files()[0].stem
        resolve = p.run("migrate:resolve", mid, "--applied")
        assert resolve.exit_code != 0 and "run `modelmig migrate:fresh`" in resolve.output
    p.ok("migrate:fresh", "--force", "--yes")
    assert {"accounts", "zebras"} <= tables(db)
    assert [r[1] for r in ledger(db)] == ["applied"]


# ---------------------------------------------------------------- 9. what a checksum covers


LOCAL = [
    ("import sys\nsys.path.insert(0, '.')\n", "sys.path"),
    ("from . import helpers\n", "relative import"),
    ("import helpers\n", "import helpers"),
    ("from helpers import VALUE\n", "from helpers import"),
    ("import importlib\nH = importlib.import_module('helpers')\n", "dynamic import"),
    ("H = __import__('helpers')\n", "dynamic import"),
    ("from pathlib import Path\nSQL = Path(__file__).with_name('x.sql')\n", "__file__"),
    ("from sys import path as p\n", "from sys import path"),
    ("exec('x = 1')\n", "dynamic code"),
]


@pytest.mark.parametrize(("imports", "named"), LOCAL)
def test_a_migration_that_depends_on_other_files_is_refused(make_project: Any, imports: str, named: str) -> None:
    p = project(make_project)
    (p.root / "migrations" / "sql" / "helpers.py").write_text("VALUE = 1\n")
    path = add_second(p, NOTES, imports=imports)
    for command in (["make:migration", "--check"], ["migrate:run"]):
        result = p.run(*command)
        assert result.exit_code != 0
        assert str(path) in result.output and named in result.output and "line " in result.output
        assert "Traceback" not in result.output
    assert not (p.root / "app.sqlite3").exists() or "notes" not in {
        r[0] for r in sqlite3.connect(p.root / "app.sqlite3").execute("SELECT name FROM sqlite_master")
    }


def test_the_replay_cache_never_answers_for_a_file_that_gained_a_local_import(make_project: Any) -> None:
    p = project(make_project)
    path = add_second(p, "    op.RunSQL('SELECT 1', 'SELECT 1'),")
    p.ok("make:migration", "--check")  # replayed, cached
    path.write_text(path.read_text().replace('"""Written by hand."""\n', '"""Written by hand."""\nimport helpers\n'))
    (p.root / "migrations" / "sql" / "helpers.py").write_text("VALUE = 1\n")
    result = p.run("make:migration", "--check")
    assert result.exit_code != 0 and "import helpers" in result.output


def test_installed_imports_are_fine(make_project: Any) -> None:
    p = project(make_project)
    add_second(p, NOTES, imports="import json\nimport datetime as dt\nfrom os import path as osp\n")
    p.ok("migrate:run")


# ---------------------------------------------------------------- 11. stray files, chain errors, unknown statuses


@pytest.mark.parametrize("stray", ["helpers.py", "__init__.py", "notes.txt", ".DS_Store", "2026_add_users.py"])
def test_a_stray_file_in_the_chain_folder_blocks_nothing(make_project: Any, stray: str) -> None:
    p = project(make_project)
    (p.root / "migrations" / "sql" / stray).write_text("# not a migration\n")
    (p.root / "migrations" / "sql" / "__pycache__").mkdir(exist_ok=True)
    run = p.ok("migrate:run")
    status = p.ok("migrate:status")
    p.ok("make:migration", "--check")
    if stray.endswith(".py") and not stray.startswith("_"):
        assert stray in run.output and "not a migration" in run.output
    assert "applied" in status.output


def chain_of(p: Any, parents: dict[str, str | None]) -> None:
    folder = p.root / "migrations" / "sql"
    for f in folder.glob("*.py"):
        f.unlink()
    for mid, parent in parents.items():
        (folder / f"{mid}.py").write_text(
            f"from modelmig_core import operations as op\nid = {mid!r}\nfamily = 'sql'\nparent = {parent!r}\n"
            "up = []\ndown = []\n"
        )


A, B, C = "20260101000000_a", "20260102000000_b", "20260103000000_c"


@pytest.mark.parametrize(
    ("parents", "says", "never"),
    [
        ({A: None, B: "20250101000000_gone"}, "is not a migration of this chain", "same parent"),
        ({A: B, B: A}, "form a cycle", "same parent"),
        ({A: A}, "form a cycle", "same parent"),
        ({A: None, B: C, C: A}, "comes after it", "same parent"),
        ({A: None, B: A, C: A}, "same parent", "cycle"),
        ({A: None, B: None}, "same parent", "cycle"),
    ],
)
def test_each_chain_problem_has_its_own_message(
    make_project: Any, parents: dict[str, str | None], says: str, never: str
) -> None:
    p = project(make_project)
    chain_of(p, parents)
    result = p.run("make:migration", "--check")
    assert result.exit_code != 0 and says in result.output and never not in result.output
    assert ".py" in result.output


@pytest.mark.parametrize("driver", ["sqlite", "pg", "mysql"])
@pytest.mark.parametrize("status", ["done", "APPLIED", "", "applied "])
def test_a_ledger_row_with_an_unknown_status_is_an_error_never_applied(
    make_project: Any, driver: str, status: str, request: pytest.FixtureRequest
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = project(make_project, db)
    p.ok("migrate:run")
    mid = p.migration_files()[0].stem
    db.execute(f"UPDATE modelmig_migrations SET status = '{status}'")
    for command in (["migrate:status"], ["migrate:run"], ["migrate:rollback"], ["migrate:status", "--json"]):
        result = p.run(*command)
        assert result.exit_code != 0, command
        assert mid in result.output and "unknown status" in result.output and repr(status) in result.output
    assert "users" in tables(db)  # rollback did not take it for applied


# ---------------------------------------------------------------- 13. --pretend

V1 = """
class Thing(Model):
    table = "things"
    schema = {"id": column("increments"), "a": column("string", 20), "b": column("string", 20)}
    database = {"indexes": [index(["a"], name="ix_things_a")]}
"""
V2 = V1.replace('    database = {"indexes": [index(["a"], name="ix_things_a")]}\n', "")
V3 = V2.replace('"b": column("string", 20)', '"b": column("string", 20, nullable=True)')


def plan_text(output: str) -> str:
    """--pretend's output without its header lines (``-- main: <id> (up)``) and its
    closing summary (``main: would apply 2 (--pretend: nothing was changed)``)."""
    return "\n".join(
        line for line in output.splitlines() if not line.startswith("-- ") and not line.startswith("main: would ")
    )


def as_printed(statements: list[str]) -> str:
    return "\n".join(s if s.rstrip().endswith(";") else s + ";" for s in statements)


def test_sqlite_pretend_carries_the_facts_through_each_planned_migration(
    make_project: Any, sqlite_db: ServerDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first pending migration drops a declared index and the second rebuilds
    the table, keeping a hand-made trigger: pretend prints what run sends."""
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(V1)
    p.ok("make:migration", "--name", "v1")
    p.ok("migrate:run")
    sqlite_db.execute("CREATE TRIGGER things_audit AFTER INSERT ON things BEGIN SELECT 1; END")
    p.models(V2)
    p.ok("make:migration", "--name", "v2")
    p.models(V3)
    p.ok("make:migration", "--name", "v3")
    planned = plan_text(p.ok("migrate:run", "--pretend").stdout)

    from modelmig_core.sql.driver import SqlSession

    sent: list[str] = []
    real = SqlSession.perform

    def recording(self: Any, statement: Any) -> None:
        if statement.action is None:
            sent.append(statement.text)
        real(self, statement)

    monkeypatch.setattr(SqlSession, "perform", recording)
    p.ok("migrate:run")
    assert planned == as_printed(sent)
    assert "CREATE INDEX ix_things_a" not in planned and "things_audit" in planned
    names = {r[0] for r in sqlite_db.rows("SELECT name FROM sqlite_master")}
    assert "things_audit" in names and "ix_things_a" not in names


def test_pretend_never_creates_a_sqlite_database(make_project: Any) -> None:
    p = project(make_project)
    db = p.root / "app.sqlite3"
    run = p.ok("migrate:run", "--pretend")
    assert not db.exists()
    assert "does not exist yet" in run.output and "CREATE TABLE users" in run.output
    fresh = p.ok("migrate:fresh", "--pretend")
    assert not db.exists() and "CREATE TABLE users" in fresh.output
    p.ok("migrate:rollback", "--pretend")
    p.ok("migrate:status")
    assert not db.exists()
    p.ok("migrate:run")
    assert db.exists()


def test_sqlite_fresh_pretend_plans_for_the_wiped_database(make_project: Any, sqlite_db: ServerDb) -> None:
    """What the wipe drops (a hand-made trigger) is not kept by fresh's plan, and the
    database is left as it was."""
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(V1)
    p.ok("make:migration", "--name", "v1")
    p.models(V3)
    p.ok("make:migration", "--name", "v3")
    p.ok("migrate:run")
    sqlite_db.execute("CREATE TRIGGER things_audit AFTER INSERT ON things BEGIN SELECT 1; END")
    out = p.ok("migrate:fresh", "--pretend").stdout
    assert "CREATE TABLE things" in out and "things_audit" not in out
    names = {r[0] for r in sqlite_db.rows("SELECT name FROM sqlite_master")}
    assert "things_audit" in names and "things" in names


PARENTS = """
class Parent(Model):
    table = "parents"
    schema = {"id": column("increments"), "name": column("string", 20)}

class Child(Model):
    table = "children"
    schema = {"id": column("increments"), "parent_id": column("integer")}
    database = {"foreign_keys": [foreign_key(["parent_id"], "parents", ["id"], on_delete="cascade")]}
"""


def test_sqlite_atomic_false_rebuild_never_cascades_into_child_rows(make_project: Any, sqlite_db: ServerDb) -> None:
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(PARENTS)
    p.ok("make:migration", "--name", "v1")
    p.ok("migrate:run")
    sqlite_db.execute("INSERT INTO parents (id, name) VALUES (1, 'a')")
    sqlite_db.execute("INSERT INTO children (id, parent_id) VALUES (1, 1)")
    p.models(PARENTS.replace('column("string", 20)', 'column("string", 30)'))
    p.ok("make:migration", "--name", "v2")
    path = p.migration_files()[-1]
    path.write_text(path.read_text().replace("atomic = True", "atomic = False"))
    p.ok("migrate:run")
    assert sqlite_db.rows("SELECT id, parent_id FROM children") == [(1, 1)]
    assert [r[1] for r in ledger(sqlite_db)] == ["applied", "applied"]
    assert sqlite_db.scalar("SELECT sql FROM sqlite_master WHERE name = 'parents'").count("30") == 1


def run_sends(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    from modelmig_core.sql.driver import SqlSession

    sent: list[str] = []
    real = SqlSession.perform

    def recording(self: Any, statement: Any) -> None:
        if statement.action is None:
            sent.append(statement.text)
        real(self, statement)

    monkeypatch.setattr(SqlSession, "perform", recording)
    return sent


def hand_migration(p: Any, mid: str, up: str) -> None:
    parent = p.migration_files()[-1].stem
    (p.root / "migrations" / "sql" / f"{mid}.py").write_text(
        f"from modelmig_core import operations as op\n\nid = {mid!r}\nfamily = 'sql'\nparent = {parent!r}\n"
        f"atomic = True\n\nup = [\n{up}\n]\n\ndown = []\n"
    )


@pytest.mark.parametrize(
    "first",
    [
        # a RunSQL makes a trigger the second migration's rebuild must keep
        "    op.RunSQL('CREATE TRIGGER made_by_sql AFTER INSERT ON things BEGIN SELECT 2; END', 'SELECT 1'),",
        # a rename: SQLite rewrites the hand-made trigger's SQL, which the rebuild re-creates
        "    op.RenameTable('things', 'stuff'),",
    ],
)
def test_sqlite_pretend_follows_what_the_first_migration_does_to_the_schema(
    make_project: Any, sqlite_db: ServerDb, monkeypatch: pytest.MonkeyPatch, first: str
) -> None:
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(V2)
    p.ok("make:migration", "--name", "v1")
    p.ok("migrate:run")
    sqlite_db.execute("CREATE TRIGGER things_audit AFTER INSERT ON things BEGIN SELECT 1; END")
    sqlite_db.execute("INSERT INTO things (a, b) VALUES ('x', 'y')")
    table = "stuff" if "RenameTable" in first else "things"
    hand_migration(p, "20260105000000_first", first)
    p.models(V3.replace('"things"', f'"{table}"'))
    p.ok("make:migration", "--name", "second")
    before = sqlite_db.rows("SELECT type, name, sql FROM sqlite_master ORDER BY name")
    planned = plan_text(p.ok("migrate:run", "--pretend").stdout)
    assert sqlite_db.rows("SELECT type, name, sql FROM sqlite_master ORDER BY name") == before  # only read
    sent = run_sends(monkeypatch)
    p.ok("migrate:run")
    assert planned == as_printed(sent)
    triggers = {r[0] for r in sqlite_db.rows("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert "things_audit" in triggers
    assert sqlite_db.rows(f"SELECT a, b FROM {table}") == [("x", "y")]


@pytest.mark.parametrize("driver", ["pg", "mysql", "sqlite"])
def test_pretend_sees_a_view_an_earlier_pending_migration_creates(
    make_project: Any, driver: str, request: pytest.FixtureRequest
) -> None:
    """The first pending migration makes a view over a column the second drops: run
    refuses the drop, and so does --pretend (it does not print a plan run would not
    perform); with the view dropped again in between, both go ahead."""
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(V2)
    p.ok("make:migration", "--name", "v1")
    p.ok("migrate:run")
    hand_migration(
        p, "20260105000000_view", "    op.RunSQL('CREATE VIEW v_things AS SELECT a, b FROM things', 'SELECT 1'),"
    )
    p.models(V2.replace(', "b": column("string", 20)', ""))
    p.ok("make:migration", "--name", "drop_b")
    pretend = p.run("migrate:run", "--pretend")
    assert pretend.exit_code != 0 and "view v_things uses it" in pretend.output
    run = p.run("migrate:run")
    assert run.exit_code != 0 and "view v_things uses it" in run.output
    import sqlalchemy as sa

    engine = db.engine()
    try:
        assert {c["name"] for c in sa.inspect(engine).get_columns("things")} == {"id", "a", "b"}
    finally:
        engine.dispose()
    assert [r[1] for r in ledger(db)] == ["applied", "applied"]  # the view's migration ran, the drop did not

"""Issue 17, class 5: raw SQL the guard read as harmless while the server runs it
(MySQL executable comments, function and procedure calls, type changes, WHERE
clauses that are always true, opaque forms, comments that hide statements) counts
as destructive; RunPython counts as destructive unless ``destructive=False``; both
are guarded and backed up first in production."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmig_core.errors import MigrationFileError
from modelmig_core.operations import RunPython, RunSQL
from modelmig_core.run import guard
from modelmig_core.schema.sqltext import destructive_statements
from tests.support.servers import ServerDb

PROD = {"APP_ENV": "production"}
ALL_THREE = {"APP_ENV": "production", "MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}


@pytest.fixture(autouse=True)
def _no_configured_production_envs() -> Iterator[None]:
    guard.set_production_envs(())
    yield
    guard.set_production_envs(())


# ---------------------------------------------------------------- the classifier


@pytest.mark.parametrize(
    "sql",
    [
        # MySQL's executable comments: the server runs what they hold
        "SELECT 1 /*! ; DROP TABLE t */",
        "SELECT 1 /*!50000 ; DROP TABLE t */",
        "/*!50000 DROP TABLE t */",
        "/*M! DROP TABLE t */",
        "/*M!100000 DELETE FROM t */",
        "SELECT 1 /*!99999 , (SELECT 1) */; /*!TRUNCATE t*/",
        "SELECT 1 /*!50000 /*!50000 ; DROP TABLE t */ */",
        # functions and procedures that may change data
        "SELECT f()",
        "SELECT purge_everything(1)",
        "SELECT setval('items_id_seq', 1)",
        "SELECT pg_catalog.lo_unlink(42)",
        "SELECT lo_unlink(42)",
        "SELECT * FROM t WHERE f(id) > 0",
        "INSERT INTO log (x) VALUES (wipe())",
        "CALL p()",
        "CALL cleanup(1, 'x')",
        "DO f()",
        "DO $$ BEGIN DELETE FROM t; END $$",
        "PERFORM f()",
        "EXECUTE s",
        "EXECUTE s(1)",
        "PREPARE s FROM 'DELETE FROM t'",
        "PREPARE s AS DELETE FROM t",
        # type changes
        "ALTER TABLE t ALTER COLUMN c TYPE int USING c::int",
        "ALTER TABLE t ALTER COLUMN c TYPE varchar(3) USING left(c, 3)",
        "ALTER TABLE t ALTER COLUMN c TYPE varchar(3)",
        "ALTER TABLE t ALTER COLUMN c SET DATA TYPE numeric(4, 1)",
        "ALTER TABLE t MODIFY c VARCHAR(3)",
        "ALTER TABLE t CHANGE c c VARCHAR(3)",
        # WHERE clauses that are always true
        "DELETE FROM t WHERE 1=1",
        "DELETE FROM t WHERE true",
        "DELETE FROM t WHERE TRUE",
        "DELETE FROM t WHERE 1",
        "DELETE FROM t WHERE 2 > 1",
        "DELETE FROM t WHERE id = id",
        "DELETE FROM t WHERE (id) = (id)",
        "DELETE FROM t WHERE lower(name) = lower(name)",
        "DELETE FROM t WHERE x OR NOT x",
        "DELETE FROM t WHERE 'a'='a'",
        "DELETE FROM t WHERE NOT (id <> id)",
        "DELETE FROM t WHERE id > 5 OR id <= 5",
        "DELETE FROM t WHERE 5 < id OR id <= 5",
        "DELETE FROM t WHERE id IS NULL OR id IS NOT NULL",
        "DELETE FROM t WHERE id = 3 OR 1 = 1",
        "DELETE FROM t WHERE NULL IS NULL",
        "UPDATE t SET a = 1 WHERE 1=1",
        "UPDATE t SET a = 1 WHERE id IN (id)",
        "UPDATE t SET a = 1 WHERE id BETWEEN id AND id",
        "WITH x AS (SELECT 1) DELETE FROM t WHERE 1 = 1",
        # opaque forms, multi-statement tricks, comments that hide statements
        "REPLACE INTO t VALUES (1)",
        "LOAD DATA INFILE 'x' INTO TABLE t",
        "CREATE TRIGGER x BEFORE INSERT ON t FOR EACH ROW DELETE FROM u",
        "SELECT 1 # ; DROP TABLE t",
        "SELECT 1 #\n; SELECT 2",
        "SELECT 1; --x; DROP TABLE t",
        "SELECT 1 --\x0b; DROP TABLE t",
        "SELECT 1 /* DROP TABLE t */",
        "SELECT 1 -- DROP TABLE t",
        "SELECT 1 /* /* */ DROP TABLE t; */",
        "SELECT 1; -- x\rDROP TABLE t",
        "SELECT $$; DROP TABLE t; $$",
        "SELECT 'a\\'; DROP TABLE t; -- '",
        "SELECT 'a\\''; DROP TABLE t; -- '",
        'SELECT "a\\"; DROP TABLE t; -- "',
        "SELECT 1\x00; DROP TABLE t",
        "SELECT 1\x00",
        "SELEKT 1",
    ],
)
def test_raw_sql_the_server_runs_is_destructive(sql: str) -> None:
    found = destructive_statements(sql)
    assert found, sql
    assert all("\n" not in f and "\r" not in f for f in found)
    assert RunSQL(sql).destructive and RunSQL(sql).destructive_detail


@pytest.mark.parametrize(
    "sql",
    [
        "",
        "SELECT 1",
        "-- a note",
        "SELECT 1 /* a note */",
        "/*!40101 SET NAMES utf8mb4 */",
        "SELECT lower(name), count(*) FROM t GROUP BY 1",
        "SELECT CURRENT_TIMESTAMP",
        "CREATE INDEX ix ON t (a)",
        "CREATE TABLE t2 (id INT PRIMARY KEY)",
        "INSERT INTO t (a) VALUES (1)",
        "DELETE FROM t WHERE id = 1",
        "DELETE FROM t WHERE id = 1 AND 1 = 1",
        "DELETE FROM t WHERE id > 5 AND id <= 5",
        "UPDATE t SET a = 1 WHERE id IN (1, 2)",
        "UPDATE t SET a = 1 WHERE name LIKE 'x%'",
        "ALTER TABLE t ADD COLUMN c INT",
        "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1",
        "COMMENT ON TABLE t IS 'x'",
    ],
)
def test_ordinary_sql_is_not(sql: str) -> None:
    assert destructive_statements(sql) == [], sql


def test_the_finding_names_why() -> None:
    assert destructive_statements("SELECT setval('s', 1)") == [
        "\"SELECT SETVAL('s', 1)\" (calls setval(), which may change data)"
    ]
    assert destructive_statements("DELETE FROM t WHERE 1=1") == [
        "'DELETE FROM t WHERE 1 = 1' (its WHERE is always true)"
    ]
    [line] = destructive_statements("/*!50000 DROP TABLE t */")
    assert "executable comment" in line and "DROP TABLE t" in line
    [line] = destructive_statements("ALTER TABLE t ALTER COLUMN c TYPE int USING c::int")
    assert "USING" in line


# the attacker's pieces: statements that change t, harmless ones, and every quoting
# and comment trick the servers read differently
PIECES = [
    "DROP TABLE t",
    "DELETE FROM t",
    "UPDATE t SET a = 0",
    "DELETE FROM t WHERE 1=1",
    "SELECT 1",
    " WHERE ",
    "1=1",
    "a = a",
    "/*!",
    "/*M!",
    "/*!50000",
    "*/",
    "/*",
    "--",
    "-- ",
    "#",
    ";",
    "\n",
    "\r",
    "'",
    '"',
    "\\",
    "$$",
    "`",
    " ",
]


def _sqlite_oracle(sql: str) -> bool:
    """Whether SQLite, running ``sql``, changes table t."""
    c = sqlite3.connect(":memory:")
    try:
        c.execute("CREATE TABLE t (a INTEGER)")
        c.execute("INSERT INTO t VALUES (1)")
        try:
            c.executescript(sql)
        except (sqlite3.Error, ValueError):
            pass
        try:
            return c.execute("SELECT a FROM t").fetchall() != [(1,)]
        except sqlite3.Error:
            return True
    finally:
        c.close()


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=8).map("".join))
def test_whatever_changes_sqlite_is_destructive(sql: str) -> None:
    """Never harmless by the classifier while the server changed the table."""
    if _sqlite_oracle(sql):
        assert destructive_statements(sql), sql


def _server_changes(session: Any, sql: str) -> bool:
    session.execute("DROP TABLE IF EXISTS t")
    session.execute("CREATE TABLE t (a INTEGER)")
    session.execute("INSERT INTO t VALUES (1)")
    try:
        session.execute(sql)
    except Exception:  # noqa: BLE001 - a refusal changes nothing; the table says what did
        pass
    try:
        return session.execute("SELECT a FROM t") != [(1,)]
    except Exception:  # noqa: BLE001 - the table is gone
        return True


@pytest.mark.parametrize("database", ["pg", "mysql"])
def test_whatever_changes_a_server_is_destructive(database: str, request: pytest.FixtureRequest) -> None:
    """The same property on PostgreSQL and MariaDB, through the session RunSQL runs on."""
    from modelmig_core.registry import Registry

    db: ServerDb = request.getfixturevalue(f"{database}_db")
    driver = Registry().driver(database)
    with driver.connect(db.url) as session:

        @settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
        @given(st.lists(st.sampled_from(PIECES), min_size=1, max_size=6).map("".join))
        def check(sql: str) -> None:
            if "\x00" in sql:
                return
            if _server_changes(session, sql):
                assert destructive_statements(sql), sql

        check()
        for sql in (
            "SELECT 1 /*! ; DELETE FROM t */",
            "SELECT 1 # ;\nDELETE FROM t WHERE 1=1",
            "DELETE FROM t WHERE a = a",
        ):
            if _server_changes(session, sql):
                assert destructive_statements(sql), sql


def test_mariadb_runs_an_executable_comment(mysql_db: ServerDb) -> None:
    """What the classifier reads inside a /*! */ is what MariaDB runs."""
    from modelmig_core.registry import Registry

    with Registry().driver("mysql").connect(mysql_db.url) as session:
        for sql in (
            "/*!DELETE FROM t*/",
            "/*M!100000 DELETE FROM t */",
            "/*!50000 DELETE FROM t */",
            "DELETE FROM t WHERE a = 2 /*! OR 1=1 */",
            "UPDATE t SET a = 5 WHERE a = 2 /*!50000 OR a = a */",
        ):
            assert _server_changes(session, sql), sql
            assert destructive_statements(sql), sql


# ---------------------------------------------------------------- RunPython


def seed(conn: Any) -> None:
    pass


def test_run_python_is_destructive_unless_declared_harmless() -> None:
    assert RunPython(seed).destructive
    assert "RunPython seed" in (RunPython(seed).destructive_detail or "")
    assert not RunPython(seed, destructive=False).destructive
    assert RunPython(seed, destructive=False).destructive_detail is None
    assert not RunPython(seed, seed, destructive=False).inverse().destructive
    assert RunPython(seed, seed).inverse().destructive
    with pytest.raises(MigrationFileError, match="destructive must be True or False"):
        RunPython(seed, destructive="no")  # type: ignore[arg-type]


ITEMS = """
class Item(Model):
    table = "items"
    schema = {"id": column("increments"), "name": column("string", 50)}
"""


def items_project(make_project: Any, db: ServerDb) -> Any:
    p = make_project({"main": {"url": db.url}})
    p.models(ITEMS)
    p.ok("make:migration")
    p.ok("migrate:run")
    for i in (1, 2, 3):
        db.execute(f"INSERT INTO items (id, name) VALUES ({i}, 'n{i}')")
    return p


def hand_written(p: Any, name: str, up: str, down: str, head: str = "") -> str:
    parent = p.migration_files()[-1].stem
    mid = f"20270101000000_{name}"
    (p.root / "migrations" / "sql" / f"{mid}.py").write_text(
        "from modelmig_core import operations as op\n\n"
        + head
        + f"id = {mid!r}\nfamily = 'sql'\nparent = {parent!r}\natomic = True\n\nup = {up}\n\ndown = {down}\n"
    )
    return mid


def backups(p: Any) -> list[Path]:
    folder = p.root / "modelmig-backups"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def ledger_ids(db: ServerDb) -> list[str]:
    return [r[0] for r in db.rows("SELECT id FROM modelmig_migrations ORDER BY id")]


def refused(result: Any, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("error: ")]
    assert "refused" in line and "APP_ENV=production" in line, line
    for needle in needles:
        assert needle in line, line
    return line


WIPE = """
def wipe(conn):
    cur = conn.cursor()
    cur.execute("DELETE FROM items WHERE id > 1")
    cur.close()


def noop(conn):
    pass


"""


def test_run_python_is_guarded_and_backed_up_first_in_production(make_project: Any, any_db: ServerDb) -> None:
    p = items_project(make_project, any_db)
    mid = hand_written(p, "wipe", "[op.RunPython(wipe, noop)]", "[op.RunPython(noop, wipe)]", head=WIPE)
    for env, flags in ((PROD, []), (PROD, ["--force", "--yes"]), (ALL_THREE, ["--yes"])):
        refused(p.run("migrate:run", *flags, env=env), f"{mid}: RunPython wipe")
    assert sorted(any_db.rows("SELECT id FROM items")) == [(1,), (2,), (3,)]
    assert mid not in ledger_ids(any_db) and backups(p) == []
    result = p.ok("migrate:run", "--force", "--yes", env=ALL_THREE)
    assert result.output.index("backed up and verified") < result.output.index(f"applied {mid}")
    assert len(backups(p)) == 1
    assert any_db.rows("SELECT id FROM items") == [(1,)]


def test_run_python_declared_harmless_needs_no_flags(make_project: Any, sqlite_db: ServerDb) -> None:
    p = items_project(make_project, sqlite_db)
    mid = hand_written(
        p,
        "noop",
        "[op.RunPython(noop, noop, destructive=False)]",
        "[op.RunPython(noop, noop, destructive=False)]",
        WIPE,
    )
    result = p.ok("migrate:run", env=PROD)
    assert f"applied {mid}" in result.output and backups(p) == []


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM items WHERE id = 2 /*! OR 1=1 */",  # MariaDB deletes every row; the others only row 2
        "DELETE FROM items WHERE 1=1",
        "DELETE FROM items WHERE id = id",
        "UPDATE items SET name = 'x' WHERE 'a' = 'a'",
    ],
)
def test_raw_sql_read_as_harmless_before_is_guarded_and_backed_up(
    make_project: Any, any_db: ServerDb, sql: str
) -> None:
    p = items_project(make_project, any_db)
    mid = hand_written(p, "raw", f"[op.RunSQL({sql!r}, 'SELECT 1')]", "[op.RunSQL('SELECT 1', 'SELECT 1')]")
    refused(p.run("migrate:run", env=PROD), mid)
    assert len(any_db.rows("SELECT id FROM items")) == 3 and backups(p) == []
    result = p.ok("migrate:run", "--force", "--yes", env=ALL_THREE)
    assert result.output.index("backed up and verified") < result.output.index(f"applied {mid}")
    changed = any_db.rows("SELECT id, name FROM items ORDER BY id")
    assert changed != [(1, "n1"), (2, "n2"), (3, "n3")]  # the server did run it: the guard was right

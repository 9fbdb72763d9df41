"""The data-loss holes: raw SQL that drops data is guarded like DropTable (read with
sqlglot, unparseable text counts as destructive), a check constraint is exactly one
SQL expression (so no SQL can be smuggled through one), and APP_ENV names
production however it is spelled."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from modelmig_core.errors import MigrationFileError
from modelmig_core.history.migrations import Migration
from modelmig_core.operations import DropTable, RunSQL, Table
from modelmig_core.run import guard
from modelmig_core.schema.sqltext import check_expression_problem, destructive_statements
from tests.support.servers import ServerDb

PROD = {"APP_ENV": "production"}
ALL_THREE = {"APP_ENV": "production", "MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}
ROWS = [(1, "one"), (2, "two"), (3, "three")]

ITEMS = """
class Item(Model):
    table = "items"
    schema = {"id": column("increments"), "name": column("string", 50)}
"""


@pytest.fixture(autouse=True)
def _no_configured_production_envs() -> Iterator[None]:
    """open_app sets the config's production_envs for the process; start and end clean."""
    guard.set_production_envs(())
    yield
    guard.set_production_envs(())


def one_error_line(result, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------- sqltext: which SQL drops data


@pytest.mark.parametrize(
    ("sql", "destructive"),
    [
        ("DROP TABLE items", True),
        ("drop table if exists items", True),
        ("DROP VIEW admins", True),
        ("DROP INDEX ix_items_name", True),
        ("DROP INDEX CONCURRENTLY ix_items_name", True),
        ("DROP SCHEMA reporting CASCADE", True),
        ("DROP DATABASE app", True),
        ("ALTER TABLE t DROP COLUMN c", True),
        ("ALTER TABLE t DROP CONSTRAINT ck_t", True),
        ("ALTER TABLE t DROP PRIMARY KEY", True),
        ("TRUNCATE t", True),
        ("TRUNCATE TABLE t", True),
        ("DELETE FROM t", True),
        ("DELETE FROM t WHERE id = 1", False),
        ("UPDATE t SET a = 1", True),
        ("UPDATE t SET a = 1 WHERE id = 2", False),
        ("WITH gone AS (DELETE FROM t RETURNING *) SELECT count(*) FROM gone", True),
        ("CREATE OR REPLACE TABLE t (a INT)", True),
        ("INSERT INTO t (a) VALUES (1)", False),
        ("INSERT INTO t (a) SELECT a FROM u WHERE a > 0", False),
        ("CREATE INDEX ix ON t (a)", False),
        ("CREATE INDEX CONCURRENTLY ix ON t (a)", False),
        ("CREATE UNIQUE INDEX ux ON t (a, b)", False),
        ("CREATE VIEW v AS SELECT a FROM t", False),
        ("CREATE TABLE t2 (id INT PRIMARY KEY)", False),
        ("ALTER TABLE t ADD COLUMN c INT", False),
        ("ALTER TABLE t RENAME TO u", False),
        ("ALTER TABLE t MODIFY COLUMN c BIGINT", True),  # a type change may cut or round values
        ("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql", True),  # opaque to MySQL and SQLite
        ("SELECT pg_sleep(1)", True),  # a function sqlglot does not know may change data: fail safe
        ("COMMENT ON TABLE t IS 'x'", False),
        ("", False),
        ("-- nothing but a comment", False),
        ("SELECT 1; DROP TABLE items", True),
        ("CREATE TABLE a (x INT); DELETE FROM a", True),
        ("SELEKT * FROM items", True),  # cannot be parsed: fail safe
        ("DROP TABLE", True),
        ("DO $$ BEGIN EXECUTE 'DROP TABLE items'; END $$", True),  # an opaque block
        ("VACUUM", True),  # a statement sqlglot only knows as an opaque command
        ("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE", True),
    ],
)
def test_destructive_statements(sql: str, destructive: bool) -> None:
    found = destructive_statements(sql)
    assert bool(found) is destructive, found
    assert all("\n" not in f for f in found)


def test_destructive_statements_name_each_statement() -> None:
    assert destructive_statements("SELECT 1; DROP TABLE items; DELETE FROM logs") == [
        "'DROP TABLE items'",
        "'DELETE FROM logs' (no WHERE)",
    ]
    assert destructive_statements(["CREATE TABLE a (x INT)", "UPDATE a SET x = 1"]) == [
        "'UPDATE a SET x = 1' (no WHERE)"
    ]
    assert destructive_statements("SELEKT") == ["'SELEKT' (cannot be parsed)"]
    assert destructive_statements(["CREATE INDEX ix ON t (a)", "INSERT INTO t VALUES (1)"]) == []


def test_a_string_quoted_differently_by_mysql_counts_if_any_dialect_drops() -> None:
    """Generic SQL reads two SELECTs; MySQL (backslash escapes) reads a DROP between them."""
    assert destructive_statements("SELECT 'a\\'; SELECT '; DROP TABLE x; -- '") == ["'DROP TABLE x'"]


# ---------------------------------------------------------------- RunSQL.destructive


def test_run_sql_destructive_follows_the_sql_and_the_flag() -> None:
    assert RunSQL("DROP TABLE items").destructive
    assert not RunSQL("CREATE INDEX ix ON items (name)").destructive
    assert RunSQL("SELECT 1", destructive_sql=True).destructive  # the author's word
    assert not RunSQL("DROP TABLE items", destructive_sql=False).destructive  # the explicit opt-out
    assert RunSQL("DROP TABLE items").destructive_detail == "RunSQL 'DROP TABLE items'"
    assert RunSQL(["DROP TABLE a", "TRUNCATE b"]).destructive_detail == "RunSQL 'DROP TABLE a' (+1 more)"
    assert DropTable.destructive and DropTable(Table("t", columns=())).destructive


def test_run_sql_inverse_reads_reverse_sql_and_keeps_an_explicit_flag() -> None:
    create = RunSQL("CREATE TABLE extra (id INT)", "DROP TABLE extra")
    assert not create.destructive and create.inverse().destructive  # None: each side read on its own
    assert not RunSQL("DROP TABLE extra", "CREATE TABLE extra (id INT)", destructive_sql=False).inverse().destructive
    assert RunSQL("SELECT 1", "SELECT 1", destructive_sql=True).inverse().destructive
    with pytest.raises(MigrationFileError, match="destructive_sql must be True, False or None"):
        RunSQL("SELECT 1", destructive_sql="no")  # type: ignore[arg-type]


def test_migration_names_the_statement_that_drops(tmp_path: Path) -> None:
    up = [
        RunSQL("CREATE INDEX ix ON t (a)", "DELETE FROM t WHERE a < 0"),
        RunSQL("DROP TABLE items", "CREATE TABLE items (id INT)"),
    ]
    m = Migration("20270101000000_x", "sql", None, up, [u.inverse() for u in reversed(up)], tmp_path, "")
    assert m.destructive_up and m.destructive_label("up") == "20270101000000_x: RunSQL 'DROP TABLE items'"
    assert not m.destructive_down and m.destructive_label("down") is None


# ---------------------------------------------------------------- RunSQL end to end, on every SQL driver


def items_project(make_project, db: ServerDb):
    p = make_project({"main": {"url": db.url}})
    p.models(ITEMS)
    p.ok("make:migration")
    p.ok("migrate:run")
    for i, name in ROWS:
        db.execute(f"INSERT INTO items (id, name) VALUES ({i}, '{name}')")
    return p


def hand_written(p, name: str, up: str, down: str, stamp: str = "20270101000000", head: str = "") -> str:
    """A hand-written migration after the last one; returns its id."""
    parent = p.migration_files()[-1].stem
    mid = f"{stamp}_{name}"
    (p.root / "migrations" / "sql" / f"{mid}.py").write_text(
        "from modelmig_core import operations as op\n\n"
        + head
        + f"id = {mid!r}\nfamily = 'sql'\nparent = {parent!r}\natomic = True\n\nup = {up}\n\ndown = {down}\n"
    )
    return mid


def backups(p) -> list[Path]:
    folder = p.root / "modelmig-backups"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def table_exists(db: ServerDb, table: str) -> bool:
    import sqlalchemy as sa

    engine = db.engine()
    try:
        return sa.inspect(engine).has_table(table)
    finally:
        engine.dispose()


def ledger_ids(db: ServerDb) -> list[str]:
    return [r[0] for r in db.rows("SELECT id FROM modelmig_migrations ORDER BY id")]


DROP_ITEMS = "[op.RunSQL('DROP TABLE items', 'CREATE TABLE items (id int)')]"
CREATE_ITEMS = "[op.RunSQL('CREATE TABLE items (id int)', 'DROP TABLE items')]"


def test_run_sql_that_drops_is_refused_in_production(make_project, any_db: ServerDb) -> None:
    p = items_project(make_project, any_db)
    mid = hand_written(p, "drop_items", DROP_ITEMS, CREATE_ITEMS)
    for env, flags in ((PROD, []), (PROD, ["--force", "--yes"]), (ALL_THREE, ["--yes"]), (ALL_THREE, ["--force"])):
        line = one_error_line(p.run("migrate:run", *flags, env=env), "refused", "APP_ENV=production")
        assert f"migrate:run ({mid}: RunSQL 'DROP TABLE items') drops data" in line
    assert sorted(any_db.rows("SELECT id, name FROM items")) == ROWS
    assert mid not in ledger_ids(any_db)
    assert backups(p) == []


def test_run_sql_that_drops_runs_with_all_three_after_a_verified_backup(make_project, any_db: ServerDb) -> None:
    p = items_project(make_project, any_db)
    mid = hand_written(p, "drop_items", DROP_ITEMS, CREATE_ITEMS)
    result = p.ok("migrate:run", "--force", "--yes", env=ALL_THREE)
    [path] = backups(p)
    assert path.stat().st_size > 0
    verified = re.search(r"backed up and verified (\d+) table\(s\), (\d+) row\(s\) before migrate:run", result.output)
    assert verified and int(verified.group(2)) >= len(ROWS) + 1, result.output  # items and the ledger
    assert result.output.index("backed up and verified") < result.output.index(f"applied {mid}")
    assert not table_exists(any_db, "items")
    if any_db.driver == "sqlite":  # the backup holds the dropped rows
        c = sqlite3.connect(path)
        try:
            assert sorted(c.execute("SELECT id, name FROM items").fetchall()) == ROWS
        finally:
            c.close()


def test_destructive_sql_false_opts_out(make_project, any_db: ServerDb) -> None:
    p = items_project(make_project, any_db)
    mid = hand_written(p, "drop_items", DROP_ITEMS, CREATE_ITEMS)
    one_error_line(p.run("migrate:run", env=PROD), "refused")
    path = p.root / "migrations" / "sql" / f"{mid}.py"
    path.write_text(
        path.read_text().replace(
            "'CREATE TABLE items (id int)')]\n\ndown", "'CREATE TABLE items (id int)', destructive_sql=False)]\n\ndown"
        )
    )
    assert "destructive_sql=False" in path.read_text()
    p.ok("migrate:run", env=PROD)
    assert not table_exists(any_db, "items")
    assert backups(p) == []


def test_destructive_sql_true_is_guarded_whatever_the_sql(make_project, sqlite_db: ServerDb) -> None:
    p = items_project(make_project, sqlite_db)
    mid = hand_written(
        p,
        "touch",
        "[op.RunSQL('SELECT 1', 'SELECT 1', destructive_sql=True)]",
        "[op.RunSQL('SELECT 1', 'SELECT 1', destructive_sql=True)]",
    )
    one_error_line(p.run("migrate:run", env=PROD), f"{mid}: RunSQL 'SELECT 1' (destructive_sql=True)")
    p.ok("migrate:run", "--force", "--yes", env=ALL_THREE)
    assert len(backups(p)) == 1


def test_run_sql_that_drops_nothing_needs_no_flags(make_project, any_db: ServerDb) -> None:
    p = items_project(make_project, any_db)
    drop = "DROP INDEX ix_items_name ON items" if any_db.driver == "mysql" else "DROP INDEX ix_items_name"
    create = "CREATE INDEX ix_items_name ON items (name)"
    index, unindex = f"[op.RunSQL({create!r}, {drop!r})]", f"[op.RunSQL({drop!r}, {create!r})]"
    mid = hand_written(p, "index_items", index, unindex)
    result = p.ok("migrate:run", env=PROD)
    assert f"applied {mid}" in result.output and "backed up" not in result.output
    assert mid in ledger_ids(any_db) and backups(p) == []
    # ...while rolling it back drops the index: that is guarded
    one_error_line(p.run("migrate:rollback", env=PROD), "refused", f"{mid}: RunSQL 'DROP INDEX ix_items_name")
    assert mid in ledger_ids(any_db)


def test_rollback_whose_reverse_sql_drops_is_guarded(make_project, any_db: ServerDb) -> None:
    p = items_project(make_project, any_db)
    head = "create_extra = op.RunSQL('CREATE TABLE extra (id int)', 'DROP TABLE extra')\n\n"
    mid = hand_written(p, "create_extra", "[create_extra]", "[create_extra.inverse()]", head=head)
    p.ok("migrate:run", env=PROD)  # creating drops nothing
    any_db.execute("INSERT INTO extra (id) VALUES (7)")
    line = one_error_line(p.run("migrate:rollback", env=PROD), "refused")
    assert f"migrate:rollback ({mid}: RunSQL 'DROP TABLE extra') drops data" in line
    assert any_db.rows("SELECT id FROM extra") == [(7,)]
    assert mid in ledger_ids(any_db) and backups(p) == []
    result = p.ok("migrate:rollback", "--force", "--yes", env=ALL_THREE)
    assert "backed up and verified" in result.output and len(backups(p)) == 1
    assert not table_exists(any_db, "extra") and mid not in ledger_ids(any_db)


# ---------------------------------------------------------------- sqlglot is loaded only when needed

PROBE = textwrap.dedent(
    """
    import json, sys
    from modelmig_core.cli import cli
    try:
        cli(sys.argv[1:], prog_name="modelmig")
    except SystemExit:
        pass
    sys.stderr.write("PROBE " + json.dumps("sqlglot" in sys.modules) + "\\n")
    """
)


def sqlglot_loaded(p, *args: str) -> bool:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=p.root, capture_output=True, text=True)
    line = next(x for x in result.stderr.splitlines() if x.startswith("PROBE "))
    return json.loads(line[len("PROBE ") :])


def test_sqlglot_is_imported_only_to_read_sql(make_project, sqlite_db: ServerDb) -> None:
    p = items_project(make_project, sqlite_db)
    assert not sqlglot_loaded(p, "--help")
    assert not sqlglot_loaded(p, "migrate:run")  # nothing pending
    assert not sqlglot_loaded(p, "migrate:status")
    hand_written(
        p,
        "index_items",
        "[op.RunSQL('CREATE INDEX ix ON items (name)', 'DROP INDEX ix')]",
        "[op.RunSQL('DROP INDEX ix', 'CREATE INDEX ix ON items (name)')]",
    )
    assert sqlglot_loaded(p, "migrate:run")  # a pending RunSQL is read before it runs


# ---------------------------------------------------------------- check constraints: one expression, nothing more

INJECTION = "x > 0)); DROP TABLE victims; CREATE TABLE zz (q int CHECK (q > 0"

ACCEPTED = [
    "length(title) > 0",
    "price >= 0 AND price < 1000",
    "status IN ('a', 'b')",
    "x IS NOT NULL",
    "a > b OR c = 1",
    "lower(email) = email",
    "(x > 0)",
]


def checked_model(*checks: str, names: bool = True) -> str:
    entries = ", ".join(
        f"check({c!r}, name='ck_things_{i}')" if names else f"check({c!r})" for i, c in enumerate(checks)
    )
    return f"""
class Thing(Model):
    table = "things"
    schema = {{
        "id": column("increments"),
        "title": column("string", 50),
        "price": column("decimal", (8, 2)),
        "status": column("string", 1),
        "x": column("integer", nullable=True),
        "a": column("integer"),
        "b": column("integer"),
        "c": column("integer"),
        "email": column("string", 100),
    }}
    database = {{"checks": [{entries}]}}
"""


@pytest.mark.parametrize("expression", [*ACCEPTED, "char_length(title) > 0", "title ~ '^[a-z]'", "note <> '--'"])
def test_ordinary_checks_are_one_expression(expression: str) -> None:
    assert check_expression_problem(expression) is None


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        (INJECTION, "contains ';'"),
        ("x > 0; DROP TABLE victims", "contains ';'"),
        ("x > 0) OR (1 = 1", "unbalanced parentheses"),
        ("x > 0)) OR ((1 = 1", "unbalanced parentheses"),
        ("(x > 0", "unbalanced parentheses"),
        ("x > 0 -- the rest is gone", "comment"),
        ("x > 0 /* hidden */", "comment"),
        ("x > 0 # MySQL comment", "comment"),
        ("SELECT 1", "is a SELECT statement"),
        ("DROP TABLE victims", "is a DROP statement"),
        ("CREATE TABLE zz (q int)", "is a CREATE statement"),
        ("x IN (SELECT id FROM victims)", "contains a"),
        ("x > 0 AND", "does not parse"),
        ("x > 0, y > 0", "does not parse"),
        ("s <> 'a\\' ) ; DROP TABLE t; -- '", "contains ';'"),  # a string to MySQL, a statement to others
        ("x = $$ ) ; DROP TABLE t; ( $$", "contains ';'"),  # a string to PostgreSQL, a statement to others
    ],
)
def test_anything_but_one_expression_is_refused(expression: str, problem: str) -> None:
    found = check_expression_problem(expression)
    assert found is not None and problem in found, found


def test_check_injection_is_refused_at_make(make_project) -> None:
    p = make_project()
    p.models(checked_model("x > 0", INJECTION))
    line = one_error_line(p.run("make:migration"), "models.py", "model Thing", "check 'ck_things_1'", "contains ';'")
    assert "ck_things_0" not in line
    assert p.migration_files() == []
    p.models(checked_model(INJECTION, names=False))  # a generated name is named too
    one_error_line(p.run("make:migration"), "model Thing", "check 'ck_things_")
    assert p.migration_files() == []


def test_ordinary_checks_still_make_and_run_on_sqlite(make_project, sqlite_db: ServerDb) -> None:
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(checked_model(*ACCEPTED))
    p.ok("make:migration")
    p.ok("migrate:run")
    sqlite_db.execute(
        "INSERT INTO things (title, price, status, x, a, b, c, email) VALUES ('t', 1, 'a', 1, 2, 1, 1, 'e')"
    )
    with pytest.raises(Exception, match="CHECK constraint failed"):
        sqlite_db.execute(
            "INSERT INTO things (title, price, status, x, a, b, c, email) VALUES ('t', 1, 'z', 1, 2, 1, 1, 'e')"
        )
    assert "No changes" in p.ok("make:migration").output
    before = p.migration_files()
    p.models(checked_model(*ACCEPTED, "length(email) > 0 --, and the rest of the line is gone"))
    one_error_line(p.run("make:migration"), "model Thing", "check 'ck_things_7'", "contains a comment")
    assert p.migration_files() == before


def test_check_injection_never_reaches_postgres(make_project, pg_db: ServerDb) -> None:
    pg_db.execute("CREATE TABLE victims (id int)")
    pg_db.execute("INSERT INTO victims VALUES (1)")
    p = make_project({"main": {"url": pg_db.url}})
    p.models(checked_model("char_length(title) > 0", INJECTION))
    one_error_line(p.run("make:migration"), "model Thing", "check 'ck_things_1'")
    assert p.migration_files() == []
    p.ok("migrate:run")  # nothing to migrate
    assert pg_db.rows("SELECT id FROM victims") == [(1,)]
    assert not table_exists(pg_db, "zz") and not table_exists(pg_db, "things")
    p.models(checked_model("char_length(title) > 0"))  # the honest check still makes and runs there
    p.ok("make:migration")
    p.ok("migrate:run")
    assert table_exists(pg_db, "things")


# ---------------------------------------------------------------- APP_ENV spellings

USERS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100)}
"""


def users_project(make_project, extra_config: str = ""):
    p = make_project(extra_config=extra_config)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run")
    with sqlite3.connect(p.root / "app.sqlite3") as c:
        c.execute("INSERT INTO users (email) VALUES ('kept@example.com')")
    return p


def users(p) -> list[tuple[str]]:
    c = sqlite3.connect(p.root / "app.sqlite3")
    try:
        return c.execute("SELECT email FROM users").fetchall()
    finally:
        c.close()


@pytest.mark.parametrize("app_env", [" production", "PROD", "Production\n", "prod ", "\tproduction\t"])
def test_production_however_spelled_is_guarded(make_project, app_env: str) -> None:
    p = users_project(make_project)
    line = one_error_line(p.run("migrate:rollback", env={"APP_ENV": app_env}), "refused", "drops data and APP_ENV=")
    assert "--force" in line and "--yes" in line
    assert users(p) == [("kept@example.com",)]
    one_error_line(p.run("migrate:reset", "--yes", env={"APP_ENV": app_env}), "refused")
    assert users(p) == [("kept@example.com",)]


def test_configured_production_envs_are_guarded_and_backed_up(make_project) -> None:
    p = users_project(make_project, extra_config='production_envs = ["live"]')
    one_error_line(p.run("migrate:rollback", env={"APP_ENV": "live"}), "refused", "APP_ENV=live (production)")
    one_error_line(p.run("migrate:rollback", env={"APP_ENV": " LIVE "}), "refused")
    assert users(p) == [("kept@example.com",)]
    assert "refused" in one_error_line(p.run("migrate:rollback", env={"APP_ENV": "production"}))  # the defaults stay
    result = p.ok(
        "migrate:rollback", "--force", "--yes", env={"APP_ENV": "live", "MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}
    )
    assert "backed up and verified" in result.output and len(backups(p)) == 1


def test_other_app_envs_are_not_production(make_project, monkeypatch) -> None:
    p = users_project(make_project, extra_config='production_envs = ["live"]')
    p.ok("migrate:rollback", env={"APP_ENV": "development"})  # not production: no flags, no backup
    assert backups(p) == []
    guard.set_production_envs(["live"])
    for value in ("development", "staging", "liveish", "pro d", "preprod", "_prod", "prd"):
        monkeypatch.setenv("APP_ENV", value)
        assert not guard.in_production(), value
    p2 = users_project(make_project)  # "live" counts only where the config says so
    p2.ok("migrate:rollback", env={"APP_ENV": "live"})


def test_in_production_unit(monkeypatch) -> None:
    for value, expected in [
        (" production", True),
        ("PROD", True),
        ("Production\n", True),
        ("development", False),
        ("", False),
        ("live", False),
    ]:
        monkeypatch.setenv("APP_ENV", value)
        assert guard.in_production() is expected, value
    guard.set_production_envs([" Live "])
    monkeypatch.setenv("APP_ENV", "LIVE")
    assert guard.in_production()


def test_production_envs_must_be_a_list_of_names(make_project) -> None:
    p = make_project(extra_config='production_envs = "live"')
    p.models(USERS)
    one_error_line(p.run("make:migration"), "'production_envs' must be a list")

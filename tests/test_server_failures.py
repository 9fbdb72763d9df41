"""A migration that fails halfway, on real servers.

PostgreSQL: the migration and its ledger row share one transaction, so nothing
of it remains and the ledger has no row for it. MariaDB auto-commits DDL: the
ledger row, written before the first statement, stays ``running`` with the
number of the statement last sent (recorded before it was sent); the next ``migrate:status`` and ``migrate:run``
report the interrupted migration by name until ``migrate:resolve`` settles it.
Either way the runner lock is released after the failure.
"""

from __future__ import annotations

from typing import Any

import pytest

from modelmig_core.app import open_app
from modelmig_core.errors import MigrationFailed
from modelmig_core.run.runner import Runner
from modelmig_core.targets import select_targets
from tests.support.servers import ServerDb

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191, unique=True)}
"""

FAILING_ID = "20260102000000_add_notes_and_nickname"


def failing_migration(parent: str, bad_sql: str = "INSERT INTO no_such_table VALUES (1)") -> str:
    """Two statements that work, then one that fails, then one more."""
    return f'''"""Fails at its third operation."""

from modelmig_core import operations as op

id = {FAILING_ID!r}
family = "sql"
parent = {parent!r}
atomic = True

up = [
    op.CreateTable(op.Table("notes", columns=[
        op.Column("id", "integer", primary=True, autoincrement=True),
        op.Column("body", "string", length=50),
    ])),
    op.AddColumn("users", op.Column("nickname", "string", length=30, nullable=True)),
    op.RunSQL({bad_sql!r}, "SELECT 1"),
    op.CreateIndex("notes", op.Index("ix_notes_body", ["body"])),
]

down = [
    op.DropIndex("notes", op.Index("ix_notes_body", ["body"])),
    op.RunSQL("SELECT 1", {bad_sql!r}),
    op.DropColumn("users", op.Column("nickname", "string", length=30, nullable=True)),
    op.DropTable(op.Table("notes", columns=[
        op.Column("id", "integer", primary=True, autoincrement=True),
        op.Column("body", "string", length=50),
    ])),
]
'''


def project_with_failing_migration(make_project: Any, db: ServerDb) -> Any:
    p = make_project({"main": {"url": db.url}}, extra_config="lock_timeout = 2")
    p.models(MODELS)
    p.ok("make:migration", "--name", "create_users")
    first = p.migration_files()[0].stem
    (p.root / "migrations" / "sql" / f"{FAILING_ID}.py").write_text(failing_migration(first))
    return p


def tables(db: ServerDb) -> set[str]:
    import sqlalchemy as sa

    engine = db.engine()
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def columns(db: ServerDb, table: str) -> set[str]:
    import sqlalchemy as sa

    engine = db.engine()
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def ledger(db: ServerDb) -> list[tuple[Any, ...]]:
    return db.rows("SELECT id, status, progress FROM modelmig_migrations ORDER BY id")


def fix_migration(p: Any) -> None:
    """The user fixes the failing statement."""
    path = p.root / "migrations" / "sql" / f"{FAILING_ID}.py"
    path.write_text(path.read_text().replace("INSERT INTO no_such_table VALUES (1)", "SELECT 2"))


def test_pg_failed_migration_leaves_nothing(make_project: Any, pg_db: ServerDb) -> None:
    p = project_with_failing_migration(make_project, pg_db)
    result = p.run("migrate:run")
    assert result.exit_code != 0
    assert FAILING_ID in result.output and "no_such_table" in result.output
    assert "Traceback" not in result.output

    # the first migration (its own transaction) is applied; nothing of the failing one remains
    assert [r[0] for r in ledger(pg_db)] == [p.migration_files()[0].stem]
    assert "notes" not in tables(pg_db)
    assert "nickname" not in columns(pg_db, "users")
    status = p.ok("migrate:status").output
    assert f"{FAILING_ID}  pending" in status

    fix_migration(p)
    p.ok("migrate:run")
    assert [r[1] for r in ledger(pg_db)] == ["applied", "applied"]
    assert "notes" in tables(pg_db) and "nickname" in columns(pg_db, "users")


def test_mysql_interrupted_migration_is_reported_then_resolved(make_project: Any, mysql_db: ServerDb) -> None:
    p = project_with_failing_migration(make_project, mysql_db)
    result = p.run("migrate:run")
    assert result.exit_code != 0
    assert FAILING_ID in result.output and "no_such_table" in result.output

    # DDL auto-committed: two statements ran, the third was sent (recorded before it was sent)
    first = p.migration_files()[0].stem
    assert ledger(mysql_db)[1:] == [(FAILING_ID, "running", 3)]
    assert ledger(mysql_db)[0][:2] == (first, "applied")
    assert "notes" in tables(mysql_db) and "nickname" in columns(mysql_db, "users")

    # status and run name the interrupted migration; run neither skips nor re-runs it
    status = p.ok("migrate:status").output
    assert f"{FAILING_ID}  interrupted" in status
    json_status = p.ok("migrate:status", "--json").output
    assert '"status": "interrupted"' in json_status
    rerun = p.run("migrate:run")
    assert rerun.exit_code != 0
    assert f"migration {FAILING_ID} was interrupted" in rerun.output
    assert f"migrate:resolve {FAILING_ID} --applied" in rerun.output
    assert ledger(mysql_db)[1] == (FAILING_ID, "running", 3)
    rollback = p.run("migrate:rollback")
    assert rollback.exit_code != 0 and FAILING_ID in rollback.output

    # resolve needs an outcome, and only settles interrupted migrations
    assert p.run("migrate:resolve", FAILING_ID).exit_code != 0
    wrong = p.run("migrate:resolve", first, "--applied")
    assert wrong.exit_code != 0 and "not interrupted" in wrong.output

    # the user undoes what ran, then says it is rolled back; the fixed migration runs cleanly
    mysql_db.execute("DROP TABLE notes")
    mysql_db.execute("ALTER TABLE users DROP COLUMN nickname")
    out = p.ok("migrate:resolve", FAILING_ID, "--rolled-back").output
    assert f"marked {FAILING_ID} as rolled back" in out
    assert [r[0] for r in ledger(mysql_db)] == [first]
    fix_migration(p)
    p.ok("migrate:run")
    assert [r[:2] for r in ledger(mysql_db)] == [(first, "applied"), (FAILING_ID, "applied")]
    assert ledger(mysql_db)[1][2] == 4  # statements sent
    assert "ix_notes_body" in {r[2] for r in mysql_db.rows("SHOW INDEX FROM notes")}


def test_mysql_resolve_applied_after_manual_completion(make_project: Any, mysql_db: ServerDb) -> None:
    p = project_with_failing_migration(make_project, mysql_db)
    assert p.run("migrate:run").exit_code != 0
    # the user finishes the migration by hand and marks it applied
    mysql_db.execute("CREATE INDEX ix_notes_body ON notes (body)")
    p.ok("migrate:resolve", FAILING_ID[:20], "--applied")  # an unambiguous prefix is enough
    assert [r[1] for r in ledger(mysql_db)] == ["applied", "applied"]
    assert "nothing to migrate" in p.ok("migrate:run").output
    # and it rolls back like any applied migration (down has a RunSQL that fails: fix it first)
    path = p.root / "migrations" / "sql" / f"{FAILING_ID}.py"
    path.write_text(path.read_text().replace("INSERT INTO no_such_table VALUES (1)", "SELECT 2"))
    refused = p.run("migrate:rollback")  # the file changed since it was applied
    assert refused.exit_code != 0 and f"{FAILING_ID}.py was modified after it was applied" in refused.stderr
    p.ok("migrate:rollback", "--force")
    assert "notes" not in tables(mysql_db)


def test_mysql_failure_before_any_statement_leaves_ledger_clean(make_project: Any, mysql_db: ServerDb) -> None:
    """Nothing ran, so there is nothing to resolve: the row is removed again."""
    p = make_project({"main": {"url": mysql_db.url}})
    p.models(MODELS)
    p.ok("make:migration", "--name", "create_users")
    first = p.migration_files()[0].stem
    source = failing_migration(first, bad_sql="INSERT INTO no_such_table VALUES (1)")
    source = source.replace("up = [\n", "up = [\n    op.RunSQL('SELECT * FROM missing_first', 'SELECT 1'),\n", 1)
    (p.root / "migrations" / "sql" / f"{FAILING_ID}.py").write_text(source)
    result = p.run("migrate:run")
    assert result.exit_code != 0 and "missing_first" in result.output
    assert [r[:2] for r in ledger(mysql_db)] == [(first, "applied")]
    assert f"{FAILING_ID}  pending" in p.ok("migrate:status").output


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_lock_released_after_failure(make_project: Any, driver: str, request: pytest.FixtureRequest) -> None:
    """While the failed runner's session is still open, another session takes the lock at once."""
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = project_with_failing_migration(make_project, db)
    import os

    cwd = os.getcwd()
    try:
        config, plugins = open_app(p.root / "pyproject.toml")
        (target,) = select_targets(config, plugins)
        with Runner(config, plugins, target, lambda _: None) as runner:
            with pytest.raises(MigrationFailed):
                runner.run()
            assert session_can_lock(db)
    finally:
        os.chdir(cwd)


def session_can_lock(db: ServerDb) -> bool:
    if db.driver == "pg":
        import psycopg
        from modelmig_pg.driver import database_name, lock_key

        with psycopg.connect(db.url, autocommit=True) as c:
            key = lock_key(database_name(db.url))
            got = c.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()
            return bool(got and got[0])
    import pymysql
    from modelmig_mysql.driver import connect_args, lock_name

    c = pymysql.connect(**connect_args(db.url))
    try:
        with c.cursor() as cur:
            cur.execute("SELECT GET_LOCK(%s, 0)", (lock_name(db.name),))
            row = cur.fetchone()
            return bool(row and row[0] == 1)
    finally:
        c.close()


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_status_tells_running_from_interrupted(make_project: Any, driver: str, request: pytest.FixtureRequest) -> None:
    """A 'running' ledger row is shown as running while a runner holds the lock,
    and as interrupted once nobody does."""
    import json

    from tests.support.servers import hold_lock

    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    [mid] = [f.stem for f in p.migration_files()]
    db.execute(f"UPDATE modelmig_migrations SET status = 'running' WHERE id = '{mid}'")

    def status() -> str:
        out = json.loads(p.ok("migrate:status", "--json").output)
        return out["connections"][0]["migrations"][0]["status"]

    holder = hold_lock(db)
    try:
        assert status() == "running"
    finally:
        holder.close()
    assert status() == "interrupted"
    result = p.run("migrate:run")
    assert result.exit_code != 0 and mid in result.output and "interrupted" in result.output

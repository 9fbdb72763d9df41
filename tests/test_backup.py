"""Backup-and-verify before anything is dropped in production, on SQLite,
PostgreSQL and MariaDB: the backup is taken, read back and verified before the
drop, and it really restores the rows that were dropped."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from modelmig_core.errors import GuardError
from modelmig_core.run.backup import backup_before_drop
from tests.support.servers import ServerDb

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191), "bio": column("text", nullable=True)}
"""

PROD = {"APP_ENV": "production", "MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}
ROWS = [(1, "a@x", "line one\nline two"), (2, "o'brien@x", "tab\there, quote ' and \\ backslash"), (3, "ü@x", None)]


def project_on(make_project, db: ServerDb):
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    engine = db.engine()
    with engine.begin() as c:
        c.execute(
            sa.text("INSERT INTO users (id, email, bio) VALUES (:id, :email, :bio)"),
            [{"id": i, "email": e, "bio": b} for i, e, b in ROWS],
        )
    engine.dispose()
    assert sorted(db.rows("SELECT id, email, bio FROM users")) == ROWS
    return p


def backups(p) -> list[Path]:
    folder = p.root / "modelmig-backups"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def restore_and_read(db: ServerDb, path: Path) -> list[tuple]:
    """Put the backup's users rows back into the (now empty) live table and read them."""
    if db.driver == "sqlite":
        c = sqlite3.connect(path)
        try:
            return sorted(tuple(r) for r in c.execute("SELECT id, email, bio FROM users"))
        finally:
            c.close()
    if db.driver == "pg":
        from modelmig_pg.driver import libpq_args

        args, env = libpq_args(db.url)
        subprocess.run(["pg_restore", "--data-only", "--table=users", *args, str(path)], check=True, env=env)
    else:
        from modelmig_mysql.driver import connect_args

        a = connect_args(db.url)
        with path.open("rb") as dump:
            subprocess.run(
                ["mariadb", f"--host={a['host']}", f"--port={a['port']}", f"--user={a['user']}", a["database"]],
                stdin=dump,
                check=True,
            )
    return sorted(db.rows("SELECT id, email, bio FROM users"))


def test_fresh_in_production_backs_up_and_verifies_first(make_project, any_db: ServerDb) -> None:
    p = project_on(make_project, any_db)
    result = p.ok("migrate:fresh", "--force", "--yes", env=PROD)
    assert "backed up and verified" in result.output
    [path] = backups(p)
    assert str(path) in result.output
    assert "2 table(s), 4 row(s)" in result.output  # users and the ledger
    assert any_db.scalar("SELECT COUNT(*) FROM users") == 0  # fresh dropped the data...
    assert restore_and_read(any_db, path) == ROWS  # ...and the backup brings every row back


def test_reset_and_destructive_rollback_back_up_too(make_project, sqlite_db: ServerDb) -> None:
    p = project_on(make_project, sqlite_db)
    p.ok("migrate:rollback", "--force", "--yes", env=PROD)
    p.ok("migrate:run", env=PROD)  # additive: no backup needed
    assert len(backups(p)) == 1
    p.ok("migrate:reset", "--force", "--yes", env=PROD)
    assert len(backups(p)) == 2


def test_no_backup_outside_production_unless_asked(make_project, sqlite_db: ServerDb) -> None:
    p = project_on(make_project, sqlite_db)
    p.ok("migrate:fresh", "--yes")
    assert backups(p) == []
    p.ok("migrate:fresh", "--yes", env={"MODELMIG_BACKUP": "always", "MODELMIG_BACKUP_DIR": str(p.root / "bk")})
    assert len(list((p.root / "bk").iterdir())) == 1


def test_skip_backup_is_said_on_the_output(make_project, sqlite_db: ServerDb) -> None:
    p = project_on(make_project, sqlite_db)
    result = p.ok("migrate:fresh", "--force", "--yes", env={**PROD, "MODELMIG_SKIP_BACKUP": "true"})
    assert "WITHOUT a backup" in result.output
    assert backups(p) == []


FAILING_BACKUP = """
from modelmig_core.api import Backup
from modelmig_sqlite.driver import SqliteDriver


class MiscountingSqlite(SqliteDriver):
    \"\"\"Its backup reads back one row too many per table: the core must refuse the drop.\"\"\"

    def backup(self, session, directory, label):
        taken = super().backup(session, directory, label)
        return Backup(taken.path, {t: n + 1 for t, n in taken.rows.items()})
"""


def test_a_backup_that_does_not_verify_refuses_the_drop(make_project, sqlite_db: ServerDb) -> None:
    p = project_on(make_project, sqlite_db)
    (p.root / "badbackup.py").write_text(FAILING_BACKUP)
    (p.root / "pyproject.toml").write_text(
        (p.root / "pyproject.toml")
        .read_text()
        .replace("[tool.modelmig]\n", '[tool.modelmig]\nplugins = ["badbackup:MiscountingSqlite"]\n')
    )
    result = p.run("migrate:fresh", "--force", "--yes", env=PROD)
    assert result.exit_code != 0 and "does not verify" in result.output
    assert sorted(sqlite_db.rows("SELECT id, email, bio FROM users")) == ROWS


def test_a_driver_without_backups_is_refused(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.chdir(tmp_path)
    from modelmig_core.api import API_VERSION, Driver, DriverInfo

    class Exotic(Driver):
        info = DriverInfo("exotic", ("exotic",), "sql")
        api_version = API_VERSION

    session = SimpleNamespace(driver=Exotic())
    target = SimpleNamespace(name="main", driver=session.driver)
    with pytest.raises(GuardError, match="driver exotic cannot take a backup"):
        backup_before_drop("migrate:fresh", session, target, print)  # type: ignore[arg-type]


# ---------------------------------------------------------------- PostgreSQL: counting pg_restore's COPY blocks

ODD_NAMES = ['a.b "c" d', "with space", "dots.in.name", 'ends"', "plain"]


def test_pg_copy_counts_read_quoted_names_exactly() -> None:
    from modelmig_pg.driver import copy_counts

    lines = [
        "--\n",
        '-- Data for Name: a.b "c" d; Type: TABLE DATA; Schema: public; Owner: -\n',
        'COPY public."a.b ""c"" d" (id, "x y") FROM stdin;\n',
        "1\tCOPY public.plain (id) FROM stdin;\n",  # a row: never a header
        "2\t\\.x\n",
        "\\.\n",
        'COPY "my schema"."dots.in.name" FROM stdin;\n',
        "\\.\n",
        "COPY plain (id) FROM stdin;\n",
        "COPY public.plain (id) FROM stdin;\n",  # a row of the block above that looks like a header
        "\\.\n",
        "SELECT pg_catalog.setval('public.plain_id_seq', 3, true);\n",
    ]
    assert copy_counts(iter(lines)) == {
        ("public", 'a.b "c" d'): 2,
        ("my schema", "dots.in.name"): 0,
        ("", "plain"): 1,  # unqualified: no schema (pg_dump qualifies every name)
    }


def test_pg_copy_counts_refuse_a_header_they_cannot_read() -> None:
    from modelmig_pg.driver import copy_counts

    from modelmig_core.errors import ModelmigError

    with pytest.raises(ModelmigError, match="COPY line modelmig cannot read"):
        copy_counts(iter(['COPY public."unterminated (id) FROM stdin;\n']))


def test_mysql_dump_counts_read_quoted_names_exactly() -> None:
    from modelmig_mysql.driver import dump_counts

    lines = [
        "-- MariaDB dump\n",
        "CREATE TABLE `tick`` (x`` VALUES` (\n",
        "  `id` int(11) NOT NULL,\n",
        ") ENGINE=InnoDB;\n",
        "INSERT INTO `tick`` (x`` VALUES` VALUES (1,'INSERT INTO `plain` VALUES (2)');\n",
        "INSERT INTO `tick`` (x`` VALUES` VALUES (2,NULL);\n",
        "CREATE TABLE `plain` (\n",
        "INSERT INTO `plain` VALUES (1);\n",
        "CREATE TABLE `empty` (\n",
        "-- Dump completed on 2026-01-01\n",
    ]
    assert dump_counts(iter(lines), "app") == (
        {("app", "tick` (x` VALUES"): 2, ("app", "empty"): 0, ("app", "plain"): 1},
        "-- Dump completed on 2026-01-01\n",
    )


@pytest.mark.parametrize("database", ["pg", "mysql"])
def test_server_backup_counts_tables_with_odd_names(
    database: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """pg_dump and mariadb-dump quote these names; the verified backup counts each
    table's rows from the dump it reads back, equal to the live counts."""
    from modelmig_core.registry import Registry

    db: ServerDb = request.getfixturevalue(f"{database}_db")
    names = [*ODD_NAMES, "tick` (x` VALUES"]
    driver = Registry().driver(database)
    with driver.connect(db.url) as session:
        for i, name in enumerate(names):
            table = session.quote(name)
            session.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, note TEXT)")
            for row in range(i + 1):  # a different count per table; a note that reads like a header
                note = f"COPY public.{table} (id) FROM stdin;\nINSERT INTO {table} VALUES (9);"
                session.execute(f"INSERT INTO {table} VALUES (%s, %s)", [row, note])
        backup = driver.backup(session, tmp_path, "odd")
        live = session.row_counts()
    assert live == {name: i + 1 for i, name in enumerate(names)}
    schema = "public" if database == "pg" else db.name
    assert backup.rows == backup.live == {(schema, name): n for name, n in live.items()}

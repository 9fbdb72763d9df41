"""Issue 17, classes 10 and 11 (part): backups that verify on a live database.

- The live counts a backup is checked against are taken in the snapshot the dump
  read, so a writer on an unrelated table never makes a good backup fail
  (PostgreSQL, MariaDB, SQLite; three backups in a row with the writer running).
- Tables are keyed by (schema, table): PostgreSQL partitions, inheritance
  children and same-named tables in two schemas are each counted once, right.
- A backup is written in a ``.partial`` scratch folder and renamed only once
  verified: a dump that is killed, fails or does not verify leaves no file under a
  backup name, and a killed run's leftover is swept, never taken for a backup.
- A connection's name reaches the backup's file name only as a slug, checked to
  be inside the backup folder (``../evil``, absolute paths, NUL, long names).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelmig_core.api import Backup
from modelmig_core.errors import MigrationFailed
from modelmig_core.registry import Registry
from modelmig_core.run.backup import PARTIAL, backup_before_drop, slug, verify
from tests.support.servers import ServerDb

PROD = {"APP_ENV": "production", "MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}
WRITER_MAX_ROWS = 20_000
WRITER_MAX_SECONDS = 60.0


def production(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    monkeypatch.setenv("MODELMIG_BACKUP", "always")
    monkeypatch.setenv("MODELMIG_BACKUP_DIR", str(folder))
    monkeypatch.delenv("MODELMIG_SKIP_BACKUP", raising=False)


def take(session: Any, name: str = "main", command: str = "migrate:fresh") -> tuple[Path, list[str]]:
    said: list[str] = []
    path = backup_before_drop(command, session, SimpleNamespace(name=name), said.append)
    assert path is not None
    return path, said


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def execute(raw: Any, sql: str, params: Any = None) -> Any:
    cur = raw.cursor()
    try:
        cur.execute(sql, params) if params is not None else cur.execute(sql)
        return cur.fetchall() if cur.description else None
    finally:
        cur.close()


# ---------------------------------------------------------------- a writer elsewhere


@contextmanager
def writer(driver: Any, url: str) -> Iterator[Callable[[], int]]:
    """A thread inserting rows into ``events`` (a table no backup test looks at) in
    a loop, one commit each, at most WRITER_MAX_ROWS rows and WRITER_MAX_SECONDS;
    yields a function that says how many rows it has committed so far."""
    raw = driver.open(url)
    done = threading.Event()
    written = [0]
    failures: list[BaseException] = []

    def loop() -> None:
        started = time.monotonic()
        try:
            while not done.is_set() and written[0] < WRITER_MAX_ROWS:
                if time.monotonic() - started > WRITER_MAX_SECONDS:
                    break
                execute(raw, "INSERT INTO events (note) VALUES ('tick')")
                written[0] += 1
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        while written[0] < 20 and thread.is_alive():  # it is writing before the backup starts
            time.sleep(0.01)
        yield lambda: written[0]
    finally:
        done.set()
        thread.join(WRITER_MAX_SECONDS)
        raw.close()
    assert not failures, failures


EVENTS = {
    "sqlite": "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT)",
    "pg": "CREATE TABLE events (id SERIAL PRIMARY KEY, note TEXT)",
    "mysql": "CREATE TABLE events (id INTEGER AUTO_INCREMENT PRIMARY KEY, note TEXT) ENGINE=InnoDB",
}


@pytest.mark.parametrize("database", ["pg", "mysql", "sqlite"])
def test_backups_verify_while_another_table_is_written(
    database: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db: ServerDb = request.getfixturevalue(f"{database}_db")
    folder = tmp_path / "bk"
    production(monkeypatch, folder)
    driver = Registry().driver(database)
    with driver.connect(db.url) as session:
        if database == "sqlite":
            session.execute("PRAGMA journal_mode=WAL")  # readers and a writer at once
        session.execute(EVENTS[database])
        session.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(100))")
        for i in range(25):
            session.execute(f"INSERT INTO users (id, email) VALUES ({i}, 'u{i}@x')")
        taken: list[Backup] = []
        original = driver.backup

        def spy(*args: Any) -> Backup:
            taken.append(original(*args))
            return taken[-1]

        monkeypatch.setattr(driver, "backup", spy)
        paths, moved_on = [], []
        with writer(driver, db.url) as written:
            for _ in range(3):
                before = written()
                path, said = take(session)
                assert written() > before, "the writer committed nothing while the backup ran"
                assert "backed up and verified" in said[0]
                paths.append(path)
                schema = {"pg": "public", "mysql": db.name, "sqlite": "main"}[database]
                events = taken[-1].rows[(schema, "events")]
                assert taken[-1].live is not None and taken[-1].live[(schema, "events")] == events
                moved_on.append(session.count_rows("events") != events)
    # the live table moved on after each dump: counting it after the dump could not have verified
    assert any(moved_on)
    assert sorted(p.name for p in paths) == entries(folder)  # three backups, no scratch left
    for path in paths:
        assert path.parent == folder.resolve()
        assert not path.name.endswith(PARTIAL)


# ---------------------------------------------------------------- PostgreSQL: schemas and partitions


def test_pg_partitions_inheritance_and_same_named_tables_count_once(
    pg_db: ServerDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bk"
    production(monkeypatch, folder)
    driver = Registry().driver("pg")
    with driver.connect(pg_db.url) as session:
        for sql in [
            "CREATE SCHEMA other",
            'CREATE SCHEMA "we\'ird.schema"',
            "CREATE TABLE users (id INTEGER PRIMARY KEY)",
            "CREATE TABLE other.users (id INTEGER PRIMARY KEY)",
            'CREATE TABLE "we\'ird.schema".users (id INTEGER PRIMARY KEY)',
            "INSERT INTO users SELECT generate_series(1, 3)",
            "INSERT INTO other.users SELECT generate_series(1, 5)",
            'INSERT INTO "we\'ird.schema".users SELECT generate_series(1, 7)',
            # declarative partitions: the parent holds no rows of its own
            "CREATE TABLE measures (at DATE NOT NULL, v INTEGER) PARTITION BY RANGE (at)",
            "CREATE TABLE measures_2025 PARTITION OF measures FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
            "CREATE TABLE other.measures_rest PARTITION OF measures DEFAULT",
            "INSERT INTO measures SELECT DATE '2025-03-01', g FROM generate_series(1, 4) g",
            "INSERT INTO measures SELECT DATE '2030-03-01', g FROM generate_series(1, 6) g",
            # inheritance: COUNT(*) of the parent includes the child's rows
            "CREATE TABLE base (id INTEGER)",
            "CREATE TABLE child () INHERITS (base)",
            "INSERT INTO base VALUES (1)",
            "INSERT INTO child VALUES (2), (3)",
        ]:
            session.execute(sql)
        taken: list[Backup] = []
        original = driver.backup

        def spy(*args: Any) -> Backup:
            taken.append(original(*args))
            return taken[-1]

        monkeypatch.setattr(driver, "backup", spy)
        path, said = take(session)
    expected = {
        ("public", "users"): 3,
        ("other", "users"): 5,
        ("we'ird.schema", "users"): 7,
        ("public", "measures_2025"): 4,
        ("other", "measures_rest"): 6,
        ("public", "base"): 1,
        ("public", "child"): 2,
    }
    [backup] = taken
    assert backup.rows == expected
    assert backup.live == expected
    assert "7 table(s), 28 row(s)" in said[0]
    # the file holds them: pg_restore lists each table's data once
    listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True, check=True).stdout
    data = sorted(
        line.split(" TABLE DATA ")[1].rsplit(" ", 1)[0] for line in listing.splitlines() if "TABLE DATA" in line
    )
    tables = ["public users", "other users", "we'ird.schema users", "public measures_2025", "other measures_rest"]
    assert data == sorted([*tables, "public base", "public child"])


def test_a_miscount_in_another_schema_is_named() -> None:
    backup = Backup(Path("b.dump"), {("public", "users"): 3, ("other", "users"): 3})
    with pytest.raises(MigrationFailed, match=r"other\.users has 5 rows, the backup 3"):
        verify(backup, {("public", "users"): 3, ("other", "users"): 5})
    with pytest.raises(MigrationFailed, match=r"other\.gone has 1 rows, the backup none"):
        verify(backup, {("public", "users"): 3, ("other", "users"): 3, ("other", "gone"): 1})
    verify(backup, {("public", "users"): 3, ("other", "users"): 3})


# ---------------------------------------------------------------- a dump that dies leaves nothing

FAKE_PG_DUMP = """#!/bin/sh
# writes half a custom-format dump to --file=..., then dies as a killed process does
for a in "$@"; do case "$a" in --file=*) out="${a#--file=}";; esac; done
printf 'PGDMP half a dump' > "$out"
kill -9 $$
"""

FAKE_MARIADB_DUMP = """#!/bin/sh
# the header, the first table and some of its rows, then killed
printf -- '-- MariaDB dump 10.19\\n--\\n-- Table structure for table `users`\\n'
printf 'CREATE TABLE `users` (\\n  `id` int NOT NULL\\n);\\n'
printf 'INSERT INTO `users` VALUES (1);\\n'
kill -9 $$
"""

FAKE_INCOMPLETE_DUMP = """#!/bin/sh
# exits 0 with a dump that stops half-way (no "-- Dump completed")
printf -- '-- MariaDB dump 10.19\\n-- Table structure for table `users`\\nCREATE TABLE `users` (\\n'
exit 0
"""

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191)}
"""


def fake_bin(tmp_path: Path, name: str, script: str) -> str:
    folder = tmp_path / "fakebin"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(script)
    (folder / name).chmod(0o755)
    return f"{folder}{os.pathsep}{os.environ['PATH']}"


@pytest.mark.parametrize(
    ("database", "tool", "script", "said"),
    [
        ("pg", "pg_dump", FAKE_PG_DUMP, "pg_dump failed: exit code -9"),
        ("mysql", "mariadb-dump", FAKE_MARIADB_DUMP, "mariadb-dump failed: exit code -9"),
        ("mysql", "mariadb-dump", FAKE_INCOMPLETE_DUMP, "the dump is incomplete"),
    ],
)
def test_a_killed_or_incomplete_dump_leaves_no_backup(
    database: str, tool: str, script: str, said: str, request: pytest.FixtureRequest, make_project: Any, tmp_path: Path
) -> None:
    db: ServerDb = request.getfixturevalue(f"{database}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    db.execute("INSERT INTO users (id, email) VALUES (1, 'a@x'), (2, 'b@x')")
    result = p.run("migrate:fresh", "--force", "--yes", env={**PROD, "PATH": fake_bin(tmp_path, tool, script)})
    assert result.exit_code != 0
    assert said in result.output and "nothing was dropped" in result.output
    assert entries(p.root / "modelmig-backups") == []  # no file under any name, no scratch folder
    assert sorted(db.rows("SELECT id, email FROM users")) == [(1, "a@x"), (2, "b@x")]


def test_an_interrupted_backup_leaves_nothing(
    sqlite_db: ServerDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C (or any failure) while the driver writes: the half-written file goes."""
    folder = tmp_path / "bk"
    production(monkeypatch, folder)
    driver = Registry().driver("sqlite")
    original = driver.backup

    def interrupted(session: Any, directory: Path, label: str) -> Backup:
        taken = original(session, directory, label)
        taken.path.write_bytes(taken.path.read_bytes()[:100])  # half of it
        raise KeyboardInterrupt

    monkeypatch.setattr(driver, "backup", interrupted)
    with driver.connect(sqlite_db.url) as session:
        session.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        with pytest.raises(KeyboardInterrupt):
            take(session)
    assert entries(folder) == []


def test_a_backup_that_does_not_verify_is_removed(
    sqlite_db: ServerDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bk"
    production(monkeypatch, folder)
    driver = Registry().driver("sqlite")
    original = driver.backup

    def short(session: Any, directory: Path, label: str) -> Backup:
        taken = original(session, directory, label)
        return Backup(taken.path, {k: n - 1 for k, n in taken.rows.items()}, taken.live)

    monkeypatch.setattr(driver, "backup", short)
    with driver.connect(sqlite_db.url) as session:
        session.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        session.execute("INSERT INTO users VALUES (1), (2)")
        with pytest.raises(MigrationFailed, match=r"main\.users has 2 rows, the backup 1"):
            take(session)
    assert entries(folder) == []


def test_a_killed_runs_leftover_is_swept_and_never_a_backup(
    sqlite_db: ServerDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "bk"
    production(monkeypatch, folder)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no process has now
    host = socket.gethostname()
    leftovers = {
        f"main-1-migrate-fresh{PARTIAL}": f"{host} {dead.pid}",  # killed here: swept
        f"main-2-migrate-fresh{PARTIAL}": f"{host} {os.getpid()}",  # still running: kept
        f"main-3-migrate-fresh{PARTIAL}": f"elsewhere.example {dead.pid}",  # another machine's: kept
    }
    folder.mkdir()
    for name, owner in leftovers.items():
        (folder / name).mkdir()
        (folder / name / ".owner").write_text(owner)
        (folder / name / "main-x.sqlite3").write_bytes(b"half")
    with Registry().driver("sqlite").connect(sqlite_db.url) as session:
        session.execute("CREATE TABLE users (id INTEGER PRIMARY KEY)")
        path, _ = take(session)
    assert entries(folder) == sorted([path.name, f"main-2-migrate-fresh{PARTIAL}", f"main-3-migrate-fresh{PARTIAL}"])
    # what is left of a run is a .partial folder: no backup file at the top of the folder
    assert [p.name for p in folder.iterdir() if p.is_file()] == [path.name]


# ---------------------------------------------------------------- a connection's name is no path

NAMES = st.lists(
    st.sampled_from([*"ab./\\\0 '\"*;#-\n_é", "..", "../", "/etc/", "*/", "/*!"]), min_size=1, max_size=120
).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES)
@example(name="../evil")
@example(name="../../../../tmp/evil")
@example(name="/etc/passwd")
@example(name="..")
@example(name=".")
@example(name="a\0b")
@example(name="x" * 5000)
@example(name="C:\\evil")
def test_a_connection_name_never_leaves_the_backup_folder(
    name: str, sqlite_db: ServerDb, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "inner" / "bk"
    production(monkeypatch, folder)
    with Registry().driver("sqlite").connect(sqlite_db.url) as session:
        session.execute("CREATE TABLE IF NOT EXISTS users (id INTEGER PRIMARY KEY)")
        path, _ = take(session, name=name)
    try:
        assert path.parent == folder.resolve()
        assert len(path.name) < 200 and "/" not in path.name and "\0" not in path.name
        assert not path.name.startswith(".")
        assert sorted(p.name for p in (tmp_path / "inner").iterdir()) == ["bk"]  # nothing beside the folder
    finally:
        path.unlink()


def test_slugs_keep_plain_names_and_never_collide() -> None:
    assert slug("main") == "main" and slug("eu-west_1") == "eu-west_1"
    odd = ["../evil", "..%2Fevil", "_evil", "evil", "a/b", "a_b", "a\\b", "a b", "x" * 64, "x" * 65, ""]
    slugs = [slug(n) for n in odd]
    assert len(set(slugs)) == len(odd)
    assert all(s and len(s) <= 64 and all(c.isalnum() or c in "-_" for c in s) for s in slugs)


def test_a_connection_named_dot_dot_slash_through_the_cli(make_project: Any, tmp_path: Path) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    name = "../evil"
    (p.root / "pyproject.toml").write_text(
        '[tool.modelmig]\nmodels = ["models"]\nmigrations = "migrations"\n'
        f'[tool.modelmig.connections.{json.dumps(name)}]\nurl = "sqlite:///app.sqlite3"\n'
    )
    p.models(MODELS)
    result = p.run("make:migration")
    if result.exit_code != 0:  # the configuration refuses the name: one line naming it, nothing written
        assert name in result.output
        assert not (p.root.parent / "evil").exists() and not list(p.root.parent.glob("evil*"))
        return
    p.ok("migrate:run")
    p.ok("migrate:fresh", "--force", "--yes", env=PROD)
    [backup] = (p.root / "modelmig-backups").iterdir()
    assert backup.suffix == ".sqlite3" and "evil" in backup.name
    assert not list(p.root.parent.glob("evil*")) and not list(p.root.glob("evil*"))


def test_mariadb_without_the_reload_privilege_is_one_line_and_leaves_nothing(
    mysql_db: ServerDb, make_project: Any
) -> None:
    """Holding commits while the dump starts needs RELOAD: without it the backup is
    refused with one line naming it, nothing is written and nothing dropped."""
    from urllib.parse import urlsplit, urlunsplit

    user = f"nr_{mysql_db.name[-12:]}"
    mysql_db.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'")
    try:
        mysql_db.execute(f"GRANT ALL PRIVILEGES ON `{mysql_db.name}`.* TO '{user}'@'%'")
        parts = urlsplit(mysql_db.url)
        url = urlunsplit(parts._replace(netloc=f"{user}:pw@{parts.hostname}:{parts.port or 3306}"))
        p = make_project({"main": {"url": url}})
        p.models(MODELS)
        p.ok("make:migration")
        p.ok("migrate:run")
        mysql_db.execute("INSERT INTO users (id, email) VALUES (1, 'a@x')")
        result = p.run("migrate:fresh", "--force", "--yes", env=PROD)
        assert result.exit_code != 0
        assert "RELOAD privilege" in result.output and "nothing was dropped" in result.output
        assert entries(p.root / "modelmig-backups") == []
        assert mysql_db.rows("SELECT id, email FROM users") == [(1, "a@x")]
    finally:
        mysql_db.execute(f"DROP USER '{user}'@'%'")

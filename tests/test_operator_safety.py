"""Safety rails and edges: edited migrations are never rolled back silently, drops
outside production are named with the rows they lose, backups are private and
taken once per command, an unset ``${VAR}`` breaks only the commands that need
it, bad ledger values and bad models are one error line, status never creates a
SQLite file, ``--driver`` names the driver, statements outside a transaction
are recorded as sent before they are sent, and passwords never show."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.support.servers import ServerDb

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191), "bio": column("text", nullable=True)}
"""
WITHOUT_BIO = MODELS.replace(', "bio": column("text", nullable=True)', "")
DAY2 = {"MODELMIG_NOW": "2026-01-02T00:00:00"}


def with_users(make_project: Any, db: ServerDb | None = None, rows: int = 2) -> tuple[Any, str]:
    p = make_project({"main": {"url": db.url}} if db else None)
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    values = ", ".join(f"('u{i}@x', 'bio {i}')" for i in range(rows))
    if db is None:
        c = sqlite3.connect(p.root / "app.sqlite3")
        c.execute(f"INSERT INTO users (email, bio) VALUES {values}")
        c.commit()
        c.close()
    elif rows:
        db.execute(f"INSERT INTO users (email, bio) VALUES {values}")
    return p, p.migration_files()[0].stem


def stderr_lines(result: Any, prefix: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(prefix)]


def one_error_line(result: Any, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    for word in ("Traceback", "ValueError", "FileNotFoundError", "AttributeError", "NotADirectoryError"):
        assert word not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# ---------------------------------------------------------------- edited migrations


def test_run_warns_about_every_modified_or_missing_file_even_with_nothing_pending(make_project: Any) -> None:
    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    p.models(WITHOUT_BIO)
    p.ok("make:migration", env=DAY2)
    p.ok("migrate:run")
    first, second = p.migration_files()
    first.write_text(first.read_text() + "# edited after it was applied\n")
    second.unlink()
    result = p.ok("migrate:run")
    assert result.stdout == "main: nothing to migrate\n"
    assert stderr_lines(result, "warning:") == [
        f"warning: main: migrations/sql/{first.name} was modified after it was applied",
        f"warning: main: applied migration {second.stem} has no file (missing)",
    ]


def test_the_drift_warning_path_loads_no_migration_module_and_no_sqlalchemy(make_project: Any) -> None:
    from tests.test_plugins_and_speed import probe

    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    path = p.migration_files()[0]
    path.write_text(path.read_text() + "# edited\n")
    seen = probe(p, "migrate:run")
    assert not [m for m in seen["modules"] if m.startswith("sqlalchemy")], seen
    assert seen["loaded"] == []


def test_rollback_of_a_modified_migration_is_refused_unless_force(make_project: Any, any_db: ServerDb) -> None:
    p, m1 = with_users(make_project, any_db)
    path = p.migration_files()[0]
    path.write_text(path.read_text() + "# edited after it was applied\n")
    for command in (["migrate:rollback"], ["migrate:reset", "--yes"]):
        refused = p.run(*command)
        one_error_line(refused, f"refusing to roll back {m1}", f"migrations/sql/{path.name} was modified", "--force")
        assert any_db.scalar("SELECT COUNT(*) FROM users") == 2  # nothing was rolled back
    result = p.ok("migrate:rollback", "--force")
    assert f"rolling back {m1} with its edited file migrations/sql/{path.name} (--force)" in result.stderr
    assert f"main: rolled back {m1} (" in result.stdout


# ---------------------------------------------------------------- drops outside production


def test_make_migration_lists_each_drop_and_marks_it_in_the_file(make_project: Any) -> None:
    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    p.models(WITHOUT_BIO)
    result = p.ok("make:migration", env=DAY2)
    path = p.migration_files()[1]
    assert stderr_lines(result, "warning:") == [
        f"warning: migrations/sql/{path.name} drops data when it runs: drop bio from users"
    ]
    source = path.read_text()
    assert '    # drops data: drop bio from users\n    op.DropColumn("users"' in source
    # the first migration's down drops the table: marked there too, and the file stays deterministic
    first = p.migration_files()[0]
    assert "    # drops data: drop users table\n    op.DropTable(" in first.read_text()
    made = {f.name: f.read_bytes() for f in p.migration_files()}
    for f in p.migration_files():
        f.unlink()
    p.models(MODELS)
    p.ok("make:migration")
    p.models(WITHOUT_BIO)
    p.ok("make:migration", env=DAY2)
    assert {f.name: f.read_bytes() for f in p.migration_files()} == made


def test_run_and_rollback_name_what_loses_data_with_its_rows(make_project: Any, any_db: ServerDb) -> None:
    p, m1 = with_users(make_project, any_db, rows=3)
    p.models(WITHOUT_BIO)
    p.ok("make:migration", env=DAY2)
    m2 = p.migration_files()[1].stem
    result = p.ok("migrate:run", "--json")
    assert stderr_lines(result, "warning:") == [f"warning: main: running {m2} drops data: column users.bio (3 row(s))"]
    [conn] = json.loads(result.stdout)["connections"]
    assert conn["data_loss"] == [
        {
            "migration": m2,
            "direction": "up",
            "table": "users",
            "column": "bio",
            "rows": 3,
            "operation": "drop bio from users",
        }
    ]
    quiet = p.ok("migrate:rollback")  # m2's down adds the column back: nothing lost
    assert stderr_lines(quiet, "warning:") == []
    loud = p.ok("migrate:rollback")
    assert stderr_lines(loud, "warning:") == [f"warning: main: rolling back {m1} drops data: table users (3 row(s))"]


# ---------------------------------------------------------------- backups


def test_backups_are_private_and_taken_once_per_command(make_project: Any, any_db: ServerDb) -> None:
    p, _ = with_users(make_project, any_db)
    p.models(WITHOUT_BIO)
    p.ok("make:migration", env=DAY2)  # a destructive migration that fresh's run applies after the wipe
    p.ok("migrate:run")
    folder = p.root / "modelmig-backups"
    result = p.ok("migrate:fresh", "--yes", "--json", env={"MODELMIG_BACKUP": "always"})
    entries = list(folder.iterdir())
    assert len(entries) == 1, entries  # one verified backup, not a second one of the emptied database
    assert json.loads(result.stdout)["connections"][0]["backup"] == str(entries[0])
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = [entries[0]] if entries[0].is_file() else [f for f in entries[0].rglob("*") if f.is_file()]
    assert files and all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_an_unwritable_backup_folder_is_one_error_line(make_project: Any) -> None:
    p, _ = with_users(make_project)
    (p.root / "a_file").write_text("not a folder")
    result = p.run("migrate:fresh", "--yes", env={"MODELMIG_BACKUP": "always", "MODELMIG_BACKUP_DIR": "a_file/bk"})
    one_error_line(result, "cannot write backups to", "a_file/bk", "nothing was dropped")
    assert sqlite3.connect(p.root / "app.sqlite3").execute("SELECT COUNT(*) FROM users").fetchone() == (2,)


# ---------------------------------------------------------------- make:migration --empty


def test_make_migration_empty_writes_a_migration_to_fill_in_by_hand(make_project: Any) -> None:
    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    result = p.ok("make:migration", "--empty", "--name", "Backfill emails", env=DAY2)
    path = p.migration_files()[1]
    assert path.name == "20260102000000_backfill_emails.py"
    assert result.stdout == f"Created migrations/sql/{path.name} (empty: write its up and down operations by hand)\n"
    source = path.read_text()
    assert f"parent = {p.migration_files()[0].stem!r}" in source
    assert "\nup = []\n" in source and "\ndown = []\n" in source
    path.write_text(
        source.replace("up = []", "up = [op.RunSQL(\"UPDATE users SET email = lower(email)\", 'SELECT 1')]")
    )
    assert p.ok("make:migration", "--check").stdout == "models and migrations agree\n"
    assert f"main: applied {path.stem} (" in p.ok("migrate:run").stdout
    one_error_line(p.run("make:migration", "--empty"), "--empty needs --name")


# ---------------------------------------------------------------- configuration edges


def test_an_unset_variable_breaks_only_the_commands_that_use_its_connection(make_project: Any) -> None:
    p = make_project(
        {
            "main": {"url": "sqlite:///app.sqlite3"},
            "reporting": {"url": "postgresql://app:${REPORTING_PASSWORD}@db/reporting"},
            "whole": {"url": "${WAREHOUSE_URL}"},
        },
        extra_config='default = "main"',
    )
    p.models(MODELS)
    p.ok("make:migration")
    assert p.ok("make:migration", "--check").stdout == "models and migrations agree\n"
    p.ok("migrate:run")
    p.ok("migrate:status")
    one_error_line(
        p.run("migrate:status", "--connection", "reporting"),
        "connection 'reporting' url",
        "environment variable REPORTING_PASSWORD is not set",
    )
    one_error_line(p.run("migrate:run", "--connection", "whole"), "connection 'whole'", "WAREHOUSE_URL")
    assert p.ok("migrate:status", "--connection", "whole", env={"WAREHOUSE_URL": "sqlite:///w.sqlite3"})


def test_a_corrupt_ledger_value_is_one_error_line(make_project: Any) -> None:
    p, m1 = with_users(make_project)
    c = sqlite3.connect(p.root / "app.sqlite3")
    c.execute("UPDATE modelmig_migrations SET batch = 'abc'")
    c.commit()
    c.close()
    for command in ("migrate:status", "migrate:run", "migrate:rollback"):
        one_error_line(p.run(command), "modelmig_migrations", repr(m1), "batch is 'abc', not a number")


def test_schema_given_as_a_list_is_one_error_line(make_project: Any) -> None:
    p = make_project()
    p.models('class User(Model):\n    table = "users"\n    schema = [column("increments")]\n')
    one_error_line(p.run("make:migration"), "model User", "schema must be a non-empty dict")


def test_status_never_creates_a_sqlite_database_but_run_does(make_project: Any) -> None:
    p = make_project()
    p.models(MODELS)
    p.ok("make:migration")
    m1 = p.migration_files()[0].stem
    status = p.ok("migrate:status")
    assert "the database does not exist yet (migrate:run creates it)" in status.stdout
    assert f"{m1}  pending" in status.stdout
    report = json.loads(p.ok("migrate:status", "--json").stdout)["connections"][0]
    assert report["database_exists"] is False and report["migrations"][0]["status"] == "pending"
    assert "nothing to roll back (the database does not exist)" in p.ok("migrate:rollback").stdout
    p.ok("migrate:reset", "--yes")
    assert not (p.root / "app.sqlite3").exists()
    p.ok("migrate:run")
    assert (p.root / "app.sqlite3").is_file()
    assert json.loads(p.ok("migrate:status", "--json").stdout)["connections"][0]["database_exists"] is True


def test_an_unknown_driver_is_named_with_the_installed_ones(make_project: Any) -> None:
    p = make_project()
    p.models(MODELS)
    line = one_error_line(p.run("migrate:status", "--driver", "nosuch"), "no driver named 'nosuch' is installed")
    assert "installed: " in line and "sqlite" in line and "pg" in line
    assert "--nosuch" not in line


# ---------------------------------------------------------------- secrets


def test_urls_are_redacted_in_headers_summaries_errors_and_json(make_project: Any) -> None:
    remote = "postgresql://app:p@ss@127.0.0.1:1/nowhere?password=qsecret&sslmode=disable&api_token=tsecret"
    p = make_project(
        {
            "main": {"url": "sqlite:///app.sqlite3?timeout=5"},
            "remote": {"url": remote},
        },
        extra_config='default = "main"',
    )
    p.models(MODELS)
    p.ok("make:migration")
    outputs = []
    header = p.ok("migrate:status").stdout
    assert header.startswith("main [sqlite sqlite:///app.sqlite3?timeout=5]")
    outputs.append(header)
    outputs.append(p.ok("migrate:status", "--json").stdout)
    error = p.run("migrate:status", "--connection", "remote")
    line = one_error_line(error, "cannot connect to postgresql://app:***@127.0.0.1:1/nowhere?password=***")
    assert "api_token=***" in line
    outputs.append(error.output)
    summary = p.run("migrate:run", "--all-connections")
    assert summary.exit_code != 0 and "remote [pg postgresql://app:***@127.0.0.1:1/nowhere" in summary.stdout
    outputs.append(summary.output)
    as_json = p.run("migrate:run", "--all-connections", "--json")
    report = json.loads(as_json.stdout)
    assert [c["url"] for c in report["connections"]] == [
        "sqlite:///app.sqlite3?timeout=5",  # sqlite:// takes no other option
        "postgresql://app:***@127.0.0.1:1/nowhere?password=***&sslmode=disable&api_token=***",
    ]
    outputs.append(as_json.output)
    for text in outputs:
        for secret in ("p@ss", "ss@127", "qsecret", "tsecret", "tok123"):
            assert secret not in text, (secret, text)


# ---------------------------------------------------------------- MariaDB: statements recorded as sent

SLOW = """
from modelmig_core import operations as op

id = "20260102000000_slow_copy"
family = "sql"
parent = {parent!r}
atomic = True

up = [
    op.RunSQL("CREATE TABLE first_done (x INTEGER)", "DROP TABLE first_done"),
    op.RunSQL("CREATE TABLE slow_copy AS SELECT SLEEP(3) AS s", "DROP TABLE slow_copy"),
    op.RunSQL("CREATE TABLE never_sent (x INTEGER)", "DROP TABLE never_sent"),
]

down = [
    op.RunSQL("DROP TABLE never_sent", "SELECT 1"),
    op.RunSQL("DROP TABLE slow_copy", "SELECT 1"),
    op.RunSQL("DROP TABLE first_done", "SELECT 1"),
]
"""


def test_mysql_killed_runner_leaves_statement_k_recorded_as_sent(make_project: Any, mysql_db: ServerDb) -> None:
    """kill -9 while the server works on statement 2: the ledger says statement 2
    was sent (it was recorded before it was sent), and the message says it may or
    may not have completed — the server may well finish it after the client died."""
    p = make_project({"main": {"url": mysql_db.url}}, extra_config="lock_timeout = 20")
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    first = p.migration_files()[0].stem
    (p.root / "migrations" / "sql" / "20260102000000_slow_copy.py").write_text(SLOW.format(parent=first))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    exe = str(Path(sys.executable).parent / "modelmig")
    proc = subprocess.Popen([exe, "migrate:run"], cwd=p.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(600):  # until statement 2 is on its way
            rows = mysql_db.rows("SELECT status, progress FROM modelmig_migrations WHERE id LIKE '20260102%'")
            if rows == [("running", 2)]:
                break
            time.sleep(0.02)
        assert rows == [("running", 2)], rows
        time.sleep(0.5)  # the statement is at the server
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
        proc.stdout.close()
        proc.stderr.close()
    result = p.run("migrate:run")
    assert result.exit_code != 0
    line = one_error_line(result, "migration 20260102000000_slow_copy was interrupted")
    assert "statement 2 was sent and may or may not have completed (the 1 before it completed)" in line
    assert mysql_db.rows("SELECT progress FROM modelmig_migrations WHERE id LIKE '20260102%'") == [(2,)]
    tables = {r[0] for r in mysql_db.rows("SHOW TABLES")}
    assert "first_done" in tables and "never_sent" not in tables


def test_the_sent_note_is_worded_honestly() -> None:
    """What a 'running' row's progress says, in status, run and resolve."""
    from modelmig_core.run.runner import sent_note

    assert sent_note(0) == "no statement had been sent"
    assert sent_note(1) == "statement 1 was sent and may or may not have completed (it was the first)"
    assert sent_note(3, "command") == "command 3 was sent and may or may not have completed (the 2 before it completed)"

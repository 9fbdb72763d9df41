"""Output people can follow: a line when each migration starts and ends (with its
duration), a closing summary per connection, ``(test)`` in the label, durations
in ``migrate:status``, ``--json`` for every migrate command with pure JSON on
stdout, warnings and errors on stderr, colour only on a terminal (never with
NO_COLOR), a reader that goes away ends the output quietly, and a line while a
runner waits for another runner's lock (SQLite, PostgreSQL, MariaDB)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from tests.support.servers import ServerDb, hold_lock

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191), "bio": column("text", nullable=True)}
"""

TAGS = """
class Tag(Model):
    table = "tags"
    schema = {"id": column("increments"), "label": column("string", 50)}
"""

DURATION = r"\(\d+ ms\)"


def two_migrations(make_project: Any, db: ServerDb | None = None, extra: str = "") -> tuple[Any, list[str]]:
    conns = {"main": {"url": db.url}} if db else None
    p = make_project(conns, extra_config=extra)
    p.models(MODELS)
    p.ok("make:migration", "--name", "create_users")
    p.models(MODELS + TAGS)
    p.ok("make:migration", "--name", "create_tags", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    return p, [f.stem for f in p.migration_files()]


def modelmig_exe() -> str:
    return str(Path(sys.executable).parent / "modelmig")


def test_each_migration_starts_and_ends_with_its_duration_and_a_summary(make_project: Any) -> None:
    p, (m1, m2) = two_migrations(make_project)
    out = p.ok("migrate:run").stdout
    lines = out.splitlines()
    assert lines[0] == f"main: applying {m1}"
    assert re.fullmatch(rf"main: applied {m1} {DURATION}", lines[1])
    assert lines[2] == f"main: applying {m2}"
    assert re.fullmatch(rf"main: applied {m2} {DURATION}", lines[3])
    assert re.fullmatch(r"main: 2 applied in \d+ ms", lines[4])
    assert len(lines) == 5

    out = p.ok("migrate:rollback", "--step", "1").stdout.splitlines()
    assert out[0] == f"main: rolling back {m2}"
    assert re.fullmatch(rf"main: rolled back {m2} {DURATION}", out[1])
    assert re.fullmatch(r"main: 1 rolled back in \d+ ms", out[2])

    out = p.ok("migrate:reset", "--yes").stdout
    assert re.search(rf"^main: rolled back {m1} {DURATION}$", out, re.M)
    out = p.ok("migrate:fresh", "--yes").stdout
    assert re.search(r"^main: dropped 1 table\(s\) or collection\(s\) \(\d+ ms\)$", out, re.M)
    assert re.search(rf"^main: applied {m2} {DURATION}$", out, re.M)
    assert re.search(r"^main: 1 table\(s\) or collection\(s\) dropped, 2 applied in \d+ ms$", out, re.M)


def test_test_connections_say_test_on_every_line(make_project: Any) -> None:
    p, (m1, _) = two_migrations(make_project)
    out = p.ok("migrate:run", "--test").stdout
    assert f"main (test): applying {m1}" in out
    assert re.search(rf"^main \(test\): applied {m1} {DURATION}$", out, re.M)
    assert re.search(r"^main \(test\): 2 applied in \d+ ms$", out, re.M)
    assert "main (test) [sqlite sqlite:///app_test.sqlite3]" in p.ok("migrate:status", "--test").stdout
    assert not (p.root / "app.sqlite3").exists()


def test_status_shows_each_applied_migrations_duration(make_project: Any) -> None:
    p, (m1, m2) = two_migrations(make_project)
    p.ok("migrate:run")
    ledger = dict(
        sqlite3.connect(p.root / "app.sqlite3").execute("SELECT id, duration_ms FROM modelmig_migrations").fetchall()
    )
    text = p.ok("migrate:status").stdout
    for mid in (m1, m2):
        assert re.search(rf"^  {mid}\s+applied\s+batch 1  \S+Z  {ledger[mid]} ms$", text, re.M), text
    report = json.loads(p.ok("migrate:status", "--json").stdout)
    assert {m["id"]: m["duration_ms"] for m in report["connections"][0]["migrations"]} == ledger


def test_json_for_run_rollback_reset_fresh_is_pure_json_on_stdout(make_project: Any) -> None:
    p, (m1, m2) = two_migrations(make_project)
    result = p.ok("migrate:run", "--json")
    report = json.loads(result.stdout)  # nothing but JSON on stdout
    assert report["command"] == "migrate:run" and report["ok"] is True
    [conn] = report["connections"]
    assert (conn["connection"], conn["driver"], conn["test"], conn["ok"]) == ("main", "sqlite", False, True)
    assert [a["id"] for a in conn["applied"]] == [m1, m2]
    assert all(isinstance(a["duration_ms"], int) for a in conn["applied"])
    assert conn["rolled_back"] == [] and conn["failed"] is None and isinstance(conn["duration_ms"], int)
    assert f"main: applied {m1}" in result.stderr  # progress went to stderr

    rolled = json.loads(p.ok("migrate:rollback", "--json", "--step", "1").stdout)
    assert [r["id"] for r in rolled["connections"][0]["rolled_back"]] == [m2]
    fresh = json.loads(p.ok("migrate:fresh", "--json", "--yes").stdout)
    assert [a["id"] for a in fresh["connections"][0]["applied"]] == [m1, m2]
    assert fresh["connections"][0]["dropped"] == ["modelmig_migrations", "users"]
    reset = json.loads(p.ok("migrate:reset", "--json", "--yes").stdout)
    assert [r["id"] for r in reset["connections"][0]["rolled_back"]] == [m2, m1]
    p.ok("migrate:run")
    nothing = json.loads(p.ok("migrate:run", "--json").stdout)
    assert nothing["connections"][0]["applied"] == [] and nothing["ok"] is True


def test_json_says_which_migration_failed(make_project: Any) -> None:
    p, (m1, m2) = two_migrations(make_project)
    path = p.migration_files()[1]
    path.write_text(path.read_text().replace("up = [\n", "up = [\n    op.RunSQL('SELEKT 1', 'SELECT 1'),\n", 1))
    result = p.run("migrate:run", "--json")
    assert result.exit_code != 0
    report = json.loads(result.stdout)
    [conn] = report["connections"]
    assert report["ok"] is False and conn["ok"] is False
    assert [a["id"] for a in conn["applied"]] == [m1]
    assert conn["failed"]["id"] == m2 and "SELEKT" in conn["failed"]["error"]
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and m2 in errors[0]
    # an error before any connection is opened is JSON too
    broken = p.run("migrate:run", "--json", "--connection", "nope")
    assert broken.exit_code != 0
    assert json.loads(broken.stdout) == {
        "command": "migrate:run",
        "ok": False,
        "error": json.loads(broken.stdout)["error"],
        "connections": [],
    }
    assert "unknown connection 'nope'" in json.loads(broken.stdout)["error"]


def test_warnings_and_errors_go_to_stderr_and_data_to_stdout(make_project: Any) -> None:
    p, (m1, _) = two_migrations(make_project)
    p.ok("migrate:run")
    p.migration_files()[0].write_text(p.migration_files()[0].read_text() + "# edited\n")
    result = p.ok("migrate:run")
    assert result.stdout == "main: nothing to migrate\n"
    assert (
        result.stderr.startswith("warning: main: migrations/sql/") and "modified after it was applied" in result.stderr
    )
    status = p.ok("migrate:status")
    assert status.stderr == "" and f"{m1}  modified" in status.stdout
    failed = p.run("migrate:status", "--connection", "nope")
    assert failed.stdout == "" and failed.stderr.startswith("error: ")


def on_a_terminal(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run modelmig with a pseudo-terminal as stdout and stderr; what it wrote."""
    import pty

    master, slave = pty.openpty()
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    full_env.update({"PYTHONDONTWRITEBYTECODE": "1", **(env or {})})
    proc = subprocess.Popen(
        [modelmig_exe(), *args], cwd=root, env=full_env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    assert proc.wait(30) == 0
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(make_project: Any) -> None:
    p, _ = two_migrations(make_project)
    p.ok("migrate:run")
    p.migration_files()[0].write_text(p.migration_files()[0].read_text() + "# edited\n")
    tty = on_a_terminal(p.root, "migrate:status")
    assert "\x1b[32mapplied\x1b[0m" in tty and "\x1b[31mmodified\x1b[0m" in tty
    assert "\x1b[" in on_a_terminal(p.root, "migrate:run")  # the yellow "warning:"
    assert "\x1b[" not in on_a_terminal(p.root, "migrate:status", env={"NO_COLOR": "1"})
    assert "\x1b[" not in on_a_terminal(p.root, "migrate:run", env={"NO_COLOR": "1"})
    piped = p.sh("migrate:status")  # not a terminal
    assert "\x1b[" not in piped.stdout + piped.stderr and "applied" in piped.stdout


def test_a_closed_pipe_ends_quietly(make_project: Any) -> None:
    p, (m1, m2) = two_migrations(make_project)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    # the reader is gone before modelmig writes its first line: run still does its work
    proc = subprocess.Popen(
        [modelmig_exe(), "migrate:run"], cwd=p.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    proc.stdout.close()
    stderr = proc.stderr.read().decode()
    assert proc.wait(60) == 0 and stderr == ""
    rows = sqlite3.connect(p.root / "app.sqlite3").execute("SELECT id FROM modelmig_migrations").fetchall()
    assert sorted(r[0] for r in rows) == [m1, m2]
    # as a shell pipeline
    shell = subprocess.run(
        ["bash", "-c", f"set -o pipefail; '{modelmig_exe()}' migrate:status | head -1"],
        cwd=p.root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert shell.returncode == 0 and shell.stderr == ""
    assert shell.stdout == "main [sqlite sqlite:///app.sqlite3]\n"


# ---------------------------------------------------------------- waiting for another runner's lock


def release_later(close: Any, after: float = 2.5) -> threading.Timer:
    timer = threading.Timer(after, close)
    timer.start()
    return timer


def test_sqlite_waiting_runner_says_another_runner_holds_the_write_lock(make_project: Any) -> None:
    p, (_, m2) = two_migrations(make_project)
    other = sqlite3.connect(p.root / "app.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another writer holds SQLite's write lock

    def release() -> None:
        other.execute("COMMIT")
        other.close()

    timer = release_later(release)
    try:
        result = p.sh("migrate:run")
    finally:
        timer.join()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "main: waiting for the lock: another runner holds the SQLite write lock"
    assert f"main: applied {m2} (" in result.stdout


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_server_waiting_runner_says_who_holds_the_lock(
    make_project: Any, driver: str, request: pytest.FixtureRequest
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p, (m1, _) = two_migrations(make_project, db, extra="lock_timeout = 30")
    holder = hold_lock(db)
    who = holder.info.backend_pid if driver == "pg" else holder.thread_id()
    timer = release_later(holder.close)
    try:
        result = p.sh("migrate:run")
    finally:
        timer.join()
    assert result.returncode == 0, result.stderr
    first = result.stdout.splitlines()[0]
    noun = "PostgreSQL backend" if driver == "pg" else "MySQL connection"
    assert first.startswith(f"main: waiting for the lock: {noun} {who} (user "), first
    assert first.endswith("holds the migration lock")
    assert f"main: applied {m1} (" in result.stdout


def test_a_lock_that_frees_quickly_prints_no_notice(make_project: Any) -> None:
    """The notice comes only after a second of waiting."""
    p, _ = two_migrations(make_project)
    other = sqlite3.connect(p.root / "app.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")

    def release() -> None:
        other.execute("COMMIT")
        other.close()

    timer = release_later(release, after=0.2)
    try:
        result = p.sh("migrate:run")
    finally:
        timer.join()
    assert result.returncode == 0 and "waiting" not in result.stdout


# ---------------------------------------------------------------- SQLite's concurrent rollbacks


SLOW_DOWN = """
import time
from modelmig_core import operations as op

def slow(connection):
    time.sleep(1.5)

id = "20260103000000_slow_down"
family = "sql"
parent = {parent!r}
atomic = True

up = [op.RunPython(lambda c: None, slow, destructive=False)]

down = [op.RunPython(slow, lambda c: None, destructive=False)]
"""


def test_sqlite_losers_of_concurrent_rollbacks_say_so_and_exit_3(make_project: Any) -> None:
    from modelmig_core.app import open_app
    from modelmig_core.errors import LockError
    from modelmig_core.run.runner import Runner
    from modelmig_core.targets import select_targets

    p, (m1, m2) = two_migrations(make_project)
    (p.root / "migrations" / "sql" / "20260103000000_slow_down.py").write_text(SLOW_DOWN.format(parent=m2))
    p.ok("migrate:run")
    cwd = os.getcwd()
    config, plugins = open_app(p.root / "pyproject.toml")
    [target] = select_targets(config, plugins)
    barrier = threading.Barrier(4)
    counts: list[int] = []
    errors: list[LockError] = []
    lines: list[str] = []

    def rollback() -> None:
        with Runner(config, plugins, target, lines.append) as runner:
            runner.ledger()
            barrier.wait()
            try:
                counts.append(runner.rollback(step=1))
            except LockError as exc:
                errors.append(exc)

    try:
        threads = [threading.Thread(target=rollback) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        os.chdir(cwd)
    assert counts == [1] and len(errors) == 3
    for exc in errors:
        assert exc.exit_code == 3
        assert str(exc).startswith("main: another runner rolled back 20260103000000_slow_down while this one waited")
    assert sum(line.startswith("main: rolled back 20260103000000_slow_down") for line in lines) == 1
    rows = sqlite3.connect(p.root / "app.sqlite3").execute("SELECT id FROM modelmig_migrations").fetchall()
    assert sorted(r[0] for r in rows) == [m1, m2]  # one rolled back, exactly once


def test_sqlite_rollback_loser_through_the_cli_exits_3(make_project: Any) -> None:
    p, (_, m2) = two_migrations(make_project)
    (p.root / "migrations" / "sql" / "20260103000000_slow_down.py").write_text(
        SLOW_DOWN.format(parent=m2).replace("time.sleep(1.5)", "time.sleep(3)")
    )
    p.ok("migrate:run")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    procs = [
        subprocess.Popen(
            [modelmig_exe(), "migrate:rollback", "--step", "1"],
            cwd=p.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    results = [(proc.wait(60), proc.stdout.read(), proc.stderr.read()) for proc in procs]
    codes = sorted(code for code, _, _ in results)
    # every process read the ledger while the slow rollback ran; the first one did it
    assert codes == [0, 3, 3], results
    for code, _, stderr in results:
        if code == 3:
            assert stderr.startswith("error: main: another runner rolled back 20260103000000_slow_down"), stderr
            assert len(stderr.strip().splitlines()) == 1

"""Issue 17, classes 11 (part) and 16: the production guard's APP_ENV, numeric
config options, and what the command line says (``--pretend`` summaries, a
server's refusal on MariaDB, the flag a user typed, ``MODELMIG_DEBUG``
tracebacks, durations).

Behaviour is read back from the databases (rows kept, tables there or not, the
ledger's durations), not from rendered text alone.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelmig_core.config import load_config
from modelmig_core.errors import ConfigError
from modelmig_core.run import guard
from tests.support.servers import ServerDb

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    derandomize=os.environ.get("MODELMIG_HYPOTHESIS_PROFILE", "ci") == "ci",
)

USERS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100)}
"""
POSTS = """
class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "title": column("string", 100)}
"""


def error_lines(result: Any) -> list[str]:
    return [x for x in result.stderr.splitlines() if x.strip()]


def users_project(
    make_project: Any, connections: dict[str, Any] | None = None, extra: str = "", run: tuple[str, ...] = ()
) -> Any:
    """A project whose users table is created (on the default connection, or as ``run`` says)."""
    p = make_project(connections, extra_config=extra)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", *run)
    return p


def user_rows(path: Any) -> list[tuple[str]]:
    c = sqlite3.connect(path)
    try:
        return c.execute("SELECT email FROM users").fetchall()
    finally:
        c.close()


# ---------------------------------------------------------------- APP_ENV


@pytest.mark.parametrize(
    "app_env", ["production-eu", "prod_us", "PROD-EU", " Production_2 ", "prodution", "\uff50\uff52\uff4f\uff44"]
)
def test_every_app_env_that_starts_with_prod_is_guarded(make_project: Any, app_env: str) -> None:
    p = users_project(make_project)
    with sqlite3.connect(p.root / "app.sqlite3") as c:
        c.execute("INSERT INTO users (email) VALUES ('kept@example.com')")
    for args in (("migrate:rollback",), ("migrate:reset", "--yes"), ("migrate:fresh", "--yes")):
        result = p.run(*args, env={"APP_ENV": app_env})
        [line] = error_lines(result)
        assert result.exit_code != 0 and line.startswith("error: refused: ") and "APP_ENV=" in line, line
        assert "MODELMIG_ALLOW_PROD_DESTRUCTIVE=true" in line and "--force" in line
    assert user_rows(p.root / "app.sqlite3") == [("kept@example.com",)]


@SETTINGS
@given(
    pad=st.sampled_from(["", " ", "\t", "\n ", "  "]),
    head=st.sampled_from(["prod", "PROD", "Prod", "production", "PRODUCTION", "pRoD"]),
    tail=st.text(alphabet="-_.0123456789abcXYZ/ é", max_size=10),
)
def test_in_production_for_any_value_that_starts_with_prod(pad: str, head: str, tail: str) -> None:
    os.environ["APP_ENV"] = f"{pad}{head}{tail}{pad}"
    try:
        guard.set_production_envs([])
        assert guard.in_production()
        assert guard.lookalike_warning() is None
    finally:
        del os.environ["APP_ENV"]


@SETTINGS
@given(value=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-_ ", min_size=1, max_size=12))
@example(value="dev")
@example(value="staging")
def test_values_that_do_not_start_with_prod_are_not_production(value: str) -> None:
    if value.strip().casefold().startswith("prod"):
        value = "x" + value
    os.environ["APP_ENV"] = value
    try:
        guard.set_production_envs([])
        assert not guard.in_production()
        guard.set_production_envs([value])  # unless the config names them
        assert guard.in_production() is bool(value.strip())
    finally:
        guard.set_production_envs([])
        del os.environ["APP_ENV"]


@pytest.mark.parametrize(
    "app_env", ["prd", "live", "_prod", "-production", '"production"', "pro d", "\u0440rod", "PRD"]
)
def test_look_alikes_are_warned_about_in_one_line(make_project: Any, app_env: str) -> None:
    p = users_project(make_project)
    result = p.run("migrate:status", env={"APP_ENV": app_env})
    assert result.exit_code == 0
    [line] = error_lines(result)
    assert line.startswith("warning: APP_ENV=") and "looks like production" in line and "production_envs" in line
    # and a look-alike the config names is production: no warning, the guard on
    p2 = users_project(make_project, extra=f"production_envs = [{json.dumps(app_env)}]")
    assert error_lines(p2.run("migrate:status", env={"APP_ENV": app_env})) == []
    assert p2.run("migrate:rollback", env={"APP_ENV": app_env}).exit_code != 0
    assert user_rows(p2.root / "app.sqlite3") == []  # nothing rolled back: the table is still there


@pytest.mark.parametrize("app_env", ["development", "staging", "test", "local", ""])
def test_ordinary_app_envs_get_no_warning(make_project: Any, app_env: str) -> None:
    p = users_project(make_project)
    assert error_lines(p.run("migrate:status", env={"APP_ENV": app_env})) == []


# ---------------------------------------------------------------- numeric config options


@pytest.mark.parametrize(
    "value", ["nan", "inf", "-inf", "-1", "1e300", "100000", "99999999999999999999", "true", '"60"', "[1]", "{}"]
)
def test_a_bad_lock_timeout_is_one_error_naming_the_file_and_key(make_project: Any, value: str) -> None:
    p = make_project(extra_config=f"lock_timeout = {value}")
    p.models(USERS)
    for args in (("make:migration",), ("migrate:status",)):
        result = p.run(*args)
        [line] = error_lines(result)
        assert result.exit_code != 0 and line.startswith("error: "), line
        assert str(p.root / "pyproject.toml") in line and "'lock_timeout' must be a number of seconds" in line
        assert "Traceback" not in result.output
    assert not (p.root / "app.sqlite3").exists() and not (p.root / "migrations").exists()


@SETTINGS
@given(
    value=st.one_of(
        st.floats(), st.integers(), st.booleans(), st.text(alphabet="0123456789.-e inf", max_size=5), st.none()
    )
)
def test_lock_timeout_accepts_only_finite_seconds_in_range(value: Any, tmp_path_factory: Any) -> None:
    root = tmp_path_factory.mktemp("lt")
    path = root / "modelmig.toml"
    path.write_text('models = ["m"]\n[connections.main]\nurl = "sqlite:///a.db"\n')
    import tomllib

    section = {"lock_timeout": value} if value is not None else {}
    text = path.read_text()
    if value is not None:
        literal = {math.inf: "inf", -math.inf: "-inf"}.get(value) if isinstance(value, float) else None
        if isinstance(value, float) and math.isnan(value):
            literal = "nan"
        if isinstance(value, bool):
            literal = "true" if value else "false"
        text = f"lock_timeout = {literal or json.dumps(value, ensure_ascii=False)}\n" + text
        assert tomllib.loads(text)["lock_timeout"] == value or (isinstance(value, float) and math.isnan(value))
    path.write_text(text)
    fine = value is None or (
        (not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value))
        and 0 <= value <= 86_400
    )
    if fine:
        assert load_config(path).lock_timeout == float(section.get("lock_timeout", 60.0))
    else:
        with pytest.raises(ConfigError, match=r"modelmig.toml: 'lock_timeout' must be a number of seconds"):
            load_config(path)


# ---------------------------------------------------------------- --pretend says what it would do


def test_rollback_pretend_says_what_would_be_rolled_back(make_project: Any) -> None:
    p = users_project(
        make_project,
        {"main": {"url": "sqlite:///app.sqlite3"}, "other": {"url": "sqlite:///other.sqlite3"}},
        extra='default = "main"',
        run=("--all-connections",),
    )
    one = p.ok("migrate:rollback", "--pretend")
    assert "DROP TABLE users;" in one.stdout and "nothing to do" not in one.output
    assert one.stdout.rstrip().endswith("main: would roll back 1 (--pretend: nothing was changed)")
    fleet = p.ok("migrate:rollback", "--pretend", "--all-connections")
    assert "nothing to do" not in fleet.output
    assert "main [sqlite sqlite:///app.sqlite3]: would roll back 1 (--pretend: nothing was changed)" in fleet.stdout
    assert "other [sqlite sqlite:///other.sqlite3]: would roll back 1 (--pretend: nothing was changed)" in fleet.stdout
    as_json = json.loads(p.ok("migrate:rollback", "--pretend", "--all-connections", "--json").stdout)
    assert [c["pretend"] for c in as_json["connections"]] == [
        [{"id": p.migration_files()[0].stem, "direction": "down"}]
    ] * 2
    for db in ("app.sqlite3", "other.sqlite3"):
        assert user_rows(p.root / db) == []  # the table is still there: nothing was rolled back


def test_run_pretend_says_what_would_be_applied(make_project: Any) -> None:
    p = users_project(make_project)
    p.models(USERS + POSTS)
    p.ok("make:migration")
    out = p.ok("migrate:run", "--pretend").stdout
    assert "CREATE TABLE posts" in out and out.rstrip().endswith("main: would apply 1 (--pretend: nothing was changed)")
    with sqlite3.connect(p.root / "app.sqlite3") as c:
        assert c.execute("SELECT name FROM sqlite_master WHERE name = 'posts'").fetchall() == []


# ---------------------------------------------------------------- a refusal on MariaDB is reported as one


REFUSED = '''"""Its second statement is refused by the server."""

from modelmig_core import operations as op

id = "20260102000000_refused"
family = "sql"
parent = {parent!r}
atomic = True

up = [
    op.RunSQL("CREATE TABLE first_done (x INTEGER PRIMARY KEY)", "DROP TABLE first_done"),
    op.RunSQL({bad!r}, "SELECT 1"),
    op.RunSQL("CREATE TABLE never_sent (x INTEGER)", "DROP TABLE never_sent"),
]

down = [op.RunSQL("SELECT 1", "SELECT 1")]
'''


@pytest.mark.parametrize(
    "bad",
    [
        "INSERT INTO first_done VALUES (1), (1)",  # a duplicate key
        "SELEKT 1",  # a syntax error
        "INSERT INTO no_such_table VALUES (1)",  # a missing table
    ],
)
def test_a_server_refusal_on_mariadb_says_what_is_known(make_project: Any, mysql_db: ServerDb, bad: str) -> None:
    p = make_project({"main": {"url": mysql_db.url}}, extra_config="lock_timeout = 2")
    p.models(USERS)
    p.ok("make:migration", "--name", "create_users")
    parent = p.migration_files()[0].stem
    (p.root / "migrations" / "sql" / "20260102000000_refused.py").write_text(REFUSED.format(parent=parent, bad=bad))
    result = p.run("migrate:run")
    [line] = [x for x in error_lines(result) if x.startswith("error: ")]
    assert result.exit_code != 0
    assert "statement 2 of 3 was refused by the server, the 1 before it completed" in line, line
    assert "may or may not" not in line
    names = {r[0] for r in mysql_db.rows("SHOW TABLES")}
    assert "first_done" in names and "never_sent" not in names
    assert mysql_db.rows("SELECT id, status FROM modelmig_migrations ORDER BY id")[-1] == (
        "20260102000000_refused",
        "running",
    )


def test_only_server_errors_count_as_refusals() -> None:
    import pymysql
    from modelmig_mysql.driver import MysqlSession

    session = MysqlSession.__new__(MysqlSession)
    assert session.refused(pymysql.err.IntegrityError(1062, "Duplicate entry"))
    assert session.refused(pymysql.err.ProgrammingError(1064, "syntax"))
    assert session.refused(pymysql.err.OperationalError(3819, "Check constraint violated"))  # MySQL 8
    assert not session.refused(pymysql.err.OperationalError(2013, "Lost connection to server during query"))
    assert not session.refused(pymysql.err.OperationalError(2006, "MySQL server has gone away"))
    assert not session.refused(pymysql.err.OperationalError(1317, "Query execution was interrupted"))
    assert not session.refused(pymysql.err.OperationalError(1927, "Connection was killed"))
    assert not session.refused(OSError("network down"))


# ---------------------------------------------------------------- the flag the user typed


def test_errors_name_the_flag_as_typed(make_project: Any) -> None:
    p = users_project(make_project)
    [line] = error_lines(p.run("migrate:status", "--driver", "duckdb"))
    assert "--driver duckdb given but no duckdb connection is configured" in line and "--duckdb" not in line
    [line] = error_lines(p.run("migrate:status", "--mongo"))
    assert "--mongo given but no mongo connection is configured" in line
    [line] = error_lines(p.run("migrate:status", "--driver", "pg"))
    assert "--driver pg given but no pg connection is configured" in line


# ---------------------------------------------------------------- MODELMIG_DEBUG


@pytest.mark.parametrize("value", ["1", "true", "yes"])
def test_modelmig_debug_prints_the_whole_traceback_on_stderr(make_project: Any, value: str) -> None:
    p = users_project(
        make_project,
        {"main": {"url": "sqlite:///app.sqlite3"}, "remote": {"url": "postgresql://app:pw123456@127.0.0.1:1/x"}},
        extra='default = "main"',
    )
    one = p.run("migrate:status", "--connection", "remote", env={"MODELMIG_DEBUG": value})
    assert one.exit_code != 0 and "Traceback (most recent call last):" in one.stderr
    assert one.stderr.rstrip().splitlines()[-1].startswith("error: cannot connect to postgresql://app:***@")
    assert "Traceback" not in one.stdout and "pw123456" not in one.output
    fleet = p.run("migrate:run", "--all-connections", "--json", env={"MODELMIG_DEBUG": value})
    assert fleet.exit_code != 0 and "remote: traceback (MODELMIG_DEBUG):" in fleet.stderr
    assert "Traceback (most recent call last):" in fleet.stderr and json.loads(fleet.stdout)["ok"] is False
    assert "pw123456" not in fleet.output


@pytest.mark.parametrize("value", ["", "0", "false", "no"])
def test_no_traceback_without_modelmig_debug(make_project: Any, value: str) -> None:
    p = users_project(
        make_project,
        {"main": {"url": "sqlite:///app.sqlite3"}, "remote": {"url": "postgresql://app@127.0.0.1:1/x"}},
        extra='default = "main"',
    )
    result = p.run("migrate:status", "--connection", "remote", env={"MODELMIG_DEBUG": value})
    assert result.exit_code != 0 and "Traceback" not in result.output and len(error_lines(result)) == 1


# ---------------------------------------------------------------- durations


def test_every_migration_of_a_fleet_has_its_own_measured_duration(make_project: Any) -> None:
    p = make_project(
        {
            "main": {"url": "sqlite:///a.sqlite3"},
            "b": {"url": "sqlite:///b.sqlite3"},
            "c": {"url": "sqlite:///c.sqlite3"},
        },
        extra_config='default = "main"',
    )
    p.models(USERS)
    p.ok("make:migration", "--name", "users")
    p.models(USERS + POSTS)
    p.ok("make:migration", "--name", "posts")
    report = json.loads(p.ok("migrate:run", "--all-connections", "--jobs", "2", "--json").stdout)
    for conn in report["connections"]:
        assert len(conn["applied"]) == 2
        assert all(isinstance(m["duration_ms"], int) and m["duration_ms"] >= 1 for m in conn["applied"]), conn
    for db in ("a", "b", "c"):
        c = sqlite3.connect(p.root / f"{db}.sqlite3")
        try:
            durations = [r[0] for r in c.execute("SELECT duration_ms FROM modelmig_migrations")]
        finally:
            c.close()
        assert len(durations) == 2 and all(d >= 1 for d in durations), durations

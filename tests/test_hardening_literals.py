"""Issue 17, class 2: every literal reaches SQL written the way the session reads it.

A default, a backfill, an enum value, a comment or a check's string constant made
of an attacker's alphabet (backslash, quotes, comment openers, MySQL executable
comments, ';', newline, NUL) is read back FROM THE SERVER equal to what was
written, and every other column of the table is still there: nothing can close
the literal early and append SQL. MySQL/MariaDB is tried with backslash escapes
(its default sql_mode), with NO_BACKSLASH_ESCAPES and with ANSI_QUOTES;
PostgreSQL with standard_conforming_strings on and off. Where a database cannot
hold NUL (PostgreSQL, SQLite) make refuses it with one clear line.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmig_core.api import Check, Column, State, Step, Table
from modelmig_core.operations import AddCheck, AddColumn, AlterColumn, CreateTable
from tests.support.servers import ServerDb

# pieces an attacker strings together: each can end or reopen a literal or a comment
PIECES = ["\\", "'", '"', "*/", "/*!", "/*M!", "--", "#", ";", "\n", "%", ":x", "$$", "`", "a", "Z", " ", "é", "\\'"]
NUL = "\x00"


def texts(nul: bool) -> st.SearchStrategy[str]:
    pieces = [*PIECES, NUL] if nul else PIECES
    return st.lists(st.sampled_from(pieces), min_size=1, max_size=8).map("".join)


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_names = itertools.count()


def driver_of(db: ServerDb) -> Any:
    if db.driver == "mysql":
        from modelmig_mysql.driver import driver
    elif db.driver == "pg":
        from modelmig_pg.driver import driver
    else:
        from modelmig_sqlite.driver import driver
    return driver


@pytest.fixture
def session(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A session of the driver named by the test's ``db`` fixture, with ``mode``
    applied: the sql_mode (MySQL) or standard_conforming_strings (PostgreSQL) a
    server might have for this session."""
    db: ServerDb = request.getfixturevalue("db")
    s = driver_of(db).connect(db.url)
    mode = getattr(request, "param", None)
    if mode is not None:
        s.execute(mode)
    try:
        yield s
    finally:
        s.close()


def apply(session: Any, before: State, *ops: Any) -> State:
    steps, state = [], before
    for op in ops:
        after = op.state_forwards(state)
        steps.append(Step(op, state, after))
        state = after
    for statement in list(session.statements(steps)):
        session.perform(statement)
    session.flush()
    return state


def fresh(prefix: str = "t") -> str:
    return f"{prefix}{next(_names)}"


def column_names(session: Any, db: ServerDb, table: str) -> list[str]:
    if db.driver == "sqlite":
        return [r[1] for r in session.execute(f"PRAGMA table_info({table})")]
    schema = "DATABASE()" if db.driver == "mysql" else "current_schema()"
    rows = session.execute(
        f"SELECT column_name FROM information_schema.columns WHERE table_schema = {schema} "
        f"AND table_name = '{table}' ORDER BY ordinal_position"
    )
    return [str(r[0]) for r in rows]


def comment_of(session: Any, db: ServerDb, table: str, column: str) -> str | None:
    if db.driver == "mysql":
        rows = session.execute(
            "SELECT column_comment FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = %s AND column_name = %s",
            [table, column],
        )
        return str(rows[0][0])
    rows = session.execute(
        "SELECT col_description(%s::regclass, a.attnum) FROM pg_attribute a "
        "WHERE a.attrelid = %s::regclass AND a.attname = %s",
        [table, table, column],
    )
    return rows[0][0]


MYSQL_MODES = [
    None,  # the session's own: backslash escapes on
    "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',NO_BACKSLASH_ESCAPES')",
    "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES')",
    "SET SESSION sql_mode = CONCAT(@@SESSION.sql_mode, ',ANSI_QUOTES,NO_BACKSLASH_ESCAPES')",
]
PG_MODES = [None, "SET standard_conforming_strings = off"]


@pytest.fixture
def db(request: pytest.FixtureRequest) -> ServerDb:
    return request.getfixturevalue(request.param)


def cases() -> list[Any]:
    out = [pytest.param("sqlite_db", None, id="sqlite")]
    out += [pytest.param("pg_db", m, id=f"pg-{i}") for i, m in enumerate(PG_MODES)]
    out += [pytest.param("mysql_db", m, id=f"mysql-{i}") for i, m in enumerate(MYSQL_MODES)]
    return out


def holds_nul(db: ServerDb) -> bool:
    return db.driver == "mysql"


# ---------------------------------------------------------------- defaults, comments, backfills


@pytest.mark.parametrize(("db", "session"), cases(), indirect=True)
def test_defaults_comments_and_backfills_read_back_from_the_server(db: ServerDb, session: Any) -> None:
    nul = holds_nul(db)
    comments = db.driver != "sqlite"  # SQLite has no column comments: refused at make time

    @SETTINGS
    @given(default=texts(nul), comment=texts(nul), backfill=texts(nul), other=texts(nul))
    def check(default: str, comment: str, backfill: str, other: str) -> None:
        name = fresh()
        table = Table(
            name,
            (
                Column("id", "integer", primary=True),
                Column("s", "string", length=200, default=default, comment=comment if comments else None),
                Column("t", "text", nullable=True, default=other),
                Column("keep", "integer", nullable=True),
            ),
        )
        state = apply(session, State(), CreateTable(table))
        session.execute(f"INSERT INTO {name} (id, keep) VALUES (1, 7)")
        session.execute(f"INSERT INTO {name} (id, keep) VALUES (2, 8)")
        # a NOT NULL column added to rows that exist: filled with the backfill
        state = apply(session, state, AddColumn(name, Column("b", "string", length=200), backfill))
        # the default and the comment changed in place (MODIFY / ALTER / rebuild)
        old = state.table(name).column("s")
        assert old is not None
        new = Column("s", "string", length=200, default=other, comment=default if comments else None)
        state = apply(session, state, AlterColumn(name, old, new))
        session.execute(f"INSERT INTO {name} (id, b) VALUES (3, 'z')")

        rows = session.execute(f"SELECT id, s, t, keep, b FROM {name} ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (1, default, other, 7, backfill),
            (2, default, other, 8, backfill),
            (3, other, other, None, "z"),
        ]
        assert column_names(session, db, name) == ["id", "s", "t", "keep", "b"]
        if comments:
            assert comment_of(session, db, name, "s") == default

    check()


# ---------------------------------------------------------------- enum values and check constants


@pytest.mark.parametrize(("db", "session"), cases(), indirect=True)
def test_enum_values_and_check_constants_read_back_from_the_server(db: ServerDb, session: Any) -> None:
    nul = holds_nul(db)
    value = texts(nul)
    if db.driver == "mysql":  # MySQL drops an ENUM value's trailing spaces: refused at make (test_mysql8_rules)
        value = value.filter(lambda v: not v.endswith(" "))

    values_of = st.lists(value, min_size=2, max_size=4, unique=True)
    if db.driver == "mysql":  # values one to its collation are refused at make (test_mysql8_rules)
        from modelmig_mysql.rules import collation_key

        values_of = values_of.filter(lambda vs: len({collation_key(v) for v in vs}) == len(vs))

    @SETTINGS
    @given(values=values_of, constant=texts(nul))
    def check(values: list[str], constant: str) -> None:
        name = fresh("e")
        p = session.param
        table = Table(
            name,
            (
                Column("id", "integer", primary=True),
                Column("e", "enum", values=tuple(values), default=values[-1]),
                Column("c", "string", length=200, nullable=True),
                Column("keep", "integer", nullable=True),
            ),
        )
        expression = "c <> '" + constant.replace("'", "''") + "'"  # standard SQL, as a model writes it
        state = apply(session, State(), CreateTable(table))
        apply(session, state, AddCheck(name, Check(f"ck_{name}", expression)))
        for i, value in enumerate(values):
            session.execute(f"INSERT INTO {name} (id, e, c) VALUES ({i}, {p}, {p})", [value, value + "x"])
        session.execute(f"INSERT INTO {name} (id) VALUES (99)")
        rows = session.execute(f"SELECT e, c FROM {name} ORDER BY id")
        assert [r[0] for r in rows] == [*values, values[-1]]
        with pytest.raises(Exception):  # noqa: B017 - the check holds the constant exactly
            session.execute(f"INSERT INTO {name} (id, c) VALUES (100, {p})", [constant])
        assert column_names(session, db, name) == ["id", "e", "c", "keep"]
        if db.driver == "sqlite":  # an enum is a CHECK of its values there
            with pytest.raises(Exception):  # noqa: B017
                session.execute(f"INSERT INTO {name} (id, e) VALUES (101, {p})", [values[0] + "?"])

    check()


# ---------------------------------------------------------------- NUL where the database cannot hold it

NUL_MODELS = {
    "default": 'column("string", 20, default="a\\x00b")',
    "comment": 'column("string", 20, nullable=True, comment="a\\x00b")',
    "enum value": 'column("enum", ["a\\x00b", "c"])',
}


@pytest.mark.parametrize("what", sorted(NUL_MODELS))
@pytest.mark.parametrize("url", ["sqlite:///app.sqlite3", "postgresql://postgres@127.0.0.1:1/never_opened"])
def test_nul_is_refused_at_make_where_the_database_cannot_hold_it(make_project: Any, what: str, url: str) -> None:
    p = make_project({"main": {"url": url}})
    p.models(
        f'class Item(Model):\n    table = "items"\n    schema = {{"id": column("increments"), "x": {NUL_MODELS[what]}}}\n'
    )
    result = p.run("make:migration")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert lines[0].startswith("error: ") and "model Item, field 'x'" in lines[0] and what in lines[0]
    # SQLite has no column comments at all: that, not the NUL, is what it refuses
    lacks = "sqlite has no column comments" if what == "comment" and url.startswith("sqlite") else "NUL character"
    assert lacks in lines[0] and "connection 'main'" in lines[0]
    assert not p.migration_files()


def test_a_nul_backfill_is_refused_at_make_where_the_database_cannot_hold_it(make_project: Any) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models('class Item(Model):\n    table = "items"\n    schema = {"id": column("increments")}\n')
    p.ok("make:migration")
    p.models(
        'class Item(Model):\n    table = "items"\n'
        '    schema = {"id": column("increments"), "x": column("string", 9, backfill="a\\x00")}\n'
    )
    result = p.run("make:migration")
    assert result.exit_code != 0 and "backfill holds a NUL character" in result.output, result.output
    assert len(p.migration_files()) == 1


def test_mysql_takes_nul(make_project: Any) -> None:
    p = make_project({"main": {"url": "mysql://root@127.0.0.1:3306/never_opened"}})
    p.models(
        'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "x": '
        + NUL_MODELS["default"]
        + "}\n"
    )
    p.ok("make:migration")


# ---------------------------------------------------------------- URL options: names, never SQL


def option_values() -> st.SearchStrategy[str]:
    return st.lists(
        st.sampled_from([*PIECES, "utf8mb4_bin", ",", "=", "foreign_key_checks", "0", "&"]), min_size=1, max_size=6
    ).map("".join)


@pytest.mark.parametrize("option", ["collation", "charset"])
def test_mysql_charset_and_collation_are_names_from_the_server(mysql_db: ServerDb, option: str) -> None:
    from urllib.parse import quote

    from modelmig_mysql.driver import driver

    from modelmig_core.errors import ModelmigError

    @SETTINGS
    @given(value=option_values())
    def check(value: str) -> None:
        url = f"{mysql_db.url}?{option}={quote(value, safe='')}"
        try:
            s = driver.connect(url)
        except ModelmigError as exc:
            assert f"URL option {option}" in str(exc) and "\n" not in str(exc)
            return
        try:  # only a real name of the server's connects, and nothing else changed
            assert value.isidentifier() or value.replace("_", "").isalnum()
            rows = s.execute("SELECT @@character_set_connection, @@collation_connection, @@foreign_key_checks")
            assert rows[0][2] == 1 and value in (rows[0][0], rows[0][1])
        finally:
            s.close()

    check()


def test_a_bad_collation_is_one_error_line_and_changes_nothing(make_project: Any, mysql_db: ServerDb) -> None:
    p = make_project({"main": {"url": mysql_db.url + "?collation=utf8mb4_bin%2C%20foreign_key_checks%3D0"}})
    p.models('class Item(Model):\n    table = "items"\n    schema = {"id": column("increments")}\n')
    p.ok("make:migration")
    result = p.run("migrate:run")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert lines[0].startswith("error: ") and "URL option collation" in lines[0] and mysql_db.name in lines[0]
    assert mysql_db.rows("SHOW TABLES") == []


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("postgresql://u:pw@127.0.0.1:1/db?options=-c%20standard_conforming_strings%3Doff", "URL option options"),
        ("postgresql://u:pw@127.0.0.1:1/db?sslmode=disable%27%3B", "URL option sslmode"),
        ("postgresql://u:pw@127.0.0.1:1/db?connect_timeout=5&connect_timeout=6", "given twice"),
        ("postgresql://u:pw@127.0.0.1:1/db?nosuch=1", "URL option 'nosuch': unknown"),
        ("sqlite:///app.sqlite3?timeout=nan", "URL option timeout"),
        ("sqlite:///app.sqlite3?journal_mode=off", "URL option 'journal_mode': unknown"),
        ("mysql://u:pw@127.0.0.1:1/db?charset=utf8mb4%20COLLATE%20x", "URL option charset"),
        ("mysql://u:pw@127.0.0.1:1/db?connect_timeout=-1", "URL option connect_timeout"),
    ],
)
def test_every_drivers_bad_url_option_is_one_clear_line(make_project: Any, url: str, needle: str) -> None:
    p = make_project({"main": {"url": url}})
    p.models('class Item(Model):\n    table = "items"\n    schema = {"id": column("increments")}\n')
    p.ok("make:migration")
    result = p.run("migrate:run")
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert lines[0].startswith("error: ") and needle in lines[0] and "pw" not in lines[0].replace("pw@", "")
    assert ":pw@" not in lines[0]
    assert not (p.root / "app.sqlite3").exists()


@SETTINGS
@given(key=st.sampled_from(["serverSelectionTimeoutMS", "tls", "w", "nosuch"]), value=option_values())
def test_mongo_url_options_are_pymongos_own(key: str, value: str) -> None:
    from urllib.parse import quote

    from modelmig_mongo.driver import check_url_options

    from modelmig_core.errors import ConfigError

    url = f"mongodb://u:secret@127.0.0.1:9/app?{key}={quote(value, safe='')}"
    try:
        check_url_options(url)
    except ConfigError as exc:
        assert "URL option" in str(exc) and "secret" not in str(exc) and "\n" not in str(exc)
    else:
        # accepted only what pymongo's own validator accepts (a write concern tag is
        # any text; a timeout of "0" or "00" is a number)
        from pymongo import common

        assert key != "nosuch"
        common.validate(key.lower(), value)


def test_duckdb_urls_take_no_options() -> None:
    from modelmig_duckdb.driver import database_path

    from modelmig_core.errors import ConfigError

    with pytest.raises(ConfigError, match="URL option 'access_mode': unknown"):
        database_path("duckdb:///x.duckdb?access_mode=read_only")


# ---------------------------------------------------------------- MongoDB: a unique field is an index like any


MONGO = """
class Log(Model):
    table = "log"
    store = "mongo"
    schema = {{"_id": column("uuid"), "email": column("string", 100, nullable={nullable}, unique=True)}}
"""


def test_mongo_index_rules_hold_for_unique_fields(make_project: Any) -> None:
    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "docs": {"url": "mongodb://127.0.0.1:27017/app"}},
        extra_config='default = "main"',
    )
    p.models(MONGO.format(nullable=True))
    result = p.run("make:migration")
    assert result.exit_code != 0 and "unique index" in result.output and "nullable field" in result.output
    assert "model Log, field 'email'" in result.output
    p.models(MONGO.format(nullable=False))
    p.ok("make:migration")

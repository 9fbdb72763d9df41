"""The column types real schemas use (issue 19, item 2), on the servers that have them:
MySQL's SET, YEAR, TIMESTAMP (``utcTimestamp``, apart from DATETIME), VARBINARY(n)
and BINARY(n) (``varbinary``, ``fixedBinary``) with their defaults; PostgreSQL's
plain json (``jsonText``; modelmig's ``json`` is jsonb there), inet, cidr, macaddr,
tsvector, interval, arrays of any type (``array=True``) and bytea defaults; time and
timestamp fractional seconds (``column("timestamp", 3)``) on both.

Each case: models -> make:migration -> migrate:run -> the live schema reflected
and compared with the models (``migrate:status --drift`` exits 0) -> make:models
reads the live schema back into models that ask for no migration and say the same
types -> a change planted by hand on the live database is reported by drift ->
rollback leaves no table. A database without the type refuses the models at make
time, one line naming the model, field and connection, and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.driver import Step
from modelmig_core.schema.state import Column
from modelmig_core.vocabulary.column_types import fits, narrowing
from tests.conftest import Project
from tests.support.schema import drift
from tests.support.servers import ServerDb

HOSTILE = "it's \\ a `tick`; DROP TABLE x; --"

PG_MODELS = """
class Thing(Model):
    table = "things"
    schema = {
        "id": column("increments"),
        "doc": column("json", nullable=True),
        "raw": column("jsonText", nullable=True),
        "addr": column("inet", default="10.0.0.1"),
        "net": column("cidr", nullable=True),
        "mac": column("macaddr", nullable=True),
        "search": column("tsvector", nullable=True),
        "span": column("interval", nullable=True),
        "tags": column("string", 20, array=True, nullable=True),
        "scores": column("integer", array=True, default="{1,2}"),
        "moods": column("enum", ["ok", "it's"], array=True, nullable=True),
        "at": column("timestamp", 3),
        "zoned": column("timestamp", 0, use_tz=True, default_now=False),
        "clock": column("time", 2, nullable=True),
        "plain": column("timestamp", default_now=False),
        "blob": column("binary", default="abc"),
    }
"""

MYSQL_MODELS = f"""
class Thing(Model):
    table = "things"
    schema = {{
        "id": column("increments"),
        "flags": column("set", ["a", "b", {HOSTILE!r}], default="a,b"),
        "picked": column("set", ["x", "y"], nullable=True),
        "born": column("year", default=2024),
        "hash": column("varbinary", 16, default="ab"),
        "code": column("fixedBinary", 4, nullable=True, default="ab"),
        "created": column("utcTimestamp"),
        "seen": column("utcTimestamp", 3, default_now=False),
        "at": column("timestamp", 0),
        "fine": column("timestamp", 3, default_now=False),
        "plain": column("timestamp", default_now=False),
        "clock": column("time", 2, nullable=True),
        "mood": column("enum", ["ok", {HOSTILE!r}], default="ok"),
        "hits": column("unsignedInteger", default=0),
    }}
"""

#: per database: the models, what make:models must write for them, and the hand
#: changes drift must report (SQL, the column it names)
CASES: dict[str, dict[str, Any]] = {
    "pg": {
        "models": PG_MODELS,
        "written": [
            '"moods": column("enum", ["ok", "it\'s"], nullable=True, array=True)',
            '"doc": column("json", nullable=True)',
            '"raw": column("jsonText", nullable=True)',
            '"addr": column("inet", default="10.0.0.1")',
            '"net": column("cidr", nullable=True)',
            '"mac": column("macaddr", nullable=True)',
            '"search": column("tsvector", nullable=True)',
            '"span": column("interval", nullable=True)',
            '"tags": column("string", 20, nullable=True, array=True)',
            '"scores": column("integer", default="{1,2}", array=True)',
            '"at": column("timestamp", 3)',
            '"zoned": column("timestamp", 0, default_now=False, use_tz=True)',
            '"clock": column("time", 2, nullable=True)',
            '"blob": column("binary", default="abc")',
        ],
        "planted": [
            ("ALTER TABLE things ALTER COLUMN doc TYPE json", "doc"),  # jsonb -> json
            ("ALTER TABLE things ALTER COLUMN raw TYPE jsonb", "raw"),  # json -> jsonb
            ("ALTER TABLE things ALTER COLUMN at TYPE timestamp(6)", "at"),  # precision changed
            ("ALTER TABLE things ALTER COLUMN tags TYPE varchar(20)", "tags"),  # no longer an array
            ("ALTER TABLE things ALTER COLUMN addr TYPE text", "addr"),  # inet -> text
            ("ALTER TABLE things ALTER COLUMN span TYPE text", "span"),  # interval -> text
        ],
    },
    "mysql": {
        "models": MYSQL_MODELS,
        "written": [
            repr(HOSTILE),  # in the set's and the enum's values, as a Python literal
            '"picked": column("set", ["x", "y"], nullable=True)',
            '"born": column("year", default=2024)',
            '"hash": column("varbinary", 16, default="ab")',
            '"code": column("fixedBinary", 4, nullable=True, default="ab")',
            '"created": column("utcTimestamp")',
            '"seen": column("utcTimestamp", 3, default_now=False)',
            '"at": column("timestamp", 0)',
            '"fine": column("timestamp", 3, default_now=False)',
            '"plain": column("timestamp", default_now=False)',
            '"clock": column("time", 2, nullable=True)',
        ],
        "planted": [
            ("ALTER TABLE things MODIFY fine DATETIME(6) NULL", "fine"),  # precision changed
            ("ALTER TABLE things MODIFY created DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)", "created"),
            ("ALTER TABLE things MODIFY picked SET('x', 'y', 'z') NULL", "picked"),  # a member added
            ("ALTER TABLE things MODIFY born SMALLINT NOT NULL DEFAULT 2024", "born"),  # YEAR -> integer
            ("ALTER TABLE things MODIFY hash VARBINARY(32) NOT NULL DEFAULT 'ab'", "hash"),  # length changed
            ("ALTER TABLE things MODIFY code BINARY(8) NULL DEFAULT 'ab'", "code"),
            (
                "ALTER TABLE things MODIFY hits INT NOT NULL DEFAULT 0",
                "hits",
            ),  # unsigned dropped  # fixed length changed
            (
                "ALTER TABLE things MODIFY at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP",
                "at",
            ),  # DATETIME -> TIMESTAMP
        ],
    },
}


def project(make_project: Any, db: ServerDb, models: str) -> Project:
    p: Project = make_project({"main": {"url": db.url}})
    p.models(models)
    return p


@pytest.fixture(params=["pg", "mysql"])
def server_db(request: pytest.FixtureRequest) -> ServerDb:
    db: ServerDb = request.getfixturevalue(f"{request.param}_db")
    return db


def test_each_type_round_trips_through_the_live_database(make_project: Any, server_db: ServerDb) -> None:
    db = server_db
    case = CASES[db.driver]
    p = project(make_project, db, case["models"])
    p.ok("make:migration", "--name", "things")
    p.ok("migrate:run")

    code, out = drift(p)
    assert code == 0, out  # every column reflects back as the models say it

    written = p.ok("make:models", "--force").output
    assert "Wrote models.py" in written
    source = (p.root / "models.py").read_text()
    for call in filter(None, case["written"]):
        assert call in source, f"{call} not in\n{source}"
    assert "has no modelmig type" not in source and "cannot say" not in source, source
    again = p.run("make:migration", "--check")
    assert again.exit_code == 0, again.output  # the written models ask for nothing: the same state

    p.ok("migrate:rollback")
    assert (
        db.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'things' AND table_schema = "
            + ("current_schema()" if db.driver == "pg" else "DATABASE()")
        )
        == 0
    )


def test_a_hand_change_of_each_category_is_drift(make_project: Any, server_db: ServerDb) -> None:
    db = server_db
    case = CASES[db.driver]
    p = project(make_project, db, case["models"])
    p.ok("make:migration", "--name", "things")
    p.ok("migrate:run")
    for statement, column in case["planted"]:
        db.execute(statement)
        code, out = drift(p)
        assert code == 1, f"{statement}: drift exited {code}\n{out}"
        assert f"things.{column}" in out or f"column {column}" in out, f"{statement}:\n{out}"


def test_hostile_set_and_enum_values_reach_mysql_quoted(make_project: Any, mysql_db: ServerDb) -> None:
    p = project(make_project, mysql_db, MYSQL_MODELS)
    p.ok("make:migration", "--name", "things")
    p.ok("migrate:run")
    row = mysql_db.rows(
        "SELECT column_type FROM information_schema.columns WHERE table_schema = DATABASE() "
        "AND table_name = 'things' AND column_name = 'flags'"
    )
    assert row and "DROP TABLE x" in row[0][0]  # the value is inside the type, as a string
    mysql_db.execute("INSERT INTO things (flags, born, hash) VALUES ('a,b', 2001, 'ab')")
    assert mysql_db.scalar("SELECT count(*) FROM things") == 1


@pytest.mark.parametrize(
    ("models", "driver", "type_"),
    [
        ('"x": column("set", ["a"])', "pg", "set"),
        ('"x": column("year")', "sqlite", "year"),
        ('"x": column("utcTimestamp")', "pg", "utcTimestamp"),
        ('"x": column("varbinary", 8)', "pg", "varbinary"),
        ('"x": column("inet")', "mysql", "inet"),
        ('"x": column("jsonText")', "mysql", "jsonText"),
        ('"x": column("tsvector")', "sqlite", "tsvector"),
        ('"x": column("integer", array=True)', "mysql", "array"),
        ('"x": column("timestamp", 3)', "sqlite", "fractional"),
        ('"x": column("set", ["\\U0001f600"])', "mysql", "beyond U+FFFF"),  # MariaDB would store '?'
        ('"x": column("enum", ["a", "\\U0001f600"])', "mysql", "beyond U+FFFF"),
    ],
)
def test_a_database_without_the_type_refuses_it_at_make_time(
    make_project: Any, models: str, driver: str, type_: str, request: pytest.FixtureRequest
) -> None:
    url = "sqlite:///app.sqlite3" if driver == "sqlite" else request.getfixturevalue(f"{driver}_db").url
    p: Project = make_project({"edge": {"url": url}})
    p.models(f'class T(Model):\n    table = "t"\n    schema = {{"id": column("increments"), {models}}}\n')
    result = p.run("make:migration", "--name", "t")
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if "model T, field 'x'" in line]
    assert len(lines) == 1, result.output
    assert "connection 'edge'" in lines[0], lines[0]
    assert type_ in lines[0] or type_ in ("array", "fractional"), lines[0]
    assert not p.migration_files()


@pytest.mark.parametrize(
    ("declaration", "problem"),
    [
        ('column("set", ["a", "a"])', "set values repeat"),
        ('column("set", ["a,b"])', "holds a comma"),
        ('column("set", ["a"], default="a,z")', "'z' is not one of the set values"),
        ('column("year", default=1800)', "is not a year"),
        ('column("timestamp", 7)', "from 0 to 6"),
        ('column("timestamp", 2, default="2020-01-01 00:00:00.123")', "more fractional digits than 2"),
        ('column("varbinary", 2, default="abc")', "longer than 2 bytes"),
        ('column("inet", default="999.1.1.1")', "not a valid inet"),
        ('column("integer", array=True, primary=True)', "array column cannot be a primary key"),
    ],
)
def test_bad_declarations_are_one_line_naming_the_field(make_project: Any, declaration: str, problem: str) -> None:
    p: Project = make_project()
    p.models(f'class T(Model):\n    table = "t"\n    schema = {{"id": column("increments"), "x": {declaration}}}\n')
    result = p.run("make:migration")
    assert result.exit_code != 0
    assert "model T, field 'x'" in result.output and problem in result.output, result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------- what a type change keeps


def col(type_: str, **kw: Any) -> Column:
    return Column("x", type_, **kw)


@pytest.mark.parametrize(
    ("old", "new", "narrows"),
    [
        (col("timestamp"), col("timestamp", precision=3), True),  # 6 digits -> 3
        (col("timestamp", precision=0), col("timestamp"), False),
        (col("timestamp", precision=3), col("utcTimestamp", precision=3), True),  # 1970..2038 only
        (col("utcTimestamp", precision=3), col("timestamp", precision=3), False),
        (col("time", precision=2), col("time", precision=1), True),
        (col("set", values=("a", "b")), col("set", values=("a", "b", "c")), False),
        (col("set", values=("a", "b")), col("set", values=("a",)), True),
        (col("varbinary", length=16), col("varbinary", length=32), False),
        (col("varbinary", length=16), col("varbinary", length=8), True),
        (col("fixedBinary", length=4), col("fixedBinary", length=8), True),  # zero padding changes the value
        (col("varbinary", length=16), col("binary"), False),
        (col("year"), col("smallInteger"), False),
        (col("smallInteger"), col("year"), True),
        (col("json"), col("jsonText"), False),
        (col("jsonText"), col("json"), True),  # key order and duplicates are lost
        (col("integer"), col("integer", array=True), False),  # each value a one-element array
        (col("integer", array=True), col("integer"), True),  # all but the first element lost
        (col("bigInteger"), col("integer", array=True), True),
        (col("inet"), col("inet"), False),
        (col("cidr"), col("inet"), True),
    ],
)
def test_narrowing_names_the_changes_that_lose_data(old: Column, new: Column, narrows: bool) -> None:
    assert (narrowing(old, new) is not None) is narrows, narrowing(old, new)


def test_a_narrowing_type_change_is_named_at_make_time(make_project: Any, pg_db: ServerDb) -> None:
    p = project(make_project, pg_db, 'class T(Model):\n    table = "t"\n    schema = {"at": column("time", 4)}\n')
    p.ok("make:migration", "--name", "t")
    p.models('class T(Model):\n    table = "t"\n    schema = {"at": column("time", 1)}\n')
    out = p.ok("make:migration", "--name", "less").output
    assert "time(4) to time(1)" in out, out


@settings(max_examples=200, deadline=None)
@given(
    micro=st.integers(min_value=0, max_value=999_999),
    keeps=st.integers(min_value=0, max_value=6),
    as_text=st.booleans(),
)
def test_a_value_fits_fewer_fractional_digits_only_when_it_loses_none(micro: int, keeps: int, as_text: bool) -> None:
    moment = datetime(2024, 5, 6, 7, 8, 9, micro)
    test = fits(col("timestamp"), col("timestamp", precision=keeps))
    text = moment.isoformat(sep=" ")
    kept = micro == int(str(micro).zfill(6)[:keeps].ljust(6, "0"))
    assert test(text if as_text else moment, text) is kept


@pytest.mark.parametrize(
    ("new", "value", "ok"),
    [
        (col("set", values=("a", "b")), "a,b", True),
        (col("set", values=("a", "b")), "a,c", False),
        (col("year"), "2155", True),
        (col("year"), "1900", False),
        (col("varbinary", length=2), b"ab", True),
        (col("varbinary", length=2), b"abc", False),
        (col("utcTimestamp"), "2038-01-19 03:14:07", True),
        (col("utcTimestamp"), "2038-01-19 03:14:08", False),
        (col("utcTimestamp"), "1969-12-31 23:59:59", False),
    ],
)
def test_fits_reads_each_value(new: Column, value: Any, ok: bool) -> None:
    text = value.decode() if isinstance(value, bytes) else value
    assert fits(col("text"), new)(value, text) is ok


def test_mysql_timestamp_never_gets_an_implicit_on_update(mysql_db: ServerDb) -> None:
    """A session whose server has explicit_defaults_for_timestamp OFF (MariaDB before
    10.10's default) turns it on before it renders: a TIMESTAMP NOT NULL column
    without a default gets no implicit DEFAULT/ON UPDATE."""
    from modelmig_core.registry import Registry
    from modelmig_core.schema.operations import CreateTable
    from modelmig_core.schema.state import State, Table

    driver = Registry().driver("mysql")
    table = Table("stamps", (Column("at", "utcTimestamp", precision=0), Column("n", "integer")))
    op = CreateTable(table)
    with driver.connect(mysql_db.url) as session:
        session.execute("SET SESSION explicit_defaults_for_timestamp = 0")
        renderer = session.renderer()
        assert not renderer.implicit_timestamps
        for statement in renderer.statements(Step(op, State({}), op.state_forwards(State({})))):
            session.execute(statement)
        created = session.execute("SHOW CREATE TABLE stamps")[0][1]
    assert "on update" not in created.lower() and "default" not in created.lower().split("`at`")[1].split(",")[0]


def test_a_column_becomes_an_array_and_back_with_its_rows(make_project: Any, pg_db: ServerDb) -> None:
    """integer -> integer[] keeps each value as a one-element array (NULL stays NULL);
    the way back keeps them as their one element (checked row by row before it runs)."""
    head = 'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), '
    p = project(make_project, pg_db, head + '"n": column("integer", nullable=True)}\n')
    p.ok("make:migration", "--name", "t")
    p.ok("migrate:run")
    pg_db.execute("INSERT INTO t (n) VALUES (7), (NULL), (-3)")
    p.models(head + '"n": column("integer", nullable=True, array=True)}\n')
    p.ok("make:migration", "--name", "arrays")
    p.ok("migrate:run")
    assert pg_db.rows("SELECT n FROM t ORDER BY id") == [([7],), (None,), ([-3],)]
    code, out = drift(p)
    assert code == 0, out
    pg_db.execute("INSERT INTO t (n) VALUES ('{1,2}')")
    refused = p.run("migrate:rollback", "--force")
    assert refused.exit_code != 0 and "do not fit integer" in refused.output, refused.output
    assert pg_db.rows("SELECT n FROM t ORDER BY id") == [([7],), (None,), ([-3],), ([1, 2],)]  # nothing changed
    pg_db.execute("DELETE FROM t WHERE n = '{1,2}'")
    p.ok("migrate:rollback", "--force")
    assert pg_db.rows("SELECT n FROM t ORDER BY id") == [(7,), (None,), (-3,)]


#: SET members as MySQL keeps them: no comma (the separator), no trailing space (dropped),
#: none equal to another by the collation (checked by the driver's refusal, filtered here)
MEMBER = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters=","), min_size=1, max_size=8
).filter(lambda v: v == v.rstrip(" ") and v.strip() != "")


@settings(max_examples=15, deadline=None)
@given(values=st.lists(MEMBER, min_size=1, max_size=5, unique_by=lambda v: v.casefold()))
def test_any_set_members_reach_mysql_quoted_and_read_back(values: list[str]) -> None:
    """Whatever the members hold (quotes, backslashes, backticks, any script), the
    SET the driver creates reads back with exactly those members, or the driver's
    refusal names them before any statement (members one to the collation)."""
    from modelmig_core.registry import Registry
    from modelmig_core.schema.operations import CreateTable, DropTable
    from modelmig_core.schema.state import State, Table
    from tests.support.servers import MYSQL_URL

    driver = Registry().driver("mysql")
    table = Table("members", (Column("s", "set", values=tuple(values), nullable=True),))
    state = State({"members": table})
    if driver.refusals(state, None):
        return  # named at make time: never sent
    op = CreateTable(table)
    with driver.connect(MYSQL_URL) as session:
        renderer = session.renderer()
        session.execute("DROP TABLE IF EXISTS members")
        try:
            for statement in renderer.statements(Step(op, State({}), state)):
                session.execute(statement)
            live = driver.reflect(session).tables["members"].column("s")
        finally:
            drop = DropTable(table)
            for statement in renderer.statements(Step(drop, state, State({}))):
                session.execute(statement)
    assert live is not None and live.type == "set" and live.values == tuple(values)


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_migration_files_of_the_new_types_rewrite_byte_for_byte(make_project: Any, driver: str) -> None:
    """The file make:migration writes for every new type reads back into the same
    operations and writes again to the same bytes; ``array`` appears only where it
    is True. (No database: make needs none for a SQLite-free chain's file.)"""
    from pathlib import Path

    from modelmig_core.history.migrations import list_files, load, render

    p: Project = make_project(
        {
            "main": {
                "url": "postgresql://nobody@127.0.0.1:1/none" if driver == "pg" else "mysql://nobody@127.0.0.1:1/none"
            }
        }
    )
    p.models(CASES[driver]["models"])
    p.ok("make:migration", "--name", "things")
    blog = Path(__file__).resolve().parent.parent / "examples" / "blog" / "migrations"
    files = [*list_files(p.root / "migrations", "sql"), *list_files(blog, "sql")]
    assert len(files) >= 2
    for f in files:
        m = load(f)
        text = f.path.read_text()
        assert render(m.id, m.family, m.parent, m.up, m.down) == text, f.path
        assert "array=False" not in text
    own = files[0].path.read_text()
    assert ("array=True" in own) is (driver == "pg")


def test_six_fractional_digits_is_one_state_with_none_said() -> None:
    """A timestamp that says 6 and one that says none keep microseconds both: one
    state, so drift never reports ``timestamp(6)`` against ``timestamp`` on PostgreSQL."""
    from modelmig_pg.reflect import fractional
    from sqlalchemy.dialects import postgresql

    from modelmig_core.vocabulary.column_types import type_of

    for name in ("time", "timestamp"):
        assert type_of(name).arguments(6, {}) == type_of(name).arguments(None, {}) == {}
        assert type_of(name).arguments(3, {}) == {"precision": 3}
    assert fractional(postgresql.TIMESTAMP(precision=6)) == fractional(postgresql.TIMESTAMP()) == {}
    assert fractional(postgresql.TIME(precision=0)) == {"precision": 0}


def test_a_binary_default_that_is_no_text_is_named_not_a_crash(make_project: Any, mysql_db: ServerDb) -> None:
    """MariaDB writes a VARBINARY default such as 0xFF00 raw in SHOW CREATE TABLE:
    reflection read it as UTF-8 and failed mid-packet, so make:models and drift
    aborted. Now it is read, named in UNMANAGED and left out; the rest is kept."""
    mysql_db.execute("CREATE TABLE blobs (id INT PRIMARY KEY, b VARBINARY(4) DEFAULT 0xFF00, c BINARY(2) DEFAULT 'ab')")
    p = make_project({"main": {"url": mysql_db.url}})
    r = p.run("make:models")
    assert r.exit_code == 0, r.output
    source = (p.root / "models.py").read_text()
    assert "blobs.b: a default of bytes that are no UTF-8 text" in source
    assert '"b": column("varbinary", 4, nullable=True)' in source
    assert '"c": column("fixedBinary", 2, nullable=True, default="ab")' in source
    drift = p.run("migrate:status", "--drift")
    assert drift.exit_code in (0, 1) and "extra table blobs" in drift.output, drift.output
    assert mysql_db.scalar("SELECT HEX(b) FROM (SELECT DEFAULT(b) AS b FROM blobs RIGHT JOIN (SELECT 1) x ON 1) d") == (
        "FF00"
    )

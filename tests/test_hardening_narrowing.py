"""Issue 17, classes 6, 14 and 15: type changes that narrow are named at make time
as dropping data, guarded and backed up in production, and refused at run time while
any row does not fit (with the count, the table and the column, nothing changed) on
every database; the rows a migration drops are counted under the table's name of the
moment; a primary key change is refused at make time."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.run import guard
from modelmig_core.schema.state import Column
from modelmig_core.vocabulary.column_types import fits, narrowing
from tests.support.servers import ServerDb

PROD = {"APP_ENV": "production"}
ALL_THREE = {"APP_ENV": "production", "MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}


@pytest.fixture(autouse=True)
def _no_configured_production_envs() -> Iterator[None]:
    guard.set_production_envs(())
    yield
    guard.set_production_envs(())


def one_error_line(result: Any, *needles: str) -> str:
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip() and not line.startswith("warning:")]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def col(type_: str, **kw: Any) -> Column:
    kw.setdefault("nullable", True)
    return Column("c", type_, **kw)


# ---------------------------------------------------------------- the table: what narrows


@pytest.mark.parametrize(
    ("old", "new", "narrows"),
    [
        (col("string", length=255), col("string", length=50), "string(255) to string(50)"),
        (col("string", length=50), col("string", length=255), None),
        (col("text"), col("string", length=100), "text to string(100)"),
        (col("string", length=10), col("text"), None),
        (col("integer"), col("smallInteger"), "integer to smallInteger"),
        (col("bigInteger"), col("integer"), "bigInteger to integer"),
        (col("smallInteger"), col("bigInteger"), None),
        (col("decimal", precision=8, scale=2), col("decimal", precision=8, scale=1), "decimal(8, 2) to decimal(8, 1)"),
        (col("decimal", precision=8, scale=2), col("decimal", precision=6, scale=2), "decimal(8, 2) to decimal(6, 2)"),
        (col("decimal", precision=8, scale=2), col("decimal", precision=10, scale=3), None),
        (col("decimal", precision=8, scale=2), col("integer"), "decimal(8, 2) to integer"),
        (col("integer"), col("decimal", precision=12, scale=2), None),
        (col("integer"), col("decimal", precision=8, scale=2), "integer to decimal(8, 2)"),
        (col("double"), col("float"), "double to float"),
        (col("float"), col("double"), None),
        (col("bigInteger"), col("double"), "bigInteger to double"),
        (col("timestamp"), col("date"), "timestamp to date"),
        (col("timestamp"), col("time"), "timestamp to time"),
        (col("date"), col("timestamp"), None),
        (col("timestamp", use_tz=True), col("timestamp"), "timestamp with time zone to timestamp"),
        (col("timestamp"), col("timestamp", use_tz=True), None),
        (col("enum", values=("a", "b", "c")), col("enum", values=("a", "b")), "enum('a', 'b', 'c') to enum('a', 'b')"),
        (col("enum", values=("a", "b")), col("enum", values=("a", "b", "c")), None),
        (
            col("enum", values=("short", "muchlonger")),
            col("string", length=5),
            "enum('short', 'muchlonger') to string(5)",
        ),
        (col("enum", values=("ab", "cd")), col("string", length=5), None),
        (col("json"), col("string", length=255), "json to string(255)"),
        (col("json"), col("text"), None),
        (col("uuid"), col("string", length=10), "uuid to string(10)"),
        (col("uuid"), col("string", length=36), None),
        (col("string", length=40), col("uuid"), "string(40) to uuid"),
        (col("integer"), col("boolean"), "integer to boolean"),
        (col("boolean"), col("integer"), None),
        (col("binary"), col("text"), "binary to text"),
        (col("citext"), col("citext", length=3), "citext to citext(3)"),  # a type the table does not know
        (col("string", length=9), col("string", length=9, nullable=False), None),  # no type change at all
    ],
)
def test_narrowing_table(old: Column, new: Column, narrows: str | None) -> None:
    found = narrowing(old, new)
    if narrows is None:
        assert found is None
    else:
        assert found is not None and found.startswith(narrows), found


@pytest.mark.parametrize(
    ("old", "new", "value", "text", "fit"),
    [
        (col("string", length=9), col("string", length=3), "abc", "abc", True),
        (col("string", length=9), col("string", length=3), "abcd", "abcd", False),
        (col("integer"), col("smallInteger"), 32767, "32767", True),
        (col("integer"), col("smallInteger"), 32768, "32768", False),
        (col("integer"), col("smallInteger"), -32769, "-32769", False),
        (col("decimal", precision=8, scale=2), col("decimal", precision=8, scale=1), Decimal("1.50"), "1.50", True),
        (col("decimal", precision=8, scale=2), col("decimal", precision=8, scale=1), Decimal("1.25"), "1.25", False),
        (col("decimal", precision=8, scale=2), col("decimal", precision=4, scale=2), Decimal("99.99"), "99.99", True),
        (col("decimal", precision=8, scale=2), col("decimal", precision=4, scale=2), Decimal("100.00"), "100", False),
        (col("double"), col("float"), 0.5, "0.5", True),
        (col("double"), col("float"), 0.1, "0.1", True),  # reads back as 0.1
        (col("double"), col("float"), 0.123456789, "0.123456789", False),
        (col("double"), col("float"), 1e300, "1e300", False),
        (col("decimal", precision=8, scale=2), col("integer"), Decimal("3.00"), "3.00", True),
        (col("decimal", precision=8, scale=2), col("integer"), Decimal("3.01"), "3.01", False),
        (col("timestamp"), col("date"), None, "2024-01-02 00:00:00", True),
        (col("timestamp"), col("date"), None, "2024-01-02 10:30:00", False),
        (col("timestamp", use_tz=True), col("timestamp"), None, "2024-01-02 10:00:00+00", True),  # UTC
        (col("timestamp", use_tz=True), col("timestamp"), None, "2024-01-02 10:00:00+02", False),
        (col("timestamp", use_tz=True), col("timestamp"), None, "2024-01-02 10:00:00+05:30", False),
        (col("enum", values=("a", "b", "c")), col("enum", values=("a", "b")), "b", "b", True),
        (col("enum", values=("a", "b", "c")), col("enum", values=("a", "b")), "c", "c", False),
        (col("string", length=40), col("uuid"), None, "not a uuid", False),
        (col("string", length=40), col("json"), None, '{"a": [1]}', True),
        (col("string", length=40), col("json"), None, "{oops", False),
        (col("integer"), col("boolean"), 2, "2", False),
        (col("integer"), col("boolean"), 1, "1", True),
        (col("string", length=9), col("integer"), "12", "12", True),
        (col("string", length=9), col("integer"), "12abc", "12abc", False),
    ],
)
def test_fits(old: Column, new: Column, value: Any, text: str, fit: bool) -> None:
    assert fits(old, new)(value if value is not None else text, text) is fit


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("\\'\"*/!-#;\n\x00ab é")), max_size=12), st.integers(0, 8))
def test_a_string_fits_exactly_when_it_is_short_enough(value: str, limit: int) -> None:
    check = fits(col("string", length=20), col("string", length=limit))
    assert check(value, value) is (len(value) <= limit)


# ---------------------------------------------------------------- make names it, production guards it

ITEMS_WIDE = """
class Item(Model):
    table = "items"
    schema = {"id": column("increments"), "name": column("string", 20)}
"""
ITEMS_NARROW = ITEMS_WIDE.replace('column("string", 20)', 'column("string", 5)')


def test_a_narrowing_change_is_named_at_make_and_guarded_in_production(make_project: Any, sqlite_db: ServerDb) -> None:
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(ITEMS_WIDE)
    p.ok("make:migration")
    p.ok("migrate:run")
    sqlite_db.execute("INSERT INTO items (id, name) VALUES (1, 'abc')")
    p.models(ITEMS_NARROW)
    made = p.ok("make:migration")
    assert "drops data when it runs: alter name on items (narrows string(20) to string(5))" in made.output
    source = p.migration_files()[-1].read_text()
    assert "# drops data: alter name on items (narrows string(20) to string(5))" in source
    line = one_error_line(p.run("migrate:run", env=PROD), "refused", "narrows string(20) to string(5)")
    assert "APP_ENV=production" in line
    assert sqlite_db.rows("SELECT id, name FROM items") == [(1, "abc")]
    result = p.ok("migrate:run", "--force", "--yes", env=ALL_THREE)
    assert result.output.index("backed up and verified") < result.output.index("applied ")
    assert len(list((p.root / "modelmig-backups").iterdir())) == 1
    assert sqlite_db.rows("SELECT id, name FROM items") == [(1, "abc")]


# ---------------------------------------------------------------- the rows must fit, on every database

#: column: (old type, new type, a value that fits, a value that does not; None: NULL)
KINDS: dict[str, tuple[str, str, Any, Any]] = {
    "s": ('column("string", 20, nullable=True)', 'column("string", 5, nullable=True)', "abc", "abcdefgh"),
    "t": ('column("text", nullable=True)', 'column("string", 5, nullable=True)', "abc", "abcdefghij"),
    "i": ('column("integer", nullable=True)', 'column("smallInteger", nullable=True)', 100, 100000),
    "b": ('column("bigInteger", nullable=True)', 'column("integer", nullable=True)', 5, 2**40),
    "d1": ('column("decimal", (8, 2), nullable=True)', 'column("decimal", (8, 1), nullable=True)', "1.5", "1.25"),
    "d2": ('column("decimal", (8, 2), nullable=True)', 'column("decimal", (4, 2), nullable=True)', "12.34", "123.45"),
    "f": ('column("double", nullable=True)', 'column("float", nullable=True)', 0.5, 0.123456789),
    "ts": (
        'column("timestamp", default_now=False)',
        'column("date", nullable=True)',
        "2024-01-02 00:00:00",
        "2024-01-02 10:30:00",
    ),
    "tt": ('column("timestamp", default_now=False)', 'column("time", nullable=True)', None, "2024-01-02 10:30:00"),
    "e": ('column("enum", ["a", "b", "c"], nullable=True)', 'column("enum", ["a", "b"], nullable=True)', "a", "c"),
    "es": (
        'column("enum", ["short", "muchlonger"], nullable=True)',
        'column("string", 5, nullable=True)',
        "short",
        "muchlonger",
    ),
    "j": ('column("json", nullable=True)', 'column("string", 12, nullable=True)', '{"a": 1}', '{"a": "long long"}'),
    "u": (
        'column("uuid", nullable=True)',
        'column("string", 10, nullable=True)',
        None,
        "0f8fad5b-d9cb-469f-a165-70867728950e",
    ),
}


def kinds_model(index: int) -> str:
    fields = ", ".join(f'"{name}": {kind[index]}' for name, kind in KINDS.items())
    return f'\nclass Kind(Model):\n    table = "kinds"\n    schema = {{"id": column("increments"), {fields}}}\n'


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def test_every_narrowing_kind_fails_while_a_row_does_not_fit(make_project: Any, any_db: ServerDb) -> None:
    """One row fits every narrowed type, the other fits none: the run fails naming
    each column in turn with its count, changing nothing (the rows read back as
    they were, the ledger without the migration), until that row's value is
    cleared; then the change goes through and the fitting values read back."""
    db = any_db
    p = make_project({"main": {"url": db.url}})
    p.models(kinds_model(0))
    p.ok("make:migration")
    p.ok("migrate:run")
    names = list(KINDS)
    for row, index in ((1, 2), (2, 3)):
        values = ", ".join(literal(KINDS[n][index]) for n in names)
        db.execute(f"INSERT INTO kinds (id, {', '.join(names)}) VALUES ({row}, {values})")
    before = db.rows("SELECT * FROM kinds ORDER BY id")
    p.models(kinds_model(1))
    p.ok("make:migration")
    mid = p.migration_files()[-1].stem
    for name in names:
        result = p.run("migrate:run")
        non_null = 2 if KINDS[name][2] is not None else 1
        assert result.exit_code != 0 and "Traceback" not in result.output, result.output
        [line] = [x for x in result.output.splitlines() if x.startswith("error: ")]
        assert f"1 of the {non_null} non-NULL row(s) of kinds.{name} do not fit" in line, line
        assert "nothing was changed" in line, line
        assert mid not in [r[0] for r in db.rows("SELECT id FROM modelmig_migrations")]
        if name == names[0]:
            assert db.rows("SELECT * FROM kinds ORDER BY id") == before  # every column as it was
        db.execute(f"UPDATE kinds SET {name} = NULL WHERE id = 2")
    p.ok("migrate:run")
    [fit, cleared] = db.rows(f"SELECT {', '.join(names)} FROM kinds ORDER BY id")
    assert cleared == (None,) * len(names)
    got = dict(zip(names, fit, strict=True))
    assert got["s"] == "abc" and got["t"] == "abc" and got["es"] == "short" and got["e"] == "a"
    assert got["i"] == 100 and got["b"] == 5
    assert Decimal(str(got["d1"])) == Decimal("1.5") and Decimal(str(got["d2"])) == Decimal("12.34")
    assert float(got["f"]) == 0.5
    assert str(got["ts"])[:10] == str(date(2024, 1, 2))
    assert got["j"] is not None and "a" in got["j"] and len(got["j"]) <= 12
    assert got["u"] is None and got["tt"] is None


def test_a_timestamp_keeps_its_zone_only_in_utc(make_project: Any, sqlite_db: ServerDb) -> None:
    """with time zone -> without: a value at another offset does not fit (SQLite keeps
    the text as written); one in UTC does, and reads back unchanged."""
    tz = 'column("timestamp", use_tz=True, default_now=False)'
    model = '\nclass Event(Model):\n    table = "events"\n    schema = {"id": column("increments"), "at": %s}\n'
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(model % tz)
    p.ok("make:migration")
    p.ok("migrate:run")
    sqlite_db.execute("INSERT INTO events (id, at) VALUES (1, '2024-01-02 10:30:00'), (2, '2024-01-02 10:30:00+02:00')")
    p.models(model % 'column("timestamp", default_now=False)')
    p.ok("make:migration")
    result = p.run("migrate:run")
    assert "1 of the 2 non-NULL row(s) of events.at do not fit timestamp" in result.output, result.output
    sqlite_db.execute("UPDATE events SET at = '2024-01-02 08:30:00' WHERE id = 2")
    p.ok("migrate:run")
    assert sqlite_db.rows("SELECT at FROM events ORDER BY id") == [("2024-01-02 10:30:00",), ("2024-01-02 08:30:00",)]


def test_the_check_runs_after_earlier_steps_of_the_same_migration(make_project: Any, any_db: ServerDb) -> None:
    """A hand-written migration that shortens the values first, then narrows: the
    rows are checked just before the ALTER, so they fit by then."""
    db = any_db
    p = make_project({"main": {"url": db.url}})
    p.models(ITEMS_WIDE)
    p.ok("make:migration")
    p.ok("migrate:run")
    db.execute("INSERT INTO items (id, name) VALUES (1, 'abcdefgh')")
    p.models(ITEMS_NARROW)
    p.ok("make:migration")
    path = p.migration_files()[-1]
    cut = "UPDATE items SET name = 'short' WHERE id = 1"
    path.write_text(path.read_text().replace("up = [\n", f"up = [\n    op.RunSQL({cut!r}, 'SELECT 1'),\n", 1))
    p.ok("migrate:run")
    assert db.rows("SELECT id, name FROM items") == [(1, "short")]


def test_pretend_prints_the_check(make_project: Any, sqlite_db: ServerDb) -> None:
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(ITEMS_WIDE)
    p.ok("make:migration")
    p.ok("migrate:run")
    p.models(ITEMS_NARROW)
    p.ok("make:migration")
    out = p.ok("migrate:run", "--pretend").output
    assert "SELECT name, CAST(name AS TEXT)" in out and "FROM items" in out
    assert out.index("CAST(name AS TEXT)") < out.index("CREATE TABLE")


# ---------------------------------------------------------------- class 14: counted under the name of the moment

RENAME_AND_DROP = """
class Item(Model):
    table = "goods"
    renamed_from = "items"
    schema = {"id": column("increments")}
"""


def test_rows_dropped_after_a_rename_are_counted(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    p = make_project({"main": {"url": db.url}})
    p.models(ITEMS_WIDE)
    p.ok("make:migration")
    p.ok("migrate:run")
    for i in range(3):
        db.execute(f"INSERT INTO items (id, name) VALUES ({i + 1}, 'n{i}')")
    p.models(RENAME_AND_DROP)
    p.ok("make:migration")
    source = p.migration_files()[-1].read_text()
    assert "RenameTable" in source and "DropColumn" in source
    result = p.ok("migrate:run", "--json")
    assert "column goods.name (3 row(s))" in result.output, result.output
    assert "?" not in result.output.split("drops data", 1)[-1].splitlines()[0]
    assert sorted(r[0] for r in db.rows("SELECT id FROM goods")) == [1, 2, 3]


def test_drops_follow_renames_and_new_tables() -> None:
    from modelmig_core.operations import CreateTable, DropColumn, DropTable, RenameTable, RunSQL, Table
    from modelmig_core.sql.dataloss import drops

    c = Column("x", "integer")
    ops = [
        RenameTable("a", "b"),
        DropColumn("b", c),
        CreateTable(Table("a", columns=(c,))),
        DropTable(Table("a", columns=(c,))),
        RunSQL("DROP TABLE z"),
    ]
    found = [(d.table, d.column, d.counted, d.new) for d in drops(ops)]
    assert found == [("b", "x", "a", False), ("a", None, None, True), (None, None, None, False)]


# ---------------------------------------------------------------- class 15: primary key changes


def test_a_primary_key_change_is_refused_at_make(make_project: Any) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(
        """
class Tag(Model):
    table = "tags"
    schema = {"id": column("increments"), "code": column("string", 10)}
"""
    )
    p.ok("make:migration")
    p.models(
        """
class Tag(Model):
    table = "tags"
    schema = {"id": column("integer"), "code": column("string", 10, primary=True)}
"""
    )
    files = p.migration_files()
    for args in (["make:migration"], ["make:migration", "--check"]):
        line = one_error_line(p.run(*args))
        assert "Tag" in line and "primary key" in line and "'tags'" in line, line
        assert "make:migration --empty" in line
    assert p.migration_files() == files
    assert not Path(p.root / "app.sqlite3").exists()

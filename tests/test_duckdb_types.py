"""The DuckDB plugin keeps its types the way every driver does: a table from type
to DDL (``DuckdbRenderer.types``) and the core's reading back (a registered type's
``reflects["duckdb"]``, the driver's ``type_table``, the generic table), so a
plugin's column type round-trips on DuckDB as on the other databases."""

from __future__ import annotations

import shutil
from typing import Any

import duckdb

from modelmig_core.registry import Registry
from modelmig_core.vocabulary.column_types import STATE_TYPES

#: a ``duck_amount`` type on the public api only: DECIMAL(17,5) on DuckDB, read back as duck_amount
AMOUNT_PLUGIN = """
from modelmig_core.api import ColumnType, hookimpl


def _ddl(column):
    import sqlalchemy as sa

    return sa.DECIMAL(17, 5)


def _read(t):
    import sqlalchemy as sa

    same = isinstance(t, sa.Numeric) and (t.precision, t.scale) == (17, 5)
    return {"type": "duck_amount"} if same else None


class Amount(ColumnType):
    def value_problem(self, column, value):
        return None if isinstance(value, int) and not isinstance(value, bool) else f"{value!r} is not a whole amount"


AMOUNT = Amount("duck_amount", zero=0, ddl={"duckdb": _ddl}, reflects={"duckdb": _read})


@hookimpl
def column_types():
    return [AMOUNT]
"""

MODELS = """
class Account(Model):
    table = "accounts"
    schema = {
        "id": column("increments"),
        "name": column("string", 50),
        "balance": column("duck_amount", nullable=True),
        "limit_": column("decimal", (10, 2), nullable=True),
        "seen_at": column("timestamp", use_tz=True, default_now=False),
    }
"""


def duck(db: str, sql: str) -> list[Any]:
    with duckdb.connect(db) as con:
        return con.execute(sql).fetchall()


#: built-in types DuckDB's table has no entry for, refused at make time on a DuckDB
#: connection: MySQL's sizes and signs, and char(n) (DuckDB keeps no length, so a
#: blank-padded CHAR(n) would read back as text)
DUCKDB_LACKS = sorted(
    {"char", "tinyInteger", "unsignedTinyInteger", "unsignedSmallInteger", "unsignedInteger", "unsignedBigInteger"}
    | {"mediumText", "longText", "mediumBinary", "longBinary"}
    # MySQL's SET, YEAR, TIMESTAMP, VARBINARY(n)/BINARY(n) and PostgreSQL's own types (issue 19)
    | {"set", "year", "utcTimestamp", "varbinary", "fixedBinary"}
    | {"jsonText", "inet", "cidr", "macaddr", "tsvector", "interval"}
)


def test_every_builtin_type_has_an_entry_in_the_duckdb_table_or_is_refused(make_project: Any) -> None:
    driver = Registry().driver("duckdb")
    assert sorted(t for t in STATE_TYPES if not driver.renders(t)) == DUCKDB_LACKS
    p = make_project({"main": {"url": "duckdb:///app.duckdb"}})
    p.models(
        'class Item(Model):\n    table = "items"\n    schema = {"id": column("increments"), "code": column("char", 3)}\n'
    )
    result = p.run("make:migration")
    assert result.exit_code != 0 and "char" in result.output and "duckdb" in result.output, result.output
    assert not (p.root / "migrations").exists() or not any((p.root / "migrations").rglob("*.py"))


def test_a_plugin_type_round_trips_on_duckdb(make_project: Any) -> None:
    p = make_project({"main": {"url": "duckdb:///app.duckdb"}}, extra_config='plugins = ["duck_amount"]')
    (p.root / "duck_amount.py").write_text(AMOUNT_PLUGIN, encoding="utf-8")
    db = str(p.root / "app.duckdb")
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")

    # the driver's table and the plugin's ddl, as DuckDB's catalogue reports them
    types = dict(
        duck(
            db,
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = 'accounts' ORDER BY column_index",
        )
    )
    assert types == {
        "id": "INTEGER",
        "name": "VARCHAR",
        "balance": "DECIMAL(17,5)",
        "limit_": "DECIMAL(10,2)",
        "seen_at": "TIMESTAMP WITH TIME ZONE",
    }
    duck(db, "INSERT INTO accounts (name, balance) VALUES ('ann', 12.34567)")
    assert [str(b) for (b,) in duck(db, "SELECT balance FROM accounts")] == ["12.34567"]
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0, status.output

    # make:models reads the plugin's type back (the plugin's reflects before the built-in decimal)
    source = p.ok("make:models", "--out", "-").output
    assert '"balance": column("duck_amount", nullable=True)' in source, source
    assert '"limit_": column("decimal", (10, 2), nullable=True)' in source, source

    # adopt the database afresh: the models make:models wrote, a new chain, baseline
    duck(db, "DROP TABLE modelmig_migrations")
    shutil.rmtree(p.root / "migrations")
    p.ok("make:models", "--force")
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-03T00:00:00"})
    assert "marked" in p.ok("migrate:baseline").output
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0, status.output

    # changed by hand to the built-in it is made of: drift names the column and both types
    duck(db, "ALTER TABLE accounts ALTER COLUMN balance TYPE DECIMAL(18,3)")
    drift = p.run("migrate:status", "--drift")
    assert drift.exit_code != 0, drift.output
    assert "accounts.balance" in drift.output and "duck_amount" in drift.output, drift.output


def test_renderers_made_in_threads_share_no_duckdb_connection() -> None:
    """`--jobs` makes a renderer per DuckDB connection in threads at once: reading
    DuckDB's keywords on its module-level default connection failed there with
    "connection is busy with another call" (test_a_fleet_across_chains_with_jobs,
    now and then)."""
    import threading

    from modelmig_duckdb.render import DuckdbRenderer, reserved_words

    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def make() -> None:
        start.wait()
        try:
            for _ in range(20):
                reserved_words.cache_clear()
                assert "at" in {w.lower() for w in DuckdbRenderer().dialect.identifier_preparer.reserved_words}
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=make) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


COMMENTED = """
class Note(Model):
    table = "notes"
    schema = {{"id": column("increments", comment={key!r}), "body": column("string", 20, comment={body!r})}}
"""


def test_column_comments_are_kept_compared_and_changed_on_duckdb(make_project: Any) -> None:
    """DuckDB keeps COMMENT ON COLUMN (its driver declares column_comments): an
    auto-increment key's comment too, read back, changed, rolled back, and a comment
    changed by hand is drift."""
    p = make_project({"main": {"url": "duckdb:///app.duckdb"}})
    db = str(p.root / "app.duckdb")
    comments = "SELECT column_name, comment FROM duckdb_columns() WHERE table_name = 'notes' ORDER BY column_index"
    p.models(COMMENTED.format(key="the key", body="it's 'quoted'"))
    p.ok("make:migration")
    p.ok("migrate:run")
    assert duck(db, comments) == [("id", "the key"), ("body", "it's 'quoted'")]
    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0 and "drift: none" in status.output, status.output

    p.models(COMMENTED.format(key="key two", body=None))
    p.ok("make:migration")
    p.ok("migrate:run")
    assert duck(db, comments) == [("id", "key two"), ("body", None)]
    p.ok("migrate:rollback")
    assert duck(db, comments) == [("id", "the key"), ("body", "it's 'quoted'")]

    duck(db, "COMMENT ON COLUMN notes.body IS 'by hand'")
    drift = p.run("migrate:status", "--drift")
    assert drift.exit_code != 0, drift.output
    assert "notes.body: comment 'by hand' in the database, \"it's 'quoted'\" in the migrations" in drift.output

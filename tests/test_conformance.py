"""The conformance kit (``modelmig_core.conformance``) on every SQL driver of this
repository: each scenario a driver can run is one ``modelmig drivers:check URL
--scenario NAME`` on an empty scratch database of that driver (SQLite, PostgreSQL,
MariaDB, DuckDB). The scenarios live in the kit only; the dialect-specific
assertions are in test_dialect_sql.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from modelmig_duckdb.driver import DuckdbDriver, DuckdbSession

from modelmig_core import conformance
from modelmig_core.cli import cli
from modelmig_core.registry import Registry

DATABASES = ("sqlite", "pg", "mysql", "duckdb")
FEATURES = {name: Registry().driver(name).features for name in DATABASES}
RUNS = [(db, s.name) for db in DATABASES for s in conformance.SCENARIOS if not s.why_not(FEATURES[db])]
ABSENT = [(db, s) for db in DATABASES for s in conformance.SCENARIOS if s.why_not(FEATURES[db])]


@pytest.mark.parametrize(("database", "scenario"), RUNS, ids=[f"{d}-{s}" for d, s in RUNS])
def test_drivers_check_scenario(database: str, scenario: str, request: pytest.FixtureRequest) -> None:
    db = request.getfixturevalue(f"{database}_db")
    result = CliRunner().invoke(cli, ["drivers:check", db.url, "--scenario", scenario])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith(scenario))
    assert line.split()[1] == "pass", result.output
    assert "1 passed, 0 not applicable (declared features), 0 failed" in result.output


def test_declared_features_make_exactly_the_scenarios_that_need_them_not_applicable() -> None:
    """What a driver declares it cannot do is "n/a", with the flag that says so, and
    touches no database; a non-transactional driver gets the interruption scenario
    instead of the one that needs transactional DDL."""
    assert {(db, s.name) for db, s in ABSENT} == {
        ("sqlite", "length_enforced"),
        ("sqlite", "interrupted_migration_is_reported"),
        ("pg", "interrupted_migration_is_reported"),
        ("mysql", "failing_migration_leaves_nothing"),
        ("duckdb", "add_not_null_columns"),
        ("duckdb", "constraints_on_existing_tables"),
        ("duckdb", "full_chain"),
        ("duckdb", "length_enforced"),
        ("duckdb", "interrupted_migration_is_reported"),
    }
    details = {(db, s.name): conformance.run_one(s, "nowhere://", Registry().driver(db)) for db, s in ABSENT}
    assert {o.result for o in details.values()} == {"n/a"}
    assert details["sqlite", "length_enforced"].detail == "not enforced by this database (enforces_length=False)"
    assert details["mysql", "failing_migration_leaves_nothing"].detail == "declared transactional_ddl=False"
    assert details["pg", "interrupted_migration_is_reported"].detail == (
        "for drivers without transactional DDL (transactional_ddl=True)"
    )
    assert details["duckdb", "full_chain"].detail == "declared add_constraint_to_existing_table=False"


@pytest.mark.parametrize("where", ["absolute", "relative"])
def test_drivers_check_from_a_plain_shell(tmp_path: Path, where: str) -> None:
    """No pytest: the installed command runs every scenario and prints the table; a
    relative file URL names the same file for the kit's own reads as for the
    commands it runs (both from the scratch app's folder)."""
    exe = Path(sys.executable).parent / "modelmig"
    url = f"sqlite:///{tmp_path / 'scratch.sqlite3'}" if where == "absolute" else "sqlite:///scratch.sqlite3"
    result = subprocess.run([str(exe), "drivers:check", url], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("  ")]
    table = [r for r in rows if r[0] in {s.name for s in conformance.SCENARIOS}]
    assert [r[0] for r in table] == [s.name for s in conformance.SCENARIOS]
    assert rows[0][0] == "schema:" and "SQLAlchemy's Inspector (sqlite://)" in result.stdout
    absent = {"length_enforced", "interrupted_migration_is_reported"}
    assert {r[0]: r[1] for r in table} == {s.name: "n/a" if s.name in absent else "pass" for s in conformance.SCENARIOS}
    assert all(r[2].endswith("s") for r in table)
    assert f"{len(table) - 2} passed, 2 not applicable (declared features), 0 failed" in result.stdout


@pytest.mark.parametrize("database", ["sqlite", "pg", "mysql", "duckdb"])
def test_drivers_check_refuses_a_database_that_has_a_table(database: str, request: pytest.FixtureRequest) -> None:
    db: Any = request.getfixturevalue(f"{database}_db")
    driver = Registry().driver(database)
    with driver.connect(db.url) as session:
        session.execute("CREATE TABLE precious (id INTEGER)")
        session.execute("INSERT INTO precious (id) VALUES (7)")
    result = CliRunner().invoke(cli, ["drivers:check", db.url])
    assert result.exit_code == 2  # a refused input, as every config error
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refused: ") and "(precious)" in lines[0]
    assert lines[0].endswith("drivers:check needs an empty scratch database; nothing was touched")
    with driver.connect(db.url) as session:
        assert session.list_tables() == ["precious"]
        assert session.execute("SELECT id FROM precious") == [(7,)]


class CursorSession(DuckdbSession):
    def cursor(self) -> Any:
        return self.raw.cursor()  # what the transaction rule forbids on DuckDB


class CursorDriver(DuckdbDriver):
    session_class = CursorSession


def test_breaking_the_transaction_rule_fails_drivers_check(tmp_path: Path) -> None:
    """DuckDB's cursor() is another connection: a driver that runs statements on it
    leaves a failed migration's table behind, and drivers:check says so."""
    url = f"duckdb:///{tmp_path / 'bad.duckdb'}"
    args = ["drivers:check", url, "--scenario", "failing_migration_leaves_nothing"]
    bad = CliRunner().invoke(cli, [*args, "--plugin", "tests.test_conformance:CursorDriver"])
    assert bad.exit_code == 1, bad.output
    assert "failing_migration_leaves_nothing" in bad.output and " fail " in bad.output
    good = CliRunner().invoke(cli, [*args, "--plugin", "modelmig_duckdb.driver:DuckdbDriver"])
    assert good.exit_code == 0, good.output


# ---------------------------------------------------------------- the comparison compares

LIVE_DEFAULT_CHANGE = {
    # SQLite cannot alter a default: the table is made again by hand with one
    "sqlite": [
        "DROP TABLE scraps",
        "CREATE TABLE scraps (id INTEGER NOT NULL PRIMARY KEY, note VARCHAR(50) DEFAULT 'x')",
    ],
    "pg": ["ALTER TABLE scraps ALTER COLUMN note SET DEFAULT 'x'"],
}


@pytest.mark.parametrize("database", ["sqlite", "pg"])
def test_the_kit_finds_a_live_schema_that_differs(database: str, request: pytest.FixtureRequest) -> None:
    """The kit's check (the driver's reflect and drift's comparison) passes on the
    schema the migrations made, and names each difference once the live schema
    or the expected state differs."""
    from dataclasses import replace

    from modelmig_core.conformance import fixtures
    from modelmig_core.conformance.workspace import Workspace

    db: Any = request.getfixturevalue(f"{database}_db")
    ws = Workspace(db.url, Registry().driver(database))
    cwd = Path.cwd()
    try:
        ws.models(fixtures.GADGETS)
        ws.cli("make:migration", "--name", "create_gadgets")
        ws.cli("migrate:run")
        state = ws.states()[-1]
        ws.check(state, "migrate:run")  # agrees: nothing to report

        gadgets = state.tables["gadgets"]
        price = gadgets.column("price")
        assert price is not None
        other = state.with_table(
            replace(gadgets, columns=tuple(replace(c, default="2.50") if c is price else c for c in gadgets.columns))
        )
        with pytest.raises(AssertionError) as found:
            ws.check(other, "a changed expected default")
        assert str(found.value) == (
            "after a changed expected default: drift: changed column gadgets.price: "
            "default '1.5' in the database, '2.5' in the migrations"  # compared as numbers
        )

        with ws.session() as session:
            for statement in LIVE_DEFAULT_CHANGE[database]:
                session.execute(statement)
            session.execute("CREATE TABLE stray (id INTEGER)")
        with pytest.raises(AssertionError) as found:
            ws.check(state, "a hand-made change")
        assert str(found.value) == "after a hand-made change: extra table stray"  # the kit's own reading
        with ws.session() as session:
            session.execute("DROP TABLE stray")
        with pytest.raises(AssertionError) as found:
            ws.check(state, "a hand-made change")
        assert str(found.value) == (  # then what drift sees through the driver's reflection
            "after a hand-made change: drift: changed column scraps.note: default 'x' in the database, "
            "none in the migrations"
        )
    finally:
        os.chdir(cwd)
        ws.close()


def test_duckdb_constraints_are_matched_by_what_they_are(tmp_path: Path) -> None:
    """DuckDB names foreign keys and checks itself (constraint_names=False): its
    reflection reads them under DuckDB's names, and the comparison matches them by
    columns, target and expression, so a different expression is still found."""
    from dataclasses import replace

    from modelmig_core.conformance.compare import compare_states
    from modelmig_core.schema.state import Check

    driver = Registry().driver("duckdb")
    with driver.connect(f"duckdb:///{tmp_path / 'c.duckdb'}") as session:
        session.execute("CREATE TABLE parents (id INTEGER PRIMARY KEY)")
        session.execute(
            "CREATE TABLE kids (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), n INTEGER CHECK (n > 0))"
        )
        live = driver.reflect(session)
    kids = live.tables["kids"]
    assert [(c.name, c.expression) for c in kids.checks] == [("kids_n_check", "n > 0")]
    assert [(f.columns, f.ref_table, f.ref_columns) for f in kids.foreign_keys] == [
        (("parent_id",), "parents", ("id",))
    ]
    named = replace(
        kids, checks=(Check("ck_kids_n", "n > 0"),), foreign_keys=(replace(kids.foreign_keys[0], name="fk"),)
    )
    assert compare_states(driver, live.with_table(named), live) == []
    other = replace(named, checks=(Check("ck_kids_n", "n >= 0"),))
    assert set(compare_states(driver, live.with_table(other), live)) == {
        "missing check kids.n >= 0: n >= 0",
        "extra check kids.n > 0: n > 0",
    }

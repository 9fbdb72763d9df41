"""The conformance kit (``modelmig_core.conformance``) on every SQL driver of this
repository: each scenario a driver can run is one ``modelmig drivers:check URL
--scenario NAME`` on an empty scratch database of that driver (SQLite, PostgreSQL,
MariaDB, DuckDB). The scenarios live in the kit only; the dialect-specific
assertions are in test_dialect_sql.py."""

from __future__ import annotations

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
RUNS = [(db, s.name) for db in DATABASES for s in conformance.SCENARIOS if not FEATURES[db].lacking(s.requires)]
SKIPS = [(db, s) for db in DATABASES for s in conformance.SCENARIOS if FEATURES[db].lacking(s.requires)]


@pytest.mark.parametrize(("database", "scenario"), RUNS, ids=[f"{d}-{s}" for d, s in RUNS])
def test_drivers_check_scenario(database: str, scenario: str, request: pytest.FixtureRequest) -> None:
    db = request.getfixturevalue(f"{database}_db")
    result = CliRunner().invoke(cli, ["drivers:check", db.url, "--scenario", scenario])
    assert result.exit_code == 0, result.output
    line = next(x for x in result.output.splitlines() if x.strip().startswith(scenario))
    assert line.split()[1] == "pass", result.output
    assert "1 passed, 0 skipped (declared features), 0 failed" in result.output


def test_declared_features_skip_exactly_the_scenarios_that_need_them() -> None:
    """What a driver declares it cannot do is skipped, named, and touches no database."""
    assert {(db, s.name) for db, s in SKIPS} == {
        ("mysql", "failing_migration_leaves_nothing"),
        ("duckdb", "add_not_null_columns"),
        ("duckdb", "constraints_on_existing_tables"),
        ("duckdb", "full_chain"),
    }
    for db, scenario in SKIPS:
        outcome = conformance.run_one(scenario, "nowhere://", Registry().driver(db))
        assert (
            outcome.result == "skip"
            and outcome.detail == f"{db} declares {FEATURES[db].lacking(scenario.requires)[0]}=False"
        )


def test_drivers_check_from_a_plain_shell(tmp_path: Path) -> None:
    """No pytest: the installed command runs every scenario and prints the table."""
    exe = Path(sys.executable).parent / "modelmig"
    url = f"sqlite:///{tmp_path / 'scratch.sqlite3'}"
    result = subprocess.run([str(exe), "drivers:check", url], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.startswith("  ")]
    assert [r[0] for r in rows] == [s.name for s in conformance.SCENARIOS]
    assert {r[1] for r in rows} == {"pass"} and all(r[2].endswith("s") for r in rows)
    assert f"{len(rows)} passed, 0 skipped (declared features), 0 failed" in result.stdout


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

"""The conformance kit cannot be fooled: dishonest wrappers of the real SQLite and
PostgreSQL drivers, written as a plugin author would (on ``modelmig_core.api``,
subclassing the drivers' published classes), each telling one lie and hiding it
from its own reflection (``comparable`` drops what it lies about from both sides,
so drift would say "none"). The kit reads the live schema itself and checks with
rows, and fails each one, naming what it found. The honest drivers pass; a DuckDB
driver that declares it has no foreign keys, unique keys or auto-increment keys is
certified on everything else; and the kit runs with the driver alone, whatever
plugins the user has installed."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from modelmig_pg.driver import PgDriver
from modelmig_pg.render import PgRenderer
from modelmig_sqlite.driver import SqliteDriver, SqliteSession
from modelmig_sqlite.render import SqliteRenderer

from modelmig_core import api
from modelmig_core.cli import cli

HERE = "tests.test_conformance_honest"


def strip_tables(state: Any, change: Any) -> Any:
    """``state`` with ``change(table)`` applied to every table: how a liar hides its lie."""
    return api.State({name: change(t) for name, t in state.tables.items()})


# ---------------------------------------------------------------- lie 1: constraints dropped


def no_constraints(table: Any) -> Any:
    return replace(
        table,
        foreign_keys=(),
        uniques=(),
        indexes=tuple(i for i in table.indexes if not i.unique),
    )


class NoConstraintsRenderer(SqliteRenderer):
    def sa_table(self, table: Any, md: Any = None, name: str | None = None) -> Any:
        return super().sa_table(no_constraints(table), md, name)

    def create_table(self, table: Any, name: str | None = None) -> list[str]:
        return super().create_table(no_constraints(table), name)


class NoConstraintsDriver(SqliteDriver):
    info = api.DriverInfo("liar-constraints", ("sqlite",), "sql", "drops foreign keys and unique keys")
    renderer_class = f"{HERE}:NoConstraintsRenderer"

    def comparable(self, state: Any) -> Any:
        return strip_tables(super().comparable(state), no_constraints)


# ---------------------------------------------------------------- lie 2: NOT NULL not enforced


def all_nullable(table: Any) -> Any:
    return replace(table, columns=tuple(c if c.primary else replace(c, nullable=True) for c in table.columns))


class NullableRenderer(SqliteRenderer):
    def sa_column(self, col: Any) -> Any:
        return super().sa_column(col if col.primary else replace(col, nullable=True))


class NullableDriver(SqliteDriver):
    info = api.DriverInfo("liar-nullable", ("sqlite",), "sql", "makes every column nullable")
    renderer_class = f"{HERE}:NullableRenderer"

    def comparable(self, state: Any) -> Any:
        return strip_tables(super().comparable(state), all_nullable)


# ---------------------------------------------------------------- lie 3: lengths not enforced


class LengthClaimDriver(SqliteDriver):
    """SQLite stores a longer string whole; this driver claims it refuses one."""

    info = api.DriverInfo("liar-length", ("sqlite",), "sql", "claims SQLite enforces lengths")
    features = SqliteDriver.features.but(enforces_length=True)


class TextRenderer(PgRenderer):
    def column_type(self, col: Any) -> Any:
        import sqlalchemy as sa

        return sa.Text() if col.type == "string" else super().column_type(col)


def strings_as_text(table: Any) -> Any:
    return replace(
        table, columns=tuple(replace(c, type="text", length=None) if c.type == "string" else c for c in table.columns)
    )


class TextDriver(PgDriver):
    """PostgreSQL renders every string(n) as TEXT: no length at all."""

    info = api.DriverInfo("liar-text", ("postgresql",), "sql", "renders string(n) as TEXT")
    renderer_class = f"{HERE}:TextRenderer"

    def comparable(self, state: Any) -> Any:
        return strip_tables(super().comparable(state), strings_as_text)


# ---------------------------------------------------------------- lie 4: increments that number every row 0


def zero_keys(table: Any) -> Any:
    """Auto-increment keys become plain columns that default to 0 (no primary key, as
    in an engine without one; so no foreign key can point at them either)."""
    return replace(
        table,
        columns=tuple(
            replace(c, primary=False, autoincrement=False, default=0) if c.autoincrement else c for c in table.columns
        ),
        foreign_keys=tuple(fk for fk in table.foreign_keys if fk.ref_columns != ("id",)),
    )


class ZeroRenderer(SqliteRenderer):
    def sa_table(self, table: Any, md: Any = None, name: str | None = None) -> Any:
        return super().sa_table(zero_keys(table), md, name)


class ZeroDriver(SqliteDriver):
    info = api.DriverInfo("liar-zero", ("sqlite",), "sql", "auto-increment keys that are always 0")
    renderer_class = f"{HERE}:ZeroRenderer"

    def comparable(self, state: Any) -> Any:
        return strip_tables(super().comparable(state), zero_keys)


# ---------------------------------------------------------------- lie 5: a narrowing change that rewrites values


class WrappingRenderer(SqliteRenderer):
    """integer -> smallInteger keeps the low 16 bits, as an engine that wraps would."""

    @api.renders_operation(api.AlterColumn)
    def op_alter_column(self, op: Any, step: Any) -> list[str]:
        out = super().op_alter_column(op, step)
        if op.old.type == "integer" and op.new.type == "smallInteger":
            c, t = self.q(op.new.name), self.q(op.table)
            out.append(f"UPDATE {t} SET {c} = (({c} + 32768) % 65536) - 32768")
        return out


class TextOnlySession(SqliteSession):
    """Sends every statement's text, never its ``action``: the core's check that the
    rows fit a narrower type (a SELECT with a Python action) then checks nothing."""

    def perform(self, statement: Any) -> None:
        self.execute(statement.text)


class WrappingDriver(SqliteDriver):
    info = api.DriverInfo("liar-wrap", ("sqlite",), "sql", "narrowing wraps values around")
    renderer_class = f"{HERE}:WrappingRenderer"
    session_class = TextOnlySession


# ---------------------------------------------------------------- lie 6: integers stored as strings


def integers_as_strings(table: Any) -> Any:
    """What the liar's ``comparable`` says of every plain integer column: a string."""
    return replace(
        table,
        columns=tuple(
            replace(c, type="string", length=20, default=None) if c.type == "integer" and not c.primary else c
            for c in table.columns
        ),
    )


class IntegerTextRenderer(SqliteRenderer):
    """Every plain integer column is a VARCHAR(20): SQLite keeps the numbers, as text."""

    def column_type(self, col: Any) -> Any:
        import sqlalchemy as sa

        return sa.String(20) if col.type == "integer" and not col.primary else super().column_type(col)


class IntegerTextDriver(SqliteDriver):
    info = api.DriverInfo("liar-integer-text", ("sqlite",), "sql", "renders integer columns as VARCHAR(20)")
    renderer_class = f"{HERE}:IntegerTextRenderer"

    def comparable(self, state: Any) -> Any:
        return strip_tables(super().comparable(state), integers_as_strings)


# ---------------------------------------------------------------- lie 7: check constraints dropped


def no_checks(table: Any) -> Any:
    return replace(table, checks=())


class NoChecksRenderer(SqliteRenderer):
    def sa_table(self, table: Any, md: Any = None, name: str | None = None) -> Any:
        return super().sa_table(no_checks(table), md, name)

    def create_table(self, table: Any, name: str | None = None) -> list[str]:
        return super().create_table(no_checks(table), name)


class NoChecksDriver(SqliteDriver):
    """Declares check constraints (as SQLite does) and silently drops every one."""

    info = api.DriverInfo("liar-checks", ("sqlite",), "sql", "drops check constraints")
    renderer_class = f"{HERE}:NoChecksRenderer"

    def comparable(self, state: Any) -> Any:
        return strip_tables(super().comparable(state), no_checks)


# ---------------------------------------------------------------- the kit on each lie


def outcomes(url: str, plugin: str, *names: str) -> dict[str, api.ConformanceOutcome]:
    return {o.scenario: o for o in api.check_driver(url, plugin=f"{HERE}:{plugin}", scenarios=names)}


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'scratch.db'}"


def test_dropped_foreign_keys_and_unique_keys_fail(tmp_path: Path) -> None:
    found = outcomes(
        sqlite_url(tmp_path),
        "NoConstraintsDriver",
        "fixture_schema",
        "unique_enforced",
        "foreign_keys_enforced",
        "not_null_enforced",
    )
    assert found["fixture_schema"].result == "fail"
    detail = found["fixture_schema"].detail
    assert "foreign key posts(author_id) -> authors(id) on delete CASCADE on update CASCADE is missing" in detail
    assert "unique key posts(author_id, slug) is missing" in detail and "unique key authors(email) is missing" in detail
    assert found["unique_enforced"].result == "fail"
    assert found["unique_enforced"].detail == (
        "unique key not enforced: probes took {'code': 'same', 'label': 'two'} while a row has code 'same' "
        "(probes.code is unique)"
    )
    assert found["foreign_keys_enforced"].result == "fail"
    assert found["foreign_keys_enforced"].detail.startswith("foreign key not enforced: probe_children took ")
    assert found["not_null_enforced"].result == "pass"  # the one lie, not every check failing


def test_not_null_not_enforced_fails(tmp_path: Path) -> None:
    found = outcomes(sqlite_url(tmp_path), "NullableDriver", "not_null_enforced", "add_drop_columns_and_tables")
    assert found["not_null_enforced"].result == "fail"
    assert found["not_null_enforced"].detail == (
        "NOT NULL not enforced: probes took {'code': 'a', 'label': None} (probes.label is NOT NULL)"
    )
    assert found["add_drop_columns_and_tables"].result == "fail"
    assert "column gadgets.name is nullable in the database, NOT NULL in the migrations" in (
        found["add_drop_columns_and_tables"].detail
    )


def test_lengths_claimed_but_not_enforced_fail(tmp_path: Path) -> None:
    found = outcomes(sqlite_url(tmp_path), "LengthClaimDriver", "length_enforced")
    assert found["length_enforced"].result == "fail"
    assert found["length_enforced"].detail == (
        "length not enforced: probes took {'code': 'a', 'label': 'xxxxxxxxxxx'} (probes.label is string(10)); "
        "it holds [('xxxxxxxxxxx',)]"
    )
    honest = outcomes(sqlite_url(tmp_path), "SqliteDriver", "length_enforced")  # what SQLite declares
    assert honest["length_enforced"].result == "n/a"
    assert honest["length_enforced"].detail == "not enforced by this database (enforces_length=False)"


def test_strings_rendered_without_length_fail_on_postgresql(pg_db: Any) -> None:
    found = outcomes(pg_db.url, "TextDriver", "length_enforced")
    assert found["length_enforced"].result == "fail"
    assert found["length_enforced"].detail.startswith("length not enforced: probes took {'code': 'a', 'label': ")


def test_increments_that_number_every_row_zero_fail(tmp_path: Path) -> None:
    found = outcomes(sqlite_url(tmp_path), "ZeroDriver", "increments_number_rows", "add_drop_columns_and_tables")
    assert found["increments_number_rows"].result == "fail"
    assert found["increments_number_rows"].detail == (
        "increments numbered three new rows [0, 0, 0], expected three increasing numbers from 1"
    )
    assert "gadgets: primary key () in the database, (id) in the migrations" in (
        found["add_drop_columns_and_tables"].detail
    )


def test_a_narrowing_change_that_rewrites_values_fails(tmp_path: Path) -> None:
    found = outcomes(sqlite_url(tmp_path), "WrappingDriver", "narrowing_keeps_values")
    assert found["narrowing_keeps_values"].result == "fail"
    assert found["narrowing_keeps_values"].detail == (
        "probes.amount after narrowing it to smallInteger: got [(4464,)], expected [(70000,)]"
    )


def test_strings_rendered_as_text_fail_the_schema_comparison_on_postgresql(pg_db: Any) -> None:
    """The kit reads each column's type itself: an unbounded TEXT is no string(n),
    whatever the driver's own ``comparable`` says."""
    found = outcomes(pg_db.url, "TextDriver", "fixture_schema")
    assert found["fixture_schema"].result == "fail"
    detail = found["fixture_schema"].detail
    assert "column authors.name is text in the database, string(100) in the migrations" in detail
    assert "column posts.slug is text in the database, string(64) in the migrations" in detail


def test_integers_rendered_as_strings_fail(tmp_path: Path) -> None:
    found = outcomes(sqlite_url(tmp_path), "IntegerTextDriver", "fixture_schema", "not_null_enforced")
    assert found["fixture_schema"].result == "fail"
    detail = found["fixture_schema"].detail
    assert "column authors.counter is string(20) in the database, integer in the migrations" in detail
    assert "column posts.author_id is string(20) in the database, integer in the migrations" in detail
    assert found["not_null_enforced"].result == "pass"  # the one lie, not every check failing


def test_dropped_check_constraints_fail(tmp_path: Path) -> None:
    found = outcomes(sqlite_url(tmp_path), "NoChecksDriver", "fixture_schema", "unique_enforced")
    assert found["fixture_schema"].result == "fail"
    detail = found["fixture_schema"].detail
    assert "check constraint authors.ck_authors_views is missing" in detail
    assert "check constraint posts.ck_posts_title is missing" in detail
    assert found["unique_enforced"].result == "pass"


def test_pg_wrapper_scenarios_pass_where_it_does_not_lie(pg_db: Any) -> None:
    """The PostgreSQL liar lies about lengths only: its other probes pass."""
    found = outcomes(pg_db.url, "TextDriver", "not_null_enforced", "unique_enforced", "narrowing_keeps_values")
    assert {k: o.result for k, o in found.items()} == {
        "not_null_enforced": "pass",
        "unique_enforced": "pass",
        "narrowing_keeps_values": "pass",
    }


# ---------------------------------------------------------------- honest drivers


ANALYTICS = '''
"""An outside package: DuckDB as an analytics store that promises no foreign keys,
unique keys or auto-increment keys (the api and the DuckDB driver only)."""

from modelmig_core.api import DriverInfo
from modelmig_duckdb.driver import DuckdbDriver


class AnalyticsDriver(DuckdbDriver):
    info = DriverInfo("analytics", ("duckdb",), "sql", "DuckDB for analytics: no keys but the primary")
    features = DuckdbDriver.features.but(foreign_keys=False, unique_constraints=False, increments=False)
'''


@pytest.fixture
def analytics(tmp_path: Path) -> Any:
    site = tmp_path / "analytics_site"
    site.mkdir()
    (site / "analytics_driver.py").write_text(ANALYTICS)
    sys.path.insert(0, str(site))
    yield "analytics_driver:AnalyticsDriver"
    sys.path.remove(str(site))
    sys.modules.pop("analytics_driver", None)


def test_a_driver_without_foreign_keys_unique_keys_and_increments_is_certified(analytics: str, tmp_path: Path) -> None:
    url = f"duckdb:///{tmp_path / 'scratch.duckdb'}"
    result = CliRunner().invoke(cli, ["drivers:check", url, "--plugin", analytics, "--json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.output)
    results = {s["scenario"]: (s["result"], s["detail"]) for s in table["scenarios"]}
    assert results["increments_number_rows"] == ("n/a", "declared increments=False")
    assert results["unique_enforced"] == ("n/a", "declared unique_constraints=False")
    assert results["foreign_keys_enforced"] == ("n/a", "declared foreign_keys=False")
    assert results["fixture_schema"] == ("pass", "")  # the blog without its keys
    assert results["not_null_enforced"] == ("pass", "")
    assert table["summary"]["failed"] == 0 and table["summary"]["passed"] == 13
    assert table["notes"] == [
        "schema: not compared by the kit: analytics's reflection names no SQLAlchemy dialect for duckdb; "
        "the behaviour probes are the oracle",
        "left out of the fixtures (declared lacking): foreign keys (foreign_keys=False), unique keys "
        "(unique_constraints=False), auto-increment keys (plain integer keys instead) (increments=False), "
        "foreign key actions (fk_actions=False)",
    ]


@pytest.mark.parametrize("database", ["sqlite", "pg", "mysql", "duckdb"])
def test_every_driver_of_this_repository_is_certified(database: str, request: pytest.FixtureRequest) -> None:
    """The whole table, as JSON: no scenario fails; what does not apply says why."""
    db: Any = request.getfixturevalue(f"{database}_db")
    result = CliRunner().invoke(cli, ["drivers:check", db.url, "--json"])
    assert result.exit_code == 0, result.output
    table = json.loads(result.output)
    assert table["driver"] == database and table["summary"]["failed"] == 0
    assert [s["scenario"] for s in table["scenarios"]] == [s.name for s in api.conformance_scenarios()]
    absent = {s["scenario"]: s["detail"] for s in table["scenarios"] if s["result"] == "n/a"}
    assert all(detail for detail in absent.values())
    sqlalchemy_reads_it = database != "duckdb"
    assert table["notes"][0].startswith("schema: compared through SQLAlchemy's Inspector") is sqlalchemy_reads_it
    # the fixtures' column comments are left out (and said) only where the database has none
    said = [note for note in table["notes"] if note.startswith("left out of the fixtures")]
    assert [note for note in said if "column comments (column_comments=False)" in note] == (
        said if database == "sqlite" else []
    )
    assert said or database != "sqlite"
    if database == "mysql":
        assert "interrupted_migration_is_reported" not in absent  # instead of failing_migration_leaves_nothing
        assert absent["failing_migration_leaves_nothing"] == "declared transactional_ddl=False"


# ---------------------------------------------------------------- the driver alone


POLICY = """
from modelmig_core.api import ModelmigError, hookimpl


@hookimpl(wrapper=True)
def apply(direction):
    if direction == "down":
        raise ModelmigError("policy: rollbacks are forbidden here")
    return (yield)
"""


@pytest.fixture
def policy_plugin(tmp_path: Path) -> Any:
    """A policy plugin installed from an entry point, as a user's would be."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "no_rollbacks.py").write_text(POLICY)
    info = site / "no_rollbacks-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: no-rollbacks\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[modelmig.plugins]\nno_rollbacks = no_rollbacks\n")
    sys.path.insert(0, str(site))
    yield site
    sys.path.remove(str(site))
    sys.modules.pop("no_rollbacks", None)


def test_the_kit_runs_with_the_driver_alone(policy_plugin: Path, tmp_path: Path) -> None:
    # the plugin is live: a user's rollback is vetoed
    app = tmp_path / "app"
    app.mkdir()
    (app / "models.py").write_text(
        "from modelmig_core import Model, column\n\n\nclass Thing(Model):\n"
        '    table = "things"\n    schema = {"id": column("increments")}\n'
    )
    (app / "pyproject.toml").write_text(
        '[tool.modelmig]\nmodels = ["models"]\n[tool.modelmig.connections.main]\nurl = "sqlite:///app.db"\n'
    )
    sys.path.insert(0, str(app))
    try:
        config = ["--config", str(app / "pyproject.toml")]
        for args in (["make:migration", "--name", "things"], ["migrate:run"]):
            made = CliRunner().invoke(cli, [*config, *args])
            assert made.exit_code == 0, made.output
        vetoed = CliRunner().invoke(cli, [*config, "migrate:rollback"])
        assert vetoed.exit_code != 0 and "policy: rollbacks are forbidden here" in vetoed.output
    finally:
        sys.path.remove(str(app))
        sys.modules.pop("models", None)
    # the kit's rollbacks are not: it loads the driver under test and nothing else
    url = sqlite_url(tmp_path)
    result = CliRunner().invoke(cli, ["drivers:check", url, "--scenario", "add_drop_columns_and_tables"])
    assert result.exit_code == 0, result.output
    assert "1 passed, 0 not applicable (declared features), 0 failed" in result.output

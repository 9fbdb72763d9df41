"""Features say what a driver lacks, and make:migration lists every refusal at once.

Drivers come in through the config's ``plugins = ["module:obj"]``, as a third
party's would: thin subclasses of the SQLite driver that declare what they lack
(no foreign keys, no unique constraints, no type changes), or refuse planned
steps through ``refusals(state, server, steps)``. make refuses, one line each
(naming the model and field, the connection and the driver), what any configured
connection cannot take: a type its driver cannot write, an operation its features
do not allow (``Operation.requires``), a feature its database lacks, what the
server would refuse; then one summary line, exit 2, and no file written.
``make:migration --check`` prints the same lines and exits 1.
"""

from __future__ import annotations

from typing import Any

import pytest

from modelmig_core.api import Features

DRIVERS = '''
"""Third-party drivers for the test (SQLite underneath), registered as plugins."""
import sqlalchemy as sa

from modelmig_core.api import DriverInfo, Refusal, hookimpl
from modelmig_sqlite.driver import SqliteDriver


class Bare(SqliteDriver):
    """A database without foreign keys, unique constraints or type changes."""

    info = DriverInfo("bare", ("bare",), "sql")
    features = SqliteDriver.features.but(foreign_keys=False, unique_constraints=False, alter_column_type=False)

    def open(self, url):
        return super().open("sqlite" + url[len("bare"):])


class Archive(SqliteDriver):
    """Sees the planned steps: refuses every one that drops data."""

    info = DriverInfo("archive", ("archive",), "sql")

    def open(self, url):
        return super().open("sqlite" + url[len("archive"):])

    def refusals(self, state, server, steps=()):
        return super().refusals(state, server, steps) + [
            Refusal(s.op.subject, None, f"{s.op.describe()} drops data; an archive keeps everything")
            for s in steps
            if s.op.destructive
        ]


class Legacy(SqliteDriver):
    """A driver written for the older refusals(state, server): still asked."""

    info = DriverInfo("legacy", ("legacy",), "sql")
    seen = []

    def open(self, url):
        return super().open("sqlite" + url[len("legacy"):])

    def refusals(self, state, server):
        Legacy.seen.append(server)
        return [Refusal(t, None, "legacy refuses every table") for t in state.tables if t == "owners"]


bare = Bare()
archive = Archive()
legacy = Legacy()


@hookimpl
def column_types():
    return ["money"]


@hookimpl
def render_column(column, dialect):
    if column.type != "money" or dialect != "sqlite":
        return None  # money is written for SQLite (and the drivers on it) only
    return sa.Column(column.name, sa.Numeric(14, 4), nullable=column.nullable)
'''

PLUGINS = 'plugins = ["testdrivers:bare", "testdrivers:archive", "testdrivers:legacy", "testdrivers"]'

PLAIN = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}


class Pet(Model):
    table = "pets"
    schema = {"id": column("increments"), "owner_id": column("integer"), "name": column("string", 50)}
"""

KEYED = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "email": column("string", 191, unique=True)}


class Pet(Model):
    table = "pets"
    schema = {"id": column("increments"), "owner_id": column("integer")}
    database = {"foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_pets_owner")]}
"""

# PLAIN, then: a money column, a unique key and a check on owners, a foreign key on
# pets, and a longer pets.name (a type change)
MIXED = """
class Owner(Model):
    table = "owners"
    schema = {
        "id": column("increments"),
        "name": column("string", 50),
        "balance": column("money", nullable=True),
    }
    database = {"unique": [unique("name", name="uq_owners_name")], "checks": [check("id > 0", name="ck_owners_id")]}


class Pet(Model):
    table = "pets"
    schema = {"id": column("increments"), "owner_id": column("integer"), "name": column("string", 80)}
    database = {"foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_pets_owner")]}
"""


def project(make_project: Any, connections: dict[str, dict[str, str]]) -> Any:
    p = make_project(connections, extra_config=PLUGINS)
    (p.root / "testdrivers.py").write_text(DRIVERS)
    return p


def errors(result: Any) -> list[str]:
    assert "Traceback" not in result.output
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def test_the_new_flags_are_typed_inherited_and_true_by_default() -> None:
    base = Features()
    for flag in ("foreign_keys", "unique_constraints", "increments", "check_constraints", "alter_column_type"):
        assert getattr(base, flag) is True
        assert base.but(**{flag: False}).lacking([flag]) == [flag]
    from modelmig_duckdb.driver import DuckdbDriver
    from modelmig_mongo.driver import MongoDriver
    from modelmig_sqlite.driver import SqliteDriver

    # DuckDB has them (FKs without actions, unique keys as unique indexes, sequences,
    # checks made with the table); it lacks what it cannot do to an existing table
    duck = DuckdbDriver.features
    assert duck.lacking(["foreign_keys", "unique_constraints", "increments", "alter_column_type"]) == []
    assert duck.lacking(["check_constraints", "add_unique_to_existing_table"]) == []
    assert duck.lacking(["fk_actions", "add_constraint_to_existing_table"]) == [
        "fk_actions",
        "add_constraint_to_existing_table",
    ]
    assert MongoDriver.features.lacking(["foreign_keys", "increments", "check_constraints"]) == [
        "foreign_keys",
        "increments",
        "check_constraints",
    ]
    assert SqliteDriver.features.lacking(["foreign_keys", "unique_constraints", "increments"]) == []
    with pytest.raises(TypeError, match="unknown feature flag"):
        Features().but(foreign_key=False)


def test_a_driver_without_foreign_keys_and_unique_constraints_gets_both_refused(make_project: Any) -> None:
    p = project(make_project, {"main": {"url": "bare:///app.sqlite3"}})
    p.models(KEYED)
    result = p.run("make:migration")
    lines = errors(result)
    assert result.exit_code == 2, result.output
    assert len(lines) == 3, result.output  # two refusals and the summary
    unique, fk = lines[0], lines[1]
    assert "model Owner, field 'email'" in unique and "unique_constraints=False" in unique
    assert "model Pet, field 'owner_id'" in fk and "foreign key fk_pets_owner" in fk and "foreign_keys=False" in fk
    for line in (unique, fk):
        assert "connection 'main'" in line and "driver bare" in line and "remove" in line
    assert lines[2] == "error: 2 refusal(s) over connection(s) 'main': no migration was written; " + (
        "fix each line above and make again"
    )
    assert not p.migration_files()
    check = p.run("make:migration", "--check")
    assert check.exit_code == 1 and errors(check)[:2] == lines[:2] and len(errors(check)) == 3, check.output
    assert not p.migration_files()
    # the same models on a driver that has both: made, run, and the keys are there
    p.connections = {"main": {"url": "sqlite:///app.sqlite3"}}
    p.write_config()
    p.ok("make:migration")
    p.ok("migrate:run")
    import sqlite3

    db = sqlite3.connect(p.root / "app.sqlite3")
    try:
        assert db.execute("PRAGMA foreign_key_list(pets)").fetchall()[0][2] == "owners"
        assert any(row[2] for row in db.execute("PRAGMA index_list(owners)"))  # a unique index
    finally:
        db.close()


def test_type_operation_and_feature_refusals_over_two_connections_are_listed_at_once(make_project: Any) -> None:
    p = project(make_project, {"lite": {"url": "bare:///app.sqlite3"}, "duck": {"url": "duckdb:///a.duckdb"}})
    p.models(PLAIN)
    p.ok("make:migration", "--name", "create")
    assert len(p.migration_files()) == 1
    p.models(MIXED)
    result = p.run("make:migration")
    lines = errors(result)
    assert result.exit_code == 2, result.output
    expected = [
        # feature refusals on 'lite' (driver bare): the unique key, the foreign key, the type change
        ("model Owner, field 'name'", "unique key uq_owners_name", "connection 'lite'"),
        ("model Pet, field 'owner_id'", "foreign key fk_pets_owner", "connection 'lite'"),
        ("model Pet, field 'name'", "string(50) to string(80)", "connection 'lite'"),
        # a type refusal on 'duck': money is written for SQLite only
        ("model Owner, field 'balance'", "column type 'money' has no rendering for duckdb", "connection 'duck'"),
        # operation refusals on 'duck': a check and a foreign key added to existing tables (the
        # unique key is not refused there: DuckDB makes it a unique index)
        ("add ck_owners_id to owners", "add_constraint_to_existing_table=False", "connection 'duck'"),
        ("add fk_pets_owner to pets", "add_constraint_to_existing_table=False", "connection 'duck'"),
    ]
    assert len(lines) == len(expected) + 1, result.output  # each refusal, then the summary
    for needles in expected:
        assert sum(all(n in line for n in needles) for line in lines) == 1, (needles, result.output)
    assert "6 refusal(s) over connection(s) 'duck', 'lite': no migration was written" in lines[-1]
    assert len(p.migration_files()) == 1  # nothing written
    check = p.run("make:migration", "--check")
    assert check.exit_code == 1, check.output
    assert sorted(errors(check)[:-1]) == sorted(lines[:-1]) and len(errors(check)) == len(lines)
    assert "6 refusal(s)" in errors(check)[-1]
    assert len(p.migration_files()) == 1


def test_refusals_see_the_planned_steps_and_old_signatures_are_still_asked(make_project: Any) -> None:
    p = project(make_project, {"main": {"url": "archive:///app.sqlite3"}})
    p.models(PLAIN)
    p.ok("make:migration")
    p.models(PLAIN.split("class Pet")[0])  # pets dropped: a step that drops data
    result = p.run("make:migration")
    lines = errors(result)
    assert result.exit_code == 2 and len(lines) == 1, result.output  # one refusal: no summary line
    assert "table pets: drop pets table drops data; an archive keeps everything" in lines[0]
    assert "connection 'main', driver archive" in lines[0]
    assert len(p.migration_files()) == 1
    legacy = project(make_project, {"old": {"url": "legacy:///app.sqlite3", "server": "sqlite-3.40"}})
    legacy.models(PLAIN)
    result = legacy.run("make:migration")
    lines = errors(result)
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert "model Owner: legacy refuses every table (connection 'old', driver legacy, server sqlite-3.40)" in lines[0]
    assert not legacy.migration_files()


def test_one_refusal_is_one_line_and_mysql_rules_join_the_list(make_project: Any) -> None:
    """MySQL's key rules, NUL values and the features of another connection, in one run."""
    p = project(
        make_project,
        {"my": {"url": "mysql://root@127.0.0.1:3306/never_opened"}, "lite": {"url": "bare:///app.sqlite3"}},
    )
    p.models(
        'class Doc(Model):\n    table = "docs"\n'
        '    schema = {"id": column("increments"), "body": column("text", unique=True),'
        ' "note": column("string", 20, default="a\\x00b")}\n'
    )
    result = p.run("make:migration")
    lines = errors(result)
    assert result.exit_code == 2, result.output
    assert any("connection 'my'" in line and "TEXT" in line for line in lines), result.output
    assert any("connection 'lite'" in line and "NUL character" in line for line in lines), result.output
    assert any("connection 'lite'" in line and "unique_constraints=False" in line for line in lines), result.output
    assert len(lines) == 4 and lines[-1].startswith("error: 3 refusal(s) over connection(s) 'lite', 'my'")
    assert not p.migration_files()

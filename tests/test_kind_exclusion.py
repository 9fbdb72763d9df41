"""A plugin adds a kind (issue 18, item 4): PostgreSQL exclusion constraints
(``tests/plugins/exclusion.py``, on ``modelmig_core.api`` only), declared in a
model's ``database`` block, go make -> run -> rollback -> run on a real
PostgreSQL, drift reports 0 and then the constraint dropped by hand, make:models
writes it back, and the server refuses a conflicting row with its exclusion error
(SQLSTATE 23P01). A driver with no rendering for the kind is refused at make time."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import Project
from tests.support.servers import ServerDb

PLUGIN = Path(__file__).parent / "plugins" / "exclusion.py"

MODELS = """
from exclusion import exclude


class Booking(Model):
    table = "bookings"
    schema = {
        "id": column("increments"),
        "room": column("integer"),
        "during": column("tsrange"),
    }
    database = {
        "exclusions": [exclude(("room", "="), ("during", "&&"), name="ex_bookings_room")],
    }
"""

WRITTEN_BACK = 'exclude(("room", "="), ("during", "&&"), name="ex_bookings_room")'


def exclusion_project(make_project: Any, connections: dict[str, dict[str, str]]) -> Project:
    p: Project = make_project(connections, extra_config='plugins = ["exclusion"]')
    shutil.copy(PLUGIN, p.root / "exclusion.py")
    return p


@pytest.fixture
def pg_project(make_project: Any, pg_db: ServerDb) -> tuple[Project, ServerDb]:
    pg_db.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")  # gist's = on integers
    return exclusion_project(make_project, {"main": {"url": pg_db.url}}), pg_db


def query(db: ServerDb, sql: str, **params: Any) -> list[tuple[Any, ...]]:
    engine = db.engine()
    try:
        with engine.begin() as c:
            result = c.execute(sa.text(sql), params)
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def constraints(db: ServerDb) -> list[tuple[str, str]]:
    return query(
        db,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'x' "
        "AND conrelid = 'bookings'::regclass ORDER BY conname",
    )


def book(db: ServerDb, room: int, during: str) -> None:
    query(db, "INSERT INTO bookings (room, during) VALUES (:room, CAST(:during AS tsrange))", room=room, during=during)


def test_exclusion_constraint_lifecycle(pg_project: tuple[Project, ServerDb]) -> None:
    p, db = pg_project
    p.models(MODELS)
    p.ok("make:migration")
    (path,) = p.migration_files()
    # the table and its plugin member, made together: named for the table it creates
    assert path.name.endswith("_create_bookings_table.py"), path.name
    source = path.read_text()
    # the plugin's classes, imported from the plugin's module; the file parses back
    assert "\nimport exclusion\n" in source, source
    assert "exclusion.AddExclusion(" in source and "exclusion.DropExclusion(" in source, source
    ast.parse(source)
    # the same models and history make nothing new: the replay knows the kind
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    assert p.migration_files() == [path] and path.read_text() == source

    p.ok("migrate:run")
    assert constraints(db) == [("ex_bookings_room", "EXCLUDE USING gist (room WITH =, during WITH &&)")]

    # the server's own refusal of a conflicting row
    book(db, 1, "[2026-01-01 10:00, 2026-01-01 12:00)")
    book(db, 2, "[2026-01-01 10:00, 2026-01-01 12:00)")  # another room
    book(db, 1, "[2026-01-01 12:00, 2026-01-01 13:00)")  # after it
    with pytest.raises(sa.exc.IntegrityError) as caught:
        book(db, 1, "[2026-01-01 11:00, 2026-01-01 11:30)")
    assert getattr(caught.value.orig, "sqlstate", None) == "23P01", caught.value

    status = p.run("migrate:status", "--drift")
    assert status.exit_code == 0, status.output

    # make:models reads it back from pg_constraint and writes it in the plugin's syntax
    models = p.ok(
        "make:models", "--out", "-"
    ).stdout  # the module alone: warnings (the btree_gist extension, outside the models) go to stderr
    assert "from exclusion import exclude" in models, models
    assert WRITTEN_BACK in models, models
    ast.parse(models)

    # rollback drops it (and the table), run makes it again
    p.ok("migrate:rollback")
    assert query(db, "SELECT to_regclass('bookings')") == [(None,)]
    p.ok("migrate:run")
    assert constraints(db) == [("ex_bookings_room", "EXCLUDE USING gist (room WITH =, during WITH &&)")]
    assert p.run("migrate:status", "--drift").exit_code == 0

    # dropped by hand: drift names it
    query(db, "ALTER TABLE bookings DROP CONSTRAINT ex_bookings_room")
    drift = p.run("migrate:status", "--drift")
    assert drift.exit_code != 0, drift.output
    assert "exclusion constraint" in drift.output and "ex_bookings_room" in drift.output, drift.output


def test_changing_and_dropping_the_constraint(pg_project: tuple[Project, ServerDb]) -> None:
    """A changed constraint is dropped and added again; one left out of the models
    is dropped; each rollback restores what was there."""
    p, db = pg_project
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    p.models(MODELS.replace('("room", "="), ("during", "&&")', '("during", "&&")'))
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    p.ok("migrate:run")
    assert constraints(db) == [("ex_bookings_room", "EXCLUDE USING gist (during WITH &&)")]
    assert p.run("migrate:status", "--drift").exit_code == 0
    p.models(MODELS.replace('"exclusions": [exclude(("room", "="), ("during", "&&"), name="ex_bookings_room")],', ""))
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-03T00:00:00"})
    p.ok("migrate:run")
    assert constraints(db) == []
    assert p.run("migrate:status", "--drift").exit_code == 0
    p.ok("migrate:rollback")
    assert constraints(db) == [("ex_bookings_room", "EXCLUDE USING gist (during WITH &&)")]
    p.ok("migrate:rollback")
    assert constraints(db) == [("ex_bookings_room", "EXCLUDE USING gist (room WITH =, during WITH &&)")]
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_hostile_names_reach_sql_quoted(pg_project: tuple[Project, ServerDb]) -> None:
    """A constraint and column name with quotes and a semicolon are identifiers, never SQL."""
    p, db = pg_project
    hostile = 'ex"; DROP TABLE x; --'
    p.models(
        MODELS.replace('"room"', '"ro\\"om"').replace('("ro\\"om", "=")', '("ro\\"om", "=")')
        .replace('name="ex_bookings_room"', f"name={hostile!r}")
    )  # fmt: skip
    p.ok("make:migration")
    p.ok("migrate:run")
    assert [name for name, _ in constraints(db)] == [hostile]
    assert p.run("migrate:status", "--drift").exit_code == 0


def test_a_bad_operator_is_one_error_line_naming_the_model(make_project: Any) -> None:
    p = exclusion_project(make_project, {"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(MODELS.replace('("during", "&&")', '("during", "&&); DROP TABLE x; --")'))
    result = p.run("make:migration")
    assert result.exit_code != 0
    assert "model Booking" in result.output and "operator" in result.output, result.output
    assert "Traceback" not in result.output
    assert p.migration_files() == []


def test_a_driver_without_the_kind_is_refused_at_make(make_project: Any) -> None:
    """SQLite has no rendering for exclusion constraints: make names the kind and
    the driver, exits non-zero and writes nothing."""
    p = exclusion_project(make_project, {"main": {"url": "sqlite:///app.sqlite3"}})
    p.models(MODELS.replace('column("tsrange")', 'column("integer")'))
    result = p.run("make:migration")
    assert result.exit_code != 0, result.output
    refusals = [line for line in result.output.splitlines() if "exclusion constraint" in line]
    assert len(refusals) == 1, result.output
    assert "add exclusion constraint ex_bookings_room to bookings" in refusals[0], result.output
    assert "driver sqlite has no implementation of kind 'exclusions' (AddExclusion)" in refusals[0], result.output
    assert p.migration_files() == []


def test_renaming_a_column_the_constraint_uses_keeps_it(pg_project: tuple[Project, ServerDb]) -> None:
    """A declared rename of a column the exclusion constraint uses: the migration
    renames the column alone (``Kind.rename_column``: the constraint is never
    dropped and added again), the server's constraint follows it, drift is 0, the
    constraint still refuses a conflicting row, and a rollback renames it back."""
    p, db = pg_project
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    renamed = MODELS.replace('"room": column("integer")', '"place": column("integer", renamed_from="room")')
    p.models(renamed.replace('("room", "=")', '("place", "=")'))
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    second = p.migration_files()[-1]
    source = second.read_text()
    assert 'op.RenameColumn("bookings", "room", "place")' in source, source
    assert "Exclusion" not in source, source  # neither dropped nor added
    p.ok("migrate:run")
    assert constraints(db) == [("ex_bookings_room", "EXCLUDE USING gist (place WITH =, during WITH &&)")]
    assert p.run("migrate:status", "--drift").exit_code == 0
    query(
        db, "INSERT INTO bookings (place, during) VALUES (1, CAST('[2026-01-01 10:00, 2026-01-01 12:00)' AS tsrange))"
    )
    with pytest.raises(sa.exc.IntegrityError) as caught:
        query(
            db,
            "INSERT INTO bookings (place, during) VALUES (1, CAST('[2026-01-01 11:00, 2026-01-01 13:00)' AS tsrange))",
        )
    assert getattr(caught.value.orig, "sqlstate", None) == "23P01", caught.value
    # the same models make nothing new
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-03T00:00:00"})
    assert p.migration_files()[-1] == second
    p.ok("migrate:rollback")
    assert constraints(db) == [("ex_bookings_room", "EXCLUDE USING gist (room WITH =, during WITH &&)")]
    assert p.run("migrate:status", "--drift").exit_code == 0

"""A rename or drop of a column that a trigger's or function's body uses (issue 19,
item 4): detected from the live facts before any statement is sent (the body's
tokens, through sqlglot's tokenizer), and refused naming the object, by --pretend
and by run, with nothing changed; SQLite rewrites its triggers on a column rename
itself, so the rename is carried through there (verified: the trigger still
works). And the must-show rows-kept checks: a SQLite rebuild of a table with
triggers keeps them and every row (checksum before and after)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.schema.views import Bodies
from tests.support.servers import ServerDb

MODELS = """
from modelmig_core import Model, column


class Author(Model):
    table = "authors"
    schema = {{
        "id": column("increments"),
        "{name}": column("string", 100{options}),
        "email": column("string", 100, nullable=True),
    }}
"""


def models(name: str = "name", options: str = "") -> str:
    return MODELS.format(name=name, options=options)


#: per driver: statements that make an object whose body uses authors.name, and the words naming it
BODIES: dict[str, list[tuple[list[str], str]]] = {
    "pg": [
        (
            [
                "CREATE FUNCTION authors_trim() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN NEW.name := trim(NEW.name); RETURN NEW; END $$",
                "CREATE TRIGGER authors_trimmed BEFORE INSERT ON authors FOR EACH ROW EXECUTE FUNCTION authors_trim()",
            ],
            "function authors_trim",
        ),
        (
            [
                "CREATE FUNCTION author_count(who text) RETURNS bigint LANGUAGE sql AS "
                "'SELECT count(*) FROM authors WHERE name = who'"
            ],
            "function author_count",
        ),
    ],
    "mysql": [
        (
            ["CREATE TRIGGER authors_trimmed BEFORE INSERT ON authors FOR EACH ROW SET NEW.name = TRIM(NEW.name)"],
            "trigger authors_trimmed",
        ),
        (
            ["CREATE PROCEDURE rename_all() UPDATE authors SET name = UPPER(name)"],
            "procedure rename_all",
        ),
    ],
    "sqlite": [
        (
            [
                "CREATE TABLE audit (what TEXT)",
                "CREATE TRIGGER authors_logged AFTER INSERT ON authors BEGIN "
                "INSERT INTO audit (what) VALUES (NEW.name); END",
            ],
            "trigger authors_logged",
        ),
    ],
}


def columns(db: ServerDb, table: str) -> list[str]:
    engine = db.engine()
    try:
        return [c["name"] for c in sa.inspect(engine).get_columns(table)]
    finally:
        engine.dispose()


def checksum(db: ServerDb, sql: str) -> str:
    return hashlib.sha256(repr(sorted(db.rows(sql))).encode()).hexdigest()


def started(make_project: Any, db: ServerDb, statements: list[str]) -> Any:
    p = make_project({"main": {"url": db.url}})
    p.models(models())
    p.ok("make:migration", "--name", "v1")
    p.ok("migrate:run")
    db.execute("INSERT INTO authors (name) VALUES ('Ann'), ('Bob')")
    for s in statements:
        db.execute(s)
    return p


CASES = [(d, i) for d, cases in sorted(BODIES.items()) for i in range(len(cases))]


@pytest.mark.parametrize(("driver", "case"), CASES)
def test_dropping_a_column_a_body_uses_is_refused_naming_it(
    make_project: Any, request: pytest.FixtureRequest, driver: str, case: int
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    statements, said = BODIES[driver][case]
    p = started(make_project, db, statements)
    before = checksum(db, "SELECT id, name FROM authors")
    p.models(models().replace('        "name": column("string", 100),\n', ""))
    p.ok("make:migration", "--name", "drop_name", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    refusal = f"cannot drop column authors.name: {said} uses it"
    pretend = p.run("migrate:run", "--pretend")
    assert pretend.exit_code != 0 and refusal in pretend.output, pretend.output
    run = p.run("migrate:run", "--force", "--yes")
    assert run.exit_code != 0 and refusal in run.output, run.output
    assert "name" in columns(db, "authors")
    assert checksum(db, "SELECT id, name FROM authors") == before


@pytest.mark.parametrize(("driver", "case"), [c for c in CASES if c[0] != "sqlite"])
def test_renaming_a_column_a_body_uses_is_refused_where_the_database_keeps_the_old_name(
    make_project: Any, request: pytest.FixtureRequest, driver: str, case: int
) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    statements, said = BODIES[driver][case]
    p = started(make_project, db, statements)
    p.models(models("full_name", ", renamed_from='name'"))
    p.ok("make:migration", "--name", "rename", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    refusal = f"cannot rename column authors.name to full_name: {said} uses it in its body"
    pretend = p.run("migrate:run", "--pretend")
    assert pretend.exit_code != 0 and refusal in pretend.output, pretend.output
    run = p.run("migrate:run")
    assert run.exit_code != 0 and refusal in run.output, run.output
    assert columns(db, "authors")[:2] == ["id", "name"]


def test_a_body_that_names_the_column_only_in_a_string_or_of_another_table_is_not_refused(
    make_project: Any, pg_db: ServerDb
) -> None:
    p = started(
        make_project,
        pg_db,
        [
            "CREATE TABLE pets (id integer PRIMARY KEY, name text)",
            "CREATE FUNCTION pet_names() RETURNS SETOF text LANGUAGE sql AS 'SELECT name FROM pets'",
            "CREATE FUNCTION said() RETURNS text LANGUAGE sql AS $$ SELECT 'authors.name' $$",
            # parsed with sqlglot: its name is the pets' one, authors gives only its id
            "CREATE FUNCTION pet_of(n integer) RETURNS SETOF text LANGUAGE sql AS "
            "'SELECT p.name FROM pets AS p JOIN authors AS a ON a.id = p.id WHERE a.id = n'",
        ],
    )
    p.models(models("full_name", ", renamed_from='name'"))
    p.ok("make:migration", "--name", "rename", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    p.ok("migrate:run")
    assert columns(pg_db, "authors")[:2] == ["id", "full_name"]


def test_sqlite_renames_a_column_inside_its_triggers_itself(make_project: Any, sqlite_db: ServerDb) -> None:
    statements, _ = BODIES["sqlite"][0]
    p = started(make_project, sqlite_db, statements)
    before = checksum(sqlite_db, "SELECT id, name FROM authors")
    p.models(models("full_name", ", renamed_from='name'"))
    p.ok("make:migration", "--name", "rename", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    p.ok("migrate:run")
    assert checksum(sqlite_db, "SELECT id, full_name FROM authors") == before
    sqlite_db.execute("INSERT INTO authors (full_name) VALUES ('Cy')")
    assert sqlite_db.rows("SELECT what FROM audit") == [("Cy",)]
    (sql,) = sqlite_db.rows("SELECT sql FROM sqlite_master WHERE name = 'authors_logged'")[0]
    assert "full_name" in sql


def test_a_sqlite_rebuild_keeps_the_tables_triggers_and_every_row(make_project: Any, sqlite_db: ServerDb) -> None:
    statements, _ = BODIES["sqlite"][0]
    p = started(make_project, sqlite_db, statements)
    sqlite_db.execute("INSERT INTO authors (name, email) VALUES ('Di', 'di@x')")
    before = checksum(sqlite_db, "SELECT id, name, email FROM authors")
    triggers = sqlite_db.rows("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
    # email becomes a longer string: SQLite rebuilds the table
    p.models(
        models().replace(
            '"email": column("string", 100, nullable=True)', '"email": column("string", 200, nullable=True)'
        )
    )
    p.ok("make:migration", "--name", "widen", env={"MODELMIG_NOW": "2026-12-31T00:00:00"})
    pretend = p.ok("migrate:run", "--pretend")
    assert "_modelmig_new_authors" in pretend.output, pretend.output  # it is a rebuild
    p.ok("migrate:run")
    assert checksum(sqlite_db, "SELECT id, name, email FROM authors") == before
    assert sqlite_db.rows("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'") == triggers
    sqlite_db.execute("INSERT INTO authors (name) VALUES ('Eve')")
    assert sqlite_db.rows("SELECT what FROM audit") == [("Di",), ("Eve",)]  # the trigger fired before and after
    assert "drift: none" in p.ok("migrate:status", "--drift").output


# ---------------------------------------------------------------- the body reader, for any names (Hypothesis)

NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: n not in {"new", "old"})


@settings(max_examples=200, deadline=None)
@given(column=NAMES, dialect=st.sampled_from(["postgres", "mysql", "sqlite"]))
def test_a_name_in_a_string_or_a_comment_is_never_a_use_and_new_dot_name_always_is(column: str, dialect: str) -> None:
    quoted = column.replace("'", "''")
    plpgsql = f"BEGIN RAISE NOTICE '%', '{quoted}'; -- {column}\n RETURN NEW; END"  # no SQL parser reads it
    statement = f"SELECT 'authors.{quoted}' /* {column} */ FROM audit"
    for body in (plpgsql, statement):
        bodies = Bodies(dialect=dialect)
        bodies.add("function", "f", "authors", body)
        assert bodies.using("authors", column) == [], body
    used = Bodies(dialect=dialect)
    used.add("trigger", "t", "authors", f"BEGIN NEW.{column} := 1; RETURN NEW; END")
    assert used.using("authors", column) == ["trigger t"]

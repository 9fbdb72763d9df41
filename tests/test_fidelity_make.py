"""Fidelity decided at make:migration time (issue 9): validation that used to
wait for the server, pivot tables from belongsToMany, ``make:migration
MODEL...`` and ``--pivot-separate``. Pivots are also applied on every SQL driver."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from modelmig_core import Model, column, foreign_key
from modelmig_core.model.compile import compile_sql_models, diff_hints
from modelmig_core.operations import AddColumn, CreateTable, DropColumn, DropTable, DropUnique
from modelmig_core.schema.diff import diff_states, inverse_operations
from modelmig_core.schema.state import ForeignKey, Index, State
from tests.support.schema import check, states
from tests.support.servers import ServerDb
from tests.test_bad_input import one_error_line

DAY2 = {"MODELMIG_NOW": "2026-01-02T00:00:00"}


# ---------------------------------------------------------------- 5. validation at make time

USERS = 'class User(Model):\n    table = "users"\n    schema = {"id": column("increments"), "email": column("string", 100)}\n\n\n'

INVALID = [
    pytest.param(
        USERS
        + 'class Post(Model):\n    table = "posts"\n    schema = {"id": column("increments"), "user_id": column("string", 20)}\n'
        '    database = {"foreign_keys": [foreign_key("user_id", "users", "id", name="fk_posts_user")]}\n',
        ["models.py", "model Post", "'user_id'", "fk_posts_user", "posts.user_id is string but users.id is integer"],
        id="fk-types-differ",
    ),
    pytest.param(
        USERS
        + 'class Post(Model):\n    table = "posts"\n    schema = {"id": column("increments"), "user_id": column("bigInteger")}\n'
        '    database = {"foreign_keys": [foreign_key("user_id", "users", "id")]}\n',
        ["model Post", "'user_id'", "bigInteger but users.id is integer"],
        id="fk-integer-sizes-differ",
    ),
    pytest.param(
        USERS
        + 'class Post(Model):\n    table = "posts"\n    schema = {"id": column("increments"), "email": column("string", 100)}\n'
        '    database = {"foreign_keys": [foreign_key("email", "users", "email", name="fk_posts_email")]}\n',
        ["model Post", "fk_posts_email", "users(email)", "neither the primary key nor unique"],
        id="fk-target-not-unique",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "n": column("integer", default="abc")}\n',
        ["model T", "'n'", "default 'abc' is not an integer"],
        id="default-not-integer",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "n": column("smallInteger", default=70000)}\n',
        ["model T", "'n'", "outside the range of smallInteger"],
        id="default-out-of-range",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "s": column("string", 3, default="toolong")}\n',
        ["model T", "'s'", "longer than 3 characters"],
        id="default-too-long",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "d": column("date", default="31/12/2026")}\n',
        ["model T", "'d'", "not a valid date"],
        id="default-bad-date",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "b": column("boolean", default=1)}\n',
        ["model T", "'b'", "not True or False"],
        id="default-boolean-as-int",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "p": column("decimal", (4, 2), default="123.45")}\n',
        ["model T", "'p'", "does not fit decimal(4, 2)"],
        id="default-decimal-overflow",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "u": column("uuid", default="nope")}\n',
        ["model T", "'u'", "not a valid uuid"],
        id="default-bad-uuid",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "d": column("date", backfill="soon")}\n',
        ["model T", "'d'", "backfill 'soon' is not a valid date"],
        id="backfill-bad-date",
    ),
    pytest.param(
        USERS
        + 'class Post(Model):\n    table = "posts"\n    schema = {"id": column("increments"), "user_id": column("integer", nullable=True)}\n'
        '    database = {"foreign_keys": [foreign_key("user_id", "users", "id", name="fk_posts_user", on_delete="set null")],\n'
        '                "checks": [check("user_id > 0", name="ck_posts_user")]}\n',
        ["model Post", "'user_id'", "ck_posts_user", "fk_posts_user", "MySQL refuses a check"],
        id="check-on-fk-with-action",  # found by the property tests on MariaDB (error 1901)
    ),
    pytest.param(
        'class T(Model):\n    table = "modelmig_migrations"\n    schema = {"id": column("increments")}\n',
        ["model T", "'modelmig_migrations'", "reserved"],
        id="ledger-name",
    ),
    pytest.param(
        'class T(Model):\n    table = "modelmig_lock"\n    schema = {"id": column("increments")}\n',
        ["model T", "'modelmig_lock'", "reserved"],
        id="lock-name",
    ),
    pytest.param(
        'class T(Model):\n    table = ""\n    schema = {"id": column("increments")}\n',
        ["models.py", "model T", "table name is empty"],
        id="empty-table-name",
    ),
    pytest.param(
        'class T(Model):\n    table = "t"\n    schema = [column("increments")]\n',
        ["models.py", "model T", "schema must be a non-empty dict"],
        id="schema-not-a-dict",
    ),
]


@pytest.mark.parametrize("source, needles", INVALID)
def test_refused_at_make_time(make_project: Any, source: str, needles: list[str]) -> None:
    p = make_project()
    p.models(source)
    one_error_line(p.run("make:migration"), *needles)
    assert p.migration_files() == []


def test_valid_defaults_pass(make_project: Any) -> None:
    p = make_project()
    p.models(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), '
        '"p": column("decimal", (4, 2), default="12.5"), "f": column("float", default=1), '
        '"d": column("date", default="2026-01-31"), "ts": column("timestamp", default="2026-01-31 10:00:00"), '
        '"tm": column("time", default="10:30"), "b": column("boolean", default=False), '
        '"u": column("uuid", default="6f1c6a36-2b0e-4c55-9f43-3c1f3b1f0001")}\n'
    )
    p.ok("make:migration")
    p.ok("migrate:run")


# ---------------------------------------------------------------- 1. the order, without a database


def test_operations_are_ordered_by_dependency() -> None:
    class A(Model):
        table = "a"
        schema = {"id": column("increments"), "code": column("string", 20, unique=True)}

    class B(Model):
        table = "b"
        schema = {"id": column("increments"), "a_code": column("string", 20)}
        database = {"foreign_keys": [foreign_key("a_code", "a", "code", name="fk_b_a_code")]}

    class A2(Model):
        table = "a"
        schema = {"id": column("increments")}

    old, new = compile_sql_models([A, B]), compile_sql_models([A2])
    ops = diff_states(old, new)
    assert [type(o) for o in ops] == [DropTable, DropUnique, DropColumn]
    down = inverse_operations(ops)
    assert [type(o).__name__ for o in down] == ["AddColumn", "AddUnique", "CreateTable"]
    state = old
    for op in ops + down:
        state = op.state_forwards(state)
    assert state.canonical() == old.canonical()


# ---------------------------------------------------------------- 8. pivots from belongsToMany

PIVOT = """
class Post(Model):
    table = "posts"
    schema = {
        "id": column("bigIncrements"),
        "title": column("string", 100),
        "tags": relation("belongsToMany", "Tag", through="post_tag"),
    }


class Tag(Model):
    table = "tags"
    schema = {
        "id": column("increments"),
        "label": column("string", 50),
        "posts": relation("belongsToMany", "Post", through="post_tag"),
    }
"""


def _models(source: str) -> list[type[Model]]:
    scope: dict[str, Any] = {}
    exec(  # the models as a test project would write them
        "from modelmig_core import Model, column, relation, foreign_key, index, unique, check\n" + source, scope
    )
    return [v for v in scope.values() if isinstance(v, type) and issubclass(v, Model) and v is not Model]


def test_belongs_to_many_generates_the_pivot() -> None:
    state = compile_sql_models(_models(PIVOT))
    pivot = state.tables["post_tag"]
    assert [(c.name, c.type, c.primary, c.autoincrement) for c in pivot.columns] == [
        ("post_id", "bigInteger", True, False),
        ("tag_id", "integer", True, False),
    ]
    assert pivot.primary_key == ("post_id", "tag_id")
    assert pivot.foreign_keys == (
        ForeignKey("fk_post_tag_post_id_posts", ("post_id",), "posts", ("id",), "CASCADE"),
        ForeignKey("fk_post_tag_tag_id_tags", ("tag_id",), "tags", ("id",), "CASCADE"),
    )
    assert pivot.indexes == (Index("ix_post_tag_tag_id", ("tag_id",)),)
    # one side is enough; keys can be named
    one_side = PIVOT.replace('"posts": relation("belongsToMany", "Post", through="post_tag"),', "").replace(
        'through="post_tag")', 'through="post_tag", foreign_pivot_key="article_id", related_pivot_key="label_id")'
    )
    named = compile_sql_models(_models(one_side)).tables["post_tag"]
    assert [c.name for c in named.columns] == ["article_id", "label_id"]
    # a declared model for the table wins
    declared = PIVOT + (
        '\n\nclass PostTag(Model):\n    table = "post_tag"\n'
        '    schema = {"post_id": column("bigInteger", primary=True), "tag_id": column("integer", primary=True), '
        '"weight": column("integer", default=0)}\n'
    )
    assert [c.name for c in compile_sql_models(_models(declared)).tables["post_tag"].columns] == [
        "post_id",
        "tag_id",
        "weight",
    ]
    # Laravel's default name when through is left out
    plain = PIVOT.replace(', through="post_tag"', "")
    assert "post_tag" in compile_sql_models(_models(plain)).tables


def test_pivot_keys_that_disagree_are_refused(make_project: Any) -> None:
    p = make_project()
    p.models(PIVOT.replace('"Tag", through="post_tag")', '"Tag", through="post_tag", foreign_pivot_key="article_id")'))
    one_error_line(p.run("make:migration"), "models.py", "post_tag", "'article_id'", "'post_id'")


def test_pivot_lifecycle_on_every_database(make_project: Any, any_db: ServerDb) -> None:
    p = make_project({"main": {"url": any_db.url}})
    p.models(PIVOT)
    p.ok("make:migration")
    p.ok("migrate:run")
    check(any_db, states(p)[1])
    any_db.execute("INSERT INTO posts (id, title) VALUES (1, 'p')")
    any_db.execute("INSERT INTO tags (id, label) VALUES (1, 'a')")
    any_db.execute("INSERT INTO tags (id, label) VALUES (2, 'b')")
    any_db.execute("INSERT INTO post_tag (post_id, tag_id) VALUES (1, 1)")
    any_db.execute("INSERT INTO post_tag (post_id, tag_id) VALUES (1, 2)")
    with pytest.raises(sa.exc.IntegrityError):
        any_db.execute("INSERT INTO post_tag (post_id, tag_id) VALUES (1, 1)")  # composite primary key
    engine = any_db.engine()
    try:
        with engine.begin() as c:
            if any_db.driver == "sqlite":
                c.execute(sa.text("PRAGMA foreign_keys=ON"))
            c.execute(sa.text("DELETE FROM tags WHERE id = 1"))  # ON DELETE CASCADE
        with engine.connect() as c:
            assert list(c.execute(sa.text("SELECT post_id, tag_id FROM post_tag"))) == [(1, 2)]
    finally:
        engine.dispose()
    p.ok("migrate:rollback", "--force", "--yes")
    check(any_db, states(p)[0])


def test_pivot_separate_writes_pivots_after_the_tables(make_project: Any) -> None:
    p = make_project()
    p.models(PIVOT)
    out = p.ok("make:migration", "--pivot-separate").output
    files = p.migration_files()
    assert [f.name for f in files] == [
        "20260101000000_create_posts_tags_tables.py",
        "20260101000001_create_post_tag_table.py",
    ], out
    assert "post_tag" not in files[0].read_text()
    assert "parent = '20260101000000_create_posts_tags_tables'" in files[1].read_text()
    p.ok("migrate:run")
    assert "agree" in p.ok("make:migration", "--check").output
    assert len(states(p)) == 3


# ---------------------------------------------------------------- 9. make:migration MODEL...

THREE = (
    PIVOT
    + """

class Note(Model):
    table = "notes"
    schema = {"id": column("increments"), "text": column("string", 100)}
"""
)


def test_make_migration_for_named_models_only(make_project: Any) -> None:
    p = make_project()
    p.models(THREE)
    p.ok("make:migration", "Note")
    [first] = p.migration_files()
    assert first.name == "20260101000000_create_notes_table.py"
    # the rest stays pending
    assert "create posts" in p.run("make:migration", "--check").output.replace("_", " ")
    # naming both ends of a pivot brings the pivot along; tables by name work too
    p.ok("make:migration", "Post", "tags", env=DAY2)
    second = p.migration_files()[1].read_text()
    assert '"post_tag"' in second and '"posts"' in second and '"tags"' in second
    assert "agree" in p.ok("make:migration", "--check", env=DAY2).output
    p.ok("migrate:run")


def test_make_migration_for_one_end_of_a_pivot_leaves_the_pivot(make_project: Any) -> None:
    p = make_project()
    p.models(THREE)
    p.ok("make:migration", "Post")
    text = p.migration_files()[0].read_text()
    assert '"posts"' in text and "post_tag" not in text and '"tags"' not in text


def test_make_migration_model_errors(make_project: Any) -> None:
    p = make_project()
    p.models(THREE)
    one_error_line(p.run("make:migration", "Nope"), "unknown model 'Nope'", "known: Note, Post, Tag")
    p.models(
        USERS
        + 'class Post(Model):\n    table = "posts"\n    schema = {"id": column("increments"), "user_id": column("integer")}\n'
        '    database = {"foreign_keys": [foreign_key("user_id", "users", "id", name="fk_posts_user")]}\n'
    )
    one_error_line(p.run("make:migration", "Post"), "model Post", "fk_posts_user", "'users'", "name User too")
    assert p.migration_files() == []


def test_backfill_is_one_off() -> None:
    """The state never keeps a backfill: it is a hint to the diff, used when the
    column is added to an existing table, and ignored everywhere else."""

    class T1(Model):
        table = "t"
        schema = {"id": column("increments")}

    class T2(Model):
        table = "t"
        schema = {"id": column("increments"), "n": column("integer", backfill=5)}

    old, new = compile_sql_models([T1]), compile_sql_models([T2])
    assert new.tables["t"].column("n").default is None
    ops = diff_states(old, new, diff_hints([T2]))
    assert ops == [AddColumn("t", new.tables["t"].column("n"), 5)]
    assert inverse_operations(ops) == [DropColumn("t", new.tables["t"].column("n"), 5)]
    # on a new table it is not needed
    assert [type(o) for o in diff_states(State(), new, diff_hints([T2]))] == [CreateTable]


def test_unique_constraint_names_are_held_to_the_identifier_limit(make_project: Any) -> None:
    p = make_project({"main": {"url": "postgresql://u@127.0.0.1:9/x"}})
    long_name = "uq_" + "x" * 61
    p.models(
        'class T(Model):\n    table = "t"\n    schema = {"id": column("increments"), "a": column("integer")}\n'
        f'    database = {{"unique": [unique("a", name="{long_name}")]}}\n'
    )
    one_error_line(p.run("make:migration"), "model T", long_name, "pg allows at most 63")

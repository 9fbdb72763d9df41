"""The full CLI lifecycle on a real SQLite file; after every step the live schema,
reflected with SQLAlchemy's Inspector, equals the state the migrations say."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from modelmig_core.history.replay import replay
from modelmig_core.schema.state import State
from tests.support.schema import assert_schema

BLOG_V1 = """
class User(Model):
    table = "users"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "name": column("string", 100),
        "is_admin": column("boolean", default=False),
        "score": column("decimal", (10, 2), default=0),
        "created_at": column("timestamp", use_tz=True),
        "updated_at": column("timestamp", use_tz=True),
        "posts": relation("hasMany", "Post"),
    }

class Post(Model):
    table = "posts"
    schema = {
        "id": column("bigIncrements"),
        "user_id": column("integer"),
        "title": column("string", 200),
        "body": column("text", nullable=True),
        "status": column("enum", ["draft", "published"], default="draft"),
        "meta": column("json", nullable=True),
        "uuid": column("uuid", nullable=True),
        "blob": column("binary", nullable=True),
        "rating": column("float", nullable=True),
        "weight": column("double", nullable=True),
        "day": column("date", nullable=True),
        "at": column("time", nullable=True),
        "views": column("bigInteger", default=0),
        "rank": column("smallInteger", default=1),
        "published_at": column("timestamp", use_tz=True, default_now=False),
        "deleted_at": column("softDeletes", use_tz=True),
        "author": relation("belongsTo", "User", foreign_key="user_id"),
    }
    database = {
        "foreign_keys": [foreign_key("user_id", "users", "id", name="fk_posts_user", on_delete="cascade")],
        "unique": [unique(["user_id", "title"], name="uq_posts_user_title")],
        "indexes": [index(["user_id", "published_at"], name="ix_posts_user_published")],
        "checks": [check("length(title) > 0", name="ck_posts_title")],
    }
"""

# v2: one added column, one altered column (nullability + length)
BLOG_V2 = BLOG_V1.replace(
    '"name": column("string", 100),',
    '"name": column("string", 150, nullable=True),\n        "bio": column("text", nullable=True),',
)


def url(project) -> str:
    return f"sqlite:///{project.root / 'app.sqlite3'}"


def states(project) -> list[State]:
    return replay(project.root / "migrations", "sql").states


def check_live(project, state: State) -> None:
    assert_schema("sqlite", url(project), state)


def ledger(project) -> list[tuple[str, int]]:
    with sqlite3.connect(project.root / "app.sqlite3") as c:
        return c.execute("SELECT id, batch FROM modelmig_migrations ORDER BY id").fetchall()


def test_full_lifecycle(make_project) -> None:
    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    s = states(p)
    check_live(p, s[1])

    p.models(BLOG_V2)
    out = p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"}).output
    assert "Created" in out
    p.ok("migrate:run")
    s = states(p)
    assert len(s) == 3
    check_live(p, s[2])
    m1, m2 = [f.stem for f in p.migration_files()]
    assert ledger(p) == [(m1, 1), (m2, 2)]

    status = p.ok("migrate:status").output
    lines = [line.split()[:4] for line in status.splitlines()[1:]]
    assert lines == [[m1, "applied", "batch", "1"], [m2, "applied", "batch", "2"]]

    p.ok("migrate:rollback")  # the last batch: m2
    check_live(p, s[1])
    assert ledger(p) == [(m1, 1)]
    assert "pending" in p.ok("migrate:status").output

    p.ok("migrate:run")
    check_live(p, s[2])

    p.ok("migrate:rollback", "--step", "1")
    check_live(p, s[1])

    p.ok("migrate:reset", "--yes")
    check_live(p, s[0])
    assert ledger(p) == []

    p.ok("migrate:run")
    p.ok("migrate:fresh", "--yes")
    check_live(p, s[2])
    assert ledger(p) == [(m1, 1), (m2, 1)]


def test_rows_survive_rebuild_and_down_restores(make_project) -> None:
    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    db = p.root / "app.sqlite3"
    with sqlite3.connect(db) as c:
        c.execute("INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ann'), (2, 'b@x', 'Bob')")
        c.executemany(
            "INSERT INTO posts (user_id, title, body) VALUES (?, ?, ?)",
            [(1, f"t{i}", "x" * i) for i in range(50)] + [(2, "b", None)],
        )
        c.execute("CREATE INDEX hand_made_idx ON users (name)")
        c.execute("CREATE TABLE audit (msg TEXT)")
        c.execute("CREATE TRIGGER users_audit AFTER UPDATE ON users BEGIN INSERT INTO audit VALUES (new.name); END")
        c.execute("CREATE VIEW admin_names AS SELECT name FROM users WHERE is_admin = 1")
    before_posts = sqlite3.connect(db).execute("SELECT * FROM posts ORDER BY id").fetchall()

    p.models(BLOG_V2)  # alters users.name: SQLite rebuilds users, the parent of posts (ON DELETE CASCADE)
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    p.ok("migrate:run")
    c = sqlite3.connect(db)
    assert c.execute("SELECT id, email, name, bio FROM users ORDER BY id").fetchall() == [
        (1, "a@x", "Ann", None),
        (2, "b@x", "Bob", None),
    ]
    assert c.execute("SELECT * FROM posts ORDER BY id").fetchall() == before_posts  # not one child row lost
    objects = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger', 'view')")}
    assert {"hand_made_idx", "users_audit", "admin_names"} <= objects
    c.execute("UPDATE users SET name = 'Ann2' WHERE id = 1")
    c.commit()
    assert c.execute("SELECT msg FROM audit").fetchall() == [("Ann2",)]  # the trigger still fires
    assert c.execute("PRAGMA foreign_key_check").fetchall() == []
    c.close()
    check_live_without_extras(p, states(p)[2])

    p.ok("migrate:rollback")
    c = sqlite3.connect(db)
    assert c.execute("SELECT count(*) FROM posts").fetchone() == (51,)
    assert c.execute("SELECT name FROM users ORDER BY id").fetchall() == [("Ann2",), ("Bob",)]
    c.close()
    check_live_without_extras(p, states(p)[1])


def check_live_without_extras(project, state: State) -> None:
    """The declared schema is exact; the hand-made objects are additions we ignore."""
    from dataclasses import replace

    from tests.support.schema import differences, reflect

    live = reflect("sqlite", url(project))
    assert "audit" in live.tables and "hand_made_idx" in {i.name for i in live.tables["users"].indexes}
    users = live.tables["users"]
    live = live.without_table("audit").with_table(
        replace(users, indexes=tuple(i for i in users.indexes if i.name != "hand_made_idx"))
    )
    assert differences("sqlite", state, live) == []


def test_cascade_parent_rebuild_keeps_children(make_project) -> None:
    p = make_project()
    p.models(
        """
        class Parent(Model):
            table = "parents"
            schema = {"id": column("increments"), "name": column("string", 50)}

        class Child(Model):
            table = "children"
            schema = {"id": column("increments"), "parent_id": column("integer")}
            database = {"foreign_keys": [foreign_key("parent_id", "parents", "id", on_delete="cascade")]}
        """
    )
    p.ok("make:migration")
    p.ok("migrate:run")
    db = p.root / "app.sqlite3"
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA foreign_keys=ON")
        c.executemany("INSERT INTO parents (id, name) VALUES (?, ?)", [(i, f"p{i}") for i in range(1, 11)])
        c.executemany("INSERT INTO children (parent_id) VALUES (?)", [(i % 10 + 1,) for i in range(100)])
    # a change that forces a rebuild of the parent table (type change)
    (p.root / "models.py").write_text((p.root / "models.py").read_text().replace('"string", 50', '"text"'))
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    src = p.migration_files()[-1].read_text()
    assert src.count("op.AlterColumn(") == 2  # one in up, one in down
    p.ok("migrate:run")
    c = sqlite3.connect(db)
    assert c.execute("SELECT count(*) FROM children").fetchone() == (100,)
    assert c.execute("SELECT count(*) FROM parents").fetchone() == (10,)
    c.close()
    p.ok("migrate:rollback")
    c = sqlite3.connect(db)
    assert c.execute("SELECT count(*) FROM children").fetchone() == (100,)
    c.close()
    check_live(p, states(p)[1])


def test_one_column_change_makes_one_alter_and_down_restores(make_project) -> None:
    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    first = p.migration_files()
    assert "No changes" in p.ok("make:migration").output
    assert p.migration_files() == first
    p.ok("migrate:run")

    (p.root / "models.py").write_text(
        (p.root / "models.py").read_text().replace('"body": column("text", nullable=True)', '"body": column("text")')
    )
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    files = p.migration_files()
    assert len(files) == 2
    assert files[1].name == "20260102000000_alter_body_on_posts.py"
    from modelmig_core.history.migrations import MigrationFile, load
    from modelmig_core.operations import AlterColumn

    m = load(MigrationFile(files[1].stem, files[1], "sql"))
    assert [type(o) for o in m.up] == [AlterColumn] and [type(o) for o in m.down] == [AlterColumn]
    assert m.up[0].old.nullable and not m.up[0].new.nullable
    p.ok("migrate:run")
    check_live(p, states(p)[2])
    p.ok("migrate:rollback")
    check_live(p, states(p)[1])


def test_declared_column_rename_keeps_data(make_project) -> None:
    p = make_project()
    p.models(
        'class T(Model):\n    table = "things"\n    schema = {"id": column("increments"), "nm": column("string", 20)}\n'
    )
    p.ok("make:migration")
    p.ok("migrate:run")
    with sqlite3.connect(p.root / "app.sqlite3") as c:
        c.execute("INSERT INTO things (nm) VALUES ('kept')")
    p.models(
        'class T(Model):\n    table = "things"\n'
        '    schema = {"id": column("increments"), "name": column("string", 20, renamed_from="nm")}\n'
    )
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    assert p.migration_files()[-1].name.endswith("_rename_nm_to_name_on_things.py")
    p.ok("migrate:run")
    with sqlite3.connect(p.root / "app.sqlite3") as c:
        assert c.execute("SELECT name FROM things").fetchall() == [("kept",)]
    check_live(p, states(p)[2])


def test_pretend_prints_sql_and_changes_nothing(make_project) -> None:
    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    out = p.ok("migrate:run", "--pretend").output
    assert "CREATE TABLE users" in out and "CONSTRAINT uq_users_email UNIQUE (email)" in out
    db = p.root / "app.sqlite3"
    c = sqlite3.connect(db)
    assert c.execute("SELECT name FROM sqlite_master").fetchall() == []
    c.close()


def test_test_target_uses_test_url(make_project) -> None:
    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    p.ok("migrate:run", "--test")
    assert (p.root / "app_test.sqlite3").exists()
    c = sqlite3.connect(p.root / "app.sqlite3")
    assert c.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)
    c.close()
    assert "applied" in p.ok("migrate:status", "--test").output


def test_status_reports_modified_missing_and_json(make_project) -> None:
    import json

    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    p.ok("migrate:run")
    p.models(BLOG_V2)
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    f1, f2 = p.migration_files()
    data = json.loads(p.ok("migrate:status", "--json").output)
    rows = data["connections"][0]["migrations"]
    assert [(r["id"], r["status"], r["batch"]) for r in rows] == [(f1.stem, "applied", 1), (f2.stem, "pending", None)]
    assert rows[0]["applied_at"] and rows[1]["applied_at"] is None

    f1.write_text(f1.read_text() + "\n# edited\n")
    rows = json.loads(p.ok("migrate:status", "--json").output)["connections"][0]["migrations"]
    assert rows[0]["status"] == "modified"
    f1.rename(p.root / "elsewhere.py")
    f2.unlink()
    rows = json.loads(p.ok("migrate:status", "--json").output)["connections"][0]["migrations"]
    assert [(r["id"], r["status"]) for r in rows] == [(f1.stem, "missing")]


def test_generated_files_are_byte_identical(make_project) -> None:
    a, b = make_project(), make_project()
    for p in (a, b):
        p.models(BLOG_V1)
        p.ok("make:migration")
        p.models(BLOG_V2)
        p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    assert [f.name for f in a.migration_files()] == [f.name for f in b.migration_files()]
    for fa, fb in zip(a.migration_files(), b.migration_files(), strict=True):
        assert fa.read_bytes() == fb.read_bytes()


def test_make_check(make_project) -> None:
    p = make_project()
    p.models(BLOG_V1)
    result = p.run("make:migration", "--check")
    assert result.exit_code == 1 and "create users table" in result.output
    assert p.migration_files() == []
    p.ok("make:migration")
    assert p.run("make:migration", "--check").exit_code == 0


@pytest.mark.parametrize("fresh", [False, True])
def test_sqlite_memory_and_env_url(make_project, monkeypatch, fresh: bool) -> None:
    p = make_project({"main": {"url": "sqlite:///${APP_DB:-fallback.sqlite3}"}})
    p.models(BLOG_V1)
    p.ok("make:migration")
    if fresh:
        p.ok("migrate:run", env={"APP_DB": "chosen.sqlite3"})
        assert (p.root / "chosen.sqlite3").exists() and not (p.root / "fallback.sqlite3").exists()
    else:
        p.ok("migrate:run")
        assert Path(p.root / "fallback.sqlite3").exists()


def test_concurrent_runners_apply_each_migration_once(make_project) -> None:
    """Four processes at once on one SQLite file: BEGIN IMMEDIATE serializes them and
    the ledger is re-checked inside each transaction."""
    import subprocess
    import sys

    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    p.models(BLOG_V2)
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    exe = str(Path(sys.executable).parent / "modelmig")
    procs = [
        subprocess.Popen([exe, "migrate:run"], cwd=p.root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(4)
    ]
    outputs = [proc.communicate(timeout=60)[0] for proc in procs]
    assert all(proc.returncode == 0 for proc in procs), outputs
    applied = [line for out in outputs for line in out.splitlines() if ": applied " in line]
    assert len(applied) == 2, outputs
    m1, m2 = [f.stem for f in p.migration_files()]
    assert [row[0] for row in ledger(p)] == [m1, m2]
    check_live(p, states(p)[2])


def test_hand_written_run_python_and_run_sql(make_project) -> None:
    """The escape hatches: RunPython gets the DB-API connection, inside the migration's
    transaction; RunSQL with reverse_sql rolls back."""
    p = make_project()
    p.models(BLOG_V1)
    p.ok("make:migration")
    first = p.migration_files()[0].stem
    (p.root / "migrations" / "sql" / "20270101000000_seed_admin.py").write_text(
        "from modelmig_core import operations as op\n\n"
        "def seed(conn):\n"
        "    conn.execute(\"INSERT INTO users (email, name) VALUES ('root@x', 'root')\")\n\n"
        "def unseed(conn):\n"
        "    conn.execute(\"DELETE FROM users WHERE email = 'root@x'\")\n\n"
        f"id = '20270101000000_seed_admin'\nfamily = 'sql'\nparent = {first!r}\n"
        "up = [op.RunPython(seed, unseed), op.RunSQL('CREATE VIEW admins AS SELECT email FROM users', 'DROP VIEW admins')]\n"
        "down = [op.RunSQL('DROP VIEW admins', 'CREATE VIEW admins AS SELECT email FROM users'), op.RunPython(unseed, seed)]\n"
    )
    p.ok("migrate:run")
    c = sqlite3.connect(p.root / "app.sqlite3")
    assert c.execute("SELECT email FROM admins").fetchall() == [("root@x",)]
    c.close()
    assert "No changes" in p.ok("make:migration").output  # RunSQL/RunPython leave the state alone
    p.ok("migrate:rollback", "--step", "1")
    c = sqlite3.connect(p.root / "app.sqlite3")
    assert c.execute("SELECT count(*) FROM users").fetchone() == (0,)
    assert c.execute("SELECT name FROM sqlite_master WHERE name = 'admins'").fetchall() == []
    c.close()
    check_live(p, states(p)[1])


NOTES = """
class Note(Model):
    table = "notes"
    schema = {
        "id": column("increments"),
        "body": column("string", 50),
        "obsolete": column("string", 10, nullable=True),
    }
"""


def test_named_checks_and_index_columns_are_read_with_sqlglot() -> None:
    from modelmig_sqlite.render import index_uses, named_checks

    sql = (
        "CREATE TABLE \"t\" (a TEXT CONSTRAINT [ck a] CHECK (a <> ')'), b INT, "
        'CONSTRAINT `ck ``b``` CHECK ((b > 0) AND b < 10), CONSTRAINT "c""d" CHECK(length(a) > 0), '
        "note TEXT DEFAULT 'CONSTRAINT x CHECK (1)')"
    )
    assert [(c.name, c.expression) for c in named_checks(sql)] == [
        ("ck a", "a <> ')'"),
        ("ck `b`", "(b > 0) AND b < 10"),
        ('c"d', "length(a) > 0"),
    ]
    index = 'CREATE INDEX "ix" ON users (lower("Name"), email) WHERE deleted_at IS NULL'
    assert index_uses(index, ["name", "deleted_at", "users", "ix", "bio"]) == ["name", "deleted_at"]


def notes_applied(make_project):
    """A project with NOTES made and applied."""
    p = make_project()
    p.models(NOTES)
    p.ok("make:migration")
    p.ok("migrate:run")
    return p


def test_a_rebuild_keeps_a_hand_made_check_whose_text_has_parentheses(make_project) -> None:
    p = notes_applied(make_project)
    db = p.root / "app.sqlite3"
    with sqlite3.connect(db) as c:  # the table made again by hand, with a check the models do not declare
        (sql,) = c.execute("SELECT sql FROM sqlite_master WHERE name = 'notes'").fetchone()
        extra = ", CONSTRAINT \"ck notes (odd)\" CHECK (body <> ')')"
        c.execute("ALTER TABLE notes RENAME TO notes_old")
        c.execute(sql[: sql.rindex(")")] + extra + ")")
        c.execute("INSERT INTO notes SELECT * FROM notes_old")
        c.execute("DROP TABLE notes_old")
    p.models(NOTES.replace('        "obsolete": column("string", 10, nullable=True),\n', ""))
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    p.ok("migrate:run", "--force", "--yes")
    c = sqlite3.connect(db)
    try:
        (sql,) = c.execute("SELECT sql FROM sqlite_master WHERE name = 'notes'").fetchone()
        assert "obsolete" not in sql and extra.lstrip(", ") in sql
        c.execute("INSERT INTO notes (body) VALUES ('fine')")
        with pytest.raises(sqlite3.IntegrityError, match="ck notes"):
            c.execute("INSERT INTO notes (body) VALUES (')')")
    finally:
        c.close()


def test_a_hand_made_index_on_a_dropped_column_is_named(make_project) -> None:
    p = notes_applied(make_project)
    with sqlite3.connect(p.root / "app.sqlite3") as c:
        c.execute('CREATE INDEX "hand (made)" ON notes (body, lower("OBSOLETE"))')
    p.models(NOTES.replace('        "obsolete": column("string", 10, nullable=True),\n', ""))
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    result = p.run("migrate:run", "--force", "--yes")
    assert result.exit_code != 0
    assert "index hand (made) on notes (not declared in the models) uses column 'obsolete'" in result.output

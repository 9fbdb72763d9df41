"""A run (or ``--pretend``) of migrations whose plans are all cached takes what it
needs of each migration from its kept entry (``run/planned.py``): no migration file
is loaded or replayed, neither SQLAlchemy nor the operations are imported, the
statements and warnings are those of a fresh render, and an entry that was altered
or whose file was edited is never trusted (the guard still refuses). And loading a
file checks its dependencies on the parts of its text that can name one
(``history/migrations.py``)."""

from __future__ import annotations

import ast
import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelmig_core.history import migrations
from modelmig_core.sql.driver import SqlSession
from tests.support.servers import ServerDb

USERS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100), "name": column("string", 50, nullable=True)}
"""
USERS_WITHOUT_NAME = USERS.replace(', "name": column("string", 50, nullable=True)', "")
TWO_SQLITE = {"a": {"url": "sqlite:///a.sqlite3"}, "b": {"url": "sqlite:///b.sqlite3"}}
PROD = {"APP_ENV": "production"}
ALLOW = {"MODELMIG_ALLOW_PROD_DESTRUCTIVE": "true"}

PROBE = """
import sys
from modelmig_core.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
loaded = [m for m in sys.modules if m.split(".")[0] == "sqlalchemy" or m == "modelmig_core.schema.operations"]
print("LOADED:", sorted(loaded))
"""


def probe(root: Path, *args: str) -> str:
    """The command's output in a process of its own, and what it imported."""
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def meta_entries(root: Path) -> list[Path]:
    return sorted((root / "migrations" / ".modelmig-cache" / "meta" / "sql").glob("*.json"))


def entry_of(root: Path, mid: str) -> Path:
    for path in meta_entries(root):
        if json.loads(path.read_text().split("\n", 1)[1])["id"] == mid:
            return path
    raise AssertionError(f"no entry for {mid}")


def statements(output: str) -> list[str]:
    keep = [
        line
        for line in output.splitlines()
        if not line.startswith(("-- ", "warning:")) and not line.split(" ", 1)[0].endswith(":")
    ]
    return [s.strip() for s in ("\n".join(keep) + "\n").split(";\n") if s.strip()]


def emails(path: Path) -> list[tuple[str, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT * FROM users").fetchall()


@pytest.fixture
def two(make_project: Any) -> Any:
    """Two SQLite databases; the users table applied on a (its plan and entry kept)."""
    p = make_project(TWO_SQLITE)
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "a")
    return p


@pytest.fixture
def dropping(two: Any) -> Any:
    """Both databases hold a user; a second migration (by hand: raw SQL, whose plan
    reads no live facts) drops the users table; it ran on a in production (its
    plan and entry kept), not yet on b."""
    two.ok("migrate:run", "--connection", "b")
    for name in ("a", "b"):
        with sqlite3.connect(two.root / f"{name}.sqlite3") as conn:
            conn.execute("INSERT INTO users (email, name) VALUES ('kept@example.com', 'Kept')")
    [first] = two.migration_files()
    (first.parent / "20260102000000_drop_users.py").write_text(
        "from modelmig_core import operations as op\n\nid = '20260102000000_drop_users'\nfamily = 'sql'\n"
        f"parent = {first.stem!r}\n\nup = [op.RunSQL('DROP TABLE users', 'CREATE TABLE users (id INTEGER)')]\n"
        "down = []\n"
    )
    two.ok("migrate:run", "--connection", "a", "--force", "--yes", env={**PROD, **ALLOW})
    return two


def kept(p: Any) -> bool:
    return emails(p.root / "b.sqlite3") == [(1, "kept@example.com", "Kept")]


def test_a_planned_run_loads_no_migration_file_and_imports_no_sqlalchemy(two: Any) -> None:
    assert len(meta_entries(two.root)) == 1
    out = probe(two.root, "migrate:run", "--connection", "b")
    assert "b: applied" in out and "LOADED: []" in out, out
    with sqlite3.connect(two.root / "a.sqlite3") as a, sqlite3.connect(two.root / "b.sqlite3") as b:
        query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'modelmig%' ORDER BY name"
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_a_planned_pretend_prints_what_a_fresh_render_prints(two: Any) -> None:
    planned = probe(two.root, "migrate:run", "--connection", "b", "--pretend")
    assert "LOADED: []" in planned
    fresh = two.ok("migrate:run", "--connection", "b", "--pretend", env={"MODELMIG_NO_CACHE": "1"}).output
    assert statements(fresh) and any(s.startswith("CREATE TABLE users") for s in statements(fresh))

    def printed(output: str) -> list[str]:  # the warnings go to stderr in a process of its own
        return [line for line in output.splitlines() if not line.startswith(("warning:", "LOADED:"))]

    assert printed(planned) == printed(fresh)


def test_a_planned_run_sends_the_statements_of_a_fresh_render(two: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = statements(two.ok("migrate:run", "--connection", "b", "--pretend", env={"MODELMIG_NO_CACHE": "1"}).output)
    sent: list[str] = []
    original = SqlSession._execute

    def record(self: SqlSession, sql: str, params: Any = None) -> Any:
        sent.append(sql.strip().rstrip(";"))
        return original(self, sql, params)

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a migration file was loaded although its plan was cached")

    monkeypatch.setattr(SqlSession, "_execute", record)
    monkeypatch.setattr("modelmig_core.history.replay.load", refuse)
    two.ok("migrate:run", "--connection", "b")
    positions = [sent.index(s) for s in fresh]
    assert positions == sorted(positions)


def test_a_planned_run_that_drops_data_is_guarded_and_warned_as_before(dropping: Any) -> None:
    refused = dropping.run("migrate:run", "--connection", "b", env=PROD)
    assert refused.exit_code != 0 and "refused" in refused.output
    assert kept(dropping)
    out = probe(dropping.root, "migrate:run", "--connection", "b", "--force", "--yes")
    assert "LOADED: []" in out and "b: applied 20260102000000_drop_users" in out, out
    with sqlite3.connect(dropping.root / "b.sqlite3") as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'users'").fetchall()


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: {**e, "up": {**e["up"], "destructive": None, "drops": []}},  # the data loss emptied
        lambda e: {**e, "up": {**e["up"], "destructive": None}},
        lambda e: {**e, "atomic": "yes"},
    ],
)
def test_an_altered_entry_is_ignored_and_the_guard_still_refuses(dropping: Any, edit: Any) -> None:
    mid = dropping.migration_files()[1].stem
    path = entry_of(dropping.root, mid)
    header, body = path.read_text().split("\n", 1)
    entry = json.loads(body)
    assert entry["up"]["destructive"] and entry["up"]["drops"]
    path.write_text(header + "\n" + json.dumps(edit(entry)))  # under its key, its sum unchanged
    refused = dropping.run("migrate:run", "--connection", "b", env=PROD)
    assert refused.exit_code != 0 and "refused" in refused.output
    assert kept(dropping)
    done = dropping.ok("migrate:run", "--connection", "b", "--force", "--yes", env={**PROD, **ALLOW})
    assert "warning: b: running 20260102000000_drop_users drops data: run sql" in done.output


def test_an_entry_whose_sum_was_made_again_for_an_emptied_loss_is_still_refused(dropping: Any) -> None:
    """Whatever drops data carries the guard's label: an entry saying otherwise is
    not served even with a sum that matches."""
    from modelmig_core.run import planned

    mid = dropping.migration_files()[1].stem
    path = entry_of(dropping.root, mid)
    entry = json.loads(path.read_text().split("\n", 1)[1])
    entry["up"]["destructive"] = None
    planned.store(path.parent, path.stem, entry)
    refused = dropping.run("migrate:run", "--connection", "b", env=PROD)
    assert refused.exit_code != 0 and "refused" in refused.output


def test_an_edited_migration_file_is_loaded_again(two: Any) -> None:
    [path] = two.migration_files()
    path.write_text(path.read_text().replace("atomic = True", "atomic = True  # edited"))
    out = probe(two.root, "migrate:run", "--connection", "b")
    assert "b: applied" in out
    assert "modelmig_core.schema.operations" in out  # the file was loaded: its entry was not taken
    assert len(meta_entries(two.root)) == 2  # and its new entry kept
    two.ok("migrate:rollback", "--connection", "b")
    assert "LOADED: []" in probe(two.root, "migrate:run", "--connection", "b")  # planned again, as edited


# ---------------------------------------------------------------- the dependency check on the compiled file


def test_an_import_written_inside_a_string_is_no_dependency(tmp_path: Path) -> None:
    folder = tmp_path / "migrations" / "sql"
    folder.mkdir(parents=True)
    (folder / "helpers.py").write_text("VALUE = 1\n")
    path = folder / "20260101000000_notes.py"
    path.write_text(
        "from modelmig_core import operations as op\n\nid = '20260101000000_notes'\nfamily = 'sql'\nparent = None\n"
        "SQL = '''\nimport helpers\n'''\nup = [op.RunSQL(SQL, 'SELECT 1')]\ndown = []\n"
    )
    migration = migrations.load(migrations.MigrationFile(path.stem, path, "sql"))
    assert migration.up[0].sql == "\nimport helpers\n"


def test_a_large_migration_is_checked_without_walking_its_tree(tmp_path: Path) -> None:
    ops = "".join(f"    op.AddColumn('t{i}', op.Column('path', 'string')),\n" for i in range(300))  # "path": a string
    source = (
        "from modelmig_core import operations as op\n\nid = 'x'\nfamily = 'sql'\nparent = None\n\n"
        f"up = [\n{ops}]\n\ndown = []\n"
    )
    path = tmp_path / "migrations" / "sql" / "x.py"
    path.parent.mkdir(parents=True)
    assert not migrations._may_depend(compile(source, str(path), "exec"), path)  # its import: the operations'
    (path.parent / "modelmig_core.py").write_text("")  # a module of the folder's own by that name
    assert migrations._may_depend(compile(source, str(path), "exec"), path)


STRING_ONLY = "s = '''\nimport helpers\n'''\n"


@pytest.mark.parametrize(
    "source",
    [
        "import helpers\n",
        "x = 1\nif x:\n    import helpers\nelse:\n    pass\n",
        "def f():\n    return 1\n\n@staticmethod\ndef g():\n    import helpers\n",
        "x = [\n    1,\n]\nH = __import__('helpers')\n",
        "x = (\n    1,\n)\nexec('x = 1')\n",
        "import sys\nsys.path.insert(0, '.')\n",
        "SQL = 'path'\nFILE = __file__\n",
        "x = f(\nimport_module)\n",
        STRING_ONLY,
        # an import between two strings whose lines, read alone, are one string
        "x = '''\n'''; import helpers; y = '''\n'''\n",
        "class A:\n    def m(self):\n        return [lambda: __import__('helpers') for _ in ()]\n",
        "from . import helpers\n",
        "def f(__file__=1):\n    return __file__\n",
        "from .helpers import VALUE\n",
        "from os import path\n",
        "import helpers.sub as s\n",
    ],
)
def test_the_compiled_file_says_whenever_the_tree_finds_a_dependency(tmp_path: Path, source: str) -> None:
    folder = tmp_path / "migrations" / "sql"
    folder.mkdir(parents=True)
    (folder / "helpers.py").write_text("VALUE = 1\n")
    path = folder / "20260101000000_x.py"
    whole = migrations.local_dependencies(path, ast.parse(source))
    may = migrations._may_depend(compile(source, str(path), "exec"), path)
    assert may or not whole  # never less than the tree: then the tree tells what and where
    assert not may if source == STRING_ONLY else may  # a string is no dependency; each other case may be one
    if whole:  # and loading the file refuses it, naming the first
        path.write_text(source)
        with pytest.raises(migrations.MigrationFileError, match=re.escape(whole[0])):
            migrations.load(migrations.MigrationFile(path.stem, path, "sql"))


def test_a_planned_rollback_loads_no_migration_file(two: Any) -> None:
    """(Raw SQL: a SQLite DROP TABLE plan reads the live facts, and is then rendered.)"""
    two.ok("migrate:run", "--connection", "b")  # the users table in a batch of its own
    [first] = two.migration_files()
    (first.parent / "20260102000000_notes.py").write_text(
        "from modelmig_core import operations as op\n\nid = '20260102000000_notes'\nfamily = 'sql'\n"
        f"parent = {first.stem!r}\n\nup = [op.RunSQL('CREATE TABLE notes (id INTEGER)', 'DROP TABLE notes')]\n"
        "down = [op.RunSQL('DROP TABLE notes', 'CREATE TABLE notes (id INTEGER)')]\n"
    )
    two.ok("migrate:run", "--connection", "a")
    two.ok("migrate:rollback", "--connection", "a")  # its down plan kept
    two.ok("migrate:run", "--connection", "b")
    out = probe(two.root, "migrate:rollback", "--connection", "b")
    assert "b: rolled back 20260102000000_notes" in out and "LOADED: []" in out, out
    with sqlite3.connect(two.root / "b.sqlite3") as conn:
        assert not conn.execute("SELECT name FROM sqlite_master WHERE name = 'notes'").fetchall()


def test_a_planned_run_on_postgresql_loads_no_migration_file(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(USERS)
    p.ok("make:migration")
    p.ok("migrate:run")
    p.ok("migrate:rollback")
    fresh = statements(p.ok("migrate:run", "--pretend", env={"MODELMIG_NO_CACHE": "1"}).output)
    planned = probe(p.root, "migrate:run", "--pretend")
    assert "LOADED: []" in planned and statements(planned.replace("LOADED: []\n", "")) == fresh
    out = probe(p.root, "migrate:run")
    assert "main: applied" in out and "LOADED: []" in out, out
    assert pg_db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'") == 1


def test_a_plan_altered_to_add_a_drop_is_ignored_and_the_guard_still_refuses(dropping: Any) -> None:
    plans = sorted((dropping.root / "migrations" / ".modelmig-cache" / "plans" / "sql").glob("*.json"))
    for plan in plans:  # every plan kept gains a DROP under its key
        header, body = plan.read_text().split("\n", 1)
        plan.write_text(header + "\n" + json.dumps([*json.loads(body), ["DROP TABLE keepme", "", False, [], False]]))
    with sqlite3.connect(dropping.root / "b.sqlite3") as conn:
        conn.execute("CREATE TABLE keepme (x INTEGER)")
    refused = dropping.run("migrate:run", "--connection", "b", env=PROD)
    assert refused.exit_code != 0 and "refused" in refused.output and kept(dropping)
    out = probe(dropping.root, "migrate:run", "--connection", "b", "--force", "--yes")
    assert "b: applied 20260102000000_drop_users" in out and "modelmig_core.schema.operations" in out  # loaded
    with sqlite3.connect(dropping.root / "b.sqlite3") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert "keepme" in names and "users" not in names

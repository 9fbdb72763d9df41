"""The driver contract: pretend takes the path run takes, plugins wrap and observe
every migration, the transaction rule, the public API, and the core holding no
document-store knowledge."""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from modelmig_core.conformance.fixtures import V1, V2, adapted
from modelmig_core.registry import Registry
from modelmig_core.sql.driver import SqlSession
from tests.support.servers import ServerDb


def seed(db: ServerDb) -> None:
    """An author and a post, so that V2's alterations have rows to keep."""
    db.execute(
        "INSERT INTO authors (email, name, token, legacy_code, bio) "
        "VALUES ('ann@example.com', 'Ann', '6f1c6a36-2b0e-4c55-9f43-3c1f3b1f0001', '42', 'hello')"
    )
    author = db.rows("SELECT id FROM authors")[0][0]
    db.execute(
        f"INSERT INTO posts (author_id, title, slug, body) VALUES ({int(author)}, 'First post', 'first', 'Body')"
    )


ROOT = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- pretend == run


RECORDER = """
from modelmig_core.api import hookimpl

CURRENT = []


@hookimpl(tryfirst=True)
def apply(migration, direction):
    CURRENT.append(f"-- main: {migration.id} ({direction})")
"""


@pytest.fixture
def performed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The text of every statement a SQL session performs, in order, with a line
    naming each migration before its statements (as --pretend prints them)."""
    out: list[str] = []
    real = SqlSession.perform

    def spy(self: SqlSession, statement: Any) -> None:
        import recorder  # the project's plugin module, imported by the config

        out.extend(recorder.CURRENT)
        recorder.CURRENT.clear()
        out.append(statement.text if statement.text.rstrip().endswith(";") else statement.text + ";")
        real(self, statement)

    monkeypatch.setattr(SqlSession, "perform", spy)
    return out


def pretend_body(output: str) -> list[str]:
    """The statements --pretend printed, one entry per printed line."""
    return [line for line in output.splitlines() if not line.startswith(("main:", "warning:"))]


def performed_lines(performed: list[str]) -> list[str]:
    return [line for text in performed for line in text.splitlines()]


def same_path(p: Any, performed: list[str], *command: str) -> None:
    """``command --pretend`` prints exactly the statements ``command`` performs."""
    pretended = pretend_body(p.ok(*command, "--pretend").output)
    performed.clear()
    p.ok(*command, "--force", "--yes")
    assert pretended == performed_lines(performed)
    assert pretended, "the migration performed nothing"


def test_pretend_equals_run_for_every_operation(make_project: Any, any_db: ServerDb, performed: list[str]) -> None:
    p = make_project({"main": {"url": any_db.url}}, extra_config='plugins = ["recorder"]')
    (p.root / "recorder.py").write_text(RECORDER)
    driver = Registry().driver(any_db.driver)
    # the comment change of V2 is left out where the database has no column comments (SQLite)
    p.models(adapted(V1, driver.features, driver.column_comments))
    p.ok("make:migration", "--name", "create_blog")
    same_path(p, performed, "migrate:run")
    seed(any_db)
    p.models(
        adapted(V2, driver.features, driver.column_comments)
    )  # renames, alterations of every kind, new and dropped tables, indexes, FKs, checks
    p.ok("make:migration", "--name", "rework_blog", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    same_path(p, performed, "migrate:run")
    same_path(p, performed, "migrate:rollback")
    same_path(p, performed, "migrate:run")


DEPENDENT_V1 = """
class Code(Model):
    table = "codes"
    schema = {"id": column("increments"), "code": column("string", 20, unique=True, nullable=True)}


class Use(Model):
    table = "uses"
    schema = {"id": column("increments"), "code": column("string", 20)}
    database = {"foreign_keys": [foreign_key("code", "codes", "code", name="fk_uses_code")]}
"""

# the second migration, written in the order every database accepts: the table whose
# foreign key uses the unique column goes first, then the unique constraint, then the column
DEPENDENT_DROP = """
from modelmig_core import operations as op

id = "20260102000000_drop_uses_and_code"
family = "sql"
parent = "20260101000000_create_codes"
atomic = True

USES = op.Table(
    "uses",
    columns=[op.Column("id", "integer", primary=True, autoincrement=True), op.Column("code", "string", length=20)],
    foreign_keys=[op.ForeignKey("fk_uses_code", ["code"], "codes", ["code"])],
)
UNIQUE = op.Unique("ux_codes_code", ["code"])
CODE = op.Column("code", "string", length=20, nullable=True)

up = [op.DropTable(USES), op.DropUnique("codes", UNIQUE), op.DropColumn("codes", CODE)]
down = [op.AddColumn("codes", CODE), op.AddUnique("codes", UNIQUE), op.CreateTable(USES)]
"""


def test_pretend_equals_run_dropping_a_unique_column_and_its_dependent_table(
    make_project: Any, any_db: ServerDb, performed: list[str]
) -> None:
    p = make_project({"main": {"url": any_db.url}}, extra_config='plugins = ["recorder"]')
    (p.root / "recorder.py").write_text(RECORDER)
    p.models(DEPENDENT_V1)
    p.ok("make:migration", "--name", "create_codes")
    (first,) = p.migration_files()
    index_name = re.search(r'op\.Unique\("([^"]+)", \["code"\]\)', first.read_text())
    assert index_name, first.read_text()
    p.ok("migrate:run")
    any_db.execute("INSERT INTO codes (code) VALUES ('a')")
    any_db.execute("INSERT INTO uses (code) VALUES ('a')")
    second = DEPENDENT_DROP.replace("ux_codes_code", index_name.group(1))
    (first.parent / "20260102000000_drop_uses_and_code.py").write_text(second)
    same_path(p, performed, "migrate:run")
    assert any_db.rows("SELECT * FROM codes") == [(1,)]
    same_path(p, performed, "migrate:rollback")


# ---------------------------------------------------------------- plugins see every migration


AUDIT = """
import json
from pathlib import Path

from modelmig_core.api import MigrationFailed, hookimpl

LOG = Path(__file__).with_name("audit.jsonl")


def log(*event):
    with LOG.open("a") as f:
        f.write(json.dumps(list(event)) + "\\n")


@hookimpl(wrapper=True)
def apply(session, migration, steps, direction):
    if Path(__file__).with_name("veto").exists():
        raise MigrationFailed(f"audit: {migration.id} vetoed")
    log("apply", migration.id, direction, session.driver.name, len(steps))
    result = yield
    log("applied", migration.id, direction)
    return result


@hookimpl
def record_state(migration, direction, batch, duration_ms):
    log("recorded", migration.id, direction, batch, duration_ms >= 0)
"""


def audit_log(root: Path) -> list[list[Any]]:
    path = root / "audit.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    path.unlink(missing_ok=True)
    return events


TWO_STEPS = """
class Tag(Model):
    table = "tags"
    schema = {"id": column("increments"), "name": column("string", 50)}
"""


def test_a_plugin_wraps_apply_and_observes_record_state(make_project: Any, any_db: ServerDb) -> None:
    sys.modules.pop("audit", None)  # a previous test's project had its own audit.py
    p = make_project({"main": {"url": any_db.url}}, extra_config='plugins = ["audit"]')
    (p.root / "audit.py").write_text(AUDIT)
    p.models(TWO_STEPS)
    p.ok("make:migration")
    p.models(
        TWO_STEPS.replace(
            '"name": column("string", 50)', '"name": column("string", 50), "n": column("integer", default=0)'
        )
    )
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    first, second = (f.stem for f in p.migration_files())
    p.ok("migrate:run")
    driver = any_db.driver
    assert audit_log(p.root) == [
        ["apply", first, "up", driver, 1],
        ["applied", first, "up"],
        ["recorded", first, "up", 1, True],
        ["apply", second, "up", driver, 1],
        ["applied", second, "up"],
        ["recorded", second, "up", 1, True],
    ]
    p.ok("migrate:rollback")
    assert audit_log(p.root) == [
        ["apply", second, "down", driver, 1],
        ["applied", second, "down"],
        ["recorded", second, "down", 1, True],
        ["apply", first, "down", driver, 1],
        ["applied", first, "down"],
        ["recorded", first, "down", 1, True],
    ]
    # a plugin can veto: the migration does not run and is not recorded
    (p.root / "veto").touch()
    vetoed = p.run("migrate:run")
    assert vetoed.exit_code != 0 and f"audit: {first} vetoed" in vetoed.output
    assert audit_log(p.root) == []
    status = p.ok("migrate:status", "--json").output
    assert {m["status"] for m in json.loads(status)["connections"][0]["migrations"]} == {"pending"}


# ---------------------------------------------------------------- the transaction rule


SPLIT_DRIVER = '''
"""A driver whose DB-API connection opens a separate connection for each
cursor() (as DuckDB's does). Following the documented rule, its session
overrides cursor() so that every statement runs on the session's connection."""
import sqlite3

from modelmig_core.api import DriverInfo
from modelmig_sqlite.driver import SqliteDriver, SqliteSession, sqlite_path


class SplitConnection:
    def __init__(self, path):
        self.path = path
        self.main = sqlite3.connect(path, isolation_level=None, timeout=1)

    def cursor(self):  # a separate connection, as DuckDB's cursor() is
        return sqlite3.connect(self.path, isolation_level=None, timeout=1).cursor()

    def execute(self, sql, params=()):
        return self.main.execute(sql, params)

    @property
    def in_transaction(self):
        return self.main.in_transaction

    def close(self):
        self.main.close()


class SplitSession(SqliteSession):
    def cursor(self):
        return self.raw  # the documented override: statements run on this session's connection


class SplitDriver(SqliteDriver):
    info = DriverInfo("split", ("split",), "sql", "sqlite through a split-cursor connection")
    session_class = SplitSession

    def open(self, url):
        raw = SplitConnection(sqlite_path("sqlite" + url[len("split"):]))
        raw.execute("PRAGMA foreign_keys=ON")
        return raw
'''

FAILING = """
from modelmig_core import operations as op

id = "20260102000000_half_done"
family = "sql"
parent = "20260101000000_create_tags"
atomic = True

NOTES = op.Table("notes", columns=[op.Column("id", "integer", primary=True)])
up = [op.CreateTable(NOTES), op.RunSQL("INSERT INTO notes (id) VALUES (1)"), op.RunSQL("INSERT INTO nowhere VALUES (1)")]
down = [op.DropTable(NOTES)]
"""


def test_a_failing_migration_leaves_nothing_when_cursors_are_separate_connections(make_project: Any) -> None:
    p = make_project(
        {"main": {"url": "split:///app.sqlite3", "driver": "split"}}, extra_config='plugins = ["split:SplitDriver"]'
    )
    (p.root / "split.py").write_text(SPLIT_DRIVER)
    p.models(TWO_STEPS)
    p.ok("make:migration", "--name", "create_tags")
    p.ok("migrate:run")
    (p.migration_files()[0].parent / "20260102000000_half_done.py").write_text(FAILING)
    failed = p.run("migrate:run")
    assert failed.exit_code != 0 and "nowhere" in failed.output
    import sqlite3

    db = sqlite3.connect(p.root / "app.sqlite3")
    try:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        ledger = [r[0] for r in db.execute("SELECT id FROM modelmig_migrations")]
    finally:
        db.close()
    assert "notes" not in tables  # the CREATE TABLE and the INSERT were rolled back with the failure
    assert ledger == ["20260101000000_create_tags"]


# ---------------------------------------------------------------- the public API


def test_a_driver_written_for_another_api_version_is_one_clear_error(make_project: Any) -> None:
    p = make_project(extra_config='plugins = ["old:OldDriver"]')
    (p.root / "old.py").write_text(
        "from modelmig_core.api import DriverInfo\n"
        "from modelmig_sqlite.driver import SqliteDriver\n\n\n"
        "class OldDriver(SqliteDriver):\n"
        '    info = DriverInfo("olddb", ("olddb",), "sql")\n'
        "    api_version = 0\n"
    )
    p.models(TWO_STEPS)
    result = p.run("migrate:status")
    assert result.exit_code != 0
    assert result.output.count("\n") == 1 and "driver 'olddb'" in result.output and "API version 0" in result.output


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


def test_drivers_and_plugins_use_only_the_public_api() -> None:
    """Outside the core, modelmig_core is reached only through modelmig_core.api
    and modelmig_core.api_sql (the public helpers of SQL drivers), and the model
    DSL in modelmig_core itself."""
    sources = [p for folder in ("drivers", "plugins") for p in (ROOT / folder).glob("*/*/*.py")]
    assert len(sources) >= 10
    offenders = {
        f"{src.relative_to(ROOT)}: {module}"
        for src in sources
        for module in imports_of(src)
        if module.startswith("modelmig_core")
        and module not in ("modelmig_core", "modelmig_core.api", "modelmig_core.api_sql")
    }
    assert offenders == set()


def test_the_core_holds_no_document_store_vocabulary() -> None:
    words = re.compile(r"bsonType|\$jsonSchema|collMod|class Collection|CollectionIndex|DropCollection")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in (ROOT / "modelmig_core").rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if words.search(line)
    ]
    assert found == []


def readme_block(heading: str) -> str:
    text = (ROOT / "docs" / "python-api.md").read_text()  # the guide's page of the Python API
    section = text.split(f"## {heading}\n", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_sample_of_the_python_api_runs(make_project: Any) -> None:
    import subprocess

    p = make_project()
    p.models(TWO_STEPS)
    p.ok("make:migration")
    result = subprocess.run(
        [sys.executable, "-c", readme_block("Migrating from Python")], cwd=p.root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "main: 1 migration(s) applied",
        "main [('20260101000000_create_tags_table', 'applied')]",
    ]


FIVE_TABLES = "".join(
    f'\nclass T{i}(Model):\n    table = "t{i}"\n    schema = {{"id": column("increments"), "name": column("string", 50, index=True)}}\n'
    for i in range(5)
)


def test_postgresql_gets_a_migrations_statements_in_one_round_trip(
    make_project: Any, pg_db: ServerDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelmig_pg.driver import PgSession

    sent: list[str] = []
    real = PgSession._execute

    def spy(self: PgSession, sql: str, params: Any = None) -> Any:
        sent.append(sql)
        return real(self, sql, params)

    monkeypatch.setattr(PgSession, "_execute", spy)
    p = make_project({"main": {"url": pg_db.url}})
    p.models(FIVE_TABLES)
    p.ok("make:migration")
    p.ok("migrate:run")
    ddl = [sql for sql in sent if "CREATE TABLE" in sql and "modelmig_migrations" not in sql]
    assert len(ddl) == 1 and ddl[0].count("CREATE TABLE") == 5 and ddl[0].count("CREATE INDEX") == 5
    assert len(pg_db.rows("SELECT tablename FROM pg_tables WHERE tablename LIKE 't_'")) == 5
    # a failure in the batch still rolls the whole migration back, and says so
    p.models(FIVE_TABLES + '\nclass T9(Model):\n    table = "t9"\n    schema = {"id": column("increments")}\n')
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    pg_db.execute("CREATE TABLE t9 (id int)")
    failed = p.run("migrate:run")
    assert failed.exit_code != 0 and "already exists" in failed.output and "rolled back" in failed.output


def test_postgresql_sends_long_migrations_in_batches_while_the_rest_renders(
    make_project: Any, pg_db: ServerDb, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every ``overlap_every`` statements the batch so far goes to the server from a
    background thread, inside the migration's transaction, while the next are
    rendered. A failing batch rolls the whole migration back and nothing after it
    is sent."""
    import threading

    from modelmig_pg.driver import PgSession

    from modelmig_core.sql.render import Renderer

    monkeypatch.setattr(PgSession, "overlap_every", 3)
    rendered: list[int] = [0]
    sent: list[tuple[str, int, bool]] = []  # (sql, steps rendered by then, from the main thread)
    real_render, real_execute = Renderer.statements, PgSession._execute

    def render(self: Renderer, step: Any, facts: Any = None) -> list[str]:
        out = real_render(self, step, facts)
        rendered[0] += 1
        return out

    def execute(self: PgSession, sql: str, params: Any = None) -> Any:
        sent.append((sql, rendered[0], threading.current_thread() is threading.main_thread()))
        return real_execute(self, sql, params)

    monkeypatch.setattr(Renderer, "statements", render)
    monkeypatch.setattr(PgSession, "_execute", execute)
    p = make_project({"main": {"url": pg_db.url}})
    p.models(FIVE_TABLES)
    p.ok("make:migration")
    p.ok("migrate:run")
    ddl = [(sql, done, main) for sql, done, main in sent if "CREATE" in sql and "modelmig_migrations" not in sql]
    assert [sql.count("CREATE ") for sql, _, _ in ddl] == [3, 3, 3, 1]  # 5 tables + 5 indexes, 3 at a time
    assert ddl[0][1] < 5 and not ddl[0][2]  # the first batch left while tables were still being rendered
    assert len(pg_db.rows("SELECT tablename FROM pg_tables WHERE tablename LIKE 't_'")) == 5

    # t7 of t6..t8 exists already: the batch that creates it fails, the next is never sent
    more = "".join(
        f'\nclass T{i}(Model):\n    table = "t{i}"\n    schema = {{"id": column("increments"), '
        f'"name": column("string", 50, index=True)}}\n'
        for i in (6, 7, 8)
    )
    p.models(FIVE_TABLES + more)
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    pg_db.execute("CREATE TABLE t7 (id int)")
    sent.clear()
    failed = p.run("migrate:run")
    assert failed.exit_code != 0 and "already exists" in failed.output and "rolled back" in failed.output
    assert not any("t8" in sql for sql, _, _ in sent if "CREATE TABLE" in sql)  # nothing after the failure
    assert pg_db.rows("SELECT tablename FROM pg_tables WHERE tablename IN ('t6', 't8')") == []
    assert len(pg_db.rows("SELECT id FROM modelmig_migrations")) == 1

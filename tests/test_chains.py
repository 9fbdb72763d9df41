"""Several chains in one project (``[chains.<name>]``): a blog on SQLite or
PostgreSQL with foreign keys (ON DELETE CASCADE) and unique keys, beside an
analytics chain on DuckDB, whose driver has no ON DELETE actions. Each chain is
made from its own models into its own folder, refused only by its own
connections, run, reported and compared on its own connections; a bad chain
config is one error line, with no file written and no database touched; a
project without ``chains`` keeps its folders, files and ledger rows."""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmig_core.config import CHAIN_NAME_RE, load_config
from modelmig_core.errors import ConfigError
from tests.conftest import NOW, Project
from tests.support.servers import ServerDb

ROOT = Path(__file__).resolve().parent.parent

BLOG = """
from modelmig_core import Model, column, foreign_key, unique


class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 200)}
    database = {"unique": [unique(["email"], name="uq_users_email")]}


class Post(Model):
    table = "posts"
    schema = {"id": column("increments"), "user_id": column("integer"), "title": column("string", 200)}
    database = {"foreign_keys": [foreign_key(["user_id"], "users", ["id"], name="fk_posts_user", on_delete="cascade")]}
"""

ANALYTICS = """
from modelmig_core import Model, column


class PageView(Model):
    table = "page_views"
    schema = {"id": column("increments"), "path": column("string", 500), "seen_at": column("timestamp")}
"""

CHAIN = """
[tool.modelmig.chains.analytics]
models = ["analytics.models"]
connections = ["warehouse"]
"""


def config_text(main_url: str, warehouse_url: str | None, chains: str = CHAIN, models: str = '["blog.models"]') -> str:
    text = f'[tool.modelmig]\nmodels = {models}\ndefault = "main"\n'
    text += f"[tool.modelmig.connections.main]\nurl = {json.dumps(main_url)}\n"
    if warehouse_url is not None:
        text += f"[tool.modelmig.connections.warehouse]\nurl = {json.dumps(warehouse_url)}\n"
    return text + chains


def project(root: Path, main_url: str, warehouse_url: str | None = None, chains: str = CHAIN, **kw: Any) -> Project:
    root.mkdir(parents=True, exist_ok=True)
    for package, source in (("blog", BLOG), ("analytics", ANALYTICS)):
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").write_text("")
        (root / package / "models.py").write_text(source.lstrip())
    (root / "pyproject.toml").write_text(config_text(main_url, warehouse_url, chains, **kw))
    return Project(root, {})


def files(p: Project, chain: str) -> list[Path]:
    folder = p.root / "migrations" / chain
    return sorted(folder.glob("*.py")) if folder.is_dir() else []


def tables_in(path: Path) -> set[str]:
    """The tables a migration file's operations name (its source parsed, never run)."""
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Table" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant):
                names.add(first.value)
    return names


def duck_tables(path: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        return {name for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    finally:
        con.close()


def inspect_main(db: ServerDb) -> dict[str, Any]:
    """The blog's live tables, foreign keys and unique keys (SQLAlchemy's inspector)."""
    import sqlalchemy as sa

    engine = db.engine()
    try:
        inspector = sa.inspect(engine)
        tables = set(inspector.get_table_names())
        fks = inspector.get_foreign_keys("posts") if "posts" in tables else []
        uniques = inspector.get_unique_constraints("users") if "users" in tables else []
        indexes = inspector.get_indexes("users") if "users" in tables else []
    finally:
        engine.dispose()
    unique_columns = [u["column_names"] for u in uniques] + [i["column_names"] for i in indexes if i.get("unique")]
    return {"tables": tables, "fks": fks, "unique_columns": unique_columns}


@pytest.fixture(params=["sqlite", "pg"])
def main_db(request: pytest.FixtureRequest) -> ServerDb:
    return request.getfixturevalue(f"{request.param}_db")


# ---------------------------------------------------------------- the two-chain lifecycle


def test_two_chains_make_run_status_drift_rollback(tmp_path: Path, main_db: ServerDb, duckdb_db: ServerDb) -> None:
    p = project(tmp_path / "app", main_db.url, duckdb_db.url)
    made = p.ok("make:migration").output
    (sql_file,) = files(p, "sql")
    (analytics_file,) = files(p, "analytics")
    assert f"Created migrations/sql/{sql_file.name} (2 operation(s))" in made
    assert f"Created migrations/analytics/{analytics_file.name} (1 operation(s))" in made
    # each chain's files hold its own models only
    assert tables_in(sql_file) == {"users", "posts"}
    assert tables_in(analytics_file) == {"page_views"}
    assert 'on_delete="CASCADE"' in sql_file.read_text()  # the main chain keeps its ON DELETE action
    assert p.ok("make:migration").output.strip() == "No changes: the models match the migrations."
    assert p.ok("make:migration", "--check").output.strip() == "models and migrations agree"

    p.ok("migrate:run", "--all-connections", "--jobs", "2")
    live = inspect_main(main_db)
    assert {"users", "posts"} <= live["tables"] and "page_views" not in live["tables"]
    (fk,) = live["fks"]
    assert fk["referred_table"] == "users" and fk["options"].get("ondelete", "").upper() == "CASCADE"
    assert ["email"] in live["unique_columns"]
    assert "page_views" in duck_tables(Path(duckdb_db.name))
    assert not {"users", "posts"} & duck_tables(Path(duckdb_db.name))

    status = json.loads(p.ok("migrate:status", "--all-connections", "--json").output)
    by_name = {c["connection"]: c for c in status["connections"]}
    assert by_name["main"]["chain"] == "sql" and by_name["warehouse"]["chain"] == "analytics"
    assert [(m["id"], m["status"]) for m in by_name["main"]["migrations"]] == [(sql_file.stem, "applied")]
    assert [(m["id"], m["status"]) for m in by_name["warehouse"]["migrations"]] == [(analytics_file.stem, "applied")]

    drift = p.run("migrate:status", "--all-connections", "--drift", "--json")
    assert drift.exit_code == 0, drift.output
    report = json.loads(drift.output)
    assert report["drift"] is False and [c["drift"] for c in report["connections"]] == [[], []]

    # a rollback of the analytics chain leaves the blog alone
    p.ok("migrate:rollback", "--connection", "warehouse")
    assert "page_views" not in duck_tables(Path(duckdb_db.name))
    assert {"users", "posts"} <= inspect_main(main_db)["tables"]
    status = json.loads(p.ok("migrate:status", "--all-connections", "--json").output)
    assert [[m["status"] for m in c["migrations"]] for c in status["connections"]] == [["applied"], ["pending"]]
    # and of both at once
    p.ok("migrate:run", "--connection", "warehouse")
    p.ok("migrate:rollback", "--all-connections", "--jobs", "2")
    assert not {"users", "posts"} & inspect_main(main_db)["tables"]
    assert "page_views" not in duck_tables(Path(duckdb_db.name))
    # fresh and reset run each connection's own chain
    p.ok("migrate:fresh", "--all-connections", "--yes")
    assert {"users", "posts"} <= inspect_main(main_db)["tables"]
    assert "page_views" in duck_tables(Path(duckdb_db.name))
    p.ok("migrate:reset", "--all-connections", "--yes", "--jobs", "2")
    assert not {"users", "posts", "page_views"} & (inspect_main(main_db)["tables"] | duck_tables(Path(duckdb_db.name)))


def test_a_model_change_of_one_chain_writes_that_chain_only(
    tmp_path: Path, sqlite_db: ServerDb, duckdb_db: ServerDb
) -> None:
    p = project(tmp_path / "app", sqlite_db.url, duckdb_db.url)
    p.ok("make:migration")
    p.ok("migrate:run", "--all-connections")
    source = (p.root / "analytics" / "models.py").read_text()
    (p.root / "analytics" / "models.py").write_text(
        source.replace('"seen_at"', '"referrer": column("string", 500, nullable=True), "seen_at"')
    )
    check = p.run("make:migration", "--check")
    assert check.exit_code == 1
    assert check.output == "analytics: models and migrations differ: add referrer to page_views\n"
    made = p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"}).output
    assert len(files(p, "sql")) == 1 and len(files(p, "analytics")) == 2
    assert "migrations/analytics/20260102000000_" in made and "migrations/sql" not in made
    p.ok("migrate:run", "--all-connections")
    status = json.loads(p.ok("migrate:status", "--all-connections", "--json").output)
    assert [len(c["migrations"]) for c in status["connections"]] == [1, 2]
    assert p.run("migrate:status", "--all-connections", "--drift").exit_code == 0


def test_a_fleet_across_chains_with_jobs(tmp_path: Path) -> None:
    """Two SQLite databases in the default chain and two DuckDB files in the
    analytics chain, three at a time: each runs its own chain (the chain is
    replayed once per chain, not once per family)."""
    chains = CHAIN.replace('["warehouse"]', '["warehouse", "warehouse2"]')
    p = project(tmp_path / "app", "sqlite:///a.sqlite3", "duckdb:///w1.duckdb", chains)
    with (p.root / "pyproject.toml").open("a") as f:
        f.write('[tool.modelmig.connections.main2]\nurl = "sqlite:///b.sqlite3"\n')
        f.write('[tool.modelmig.connections.warehouse2]\nurl = "duckdb:///w2.duckdb"\n')
    p.ok("make:migration")
    (sql_file,) = files(p, "sql")
    (analytics_file,) = files(p, "analytics")
    p.ok("migrate:run", "--all-connections", "--jobs", "3")
    status = json.loads(p.ok("migrate:status", "--all-connections", "--json").output)
    got = {c["connection"]: (c["chain"], [m["id"] for m in c["migrations"]]) for c in status["connections"]}
    assert got == {
        "main": ("sql", [sql_file.stem]),
        "main2": ("sql", [sql_file.stem]),
        "warehouse": ("analytics", [analytics_file.stem]),
        "warehouse2": ("analytics", [analytics_file.stem]),
    }
    for name in ("w1.duckdb", "w2.duckdb"):
        assert "page_views" in duck_tables(p.root / name)
    for name in ("a.sqlite3", "b.sqlite3"):
        with sqlite3.connect(p.root / name) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"users", "posts"} <= tables and "page_views" not in tables


# ---------------------------------------------------------------- refusals per chain


def test_without_chains_duckdb_forces_the_blog_to_give_up_cascade_and_a_chain_lifts_it(
    tmp_path: Path, sqlite_db: ServerDb, duckdb_db: ServerDb
) -> None:
    one = project(
        tmp_path / "one", sqlite_db.url, duckdb_db.url, chains="", models='["blog.models", "analytics.models"]'
    )
    refused = one.sh("make:migration")
    assert refused.returncode != 0
    assert "connection 'warehouse' (driver duckdb) cannot run it (fk_actions=False)" in refused.stderr
    assert not (one.root / "migrations").exists()

    two = project(tmp_path / "two", sqlite_db.url, duckdb_db.url)
    two.ok("make:migration")
    assert 'on_delete="CASCADE"' in files(two, "sql")[0].read_text()


def test_refusals_are_computed_per_chain(tmp_path: Path, sqlite_db: ServerDb, duckdb_db: ServerDb) -> None:
    """An ON DELETE action in the analytics chain is refused for its DuckDB
    connection, naming it; the blog's cascade on SQLite is not; nothing is written."""
    p = project(tmp_path / "app", sqlite_db.url, duckdb_db.url)
    (p.root / "analytics" / "models.py").write_text(
        ANALYTICS.lstrip().replace("import Model, column", "import Model, column, foreign_key")
        + textwrap.dedent("""

        class Visit(Model):
            table = "visits"
            schema = {"id": column("increments"), "view_id": column("integer")}
            database = {"foreign_keys": [
                foreign_key(["view_id"], "page_views", ["id"], name="fk_visits_view", on_delete="cascade")
            ]}
        """)
    )
    result = p.sh("make:migration")
    assert result.returncode != 0 and result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert lines and all("'warehouse'" in line for line in lines if "refusal(s)" not in line)
    assert any("create visits table" in line and "fk_actions=False" in line for line in lines)
    assert not any("'main'" in line for line in lines)
    assert not (p.root / "migrations").exists()


# ---------------------------------------------------------------- make:models, baseline, --empty


def test_make_models_and_baseline_for_a_connection_of_a_chain(tmp_path: Path, duckdb_db: ServerDb) -> None:
    import duckdb

    p = project(tmp_path / "app", "sqlite:///blog.sqlite3", duckdb_db.url)
    p.ok("make:migration")
    (analytics_file,) = files(p, "analytics")
    p.ok("migrate:run", "--connection", "warehouse")
    con = duckdb.connect(duckdb_db.name)
    con.execute("DELETE FROM modelmig_migrations")  # an existing analytics database, never migrated
    con.close()
    assert json.loads(p.ok("migrate:status", "--connection", "warehouse", "--json").output)["connections"][0][
        "migrations"
    ] == [{"id": analytics_file.stem, "status": "pending", "batch": None, "applied_at": None, "duration_ms": None}]
    marked = p.ok("migrate:baseline", "--connection", "warehouse").output
    assert f"warehouse: marked {analytics_file.stem} as applied" in marked
    assert not (p.root / "blog.sqlite3").exists()  # the other chain's database was never touched
    # make:models writes the chain's own models module
    blog_before = (p.root / "blog" / "models.py").read_bytes()
    p.ok("make:models", "--connection", "warehouse", "--force")
    assert (p.root / "blog" / "models.py").read_bytes() == blog_before
    written = (p.root / "analytics" / "models.py").read_text()
    assert 'table = "page_views"' in written and "users" not in written


def test_an_empty_migration_in_a_declared_chain(tmp_path: Path) -> None:
    p = project(tmp_path / "app", "sqlite:///blog.sqlite3", "duckdb:///w.duckdb")
    p.ok("make:migration")
    p.ok("make:migration", "--empty", "--name", "backfill", "--chain", "analytics")
    assert [f.name for f in files(p, "analytics")][-1] == "20260101000001_backfill.py"
    assert len(files(p, "sql")) == 1
    bad = p.run("make:migration", "--empty", "--name", "x", "--chain", "nope")
    assert bad.exit_code != 0 and "no chain 'nope' is configured (chains: analytics)" in bad.output
    p.ok("migrate:run", "--all-connections")
    assert "page_views" in duck_tables(p.root / "w.duckdb")


def test_a_model_imported_into_two_chains_is_one_error(tmp_path: Path) -> None:
    p = project(tmp_path / "app", "sqlite:///blog.sqlite3", "duckdb:///w.duckdb")
    (p.root / "common.py").write_text(
        "from modelmig_core import Model, column\n\n\nclass Tag(Model):\n"
        '    table = "tags"\n    schema = {"id": column("increments")}\n'
    )
    for module in ("blog", "analytics"):
        with (p.root / module / "models.py").open("a") as f:
            f.write("\nfrom common import Tag  # noqa: E402\n")
    result = p.sh("make:migration")
    assert result.returncode != 0 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "model Tag" in line and "chains.analytics" in line and "a model belongs to one chain" in line
    assert not (p.root / "migrations").exists()


# ---------------------------------------------------------------- bad chain configs

GOOD = CHAIN

BAD = {
    "unknown connection": (
        GOOD.replace('["warehouse"]', '["nope"]'),
        "chains.analytics: connections: unknown connection 'nope'",
    ),
    "connection in two chains": (
        GOOD + '[tool.modelmig.chains.more]\nmodels = ["more"]\nconnections = ["warehouse"]\n',
        "chains.more: connections: 'warehouse' is in chains.analytics too",
    ),
    "model in two chains": (
        GOOD + '[tool.modelmig.chains.more]\nmodels = ["analytics"]\nconnections = ["main"]\n',
        "chains.more: models: module 'analytics' is also in chains.analytics",
    ),
    "model in a chain and the top-level models": (
        GOOD.replace('["analytics.models"]', '["blog.models"]'),
        "chains.analytics: models: module 'blog.models' is also in the top-level 'models'",
    ),
    "a connection of another family": (
        GOOD + 'family = "document"\n',
        "chains.analytics: connection 'warehouse' is of the 'sql' family, but the chain's family is 'document'",
    ),
    "connections of two families": (
        GOOD.replace('["warehouse"]', '["warehouse", "docs"]')
        + '[tool.modelmig.connections.docs]\nurl = "mongodb://127.0.0.1:1/docs"\n',
        "chains.analytics: its connections are of different families",
    ),
    "the folder of the default chain in use": (
        GOOD.replace("chains.analytics", "chains.sql"),
        "chains.sql: its folder",
    ),
    "a path as a chain name": (
        GOOD.replace("chains.analytics", 'chains."../../evil"'),
        "chains.'../../evil': a chain's name",
    ),
    "a control character in a chain name": (
        GOOD.replace("chains.analytics", 'chains."a\\u001b[31mb"'),
        "chains.'a\\x1b[31mb': a chain's name",
    ),
    "an absolute folder": (GOOD + 'folder = "/tmp/evil"\n', "chains.analytics: 'folder' must be a relative path"),
    "a folder outside the project": (
        GOOD + 'folder = "../evil"\n',
        "chains.analytics: 'folder' must be a relative path",
    ),
    "the migrations folder as a chain folder": (GOOD + 'folder = "migrations"\n', "holds the migrations folder itself"),
    "the same database in two chains": (None, "connections 'main' and 'warehouse' are in two chains but have the same"),
    "an unknown key": (GOOD + 'modles = ["x"]\n', "chains.analytics: unknown key 'modles'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_chain_config_is_one_error_line_and_changes_nothing(tmp_path: Path, case: str) -> None:
    chains, expected = BAD[case]
    if chains is None:
        p = project(tmp_path / "app", "sqlite:///same.sqlite3", "sqlite:///same.sqlite3")
    else:
        p = project(tmp_path / "app", "sqlite:///blog.sqlite3", "duckdb:///w.duckdb", chains)
    config = p.root / "pyproject.toml"
    for args in (
        ["make:migration"],
        ["make:migration", "--empty", "--name", "backfill"],  # no chain resolved by it: refused at load
        ["migrate:run", "--all-connections"],
        ["migrate:status", "--all-connections"],
    ):
        result = p.sh(*args)
        assert result.returncode != 0, (args, result.stdout, result.stderr)
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: {config}: "), line
        assert expected in line, line
    assert sorted(x.name for x in p.root.iterdir()) == ["analytics", "blog", "pyproject.toml"]  # no file, no database


def toml_string(text: str) -> str:
    """``text`` as a TOML basic string: quotes, backslashes and control characters escaped."""
    escaped = "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F or c in '"\\' else c for c in text)
    return f'"{escaped}"'


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.text(min_size=1, max_size=20), folder=st.one_of(st.none(), st.text(min_size=1, max_size=30)))
def test_any_chain_name_or_folder_is_a_folder_inside_the_project_or_one_error_line(
    name: str, folder: str | None
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp).resolve()
        chain = (
            f'[tool.modelmig.chains.{toml_string(name)}]\nmodels = ["analytics.models"]\nconnections = ["warehouse"]\n'
        )
        if folder is not None:
            chain += f"folder = {toml_string(folder)}\n"
        (root / "pyproject.toml").write_text(config_text("sqlite:///blog.sqlite3", "duckdb:///w.duckdb", chain))
        try:
            config = load_config(root / "pyproject.toml")
        except ConfigError as exc:
            message = str(exc)
            assert "\n" not in message and "\r" not in message and "\x1b" not in message
            assert message.startswith(f"{root / 'pyproject.toml'}: chains.")
            return
        assert CHAIN_NAME_RE.fullmatch(name)
        (declared,) = config.chains.values()
        assert declared.name == name
        assert root in declared.folder.parents and ".." not in declared.folder.relative_to(root).parts
        assert declared.folder != config.migrations and declared.folder not in config.migrations.parents
        if folder is None:
            assert declared.folder == config.migrations / name
        assert list(root.iterdir()) == [root / "pyproject.toml"]  # loading wrote nothing


# ---------------------------------------------------------------- a project without chains


def test_a_project_without_chains_keeps_its_folder_files_and_ledger_rows(tmp_path: Path) -> None:
    """The sql chain stays in migrations/sql with the same bytes, and the ledger
    rows a run wrote before chains existed in the config stay as they were, read
    as applied, when an analytics chain is added beside it."""
    plain = project(tmp_path / "plain", "sqlite:///blog.sqlite3", None, chains="")
    plain.ok("make:migration")
    (sql_file,) = files(plain, "sql")
    assert sorted(p.name for p in (plain.root / "migrations").iterdir() if not p.name.startswith(".")) == ["sql"]
    source = sql_file.read_bytes()
    assert b"\nfamily = 'sql'\nparent = None\n" in source
    plain.ok("migrate:run")
    db = plain.root / "blog.sqlite3"

    def ledger() -> list[tuple[Any, ...]]:
        with sqlite3.connect(db) as con:
            return con.execute("SELECT * FROM modelmig_migrations ORDER BY id").fetchall()

    with sqlite3.connect(db) as con:
        (ddl,) = con.execute("SELECT sql FROM sqlite_master WHERE name = 'modelmig_migrations'").fetchone()
    assert ddl == (
        "CREATE TABLE modelmig_migrations (id VARCHAR(255) NOT NULL PRIMARY KEY, batch INTEGER NOT NULL, "
        "checksum VARCHAR(64) NOT NULL, applied_at VARCHAR(40) NOT NULL, duration_ms INTEGER NOT NULL DEFAULT 0, "
        "status VARCHAR(16) NOT NULL DEFAULT 'applied', progress INTEGER NOT NULL DEFAULT 0)"
    )
    rows = ledger()
    assert [(r[0], r[1], r[2], r[5]) for r in rows] == [
        (sql_file.stem, 1, hashlib.sha256(source).hexdigest(), "applied")
    ]

    # the same models in a project with a chain beside them: the same file, byte for byte
    chained = project(tmp_path / "chained", "sqlite:///blog.sqlite3", "duckdb:///w.duckdb")
    chained.ok("make:migration")
    (twin,) = files(chained, "sql")
    assert (twin.name, twin.read_bytes()) == (sql_file.name, source)

    # an analytics chain added to the first project: its sql files and ledger rows stay
    (plain.root / "pyproject.toml").write_text(config_text("sqlite:///blog.sqlite3", "duckdb:///w.duckdb"))
    made = plain.ok("make:migration").output
    assert "migrations/analytics/" in made and "migrations/sql" not in made
    assert files(plain, "sql") == [sql_file] and sql_file.read_bytes() == source
    run = plain.ok("migrate:run", "--all-connections").output
    assert "main (chain sql): nothing to migrate" in run  # a project with chains names each line's chain
    assert ledger() == rows
    status = json.loads(plain.ok("migrate:status", "--connection", "main", "--json").output)
    assert [(m["id"], m["status"]) for m in status["connections"][0]["migrations"]] == [(sql_file.stem, "applied")]


# ---------------------------------------------------------------- the README's example, as written


#: the two-chain example, as the guide's configuration page and the driver guide each give it
EXAMPLES = {
    "configuration": ("docs/configuration.md", "## Several chains in one project\n"),
    "guide": ("docs/writing-a-driver.md", "## Beside the main database: a chain of its own\n"),
}


def example_section(document: str) -> str:
    path, heading = EXAMPLES[document]
    text = (ROOT / path).read_text()
    return text.split(heading, 1)[1].split("\n## ", 1)[0]


def blocks(section: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


@pytest.mark.parametrize("document", sorted(EXAMPLES))
def test_the_two_chain_example_runs_as_written(tmp_path: Path, document: str) -> None:
    section = example_section(document)
    root = tmp_path / "app"
    root.mkdir()
    (toml,) = blocks(section, "toml")
    (root / "pyproject.toml").write_text(toml)
    for source in blocks(section, "python"):
        first, _, body = source.partition("\n")
        path = root / first.removeprefix("# ").strip()
        path.parent.mkdir(parents=True, exist_ok=True)
        (path.parent / "__init__.py").touch()
        path.write_text(body)
    (commands,) = blocks(section, "bash")
    (expected,) = blocks(section, "text")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", "MODELMIG_NOW": NOW}
    outputs = []
    for line in commands.splitlines():
        command = line.split("  #", 1)[0].strip()
        result = subprocess.run(["bash", "-c", command], cwd=root, env=env, capture_output=True, text=True)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
        outputs.append(result.stdout)
    assert outputs[0] == expected
    assert "fk_posts_user" in (root / "migrations" / "sql").joinpath(outputs[0].split()[1].split("/")[-1]).read_text()
    # the rollback undid the analytics chain only
    assert "page_views" not in duck_tables(root / "warehouse.duckdb")
    with sqlite3.connect(root / "blog.sqlite3") as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"users", "posts"} <= tables


def test_a_chain_removed_from_the_config_with_its_folder_left_is_one_error(tmp_path: Path) -> None:
    p = project(tmp_path / "app", "sqlite:///blog.sqlite3", "duckdb:///w.duckdb")
    p.ok("make:migration")
    other = CHAIN.replace("analytics]", "reports]").replace('["analytics.models"]', '["reports"]')
    (p.root / "reports.py").write_text(ANALYTICS.lstrip().replace("page_views", "reports"))
    (p.root / "pyproject.toml").write_text(config_text("sqlite:///blog.sqlite3", "duckdb:///w.duckdb", other))
    before = sorted(x.relative_to(p.root) for x in p.root.rglob("*") if "__pycache__" not in x.parts)
    result = p.sh("make:migration")
    assert result.returncode != 0 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert "folder 'analytics' holds migration files but is no chain of" in line
    assert sorted(x.relative_to(p.root) for x in p.root.rglob("*") if "__pycache__" not in x.parts) == before


def test_every_model_in_a_chain_of_its_own_with_a_folder_of_its_own(tmp_path: Path) -> None:
    """No top-level models: the blog is a declared chain too, and the analytics
    chain keeps its files in db/analytics (a modelmig.toml, keys at top level)."""
    p = project(tmp_path / "app", "sqlite:///blog.sqlite3", "duckdb:///w.duckdb")
    (p.root / "pyproject.toml").unlink()
    (p.root / "modelmig.toml").write_text(
        'default = "main"\n'
        '[connections.main]\nurl = "sqlite:///blog.sqlite3"\n'
        '[connections.warehouse]\nurl = "duckdb:///w.duckdb"\n'
        '[chains.blog]\nmodels = ["blog.models"]\nconnections = ["main"]\n'
        '[chains.analytics]\nmodels = ["analytics.models"]\nconnections = ["warehouse"]\nfolder = "db/analytics"\n'
    )
    made = p.ok("make:migration").output.splitlines()
    assert made == [
        "Created db/analytics/20260101000000_create_page_views_table.py (1 operation(s))",
        "Created migrations/blog/20260101000000_create_users_posts_tables.py (2 operation(s))",
    ]
    assert sorted(x.name for x in (p.root / "migrations").iterdir() if not x.name.startswith(".")) == ["blog"]
    p.ok("migrate:run", "--all-connections")
    status = json.loads(p.ok("migrate:status", "--all-connections", "--json").output)
    assert [(c["connection"], c["chain"]) for c in status["connections"]] == [
        ("main", "blog"),
        ("warehouse", "analytics"),
    ]
    assert p.run("migrate:status", "--all-connections", "--drift").exit_code == 0
    assert p.ok("make:migration").output.strip() == "No changes: the models match the migrations."


# ---------------------------------------------------------------- the chain, named wherever a connection is

AUDIT = """
import json
import os

from modelmig_core.api import hookimpl


@hookimpl
def record_state(migration, direction, context):
    with open(os.environ["CHAIN_LOG"], "a") as log:
        log.write(json.dumps([context.connection, context.chain, migration.id, direction]) + "\\n")
"""


def test_hooks_results_events_and_text_name_each_connections_chain(tmp_path: Path) -> None:
    """A hook's ``context.chain``, ``--json`` results, the Python API's results and
    events, and every text line of a project with chains name the chain; a project
    without chains says ``sql`` in its values and prints what it always printed."""
    from modelmig_core import commands

    p = project(tmp_path / "app", "sqlite:///blog.sqlite3", "duckdb:///w.duckdb")
    config = p.root / "pyproject.toml"
    config.write_text(
        config.read_text().replace('default = "main"\n', 'default = "main"\nplugins = ["chain_audit"]\n', 1)
    )
    (p.root / "chain_audit.py").write_text(AUDIT)
    log = tmp_path / "chains.jsonl"
    p.ok("make:migration")
    ((blog_id,), (views_id,)) = ([f.stem for f in files(p, chain)] for chain in ("sql", "analytics"))
    ran = p.sh("migrate:run", "--all-connections", "--json", env={"CHAIN_LOG": str(log)})
    assert ran.returncode == 0, ran.stderr
    document = json.loads(ran.stdout)
    assert [(c["connection"], c["chain"], [m["id"] for m in c["applied"]]) for c in document["connections"]] == [
        ("main", "sql", [blog_id]),
        ("warehouse", "analytics", [views_id]),
    ]
    # progress on stderr: every line names its connection's chain
    assert f"main (chain sql): applied {blog_id}" in ran.stderr
    assert f"warehouse (chain analytics): applied {views_id}" in ran.stderr
    hooks = [json.loads(line) for line in log.read_text().splitlines()]
    assert hooks == [["main", "sql", blog_id, "up"], ["warehouse", "analytics", views_id, "up"]]
    status = p.ok("migrate:status", "--all-connections").output
    assert "main (chain sql) [sqlite sqlite:///blog.sqlite3]" in status
    assert "warehouse (chain analytics) [duckdb duckdb:///w.duckdb]" in status

    # the Python API: results and events carry the chain too
    events: list[Any] = []
    cwd = os.getcwd()
    os.environ["CHAIN_LOG"] = str(log)
    try:
        api_project = commands.open_project(p.root / "pyproject.toml")
        results = commands.rollback(api_project, all_connections=True, on_event=events.append)
        statuses = commands.status(api_project, all_connections=True)
    finally:
        os.chdir(cwd)
        os.environ.pop("CHAIN_LOG")
    assert [(r.connection, r.chain, r.count) for r in results] == [("main", "sql", 1), ("warehouse", "analytics", 1)]
    assert [(s.connection, s.chain) for s in statuses] == [("main", "sql"), ("warehouse", "analytics")]
    assert events and {(e.connection, e.chain) for e in events} == {("main", "sql"), ("warehouse", "analytics")}
    assert {type(e).__name__ for e in events} >= {"ConnectionStarted", "MigrationApplied", "ConnectionFinished"}
    hooks = [json.loads(line) for line in log.read_text().splitlines()][2:]
    assert hooks == [["main", "sql", blog_id, "down"], ["warehouse", "analytics", views_id, "down"]]

    # without chains: the default chain's name in the values, the text as it always was
    plain = project(tmp_path / "plain", "sqlite:///blog.sqlite3", None, chains="")
    plain.ok("make:migration")
    ran = plain.sh("migrate:run", "--json")
    assert ran.returncode == 0, ran.stderr
    assert [c["chain"] for c in json.loads(ran.stdout)["connections"]] == ["sql"]
    assert "main: applied " in ran.stderr and "chain" not in ran.stderr


# ---------------------------------------------------------------- a connection moved into a declared chain


def test_a_connection_moved_into_a_declared_chain_with_its_ledger_is_named_never_reapplied(tmp_path: Path) -> None:
    """``warehouse`` ran the default sql chain; then the config puts it in chain
    ``analytics``. Its ledger rows are not "missing" rows and a chain to apply from
    scratch: status says in one line what happened and what to do, migrate:run
    refuses it with that line (the ledger and the tables untouched), the other
    connection still runs; taken back out of the chain, it is as it was."""
    plain = config_text("sqlite:///blog.sqlite3", "sqlite:///warehouse.sqlite3", chains="")
    p = project(tmp_path / "app", "sqlite:///blog.sqlite3", "sqlite:///warehouse.sqlite3", chains="")
    p.ok("make:migration")
    (blog_id,) = [f.stem for f in files(p, "sql")]
    p.ok("migrate:run", "--all-connections")
    db = p.root / "warehouse.sqlite3"

    def snapshot() -> tuple[list[Any], set[str]]:
        with sqlite3.connect(db) as con:
            rows = con.execute("SELECT id, batch, checksum, status FROM modelmig_migrations").fetchall()
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return rows, tables

    before = snapshot()
    (p.root / "pyproject.toml").write_text(plain + CHAIN)  # warehouse moves into chain analytics
    p.ok("make:migration")
    (views_id,) = [f.stem for f in files(p, "analytics")]
    moved = (
        f"warehouse (chain analytics): its ledger lists 1 migration(s) of the default sql chain "
        f"(migrations/sql: {blog_id}), but the connection is now in chain 'analytics': it was moved there with its "
        "database; run `modelmig migrate:baseline --connection warehouse` once its schema is what chain "
        "'analytics''s migrations make, or keep it in the default chain (take 'warehouse' out of "
        "chains.analytics.connections)"
    )
    status = p.sh("migrate:status", "--connection", "warehouse", "--json")
    assert status.returncode == 0, status.stderr
    assert status.stderr.splitlines() == [f"warning: {moved}"]
    (conn,) = json.loads(status.stdout)["connections"]
    assert conn["chain"] == "analytics"
    assert sorted((m["id"], m["status"]) for m in conn["migrations"]) == sorted(
        [(blog_id, "missing"), (views_id, "pending")]
    )

    ran = p.sh("migrate:run", "--connection", "warehouse")
    assert ran.returncode != 0 and ran.stdout == ""
    assert ran.stderr.splitlines() == [f"error: {moved}; nothing was run"]
    assert snapshot() == before  # nothing re-applied, nothing dropped, the ledger as it was

    fleet = p.sh("migrate:run", "--all-connections")
    assert fleet.returncode == 1
    assert "main (chain sql): nothing to migrate" in fleet.stdout
    assert f"warehouse (chain analytics) [sqlite sqlite:///warehouse.sqlite3]: FAILED: {moved}" in fleet.stdout
    assert snapshot() == before

    # kept in the default chain: as it was, nothing said
    (p.root / "pyproject.toml").write_text(plain)
    shutil.rmtree(p.root / "migrations" / "analytics")
    again = p.sh("migrate:status", "--connection", "warehouse", "--json")
    assert again.returncode == 0 and again.stderr == ""
    assert [(m["id"], m["status"]) for m in json.loads(again.stdout)["connections"][0]["migrations"]] == [
        (blog_id, "applied")
    ]
    assert p.sh("migrate:run", "--connection", "warehouse").returncode == 0
    assert snapshot() == before

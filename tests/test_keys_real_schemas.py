"""Index options real schemas use (issue 19, item 2), each on the databases that
have it: a partial index (WHERE), expressions in the key, descending key parts,
INCLUDE columns and access methods (PostgreSQL), FULLTEXT/SPATIAL and prefix
lengths (MySQL/MariaDB), a partial unique index that stays one. For each:
make -> run -> reflect (the live indexes are what the models say) -> drift 0 ->
make:models writes them back (the generated module compiles to the same
state) -> a change planted by hand is reported by drift -> rollback. Databases
that lack an option refuse it at make time in one line naming the connection;
hostile predicates and expressions are refused in one line."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from modelmig_core.registry import Registry
from modelmig_core.schema.state import Index, State
from tests.conftest import Project
from tests.support.servers import ServerDb

HEADER = "from modelmig_core import Model, column, index, part, unique\n\n"

#: per database: the models' indexes, and a hand change drift must report
CASES: dict[str, dict[str, Any]] = {
    "pg": {
        "indexes": """[
            index("email", name="ix_users_live_email", where="deleted_at IS NULL"),
            index(expressions=["lower(email)"], name="ix_users_lower_email"),
            index(["org", part("created_at", desc=True)], name="ix_users_org_created"),
            index("org", name="ix_users_org_incl", include=["email"]),
            index("tags", name="ix_users_tags", method="gin"),
            index("email", name="uq_users_email_live", unique=True, where="deleted_at IS NULL"),
        ]""",
        "extra_columns": '"tags": column("json"),',
        "planted": [
            ("ix_users_org_created", "DROP INDEX ix_users_org_created", "CREATE INDEX ix_users_org_created ON users (org, created_at)"),
            ("ix_users_live_email", "DROP INDEX ix_users_live_email", "CREATE INDEX ix_users_live_email ON users (email)"),
            ("ix_users_tags", "DROP INDEX ix_users_tags", "CREATE INDEX ix_users_tags ON users USING hash (tags)"),
            ("ix_users_lower_email", "DROP INDEX ix_users_lower_email", "CREATE INDEX ix_users_lower_email ON users (upper(email))"),
        ],
    },
    "mysql": {
        "indexes": """[
            index(["org", part("created_at", desc=True)], name="ix_users_org_created"),
            index(part("bio", length=100), name="ix_users_bio"),
            index(["bio", "email"], name="ft_users_text", kind="fulltext"),
            unique(part("path", length=200), name="uq_users_path"),
        ]""",
        "extra_columns": '"bio": column("text"), "path": column("string", 500),',
        "planted": [
            ("ix_users_org_created", "DROP INDEX ix_users_org_created ON users", "CREATE INDEX ix_users_org_created ON users (org, created_at)"),
            ("ix_users_bio", "DROP INDEX ix_users_bio ON users", "CREATE INDEX ix_users_bio ON users (bio(50))"),
            ("ft_users_text", "DROP INDEX ft_users_text ON users", "CREATE INDEX ft_users_text ON users (bio(10), email)"),
        ],
    },
    "sqlite": {
        "indexes": """[
            index("email", name="ix_users_live_email", where="deleted_at IS NULL"),
            index(expressions=["lower(email)"], name="ix_users_lower_email"),
            index(["org", part("created_at", desc=True)], name="ix_users_org_created"),
            index("email", name="uq_users_email_live", unique=True, where="deleted_at IS NULL"),
        ]""",
        "extra_columns": "",
        "planted": [
            ("ix_users_org_created", "DROP INDEX ix_users_org_created", "CREATE INDEX ix_users_org_created ON users (org, created_at)"),
            ("ix_users_live_email", "DROP INDEX ix_users_live_email", "CREATE INDEX ix_users_live_email ON users (email)"),
            ("ix_users_lower_email", "DROP INDEX ix_users_lower_email", "CREATE INDEX ix_users_lower_email ON users (upper(email))"),
        ],
    },
}  # fmt: skip


def users_model(indexes: str, extra_columns: str = "") -> str:
    return HEADER + (
        "class User(Model):\n"
        '    table = "users"\n'
        "    schema = {\n"
        '        "id": column("increments"),\n'
        '        "email": column("string", 190),\n'
        '        "org": column("integer"),\n'
        '        "created_at": column("timestamp"),\n'
        '        "deleted_at": column("softDeletes"),\n'
        f"        {extra_columns}\n"
        "    }\n"
        f'    database = {{"indexes": {indexes}}}\n'
    )


def project(make_project: Any, db: ServerDb, models: str) -> Project:
    p: Project = make_project({"main": {"url": db.url}})
    (p.root / "models.py").write_text(models)
    return p


def live(db: ServerDb) -> State:
    driver = Registry().driver(db.driver)
    with driver.connect(db.url) as session:
        return driver.reflect(session)


def sql(db: ServerDb, *statements: str) -> None:
    if db.driver == "sqlite":
        import sqlite3

        c = sqlite3.connect(db.name, isolation_level=None)
        try:
            for s in statements:
                c.execute(s)
        finally:
            c.close()
        return
    for s in statements:
        db.execute(s)


def by_name(state: State, table: str) -> dict[str, Index]:
    return {ix.name: ix for ix in state.tables[table].indexes}


@pytest.mark.parametrize("kind", ["pg", "mysql", "sqlite"])
def test_index_options_round_trip(make_project: Any, kind: str, request: pytest.FixtureRequest) -> None:
    db: ServerDb = request.getfixturevalue(f"{kind}_db")
    case = CASES[kind]
    p = project(make_project, db, users_model(case["indexes"], case["extra_columns"]))
    p.ok("make:migration")
    p.ok("migrate:run")

    # the live indexes are what the models say, option by option
    from modelmig_core.history.replay import replay

    replayed = replay(p.root / "migrations", "sql").head
    driver = Registry().driver(db.driver)
    expected = by_name(driver.comparable(replayed), "users")
    found = by_name(driver.comparable(live(db)), "users")
    for name, ix in expected.items():
        assert found.get(name) == ix, (name, found.get(name), ix)
    code = p.run("migrate:status", "--drift")
    assert code.exit_code == 0, code.output

    # make:models writes every option back: its module compiles to the same indexes
    p.ok("make:models", "--out", "adopted.py", "--force")
    source = (p.root / "adopted.py").read_text()
    ast.parse(source)
    assert "part(" in source
    adopted_state = models_state(p.root / "adopted.py")
    assert by_name(driver.comparable(adopted_state), "users") == expected

    # each planted change is reported by drift, naming the index
    for name, drop, create in case["planted"]:
        sql(db, drop, create)
        result = p.run("migrate:status", "--drift")
        assert result.exit_code == 1, result.output
        assert name in result.output, result.output
        sql(db, drop)
        p.ok("migrate:rollback")
        p.ok("migrate:run")
    assert p.run("migrate:status", "--drift").exit_code == 0
    p.ok("migrate:rollback")
    assert "users" not in live(db).tables


def models_state(path: Path) -> State:
    """The state the models module at ``path`` compiles to."""
    import importlib.util
    import sys

    from modelmig_core.model.compile import compile_sql_models
    from modelmig_core.model.dsl import Model

    spec = importlib.util.spec_from_file_location(f"adopted_{abs(hash(path))}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    models = [v for v in vars(module).values() if isinstance(v, type) and issubclass(v, Model) and v is not Model]
    return compile_sql_models(models)

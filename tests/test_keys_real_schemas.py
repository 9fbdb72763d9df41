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
import os
from pathlib import Path
from typing import Any

import pytest

from modelmig_core.registry import Registry
from modelmig_core.schema.state import Index, State
from tests.conftest import Project
from tests.support.schema import by_hand as sql
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


# ---------------------------------------------------------------- refused at make time


def test_an_option_a_database_lacks_is_refused_naming_the_connection(make_project: Any) -> None:
    """A chain served by SQLite and MySQL: INCLUDE and gin (PostgreSQL only), a
    partial index (not MySQL), FULLTEXT and a prefix (MySQL only) are each refused
    in one line naming the index and the connection; nothing is written."""
    p: Project = make_project(
        {"lite": {"url": "sqlite:///a.sqlite3"}, "my": {"url": "mysql://root@127.0.0.1:3306/never_connected"}}
    )
    (p.root / "models.py").write_text(
        users_model(
            """[
            index("org", name="ix_incl", include=["email"]),
            index("email", name="ix_live", where="deleted_at IS NULL"),
            index("bio", name="ix_ft", kind="fulltext"),
            index(part("email", length=20), name="ix_prefix"),
            index("org", name="ix_gin", method="gin"),
        ]""",
            '"bio": column("text"),',
        )
    )
    result = p.run("make:migration")
    assert result.exit_code == 2, result.output
    lines = result.output.splitlines()

    def refused(index: str, connection: str) -> bool:
        return any(f"index {index}" in line and f"connection '{connection}'" in line for line in lines)

    assert refused("ix_incl", "lite") and refused("ix_incl", "my")
    assert refused("ix_gin", "lite") and refused("ix_gin", "my")
    assert refused("ix_live", "my") and not refused("ix_live", "lite")
    assert refused("ix_ft", "lite") and not refused("ix_ft", "my")
    assert refused("ix_prefix", "lite") and not refused("ix_prefix", "my")
    assert not p.migration_files()


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ('index("email", where="org > 1; DROP TABLE users")', "where must be one SQL expression"),
        ('index("email", where="org > 1 -- hidden")', "where must be one SQL expression"),
        ('index(expressions=["lower(email)); DROP TABLE users; --"])', "a key expression must be one SQL expression"),
        ('index(expressions=["/* x */ lower(email)"])', "a key expression must be one SQL expression"),
        ('index("email", method="btree; DROP")', "method 'btree; DROP' is none of"),
        ('index("email", kind="unique")', "kind 'unique' is none of"),
        ('index(part("email", length=-1))', "prefix length of email must be a positive integer"),
        ('index(part("email", sql="x"))', "names a column or an sql= expression, exactly one"),
        ('index(part("email", ops="text_ops; DROP TABLE users"))', "operator class of email must be a name"),
        ('index(part(sql="lower(email)", ops="text_ops"))', "applies to a column, not to an expression"),
        ('index("email", include=["nope"])', "names a column the schema does not declare"),
    ],
)
def test_hostile_or_malformed_index_options_are_one_line(make_project: Any, entry: str, why: str) -> None:
    p: Project = make_project()
    (p.root / "models.py").write_text(users_model(f"[{entry}]"))
    result = p.run("make:migration")
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.output
    assert "model User" in errors[0] and why in errors[0], errors[0]
    assert "Traceback" not in result.output
    assert not p.migration_files()


# ---------------------------------------------------------------- any combination: render -> reflect -> same

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from modelmig_core.schema.state import Column, Table  # noqa: E402

COLUMNS = ("email", "org", "created_at")
EXPRESSIONS = ("lower(email)", "org + 1", "coalesce(org, 0)", "upper(email)")
PREDICATES = ("deleted_at IS NULL", "org > 1", "email <> ''", "org IN (1, 2)", "org > 1 AND deleted_at IS NULL")
#: what each database can make (the others are refused at make time)
OPTIONS = {
    "sqlite": {"where", "expressions"},
    "pg": {"where", "expressions", "include", "method"},
    "mysql": {"lengths", "kind"},
}


@st.composite
def indexes(draw: st.DrawFn, kind: str) -> Index:
    can = OPTIONS[kind]
    parts = draw(
        st.lists(
            st.one_of(st.sampled_from(COLUMNS), st.sampled_from(EXPRESSIONS).map(lambda e: ("sql", e)))
            if "expressions" in can
            else st.sampled_from(COLUMNS),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    columns = tuple(p for p in parts if isinstance(p, str))
    if "kind" in can and draw(st.booleans()):  # a FULLTEXT index over the text columns, no order
        return Index("ix_any", ("email", "bio")[: draw(st.integers(1, 2))], kind="fulltext")
    if "lengths" in can:
        lengths = tuple(draw(st.sampled_from([None, 10, 50])) if c == "email" else None for c in columns)
        lengths = lengths if any(lengths) else ()
        descending = tuple(i for i in range(len(parts)) if draw(st.booleans()))
        return Index("ix_any", columns, draw(st.booleans()), descending=descending, lengths=lengths)
    expressions = tuple(None if isinstance(p, str) else p[1] for p in parts) if len(columns) < len(parts) else ()
    descending = tuple(i for i in range(len(parts)) if draw(st.booleans()))
    method = draw(st.sampled_from([None, "hash", "brin"])) if "method" in can and len(parts) == 1 else None
    if method == "hash":
        descending = ()
    unique = draw(st.booleans()) and method is None
    include = ()
    if "include" in can and method is None:
        include = tuple(c for c in ("deleted_at",) if draw(st.booleans()))
    where = draw(st.one_of(st.none(), st.sampled_from(PREDICATES)))
    return Index("ix_any", columns, unique, where, expressions, descending if method != "brin" else (), include, method)


def users_table(ix: Index) -> Table:
    cols = (
        Column("id", "integer", primary=True, autoincrement=True),
        Column("email", "string", 100),
        Column("org", "integer"),
        Column("created_at", "timestamp", default_now=True),
        Column("deleted_at", "timestamp", nullable=True),
        Column("bio", "text", nullable=True),
    )
    return Table("users", cols, indexes=(ix,))


def create_and_reflect(db: ServerDb, ix: Index) -> tuple[Any, Any]:
    driver = Registry().driver(db.driver)
    table = users_table(ix)
    statements = driver.renderer().create_table(table)
    sql(db, "DROP TABLE IF EXISTS users", *statements)
    reflected = live(db)
    want = driver.comparable(State({"users": table})).tables["users"]
    got = driver.comparable(reflected).tables["users"]
    return (want.indexes, want.uniques), (got.indexes, got.uniques)  # MySQL: a plain unique index is a unique key


@pytest.mark.parametrize("kind", ["sqlite", "pg", "mysql"])
def test_any_combination_of_index_options_reflects_as_made(kind: str, request: pytest.FixtureRequest) -> None:
    db: ServerDb = request.getfixturevalue(f"{kind}_db")

    fuzz = os.environ.get("MODELMIG_HYPOTHESIS_PROFILE", "ci") == "fuzz"  # nox -s fuzz: more combinations
    examples = (15 if kind == "mysql" else 40) if fuzz else (6 if kind == "mysql" else 15)  # MariaDB's DDL is slow

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(indexes(kind))
    def check(ix: Index) -> None:
        want, got = create_and_reflect(db, ix)
        assert got == want

    check()


# ---------------------------------------------------------------- primary keys: any column types, in key order

EVENTS = HEADER + (
    "class Event(Model):\n"
    '    table = "events"\n'
    "    schema = {\n"
    '        "tenant": column("integer"),\n'
    '        "happened_at": column("timestamp"),\n'
    '        "code": column("string", 40),\n'
    '        "amount": column("decimal", (10, 2)),\n'
    "    }\n"
    '    database = {"primary_key": ["code", "happened_at", "tenant"]}\n'
)


@pytest.mark.parametrize("kind", ["pg", "mysql", "sqlite"])
def test_a_composite_primary_key_keeps_its_columns_and_order(
    make_project: Any, kind: str, request: pytest.FixtureRequest
) -> None:
    """PRIMARY KEY (code, happened_at, tenant) over columns tenant, happened_at,
    code: made in that order, reflected in that order (a timestamp column in it
    too), drift 0, and make:models writes database["primary_key"] back; the key
    made in column order by hand is reported by drift."""
    db: ServerDb = request.getfixturevalue(f"{kind}_db")
    p = project(make_project, db, EVENTS)
    p.ok("make:migration")
    p.ok("migrate:run")
    import sqlalchemy as sa

    engine = sa.create_engine(db.sa_url)
    try:
        with engine.connect() as c:
            assert sa.inspect(c).get_pk_constraint("events")["constrained_columns"] == ["code", "happened_at", "tenant"]
    finally:
        engine.dispose()
    assert live(db).tables["events"].primary_key == ("code", "happened_at", "tenant")
    assert p.run("migrate:status", "--drift").exit_code == 0

    p.ok("make:models", "--out", "adopted.py", "--force")
    source = (p.root / "adopted.py").read_text()
    assert '"primary_key": [' in source
    adopted = models_state(p.root / "adopted.py").tables["events"]
    assert adopted.primary_key == ("code", "happened_at", "tenant")
    assert adopted.column("happened_at").primary

    if kind != "sqlite":  # SQLite cannot change a primary key in place
        drop = (
            "ALTER TABLE events DROP PRIMARY KEY"
            if kind == "mysql"
            else "ALTER TABLE events DROP CONSTRAINT events_pkey"
        )
        sql(db, drop, "ALTER TABLE events ADD PRIMARY KEY (tenant, happened_at, code)")
        result = p.run("migrate:status", "--drift")
        assert result.exit_code == 1 and "events" in result.output, result.output
    p.ok("migrate:rollback")
    assert "events" not in live(db).tables


# ---------------------------------------------------------------- generated columns

ORDERS = HEADER + (
    "class Order(Model):\n"
    '    table = "orders"\n'
    "    schema = {\n"
    '        "id": column("increments"),\n'
    '        "price": column("integer"),\n'
    '        "qty": column("integer"),\n'
    '        "total": column("integer", generated="price * qty", stored=True),\n'
    "        VIRTUAL\n"
    "    }\n"
)


@pytest.mark.parametrize("kind", ["pg", "mysql", "sqlite"])
def test_generated_columns_round_trip(make_project: Any, kind: str, request: pytest.FixtureRequest) -> None:
    """A stored generated column everywhere, a virtual one where the database has
    them: made, computed by the server, reflected with its expression, drift 0,
    written back by make:models; a changed expression planted by hand is drift."""
    db: ServerDb = request.getfixturevalue(f"{kind}_db")
    virtual = '"twice": column("integer", nullable=True, generated="price * 2"),' if kind != "pg" else ""
    p = project(
        make_project, db, ORDERS.replace("VIRTUAL", virtual).replace("stored=True)", "stored=True, nullable=True)")
    )
    p.ok("make:migration")
    p.ok("migrate:run")
    sql(db, "INSERT INTO orders (price, qty) VALUES (3, 4)")
    import sqlalchemy as sa

    engine = sa.create_engine(db.sa_url)
    try:
        with engine.connect() as c:
            assert c.execute(sa.text("SELECT total FROM orders")).scalar() == 12
    finally:
        engine.dispose()
    table = live(db).tables["orders"]
    assert table.column("total").generated is not None and table.column("total").stored
    if kind != "pg":
        assert table.column("twice").generated is not None and not table.column("twice").stored
    assert p.run("migrate:status", "--drift").exit_code == 0

    p.ok("make:models", "--out", "adopted.py", "--force")
    adopted = models_state(p.root / "adopted.py").tables["orders"]
    driver = Registry().driver(db.driver)
    want = driver.comparable(State({"orders": table})).tables["orders"]
    assert driver.comparable(State({"orders": adopted})).tables["orders"].column("total") == want.column("total")

    if kind == "pg":
        sql(
            db,
            "ALTER TABLE orders DROP COLUMN total",
            "ALTER TABLE orders ADD COLUMN total integer GENERATED ALWAYS AS (price + qty) STORED",
        )
    elif kind == "mysql":
        sql(db, "ALTER TABLE orders MODIFY total int GENERATED ALWAYS AS (price + qty) STORED")
    else:
        sql(
            db,
            "DROP TABLE orders",
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, price INTEGER NOT NULL, qty INTEGER NOT NULL, total INTEGER GENERATED ALWAYS AS (price + qty) STORED, twice INTEGER GENERATED ALWAYS AS (price * 2) VIRTUAL)",
        )
    result = p.run("migrate:status", "--drift")
    assert result.exit_code == 1 and "orders.total" in result.output, result.output


def test_a_virtual_generated_column_is_refused_on_postgresql(make_project: Any) -> None:
    p: Project = make_project({"main": {"url": "postgresql://postgres@127.0.0.1:5432/never_connected"}})
    (p.root / "models.py").write_text(ORDERS.replace("VIRTUAL", '"twice": column("integer", generated="price * 2"),'))
    result = p.run("make:migration")
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if "twice" in line]
    assert len(errors) == 1 and "pg has no virtual generated column" in errors[0] and "connection 'main'" in errors[0]
    assert not p.migration_files()


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ('generated="price * qty; DROP TABLE orders"', "generated must be one SQL expression"),
        ('generated="price /* x */ * qty"', "generated must be one SQL expression"),
        ('generated="price * qty", default=1', "a generated column takes no default"),
        ("stored=True", "generated must be a non-empty SQL expression"),
        ('generated="price * qty", stored="yes"', "stored must be True or False"),
    ],
)
def test_hostile_or_malformed_generated_columns_are_one_line(make_project: Any, options: str, why: str) -> None:
    p: Project = make_project()
    (p.root / "models.py").write_text(ORDERS.replace("VIRTUAL", f'"bad": column("integer", {options}),'))
    result = p.run("make:migration")
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code != 0 and len(errors) == 1, result.output
    assert "model Order, field 'bad'" in errors[0] and why in errors[0], errors[0]
    assert not p.migration_files()


# ---------------------------------------------------------------- the declared dialect, both ways


def test_sql_text_is_written_in_the_declared_dialect_and_read_back_into_it(make_project: Any, pg_db: ServerDb) -> None:
    """The project writes its SQL in MySQL's dialect; PostgreSQL gets it
    transpiled (CONCAT(a, b) -> a || b), drift compares it as PostgreSQL reads
    it (0), and make:models writes what PostgreSQL reflects back in MySQL's
    dialect; a removed predicate is drift."""
    p: Project = make_project({"main": {"url": pg_db.url}}, 'sql_dialect = "mysql"')
    models = ORDERS.replace(
        "VIRTUAL",
        '"code": column("string", 20), "tag": column("string", 40, nullable=True, generated="CONCAT(code, \'-x\')", stored=True),',
    )
    models += '    database = {"indexes": [index("code", name="ix_orders_tagged", where="CONCAT(code, \'-x\') <> \'a-x\'")],\n'
    models += '                "checks": [check("CONCAT(code, \'!\') <> \'!\'", name="ck_orders_code")]}\n'
    models = models.replace("import Model,", "import Model, check,")
    (p.root / "models.py").write_text(models)
    p.ok("make:migration")
    p.ok("migrate:run")
    table = live(pg_db).tables["orders"]
    assert "||" in str(table.column("tag").generated)
    assert "||" in str(table.indexes[0].where)
    assert p.run("migrate:status", "--drift").exit_code == 0
    p.ok("make:models", "--out", "adopted.py", "--force")
    source = (p.root / "adopted.py").read_text()
    assert source.count("CONCAT(") == 3 and "||" not in source, source
    assert "||" in live(pg_db).tables["orders"].checks[0].expression
    sql(pg_db, "DROP INDEX ix_orders_tagged", "CREATE INDEX ix_orders_tagged ON orders (code)")
    result = p.run("migrate:status", "--drift")
    assert result.exit_code == 1 and "ix_orders_tagged" in result.output


def test_a_primary_key_on_a_column_prefix_on_mysql(make_project: Any, mysql_db: ServerDb) -> None:
    """PRIMARY KEY (path(100), id) over a TEXT column: refused at make time without
    the prefix (it half-applied a migration on MariaDB before), made with it,
    reflected with it, drift 0, written back by make:models; a PostgreSQL
    connection of the same chain refuses the prefix in one line."""
    model = HEADER + (
        "class Doc(Model):\n"
        '    table = "docs"\n'
        '    schema = {"id": column("integer"), "path": column("text"), "body": column("text", nullable=True)}\n'
        '    database = {"primary_key": [KEY]}\n'
    )
    p = project(make_project, mysql_db, model.replace("KEY", '"path", "id"'))
    result = p.run("make:migration")
    assert result.exit_code == 2 and "the primary key is on a TEXT column" in result.output, result.output
    (p.root / "models.py").write_text(model.replace("KEY", 'part("path", length=100), "id"'))
    p.ok("make:migration")
    p.ok("migrate:run")
    cols = live(mysql_db).tables["docs"].columns
    assert [(c.name, c.primary, c.primary_length) for c in cols][:2] == [("id", True, None), ("path", True, 100)]
    assert live(mysql_db).tables["docs"].primary_key == ("path", "id")
    assert p.run("migrate:status", "--drift").exit_code == 0
    p.ok("make:models", "--out", "adopted.py", "--force")
    source = (p.root / "adopted.py").read_text()
    assert 'part("path", length=100)' in source, source
    adopted = models_state(p.root / "adopted.py").tables["docs"]
    assert adopted.column("path").primary_length == 100 and adopted.primary_key == ("path", "id")
    sql(mysql_db, "ALTER TABLE docs DROP PRIMARY KEY", "ALTER TABLE docs ADD PRIMARY KEY (path(50), id)")
    drifted = p.run("migrate:status", "--drift")
    assert drifted.exit_code == 1 and "docs.path" in drifted.output, drifted.output
    p.ok("migrate:rollback")

    both: Project = make_project(
        {"my": {"url": mysql_db.url}, "pg": {"url": "postgresql://postgres@127.0.0.1:5432/never_connected"}}
    )
    (both.root / "models.py").write_text(model.replace("KEY", 'part("path", length=100), "id"'))
    result = both.run("make:migration")
    lines = [line for line in result.output.splitlines() if "prefix" in line]
    assert result.exit_code == 2 and len(lines) == 1 and "connection 'pg'" in lines[0], result.output


# ---------------------------------------------------------------- changes: drop + create, renames, byte-for-byte files


@pytest.mark.parametrize("kind", ["pg", "sqlite"])
def test_a_changed_option_is_a_drop_then_a_create(make_project: Any, kind: str, request: pytest.FixtureRequest) -> None:
    """Changing an index's predicate, order or INCLUDE makes one migration that
    drops the index and creates it again (in that order); it runs, rolls back to
    the old index, and a column rename carries the INCLUDE column along."""
    db: ServerDb = request.getfixturevalue(f"{kind}_db")
    before = '[index("email", name="ix_users_email", where="deleted_at IS NULL")]'
    after = '[index(part("email", desc=True), name="ix_users_email", where="org > 1")]'
    p = project(make_project, db, users_model(before))
    p.ok("make:migration")
    p.ok("migrate:run")
    (p.root / "models.py").write_text(users_model(after))
    p.ok("make:migration")
    text = p.migration_files()[-1].read_text()
    up = text[text.index("up = [") : text.index("down = [")]
    assert up.index("op.DropIndex(") < up.index("op.CreateIndex("), up
    assert "where='org > 1'" in up.replace('"', "'") and "descending=[0]" in up, up
    p.ok("migrate:run")
    assert by_name(live(db), "users")["ix_users_email"].descending == (0,)
    assert p.run("migrate:status", "--drift").exit_code == 0
    p.ok("migrate:rollback")
    ix = by_name(live(db), "users")["ix_users_email"]
    assert ix.descending == () and "deleted_at" in str(ix.where).lower()
    p.ok("migrate:run")
    if kind == "pg":
        renamed = users_model('[index("org", name="ix_users_org", include=["email"])]')
        (p.root / "models.py").write_text(renamed)
        p.ok("make:migration")
        p.ok("migrate:run")
        (p.root / "models.py").write_text(
            renamed.replace(
                '"email": column("string", 190)', '"mail": column("string", 190, renamed_from="email")'
            ).replace('include=["email"]', 'include=["mail"]')
        )
        p.ok("make:migration")
        assert "op.RenameColumn(" in p.migration_files()[-1].read_text()
        assert "Index" not in p.migration_files()[-1].read_text().split("down = [")[0].split("up = [")[1]
        p.ok("migrate:run")
        assert by_name(live(db), "users")["ix_users_org"].include == ("mail",)
        assert p.run("migrate:status", "--drift").exit_code == 0


def test_files_without_the_new_fields_replay_and_rewrite_byte_for_byte() -> None:
    """Every committed migration file of the repository's examples and fixtures
    loads and is written again as the same module (the new fields are at their
    defaults, and omitted), with every new index field at its default."""
    from modelmig_core.history.migrations import MigrationFile, load, render

    root = Path(__file__).resolve().parent.parent
    files = sorted(root.glob("examples/*/migrations/sql/*.py")) + sorted(root.glob("tests/fixtures/**/sql/2*.py"))
    assert files
    for path in files:
        migration = load(MigrationFile(path.stem, path, "sql"))
        written = render(migration.id, migration.family, migration.parent, migration.up, migration.down)
        if "atomic = True" in path.read_text() and "lint_ignore" not in path.read_text():  # as make wrote it
            # the same module (make then formats the file with ruff: quotes and wrapping are ruff's)
            assert ast.dump(ast.parse(written)) == ast.dump(ast.parse(path.read_text())), path
        for op in [*migration.up, *migration.down]:
            for value in vars(op).values():
                for ix in getattr(value, "indexes", ()) or ((value,) if isinstance(value, Index) else ()):
                    assert (ix.where, ix.expressions, ix.descending, ix.include, ix.method, ix.kind) == (
                        None, (), (), (), None, None
                    )  # fmt: skip


@pytest.mark.parametrize("kind", ["pg", "mysql", "sqlite"])
def test_a_generated_column_added_to_a_table_with_rows(
    make_project: Any, kind: str, request: pytest.FixtureRequest
) -> None:
    """Added to a table that has rows, a generated column needs no backfill: each
    row gets its value from the database (SQLite rebuilds the table for a stored
    one and never copies into it); rolled back, it is gone and the rows stay."""
    db: ServerDb = request.getfixturevalue(f"{kind}_db")
    p = project(make_project, db, ORDERS.replace("VIRTUAL", "").replace('"total": column', '# "total": column'))
    p.ok("make:migration")
    p.ok("migrate:run")
    sql(db, "INSERT INTO orders (price, qty) VALUES (3, 4)", "INSERT INTO orders (price, qty) VALUES (5, 6)")
    extra = '"twice": column("integer", nullable=True, generated="price * 2"),' if kind != "pg" else ""
    (p.root / "models.py").write_text(
        ORDERS.replace("VIRTUAL", extra).replace("stored=True)", "stored=True, nullable=True)")
    )
    p.ok("make:migration")
    p.ok("migrate:run")
    import sqlalchemy as sa

    engine = sa.create_engine(db.sa_url)
    try:
        with engine.connect() as c:
            rows = c.execute(sa.text("SELECT total FROM orders ORDER BY id")).scalars().all()
            assert rows == [12, 30]
            if kind != "pg":
                assert c.execute(sa.text("SELECT twice FROM orders ORDER BY id")).scalars().all() == [6, 10]
    finally:
        engine.dispose()
    assert p.run("migrate:status", "--drift").exit_code == 0
    p.ok("migrate:rollback")
    assert live(db).tables["orders"].column("total") is None


def test_operator_classes_are_kept_and_what_is_beyond_the_models_named(make_project: Any, pg_db: ServerDb) -> None:
    """An operator class on a key column (text_pattern_ops) is kept: make:models
    writes part(..., ops=...), the models make the same index (drift 0 after
    baseline), and one taken away by hand is drift; NULLS LAST and an operator
    class on an expression are named in UNMANAGED, never silently dropped."""
    sql(
        pg_db,
        "CREATE TABLE words (id integer PRIMARY KEY, w text NOT NULL, n integer)",
        "CREATE INDEX ix_words_pattern ON words (w text_pattern_ops)",
        "CREATE INDEX ix_words_n ON words (n DESC NULLS LAST)",
        "CREATE INDEX ix_words_lower ON words (lower(w) text_pattern_ops)",
    )
    p: Project = make_project({"main": {"url": pg_db.url}})
    result = p.ok("make:models")
    source = (p.root / "models.py").read_text()
    unmanaged = source[source.index("UNMANAGED") : source.index("class ")]
    assert 'part("w", ops="text_pattern_ops")' in source, source
    assert "ix_words_n" in unmanaged and "NULLS" in unmanaged, source
    assert "ix_words_lower" in unmanaged and "ix_words_lower" in result.output, source
    p.ok("make:migration")
    p.ok("migrate:baseline")
    assert p.run("migrate:status", "--drift").exit_code == 0
    sql(pg_db, "DROP INDEX ix_words_pattern", "CREATE INDEX ix_words_pattern ON words (w)")
    drifted = p.run("migrate:status", "--drift")
    assert drifted.exit_code == 1 and "ix_words_pattern" in drifted.output and "text_pattern_ops" in drifted.output


def test_comments_in_a_live_index_are_no_part_of_the_model(make_project: Any, sqlite_db: ServerDb) -> None:
    """SQLite keeps a CREATE INDEX as written, comments included: make:models
    writes the predicate and expression without them (a model's SQL never holds
    one), and the models it wrote make the same indexes (drift 0 after baseline)."""
    sql(
        sqlite_db,
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b TEXT)",
        'CREATE INDEX ix_t_a ON t (a) WHERE a > 1 -- evil """ comment\n',
        "CREATE INDEX ix_t_b ON t (lower(b) /* x */, a DESC)",
    )
    p: Project = make_project({"main": {"url": sqlite_db.url}})
    p.ok("make:models")
    source = (p.root / "models.py").read_text()
    assert 'where="a > 1"' in source and 'part(sql="lower(b)")' in source and "evil" not in source, source
    p.ok("make:migration")
    p.ok("migrate:baseline")
    assert p.run("migrate:status", "--drift").exit_code == 0

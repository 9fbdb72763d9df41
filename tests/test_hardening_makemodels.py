"""Issue 17, classes 1 and 11: ``make:models`` with a hostile live database.

Names and text read from a database (table, column, index, check and foreign
key names, check expressions, defaults, comments, enum values) reach the
generated models module only as Python literals, and the module is parsed,
never executed. A table a model cannot hold is left out (noted), never the
whole database; a table or column named with dots, spaces or quotes gets a
model with a plain class name and its exact name as a literal.

Attacker alphabets: ``\\ ' " */ /*! -- # ;``, line breaks of every kind Python or
``str.splitlines`` knows (``\\n \\r \\x0b \\x0c \\x1c \\x85 U+2028 U+2029``) and
NUL where the database holds it. Each server test creates the names on the live
server, runs ``make:models``, ``make:migration`` and ``migrate:run`` on an empty
database, and reads the names back from that server; a sentinel file that the
injected code would create must never exist.
"""

from __future__ import annotations

import ast
import contextlib
import io
import keyword
import os
import sqlite3
import tokenize
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from modelmig_core.errors import ModelmigError
from modelmig_core.live.modelgen import NOTES_NAME, UnwritableValue, class_name, describe, literal, read_back
from modelmig_core.schema.state import Check, Column, ForeignKey, Index, State, Table, Unique
from tests.conftest import Project
from tests.support.servers import ServerDb, mysql_admin, pg_admin, scratch_name, with_database

PROFILE = os.environ.get("MODELMIG_HYPOTHESIS_PROFILE", "ci")
SERVER_EXAMPLES = {"ci": 4, "fuzz": 60}.get(PROFILE, 4)
PURE_EXAMPLES = {"ci": 150, "fuzz": 3000}.get(PROFILE, 150)
MODEL_EXAMPLES = {"ci": 40, "fuzz": 1000}.get(PROFILE, 40)
SLOW = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture, HealthCheck.data_too_large]

LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
ATTACK = ["\\", "'", '"', "*/", "/*!", "--", "#", ";", "`", ".", " ", "(", ")", "a", "Z", "é"]
FIXED_COMMENT = "#: what these models cannot say (make:models left it out; drift reports it)"
DSL_WORDS = {"Model", "check", "column", "foreign_key", "index", "part", "relation", "unique", NOTES_NAME}
GRAMMAR_WORDS = {
    "from",
    "import",
    "modelmig_core",
    "class",
    "table",
    "options",
    "schema",
    "database",
    "True",
    "False",
    "None",
}
KEYWORDS = {
    "sql",  # part(sql=...): an index key's expression
    "desc",
    "length",
    "where",
    "nullable",
    "default",
    "default_now",
    "comment",
    "primary",
    "autoincrement",
    "unique",
    "index",
    "use_tz",
    "name",
    "on_delete",
    "on_update",
    "foreign_key",
    "identity",
    "enum_name",
    "collation",
    "charset",
    "on_update_now",
    "deferrable",
    "initially",
}


def pieces(alphabet: list[str], min_size: int = 1, max_size: int = 6) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(alphabet), min_size=min_size, max_size=max_size).map("".join)


# ---------------------------------------------------------------- what a module may hold


def assert_only_literals(source: str, hostile: list[str]) -> None:
    """``source`` parses; it holds no comment but the fixed one and no name but the
    DSL's, the grammar's and its own class names; every hostile text is found whole
    inside a string literal and never outside one."""
    tree = ast.parse(source)
    classes = {n.name for n in ast.walk(tree) if isinstance(n, ast.ClassDef)}
    for cls in classes:
        assert cls.isascii() and cls.isidentifier() and not keyword.iskeyword(cls), cls
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    outside: list[str] = []
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            assert tok.string == FIXED_COMMENT, tok
        elif tok.type == tokenize.NAME:
            assert tok.string in DSL_WORDS | GRAMMAR_WORDS | KEYWORDS | classes, tok
        elif tok.type != tokenize.STRING:
            outside.append(tok.string)
    code = "".join(outside)
    for text in hostile:
        assert any(text in s for s in strings), f"{text!r} is in no string literal"
        if len(text) > 2 and any(ch.isalpha() for ch in text):
            assert text not in code
    for line in source.splitlines():  # every line break kind str.splitlines knows is escaped
        assert line.isprintable() or line == "", repr(line)


# ---------------------------------------------------------------- pure: literals and class names


@settings(max_examples=PURE_EXAMPLES, deadline=None)
@given(st.text(st.characters(exclude_categories=()), max_size=30))
@example("\n__import__('os').system('x')\n#")
@example("\x00\u2028\u2029\x85\x0b\x0c\ud800")
def test_a_literal_reads_back_equal_and_is_one_printable_line(text: str) -> None:
    source = literal(text)
    assert ast.literal_eval(source) == text
    assert len(source.splitlines()) == 1 and source.isprintable()
    nested = [text, (text,), [1, -2.5, True, None]]
    assert ast.literal_eval(literal(nested)) == nested


def test_values_without_a_literal_are_refused() -> None:
    for value in (float("nan"), float("inf"), object(), {"a": 1}, b"x"):
        with pytest.raises(UnwritableValue):
            literal(value)


@settings(max_examples=PURE_EXAMPLES, deadline=None)
@given(st.text(st.characters(exclude_categories=()), max_size=20))
@example("None")
@example("true")
@example("1st")
@example("ﬁle")
def test_class_names_are_plain_ascii_identifiers(table: str) -> None:
    name = class_name(table)
    assert name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
    assert name[:1].isupper()


def hostile_state(t: str, c: str, i: str, k: str, f: str, text: str, bad: str) -> State:
    parent = Table(
        t,
        (
            Column("id", "integer", primary=True, autoincrement=True),
            Column(c, "string", length=40, nullable=True, default=text, comment=text),
            Column("e", "enum", values=(text, "b"), nullable=True),
            Column("n", "integer", nullable=True),
        ),
        indexes=(Index(i, (c, "n")), Index(k + "x", ("(n + 1)",))),
        checks=(Check(k, f"n > {len(text)}"),),
        uniques=(Unique(f + "u", ("n", "e")),),
    )
    child = Table(
        t + "kid",
        (Column("id", "integer", primary=True, autoincrement=True), Column("ref", "integer", nullable=True)),
        foreign_keys=(ForeignKey(f, ("ref",), t, ("id",), "CASCADE"),),
    )
    broken = Table(bad, (Column("id", "integer", primary=True),))
    return State({t: parent, t + "kid": child, bad: broken})


NAME = pieces(ATTACK)
ANY = pieces([*ATTACK, *LINE_BREAKS, "\x00", "\u202e"])  # U+202E: a bidi override (Trojan Source)


@settings(max_examples=MODEL_EXAMPLES, deadline=None)
@given(NAME, NAME, ANY, ANY, ANY, ANY, ANY)
def test_every_text_from_the_database_is_a_literal(t: str, c: str, i: str, k: str, f: str, text: str, b: str) -> None:
    t, c, i, k, f = "t" + t, "c" + c, "i" + i, "k" + k, "f" + f  # distinct kinds never share a name
    bad = "bad" + b + "\n"  # a table name a model cannot hold: a line break
    g = describe(hostile_state(t, c, i, k, f, text, bad), 'main"""\nimport os #')
    source = g.source()
    assert sorted(m.table.name for m in g.models) == sorted([t, t + "kid"])
    assert any(note.startswith(f"table {bad}: ") for note in g.notes)
    assert read_back(source) == g.shape()
    assert_only_literals(source, [t, c, i, k, f, text, bad])
    models = {m.table.name: m.model() for m in g.models}
    from modelmig_core.model.compile import compile_sql_models

    state = compile_sql_models(list(models.values()))
    parent = state.tables[t]
    assert parent.column(c) is not None and parent.column(c).comment == text  # type: ignore[union-attr]
    assert [ix.name for ix in parent.indexes] == [i]
    assert [ck.name for ck in parent.checks] == [k]
    assert state.tables[t + "kid"].foreign_keys[0].name == f


def test_a_table_whose_model_cannot_compile_is_left_out_not_the_database() -> None:
    state = State(
        {
            "modelmig_mine": Table("modelmig_mine", (Column("id", "integer", primary=True),)),
            "a\u2028b": Table("a\u2028b", (Column("id", "integer", primary=True),)),
            "cols": Table("cols", (Column("id", "integer", primary=True), Column("x\ny", "integer"))),
            "nan": Table("nan", (Column("id", "integer", primary=True), Column("f", "float", default=float("nan")))),
            "ok.table": Table("ok.table", (Column("id", "integer", primary=True),)),
        }
    )
    g = describe(state, "main")
    assert [m.table.name for m in g.models] == ["nan", "ok.table"]
    notes = "\n".join(g.notes)
    assert "table modelmig_mine: table name 'modelmig_mine' is reserved" in notes
    assert "table a\u2028b: table name 'a\\u2028b' holds a line break or control character" in notes
    assert "table cols: column name holds a line break or control character; no model written" in notes
    assert "nan.f: default nan cannot be written in a model (nan is not a finite number), left out" in notes
    assert read_back(g.source()) == g.shape()


def test_read_back_refuses_anything_but_literals() -> None:
    g = describe(State({"t": Table("t", (Column("id", "integer", primary=True),))}), "main")
    source = g.source()
    for evil in (
        "import os\n",
        "x = open('f')\n",
        "UNMANAGED = (open('f'),)\n",
        'class T2(Model):\n    table = "t2"\n    schema = {"id": column("integer", primary=__import__("os"))}\n',
        'class T3(Model):\n    table = "t" + "3"\n    schema = {}\n',
        '@dec\nclass T4(Model):\n    table = "t4"\n    schema = {}\n',
    ):
        with pytest.raises(ModelmigError):
            read_back(source + "\n" + evil)


# ---------------------------------------------------------------- on the servers


@contextlib.contextmanager
def fresh_db(driver: str, folder: Path) -> Iterator[ServerDb]:
    """An empty scratch database (a Hypothesis example needs one of its own)."""
    name = scratch_name(f"mm_h17_{driver}")
    if driver == "sqlite":
        path = folder / f"{name}.sqlite3"
        yield ServerDb("sqlite", f"sqlite:///{path}", f"sqlite:///{path}", str(path))
        return
    if driver == "pg":
        from tests.support.servers import PG_URL, pg_sa_url

        admin = pg_admin()
        admin.execute(f'CREATE DATABASE "{name}"')
        url = with_database(PG_URL, name)
        try:
            yield ServerDb("pg", url, pg_sa_url(url), name)
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.close()
        return
    from tests.support.servers import MYSQL_URL, mysql_sa_url

    admin = mysql_admin()
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    url = with_database(MYSQL_URL, name)
    try:
        yield ServerDb("mysql", url, mysql_sa_url(url), name)
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


def qi(driver: str, name: str) -> str:
    """An identifier quoted for ``driver`` (the test's own SQL, not modelmig's)."""
    if driver == "mysql":
        return "`" + name.replace("`", "``") + "`"
    return '"' + name.replace('"', '""') + '"'


def ql(driver: str, text: str) -> str:
    """A string literal for ``driver`` (MariaDB reads backslash escapes by default)."""
    if driver == "mysql":
        text = text.replace("\\", "\\\\").replace("\x00", "\\0")
    return "'" + text.replace("'", "''") + "'"


def run_sql(db: ServerDb, statements: list[str]) -> None:
    if db.driver == "sqlite":
        c = sqlite3.connect(db.name, isolation_level=None)
        try:
            for s in statements:
                c.execute(s)
        finally:
            c.close()
        return
    engine = db.engine()
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.exec_driver_sql(s.replace("%", "%%"))
    finally:
        engine.dispose()


@contextlib.contextmanager
def inspector(db: ServerDb) -> Iterator[Any]:
    engine = db.engine()
    try:
        with engine.connect() as conn:
            yield sa.inspect(conn)
    finally:
        engine.dispose()


def hostile_sql(driver: str, t: str, c: str, i: str, k: str, f: str, text: str, payload: str) -> list[str]:
    """Two tables made with plain SQL: every name and text hostile; an expression
    index (PostgreSQL, SQLite) and a table named with a line break (left out of the
    models, noted) carry the payload."""
    T, C, K, F, L = qi(driver, t), qi(driver, c), qi(driver, k), qi(driver, f), ql(driver, text)
    kid, E = qi(driver, t + "kid"), qi(driver, "e")
    if driver == "pg":
        out = [
            f"CREATE TYPE {qi(driver, 'ty' + t)} AS ENUM ({L}, 'b')",
            f"CREATE TABLE {T} (id SERIAL PRIMARY KEY, {C} VARCHAR(40) DEFAULT {L}, n INTEGER, "
            f"{E} {qi(driver, 'ty' + t)}, CONSTRAINT {K} CHECK (n > 3))",
            f"COMMENT ON COLUMN {T}.{C} IS {L}",
            f"CREATE TABLE {kid} (id SERIAL PRIMARY KEY, ref INTEGER, "
            f"CONSTRAINT {F} FOREIGN KEY (ref) REFERENCES {T} (id) ON DELETE CASCADE)",
        ]
    elif driver == "mysql":
        out = [
            f"CREATE TABLE {T} (id INT AUTO_INCREMENT PRIMARY KEY, {C} VARCHAR(40) NULL COMMENT {L}, n INT NULL, "
            f"{E} ENUM({L}, 'b') NULL, CONSTRAINT {K} CHECK (n > 3)) ENGINE=InnoDB",
            f"CREATE TABLE {kid} (id INT AUTO_INCREMENT PRIMARY KEY, ref INT NULL, "
            f"CONSTRAINT {F} FOREIGN KEY (ref) REFERENCES {T} (id)) ENGINE=InnoDB",
        ]
    else:
        out = [
            f"CREATE TABLE {T} (id INTEGER PRIMARY KEY AUTOINCREMENT, {C} VARCHAR(40) DEFAULT {L}, n INTEGER, "
            f"CONSTRAINT {K} CHECK (n > 3))",
            f"CREATE TABLE {kid} (id INTEGER PRIMARY KEY AUTOINCREMENT, ref INTEGER, "
            f"CONSTRAINT {F} FOREIGN KEY (ref) REFERENCES {T} (id) ON DELETE CASCADE)",
        ]
    out.append(f"CREATE INDEX {qi(driver, i)} ON {T} ({C}, n)")
    if driver != "mysql":
        out.append(f"CREATE INDEX {qi(driver, 'x' + payload)} ON {T} ((n + 1))")
        out.append(f"CREATE TABLE {qi(driver, 'bad' + payload)} (id INTEGER PRIMARY KEY)")
    return out


def names_of(db: ServerDb, tables: list[str]) -> dict[str, Any]:
    """The names and texts the server holds for ``tables``: MariaDB's from
    information_schema (SQLAlchemy reads SHOW CREATE TABLE, which keeps a backtick
    doubled and loses a foreign key to a table named with one), the others'
    through SQLAlchemy's Inspector."""
    out: dict[str, Any] = {}
    if db.driver == "mysql":
        found = db.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()")
        out["tables"] = sorted(r[0] for r in found if r[0] in tables)
        for t in out["tables"]:
            where = f"WHERE table_schema = DATABASE() AND table_name = {ql('mysql', t)}"
            keys = f"WHERE constraint_schema = DATABASE() AND table_name = {ql('mysql', t)}"
            columns = "FROM information_schema.columns"
            constraints = "SELECT constraint_name FROM information_schema.table_constraints"
            out[t] = {
                "columns": db.rows(f"SELECT column_name, column_comment {columns} {where} ORDER BY ordinal_position"),
                "enums": [r[0] for r in db.rows(f"SELECT column_type {columns} {where} AND data_type = 'enum'")],
                "indexes": sorted(
                    {r[0] for r in db.rows(f"SELECT index_name FROM information_schema.statistics {where}")}
                ),
                "checks": sorted(r[0] for r in db.rows(f"{constraints} {keys} AND constraint_type = 'CHECK'")),
                "fks": sorted(r[0] for r in db.rows(f"{constraints} {keys} AND constraint_type = 'FOREIGN KEY'")),
            }
        return out
    with inspector(db) as insp:
        out["tables"] = sorted(n for n in insp.get_table_names() if n in tables)
        for t in out["tables"]:
            cols = insp.get_columns(t)
            out[t] = {
                "columns": [(c["name"], c.get("comment")) for c in cols],
                "enums": [tuple(c["type"].enums) for c in cols if getattr(c["type"], "enums", None)],
                "indexes": sorted(ix["name"] for ix in insp.get_indexes(t) if ix.get("column_names", [None])[0]),
                "checks": sorted(ck["name"] for ck in insp.get_check_constraints(t)),
                "fks": sorted(fk["name"] for fk in insp.get_foreign_keys(t)),
            }
            if db.driver == "sqlite":  # SQLAlchemy's regular expressions keep a doubled quote: parse the text
                out[t].update(sqlite_constraint_names(db, t))
    return out


def sqlite_constraint_names(db: ServerDb, table: str) -> dict[str, list[str]]:
    """The named checks and foreign keys of a SQLite table, from its CREATE TABLE
    text parsed by sqlglot."""
    import sqlglot
    from sqlglot import exp

    sql = db.scalar(f"SELECT sql FROM sqlite_master WHERE type = 'table' AND name = {ql('sqlite', table)}")
    found: dict[str, list[str]] = {"checks": [], "fks": []}
    for node in sqlglot.parse_one(sql, read="sqlite").find_all(exp.Constraint):
        for kind in node.expressions:
            if isinstance(kind, exp.CheckColumnConstraint):
                found["checks"].append(node.this.name)
            elif isinstance(kind, exp.ForeignKey):
                found["fks"].append(node.this.name)
    return {k: sorted(v) for k, v in found.items()}


def defaults_of(db: ServerDb, table: str, column: str) -> Any:
    if db.driver == "sqlite":
        return db.scalar(
            f"SELECT dflt_value FROM pragma_table_info({ql('sqlite', table)}) WHERE name = {ql('sqlite', column)}"
        )
    if db.driver == "pg":
        return db.scalar(
            "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
            "ON a.attrelid = d.adrelid AND a.attnum = d.adnum "
            f"WHERE d.adrelid = {ql('pg', qi('pg', table))}::regclass AND a.attname = {ql('pg', column)}"
        )
    return None


def adopt_and_copy(make_project: Any, db: ServerDb, copy: ServerDb) -> tuple[Project, str, str]:
    """make:models on ``db``, make:migration, migrate:run on the empty ``copy``;
    (the project, the models' source, make:models' warnings)."""
    p: Project = make_project({"main": {"url": db.url}, "copy": {"url": copy.url}}, extra_config='default = "main"')
    result = p.ok("make:models")
    source = (p.root / "models.py").read_text(encoding="utf-8")
    p.ok("make:migration")
    p.ok("migrate:run", "--connection", "copy")
    return p, source, result.output


SERVER_NAME = pieces(ATTACK, 1, 5)
SERVER_ANY = pieces([*ATTACK, "\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"], 1, 5)


def server_round_trip(make_project: Any, tmp_path: Path, driver: str, names: tuple[str, ...]) -> None:
    t, c, i, k, f, text = names
    sentinel = Path(f"/tmp/{scratch_name('pw')}")  # short: PostgreSQL keeps 63 bytes of a name
    payload = f"\nopen({str(sentinel)!r},'w')\n#"
    t, c, i, k, f = "t" + t, "c" + c, "i" + i, "k" + k, "f" + f  # distinct kinds never share a name
    if driver == "mysql":  # MariaDB refuses a name that ends with a space
        t, c, i, k, f = t + "z", c + "z", i + "z", k + "z", f + "z"
    with fresh_db(driver, tmp_path) as db, fresh_db(driver, tmp_path) as copy:
        run_sql(db, hostile_sql(driver, t, c, i, k, f, text, payload))
        p, source, warnings = adopt_and_copy(make_project, db, copy)
        assert not sentinel.exists()
        hostile = [t, c, i, k, f, text]
        escaped = payload.replace("\n", "\\n")
        if driver != "mysql":  # left out and said, on one line
            assert f"table bad{escaped}: table name" in warnings
        if driver != "mysql":  # an index on an expression: kept, its name a literal (part(sql=...))
            hostile.append("x" + payload)
        assert_only_literals(source, hostile)
        kept = [t, t + "kid"]
        want, got = names_of(db, kept), names_of(copy, kept)
        assert got["tables"] == sorted(kept)
        assert got[t + "kid"] == want[t + "kid"]
        assert got[t]["columns"] == want[t]["columns"]
        assert got[t]["checks"] == want[t]["checks"] == [k]
        assert i in got[t]["indexes"]
        assert got[t]["enums"] == want[t]["enums"] and len(want[t]["enums"]) == (0 if driver == "sqlite" else 1)
        if driver != "mysql":
            assert defaults_of(copy, t, c) == defaults_of(db, t, c)
        assert "drift: none" in p.ok("migrate:status", "--drift", "--connection", "copy").output
        assert not sentinel.exists()


@pytest.mark.parametrize("driver", ["sqlite", "pg"])
@settings(max_examples=SERVER_EXAMPLES, deadline=None, suppress_health_check=SLOW, derandomize=True)
@given(names=st.tuples(SERVER_NAME, SERVER_NAME, SERVER_ANY, SERVER_ANY, SERVER_ANY, SERVER_ANY))
def test_hostile_names_round_trip_and_run_nothing(
    make_project: Any, tmp_path: Path, driver: str, names: tuple[str, ...]
) -> None:
    server_round_trip(make_project, tmp_path, driver, names)


@settings(max_examples=SERVER_EXAMPLES, deadline=None, suppress_health_check=SLOW, derandomize=True)
@given(names=st.tuples(SERVER_NAME, SERVER_NAME, SERVER_NAME, SERVER_NAME, SERVER_NAME, SERVER_ANY))
def test_hostile_names_round_trip_on_mariadb(make_project: Any, tmp_path: Path, names: tuple[str, ...]) -> None:
    """MariaDB: SQLAlchemy reads its keys from SHOW CREATE TABLE, which a line
    break in a key's name breaks (``test_mariadb_names_it_cannot_read_are_said``):
    names here hold every other hostile character; texts (comments, enum values)
    hold line breaks and backslashes too."""
    server_round_trip(make_project, tmp_path, "mysql", names)


# ---------------------------------------------------------------- kept examples and what MariaDB cannot say


@pytest.mark.parametrize("driver", ["sqlite", "pg", "mysql"])
def test_the_reported_injection_runs_nothing(make_project: Any, tmp_path: Path, driver: str) -> None:
    """The adversarial run's case: an index named with a newline and a Python
    statement (on an expression where the database has them, so that it lands in
    the notes), plus the shrunk examples Hypothesis found while this was written."""
    server_round_trip(
        make_project, tmp_path, driver, ("\\", "\\", "\\", "\\", "\\", "\\" if driver != "mysql" else "'")
    )
    server_round_trip(make_project, tmp_path, driver, (". '", '"`*/', "i;--", "/*!#", "#`", "a'\n\x85\u2028"))
    if driver != "mysql":
        server_round_trip(make_project, tmp_path, driver, (". '", '"`*/', "i\n;--", "/*!\u2028", "#\r", "a'\\\n\x85"))
    # shrunk by Hypothesis: a doubled quote in a SQLite constraint name; a quote then a backslash in a SQLite
    # key's name; a trailing newline (SQLAlchemy's test for a name that needs no quotes passed "k\n")
    server_round_trip(make_project, tmp_path, driver, ("\\", "\\\\", "\\\\\\\\", '\\\\"', "\\", "\\"))
    server_round_trip(make_project, tmp_path, driver, ("\\", "\\", '"\\', "\\", '"\\', "\\"))
    if driver != "mysql":
        server_round_trip(make_project, tmp_path, driver, (")\\\\Za", ")\\\\Za", "\n", "\n", "\n", "\\\\\\\\"))


def test_mariadb_keys_sqlalchemy_cannot_read_are_said(make_project: Any, tmp_path: Path) -> None:
    """SQLAlchemy reads MariaDB's keys from SHOW CREATE TABLE: a key named with a
    line break is not read, and make:models says so (one line, escaped) and runs
    nothing. Foreign keys are read from information_schema (one to a table named
    with a backtick too), and names keep their backticks single."""
    sentinel = Path(f"/tmp/{scratch_name('pw')}")
    with fresh_db("mysql", tmp_path) as db, fresh_db("mysql", tmp_path) as copy:
        run_sql(
            db,
            [
                "CREATE TABLE `p``t` (id INT PRIMARY KEY, `c``d` INT) ENGINE=InnoDB",
                f"CREATE INDEX `ix\nopen('{sentinel}','w')\n#` ON `p``t` (`c``d`)",
                "CREATE TABLE kid (id INT PRIMARY KEY, ref INT, "
                "CONSTRAINT `fk``k` FOREIGN KEY (ref) REFERENCES `p``t` (id) ON DELETE CASCADE) ENGINE=InnoDB",
            ],
        )
        _p, source, warnings = adopt_and_copy(make_project, db, copy)
        assert not sentinel.exists()
        said = [line for line in warnings.splitlines() if "reflection could not read part of the schema" in line]
        assert len(said) == 3 and all("KEY `ix" in line or "open(" in line or "#`" in line for line in said), said
        assert '"c`d": column("integer", nullable=True)' in source and 'table = "p`t"' in source
        assert 'foreign_key("ref", "p`t", "id", name="fk`k", on_delete="cascade")' in source
        assert names_of(copy, ["p`t"])["p`t"]["columns"] == [("id", ""), ("c`d", "")]
        assert names_of(copy, ["kid"])["kid"]["fks"] == ["fk`k"]


def test_tables_named_with_dots_spaces_and_quotes(make_project: Any, any_db: ServerDb, tmp_path: Path) -> None:
    """Class 11: one odd table name no longer stops make:models for the whole
    database; each such table gets a plain class name and its exact name."""
    driver = any_db.driver
    odd = ["a.b", "with space", "it's", 'say "hi"', "back`tick"]
    run_sql(
        any_db,
        [f"CREATE TABLE {qi(driver, n)} (id INTEGER PRIMARY KEY, {qi(driver, n + ' col')} INTEGER)" for n in odd],
    )
    with fresh_db(driver, tmp_path) as copy:
        p, source, _warnings = adopt_and_copy(make_project, any_db, copy)
        tree = ast.parse(source)
        classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
        assert sorted(classes) == sorted(["AB", "WithSpace", "ItS", "SayHi", "BackTick"])
        assert names_of(copy, odd)["tables"] == sorted(odd)
        for n in odd:
            assert [c for c, _ in names_of(copy, [n])[n]["columns"]] == ["id", n + " col"]
        assert "drift: none" in p.ok("migrate:status", "--drift", "--connection", "copy").output


def test_foreign_keys_and_names_the_models_cannot_hold_are_left_out_not_the_tables() -> None:
    """A foreign key whose two columns differ in type, and a second index with a
    name another one has (names are schema-wide on several databases), are noted
    and left out; every table still gets its model."""
    a = Table("a", (Column("id", "integer", primary=True), Column("x", "integer")), indexes=(Index("ix", ("x",)),))
    b = Table(
        "b",
        (Column("id", "integer", primary=True), Column("a_id", "bigInteger"), Column("y", "integer")),
        indexes=(Index("ix", ("y",)),),
        foreign_keys=(ForeignKey("fk_b_a", ("a_id",), "a", ("id",)),),
    )
    g = describe(State({"a": a, "b": b}), "main")
    assert [m.table.name for m in g.models] == ["a", "b"]
    notes = "\n".join(g.notes)
    assert "b.fk_b_a: foreign key fk_b_a: column b.a_id is bigInteger but a.id is integer" in notes
    assert "b.ix: another index or constraint has this name; left out" in notes
    kid = g.models[1]
    assert kid.database == [] and [k for k, _ in kid.schema] == ["id", "a_id", "y"]  # no relation either
    assert read_back(g.source()) == g.shape()


def test_ruff_formats_a_file_whose_name_looks_like_an_option(make_project: Any, sqlite_db: ServerDb) -> None:
    run_sql(
        sqlite_db, ["CREATE TABLE t (id INTEGER PRIMARY KEY, " + ", ".join(f"c{n} INTEGER" for n in range(3)) + ")"]
    )
    run_sql(sqlite_db, [f"CREATE INDEX {'i' * 60} ON t (c0, c1, c2)"])
    p: Project = make_project({"main": {"url": sqlite_db.url}})
    p.ok("make:models", "--out=--help.py")
    written = p.root / "--help.py"
    text = written.read_text()
    assert f'name="{"i" * 60}",' in text  # ruff ran on it: the over-long call is split over lines
    assert 'index(["c0", "c1", "c2"], name="' not in text
    import subprocess
    import sys

    check = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--", str(written)], cwd=p.root, capture_output=True
    )
    assert check.returncode == 0, check.stdout


def test_baseline_names_a_table_left_out_on_one_line(make_project: Any, sqlite_db: ServerDb) -> None:
    """A table make:models left out (its name holds a line break and an escape
    sequence for the terminal) is unmanaged: baseline says so on one printable line."""
    bad = "bad\n\x1b[2Jx"
    run_sql(sqlite_db, ["CREATE TABLE ok (id INTEGER PRIMARY KEY)", f"CREATE TABLE {qi('sqlite', bad)} (id INTEGER)"])
    p: Project = make_project({"main": {"url": sqlite_db.url}})
    warned = p.ok("make:models").output
    assert "warning: table bad\\n\\x1b[2Jx: table name 'bad\\n\\x1b[2Jx' holds a line break" in warned
    assert "\x1b" not in warned
    p.ok("make:migration")
    out = p.ok("migrate:baseline").output
    assert "main: unmanaged table bad\\n\\x1b[2Jx (no model or migration knows it)" in out
    assert "\x1b" not in out

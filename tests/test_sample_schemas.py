"""Adopting public sample schemas (tests/fixtures/schemas, each with its SOURCE.md):
the fixture loaded into database A by the database's own client -> ``make:models``
-> ``make:migration`` -> ``migrate:run`` on an empty database B -> A and B compared
through SQLAlchemy's Inspector, category by category (tables, columns, types,
nullability, defaults, primary keys, foreign keys with their actions, uniques,
indexes, checks) -> ``migrate:baseline`` and ``migrate:status --drift`` on A. A and B are also
compared through each database's own dump (``pg_dump --schema-only``,
``mariadb-dump --no-data``, SQLite's ``sqlite_master``): the objects each dump
lists, by kind and name (their order and spelling normalized), an outside oracle
of what the Inspector may not see.

What is asserted:

- ``make:models`` never aborts, on every schema;
- on chinook (all three databases, the normal suite's slice) the copy is exact
  but for what make:models itself names as beyond the models (MySQL's utf8mb3
  NVARCHAR columns);
- every object of A outside what the models hold, as A's own dump lists it (views,
  materialized views, functions, procedures, aggregates, triggers, standalone
  sequences, domains, extensions, rules, partitions, virtual and shadow tables,
  events), is named by make:models' ``UNMANAGED`` tuple: the table
  schema x kind -> named/total is printed;
- the objects the models hold (tables, indexes, constraints) are the same in both
  dumps, or their difference is named;
- everywhere, nothing is lost silently: each difference between A and B is named
  by make:models (its warnings and the models' ``UNMANAGED`` tuple), by baseline's
  refusal or by drift. Where that is not so today, the case is a strict xfail whose
  reason lists what is lost without a word (issue 19's remaining work).

Each case prints its table (preserved/total per category). The cases other than
chinook are marked ``samples`` (``nox -s samples``, or ``pytest -m samples``).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
import sqlglot

from tests.conftest import Project
from tests.support.servers import (
    MYSQL_URL,
    PG_URL,
    ServerDb,
    mysql_admin,
    mysql_sa_url,
    pg_admin,
    pg_sa_url,
    scratch_name,
    with_database,
)

FIXTURES = Path(__file__).parent / "fixtures" / "schemas"
LEDGER = "modelmig_migrations"
CATEGORIES = (
    "tables",
    "columns",
    "types",
    "nullability",
    "defaults",
    "primary keys",
    "foreign keys",
    "uniques",
    "indexes",
    "checks",
)


# ---------------------------------------------------------------- databases


@dataclass
class Databases:
    """Scratch databases of one kind: made on demand, dropped at the end."""

    driver: str
    tmp: Path
    made: list[str] = field(default_factory=list)

    def new(self, prefix: str) -> ServerDb:
        if self.driver == "sqlite":
            path = self.tmp / f"{prefix}.sqlite3"
            return ServerDb("sqlite", f"sqlite:///{path}", f"sqlite:///{path}", str(path))
        name = scratch_name(prefix)
        if self.driver == "pg":
            admin = pg_admin()
            admin.execute(f'CREATE DATABASE "{name}"')
            admin.close()
            self.made.append(name)
            url = with_database(PG_URL, name)
            return ServerDb("pg", url, pg_sa_url(url), name)
        admin = mysql_admin()
        with admin.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        admin.close()
        self.made.append(name)
        url = with_database(MYSQL_URL, name)
        return ServerDb("mysql", url, mysql_sa_url(url), name)

    def drop_all(self) -> None:
        for name in self.made:
            if self.driver == "pg":
                admin = pg_admin()
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                admin.close()
            else:
                admin = mysql_admin()
                with admin.cursor() as cur:
                    cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
                admin.close()


@pytest.fixture
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], Databases]]:
    made: list[Databases] = []

    def of(driver: str) -> Databases:
        d = Databases(driver, tmp_path)
        made.append(d)
        return d

    yield of
    for d in made:
        d.drop_all()


def load(db: ServerDb, script: Path) -> None:
    """The fixture through the database's own client (psql, mariadb), or Python's
    sqlite3 for SQLite: modelmig plays no part in making database A."""
    if db.driver == "sqlite":
        c = sqlite3.connect(db.name)
        try:
            c.executescript(script.read_text(encoding="utf-8"))
        finally:
            c.close()
        return
    if db.driver == "pg":
        command = ["psql", "-q", "-X", "-v", "ON_ERROR_STOP=1", "-d", db.url, "-f", str(script)]
        result = subprocess.run(command, capture_output=True, text=True)
    else:
        parts = urlsplit(db.url)
        client = shutil.which("mariadb") or "mysql"
        command = [client, "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306)]
        command += ["-u", parts.username or "root", *([f"-p{parts.password}"] if parts.password else []), db.name]
        result = subprocess.run(command, stdin=script.open("rb"), capture_output=True)
    assert result.returncode == 0, f"loading {script} failed: {result.stderr!r}"


# ---------------------------------------------------------------- the comparison


#: sqlglot's name of each SQLAlchemy dialect
SQLGLOT = {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


def _sql(value: Any, dialect: str) -> str:
    """A reflected default or check as one SQL expression, compared as sqlglot
    writes it back in the dialect it came from (``now()`` and ``CURRENT_TIMESTAMP``
    are one function on PostgreSQL; spacing and case are not part of it); an
    explicit ``DEFAULT NULL`` is no default."""
    if value is None:
        return "none"
    text = re.sub(r"\s+", " ", str(value)).strip()
    if text.lower() == "null":
        return "none"
    try:
        return sqlglot.parse_one(text, read=SQLGLOT[dialect]).sql(SQLGLOT[dialect]).lower()
    except sqlglot.errors.SqlglotError:
        return text.lower()


def _type(t: Any, dialect: Any) -> str:
    """A reflected type as the database spells it. SQLite keeps a declared type's
    name as text and holds only its affinity: there it is compared as SQLAlchemy's
    generic type of that name (NVARCHAR(160) and VARCHAR(160) are one type,
    TIMESTAMP and DATETIME are one, DECIMAL and NUMERIC are one)."""
    if dialect.name == "sqlite":
        t = t.as_generic()
    return str(t.compile(dialect=dialect)).lower()


def _options(fk: dict[str, Any]) -> tuple[str, str]:
    opts = fk.get("options") or {}
    return (
        str(opts.get("ondelete") or "no action").lower(),
        str(opts.get("onupdate") or "no action").lower(),
    )


def snapshot(db: ServerDb) -> dict[str, dict[Any, Any]]:
    """Everything the Inspector says about the tables, by category, keyed so that
    two databases can be compared object by object."""
    engine = db.engine()
    try:
        insp = sa.inspect(engine)
        dialect = engine.dialect
        out: dict[str, dict[Any, Any]] = {c: {} for c in CATEGORIES}
        tables = sorted(t for t in insp.get_table_names() if t != LEDGER and not t.startswith("sqlite_"))
        for t in tables:
            out["tables"][t] = t
            for col in insp.get_columns(t):
                key = (t, col["name"])
                out["columns"][key] = col["name"]
                out["types"][key] = _type(col["type"], dialect)
                out["nullability"][key] = bool(col["nullable"])
                out["defaults"][key] = _sql(col.get("default"), dialect.name)
            pk = insp.get_pk_constraint(t)
            if pk.get("constrained_columns"):
                out["primary keys"][t] = tuple(pk["constrained_columns"])
            for fk in insp.get_foreign_keys(t):
                key = (t, tuple(fk["constrained_columns"]), fk["referred_table"])
                out["foreign keys"][key] = (tuple(fk["referred_columns"]), _options(fk))
            for u in insp.get_unique_constraints(t):
                out["uniques"][(t, u["name"])] = tuple(u["column_names"])
            for ix in insp.get_indexes(t):
                if ix.get("duplicates_constraint"):  # MySQL's unique keys: counted as uniques
                    continue
                expressions = tuple(str(e) for e in ix.get("expressions") or ())
                out["indexes"][(t, ix["name"])] = (tuple(ix["column_names"]), bool(ix["unique"]), expressions)
            try:
                checks = insp.get_check_constraints(t)
            except NotImplementedError:
                checks = []
            for ck in checks:
                out["checks"][(t, ck["name"])] = _sql(ck["sqltext"], dialect.name)
        return out
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Difference:
    category: str
    key: Any
    original: Any
    copy: Any

    @property
    def table(self) -> str:
        return str(self.key[0] if isinstance(self.key, tuple) else self.key)

    @property
    def name(self) -> str | None:
        """The column, index or constraint the difference is about, if it has a name."""
        if not isinstance(self.key, tuple) or len(self.key) < 2:
            return None
        name = self.key[1]
        return ", ".join(name) if isinstance(name, tuple) else str(name)

    def line(self) -> str:
        return f"{self.category} {self.key}: {self.original!r} -> {self.copy!r}"


def compare(
    a: dict[str, dict[Any, Any]], b: dict[str, dict[Any, Any]]
) -> tuple[dict[str, tuple[int, int]], list[Difference]]:
    """Per category, (preserved, total) of A's objects in B, and every difference
    (an object of A that B lacks or holds otherwise, and one that only B has)."""
    table: dict[str, tuple[int, int]] = {}
    found: list[Difference] = []
    for category in CATEGORIES:
        mine, theirs = a[category], b[category]
        kept = sum(1 for k, v in mine.items() if k in theirs and theirs[k] == v)
        table[category] = (kept, len(mine))
        for k in sorted(set(mine) | set(theirs), key=repr):
            if mine.get(k, ...) != theirs.get(k, ...):
                found.append(Difference(category, k, mine.get(k), theirs.get(k)))
    return table, found


def render_table(case: str, table: dict[str, tuple[int, int]], baseline: str) -> str:
    cells = " | ".join(f"{kept}/{total}" for kept, total in table.values())
    return f"| {case} | {cells} | {baseline} |"


#: the words a line must hold to speak of a difference of each category (besides its
#: table and object): a line about a column's default does not report its type
SPOKEN = {
    "types": ("type", "precision", "character set", "collation", "enum"),
    "nullability": ("null",),
    "defaults": ("default", "enum type"),  # an enum's default is cast to the enum type by name
    "primary keys": ("primary key",),
    "foreign keys": ("foreign key", "fk_", "references"),
    "uniques": ("unique",),
    "indexes": ("index",),
    "checks": ("check",),
    "dump": ("primary key", "index", "unique", "foreign key", "constraint", "check", "view"),
}


def reported(diff: Difference, said: str) -> bool:
    """Whether make:models, baseline or drift named the object of ``diff``: a line
    naming its table, (for a column, index or constraint) its name, and a word of
    its category (``SPOKEN``); a line that leaves the whole table out speaks of all of it."""
    words = SPOKEN.get(diff.category, ())
    for line in said.splitlines():
        if diff.table not in line:
            continue
        if f"table {diff.table}:" in line and "no model written" in line:
            return True
        if diff.name is not None and not all(part in line for part in diff.name.split(", ")):
            continue
        if not words or any(w in line.lower() for w in words):
            return True
    return False


# ---------------------------------------------------------------- the dumps (outside oracles)


#: the objects the models hold, as the dumps name their kinds
#: (a view is a View model when its SELECT reads as one SELECT: test_views_as_models.py)
HELD = ("table", "index", "constraint", "foreign key", "view", "partition")
#: pg_dump's TOC types -> the kinds make:models names (None: part of another
#: object, or held by the models: compared, not counted as unmanaged)
PG_DUMP_KINDS = {
    "TABLE": "table",
    "INDEX": "index",
    "CONSTRAINT": "constraint",
    "FK CONSTRAINT": "foreign key",
    "VIEW": "view",
    "MATERIALIZED VIEW": "materialized view",
    "FUNCTION": "function",
    "PROCEDURE": "procedure",
    "AGGREGATE": "aggregate",
    "TRIGGER": "trigger",
    "SEQUENCE": "sequence",
    "DOMAIN": "domain",
    "EXTENSION": "extension",
    "RULE": "rule",
    "TABLE ATTACH": "partition",
    "FOREIGN TABLE": "foreign table",
}
#: what a database has whatever its schema: not the schema's own
BUILTIN = {("extension", "plpgsql"), ("schema", "public")}
#: the TOC kinds whose name is ``<table> <name>``
PER_TABLE = ("constraint", "foreign key", "trigger", "rule")


def pg_dump_objects(db: ServerDb) -> set[tuple[str, str]]:
    """(kind, name) of every object ``pg_dump --schema-only`` lists, from its
    table of contents (the ``-- Name: ...; Type: ...;`` header of each entry): a
    function by its name alone, an object of a table as ``table.name``; a
    sequence an identity column makes is the column's."""
    result = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-d", db.url], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    out: set[tuple[str, str]] = set()
    lines = result.stdout.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("-- Name: "):
            continue
        fields = dict(part.split(": ", 1) for part in line[3:].split("; ") if ": " in part)
        kind = PG_DUMP_KINDS.get(fields.get("Type", ""))
        name = fields.get("Name", "")
        if kind is None:
            continue
        body = next((x for x in lines[i + 1 :] if x and not x.startswith("--")), "")
        if kind == "sequence" and body.startswith("ALTER TABLE"):  # ... ADD GENERATED AS IDENTITY
            continue
        if kind in ("function", "procedure", "aggregate"):
            name = name.split("(", 1)[0]
        elif kind in PER_TABLE and " " in name:
            name = ".".join(name.split(" ", 1))
        out.add((kind, name))
    return out - BUILTIN


def _mysql_tokens(text: str) -> list[Any]:
    """sqlglot's tokens of a dump, the version comments (``/*!50003 CREATE*/``) read
    as the SQL they hold."""
    from sqlglot.dialects.mysql import MySQL

    out: list[Any] = []
    for token in MySQL().tokenize(text):
        for comment in token.comments:
            if comment.startswith("!"):
                out += _mysql_tokens(comment.lstrip("!0123456789"))
        out.append(token)
    return out


#: per mariadb-dump run (its options): the kinds it lists; each run holds no routine
#: body, so a kind's word followed by a name is that object's CREATE
MYSQL_DUMPS = {
    ("TABLE", "VIEW", "SEQUENCE"): ["--no-data", "--skip-triggers"],
    ("TRIGGER",): ["--no-data", "--no-create-info", "--triggers"],
    ("FUNCTION", "PROCEDURE"): ["--no-data", "--no-create-info", "--skip-triggers", "--routines"],
    ("EVENT",): ["--no-data", "--no-create-info", "--skip-triggers", "--events"],
}


def mysql_dump_objects(db: ServerDb) -> set[tuple[str, str]]:
    """(kind, name) of every object ``mariadb-dump`` writes a CREATE for (tables,
    views, sequences, triggers, routines, events), and each table's keys as
    ``table.key`` (its CREATE TABLE read by sqlglot)."""
    parts = urlsplit(db.url)
    tool = shutil.which("mariadb-dump") or "mysqldump"
    base = [tool, "-h", parts.hostname or "127.0.0.1", "-P", str(parts.port or 3306), "-u", parts.username or "root"]
    base += [f"-p{parts.password}"] if parts.password else []
    out: set[tuple[str, str]] = set()
    for kinds, options in MYSQL_DUMPS.items():
        result = subprocess.run([*base, "--skip-comments", *options, db.name], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        tokens = _mysql_tokens(result.stdout)
        start = 0
        for i, token in enumerate(tokens):
            if token.text == ";":
                start = i + 1
                continue
            word = token.text.upper()
            if word not in kinds or i + 1 >= len(tokens) or tokens[start].text.upper() != "CREATE":
                continue
            name = tokens[i + 1].text
            out.add((word.lower(), name))
            if word == "TABLE":
                end = next((j for j in range(i, len(tokens)) if tokens[j].text == ";"), len(tokens) - 1)
                out |= _mysql_keys(name, result.stdout[tokens[start].start : tokens[end].start])
    return out


def _mysql_keys(table: str, sql: str) -> set[tuple[str, str]]:
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(sql, read="mysql")
    except sqlglot.errors.SqlglotError:
        return set()
    out: set[tuple[str, str]] = set()
    for node in tree.find_all(exp.Constraint, exp.IndexColumnConstraint, exp.PrimaryKey):
        kind = (
            "foreign key"
            if node.find(exp.ForeignKey)
            else "constraint"
            if isinstance(node, exp.Constraint)
            else "index"
        )
        if isinstance(node, exp.PrimaryKey):
            out.add(("constraint", f"{table}.PRIMARY"))
        elif node.this is not None and getattr(node.this, "name", ""):
            out.add((kind, f"{table}.{node.this.name}"))
    return out


def sqlite_objects(db: ServerDb) -> set[tuple[str, str]]:
    """(kind, name) of every object of ``sqlite_master`` (the indexes SQLite makes
    for itself aside), virtual and shadow tables as ``pragma_table_list`` says."""
    c = sqlite3.connect(db.name)
    try:
        listed = dict(c.execute("SELECT name, type FROM pragma_table_list WHERE schema = 'main'").fetchall())
        rows = c.execute("SELECT type, name FROM sqlite_master").fetchall()
    finally:
        c.close()
    kinds = {"virtual": "virtual table", "shadow": "shadow table"}
    return {
        (kinds.get(listed.get(name, ""), kind), name)
        for kind, name in rows
        if not name.startswith("sqlite_") and name != LEDGER
    }


def dump_objects(db: ServerDb) -> set[tuple[str, str]]:
    found = {"pg": pg_dump_objects, "mysql": mysql_dump_objects, "sqlite": sqlite_objects}[db.driver](db)
    return {(k, n) for k, n in found if n != LEDGER and not n.startswith(f"{LEDGER}.")}


def unmanaged_named(source: str, objects: set[tuple[str, str]]) -> dict[str, tuple[int, int]]:
    """Per kind outside the models: (named in the models' UNMANAGED tuple, total)."""
    entries: tuple[str, ...] = ()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["UNMANAGED"]:
            entries = ast.literal_eval(node.value)

    def named(kind: str, name: str) -> bool:
        short = name.split(".", 1)[1] if kind in PER_TABLE and "." in name else name
        heads = (f"{kind} {short}", f"{kind} {short}(") if kind in ("function", "procedure", "aggregate") else ()
        return any(
            e == f"{kind} {short}" or e.startswith((f"{kind} {short} (on ", f"{kind} {short}: ", *heads[1:]))
            for e in entries
        )

    out: dict[str, tuple[int, int]] = {}
    for kind, name in sorted(objects):
        if kind in HELD:
            continue
        kept, total = out.get(kind, (0, 0))
        out[kind] = (kept + named(kind, name), total + 1)
    return out


# ---------------------------------------------------------------- the cases


@dataclass(frozen=True)
class Case:
    schema: str
    database: str  # the fixture's file: sqlite, postgresql, mysql

    @property
    def driver(self) -> str:
        return {"sqlite": "sqlite", "postgresql": "pg", "mysql": "mysql"}[self.database]

    @property
    def id(self) -> str:
        return f"{self.schema}-{self.database}"

    @property
    def config(self) -> str:
        """The project adopts the database with its SQL text in the database's own
        dialect (``sql_dialect``): its views, checks and index predicates as written there."""
        return f'sql_dialect = "{ {"sqlite": "sqlite", "postgresql": "postgres", "mysql": "mysql"}[self.database] }"'


SLICE = [Case("chinook", "sqlite"), Case("chinook", "postgresql"), Case("chinook", "mysql")]
REST = [
    Case("sakila", "mysql"),
    Case("sakila", "sqlite"),
    Case("pagila", "postgresql"),
    Case("northwind", "postgresql"),
    Case("employees", "mysql"),
]
#: what is lost without a word today (issue 19), per case: the strict xfails
LOST_TODAY: dict[str, str] = {}


def params() -> list[Any]:
    out = []
    for case in SLICE + REST:
        marks: list[Any] = [] if case in SLICE else [pytest.mark.samples]
        if case.id in LOST_TODAY:
            marks.append(pytest.mark.xfail(strict=True, reason=LOST_TODAY[case.id]))
        out.append(pytest.param(case, id=case.id, marks=marks))
    return out


@dataclass
class Adoption:
    table: dict[str, tuple[int, int]]
    differences: list[Difference]
    said: str  # everything make:models, baseline and drift printed, and the UNMANAGED tuple
    by_models: str  # what make:models alone said (its warnings and the models it wrote)
    baseline: str  # what migrate:baseline on the original answered, in a word
    unmanaged: dict[str, tuple[int, int]]  # per kind outside the models: (named by make:models, total)
    dumped: list[Difference]  # the objects the models hold that one dump lists and the other does not


def adopt(case: Case, make_project: Any, databases: Callable[[str], Databases]) -> Adoption:
    dbs = databases(case.driver)
    original, copy = dbs.new("mm_sample_a"), dbs.new("mm_sample_b")
    load(original, FIXTURES / case.schema / f"{case.database}.sql")

    p: Project = make_project({"main": {"url": original.url}}, extra_config=case.config)
    made = p.run("make:models")
    assert made.exit_code == 0, f"make:models aborted on {case.id}:\n{made.output}"
    said = [made.output, (p.root / "models.py").read_text()]
    migration = p.run("make:migration")
    said.append(migration.output)
    assert migration.exit_code == 0, f"make:migration refused the models of {case.id}:\n{migration.output}"

    other = make_project({"main": {"url": copy.url}}, extra_config=case.config)
    (other.root / "models.py").write_text((p.root / "models.py").read_text())
    (other.root / "migrations").mkdir()
    shutil.copytree(p.root / "migrations" / "sql", other.root / "migrations" / "sql")
    ran = other.run("migrate:run")
    assert ran.exit_code == 0, f"the adopting migration of {case.id} failed on an empty database:\n{ran.output}"

    table, differences = compare(snapshot(original), snapshot(copy))
    a_objects, b_objects = dump_objects(original), dump_objects(copy)
    dumped = [
        Difference(
            "dump",
            tuple(name.split(".", 1)) if "." in name else name,
            kind if o in a_objects else None,
            kind if o in b_objects else None,
        )
        for o in sorted(a_objects ^ b_objects)
        for kind, name in [o]
        if kind in HELD
    ]
    unmanaged = unmanaged_named(said[1], a_objects)
    by_models = "\n".join(said[:2])
    baseline = p.run("migrate:baseline")
    said.append(baseline.output)
    drift = p.run("migrate:status", "--drift")
    said.append(drift.output)
    if baseline.exit_code != 0:
        verdict = "refused"
    else:
        verdict = "drift 0" if "drift: none" in drift.output else "drift"
    return Adoption(table, differences, "\n".join(said), by_models, verdict, unmanaged, dumped)


@pytest.mark.parametrize("case", params())
def test_adopting_a_public_schema_loses_nothing_silently(
    case: Case, make_project: Any, databases: Callable[[str], Databases], capsys: pytest.CaptureFixture[str]
) -> None:
    result = adopt(case, make_project, databases)
    with capsys.disabled():
        print(
            f"\n| case | {' | '.join(CATEGORIES)} | baseline |\n{render_table(case.id, result.table, result.baseline)}"
        )
        kinds = " | ".join(f"{kind} {kept}/{total}" for kind, (kept, total) in result.unmanaged.items())
        print(f"| {case.id} | unmanaged named by make:models: {kinds or 'none'} |")
        for d in result.dumped:
            print(f"| {case.id} | dump: {d.line()} |")
        if os.environ.get("MODELMIG_SAMPLES_DETAIL"):
            for d in result.differences:
                print(f"| {case.id} | differs: {d.line()} |")
    assert result.table["tables"][1] > 0  # the fixture was loaded and read
    unnamed = {kind: total - kept for kind, (kept, total) in result.unmanaged.items() if kept != total}
    assert unnamed == {}, f"{case.id}: objects outside the models that make:models does not name: {unnamed}"
    if case in SLICE:  # what the language holds, kept exactly: a difference is only what make:models named
        assert [d.line() for d in result.differences if not reported(d, result.by_models)] == []
    silent = [d.line() for d in [*result.differences, *result.dumped] if not reported(d, result.said)]
    assert silent == [], f"{case.id}: lost without a word:\n" + "\n".join(silent)


# ---------------------------------------------------------------- names each server allows


APPLICATION = {
    # a table named with a word PostgreSQL reserves (SQLAlchemy's list lacks it), a
    # column named with a word its parser reads as a command, and a check on it
    "pg": [
        'CREATE TABLE "collation" (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "lock" INTEGER NOT NULL DEFAULT 0, '
        'CONSTRAINT ck_collation_lock CHECK ("lock" >= 0))',
        'CREATE TABLE "tablesample" (id INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "lateral" VARCHAR(20) NOT NULL)',
        'CREATE INDEX ix_tablesample_lateral ON "tablesample" ("lateral")',
    ],
    # index names repeat across tables: MySQL keeps them per table
    "mysql": [
        "CREATE TABLE owners (id INT AUTO_INCREMENT PRIMARY KEY, city_id INT UNSIGNED NOT NULL, "
        "code CHAR(3) NOT NULL, `lock` INT NOT NULL DEFAULT 0, KEY idx_city (city_id), "
        "CONSTRAINT ck_owners_lock CHECK (`lock` >= 0))",
        "CREATE TABLE shops (id INT AUTO_INCREMENT PRIMARY KEY, city_id INT UNSIGNED NOT NULL, "
        "KEY idx_city (city_id), UNIQUE KEY uq_code (city_id, id))",
        # the sizes and signs MySQL has: UNSIGNED integers, MEDIUM/LONG text and blobs
        "CREATE TABLE blobs (id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY, "
        "qty SMALLINT UNSIGNED NOT NULL DEFAULT 40000, body MEDIUMTEXT NULL, log LONGTEXT NULL, "
        "tiny TINYINT NOT NULL DEFAULT -5, utiny TINYINT UNSIGNED NOT NULL DEFAULT 200, "
        "img MEDIUMBLOB NULL, raw LONGBLOB NULL)",
    ],
}


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_make_models_keeps_the_names_each_server_allows(
    driver: str, make_project: Any, databases: Callable[[str], Databases]
) -> None:
    dbs = databases(driver)
    original, copy = dbs.new("mm_app_a"), dbs.new("mm_app_b")
    for statement in APPLICATION[driver]:
        original.execute(statement)
    p: Project = make_project({"main": {"url": original.url}})
    made = p.ok("make:models")
    source = (p.root / "models.py").read_text()
    assert "UNMANAGED" not in source, made.output  # nothing left out
    if driver == "mysql":
        assert source.count('name="idx_city"') == 2
        assert '"city_id": column("unsignedInteger")' in source
        assert '"code": column("char", 3)' in source
        assert '"qty": column("unsignedSmallInteger", default=40000)' in source
        assert '"tiny": column("tinyInteger", default=-5)' in source
        assert '"utiny": column("unsignedTinyInteger", default=200)' in source
        for name, type_ in (
            ("body", "mediumText"),
            ("log", "longText"),
            ("img", "mediumBinary"),
            ("raw", "longBinary"),
        ):
            assert f'"{name}": column("{type_}", nullable=True)' in source
    else:
        assert 'check("lock >= 0", name="ck_collation_lock")' in source
    p.ok("make:migration")
    other = make_project({"main": {"url": copy.url}})
    (other.root / "models.py").write_text(source)
    (other.root / "migrations").mkdir()
    shutil.copytree(p.root / "migrations" / "sql", other.root / "migrations" / "sql")
    other.ok("migrate:run")
    table, differences = compare(snapshot(original), snapshot(copy))
    assert [d.line() for d in differences] == []
    assert all(kept == total for kept, total in table.values())
    assert "marked" in p.ok("migrate:baseline").output
    assert "drift: none" in p.ok("migrate:status", "--drift").output


SHARED_INDEX_NAME = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "city_id": column("integer")}
    database = {"indexes": [index("city_id", name="idx_city")]}


class Shop(Model):
    table = "shops"
    schema = {"id": column("increments"), "city_id": column("integer")}
    database = {"indexes": [index("city_id", name="idx_city")]}
"""


def test_an_index_name_two_tables_share_is_refused_only_where_names_are_per_schema(make_project: Any) -> None:
    mysql_only = make_project({"main": {"url": MYSQL_URL}})
    mysql_only.models(SHARED_INDEX_NAME)
    assert "Created" in mysql_only.ok("make:migration").output  # MySQL keeps index names per table
    assert len(mysql_only.migration_files()) == 1
    both = make_project({"lite": {"url": "sqlite:///app.sqlite3"}, "pg": {"url": PG_URL}})
    both.models(SHARED_INDEX_NAME)
    result = both.run("make:migration")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "idx_city" in line]
    assert len(lines) == 2, result.output  # one per connection: SQLite and PostgreSQL keep index names per schema
    assert all("names an index or constraint of table 'owners' too" in line for line in lines)
    assert any("connection 'lite', driver sqlite" in line for line in lines)
    assert any("connection 'pg', driver pg" in line for line in lines)
    assert not (both.root / "migrations" / "sql").exists() or not both.migration_files()


MYSQL_TYPES = """
class Blob(Model):
    table = "blobs"
    schema = {
        "id": column("increments"),
        "qty": column("unsignedSmallInteger", default=40000),
        "body": column("mediumText", nullable=True),
    }
"""


def test_mysql_sizes_and_signs_are_refused_where_the_database_lacks_them(make_project: Any) -> None:
    p = make_project({"lite": {"url": "sqlite:///app.sqlite3"}, "pg": {"url": PG_URL}, "my": {"url": MYSQL_URL}})
    p.models(MYSQL_TYPES)
    result = p.run("make:migration")
    assert result.exit_code == 2, result.output
    refused = [line for line in result.output.splitlines() if line.startswith("error: ") and "field" in line]
    assert len(refused) == 4, result.output  # two types on each of SQLite and PostgreSQL, none on MySQL
    assert sum("'unsignedSmallInteger' has no rendering for sqlite" in line for line in refused) == 1
    assert sum("'mediumText' has no rendering for pg" in line for line in refused) == 1
    assert not any("connection 'my'" in line for line in refused)
    only_mysql = make_project({"my": {"url": MYSQL_URL}})
    only_mysql.models(MYSQL_TYPES.replace("default=40000", "default=70000"))
    result = only_mysql.run("make:migration")
    assert result.exit_code != 0 and "70000 is outside the range of unsignedSmallInteger (0..65535)" in result.output


# ---------------------------------------------------------------- planted changes on the originals

#: one change per category the language holds, made by hand on the adopted original
#: after baseline; each must be reported by drift: (case, statements, needles of its line)
PLANTED: dict[str, list[tuple[str, list[str], tuple[str, ...]]]] = {
    "sakila-mysql": [
        ("unsigned dropped", ["ALTER TABLE film MODIFY length SMALLINT DEFAULT NULL"], ("film.length", "type")),
        (
            "set member added",
            [
                "ALTER TABLE film MODIFY special_features SET('Trailers','Commentaries','Deleted Scenes',"
                "'Behind the Scenes','Bloopers') DEFAULT NULL"
            ],
            ("film.special_features", "Bloopers"),
        ),
        ("year to integer", ["ALTER TABLE film MODIFY release_year INT DEFAULT NULL"], ("film.release_year", "type")),
        (
            "on update removed",
            ["ALTER TABLE actor MODIFY last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"],
            ("actor.last_update", "on update"),
        ),
        (
            "precision changed",
            ["ALTER TABLE payment MODIFY payment_date DATETIME(3) NOT NULL"],
            ("payment.payment_date", "type"),
        ),
        (
            "collation changed",
            ["ALTER TABLE actor MODIFY first_name VARCHAR(45) CHARACTER SET utf8mb3 COLLATE utf8mb3_bin NOT NULL"],
            ("actor.first_name", "collation"),
        ),
        (
            "fulltext made plain",
            ["ALTER TABLE film_text DROP INDEX idx_title_description, ADD INDEX idx_title_description (title)"],
            ("idx_title_description",),
        ),
        (
            "default changed",
            ["ALTER TABLE film ALTER rental_duration SET DEFAULT 4"],
            ("film.rental_duration", "default"),
        ),
        ("table comment", ["ALTER TABLE language COMMENT = 'planted'"], ("language", "comment")),
        (
            "view changed",
            ["CREATE OR REPLACE VIEW sales_by_store AS SELECT 1 AS store, 2 AS manager, 3 AS total_sales"],
            ("sales_by_store",),
        ),
    ],
    "sakila-sqlite": [
        (
            "index order",
            ["DROP INDEX idx_rental_fk_staff_id", "CREATE INDEX idx_rental_fk_staff_id ON rental (staff_id DESC)"],
            ("idx_rental_fk_staff_id",),
        ),
        (
            "partial index",
            [
                "DROP INDEX idx_rental_fk_customer_id",
                "CREATE INDEX idx_rental_fk_customer_id ON rental (customer_id) WHERE customer_id > 0",
            ],
            ("idx_rental_fk_customer_id",),
        ),
        ("view changed", ["DROP VIEW staff_list", "CREATE VIEW staff_list AS SELECT 1 AS id"], ("staff_list",)),
    ],
    "northwind-postgresql": [
        (
            "primary key renamed",
            ["ALTER TABLE categories RENAME CONSTRAINT pk_categories TO categories_pk_planted"],
            ("categories", "primary key name"),
        ),
        ("column type", ["ALTER TABLE categories ALTER description TYPE varchar(300)"], ("categories.description",)),
        ("nullability", ["ALTER TABLE shippers ALTER phone SET NOT NULL"], ("shippers.phone",)),
    ],
}


@pytest.mark.parametrize("case_id", sorted(PLANTED))
def test_a_planted_change_of_each_category_is_reported_by_drift(
    case_id: str, make_project: Any, databases: Callable[[str], Databases]
) -> None:
    case = next(c for c in SLICE + REST if c.id == case_id)
    original = databases(case.driver).new("mm_planted")
    load(original, FIXTURES / case.schema / f"{case.database}.sql")
    p: Project = make_project({"main": {"url": original.url}}, extra_config=case.config)
    p.ok("make:models")
    p.ok("make:migration")
    p.ok("migrate:baseline")
    assert "drift: none" in p.ok("migrate:status", "--drift").output
    for _category, statements, _needles in PLANTED[case_id]:
        for statement in statements:
            original.execute(statement)
    report = p.run("migrate:status", "--drift").output
    lines = [line.lower() for line in report.splitlines()]
    missing = [
        category
        for category, _statements, needles in PLANTED[case_id]
        if not any(all(n.lower() in line for n in needles) for line in lines)
    ]
    assert missing == [], f"not reported by drift: {missing}\n{report}"

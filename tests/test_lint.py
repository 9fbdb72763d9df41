"""migrate:lint and the drivers' cost tables (issue 20, first slice).

squawk (squawk-cli, a PostgreSQL migration linter) is the outside oracle: over a
catalogue of common changes to a table with rows, each statement modelmig sends
(captured with --pretend, one statement a file, no squawk ignore comments) is
linted by squawk, and every locking rule squawk fires on it is named by
modelmig's lint for that statement, with the same rule name. On MariaDB the
server is the oracle: a statement the cost table says needs ALGORITHM=COPY is
refused with ALGORITHM=INPLACE, and one it says nothing about is accepted with
ALGORITHM=INPLACE, LOCK=NONE.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.servers import ServerDb

#: squawk's locking rules (squawk-cli 2.70's names) that modelmig's lint must name too
LOCKING_RULES = frozenset(
    {
        "require-concurrent-index-creation",
        "require-concurrent-index-deletion",
        "constraint-missing-not-valid",
        "adding-foreign-key-constraint",
        "disallowed-unique-constraint",
        "adding-not-nullable-field",
        "changing-column-type",
        "ban-concurrent-index-creation-in-transaction",
        "require-lock-timeout",
        "require-statement-timeout",
    }
)

BEFORE = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}

class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "owner_id": column("integer"),
        "code": column("string", 20),
        "qty": column("integer"),
        "note": column("string", 100, nullable=True),
        "old": column("string", 20, nullable=True),
        "label": column("string", 20, nullable=True),
        "price": column("integer"),
        "tag": column("string", 20, nullable=True),
    }
    database = {
        "indexes": [index(["label"], name="ix_items_label")],
        "unique": [unique(["tag"], name="uq_items_tag")],
    }
"""

#: thirteen common changes to ``items``: rename a column, drop an index, drop a
#: unique constraint, drop a column, add a column with a default, add a nullable
#: column, add a NOT NULL column (backfilled), change a type, SET NOT NULL, add an
#: index, a unique constraint, a check and a foreign key
AFTER = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}

class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "owner_id": column("integer"),
        "code": column("string", 20, unique=True),
        "qty": column("bigInteger"),
        "note": column("string", 100),
        "renamed": column("string", 20, nullable=True, renamed_from="old"),
        "price": column("integer"),
        "tag": column("string", 20, nullable=True),
        "flag": column("boolean", default=False),
        "extra": column("string", 10, nullable=True),
        "due": column("date", backfill="2026-01-01"),
    }
    database = {
        "indexes": [index(["price"], name="ix_items_price")],
        "foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_items_owner")],
        "checks": [check("price >= 0", name="ck_items_price")],
    }
"""

ROWS = 200


def squawk() -> str:
    found = shutil.which("squawk", path=str(Path(sys.executable).parent)) or shutil.which("squawk")
    assert found, "squawk-cli is a test dependency (the test extra of pyproject.toml): install it"
    return found


def fill(db: ServerDb) -> None:
    db.execute("INSERT INTO owners (id, name) VALUES (1, 'one'), (2, 'two')")
    values = ", ".join(f"({i}, {1 + i % 2}, 'c{i}', {i}, 'n{i}', 'o{i}', 'l{i}', {i})" for i in range(1, ROWS + 1))
    db.execute(f"INSERT INTO items (id, owner_id, code, qty, note, old, label, price) VALUES {values}")


def catalogue(make_project: Any, db: ServerDb, server: str | None = None) -> Any:
    """A project on ``db`` whose table ``items`` holds rows and has the catalogue's
    thirteen changes pending."""
    conn = {"url": db.url} | ({"server": server} if server else {})
    p = make_project({"main": conn})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    fill(db)
    p.models(AFTER)
    made = p.ok("make:migration", "--name", "catalogue", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    assert "(13 operation(s))" in made.output
    return p


def pretended(p: Any) -> list[str]:
    """The statements --pretend prints, one each, without the closing ';'."""
    out, current = [], []
    for line in p.ok("migrate:run", "--pretend").stdout.splitlines():
        if not current and (line.startswith("--") or line.startswith("main:")):
            continue
        current.append(line)
        if line.endswith(";"):
            out.append("\n".join(current)[:-1])
            current = []
    assert not current
    return out


def lint_json(p: Any, *args: str) -> tuple[int, dict[str, Any]]:
    result = p.run("migrate:lint", "--json", *args)
    return result.exit_code, json.loads(result.stdout)


def by_statement(document: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for conn in document["connections"]:
        for f in conn["findings"]:
            out.setdefault(f["statement"], set()).add(f["rule"])
    return out


def squawk_rules(statements: list[str], folder: Path) -> list[set[str]]:
    """squawk's rules for each statement, each linted in a file of its own."""
    folder.mkdir()
    files = []
    for i, text in enumerate(statements):
        path = folder / f"{i:03d}.sql"
        path.write_text(text + ";\n")
        files.append(path)
    done = subprocess.run([squawk(), "--reporter", "json", *map(str, files)], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    rules: list[set[str]] = [set() for _ in files]
    for violation in json.loads(done.stdout or "[]"):
        rules[files.index(Path(violation["file"]))].add(violation["rule_name"])
    return rules


def test_every_locking_rule_squawk_fires_on_the_default_plan_is_named_by_the_lint(
    make_project: Any, pg_db: ServerDb, tmp_path: Path
) -> None:
    p = catalogue(make_project, pg_db)
    statements = pretended(p)
    code, document = lint_json(p)
    assert code == 1 and document["ok"] is False
    ours = by_statement(document)
    theirs = squawk_rules(statements, tmp_path / "squawk")
    fired: set[str] = set()
    for text, rules in zip(statements, theirs, strict=True):
        locking = rules & LOCKING_RULES
        fired |= locking
        named = ours.get(text, set()) & LOCKING_RULES
        assert named == locking, f"{text}: squawk {sorted(locking)}, modelmig {sorted(named)}"
    # the control: the default plans fire every locking rule but the one about CONCURRENTLY in a transaction
    assert fired == LOCKING_RULES - {"ban-concurrent-index-creation-in-transaction"}
    # every finding names the connection, the migration, a statement that is sent, the lock and the safe form
    migration = p.migration_files()[-1].stem
    for conn in document["connections"]:
        for f in conn["findings"]:
            assert (f["connection"], f["migration"]) == ("main", migration)
            assert f["statement"] in statements and f["lock"] and f["safe_form"] and f["acknowledged"] is None
    # lint executed nothing: the plan still runs, and the schema ends as the models say
    assert pg_db.scalar("SELECT COUNT(*) FROM modelmig_migrations") == 1
    p.ok("migrate:run")
    assert p.run("migrate:status", "--drift").exit_code == 0
    assert pg_db.scalar("SELECT COUNT(*) FROM items WHERE due = '2026-01-01'") == ROWS


def test_the_text_names_each_finding_with_its_lock_and_safe_form(make_project: Any, pg_db: ServerDb) -> None:
    p = catalogue(make_project, pg_db)
    result = p.run("migrate:lint")
    assert result.exit_code == 1
    migration = p.migration_files()[-1].stem
    line = next(x for x in result.stdout.splitlines() if "require-concurrent-index-creation" in x)
    assert line.startswith(f"main: {migration}: require-concurrent-index-creation: CREATE INDEX ix_items_price")
    assert "takes SHARE, scans the table" in line and "safe form: CREATE INDEX CONCURRENTLY" in line
    assert "finding(s) not acknowledged, 0 acknowledged" in result.output


def test_json_is_one_document_over_several_connections(make_project: Any, pg_db: ServerDb, tmp_path: Path) -> None:
    p = make_project({"pg": {"url": pg_db.url}, "lite": {"url": f"sqlite:///{tmp_path / 'lite.sqlite3'}"}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run", "--all-connections")
    p.models(AFTER)
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    result = p.run("migrate:lint", "--all-connections", "--jobs", "2", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # one document: json.loads refuses anything after it
    assert document["command"] == "migrate:lint"
    names = [c["connection"] for c in document["connections"]]
    assert names == ["pg", "lite"]
    findings = {c["connection"]: c["findings"] for c in document["connections"]}
    assert findings["lite"] == []  # SQLite has one writer at a time: its driver's table names no lock risk
    assert document["findings"] == len(findings["pg"]) > 0


def test_lint_ignore_acknowledges_a_rule(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    fill(pg_db)
    p.models(BEFORE.replace('name="ix_items_label")]', 'name="ix_items_label"), index(["price"], name="ix_p")]'))
    p.ok("make:migration", "--name", "price_index", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    code, document = lint_json(p)
    assert code == 1
    rules = {f["rule"] for f in document["connections"][0]["findings"]}
    assert rules == {"require-concurrent-index-creation", "require-lock-timeout", "require-statement-timeout"}
    path = p.migration_files()[-1]
    source = path.read_text()
    reasons = {rule: f"accepted: {rule}" for rule in sorted(rules)}
    path.write_text(source + f"\nlint_ignore = {reasons!r}\n")
    code, document = lint_json(p)
    assert code == 0 and document["ok"] is True and document["findings"] == 0
    assert {f["rule"]: f["acknowledged"] for f in document["connections"][0]["findings"]} == reasons
    text = p.ok("migrate:lint").stdout
    assert "(acknowledged: accepted: require-lock-timeout)" in text
    # from Python (modelmig_core.api): the same findings, as values
    from modelmig_core import api

    [result] = api.lint(api.open_project(p.root / "pyproject.toml"), connections=["main"])
    assert (result.connection, result.error, result.unacknowledged) == ("main", None, [])
    assert {f.rule: f.acknowledged for f in result.findings} == reasons
    # one rule left unacknowledged: exit 1 again
    path.write_text(source + f"\nlint_ignore = {dict(list(reasons.items())[:2])!r}\n")
    assert p.run("migrate:lint").exit_code == 1


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ('["require-lock-timeout"]', "'lint_ignore' must be a dict of rule name to reason, got list"),
        ('{"require-lock-timeout": 1}', "'lint_ignore' of rule 'require-lock-timeout' must give the reason"),
        ('{"require-lock-timeout": "  "}', "'lint_ignore' of rule 'require-lock-timeout' must give the reason"),
        ('{3: "why"}', "'lint_ignore' has a key 3 that is not a rule name"),
    ],
)
def test_a_bad_lint_ignore_is_one_error_naming_the_file(make_project: Any, value: str, says: str) -> None:
    p = make_project()
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    path = p.migration_files()[-1]
    path.write_text(path.read_text() + f"\nlint_ignore = {value}\n")
    result = p.run("migrate:lint")
    assert result.exit_code != 0
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and str(path.name) in errors[0] and says in errors[0], result.output
    assert not (p.root / "app.sqlite3").exists()  # nothing was created
    assert p.run("migrate:run").exit_code != 0  # the file is refused wherever it is loaded


def test_raw_sql_is_read_with_sqlglot(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    p.ok("make:migration", "--empty", "--name", "raw", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    path = p.migration_files()[-1]
    up = (
        "up = [op.RunSQL(\"SET lock_timeout = '2s'\"), op.RunSQL(\"SET statement_timeout = '60s'\"), "
        'op.RunSQL("ALTER TABLE items ADD CONSTRAINT ck_qty CHECK (qty > 0)"), '
        'op.RunSQL("ALTER TABLE items ADD CONSTRAINT ck_price CHECK (price > 0) NOT VALID"), '
        'op.RunSQL("CREATE INDEX CONCURRENTLY ix_qty ON items (qty)")]'
    )
    path.write_text(path.read_text().replace("up = []", up))
    code, document = lint_json(p)
    assert code == 1
    ours = by_statement(document)
    # the SETs bound every later statement: no timeout rule; NOT VALID is safe; CONCURRENTLY in a transaction is not
    assert ours == {
        "ALTER TABLE items ADD CONSTRAINT ck_qty CHECK (qty > 0)": {"constraint-missing-not-valid"},
        "CREATE INDEX CONCURRENTLY ix_qty ON items (qty)": {"ban-concurrent-index-creation-in-transaction"},
    }
    path.write_text(path.read_text().replace("atomic = True", "atomic = False"))
    _, document = lint_json(p)
    assert by_statement(document) == {
        "ALTER TABLE items ADD CONSTRAINT ck_qty CHECK (qty > 0)": {"constraint-missing-not-valid"}
    }


def test_make_migration_prints_the_lint_without_a_connection(make_project: Any) -> None:
    nowhere = {"pg": {"url": "postgresql://nobody@127.0.0.1:1/none"}}
    nowhere["my"] = {"url": "mysql://nobody@127.0.0.1:1/none", "server": "mariadb-10.11"}
    nowhere["my8"] = {"url": "mysql://nobody@127.0.0.1:1/none", "server": "mysql-8.0"}
    p = make_project(nowhere)
    p.models(BEFORE)
    made = p.ok("make:migration", "--name", "start")
    assert "lint:" not in made.output  # new tables: nothing to lock
    p.models(AFTER)
    made = p.ok("make:migration", "--name", "catalogue", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    mid = p.migration_files()[-1].stem
    lines = [x for x in made.output.splitlines() if x.startswith("warning: lint: ")]
    assert f"warning: lint: pg: {mid}: require-concurrent-index-creation: CREATE INDEX ix_items_price" in "\n".join(
        lines
    )
    copy = [x for x in lines if x.startswith(f"warning: lint: my: {mid}: changing-column-type: ")]
    assert len(copy) == 1 and "MODIFY COLUMN qty BIGINT" in copy[0]
    assert "takes ALGORITHM=COPY, LOCK=SHARED, rewrites the table" in copy[0] and "(on MariaDB 10.11)" in copy[0]
    # the declared server decides: MySQL 8.0 drops a column by a rebuild, MariaDB 10.11 instantly
    assert any(x.startswith(f"warning: lint: my8: {mid}: dropping-column-rebuilds-table:") for x in lines)
    assert not any(x.startswith(f"warning: lint: my: {mid}: dropping-column-rebuilds-table:") for x in lines)
    assert lines[-1].startswith("warning: lint: ") and "lint_ignore" in lines[-1]


def _with_algorithm(statement: str, clause: str) -> str:
    """``statement`` asking the server for ``clause`` (MariaDB's DROP INDEX takes none:
    its ALTER TABLE form does)."""
    if statement.startswith("DROP INDEX "):
        index, _, table = statement[len("DROP INDEX ") :].partition(" ON ")
        return f"ALTER TABLE {table} DROP INDEX {index}, {clause}"
    if statement.startswith(("CREATE INDEX", "CREATE UNIQUE INDEX")):
        return f"{statement} {clause.replace(',', '')}"
    return f"{statement}, {clause}"


def test_mariadb_copy_only_changes_are_named_and_the_server_agrees(make_project: Any, mysql_db: ServerDb) -> None:
    import sqlalchemy as sa

    p = catalogue(make_project, mysql_db, server="mariadb-10.11")
    statements = pretended(p)
    code, document = lint_json(p)
    assert code == 1
    findings = document["connections"][0]["findings"]
    copies = {f["statement"]: f for f in findings if f["lock"].startswith("ALGORITHM=COPY")}
    type_change = next(s for s in statements if "MODIFY COLUMN qty BIGINT" in s)
    assert copies[type_change]["rule"] == "changing-column-type"
    assert "MariaDB 10.11" in copies[type_change]["why"]
    assert {f["rule"] for f in copies.values()} == {
        "changing-column-type",
        "adding-foreign-key-constraint",
        "constraint-missing-not-valid",
    }
    risky = {f["statement"] for f in findings if f["rule"] != "require-lock-timeout"}
    # the server is the oracle: each statement in plan order, asked for an in-place change first
    for text in statements:
        if not text.startswith(("ALTER TABLE", "CREATE INDEX", "DROP INDEX")):
            mysql_db.execute(text)
            continue
        if text in copies:
            with pytest.raises(sa.exc.DBAPIError) as refused:
                mysql_db.execute(_with_algorithm(text, "ALGORITHM=INPLACE"))
            assert refused.value.orig.args[0] in (1845, 1846), refused.value  # "... Try ALGORITHM=COPY"
            mysql_db.execute(text)
        else:  # a rebuild the lint names, or only the metadata lock: in place, writes going on
            mysql_db.execute(_with_algorithm(text, "ALGORITHM=INPLACE, LOCK=NONE"))
    assert risky - set(copies)  # the rebuilds named (NOT NULL) ran in place above
    assert mysql_db.scalar("SELECT COUNT(*) FROM items WHERE due = '2026-01-01' AND note IS NOT NULL") == ROWS


# ---------------------------------------------------------------- hostile names (Hypothesis)

NAMES = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda name: name.strip() == name and "\x00" not in name
)


@settings(max_examples=60, deadline=None)
@given(table=NAMES, column=NAMES, index=NAMES, constraint=NAMES)
def test_the_cost_tables_read_what_the_renderers_write_for_any_name(
    table: str, column: str, index: str, constraint: str
) -> None:
    """Whatever the names (quotes, semicolons, keywords, non-ASCII), each driver
    reads the statements its renderer writes as what they are: the same rules."""
    from modelmig_mysql.driver import driver as mysql
    from modelmig_pg.driver import driver as pg

    from modelmig_core.api import AddCheck, AddUnique, Check, Column, CreateIndex, Index, State, Step, Table, Unique
    from modelmig_core.run.lint import lint_statements

    before = State({table: Table(table, [Column("id", "increments", primary=True), Column(column, "integer")])})
    ops = [
        CreateIndex(table, Index(index, (column,))),
        AddUnique(table, Unique(constraint + "_u", (column,))),
        AddCheck(table, Check(constraint, "1 = 1")),
    ]
    steps, state = [], before
    for op in ops:
        after = op.state_forwards(state)
        steps.append(Step(op, state, after))
        state = after
    expected = {
        "pg": [
            {"require-concurrent-index-creation", "require-lock-timeout", "require-statement-timeout"},
            {"disallowed-unique-constraint", "constraint-missing-not-valid", "require-lock-timeout"}
            | {"require-statement-timeout"},
            {"constraint-missing-not-valid", "require-lock-timeout", "require-statement-timeout"},
        ],
        "mysql": [
            {"require-lock-timeout"},
            {"require-lock-timeout"},
            {"constraint-missing-not-valid", "require-lock-timeout"},
        ],
    }
    for driver in (pg, mysql):
        statements = driver.plan_offline(steps)
        found = lint_statements(driver, None, "main", "m", statements, before=before)
        rules = [{f.rule for f in found if f.statement == s.text} for s in statements]
        assert rules == expected[driver.name], [s.text for s in statements]

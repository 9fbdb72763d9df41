"""Column and table attributes that real schemas use (issue 19, item 2), kept on
every database that has them and refused at make time on those that do not:
column collation and character set, MySQL's ON UPDATE CURRENT_TIMESTAMP (explicit
``on_update_now``), identity ALWAYS and serial columns on PostgreSQL, table
comments, deferrable foreign keys.

Each database: make -> run -> reflect (the attributes are there) and drift 0 ->
make:models writes them back (and its models make the same schema) -> a change
made by hand on the live database is reported by drift -> a changed model is
migrated (AlterColumn, SetTableComment) to drift 0 -> rollback. Hostile names
reach SQL quoted; a database without an attribute refuses it at make time, one
line naming the connection.
"""

from __future__ import annotations

import ast
import sqlite3
from dataclasses import replace
from typing import Any

import pytest

from modelmig_core.history.replay import replay
from modelmig_core.history.source import to_source
from modelmig_core.registry import Registry
from modelmig_core.schema.state import Column, ForeignKey, State
from tests.support.schema import by_hand, drift, sqlite_edit_table
from tests.support.servers import ServerDb

MODELS = {
    "pg": """
    class Item(Model):
        table = "items"
        comment = "the items, 'quoted'"
        schema = {
            "id": column("increments", identity="always"),
            "code": column("string", 50, collation="C"),
            "name": column("text", collation="POSIX", comment="shown"),
            "parent_id": column("integer", nullable=True),
        }
        database = {
            "foreign_keys": [
                foreign_key("parent_id", "items", "id", name="fk_items_parent", deferrable=True, initially="deferred")
            ],
        }

    class Tag(Model):
        table = "tags"
        schema = {"id": column("increments", identity="serial"), "label": column("string", 20)}
    """,
    "mysql": """
    class Item(Model):
        table = "items"
        comment = "the items, 'quoted'"
        schema = {
            "id": column("increments"),
            "code": column("string", 50, collation="utf8mb4_bin"),
            "legacy": column("string", 20, charset="latin1", collation="latin1_swedish_ci", comment="old rows"),
            "name": column("text", charset="utf8mb4", collation="utf8mb4_general_ci"),
            "touched_at": column("timestamp", on_update_now=True),
            "seen_at": column("timestamp", default_now=False, on_update_now=True),
        }

    class Tag(Model):
        table = "tags"
        options = {"engine": "MyISAM", "charset": "latin1", "collation": "latin1_bin"}
        schema = {"id": column("increments"), "label": column("string", 20)}
    """,
    "sqlite": """
    class Item(Model):
        table = "items"
        schema = {
            "id": column("increments"),
            "code": column("string", 50, collation="NOCASE"),
            "parent_id": column("integer", nullable=True),
        }
        database = {
            "foreign_keys": [
                foreign_key("parent_id", "items", "id", name="fk_items_parent", deferrable=True, initially="deferred")
            ],
        }

    class Tag(Model):
        table = "tags"
        schema = {"id": column("increments"), "label": column("string", 20)}
    """,
}

#: what make:models must write back, per database
WRITTEN = {
    "pg": [
        "comment = \"the items, 'quoted'\"",
        '"id": column("increments", identity="always")',
        '"code": column("string", 50, collation="C")',
        '"name": column("text", comment="shown", collation="POSIX")',
        'foreign_key("parent_id", "items", "id", name="fk_items_parent", deferrable=True, initially="deferred")',
        '"id": column("increments", identity="serial")',
    ],
    "mysql": [
        "comment = \"the items, 'quoted'\"",
        '"code": column("string", 50, collation="utf8mb4_bin", charset="utf8mb4")',
        '"legacy": column("string", 20, comment="old rows", collation="latin1_swedish_ci", charset="latin1")',
        '"name": column("text", collation="utf8mb4_general_ci", charset="utf8mb4")',
        '"touched_at": column("timestamp", on_update_now=True)',
        '"seen_at": column("timestamp", default_now=False, on_update_now=True)',
        'options = {"charset": "latin1", "collation": "latin1_bin", "engine": "MyISAM"}',
    ],
    "sqlite": [
        '"code": column("string", 50, collation="NOCASE")',
        'foreign_key("parent_id", "items", "id", name="fk_items_parent", deferrable=True, initially="deferred")',
    ],
}


def live_state(db: ServerDb) -> State:
    driver = Registry().driver(db.driver)
    with driver.connect(db.url) as session:
        return driver.reflect(session)


def comparable(db: ServerDb, state: State) -> State:
    return Registry().driver(db.driver).comparable(state).canonical()


def check_attributes(driver: str, live: State) -> None:
    """The attributes the models declared, read back from the live database."""
    items, tags = live.tables["items"], live.tables["tags"]
    code = items.column("code")
    assert code is not None
    if driver == "pg":
        assert items.comment == "the items, 'quoted'"
        assert code.collation == "C" and items.column("name").collation == "POSIX"  # type: ignore[union-attr]
        assert items.column("name").comment == "shown"  # type: ignore[union-attr]
        assert items.column("id").identity == "always"  # type: ignore[union-attr]
        assert tags.column("id").identity == "serial" and tags.column("id").autoincrement  # type: ignore[union-attr]
        (fk,) = items.foreign_keys
        assert fk.deferrable and fk.initially == "deferred"
    elif driver == "mysql":
        assert items.comment == "the items, 'quoted'"
        assert code.collation == "utf8mb4_bin"
        legacy, name = items.column("legacy"), items.column("name")
        assert legacy is not None and legacy.charset == "latin1" and legacy.collation == "latin1_swedish_ci"
        assert legacy.comment == "old rows"
        assert name is not None and name.collation == "utf8mb4_general_ci"
        assert dict(tags.options) == {"engine": "MyISAM", "charset": "latin1", "collation": "latin1_bin"}
        assert tags.column("label").collation is None  # type: ignore[union-attr]  # the table's own
        touched, seen = items.column("touched_at"), items.column("seen_at")
        assert touched is not None and touched.on_update_now and touched.default_now
        assert seen is not None and seen.on_update_now and not seen.default_now and seen.nullable
    else:
        assert code.collation == "NOCASE"
        (fk,) = items.foreign_keys
        assert fk.deferrable and fk.initially == "deferred"


def plant(db: ServerDb) -> list[str]:
    """Changes made by hand on the live database; the words drift must say."""
    if db.driver == "pg":
        by_hand(
            db,
            'ALTER TABLE items ALTER COLUMN code TYPE VARCHAR(50) COLLATE "POSIX"',
            "ALTER TABLE items ALTER COLUMN id SET GENERATED BY DEFAULT",
            "ALTER TABLE items ALTER CONSTRAINT fk_items_parent NOT DEFERRABLE",
            "COMMENT ON TABLE items IS NULL",
            "COMMENT ON COLUMN items.name IS 'by hand'",
        )
        return [
            "collation 'POSIX' in the database, 'C' in the migrations",
            "identity None in the database, 'always' in the migrations",
            "foreign key items.fk_items_parent:",
            "comment None in the database",
            "comment 'by hand' in the database, 'shown' in the migrations",
        ]
    if db.driver == "mysql":
        by_hand(
            db,
            "ALTER TABLE items MODIFY touched_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)",
            "ALTER TABLE tags ENGINE = InnoDB",
            "ALTER TABLE items MODIFY code VARCHAR(50) COLLATE utf8mb4_general_ci NOT NULL",
            "ALTER TABLE items MODIFY legacy VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_swedish_ci NOT NULL "
            "COMMENT 'by hand'",
        )
        return [
            "on update now False in the database, True in the migrations",
            "engine None in the database, 'MyISAM' in the migrations",
            "collation 'utf8mb4_general_ci' in the database, 'utf8mb4_bin' in the migrations",
            "comment 'by hand' in the database, 'old rows' in the migrations",
        ]
    sqlite_edit_table(db, "items", 'COLLATE "NOCASE"', 'COLLATE "RTRIM"')
    return ["collation 'RTRIM' in the database, 'NOCASE' in the migrations"]


def test_attributes_make_run_reflect_write_back_drift_and_roll_back(make_project: Any, any_db: ServerDb) -> None:
    db = any_db
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS[db.driver])
    p.ok("make:migration")
    p.ok("migrate:run")
    live = live_state(db)
    check_attributes(db.driver, live)
    replayed = replay(p.root / "migrations", "sql").head
    assert comparable(db, live) == comparable(db, replayed)
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out

    # make:models writes them back, and its models make the same schema
    adopt = make_project({"main": {"url": db.url}})
    result = adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    flat = "".join(source.split()).replace(",)", ")")  # as written, whatever lines ruff format broke it into
    for text in WRITTEN[db.driver]:
        assert "".join(text.split()) in flat, source
    assert "collation" not in "".join(line for line in result.output.splitlines() if "warning" in line)
    adopt.ok("make:migration")
    assert comparable(db, replay(adopt.root / "migrations", "sql").head) == comparable(db, live)

    # a change made by hand is reported by drift
    said = plant(db)
    code, out = drift(p)
    assert code == 1, out
    for words in said:
        assert words in out, (words, out)

    p.ok("migrate:rollback")
    assert set(live_state(db).tables) == set()


def test_changed_attributes_are_migrated_and_rolled_back(make_project: Any, any_db: ServerDb) -> None:
    """A collation (and on PostgreSQL/MySQL a table comment, identity, ON UPDATE)
    changed in the models: AlterColumn / SetTableComment take the live database
    there (drift 0), and rolling back takes it back (drift 0)."""
    db = any_db
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS[db.driver])
    p.ok("make:migration")
    p.ok("migrate:run")
    changed = MODELS[db.driver]
    changes = {
        "pg": [
            ('collation="C"', 'collation="POSIX"'),
            ("comment = \"the items, 'quoted'\"", 'comment = "changed"'),
            ('identity="always"', 'identity="by default"'),
        ],
        "mysql": [
            ('collation="utf8mb4_bin"', 'collation="utf8mb4_general_ci"'),
            ("comment = \"the items, 'quoted'\"", 'comment = "changed"'),
            ('"touched_at": column("timestamp", on_update_now=True)', '"touched_at": column("timestamp")'),
            ('"engine": "MyISAM", "charset": "latin1", "collation": "latin1_bin"', '"engine": "Aria"'),
        ],
        "sqlite": [('collation="NOCASE"', 'collation="RTRIM"')],
    }[db.driver]
    for old, new in changes:
        assert old in changed
        changed = changed.replace(old, new)
    p.models(changed)
    p.ok("make:migration")
    assert len(p.migration_files()) == 2
    text = p.migration_files()[1].read_text()
    if db.driver != "sqlite":
        assert "op.SetTableComment(" in text
    p.ok("migrate:run")
    live = live_state(db)
    items = live.tables["items"]
    assert items.column("code").collation in ("POSIX", "utf8mb4_general_ci", "RTRIM")  # type: ignore[union-attr]
    if db.driver == "pg":
        assert items.comment == "changed" and items.column("id").identity is None  # type: ignore[union-attr]
    if db.driver == "mysql":
        assert items.comment == "changed" and not items.column("touched_at").on_update_now  # type: ignore[union-attr]
        assert dict(live.tables["tags"].options) == {"engine": "Aria"}
        assert "op.SetTableOptions(" in text
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out
    p.ok("migrate:rollback")
    check_attributes(db.driver, live_state(db))
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out


REFUSED = {
    "sqlite": [
        ('"code": column("string", 50, charset="utf8mb4")', "charset 'utf8mb4': sqlite has no column character sets"),
        ('"at": column("timestamp", on_update_now=True)', "on_update_now: sqlite has no ON UPDATE CURRENT_TIMESTAMP"),
        ('"id": column("increments", identity="always")', "identity 'always': sqlite has no such column numbering"),
        ('"note": column("text", comment="shown")', "comment: sqlite has no column comments"),
    ],
    "pg": [
        ('"code": column("string", 50, charset="latin1")', "charset 'latin1': pg has no column character sets"),
        ('"at": column("timestamp", on_update_now=True)', "on_update_now: pg has no ON UPDATE CURRENT_TIMESTAMP"),
        ('"mood": column("enum", ["a"], collation="C")', "collation 'C': a pg enum type has no collation"),
    ],
    "mysql": [
        ('"id": column("increments", identity="serial")', "identity 'serial': mysql has no such column numbering"),
        ('"code": column("string", 50, charset="latin1")', "charset 'latin1' without a collation"),
    ],
}


@pytest.mark.parametrize("driver", ["sqlite", "pg", "mysql"])
def test_attributes_a_database_lacks_are_refused_at_make_time(make_project: Any, driver: str) -> None:
    """Refused before any file is written, one line each naming the connection and model field."""
    url = {"sqlite": "sqlite:///app.sqlite3", "pg": "postgresql://u@h/db", "mysql": "mysql://u@h/db"}[driver]
    p = make_project({"main": {"url": url}})
    fields = ", ".join(field for field, _ in REFUSED[driver])
    extra = ""
    if driver == "mysql":
        extra = '\n        database = {"foreign_keys": [foreign_key("id", "things", "id", deferrable=True)]}\n'
    table_comment = '\n        comment = "a note"' if driver == "sqlite" else ""
    if driver != "mysql":
        table_comment += '\n        options = {"engine": "InnoDB"}'
    p.models(f"""
    class Thing(Model):
        table = "things"{table_comment}
        schema = {{{fields}}}{extra}
    """)
    result = p.run("make:migration")
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    for _field, words in REFUSED[driver]:
        (line,) = [line for line in lines if words in line]
        assert "connection 'main'" in line and "model Thing" in line, line
    if driver == "sqlite":
        assert any("table comment: sqlite has no table comments" in line for line in lines), result.output
    if driver == "mysql":
        assert any("mysql has no deferrable keys" in line for line in lines), result.output
    else:
        assert any(f"table option engine='InnoDB': {driver} has no table engine" in line for line in lines)
    assert not p.migration_files()


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ('column("integer", collation="C")', "collation only applies to text columns"),
        ('column("string", collation="")', "collation must be a name"),
        ('column("string", charset=3)', "charset must be a name"),
        ('column("string", on_update_now=True)', "on_update_now only applies to timestamp columns"),
        ('column("timestamp", on_update_now="yes")', "option 'on_update_now' must be True or False"),
        ('column("integer", identity="always")', "identity only applies to auto-increment columns"),
        ('column("increments", identity="sometimes")', "identity must be one of 'always', 'by default', 'serial'"),
    ],
)
def test_bad_attributes_are_one_error_line_naming_the_field(make_project: Any, option: str, words: str) -> None:
    p = make_project()
    p.models(f"""
    class Thing(Model):
        table = "things"
        schema = {{"id": column("increments"), "bad": {option}}}
    """)
    result = p.run("make:migration")
    assert result.exit_code != 0
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "model Thing, field 'bad'" in line and words in line, line


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ('{"engine": "InnoDB; DROP TABLE x"}', "table option engine must be a name"),
        ('{"charset": "latin1"}', "table options charset and collation go together"),
        ('{"row_format": "DYNAMIC"}', "unknown table option 'row_format'"),
    ],
)
def test_bad_table_options_are_one_error_line(make_project: Any, options: str, words: str) -> None:
    p = make_project()
    p.models(f"""
    class Thing(Model):
        table = "things"
        options = {options}
        schema = {{"id": column("increments")}}
    """)
    result = p.run("make:migration")
    assert result.exit_code != 0
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "model Thing" in line and words in line, line


def test_bad_deferrable_keys_are_one_error_line(make_project: Any) -> None:
    p = make_project()
    p.models("""
    class Thing(Model):
        table = "things"
        schema = {"id": column("increments"), "parent_id": column("integer")}
        database = {"foreign_keys": [foreign_key("parent_id", "things", "id", initially="deferred")]}
    """)
    result = p.run("make:migration")
    assert result.exit_code != 0
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "model Thing" in line and "initially='deferred' needs deferrable=True" in line, line


@pytest.mark.parametrize(
    ("driver", "collation", "quoted"),
    [
        ("pg", 'C" ) ; DROP TABLE x; --', 'COLLATE "C"" ) ; DROP TABLE x; --"'),
        ("sqlite", 'NOCASE" ; DROP TABLE x', 'COLLATE "NOCASE"" ; DROP TABLE x"'),
        ("mysql", "utf8mb4_bin` ; DROP TABLE x; --", "COLLATE `utf8mb4_bin`` ; DROP TABLE x; --`"),
    ],
)
def test_hostile_collation_names_reach_sql_quoted(
    make_project: Any, request: pytest.FixtureRequest, driver: str, collation: str, quoted: str
) -> None:
    """--pretend takes the path run takes: the name is one quoted identifier; the
    server then refuses the unknown collation and nothing else runs."""
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(f"""
    class Thing(Model):
        table = "things"
        schema = {{"id": column("increments"), "code": column("string", 20, collation={collation!r})}}
    """)
    p.ok("make:migration")
    pretend = p.ok("migrate:run", "--pretend").output
    assert quoted in pretend, pretend
    result = p.run("migrate:run")
    assert result.exit_code != 0, result.output
    assert "things" not in live_state(db).tables


def test_new_fields_are_omitted_from_migration_files_when_default() -> None:
    """Files written before these attributes exist still replay and rewrite
    byte-for-byte: a column or key without them writes exactly as before."""
    plain = Column("code", "string", length=50)
    assert to_source(plain) == 'op.Column("code", "string", length=50)'
    fk = ForeignKey("fk", ("a",), "t", ("id",))
    assert to_source(fk) == 'op.ForeignKey("fk", ["a"], "t", ["id"])'
    kept = replace(plain, collation="C", charset="x", on_update_now=False, identity=None)
    assert to_source(kept) == 'op.Column("code", "string", length=50, collation="C", charset="x")'


ENUM_NAME = 'mpaa\'s "rating"'
SHARED = f"""
class Film(Model):
    table = "films"
    schema = {{"id": column("increments"), "rating": column("enum", ["G", "PG"], enum_name={ENUM_NAME!r}, default="G")}}

class Show(Model):
    table = "shows"
    schema = {{"id": column("increments"), "rating": column("enum", ["G", "PG"], enum_name={ENUM_NAME!r}, nullable=True)}}
"""


def enum_types(db: ServerDb) -> dict[str, int]:
    """Each enum type of the database and how many columns use it."""
    rows = db.rows(
        "SELECT t.typname, count(a.attname) FROM pg_type AS t LEFT JOIN pg_attribute AS a ON a.atttypid = t.oid "
        "AND a.attnum > 0 AND NOT a.attisdropped WHERE t.typtype = 'e' GROUP BY t.typname"
    )
    return {str(name): int(count) for name, count in rows}


def test_named_enum_types_are_kept_shared_and_dropped_with_their_last_user(make_project: Any, pg_db: ServerDb) -> None:
    db = pg_db
    p = make_project({"main": {"url": db.url}})
    p.models(SHARED)
    p.ok("make:migration")
    pretend = p.ok("migrate:run", "--pretend").output
    assert pretend.count("CREATE TYPE") == 1 and 'CREATE TYPE "mpaa\'s ""rating"""' in pretend, pretend
    p.ok("migrate:run")
    assert enum_types(db) == {ENUM_NAME: 2}
    live = live_state(db)
    assert {live.tables[t].column("rating").enum_name for t in ("films", "shows")} == {ENUM_NAME}  # type: ignore[union-attr]
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out
    adopt = make_project({"main": {"url": db.url}})
    adopt.ok("make:models")
    source = (adopt.root / "models.py").read_text()
    written = [k.value for k in ast.walk(ast.parse(source)) if isinstance(k, ast.keyword) and k.arg == "enum_name"]
    assert [ast.literal_eval(v) for v in written] == [ENUM_NAME, ENUM_NAME], source

    # one user goes: the type stays; the last one leaves it: the type goes
    p.models(SHARED.split("class Show")[0])
    p.ok("make:migration")
    p.ok("migrate:run")
    assert enum_types(db) == {ENUM_NAME: 1}
    p.models(SHARED.split("class Show")[0].replace(f", enum_name={ENUM_NAME!r}", ""))
    p.ok("make:migration")
    p.ok("migrate:run")
    assert enum_types(db) == {"films_rating_enum": 1}
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out
    # a planted change: the column moved back to the shared type by hand
    by_hand(
        db,
        f"CREATE TYPE {ENUM_NAME.replace(chr(34), chr(34) * 2).join(chr(34) * 2)} AS ENUM ('G', 'PG')",
        "ALTER TABLE films ALTER COLUMN rating DROP DEFAULT",
        'ALTER TABLE films ALTER COLUMN rating TYPE "mpaa\'s ""rating""" USING rating::text::"mpaa\'s ""rating"""',
        "ALTER TABLE films ALTER COLUMN rating SET DEFAULT 'G'",
    )
    code, out = drift(p)
    assert code == 1 and "enum name" in out, out
    by_hand(
        db,
        "ALTER TABLE films ALTER COLUMN rating DROP DEFAULT",
        "ALTER TABLE films ALTER COLUMN rating TYPE films_rating_enum USING rating::text::films_rating_enum",
        "ALTER TABLE films ALTER COLUMN rating SET DEFAULT 'G'",
        'DROP TYPE "mpaa\'s ""rating"""',
    )
    for _ in range(3):
        p.ok("migrate:rollback")
        code, out = drift(p)
        assert code == 0, out
    assert enum_types(db) == {}


def test_shared_enum_types_must_agree_on_their_values(make_project: Any) -> None:
    p = make_project()
    p.models(SHARED.replace('["G", "PG"], enum_name', '["G", "PG", "R"], enum_name', 1))
    result = p.run("make:migration")
    assert result.exit_code != 0
    (line,) = [line for line in result.output.splitlines() if line.strip()]
    assert "model Show, field 'rating'" in line and "columns that share a type share its values" in line, line


def test_enum_names_are_faithful_where_enums_are_per_column(make_project: Any, sqlite_db: ServerDb) -> None:
    """SQLite (a CHECK of the values) and MySQL (a column's ENUM) have no enum types:
    the values are all there is, and drift compares those."""
    p = make_project({"main": {"url": sqlite_db.url}})
    p.models(SHARED)
    p.ok("make:migration")
    p.ok("migrate:run")
    code, out = drift(p)
    assert code == 0 and "drift: none" in out, out


def test_a_deferrable_key_in_sqlites_column_form_is_kept(make_project: Any, tmp_path: Any) -> None:
    """``author_id INTEGER REFERENCES authors (id) DEFERRABLE INITIALLY DEFERRED``
    (the column form, which modelmig itself never writes) read back as a plain key
    before: make:models lost the deferral and drift said nothing."""

    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}})
    with sqlite3.connect(p.root / "app.sqlite3") as db:
        db.executescript(
            "CREATE TABLE authors (id INTEGER PRIMARY KEY);"
            "CREATE TABLE books (id INTEGER PRIMARY KEY,"
            " author_id INTEGER REFERENCES authors (id) DEFERRABLE INITIALLY DEFERRED,"
            " editor_id INTEGER REFERENCES authors (id));"
        )
    p.ok("make:models")
    source = " ".join((p.root / "models.py").read_text().split())
    assert 'name="fk_books_author_id_authors", deferrable=True, initially="deferred",' in source
    assert 'foreign_key( "editor_id", "authors", "id", name="fk_books_editor_id_authors" )' in source
    p.ok("make:migration")
    p.ok("migrate:baseline")
    assert "drift: none" in p.ok("migrate:status", "--drift").output


def test_on_update_now_is_at_the_columns_own_precision(make_project: Any, mysql_db: Any) -> None:
    """``ON UPDATE CURRENT_TIMESTAMP`` at the column's precision: a DATETIME(3) got
    ``ON UPDATE CURRENT_TIMESTAMP(6)``, which MariaDB quietly narrows and MySQL 8
    refuses (``Invalid ON UPDATE clause``)."""
    p = make_project({"main": {"url": mysql_db.url}})
    p.models(
        """
        class Tick(Model):
            table = "ticks"
            schema = {
                "id": column("increments"),
                "at3": column("timestamp", 3, on_update_now=True),
                "at0": column("timestamp", 0, on_update_now=True),
                "at6": column("timestamp", on_update_now=True),
            }
        """
    )
    p.ok("make:migration")
    sql = " ".join(p.ok("migrate:run", "--pretend").output.split())
    assert "at3 DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3)" in sql
    assert "at0 DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP," in sql
    assert "at6 DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6)" in sql
    p.ok("migrate:run")
    extra = {
        r[0]: r[1]
        for r in mysql_db.rows(
            "SELECT column_name, extra FROM information_schema.columns "
            "WHERE table_schema = DATABASE() AND table_name = 'ticks'"
        )
    }
    assert extra["at3"].lower().endswith("on update current_timestamp(3)")
    assert "drift: none" in p.ok("migrate:status", "--drift").output

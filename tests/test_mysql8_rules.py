"""What MySQL 8.0/8.4 refuses that MariaDB 10.11 accepts: rendered so both take
it, or refused at make time (issue: MySQL 8.0/8.4 and real MongoDB servers). No
MySQL 8 server runs here: the rules are pinned by the exact DDL and by make-time
refusals, and what MariaDB can show is run on it (see the README's table of what
was verified where)."""

from __future__ import annotations

from importlib.metadata import requires
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from modelmig_mysql.driver import SANDBOX_LINE, connect_args, portable_dump, tls_args

from modelmig_core.errors import ConfigError
from tests.support.servers import ServerDb

TEXT_DEFAULT = """
class Note(Model):
    table = "notes"
    schema = {
        "id": column("increments"),
        "body": column("text", default=""),
        "meta": column("json", default="{}"),
        "title": column("string", 100, default="untitled"),
    }
"""


def test_text_and_json_defaults_are_expressions(make_project: Any, mysql_db: ServerDb) -> None:
    p = make_project({"main": {"url": mysql_db.url}})
    p.models(TEXT_DEFAULT)
    p.ok("make:migration")
    sql = p.ok("migrate:run", "--pretend").output
    assert "body TEXT NOT NULL DEFAULT ('')" in sql  # MySQL 8 refuses DEFAULT '' on TEXT (1101)
    assert "meta JSON NOT NULL DEFAULT ('{}')" in sql
    assert "title VARCHAR(100) NOT NULL DEFAULT 'untitled'" in sql  # a literal where a literal is allowed
    p.ok("migrate:run")
    mysql_db.execute("INSERT INTO notes (id) VALUES (1)")
    assert mysql_db.rows("SELECT body, meta, title FROM notes") == [("", "{}", "untitled")]


def test_tables_get_an_explicit_charset_and_collation(make_project: Any, mysql_db: ServerDb) -> None:
    p = make_project({"main": {"url": mysql_db.url}})
    p.models(TEXT_DEFAULT)
    p.ok("make:migration")
    assert "COLLATE utf8mb4_unicode_ci" in p.ok("migrate:run", "--pretend").output
    p.ok("migrate:run")
    create = mysql_db.rows("SHOW CREATE TABLE notes")[0][1]
    assert "CHARSET=utf8mb4" in create and "COLLATE=utf8mb4_unicode_ci" in create
    # PAD SPACE on both servers: 'a' and 'a ' are one value for a unique key
    assert mysql_db.scalar("SELECT 'a' = 'a ' COLLATE utf8mb4_unicode_ci") == 1


def test_the_collation_is_configurable_per_connection(make_project: Any, mysql_db: ServerDb) -> None:
    p = make_project({"main": {"url": mysql_db.url + "?collation=utf8mb4_bin"}})
    p.models(TEXT_DEFAULT)
    p.ok("make:migration")
    p.ok("migrate:run")
    assert "COLLATE=utf8mb4_bin" in mysql_db.rows("SHOW CREATE TABLE notes")[0][1]


INDEXED = """
class Doc(Model):
    table = "docs"
    schema = {{
        "id": column("increments"),
        "body": column("{kind}"),
        "a": column("string", 255), "b": column("string", 255), "c": column("string", 255), "d": column("string", 255),
    }}
    database = {{"indexes": [{index}]}}
"""


@pytest.mark.parametrize("kind", ["text", "json", "binary"])
def test_an_index_on_text_blob_or_json_is_refused_where_a_mysql_connection_is_configured(
    make_project: Any, kind: str
) -> None:
    models = INDEXED.format(kind=kind, index='index("body", name="ix_docs_body")')
    p = make_project({"main": {"url": "mysql://root@127.0.0.1:3306/never_opened"}})
    p.models(models)
    result = p.run("make:migration")
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    assert "model Doc, field 'body'" in lines[0] and "ix_docs_body" in lines[0] and "connection 'main'" in lines[0]
    assert not p.migration_files()
    # the rule is MySQL's: a project without a mysql connection may index it
    other = make_project()
    other.models(models)
    other.ok("make:migration")


def test_a_key_longer_than_3072_bytes_is_refused(make_project: Any) -> None:
    p = make_project({"main": {"url": "mysql://root@127.0.0.1:3306/never_opened"}})
    p.models(INDEXED.format(kind="integer", index='index(["a", "b", "c", "d"], name="ix_docs_abcd")'))
    result = p.run("make:migration")
    assert result.exit_code != 0 and "ix_docs_abcd is up to 4080 bytes" in result.output
    p.models(INDEXED.format(kind="integer", index='index(["a", "b", "c"], name="ix_docs_abc")'))
    p.ok("make:migration")  # 3060 bytes: fits


def test_tls_options_follow_mysqls_ssl_mode() -> None:
    url = "mysql://u:p@db/app"
    assert tls_args({}, url) == {}
    assert tls_args({"ssl_mode": "DISABLED"}, url) == {"ssl_disabled": True}
    assert tls_args({"ssl_mode": "required"}, url) == {"ssl": {"verify_mode": "none", "check_hostname": False}}
    assert tls_args({"ssl_ca": "/ca.pem"}, url) == {
        "ssl": {"verify_mode": "required", "check_hostname": True, "ca": "/ca.pem"}
    }
    assert tls_args({"ssl_mode": "VERIFY_CA", "ssl_ca": "/ca.pem"}, url)["ssl"]["check_hostname"] is False
    with pytest.raises(ConfigError, match="needs ssl_ca"):
        tls_args({"ssl_mode": "VERIFY_IDENTITY"}, url)
    args = connect_args("mysql://u:p%40ss@db:3307/app?ssl_mode=REQUIRED&charset=utf8mb4")
    assert args["password"] == "p@ss" and args["port"] == 3307 and args["ssl"]["verify_mode"] == "none"


def test_an_unknown_url_option_is_one_clear_error(make_project: Any) -> None:
    p = make_project({"main": {"url": "mysql://root:secret@127.0.0.1:3306/app?sslmode=require"}})
    p.models(TEXT_DEFAULT)
    p.ok("make:migration")
    result = p.run("migrate:status")
    assert result.exit_code != 0 and "URL option 'sslmode': unknown" in result.output
    assert "secret" not in result.output


def test_password_users_on_mysql_8_get_rsa_support() -> None:
    assert any(r.replace(" ", "").lower().startswith("pymysql[rsa]") for r in requires("modelmig-mysql") or [])


def test_a_dump_of_a_mysql_server_drops_the_mariadb_only_sandbox_line(tmp_path: Path) -> None:
    dump = tmp_path / "d.sql"
    dump.write_text(SANDBOX_LINE + "\n-- MariaDB dump\nCREATE TABLE `t` (`id` int);\n-- Dump completed\n")
    portable_dump(dump)
    assert dump.read_text().splitlines()[0] == "-- MariaDB dump"
    portable_dump(dump)  # idempotent: nothing else is touched
    assert dump.read_text().startswith("-- MariaDB dump\nCREATE TABLE")


def test_a_declared_server_that_disagrees_is_warned_about(make_project: Any, mysql_db: ServerDb) -> None:
    p = make_project({"main": {"url": mysql_db.url, "server": "mysql-8.4"}})
    p.models(TEXT_DEFAULT)
    p.ok("make:migration")
    out = p.ok("migrate:run").output
    assert "declares server = 'mysql-8.4', but the server is mariadb-" in out


KEYED = """
class Doc(Model):
    table = "docs"
    schema = {{
        "id": column("increments"),
        "body": column({kind}{unique}),
        "a": column("string", 255), "b": column("string", 255), "c": column("string", 255), "d": column("string", 255),
    }}
    database = {{"unique": [{constraint}]}}
"""

PRIMARY = """
class Doc(Model):
    table = "docs"
    schema = {{
        "a": column({kind}, primary=True),
        "b": column("string", 255, primary=True),
        "c": column("string", 255, primary=True),
        "d": column("string", 255{last}),
    }}
"""


def refused(make_project: Any, models: str, *needles: str) -> str:
    """make:migration with a MySQL connection configured: one error line naming
    the model, the key and the connection, and no file written."""
    p = make_project({"main": {"url": "mysql://root@127.0.0.1:3306/never_opened"}})
    p.models(models)
    result = p.run("make:migration")
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    for needle in ("model Doc", "connection 'main'", *needles):
        assert needle in lines[0], lines[0]
    assert not p.migration_files()
    return lines[0]


@pytest.mark.parametrize("kind", ["text", "json", "binary"])
def test_every_kind_of_key_on_text_blob_or_json_is_refused(make_project: Any, kind: str) -> None:
    label = {"text": "TEXT", "json": "JSON", "binary": "BLOB"}[kind]
    unique_column = KEYED.format(kind=repr(kind), unique=", unique=True", constraint="")
    refused(make_project, unique_column, "field 'body'", f"is on a {label} column", "unique key")
    constraint = KEYED.format(kind=repr(kind), unique="", constraint='unique(["a", "body"], name="uq_docs_a_body")')
    refused(make_project, constraint, "field 'body'", f"unique key uq_docs_a_body is on a {label} column")
    primary = PRIMARY.format(kind=repr(kind), last="")
    refused(make_project, primary, "field 'a'", f"the primary key is on a {label} column")


def test_every_kind_of_key_longer_than_3072_bytes_is_refused(make_project: Any) -> None:
    constraint = KEYED.format(
        kind='"integer"', unique="", constraint='unique(["a", "b", "c", "d"], name="uq_docs_abcd")'
    )
    refused(make_project, constraint, "unique key uq_docs_abcd is up to 4080 bytes long in utf8mb4")
    unique_column = KEYED.format(kind='"string", 800', unique=", unique=True", constraint="")
    refused(make_project, unique_column, "unique key", "is up to 3200 bytes")
    primary = PRIMARY.format(kind='"string", 255', last=", primary=True")  # composite: a, b, c, d
    refused(make_project, primary, "the primary key is up to 4080 bytes")
    fits = PRIMARY.format(kind='"string", 255', last="")  # a, b, c: 3060 bytes
    p = make_project({"main": {"url": "mysql://root@127.0.0.1:3306/never_opened"}})
    p.models(fits)
    p.ok("make:migration")


ENUMS = """
class Doc(Model):
    table = "docs"
    schema = {{"id": column("increments"), "state": column("enum", {values!r})}}
"""


@pytest.mark.parametrize(
    ("values", "needle"),
    [
        (["on", "off "], "enum value 'off ' ends in a space, which MySQL drops"),
        (["On", "on"], "enum values 'On' and 'on' are one value to MySQL's collation"),
        (["e", "\u00e9"], "enum values 'e' and '\u00e9' are one value"),
        (["a", "a\x00"], "enum values 'a' and 'a\\x00' are one value"),  # Hypothesis found this one
        (["fi", "\ufb01"], "are one value"),
    ],
)
def test_enum_values_mysql_would_change_are_refused(make_project: Any, values: list[str], needle: str) -> None:
    refused(make_project, ENUMS.format(values=values), "field 'state'", needle)


#: letters, accents, ligatures, spaces, line breaks, controls and invisible characters
ENUM_ALPHABET = list(
    "aAeE\u00e9\u00c9\u00e4\u00c4\u00df\u0153\u00f8\u0131\u0130i '\\\t\n\r\x00\x01\x1f\x7f\x85\u00a0\u00ad\u0301"
)
ENUM_ALPHABET += ["\u200b", "\ufeff", "\u2028", "\u2060", "\ufb01", "fi", "ss", "ae", "oe"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pair=st.lists(
        st.lists(st.sampled_from(ENUM_ALPHABET), max_size=3).map("".join), min_size=2, max_size=2, unique=True
    )
)
def test_the_enum_rule_is_the_servers_own(mysql_db: ServerDb, pair: list[str]) -> None:
    """MariaDB refuses an ENUM of two values (error 1291) exactly when the rule
    gives them one collation key: the rule is held against the server, not
    against a list of cases."""
    from modelmig_mysql.rules import collation_key

    def literal(v: str) -> str:
        return "'" + v.replace("\\", "\\\\").replace("'", "''").replace("\x00", "\\0") + "'"

    mysql_db.execute("DROP TABLE IF EXISTS enum_probe")
    try:
        mysql_db.execute(
            f"CREATE TABLE enum_probe (e ENUM({literal(pair[0])}, {literal(pair[1])})) "
            "CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci"
        )
        server_refuses = False
    except Exception as exc:  # noqa: BLE001 - the server's refusal, checked by its code
        assert "1291" in str(exc), exc
        server_refuses = True
    assert server_refuses == (collation_key(pair[0]) == collation_key(pair[1])), pair


def test_literals_are_pinned_for_each_sql_mode() -> None:
    """No MySQL 8 here: the DDL both servers get is pinned, for the default sql_mode
    (backslash escapes) and NO_BACKSLASH_ESCAPES with ANSI_QUOTES; MariaDB runs the
    same rendering in tests/test_hardening_literals.py."""
    from modelmig_mysql.render import MysqlRenderer

    from modelmig_core.api import Check, Column, Table

    values = ("a\\", "b'", "c\x00", "50%")
    table = Table(
        "t",
        (
            Column("e", "enum", values=values, default="50%", comment="x\\' -- /*! y */"),
            Column("s", "text", default="z\\"),
        ),
        checks=(Check("ck_t", "s <> 'q\\' AND \"s\" <> 'it''s'"),),
    )
    escapes = MysqlRenderer()
    escapes.read_sql_mode("STRICT_ALL_TABLES,NO_ZERO_DATE")
    assert escapes.create_table(table)[0] == (
        "CREATE TABLE t (\n"
        "\te ENUM('a\\\\','b''','c\\0','50%') NOT NULL COMMENT 'x\\\\'' -- /*! y */' DEFAULT '50%', \n"
        "\ts TEXT NOT NULL DEFAULT ('z\\\\'), \n"
        "\tCONSTRAINT ck_t CHECK (s <> 'q\\\\' AND s <> 'it''s')\n)"
    )
    plain = MysqlRenderer()
    plain.read_sql_mode("STRICT_ALL_TABLES,NO_BACKSLASH_ESCAPES,ANSI_QUOTES")
    assert plain.create_table(table)[0] == (
        "CREATE TABLE t (\n"
        "\te ENUM('a\\','b''','c\x00','50%') NOT NULL COMMENT 'x\\'' -- /*! y */' DEFAULT '50%', \n"
        "\ts TEXT NOT NULL DEFAULT ('z\\'), \n"
        "\tCONSTRAINT ck_t CHECK (s <> 'q\\' AND s <> 'it''s')\n)"
    )

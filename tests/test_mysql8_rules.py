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
    assert result.exit_code != 0 and "unknown URL option 'sslmode'" in result.output
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

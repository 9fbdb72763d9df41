"""How reflection understands the SQL text a database gives back (through
sqlglot): check expressions lose only what the database added (casts to text,
parentheses that change nothing, quotes), never what changes their meaning;
defaults become the value a model would give."""

from __future__ import annotations

import pytest
from modelmig_mysql.reflect import MysqlReflection
from modelmig_pg.reflect import PgReflection
from modelmig_sqlite.reflect import SqliteReflection

from modelmig_core.api_sql import NOW, Expression, parse_default

READERS = {"postgres": PgReflection(), "mysql": MysqlReflection(), "sqlite": SqliteReflection()}


@pytest.mark.parametrize(
    ("dialect", "stored", "written"),
    [
        ("postgres", "(length((title)::text) > 0)", "length(title) > 0"),
        (
            "postgres",
            "((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
            "status IN ('a', 'b')",
        ),
        ("postgres", "((a > 0) AND (((b + 1) * 2) > 3))", "a > 0 AND (b + 1) * 2 > 3"),
        ("postgres", "(a AND (b OR c))", "a AND (b OR c)"),
        ("postgres", "((a > 0) OR ((b > 0) AND (c < 1)))", "a > 0 OR b > 0 AND c < 1"),
        ("postgres", "(a - (b - c))", "a - (b - c)"),
        ("mysql", "octet_length(`title`) > 0", "octet_length(title) > 0"),
        ("sqlite", "length(title) > 0", "length(title) > 0"),
    ],
)
def test_check_expressions_keep_their_meaning(dialect: str, stored: str, written: str) -> None:
    reader = READERS[dialect]
    assert reader.check_text(stored) == written
    assert reader.check_text(written) == written  # idempotent
    assert reader.comparable_check(stored) == reader.comparable_check(written)


def test_synonyms_compare_equal() -> None:
    """MariaDB keeps LENGTH as octet_length: compared, they are the same check."""
    mysql, sqlite, pg = READERS["mysql"], READERS["sqlite"], READERS["postgres"]
    assert mysql.comparable_check("octet_length(`title`) > 0") == sqlite.comparable_check("LENGTH(title) > 0")
    assert pg.comparable_check("a - (b - c)") != pg.comparable_check("a - b - c")


@pytest.mark.parametrize(
    ("dialect", "text", "type_", "value"),
    [
        ("postgres", "now()", "timestamp", NOW),
        ("postgres", "CURRENT_TIMESTAMP", "timestamp", NOW),
        ("mysql", "current_timestamp(6)", "timestamp", NOW),
        ("postgres", "'draft'::posts_status_enum", "enum", "draft"),
        ("postgres", "'it''s'::character varying", "string", "it's"),
        ("postgres", "false", "boolean", False),
        ("mysql", "1", "boolean", True),
        ("sqlite", "'0'", "boolean", False),
        ("postgres", "'-1'::integer", "integer", -1),
        ("postgres", "(-1)", "integer", -1),
        ("mysql", "0.00", "decimal", "0.00"),
        ("postgres", "1.5", "double", 1.5),
        ("mysql", "NULL", "string", None),
        ("postgres", "gen_random_uuid()", "uuid", Expression("gen_random_uuid()")),
    ],
)
def test_defaults_become_model_values(dialect: str, text: str, type_: str, value: object) -> None:
    assert parse_default(text, type_, dialect) == value

"""SQL text in the models is written in one declared dialect (issue 19, item 2):
``sql_dialect`` in ``[tool.modelmig]`` (or a chain's own), transpiled with sqlglot
for each connection, and refused at make time, naming the model and the
connection, where the transpile is not faithful (``schema/transpile.py``)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.schema.transpile import NotFaithful, _read, _spelled, transpile

DIALECTS = ("", "postgres", "mysql", "sqlite")


@pytest.mark.parametrize(
    ("text", "source", "target", "written"),
    [
        ("price > 0", "postgres", "mysql", "price > 0"),
        ('"order" > 1', "", "mysql", "`order` > 1"),
        ("lower(email)", "postgres", "sqlite", "LOWER(email)"),
        ("CONCAT(a, b)", "mysql", "postgres", "a || b"),
        ("lock > 1", "postgres", "mysql", "`lock` > 1"),  # a command word on PostgreSQL, a column here
        ("SELECT a, count(*) FROM t GROUP BY a", "postgres", "mysql", "SELECT a, COUNT(*) FROM t GROUP BY a"),
        ("to_tsvector('english', title)", "postgres", "postgres", "to_tsvector('english', title)"),
    ],
)
def test_faithful_text_is_written_for_each_dialect(text: str, source: str, target: str, written: str) -> None:
    assert transpile(text, source, target, query=text.startswith("SELECT")) == written


@pytest.mark.parametrize(
    ("text", "source", "target", "why"),
    [
        ("name ILIKE 'a%'", "postgres", "mysql", "reads otherwise"),
        ("x::int > 0", "postgres", "mysql", "reads otherwise"),  # SIGNED is MySQL's BIGINT
        ("age(now(), d) > 1", "postgres", "sqlite", "calls age()"),
        ("x > 1; DROP TABLE t", "", "mysql", "contains ';'"),
        ("x > 1 -- and then", "postgres", "postgres", "contains a comment"),
        ("DROP TABLE t", "", "", "DROP statement"),
        ("(SELECT max(id) FROM t) > 1", "", "postgres", "SUBQUERY"),
    ],
)
def test_unfaithful_or_unsafe_text_is_refused(text: str, source: str, target: str, why: str) -> None:
    with pytest.raises(NotFaithful, match=why.replace("(", r"\(").replace(")", r"\)")):
        transpile(text, source, target)


def test_a_view_select_that_writes_is_refused_even_in_its_own_dialect() -> None:
    with pytest.raises(NotFaithful, match="DELETE"):
        transpile("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "postgres", "postgres", query=True)
    with pytest.raises(NotFaithful, match="one SELECT"):
        transpile("price > 0", "postgres", "postgres", query=True)


names = st.sampled_from(["a", "b", "price", "qty", "status", "lock", "order", "Name"])
atoms = st.one_of(
    names.map(lambda n: f'"{n}"'),
    st.integers(-1000, 1000).map(str),
    st.text("abc' %", max_size=6).map(lambda s: "'" + s.replace("'", "''") + "'"),
)


@st.composite
def expressions(draw: st.DrawFn, depth: int = 0) -> str:
    if depth > 2 or draw(st.booleans()):
        return draw(atoms)
    left, right = draw(expressions(depth + 1)), draw(expressions(depth + 1))
    shape = draw(st.sampled_from(["{} + {}", "{} * {}", "{} = {}", "{} < {}", "({}) AND ({})", "COALESCE({}, {})"]))
    return shape.format(left, right)


@settings(max_examples=150, deadline=None)
@given(expressions(), st.sampled_from(DIALECTS), st.sampled_from(DIALECTS))
def test_what_is_written_reads_back_as_the_same_text(text: str, source: str, target: str) -> None:
    """Whatever transpile writes, the target reads as the tree the source read: going
    back gives text the source reads the same (so nothing is changed on the way)."""
    try:
        written = transpile(text, "", source)
        there = transpile(written, source, target)
    except NotFaithful:
        return  # refused, said at make time: nothing written
    back = transpile(there, target, source)
    assert _spelled(_read(back, source, False), source) == _spelled(_read(written, source, False), source)


MODELS = """
class Item(Model):
    table = "items"
    schema = {"id": column("increments"), "name": column("string", 50)}
    database = {"checks": [check(%r, name="ck_items_name")]}
"""


def test_make_refuses_model_sql_a_connection_cannot_read_faithfully(make_project) -> None:
    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "other": {"url": "mysql://root@127.0.0.1:3306/never_used"}},
        extra_config='sql_dialect = "postgres"',
    )
    p.models(MODELS % "name ILIKE 'a%'")
    r = p.run("make:migration")
    assert r.exit_code != 0
    refusals = [line for line in r.output.splitlines() if "ck_items_name" in line]
    assert any("connection 'other'" in line and "Item" in line for line in refusals), r.output
    assert any("connection 'main'" in line for line in refusals), r.output
    assert p.migration_files() == []


def test_make_accepts_model_sql_every_connection_reads_faithfully(make_project) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}}, extra_config='sql_dialect = "postgres"')
    p.models(MODELS % "length(name) > 0")
    p.ok("make:migration")
    p.ok("migrate:run")
    assert len(p.migration_files()) == 1


@pytest.mark.parametrize(
    ("value", "needle"),
    [('"no such; dialect"', "'sql_dialect' must name a SQL dialect"), ("3", "'sql_dialect' must name")],
)
def test_a_bad_sql_dialect_is_one_error_naming_the_key(make_project, value: str, needle: str) -> None:
    p = make_project(extra_config=f"sql_dialect = {value}")
    p.models(MODELS % "length(name) > 0")
    r = p.run("make:migration")
    assert r.exit_code != 0 and needle in r.output, r.output


def test_an_unknown_sql_dialect_is_refused_at_make_time(make_project) -> None:
    p = make_project(extra_config='sql_dialect = "nosuchsql"')
    p.models(MODELS % "length(name) > 0")
    r = p.run("make:migration")
    assert r.exit_code != 0 and "sql_dialect 'nosuchsql' is no SQL dialect sqlglot knows" in r.output, r.output
    assert p.migration_files() == []

"""Properties of the column and table attributes, without a database: any
combination a model may give compiles to a state that a migration file writes
and reads back equal (the new fields omitted when at their default, so files
written before them keep their bytes), that the diff turns into operations whose
replay gives the target state and whose inverses give the start again, and that
each SQL renderer quotes whatever name it holds."""

from __future__ import annotations

import os
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from modelmig_core.history.source import to_source
from modelmig_core.schema import operations
from modelmig_core.schema.diff import diff_states, inverse_operations
from modelmig_core.schema.state import Column, ForeignKey, State, Table

PROFILE = os.environ.get("MODELMIG_HYPOTHESIS_PROFILE", "ci")
EXAMPLES = {"ci": 150, "fuzz": 3000}.get(PROFILE, 150)

names = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=12)
maybe = st.one_of(st.none(), names)


@st.composite
def text_columns(draw: Any) -> Column:
    return Column(
        draw(st.sampled_from(["code", "label", "body"])),
        draw(st.sampled_from(["string", "text", "char"])),
        length=50,
        nullable=True,  # added to a kept table without a backfill
        collation=draw(maybe),
        charset=draw(maybe),
        comment=draw(maybe),
    )


@st.composite
def tables(draw: Any) -> Table:
    identity = draw(st.sampled_from([None, "always", "serial"]))
    columns = {c.name: c for c in draw(st.lists(text_columns(), max_size=3))}
    stamp = Column("touched_at", "timestamp", default_now=True, on_update_now=draw(st.booleans()))
    values = draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True))
    enum = Column("mood", "enum", values=tuple(values), enum_name=draw(maybe))
    pk = Column("id", "integer", primary=True, autoincrement=True, identity=identity)
    parent = Column("parent_id", "integer", nullable=True)
    deferrable = draw(st.booleans())
    fk = ForeignKey(
        "fk_t_parent",
        ("parent_id",),
        "t",
        ("id",),
        deferrable=deferrable,
        initially="deferred" if deferrable and draw(st.booleans()) else None,
    )
    options = draw(st.dictionaries(st.sampled_from(["engine", "charset", "collation"]), st.sampled_from(["x", "y"])))
    return Table(
        "t",
        (pk, parent, stamp, enum, *columns.values()),
        foreign_keys=(fk,),
        comment=draw(maybe),
        options=options,
    )


def read_back(source: str) -> Any:
    return eval(source, {"op": operations})


@settings(max_examples=EXAMPLES)
@given(tables())
def test_a_table_with_any_attributes_is_written_and_read_back_equal(table: Table) -> None:
    source = to_source(table)
    assert read_back(source) == table
    for col in table.columns:  # a field at its default is not written
        for field, default in (("collation", None), ("charset", None), ("on_update_now", False)):
            if getattr(col, field) == default:
                assert f"{field}=" not in to_source(col)


@settings(max_examples=EXAMPLES)
@given(tables(), tables())
def test_the_diff_of_any_two_attribute_sets_replays_to_its_target_and_back(a: Table, b: Table) -> None:
    old, new = State({"t": a}), State({"t": b})
    ops = diff_states(old, new)
    state = old
    for op in ops:
        state = op.state_forwards(state)
    assert state.canonical() == new.canonical()
    for op in inverse_operations(ops):
        state = op.state_forwards(state)
    assert state.canonical() == old.canonical()
    changed = {
        "comment": a.comment != b.comment,
        "options": a.options != b.options,
    }
    kinds = {type(op).__name__ for op in ops}
    assert ("SetTableComment" in kinds) == changed["comment"]
    assert ("SetTableOptions" in kinds) == changed["options"]


@settings(max_examples=EXAMPLES, deadline=None)  # the first example builds three renderers
@given(names)
@example("any")  # a name sqlglot reads as its ANY keyword in SQLite's DDL; SQLite itself reads the collation
def test_any_collation_name_is_one_quoted_identifier_on_each_renderer(name: str) -> None:
    """The name reaches the DDL only as the dialect's quoted identifier: read back
    by sqlglot in PostgreSQL's and MySQL's dialects, the column's collation is
    exactly the name; SQLite itself, given a collation of that name, orders the
    column's rows with it."""
    import sqlite3

    import sqlglot
    from modelmig_mysql.render import MysqlRenderer
    from modelmig_pg.render import PgRenderer
    from modelmig_sqlite.render import SqliteRenderer

    col = Column("code", "string", length=20, collation=name)
    for renderer, dialect in ((PgRenderer(), "postgres"), (MysqlRenderer(), "mysql")):
        (ddl,) = [s for s in renderer.create_table(Table("t", (col,))) if s.startswith("CREATE TABLE")]
        tree = sqlglot.parse_one(ddl, read=dialect)
        found = [c for c in tree.find_all(sqlglot.exp.CollateColumnConstraint)]
        assert len(found) == 1, ddl
        assert found[0].this.name == name, (dialect, ddl)
    (ddl,) = [s for s in SqliteRenderer().create_table(Table("t", (col,))) if s.startswith("CREATE TABLE")]
    calls: list[tuple[str, str]] = []

    def collate(a: str, b: str) -> int:
        calls.append((a, b))
        return (a > b) - (a < b)

    db = sqlite3.connect(":memory:")
    try:
        db.create_collation(name, collate)
        db.execute(ddl)
        db.executemany("INSERT INTO t VALUES (?)", [("b",), ("a",)])
        assert db.execute("SELECT code FROM t ORDER BY code").fetchall() == [("a",), ("b",)]
    finally:
        db.close()
    assert calls, ddl  # the column's collation is the one named

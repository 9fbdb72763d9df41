"""The diff split into registered comparators (issue 18) returns exactly what the
one-function diff returned: the same operations in the same order, or the same
error, for generated schema changes in both directions, for unrelated pairs of
states, and for the cases the generators do not make (FK cycles among created and
dropped tables, an unchanged table's FK remade around its referenced key)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelmig_core.errors import ModelError
from modelmig_core.operations import Operation, RunSQL
from modelmig_core.schema import diff as diff_module
from modelmig_core.schema.diff import COMPARATORS, PHASES, Comparator, DiffHints, Node, diff_states, register_comparator
from modelmig_core.schema.state import Check, Column, ForeignKey, State, Table, Unique
from tests.support.fuzz import Change, changes, schemas
from tests.support.old_diff import old_diff_states

EXAMPLES = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)


def outcome(fn: Any, old: State, new: State, hints: DiffHints | None) -> list[Operation] | str:
    try:
        return fn(old, new, hints)
    except ModelError as e:
        return f"ModelError: {e}"


def assert_same(old: State, new: State, hints: DiffHints | None = None) -> list[Operation] | str:
    expected = outcome(old_diff_states, old, new, hints)
    got = outcome(diff_states, old, new, hints)
    assert got == expected
    assert repr(got) == repr(expected)  # byte for byte: what the migration file is rendered from
    return got


def inverted(change: Change, a: State) -> DiffHints:
    """The hints for going back from B to A: each declared rename the other way."""
    tables = {old: new for new, old in change.hints.tables.items()}
    columns: dict[str, dict[str, str]] = {}
    for b_table, cols in change.hints.columns.items():
        a_table = change.hints.tables.get(b_table, b_table)
        columns[a_table] = {old: new for new, old in cols.items()}
    return DiffHints(tables, columns, {}, {})


@st.composite
def schema_and_change(draw: Any) -> tuple[State, Change]:
    a = draw(schemas())
    return a, draw(changes(a))


@EXAMPLES
@given(schema_and_change())
def test_generated_changes_give_the_same_operations_both_ways(case: tuple[State, Change]) -> None:
    a, change = case
    forward = assert_same(a, change.state, change.hints)
    assert isinstance(forward, list)
    if a != change.state:
        assert forward  # a change gives operations: the comparison is never of two empty answers only
    assert_same(change.state, a, inverted(change, a))
    assert_same(change.state, a)  # no hints: renames become drops and adds (or the NOT NULL error)


@EXAMPLES
@given(schemas(), schemas())
def test_unrelated_states_give_the_same_operations_or_the_same_error(a: State, b: State) -> None:
    assert_same(a, b)
    assert_same(b, a)


def fk(table: str, col: str, ref: str, ref_cols: tuple[str, ...] = ("id",)) -> ForeignKey:
    return ForeignKey(f"fk_{table}_{col}", (col,), ref, ref_cols, None)


def pk() -> Column:
    return Column("id", "integer", primary=True, autoincrement=True)


def cycle() -> State:
    a = Table("a", (pk(), Column("b_id", "integer", nullable=True)), foreign_keys=(fk("a", "b_id", "b"),))
    b = Table("b", (pk(), Column("a_id", "integer", nullable=True)), foreign_keys=(fk("b", "a_id", "a"),))
    c = Table("c", (pk(), Column("a_id", "integer", nullable=True)), foreign_keys=(fk("c", "a_id", "a"),))
    return State({"a": a, "b": b, "c": c})


def test_fk_cycles_among_created_and_dropped_tables() -> None:
    ops = assert_same(State({}), cycle())
    assert isinstance(ops, list) and [type(op).__name__ for op in ops].count("AddForeignKey") == 1
    ops = assert_same(cycle(), State({}))
    assert isinstance(ops, list) and [type(op).__name__ for op in ops].count("DropForeignKey") == 1


def test_an_unchanged_tables_fk_is_remade_around_its_referenced_key() -> None:
    parent = Table("parent", (pk(), Column("code", "string", length=10)), uniques=(Unique("uq_code", ("code",)),))
    child = Table(
        "child", (pk(), Column("code", "string", length=10)), foreign_keys=(fk("child", "code", "parent", ("code",)),)
    )
    other = Table("other", (pk(), Column("n", "integer", nullable=True)), checks=(Check("ck_n", "n >= 0"),))
    old = State({"child": child, "other": other, "parent": parent})
    wider = replace(parent, columns=(pk(), Column("code", "string", length=40)))
    ops = assert_same(old, State({"child": child, "other": other, "parent": wider}))
    assert isinstance(ops, list)
    assert [type(op).__name__ for op in ops] == ["DropForeignKey", "AlterColumn", "AddForeignKey"]
    renamed = replace(wider, uniques=(Unique("uq_code2", ("code",)),))
    checked = replace(other, checks=(Check("ck_n", "n >= 1"),))
    ops = assert_same(old, State({"child": child, "other": checked, "parent": renamed}))
    assert isinstance(ops, list)
    assert type(ops[0]).__name__ == "DropCheck"  # before the FK: phase 0, before renames


def test_the_not_null_and_primary_key_errors_are_the_same() -> None:
    t = Table("t", (pk(), Column("n", "integer", nullable=True)))
    with_new = replace(t, columns=(*t.columns, Column("m", "integer")))
    assert str(assert_same(State({"t": t}), State({"t": with_new}))).startswith("ModelError: table t, field 'm'")
    keyed = replace(t, columns=(pk(), Column("n", "integer", primary=True)))
    assert "joins the primary key" in str(assert_same(State({"t": t}), State({"t": keyed})))


def test_a_registered_comparator_runs_after_the_builtins_of_its_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff_module, "COMPARATORS", list(COMPARATORS))

    def note(a: Table | None, b: Table | None, ctx: Any) -> list[Node]:
        op = RunSQL(f"-- {b.name if b else ''}")
        return [Node(lambda _state: op)] if b is not None and b.comment != (a.comment if a else None) else []

    register_comparator(Comparator("comments", "add", note))
    t = Table("t", (pk(), Column("n", "integer", nullable=True)))
    new = replace(t, columns=(pk(),), comment="hello")
    ops = diff_states(State({"t": t}), State({"t": new}))
    # the core's own table comment comparator (phase "columns") before the plugin's (phase "add")
    assert [type(op).__name__ for op in ops] == ["DropColumn", "SetTableComment", "RunSQL"]
    assert diff_module.COMPARATORS[-1].kind == "comments" and len(diff_module.COMPARATORS) == len(COMPARATORS) + 1
    with pytest.raises(ValueError, match="unknown phase 'later'"):
        register_comparator(Comparator("x", "later", note))
    assert "add" in PHASES

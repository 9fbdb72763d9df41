"""The shortcuts make:migration takes on a large schema give exactly what the long
way gives: a column declared alike in many models compiles once, a value shared by
``up`` and ``down`` (or by many tables) is written once, and neither merges values
that ``==`` confuses (``1``, ``1.0``, ``True``)."""

from __future__ import annotations

from modelmig_core import Model, column
from modelmig_core.history.migrations import render
from modelmig_core.history.source import to_source
from modelmig_core.model.compile import compile_sql_models
from modelmig_core.schema.diff import diff_states, inverse_operations
from modelmig_core.schema.state import State


def models() -> list[type[Model]]:
    class Ints(Model):
        table = "ints"
        schema = {"id": column("increments"), "ratio": column("float", default=1)}

    class Floats(Model):
        table = "floats"
        schema = {"id": column("increments"), "ratio": column("float", default=1.0)}

    class Flags(Model):
        table = "flags"
        schema = {"id": column("increments"), "on": column("boolean", default=True)}

    return [Ints, Floats, Flags]


def test_alike_columns_compile_once_and_unlike_ones_stay_apart() -> None:
    state = compile_sql_models(models())
    ints, floats, flags = (state.tables[n] for n in ("ints", "floats", "flags"))
    assert ints.columns[0] is floats.columns[0] is flags.columns[0]  # one id column
    assert type(ints.columns[1].default) is int and type(floats.columns[1].default) is float
    assert type(flags.columns[1].default) is bool


def test_the_file_is_what_rendering_each_operation_on_its_own_gives() -> None:
    ops = diff_states(State(), compile_sql_models(models()))
    down = inverse_operations(ops)
    text = render("20260101000000_x", "sql", None, ops, down)
    for op in [*ops, *down]:
        assert f"    {to_source(op, 1)},\n" in text  # no memo: each value rendered afresh
    assert 'op.Column("ratio", "float", default=1)' in text
    assert 'op.Column("ratio", "float", default=1.0)' in text
    assert 'op.Column("on", "boolean", default=True)' in text

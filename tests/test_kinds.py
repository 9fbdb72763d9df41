"""Kinds of keys, constraints and indexes are registered objects (issue 18, item 4):
the core's four come through the ``kinds`` hook as a plugin's do, a table holds
its members by kind (migration files written before still read and write the
same), a plugin's kind is diffed, ordered, inverted, cached and written into
migration files like the core's, and conflicting registrations are one error."""

from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelmig_core.api import AddMember, ConfigError, DropMember, Kind, Value
from modelmig_core.history import statecache
from modelmig_core.history.migrations import render
from modelmig_core.history.source import to_source
from modelmig_core.make import derive_name
from modelmig_core.model.kinds import BUILTIN_KINDS
from modelmig_core.operations import AddColumn, CreateTable, DropColumn, RenameColumn
from modelmig_core.registry import Registry
from modelmig_core.schema import diff as diff_module
from modelmig_core.schema.diff import DiffHints, diff_states, inverse_operations
from modelmig_core.schema.state import Check, Column, ForeignKey, Index, State, Table, Unique
from modelmig_core.vocabulary import kinds as kinds_module
from modelmig_core.vocabulary.kinds import kind_named, register_kinds
from tests.plugins import exclusion
from tests.plugins.exclusion import EXCLUSIONS, AddExclusion, DropExclusion, Exclusion


@pytest.fixture(autouse=True)
def _exclusions_registered() -> None:
    register_kinds([[EXCLUSIONS]])  # as a project naming the plugin does


ID = Column("id", "integer", primary=True, autoincrement=True)
ROOM = Column("room", "integer")
SLOT = Column("slot", "integer", nullable=True)


def booking(*exclusions: Exclusion, columns: tuple[Column, ...] = (ID, ROOM, SLOT)) -> Table:
    return Table("bookings", columns, exclusions=exclusions)


def replay(state: State, ops: list[Any]) -> State:
    for op in ops:
        state = op.state_forwards(state)
    return state


def test_the_core_kinds_come_through_the_hook_as_a_plugins_do() -> None:
    answered = [k for kinds in Registry().hook.kinds() for k in kinds]
    assert [k.name for k in answered if k.builtin] == ["foreign_keys", "uniques", "indexes", "checks"]
    assert all(isinstance(k, Kind) for k in answered)
    # each kind names its value, its operations (each the other's inverse) and its comparators
    for kind in BUILTIN_KINDS:
        assert kind.add.member_kind is kind and kind.drop.member_kind is kind
        assert {c.phase for c in kind.comparators} and all(c.kind == kind.name for c in kind.comparators)
        assert all(c in diff_module.COMPARATORS for c in kind.comparators)
    by_name = {k.name: k for k in BUILTIN_KINDS}
    assert (by_name["indexes"].value, by_name["uniques"].value) == (Index, Unique)
    assert (by_name["foreign_keys"].value, by_name["checks"].value) == (ForeignKey, Check)


def test_a_table_holds_its_members_by_kind() -> None:
    ex = Exclusion("ex_b", (("room", "="),))
    t = Table("bookings", (ID, ROOM), [Index("ix_b", ["room"])], checks=[Check("ck", "room > 0")], exclusions=[ex])
    assert t.indexes == (Index("ix_b", ("room",)),) and t.checks == (Check("ck", "room > 0"),)
    assert t.member("exclusions") == (ex,) and t.foreign_keys == () and t.uniques == ()
    # one table whichever way it is given; empty kinds are no members
    same = Table(
        "bookings",
        (ID, ROOM),
        members={"exclusions": (ex,), "checks": [Check("ck", "room > 0")]},
        indexes=[Index("ix_b", ("room",))],
        uniques=(),
    )
    assert same == t and hash(same) == hash(t)
    # replace changes one kind and keeps the others
    assert replace(t, indexes=()).indexes == () and replace(t, indexes=()).member("exclusions") == (ex,)
    assert replace(t, checks=()).checks == () and t.with_member("exclusions", ()).extra_members == ()


def test_migration_files_write_a_table_as_before() -> None:
    """The fields in their old order, defaults left out: old files read and write the same bytes."""
    t = Table(
        "posts",
        (ID,),
        (Index("ix_p", ("id",)),),
        (ForeignKey("fk_p", ("id",), "users", ("id",)),),
        (Check("ck_p", "id > 0"),),
        comment="the posts",
        uniques=(Unique("uq_p", ("id",)),),
    )
    text = to_source(t, 0)
    assert text.index("indexes=") < text.index("foreign_keys=") < text.index("checks=")
    assert text.index("checks=") < text.index("comment=") < text.index("uniques=")
    assert "members" not in text
    assert eval(text, {"op": __import__("modelmig_core.schema.operations", fromlist=["x"])}) == t
    assert (
        to_source(Table("t", (ID,)), 0)
        == 'op.Table("t", columns=[op.Column("id", "integer", primary=True, autoincrement=True)])'
    )


def test_a_plugin_kind_is_written_with_its_module_imported() -> None:
    ex = Exclusion("ex_b", (("room", "="),))
    ops = diff_states(State(), State({"bookings": booking(ex)}))
    source = render("0001_x", "sql", None, ops, inverse_operations(ops))
    assert "import tests.plugins.exclusion as exclusion\n" in source
    assert "exclusion.AddExclusion(" in source and 'exclusion.Exclusion("ex_b"' in source
    namespace: dict[str, Any] = {}
    exec(compile(ast.parse(source), "0001_x.py", "exec"), namespace)
    assert namespace["exclusion"] is exclusion
    assert replay(State(), namespace["up"]) == State({"bookings": booking(ex)})


def test_the_generic_comparator_orders_by_columns() -> None:
    old = State({"bookings": Table("bookings", (ID, ROOM))})
    ex = Exclusion("ex_b", (("room", "="), ("slot", "=")))
    new = State({"bookings": booking(ex)})
    ops = diff_states(old, new)
    assert [type(o) for o in ops] == [AddColumn, AddExclusion]  # after the column it uses
    assert replay(old, ops) == new
    back = diff_states(new, old)
    assert [type(o) for o in back] == [DropExclusion, DropColumn]  # before the column goes
    assert replay(new, inverse_operations(ops)) == old
    assert ops[1].describe() == "add exclusion constraint ex_b to bookings"


exclusions = st.lists(
    st.builds(
        Exclusion,
        st.sampled_from(["ex_a", "ex_b", "ex_c"]),
        st.lists(
            st.tuples(st.sampled_from(["room", "slot"]), st.sampled_from(["=", "&&", "<>"])), min_size=1, max_size=2
        ).map(tuple),
    ),
    max_size=3,
    unique_by=lambda e: e.name,
)


@settings(max_examples=60, deadline=None)
@given(exclusions, exclusions)
def test_any_change_of_a_plugin_kind_replays_and_rolls_back(a: list[Exclusion], b: list[Exclusion]) -> None:
    old, new = State({"bookings": booking(*a)}), State({"bookings": booking(*b)})
    ops = diff_states(old, new)
    assert replay(old, ops).canonical() == new.canonical()
    assert replay(new, inverse_operations(ops)).canonical() == old.canonical()
    assert (ops == []) == (old.canonical() == new.canonical())


def test_the_replay_cache_keeps_a_plugin_kind() -> None:
    state = State({"bookings": booking(Exclusion("ex_b", (("room", "="),), "gist"))})
    names: list[str] = []
    import json

    body = json.dumps(statecache.encode(state, {}, names, {}))
    assert statecache.decode(body, names, State) == state
    assert statecache.FORMAT >= 4


def test_conflicting_kinds_are_one_error() -> None:
    class AddThing(AddMember):
        """Add a thing."""

    class DropThing(DropMember):
        """Drop a thing."""

    class Thing(Value):
        pass

    with pytest.raises(ConfigError, match="'checks'"):
        register_kinds([[Kind("things", Thing, AddThing, DropThing, syntax="checks")]])
    with pytest.raises(ConfigError, match="registered twice"):
        register_kinds([[EXCLUSIONS], [Kind("exclusions", Thing, AddThing, DropThing)]])
    with pytest.raises(ConfigError, match="both claim the database key 'exclusions'"):
        register_kinds([[EXCLUSIONS], [Kind("things", Thing, AddThing, DropThing, syntax="exclusions")]])
    assert kind_named("exclusions") is EXCLUSIONS  # a refused registration changes nothing
    with pytest.raises(ConfigError, match="expected a Kind"):
        register_kinds([["exclusions"]])  # type: ignore[list-item]
    with pytest.raises(ConfigError, match="identifier"):
        Kind("not a name", Thing, AddThing, DropThing)


# ---------------------------------------------------------------- a declared column rename keeps every kind's members

ROOM_RENAMED = DiffHints(columns={"bookings": {"place": "room"}})


def renamed(table: Table) -> Table:
    """``table`` as the models say after ``room`` is renamed ``place``."""
    columns = tuple(replace(c, name="place") if c.name == "room" else c for c in table.columns)
    members = [
        (k, tuple(EXCLUSIONS.rename_column(v, "room", "place") if k == "exclusions" else v for v in values))
        for k, values in table.members
    ]
    return Table(table.name, columns, members=tuple(members))


@settings(max_examples=60, deadline=None)
@given(exclusions)
def test_a_declared_rename_keeps_a_plugin_kinds_members(found: list[Exclusion]) -> None:
    """The column a plugin's exclusion constraints use is renamed: one RenameColumn,
    never a drop and an add of a constraint (``Kind.rename_column``), both ways."""
    old = State({"bookings": booking(*found)})
    new = State({"bookings": renamed(booking(*found))})
    ops = diff_states(old, new, ROOM_RENAMED)
    assert [type(o) for o in ops] == [RenameColumn]
    assert replay(old, ops) == new and replay(new, inverse_operations(ops)) == old
    back = diff_states(new, old, DiffHints(columns={"bookings": {"room": "place"}}))
    assert [type(o) for o in back] == [RenameColumn] and replay(new, back) == old


def test_a_kind_without_its_own_rename_has_its_columns_field_rewritten(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default ``rename_column`` rewrites a value's ``columns`` field, the core's
    kinds' (an index, a unique constraint, a foreign key) as a plugin's; a check's SQL
    is never rewritten: the diff drops it before the rename and adds it after."""
    monkeypatch.setattr(kinds_module, "_REGISTERED", dict(kinds_module._REGISTERED))

    @dataclass(frozen=True)
    class Spread(Value):
        name: str
        columns: tuple[str, ...]

    class AddSpread(AddMember):
        """Add a spread."""

    class DropSpread(DropMember):
        """Drop a spread."""

    register_kinds([[Kind("spreads", Spread, AddSpread, DropSpread, columns=lambda v: v.columns)]])
    t = Table(
        "bookings",
        (ID, ROOM, SLOT),
        indexes=[Index("ix_room", ("room", "slot"))],
        uniques=[Unique("uq_room", ("room",))],
        foreign_keys=[ForeignKey("fk_room", ("room",), "rooms", ("id",))],
        checks=[Check("ck_room", "room > 0")],
        spreads=[Spread("sp_room", ("slot", "room"))],
    )
    rooms = Table("rooms", (ID,))
    (after,) = [RenameColumn("bookings", "room", "place")]
    state = after.state_forwards(State({"bookings": t, "rooms": rooms}))
    got = state.tables["bookings"]
    assert got.indexes == (Index("ix_room", ("place", "slot")),) and got.uniques == (Unique("uq_room", ("place",)),)
    assert got.foreign_keys == (ForeignKey("fk_room", ("place",), "rooms", ("id",)),)
    assert got.member("spreads") == (Spread("sp_room", ("slot", "place")),)
    assert got.checks == t.checks  # SQL text: the diff drops and adds it around the rename
    new = State({"bookings": replace(got, checks=(Check("ck_room", "place > 0"),)), "rooms": rooms})
    ops = diff_states(State({"bookings": t, "rooms": rooms}), new, ROOM_RENAMED)
    assert [type(o).__name__ for o in ops] == ["DropCheck", "RenameColumn", "AddCheck"]


def test_a_migration_creating_a_table_with_a_plugin_member_is_named_for_the_table() -> None:
    ex = Exclusion("ex_b", (("room", "="),))
    created = diff_states(State(), State({"bookings": booking(ex)}))
    assert [type(o) for o in created] == [CreateTable, AddExclusion]
    assert derive_name(created) == "create_bookings_table"
    rooms = Table("rooms", (ID,))
    both = diff_states(State(), State({"bookings": booking(ex), "rooms": rooms}))
    assert derive_name(both) == "create_bookings_rooms_tables"
    # on a table that exists, the member is the change
    added = diff_states(State({"bookings": booking()}), State({"bookings": booking(ex)}))
    assert derive_name(added) == "add_ex_b_to_bookings"
    assert derive_name([*added, *diff_states(State(), State({"rooms": rooms}))]) == "update_schema"

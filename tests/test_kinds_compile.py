"""The core's kinds compile a model's ``database`` block through their ``Kind``
objects (``model/kinds.py``), exactly as a plugin kind's entries are: each key's
entries become that kind's values in order, a value of another kind's class joins
that kind after its own entries (``unique(...)`` under ``indexes``), and a bad
entry is one error line naming the file, the model and, where there is one, the
field."""

from __future__ import annotations

from typing import Any

import pytest

from modelmig_core import Model, check, column, foreign_key, index, unique
from modelmig_core.errors import ModelError
from modelmig_core.model.compile import compile_table
from modelmig_core.model.kinds import BUILTIN_KINDS
from modelmig_core.schema.state import Check, ForeignKey, Index, Unique
from modelmig_core.vocabulary.kinds import register_kinds
from tests.plugins.exclusion import EXCLUSIONS, Exclusion, exclude


def model(database: dict[str, Any], **extra: Any) -> type[Model]:
    schema = {
        "id": column("increments"),
        "code": column("string", 20, unique=True),
        "room": column("integer", index=True),
        "parent_id": column("integer", nullable=True),
        **extra,
    }
    return type("Booking", (Model,), {"table": "bookings", "schema": schema, "database": database})


def test_each_key_compiles_through_its_kind_in_order() -> None:
    t = compile_table(
        model(
            {
                "indexes": [
                    unique(["room", "code"], name="uq_late"),
                    index(["code", "room"]),
                    index("code", unique=True),
                ],
                "unique": [unique("room", name="uq_room"), index(["room", "id"], name="uq_as_index")],
                "foreign_keys": [foreign_key("parent_id", "bookings", "id", on_delete="set null")],
                "checks": [check("room > 0", name="ck_room")],
            }
        )
    )
    # column options first, then the kind's own key, then what another key gave it
    assert t.uniques == (
        Unique("uq_bookings_code", ("code",)),
        Unique("uq_room", ("room",)),
        Unique("uq_as_index", ("room", "id")),
        Unique("uq_late", ("room", "code")),
    )
    assert t.indexes == (
        Index("ix_bookings_room", ("room",)),
        Index("ix_bookings_code_room", ("code", "room")),
        Index("uq_bookings_code", ("code",), unique=True),
    )
    assert t.foreign_keys == (
        ForeignKey("fk_bookings_parent_id_bookings", ("parent_id",), "bookings", ("id",), "SET NULL"),
    )
    assert t.checks == (Check("ck_room", "room > 0"),)
    assert {k.syntax: k.compile is not None for k in BUILTIN_KINDS} == {
        "foreign_keys": True,
        "unique": True,
        "indexes": True,
        "checks": True,
    }


@pytest.mark.parametrize(
    ("database", "message"),
    [
        ({"indexes": ["room"]}, "model Booking: database['indexes'] entries must be index(...) or unique(...)"),
        ({"unique": [unique([])]}, "model Booking: unique names no column"),
        ({"indexes": [index("nope")]}, "model Booking, field 'nope': index ix_bookings_nope names a column"),
        ({"indexes": [index("room", using="x")]}, "model Booking: index option 'using' is not supported"),
        ({"foreign_keys": [foreign_key("room", "bookings", ["id", "code"])]}, "has 1 columns but references 2"),
        ({"foreign_keys": [foreign_key("room", "x", "id", on_delete="boom")]}, "unknown referential action 'boom'"),
        ({"checks": [check("room > 0; DROP TABLE x", name="ck")]}, "model Booking, check 'ck': a check must be one"),
        ({"checks": ["room > 0"]}, "model Booking: database['checks'] entries must be check('<sql expression>')"),
        ({"elsewhere": []}, "model Booking: unknown database key 'elsewhere'"),
    ],
)
def test_a_bad_entry_is_one_line_naming_the_model(database: dict[str, Any], message: str) -> None:
    with pytest.raises(ModelError) as caught:
        compile_table(model(database))
    assert message in str(caught.value) and "test_kinds_compile.py: " in str(caught.value), caught.value


def test_a_plugin_kind_compiles_beside_the_cores() -> None:
    register_kinds([[EXCLUSIONS]])
    t = compile_table(model({"exclusions": [exclude(("room", "="))], "indexes": [index("code")]}))
    assert t.member("exclusions") == (Exclusion("bookings_room_excl", (("room", "="),)),)
    assert t.indexes[-1] == Index("ix_bookings_code", ("code",))
    with pytest.raises(ModelError, match=r"field 'nope': exclusion constraint bookings_nope_excl names a column"):
        compile_table(model({"exclusions": [exclude(("nope", "="))]}))

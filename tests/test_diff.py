"""The relational diff on its own: no database, only states."""

from __future__ import annotations

from modelmig_core import Model, column, foreign_key, index, unique
from modelmig_core.model.compile import compile_sql_models, renames
from modelmig_core.operations import (
    AddColumn,
    AddForeignKey,
    AddUnique,
    AlterColumn,
    CreateIndex,
    CreateTable,
    DropForeignKey,
    DropIndex,
    DropTable,
    DropUnique,
    RenameColumn,
    RenameTable,
)
from modelmig_core.schema.diff import DiffHints, diff_states, inverse_operations
from modelmig_core.schema.state import State


def state(*models: type[Model]) -> State:
    return compile_sql_models(list(models))


def hints(*models: type[Model]) -> DiffHints:
    return DiffHints(*renames(list(models)))


def replay(start: State, ops) -> State:
    for op in ops:
        start = op.state_forwards(start)
    return start


class Zone(Model):
    table = "zones"
    schema = {"id": column("increments"), "name": column("string", 20)}


class Account(Model):
    table = "accounts"
    schema = {"id": column("increments"), "zone_id": column("integer")}
    database = {"foreign_keys": [foreign_key("zone_id", "zones", "id", name="fk_accounts_zone")]}


def test_tables_are_created_after_the_tables_they_reference() -> None:
    ops = diff_states(State(), state(Account, Zone))
    assert [op.table.name for op in ops] == ["zones", "accounts"]
    down = inverse_operations(ops)
    assert [type(o) for o in down] == [DropTable, DropTable]
    assert [o.table.name for o in down] == ["accounts", "zones"]
    assert replay(replay(State(), ops), down) == State()


def test_cyclic_foreign_keys_are_added_after_both_tables() -> None:
    class A(Model):
        table = "a"
        schema = {"id": column("increments"), "b_id": column("integer", nullable=True)}
        database = {"foreign_keys": [foreign_key("b_id", "b", "id", name="fk_a_b")]}

    class B(Model):
        table = "b"
        schema = {"id": column("increments"), "a_id": column("integer", nullable=True)}
        database = {"foreign_keys": [foreign_key("a_id", "a", "id", name="fk_b_a")]}

    new = state(A, B)
    ops = diff_states(State(), new)
    assert [type(o) for o in ops] == [CreateTable, CreateTable, AddForeignKey]
    assert replay(State(), ops).canonical() == new.canonical()
    # dropping both again: the cycle is broken first
    drop = diff_states(new, State())
    assert [type(o) for o in drop] == [DropForeignKey, DropTable, DropTable]
    assert replay(new, drop) == State()


def test_dropping_a_referenced_table_drops_the_foreign_key_first() -> None:
    class Account2(Model):
        table = "accounts"
        schema = {"id": column("increments"), "zone_id": column("integer")}

    old, new = state(Account, Zone), state(Account2)
    ops = diff_states(old, new)
    assert [type(o) for o in ops] == [DropForeignKey, DropTable]
    assert replay(old, ops) == new
    assert replay(new, inverse_operations(ops)).canonical() == old.canonical()


def test_declared_renames_are_never_drop_plus_add() -> None:
    class Area(Model):
        table = "areas"
        renamed_from = "zones"
        schema = {"id": column("increments"), "title": column("string", 20, renamed_from="name")}

    class Account3(Model):
        table = "accounts"
        schema = {"id": column("increments"), "zone_id": column("integer")}
        database = {"foreign_keys": [foreign_key("zone_id", "areas", "id", name="fk_accounts_zone")]}

    old, new = state(Account, Zone), state(Account3, Area)
    ops = diff_states(old, new, hints(Account3, Area))
    assert [type(o) for o in ops] == [RenameTable, RenameColumn]
    assert replay(old, ops) == new


def test_index_change_is_drop_then_create_and_column_changes_are_minimal() -> None:
    class V1(Model):
        table = "t"
        schema = {"id": column("increments"), "a": column("integer"), "b": column("integer")}
        database = {"indexes": [index("a", name="ix_t")]}

    class V2(Model):
        table = "t"
        schema = {
            "id": column("increments"),
            "a": column("bigInteger"),
            "b": column("integer"),
            "c": column("string", 5, nullable=True),
        }
        database = {"indexes": [index(["a", "b"], name="ix_t")]}

    old, new = state(V1), state(V2)
    ops = diff_states(old, new)
    assert [type(o) for o in ops] == [DropIndex, AddColumn, AlterColumn, CreateIndex]
    alter = ops[2]
    assert isinstance(alter, AlterColumn) and alter.changes == {"type"}
    assert replay(new, inverse_operations(ops)).canonical() == old.canonical()


def test_no_change_no_operation() -> None:
    assert diff_states(state(Account, Zone), state(Account, Zone)) == []


def test_an_unchanged_table_remakes_its_foreign_key_when_the_referenced_key_changes() -> None:
    """The diff skips tables equal in both states, but not the foreign keys of an
    unchanged table whose referenced unique key is dropped and made again."""

    def zones(unique_name: str) -> type[Model]:
        class Z(Model):
            table = "zones"
            schema = {"id": column("increments"), "code": column("string", 8)}
            database = {"unique": [unique(["code"], name=unique_name)]}

        return Z

    class Site(Model):
        table = "sites"
        schema = {"id": column("increments"), "zone_code": column("string", 8)}
        database = {"foreign_keys": [foreign_key("zone_code", "zones", "code", name="fk_sites_zone")]}

    old, new = state(Site, zones("uq_zones_code")), state(Site, zones("uq_zones_code_v2"))
    assert old.tables["sites"] == new.tables["sites"]  # sites itself is unchanged
    ops = diff_states(old, new)
    assert [type(o) for o in ops] == [DropForeignKey, DropUnique, AddUnique, AddForeignKey]
    assert replay(old, ops) == new


def test_equal_states_give_no_operations() -> None:
    assert diff_states(state(Account, Zone), state(Account, Zone)) == []

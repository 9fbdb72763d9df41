"""Renderers dispatch an operation by its class, through the registry that
``@renders_operation`` fills: every core operation has an implementation in every
SQL driver's renderer, a subclass overrides one by class, an operation with none
gets one clear error, and no dispatch by name strings is left in the code."""

from __future__ import annotations

import importlib
import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from modelmig_core import api
from modelmig_core import operations as core_operations
from modelmig_core.api import Column, MigrationFailed, Operation, Renderer, State, Step, Table, renders_operation
from modelmig_core.make import renders_operation as make_renders_operation

ROOT = Path(__file__).resolve().parent.parent
RENDERERS = {
    "sqlite": "modelmig_sqlite.render:SqliteRenderer",
    "pg": "modelmig_pg.render:PgRenderer",
    "mysql": "modelmig_mysql.render:MysqlRenderer",
    "duckdb": "modelmig_duckdb.render:DuckdbRenderer",
}


def renderer_class(path: str) -> type[Renderer]:
    module, _, name = path.partition(":")
    cls: type[Renderer] = getattr(importlib.import_module(module), name)
    return cls


def core_operation_classes() -> list[type[Operation]]:
    found = [
        value
        for value in vars(core_operations).values()
        if isinstance(value, type) and issubclass(value, Operation) and value is not Operation
    ]
    # RunPython is run by the SQL session (a Statement with an action), never rendered
    return sorted((c for c in found if c is not api.RunPython), key=lambda c: c.__name__)


def people() -> Table:
    return Table("people", (Column("id", "integer", primary=True), Column("name", "string", length=50)))


@pytest.mark.parametrize("driver", sorted(RENDERERS))
def test_every_core_operation_has_an_implementation_in_each_sql_driver(driver: str) -> None:
    renderer = renderer_class(RENDERERS[driver])
    classes = core_operation_classes()
    assert len(classes) == 24  # the relational operations of the core but RunPython (views' 3, partitions' 3)
    missing = [c.__name__ for c in classes if not renderer.implements(c)]
    assert missing == []
    # the drivers' driver objects name these same renderers
    driver_module = importlib.import_module(RENDERERS[driver].split(".")[0] + ".driver")
    named = {getattr(v, "renderer_class", None) for v in vars(driver_module).values() if isinstance(v, type)}
    assert RENDERERS[driver] in named


def test_the_operation_classes_are_in_the_api_with_their_docstrings() -> None:
    for cls in [*core_operation_classes(), api.RunPython, Operation]:
        assert getattr(api, cls.__name__) is cls
        assert cls.__name__ in api.__all__
        # its own docstring, not the signature a dataclass writes when there is none
        assert "__doc__" in vars(cls) and cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("), cls
    assert "renders_operation" in api.__all__


def test_the_base_renderer_has_no_generic_alter_column() -> None:
    assert Renderer.implements(api.AddColumn)
    assert not Renderer.implements(api.AlterColumn)
    with pytest.raises(MigrationFailed, match=r"has no implementation of operation .*AlterColumn"):
        col = Column("name", "string", length=50)
        op = api.AlterColumn("people", col, Column("name", "string", length=80))
        Renderer().statements(Step(op, State({"people": people()}), State({"people": people()})))


def test_a_subclass_renderer_overrides_one_operation_by_class_and_its_output_is_used() -> None:
    sqlite_renderer = renderer_class(RENDERERS["sqlite"])

    class Marked(sqlite_renderer):  # type: ignore[misc,valid-type]
        @renders_operation(api.DropTable)
        def drop_marked(self, op: Any, step: Step) -> list[str]:
            return ["DELETE FROM log", *super().op_drop_table(op, step)]

    before = State({"people": people()})
    op = api.DropTable(people())
    step = Step(op, before, op.state_forwards(before))
    statements = Marked().statements(step)
    assert statements[0] == "DELETE FROM log"
    assert statements[1:] == sqlite_renderer().statements(step)  # the base's own, reached through super()
    assert sqlite_renderer.implementation(api.DropTable) is not Marked.implementation(api.DropTable)
    # the other operations stay the inherited ones
    assert Marked.implementation(api.AddColumn) is sqlite_renderer.implementation(api.AddColumn)
    # and the statements do what they say on a real SQLite database
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE log (x)")
    db.execute("INSERT INTO log VALUES (1)")
    for sql in sqlite_renderer().create_table(people()):
        db.execute(sql)
    for sql in statements:
        db.execute(sql)
    assert db.execute("SELECT count(*) FROM log").fetchone() == (0,)
    assert db.execute("SELECT name FROM sqlite_master WHERE name = 'people'").fetchall() == []


def test_an_operation_subclass_uses_its_nearest_base_classs_implementation() -> None:
    class AddAuditedColumn(api.AddColumn):
        """A plugin's AddColumn: rendered as AddColumn until a renderer says otherwise."""

    sqlite_renderer = renderer_class(RENDERERS["sqlite"])
    assert sqlite_renderer.implements(AddAuditedColumn)
    before = State({"people": people()})
    op = AddAuditedColumn("people", Column("note", "text", nullable=True))
    plain = api.AddColumn("people", Column("note", "text", nullable=True))
    after = op.state_forwards(before)
    assert sqlite_renderer().statements(Step(op, before, after)) == sqlite_renderer().statements(
        Step(plain, before, after)
    )


def test_an_unknown_operation_class_gives_one_clear_error_naming_it_and_the_renderer() -> None:
    class Frobnicate(Operation):
        """An operation no renderer knows."""

        def describe(self) -> str:
            return "frobnicate"

    for path in RENDERERS.values():
        cls = renderer_class(path)
        assert not cls.implements(Frobnicate)
        with pytest.raises(MigrationFailed) as info:
            cls().statements(Step(Frobnicate(), State(), State()))
        message = str(info.value)
        assert "\n" not in message
        assert f"{__name__}." in message and "Frobnicate" in message
        assert cls.__qualname__ in message and "has no implementation of operation" in message


def test_an_override_without_the_mark_is_refused_where_it_is_written() -> None:
    with pytest.raises(TypeError, match=r"Unmarked\.op_drop_table overrides an operation's implementation"):

        class Unmarked(Renderer):
            def op_drop_table(self, op: Any, step: Step) -> list[str]:
                return []


def test_renders_operation_takes_operation_classes_only() -> None:
    with pytest.raises(TypeError, match="takes operation classes"):
        renders_operation("DropTable")  # type: ignore[arg-type]


class Lacking(Renderer):
    """A renderer with no AlterColumn (the base has no generic form)."""


class FakeDriver:
    renderer_class = f"{__name__}:Lacking"


def test_make_asks_the_drivers_renderer_whether_it_implements_a_planned_operation() -> None:
    alter = api.AlterColumn("people", Column("name", "string", length=50), Column("name", "string", length=80))
    add = api.AddColumn("people", Column("note", "text", nullable=True))
    assert not make_renders_operation(FakeDriver(), alter)  # type: ignore[arg-type]
    assert make_renders_operation(FakeDriver(), add)  # type: ignore[arg-type]
    assert make_renders_operation(FakeDriver(), api.RunPython(lambda c: None))  # type: ignore[arg-type]
    assert make_renders_operation(object(), alter)  # type: ignore[arg-type]  # no renderer: its Features answer


def source_files() -> list[Path]:
    files = [
        *(ROOT / "modelmig_core").rglob("*.py"),
        *(ROOT / "drivers").rglob("*.py"),
        *(ROOT / "plugins").rglob("*.py"),
    ]
    return [f for f in files if ".venv" not in f.parts and "build" not in f.parts]


def operation_class_names() -> set[str]:
    import modelmig_mongo.operations as mongo_operations

    return {
        value.__name__
        for module in (core_operations, mongo_operations)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, Operation)
    }


def test_no_dispatch_or_operation_test_by_name_string_is_left() -> None:
    files = source_files()
    assert len(files) > 50
    names = operation_class_names()
    assert {"DropColumn", "AlterColumn", "RunSQL"} <= names and len(names) > 17  # the mongo ones too
    by_name = re.compile(r"""["']op_["']\s*\+|f["']op_\{|getattr\(\s*self\s*,\s*["']op_""")
    name_test = re.compile(r"""__name__\s*(==|!=|in)\s*[\(\[{]?\s*["'](""" + "|".join(sorted(names)) + r""")["']""")
    found = []
    for path in files:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if by_name.search(line) or name_test.search(line):
                found.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert found == []
    # the patterns find what they are for
    assert by_name.search('method = getattr(self, "op_" + snake(type(step.op).__name__), None)')
    assert name_test.search('if any(type(s.op).__name__ == "DropColumn" for s in steps):')
    assert name_test.search('type(op).__name__ in ("AddColumn", "DropColumn")')

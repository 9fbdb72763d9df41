"""Kinds of keys, constraints and indexes: registered objects, the core's own
(index, unique, foreign key, check) as a plugin's are.

A ``Kind`` names what a table holds of it (``Table.members[kind.name]``, a tuple of
its state values, each with a ``name``), the operations that add and drop one
(``add(table, value)`` / ``drop(table, value)``, each the other's inverse, which
change the state), its comparator (by default: a value that is gone or changed is
dropped before the columns change, one that is new or changed is added after the
tables and their foreign keys exist), its model syntax (the key of a model's
``database`` block and how an entry there becomes a value), how each dialect renders
its operations and reads it back from a live database, and how make:models writes
a value back into a model.

Plugins contribute kinds through the ``kinds`` hook; the process remembers every
kind it was given (``register_kinds``) so that replay, the diff, the renderers and
reflection of this process know them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import ConfigError

#: ``render[dialect](renderer, op, step) -> statements`` for the kind's add and drop operations
RenderFn = Callable[[Any, Any, Any], list[str]]
#: ``reflect[dialect](connection, tables) -> {table: [values]}``: one query for every table
ReflectFn = Callable[[Any, Sequence[str]], Mapping[str, Sequence[Any]]]


class ModelProblem(ValueError):
    """What a kind's ``compile`` raises when an entry of a model's ``database`` block
    cannot compile and the message says on its own what it is about: the core
    writes it after the model (``field``: the column it names; ``subject``: what
    follows the model, ``check 'ck_x'``) instead of after ``database[key]``."""

    def __init__(self, message: str, field: str | None = None, subject: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.subject = subject


def columns_field(value: Any) -> tuple[str, ...]:
    """The columns a value names in its ``columns`` field (none when it has no such field)."""
    return tuple(getattr(value, "columns", ()) or ())


def rename_in_columns(value: Any, old: str, new: str) -> Any:
    """``value`` with column ``old`` renamed to ``new`` in its ``columns`` field, when it
    has one (a tuple of column names); otherwise ``value`` as it is."""
    if "columns" not in getattr(value, "__dataclass_fields__", {}):
        return value
    columns = tuple(new if c == old else c for c in value.columns)
    return value if columns == tuple(value.columns) else replace(value, columns=columns)


@dataclass(frozen=True, eq=False)
class Kind:
    """One kind of key, constraint or index.

    - ``name``: the key of ``Table.members`` that holds its values (``"exclusions"``);
      a migration file writes them as ``op.Table(..., exclusions=[...])``.
    - ``value``: its state value class (a frozen dataclass with a ``name``).
    - ``add`` / ``drop``: its operation classes, built as ``add(table, value)``; the
      core's ``AddMember`` / ``DropMember`` give state application and inverses.
    - ``label``: how messages name it (``"exclusion constraint"``).
    - ``syntax``: the key of a model's ``database`` block that declares it, and
      ``compile(entry, table) -> value`` what an entry there becomes (raise
      ``ValueError`` with the reason: the core names the model and the key, or
      ``ModelProblem`` with a message that says on its own what it is about); a
      value of another registered kind's ``value`` class joins that kind (the core's
      ``unique(...)`` under ``indexes``), after that kind's own entries.
      ``columns(value)`` the columns a value uses (checked against the model, and
      ordered after them). The core's four kinds compile their keys this way too.
    - ``render``: {SQLAlchemy dialect name: ``fn(renderer, op, step)``} for its add and
      drop operations (a driver's renderer may also mark its own method with
      ``@renders_operation``); a connection whose driver has neither is refused at
      make time.
    - ``reflect``: {dialect name: ``fn(connection, tables)``} its values on a live
      database (drift, make:models, baseline).
    - ``describe(value)``: a value in a drift report (default: its fields).
    - ``model_call(value) -> (function, args, kwargs)``: the ``database`` entry
      make:models writes for a value, a call of ``function`` of module
      ``model_module`` (imported by the models file) with these Python values (each
      written as a literal; kwargs as (name, value) pairs); ``ValueError`` when a
      model cannot say it (make:models notes it, left out). The core's kinds write
      the model DSL's own functions (no ``model_module``).
    - ``rename_column(value, old, new) -> value``: the value once column ``old`` of
      its table is renamed ``new`` (a declared ``renamed_from``: the value is kept,
      never dropped and added again). Default: ``rename_in_columns``, which rewrites
      a ``columns`` field; a value that names columns otherwise gives its own.
    - ``comparators``: ``diff.Comparator`` objects; empty gives the generic pair.
    - ``requires``: ``Features`` flags its operations need.
    """

    name: str
    value: type
    add: type
    drop: type
    label: str = ""
    syntax: str | None = None
    compile: Callable[[Any, str], Any] | None = None
    columns: Callable[[Any], Iterable[str]] = field(default=lambda value: ())
    render: Mapping[str, RenderFn] = field(default_factory=dict)
    reflect: Mapping[str, ReflectFn] = field(default_factory=dict)
    describe: Callable[[Any], str] | None = None
    model_call: Callable[[Any], tuple[str, Sequence[Any], Sequence[tuple[str, Any]]]] | None = None
    model_module: str | None = None
    comparators: tuple[Any, ...] = ()
    requires: tuple[str, ...] = ()
    #: one of the core's kinds (rendered and reflected by the core itself)
    builtin: bool = False
    rename_column: Callable[[Any, str, str], Any] = field(default=rename_in_columns)

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise ConfigError(f"kind {self.name!r}: the name must be an identifier")
        for op_class in (self.add, self.drop):
            op_class.member_kind = self  # the operation finds its kind (inverse, rendering)

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"

    @property
    def title(self) -> str:
        return self.label or self.name


_REGISTERED: dict[str, Kind] = {}

#: the core's kinds' names and database keys: no plugin's kind may take them
CORE_NAMES = frozenset({"foreign_keys", "indexes", "uniques", "checks"})
CORE_SYNTAX = frozenset({"foreign_keys", "indexes", "unique", "checks"})


def register_kinds(groups: Iterable[Iterable[Kind] | None]) -> dict[str, Kind]:
    """The kinds a ``kinds`` hook answered (one iterable per plugin), by name. Two
    different kinds under one name or one database key among them, a kind that
    takes a name or key of the core's, or an entry that is no Kind, are a
    ConfigError. Each is remembered process-wide, as column types are: a later
    registration (another project's plugins) replaces what an earlier one said
    under its names and keys."""
    out: dict[str, Kind] = {}
    for group in groups:
        for entry in group or ():
            if not isinstance(entry, Kind):
                raise ConfigError(f"a kinds hook returned {entry!r}: expected a Kind (modelmig_core.api)")
            if not entry.builtin and (entry.name in CORE_NAMES or entry.syntax in CORE_SYNTAX):
                taken = entry.name if entry.name in CORE_NAMES else entry.syntax
                raise ConfigError(f"kind {entry.name!r}: {taken!r} is the core's own (a table's or model's key)")
            seen = out.get(entry.name)
            if seen is not None and seen is not entry and not (seen.builtin and entry.builtin):
                raise ConfigError(f"kind {entry.name!r} is registered twice ({seen!r} and {entry!r})")
            other = next((k for k in out.values() if entry.syntax and k.syntax == entry.syntax), None)
            if other is not None and other.name != entry.name:
                raise ConfigError(
                    f"kinds {other.name!r} and {entry.name!r} both claim the database key {entry.syntax!r}"
                )
            out[entry.name] = entry
    claimed = {k.syntax for k in out.values() if k.syntax}
    for name, known in list(_REGISTERED.items()):
        if name not in out and known.syntax in claimed:
            del _REGISTERED[name]
    _REGISTERED.update(out)
    return out


def registered_kinds() -> list[Kind]:
    """Every kind registered in this process, in registration order."""
    return list(_REGISTERED.values())


def plugin_kinds() -> list[Kind]:
    """The registered kinds that are not the core's own."""
    return [k for k in _REGISTERED.values() if not k.builtin]


def kind_named(name: str) -> Kind | None:
    return _REGISTERED.get(name)


def kind_of(op_class: type) -> Kind | None:
    """The kind whose add or drop operation ``op_class`` is (or inherits from)."""
    found = getattr(op_class, "member_kind", None)
    return found if isinstance(found, Kind) else None

"""``make:models``: a models module from a live SQL database, in the style a
person would write it.

The database is reflected (``Driver.reflect``, the same state values replay
produces) and each table becomes a ``Model``: the class named after the table
(singular, CamelCase), ``increments``/``bigIncrements`` for identity, serial
and auto-increment keys, ``column("timestamp")`` for a timestamp that defaults
to now, ``softDeletes`` for a nullable ``deleted_at``, ``use_tz`` where the
database keeps a time zone, ``unique=True``/``index=True`` for one-column
indexes with modelmig's names, and in ``database`` the named foreign keys,
indexes, unique constraints and checks; a ``belongsTo`` relation per
one-column foreign key. The module imports only ``modelmig_core``.

Everything read from the database (names, expressions, defaults, comments, enum
values) is hostile text. The models are first described as data (``Call``: a
DSL function and the Python values of its arguments); the module is rendered
from that description with every such value a Python literal (``literal``: no
line break or control character is ever written raw, so nothing can leave its
string), and class names are built from ASCII letters and digits only. The
generated source is never executed: it is parsed (``ast.parse``) and read back
(``read_back``, literals only) to prove it says exactly what was described, and
the models built from the description itself are compared with the live schema
(``drift.py``). What the models cannot say (a type modelmig has no name for, an
expression default, an expression index, a table whose name a model cannot
hold) is reported as a warning, and listed in the module's ``UNMANAGED`` tuple
of string literals; so is every object of the database outside the models (views,
triggers, functions, sequences, virtual tables... the driver's
``Reflection.unmanaged_objects``), under a summary line, never as a model. The file is formatted with ``ruff
format`` when ruff is installed, and kept unformatted if the formatted file does not read back the
same.
"""

from __future__ import annotations

import ast
import importlib.util
import keyword
import math
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import ConfigError, ModelError, ModelmigError
from ..model.compile import check_references, compile_column, compile_sql_models, compile_table
from ..model.dsl import KeyPart, Model, check, column, foreign_key, index, part, partition, relation, unique
from ..model.kinds import BUILTIN_KINDS
from ..schema.state import Column, ForeignKey, Index, Partition, State, Table, Unique
from ..schema.views import Unmanaged, unmanaged_summary
from ..targets import Target
from ..vocabulary.column_types import DEFAULT_STRING_LENGTH, STATE_TYPES, is_registered, registered_types
from ..vocabulary.kinds import Kind, kind_named, plugin_kinds
from ..vocabulary.naming import index_name

Echo = Callable[[str], None]
DSL_NAMES = ("Model", "View", "check", "column", "foreign_key", "index", "part", "partition", "relation", "unique")
DSL: dict[str, Callable[..., Any]] = {
    "check": check,
    "column": column,
    "foreign_key": foreign_key,
    "index": index,
    "part": part,
    "partition": partition,
    "relation": relation,
    "unique": unique,
}
#: the module-level tuple of what the models cannot say
NOTES_NAME = "UNMANAGED"
#: the ``__module__`` of the models built from a description (never imported)
MODULE = "modelmig_make_models"


class UnwritableValue(ModelmigError):
    """A value read from the database that has no Python literal (NaN, an object)."""


# ---------------------------------------------------------------- literals


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    known = _ESCAPES.get(ch)
    if known is not None:
        return known
    if ch.isprintable():
        return ch
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def escape(text: str) -> str:
    """The body of a double-quoted Python string literal of ``text``: quotes and
    backslashes escaped, and every character that is not printable (line breaks of
    every kind: ``\\n \\r \\x0b \\x0c \\x1c-\\x1e \\x85 U+2028 U+2029``; NUL,
    control, format and surrogate characters) written as an escape, so the literal
    is one line of printable text that ends where it should."""
    return "".join(_escape_char(ch) for ch in text)


def shown(text: str) -> str:
    """``text`` for a line of terminal output: unprintable characters escaped."""
    return "".join(ch if ch.isprintable() else _escape_char(ch) for ch in str(text))


def literal(value: Any) -> str:
    """Python source for ``value`` (None, bool, int, finite float, str, and lists
    and tuples of those), which ``ast.literal_eval`` reads back equal; anything
    else is refused (``UnwritableValue``)."""
    if value is None or type(value) is bool or type(value) is int:
        return repr(value)
    if type(value) is float:
        if not math.isfinite(value):
            raise UnwritableValue(f"{value!r} is not a finite number")
        return repr(value)
    if type(value) is str:
        return '"' + escape(value) + '"'
    if isinstance(value, Call):  # a nested DSL call (an index's part(...)), its arguments literals
        return value.source()
    if type(value) is list:
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if type(value) is tuple:
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    raise UnwritableValue(f"a {type(value).__name__} value has no Python literal")


# kept for callers of the old name
py = literal


# ---------------------------------------------------------------- names


def singular(word: str) -> str:
    """posts -> post, categories -> category, addresses -> address, status -> status."""
    low = word.lower()
    if low.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if low.endswith(("sses", "shes", "ches", "xes", "zzes")):
        return word[:-2]
    if low.endswith("s") and not low.endswith(("ss", "us", "is")) and len(word) > 1:
        return word[:-1]
    return word


def class_name(table: str) -> str:
    """post_tag -> PostTag, categories -> Category, ``a.b c'd`` -> ABCD: CamelCase
    of the table name's ASCII letters and digits only (every other character
    separates words), so a class name is always a plain identifier."""
    parts = "".join(ch if ch.isascii() and ch.isalnum() else " " for ch in table).split()
    if not parts:
        return "Table"
    parts[-1] = singular(parts[-1])
    name = "".join(p[:1].upper() + p[1:] for p in parts)
    if not name[:1].isalpha() or keyword.iskeyword(name):
        name = "T" + name
    return name


# ---------------------------------------------------------------- the description


@dataclass(frozen=True)
class Call:
    """``fn(*args, **kwargs)``, one DSL call, its arguments as Python values."""

    fn: str
    args: tuple[Any, ...] = ()
    kwargs: tuple[tuple[str, Any], ...] = ()
    #: the module ``fn`` comes from when it is no DSL function (a plugin kind's ``model_module``)
    module: str | None = None

    def source(self) -> str:
        parts = [literal(a) for a in self.args] + [f"{k}={literal(v)}" for k, v in self.kwargs]
        return f"{self.fn}({', '.join(parts)})"

    def build(self) -> Any:
        args, kwargs = [built(a) for a in self.args], {k: built(v) for k, v in self.kwargs}
        if self.module is not None:  # a registered plugin kind's: its module is imported already
            return getattr(sys.modules[self.module], self.fn)(*args, **kwargs)
        return DSL[self.fn](*args, **kwargs)

    def nested(self) -> set[str]:
        """The DSL functions this call's arguments call (``part``)."""
        found: set[str] = set()
        for v in (*self.args, *(v for _, v in self.kwargs)):
            for item in v if isinstance(v, list) else [v]:
                if isinstance(item, Call):
                    found |= {item.fn, *item.nested()}
        return found


def built(value: Any) -> Any:
    """An argument of a ``Call`` as the DSL takes it: nested calls made."""
    if isinstance(value, Call):
        return value.build()
    if isinstance(value, list):
        return [built(v) for v in value]
    return value


def part_call(value: Any) -> Any:
    """A ``KeyPart`` a kind's ``model_call`` gave as the ``part(...)`` call that makes it
    (lists of them too); anything else as it is."""
    if isinstance(value, list):
        return [part_call(v) for v in value]
    if not isinstance(value, KeyPart):
        return value
    args = (value.column,) if value.column is not None else ()
    kw = [("sql", value.sql)] if value.sql is not None else []
    kw += [("desc", True)] if value.desc else []
    kw += [("length", value.length)] if value.length is not None else []
    kw += [("ops", value.ops)] if value.ops is not None else []
    return Call("part", args, tuple(kw))


@dataclass
class ModelSource:
    """One model, described: its class, table, ``schema`` and ``database`` entries."""

    table: Table
    cls: str
    schema: list[tuple[str, Call]] = field(default_factory=list)
    database: list[tuple[str, list[Any]]] = field(default_factory=list)  # calls; a primary key: names
    notes: list[str] = field(default_factory=list)  # what the models cannot say
    #: each partition's entry: its bound, or a ``partition(...)`` call (its own keys)
    partitions: list[tuple[str, Any]] = field(default_factory=list)

    def partition_entries(self) -> list[tuple[str, Any]]:
        return self.partitions or [(p.name, p.bound) for p in self.table.partitions]

    @property
    def uses(self) -> set[str]:
        calls = [c for _, c in self.schema] + [c for _, cs in self.database for c in cs if isinstance(c, Call)]
        calls += [c for _, c in self.partition_entries() if isinstance(c, Call)]
        return {c.fn for c in calls}.union(*(c.nested() for c in calls))

    def shape(self) -> tuple[Any, ...]:
        database: list[tuple[str, Any]] = [(k, list(calls)) for k, calls in self.database]
        if self.table.primary_name is not None:
            database.append(("primary_key_name", self.table.primary_name))
        parts = dict(self.partition_entries())
        table = self.table
        return (
            self.cls,
            table.name,
            list(self.schema),
            database,
            table.comment,
            dict(table.options),
            table.partition_by,
            parts,
        )

    def lines(self) -> list[str]:
        out = [f"class {self.cls}(Model):", f"    table = {literal(self.table.name)}"]
        if self.table.comment is not None:
            out.append(f"    comment = {literal(self.table.comment)}")
        if self.table.options:
            pairs = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in self.table.options)
            out.append(f"    options = {{{pairs}}}")
        if self.table.partition_by is not None:
            method, columns = self.table.partition_by
            out.append(f"    partition_by = ({literal(method)}, [{', '.join(literal(c) for c in columns)}])")
        if self.table.partitions:
            out.append("    partitions = {")
            out += [f"        {literal(name)}: {literal(entry)}," for name, entry in self.partition_entries()]
            out.append("    }")
        out.append("    schema = {")
        out += [f"        {literal(key)}: {call.source()}," for key, call in self.schema]
        out.append("    }")
        if self.database or self.table.primary_name is not None:
            out.append("    database = {")
            for key, calls in self.database:
                out.append(f"        {literal(key)}: [")
                out += [f"            {literal(c)}," for c in calls]  # a call, or a primary key's column
                out.append("        ],")
            if self.table.primary_name is not None:
                out.append(f'        "primary_key_name": {literal(self.table.primary_name)},')
            out.append("    }")
        return out

    def model(self) -> type[Model]:
        """The model class itself, built from the description (nothing is executed)."""
        body: dict[str, Any] = {
            "__module__": MODULE,
            "__qualname__": self.cls,
            "table": self.table.name,
            "schema": {key: call.build() for key, call in self.schema},
        }
        if self.table.comment is not None:
            body["comment"] = self.table.comment
        if self.table.options:
            body["options"] = dict(self.table.options)
        if self.table.partition_by is not None:
            body["partition_by"] = (self.table.partition_by[0], list(self.table.partition_by[1]))
            body["partitions"] = {name: built(entry) for name, entry in self.partition_entries()}
        if self.database or self.table.primary_name is not None:
            database: dict[str, Any] = {key: [built(c) for c in calls] for key, calls in self.database}
            if self.table.primary_name is not None:
                database["primary_key_name"] = self.table.primary_name
            body["database"] = database
        return type(self.cls, (Model,), body)


@dataclass(frozen=True)
class ViewSource:
    """One view model: its class, the view's name and its SELECT."""

    cls: str
    name: str
    select: str
    materialized: bool = False

    def shape(self) -> tuple[Any, ...]:
        return (self.cls, self.name, self.select, self.materialized)

    def lines(self) -> list[str]:
        out = [f"class {self.cls}(View):", f"    view = {literal(self.name)}", f"    select = {literal(self.select)}"]
        return out + (["    materialized = True"] if self.materialized else [])

    def model(self) -> type[Model]:
        from ..model.dsl import View

        body = {"__module__": MODULE, "__qualname__": self.cls, "view": self.name, "select": self.select}
        return type(self.cls, (View,), {**body, "materialized": self.materialized})


@dataclass
class Generated:
    connection: str
    models: list[ModelSource]
    left_out: list[str] = field(default_factory=list)  # notes on tables the models leave out
    #: the database's objects outside the models (views, triggers, functions, ...)
    objects: list[Unmanaged] = field(default_factory=list)
    #: the views written as view models (their SELECT read as one SELECT)
    views: list[ViewSource] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        return [*self.left_out, *(n for m in self.models for n in m.notes), *(o.line for o in self.objects)]

    def shape(self) -> tuple[Any, ...]:
        return (self.notes, [m.shape() for m in self.models], [v.shape() for v in self.views])

    def source(self) -> str:
        uses = {"Model"} | {u for m in self.models for u in m.uses} | ({"View"} if self.views else set())
        out = [
            '"""'
            + escape(f"The tables of connection {self.connection} as models (written by modelmig make:models).")
            + '"""',
            "",
            f"from modelmig_core import {', '.join(n for n in DSL_NAMES if n in uses)}",
        ]
        plugin_calls = {
            (c.module, c.fn)
            for m in self.models
            for _, calls in m.database
            for c in calls
            if isinstance(c, Call) and c.module is not None
        }
        out += [f"from {module} import {fn}" for module, fn in sorted(plugin_calls)]
        if self.notes:
            out += ["", "#: what these models cannot say (make:models left it out; drift reports it)"]
            if self.objects:  # counts and the drivers' kind words only, unprintable characters escaped
                out.append("#: " + shown(unmanaged_summary(self.objects)))
            out += [f"{NOTES_NAME} = ("] + [f"    {literal(n)}," for n in self.notes] + [")"]
        for m in self.models:
            out += ["", "", *m.lines()]
        for v in self.views:
            out += ["", "", *v.lines()]
        return "\n".join(out) + "\n"

    def build(self) -> list[type[Model]]:
        return [m.model() for m in self.models]


# ---------------------------------------------------------------- one model


def column_call(m: ModelSource, col: Column, expressions: dict[tuple[str, str], str]) -> Call:
    """``column(...)`` for one column, as a person would write it."""
    t = m.table
    args: list[Any] = []
    kw: list[tuple[str, Any]] = []
    where = f"{t.name}.{col.name}"
    default = col.default
    if (t.name, col.name) in expressions:
        m.notes.append(f"{where}: default {expressions[(t.name, col.name)]} is an SQL expression, left out")
        default = None
    if default is not None:
        try:
            literal(default)
        except UnwritableValue as exc:
            m.notes.append(f"{where}: default {default!r} cannot be written in a model ({exc}), left out")
            default = None
    single_pk = t.primary_key == (col.name,)
    if col.autoincrement and single_pk and col.type in ("integer", "bigInteger"):  # unsigned ones keep their type
        typ = "increments" if col.type == "integer" else "bigIncrements"
    elif col.type not in STATE_TYPES and not is_registered(col.type):  # a plugin's type is written as itself
        shown = f"{col.type}[]" if col.array else col.type  # an array of a type without a name: said whole
        m.notes.append(f"{where}: database type {shown} has no modelmig type; written as text")
        typ = "text"
        if col.nullable:
            kw.append(("nullable", True))
        if col.primary:
            kw.append(("primary", True))
    elif col.type in ("timestamp", "utcTimestamp"):
        if col.precision is not None:
            args.append(col.precision)
        if col.default_now:
            typ = col.type
            if col.nullable:
                kw.append(("nullable", True))
        elif (
            default is None
            and col.default_sql is None
            and col.nullable
            and col.name == "deleted_at"
            and col.type == "timestamp"
        ):
            typ = "softDeletes"
        else:
            typ = col.type
            if default is not None:
                kw.append(("default", default))
            else:
                kw.append(("default_now", False))
            if not col.nullable:
                kw.append(("nullable", False))
        if col.use_tz:
            kw.append(("use_tz", True))
        if col.primary:  # a timestamp in a composite primary key
            kw.append(("primary", True))
    else:
        typ = col.type
        if col.type == "string" and col.length is not None and col.length != DEFAULT_STRING_LENGTH:
            args.append(col.length)
        elif col.type == "char":
            args.append(col.length)
        elif col.type == "decimal":
            args.append((col.precision, col.scale))
        elif col.type in ("enum", "set"):
            args.append(list(col.values or ()))
        elif col.type in ("varbinary", "fixedBinary"):
            args.append(col.length)
        elif col.type == "time" and col.precision is not None:
            args.append(col.precision)
        if col.nullable and not col.primary:
            kw.append(("nullable", True))
        if col.default_now:
            m.notes.append(f"{where}: a {col.type} column that defaults to the current time; default left out")
        elif default is not None:
            kw.append(("default", default))
        if col.use_tz:
            kw.append(("use_tz", True))
        if col.primary:
            kw.append(("primary", True))
        if col.autoincrement:
            kw.append(("autoincrement", True))
    if col.array and (col.type in STATE_TYPES or is_registered(col.type)):
        kw.append(("array", True))
    if any(_column_level(t, u, True) for u in t.uniques if u.columns == (col.name,)):
        kw.append(("unique", True))
    if any(_column_level(t, ix, False) for ix in t.indexes if ix.columns == (col.name,) and not ix.unique):
        kw.append(("index", True))
    if col.comment:
        kw.append(("comment", col.comment))
    kw += [(a, getattr(col, a)) for a in ("collation", "charset", "identity", "enum_name") if getattr(col, a)]
    if col.on_update_now:
        kw.append(("on_update_now", True))
    if col.default_sql is not None:  # an expression default says itself, in the declared dialect
        kw = [(k, v) for k, v in kw if k not in ("default", "default_now")]
        kw.append(("default_sql", col.default_sql))
    if col.generated is not None:  # the database computes it: no default of its own
        kw = [(k, v) for k, v in kw if k not in ("default", "default_now", "default_sql")]
        kw.append(("generated", col.generated))
        if col.stored:
            kw.append(("stored", True))
    return Call("column", (typ, *args), tuple(kw))


def _column_level(t: Table, ix: Index | Unique, unique: bool) -> bool:
    plain = not isinstance(ix, Index) or ix == Index(ix.name, ix.columns, ix.unique)  # no option to say
    return plain and len(ix.columns) == 1 and ix.name == index_name(t.name, ix.columns, unique)


def relation_name(fk: ForeignKey, taken: set[str]) -> str | None:
    column = fk.columns[0]
    name = column[:-3] if column.endswith("_id") and len(column) > 3 else singular(fk.ref_table)
    ok = name.isascii() and name.isidentifier() and not keyword.iskeyword(name)
    return None if name in taken or not ok else name


def describe_model(m: ModelSource, classes: dict[str, str], expressions: dict[tuple[str, str], str]) -> ModelSource:
    """Fill ``m``'s schema and database entries from its table; ``classes`` are the
    tables that get a model (foreign keys to any other are left out, noted)."""
    t = m.table
    m.schema, m.database = [], []
    taken = set(t.column_names)
    for col in t.columns:
        m.schema.append((col.name, column_call(m, col, expressions)))
    fks = []
    for fk in t.foreign_keys:
        if fk.ref_table not in classes:
            m.notes.append(f"{t.name}.{fk.name}: a foreign key to table {fk.ref_table}, which has no model; left out")
            continue
        fks.append(fk)
        name = relation_name(fk, taken) if len(fk.columns) == 1 else None
        if name is None:
            continue
        taken.add(name)
        call = Call("relation", ("belongsTo", classes[fk.ref_table]), (("foreign_key", fk.columns[0]),))
        m.schema.append((name, call))
    # a value a column's own option declares (unique=True, index=True) is not written again
    said = {u for u in t.uniques if _column_level(t, u, True)}
    said |= {ix for ix in t.indexes if not ix.unique and _column_level(t, ix, False)}
    prefixes = {c.name: c.primary_length for c in t.columns if c.primary and c.primary_length is not None}
    if prefixes or t.primary_key != tuple(c.name for c in t.columns if c.primary):  # PRIMARY KEY (b, a(100))
        key = [part_call(KeyPart(c, length=prefixes[c])) if c in prefixes else c for c in t.primary_key]
        m.database.append(("primary_key", key))
    writable = {"foreign_keys": tuple(fks), "indexes": tuple(_index_methods_kept(m, t))}
    for kind_name, values in written_members(t):
        kind = BUILTIN_BY_NAME.get(kind_name) or kind_named(kind_name)
        kept = [v for v in writable.get(kind_name, values) if v not in said]
        entries = member_calls(t, kind_name, kind, kept, m.notes)
        if entries:
            m.database.append((kind.syntax if kind is not None and kind.syntax else kind_name, entries))
    m.partitions = [(p.name, partition_entry(t, p, classes, m.notes)) for p in t.partitions]
    return m


def partition_entry(t: Table, p: Partition, classes: dict[str, str], notes: list[str]) -> Any:
    """A partition as a model writes it: its bound, or ``partition(bound,
    indexes=[...], foreign_keys=[...])`` when it has indexes or foreign keys of its
    own (a foreign key to a table without a model left out, noted)."""
    fks = []
    for fk in p.foreign_keys:
        if fk.ref_table in classes:
            fks.append(fk)
        else:
            notes.append(f"{p.name}.{fk.name}: a foreign key to table {fk.ref_table}, which has no model; left out")
    own = replace(t, name=p.name, partitions=())
    kwargs = []
    for kind_name, values in (("indexes", p.indexes), ("foreign_keys", tuple(fks))):
        calls = member_calls(own, kind_name, BUILTIN_BY_NAME[kind_name], values, notes)
        if calls:
            kwargs.append((kind_name, calls))
    return Call("partition", (p.bound,), tuple(kwargs)) if kwargs else p.bound


#: the core's kinds by name (whether or not a registry has registered them in this process)
BUILTIN_BY_NAME = {k.name: k for k in BUILTIN_KINDS}


def _index_methods_kept(m: ModelSource, t: Table) -> list[Index]:
    """The table's indexes as a model can make them: an access method (gist, gin)
    or kind (fulltext) over a column written as text for want of its own type is
    left out, and said (a text column has no gist operator class)."""
    substituted = {c.name for c in t.columns if c.type not in STATE_TYPES and not is_registered(c.type)}
    out = []
    for ix in t.indexes:
        odd = [c for c in ix.columns if c in substituted]
        if odd and (ix.method or ix.kind):
            what = f"USING {ix.method}" if ix.method else ix.kind
            m.notes.append(
                f"{t.name}.{ix.name}: {what} on {', '.join(odd)}, written as text; left out (a plain index is written)"
            )
            ix = replace(ix, method=None, kind=None)
        out.append(ix)
    return out


def written_members(t: Table) -> list[tuple[str, tuple[Any, ...]]]:
    """What ``t`` holds of each kind, in the order a model's ``database`` block is
    written: the core's kinds in their registration order, then a plugin's by name."""
    order = {k.name: n for n, k in enumerate(BUILTIN_KINDS)}
    return sorted(t.members, key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


def member_calls(t: Table, kind_name: str, kind: Kind | None, values: Sequence[Any], notes: list[str]) -> list[Call]:
    """The ``database`` entries of one kind's values, each through its Kind's
    ``model_call`` (the core's kinds as a plugin's); what a model cannot say is noted."""
    if not values:
        return []
    if (
        kind is None
        or kind.syntax is None
        or kind.model_call is None
        or (kind.model_module is None and not kind.builtin)
    ):
        names = ", ".join(v.name for v in values)
        notes.append(f"{t.name}: {kind_name} {names}: no registered kind writes them in a model, left out")
        return []
    columns = set(t.column_names)
    calls = []
    for value in values:
        if not set(kind.columns(value)) <= columns:
            article = "an" if kind.title[:1] in "aeiou" else "a"
            notes.append(f"{t.name}.{value.name}: {article} {kind.title} on expressions, left out")
            continue
        try:
            fn, args, kwargs = kind.model_call(value)
        except ValueError as exc:
            notes.append(f"{t.name}.{value.name}: {exc}, left out")
            continue
        args = tuple(part_call(a) for a in args)
        calls.append(Call(fn, args, tuple((k, v) for k, v in kwargs), module=kind.model_module))
    return calls


def _drop_unwritable_defaults(m: ModelSource) -> str | None:
    """Each column compiled on its own: a default the models cannot hold is left
    out (noted) rather than losing the table; the problem of a column that does not
    compile even so, else None."""
    probe = ModelSource(m.table, m.cls).model()
    for i, (name, call) in enumerate(m.schema):
        if call.fn != "column":
            continue
        try:
            compile_column(probe, name, call.build(), registered_types())
        except ModelError as exc:
            kwargs = dict(call.kwargs)
            if "default" not in kwargs:
                return _reason(exc)
            m.notes.append(f"{m.table.name}.{name}: default {kwargs['default']!r} {_reason(exc)}; left out")
            m.schema[i] = (name, Call("column", call.args, tuple((k, v) for k, v in call.kwargs if k != "default")))
    return None


def table_problem(table: Table, cls: str, expressions: dict[tuple[str, str], str]) -> str | None:
    """Why ``table`` gets no model (its model does not compile on its own: a name
    with a line break, a reserved name, ...), or None."""
    every = {table.name: cls, **{fk.ref_table: "Model" for fk in table.foreign_keys}}
    m = describe_model(ModelSource(table, cls), every, expressions)
    problem = _drop_unwritable_defaults(m)
    if problem is not None:
        return problem
    try:
        compile_table(m.model(), registered_types())
    except ModelError as exc:
        return _reason(exc)
    return None


def _reason(exc: ModelError) -> str:
    """A compile error without its 'file: model X[, field y]: ' prefix."""
    text = str(exc)
    if text.startswith(f"{MODULE}: model "):
        text = text.split(": ", 2)[-1]
    return text


#: the database key of each core kind in a model's ``database``, to its kind name
_KIND_OF_KEY = {"foreign_keys": "foreign_keys", "unique": "uniques", "indexes": "indexes", "checks": "checks"}


def _keep_references(models: list[ModelSource], scopes: Mapping[str, str] | None = None) -> None:
    """Foreign keys the models cannot declare (the two columns' types differ, the
    target is not a key) and indexes or constraints whose name another one has
    already in the database's namespace (``Driver.name_scopes``: per table, or
    schema-wide; without them, every name is schema-wide) are left out, noted."""
    scopes = scopes or {}
    tables = {m.table.name: m for m in models}
    seen: set[tuple[str, str]] = set()

    def namespace(kind: str, table: str) -> str:
        scope = scopes.get(kind, "schema")
        return "\0table\0" + table if scope == "table" else scope

    for m in models:
        built = compile_table(m.model(), registered_types())
        here: set[str] = set()  # one table: never two members of one name
        for key, calls in list(m.database):
            kept = []
            for call in calls:
                if not isinstance(call, Call) or key == "primary_key":  # a primary key's column
                    kept.append(call)
                    continue
                name = dict(call.kwargs).get("name")
                if call.fn == "foreign_key":
                    fk = next(f for f in built.foreign_keys if f.name == name)
                    target = tables[fk.ref_table]
                    alone = replace(built, foreign_keys=(fk,), partitions=())
                    pair = {
                        built.name: alone,
                        fk.ref_table: replace(compile_table(target.model(), registered_types()), foreign_keys=()),
                    }
                    if fk.ref_table == built.name:
                        pair = {built.name: alone}
                    try:
                        check_references(State(pair), {n: tables[n].model() for n in pair})
                    except ModelError as exc:
                        m.notes.append(f"{m.table.name}.{name}: {_reason(exc)}; left out")
                        if len(fk.columns) == 1:  # and its relation
                            m.schema = [
                                (k, c)
                                for k, c in m.schema
                                if c.fn != "relation" or dict(c.kwargs).get("foreign_key") != fk.columns[0]
                            ]
                        continue
                space = namespace(_KIND_OF_KEY.get(key, key), m.table.name)
                if (space, str(name)) in seen or str(name) in here:
                    m.notes.append(f"{m.table.name}.{name}: another index or constraint has this name; left out")
                    continue
                seen.add((space, str(name)))
                here.add(str(name))
                kept.append(call)
            m.database = [(k, c if k != key else kept) for k, c in m.database if k != key or kept]
        for kind, members in (("indexes", built.indexes), ("uniques", built.uniques)):  # column-level ones too
            for ix in members:
                seen.add((namespace(kind, m.table.name), ix.name))
                here.add(ix.name)
        if built.partitions:
            _keep_partition_references(m, built, tables, seen, namespace)


def _keep_partition_references(
    m: ModelSource,
    built: Table,
    tables: Mapping[str, ModelSource],
    seen: set[tuple[str, str]],
    namespace: Callable[[str, str], str],
) -> None:
    """A partition's own foreign keys the models cannot declare, and its own indexes
    whose name another one has, left out (noted) as a table's are."""
    gone: set[tuple[str, str]] = set()
    for p in built.partitions:
        for fk in p.foreign_keys:
            target = replace(compile_table(tables[fk.ref_table].model(), registered_types()), foreign_keys=())
            alone = replace(built, foreign_keys=(), partitions=(replace(p, indexes=(), foreign_keys=(fk,)),))
            pair = {built.name: alone} if fk.ref_table == built.name else {built.name: alone, fk.ref_table: target}
            try:
                check_references(State(pair), {n: tables[n].model() for n in pair})
            except ModelError as exc:
                m.notes.append(f"{p.name}.{fk.name}: {_reason(exc)}; left out")
                gone.add((p.name, fk.name))
        for kind, members in (("indexes", p.indexes), ("foreign_keys", p.foreign_keys)):
            for value in members:
                key = (namespace(kind, p.name), value.name)
                if (p.name, value.name) in gone:
                    continue
                if key in seen:
                    m.notes.append(f"{p.name}.{value.name}: another index or constraint has this name; left out")
                    gone.add((p.name, value.name))
                seen.add(key)
    if gone:
        classes = {n: t.cls for n, t in tables.items()}
        kept = [
            replace(
                p,
                indexes=tuple(i for i in p.indexes if (p.name, i.name) not in gone),
                foreign_keys=tuple(f for f in p.foreign_keys if (p.name, f.name) not in gone),
            )
            for p in m.table.partitions
        ]
        m.partitions = [(p.name, partition_entry(m.table, p, classes, [])) for p in kept]


def generate(
    state: State, connection: str, expressions: dict[tuple[str, str], str] | None = None
) -> tuple[str, list[str]]:
    """The models module of ``state``'s tables, and what it cannot say (notes)."""
    g = describe(state, connection, expressions)
    return g.source(), g.notes


def describe(
    state: State,
    connection: str,
    expressions: dict[tuple[str, str], str] | None = None,
    scopes: Mapping[str, str] | None = None,
) -> Generated:
    """The models of ``state``'s tables, as data. A table whose model would not
    compile is left out (noted), and so are foreign keys to it: one table never
    stops the others. ``scopes``: the database's ``Driver.name_scopes``."""
    expressions = expressions or {}
    classes: dict[str, str] = {}
    used = {*DSL_NAMES, NOTES_NAME}
    for name in sorted(state.tables):
        cls = class_name(name)
        base, n = cls, 2
        while cls in used:
            cls, n = f"{base}{n}", n + 1
        used.add(cls)
        classes[name] = cls
    left_out: list[str] = []
    for name in sorted(state.tables):
        problem = table_problem(state.tables[name], classes[name], expressions)
        if problem is not None:
            left_out.append(f"table {name}: {problem}; no model written")
            del classes[name]
    while True:
        models = [describe_model(ModelSource(state.tables[n], classes[n]), classes, expressions) for n in classes]
        for m in models:
            _drop_unwritable_defaults(m)
        _keep_references(models, scopes)
        try:
            compile_sql_models([m.model() for m in models], registered_types())
        except ModelError as exc:  # what no single table shows: the table it names goes
            text = str(exc)
            culprit = next(
                (m for m in models if text.startswith((f"{MODULE}: model {m.cls}:", f"{MODULE}: model {m.cls},"))), None
            )
            if culprit is None:
                raise ModelmigError(shown(f"make:models cannot write models for this database: {text}")) from None
            left_out.append(f"table {culprit.table.name}: {_reason(exc)}; no model written")
            del classes[culprit.table.name]
            continue
        return Generated(connection, models, left_out)


# ---------------------------------------------------------------- reading the source back (parsed, never run)


class Unreadable(ModelmigError):
    """Generated source that is not the literal-only module make:models writes."""


def _value(node: ast.expr) -> Any:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise Unreadable(f"line {getattr(node, 'lineno', '?')}: not a literal") from None


def _argument(node: ast.expr) -> Any:
    """A literal, or an index key's ``part(...)`` call of literals (alone or in a list)."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "part":
        if any(k.arg is None for k in node.keywords):
            raise Unreadable(f"line {node.lineno}: ** in a call")
        args = tuple(_value(a) for a in node.args)
        return Call("part", args, tuple((str(k.arg), _value(k.value)) for k in node.keywords))
    if isinstance(node, ast.List) and any(isinstance(e, ast.Call) for e in node.elts):
        return [_argument(e) for e in node.elts]
    return _value(node)


def _call(node: ast.expr, plugin_fns: dict[str, str] | None = None) -> Call:
    """A DSL call, or (in ``database``) a call of a function a registered kind's
    ``model_module`` gives (``plugin_fns``: {function: module}, as imported)."""
    plugin_fns = plugin_fns or {}
    if not (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and (node.func.id in DSL or node.func.id in plugin_fns)
    ):
        raise Unreadable(f"line {getattr(node, 'lineno', '?')}: not a call of the model DSL")
    if any(k.arg is None for k in node.keywords):
        raise Unreadable(f"line {node.lineno}: ** in a call")
    return Call(
        node.func.id,
        tuple(_argument(a) for a in node.args),
        tuple((str(k.arg), _value(k.value)) for k in node.keywords),
        module=plugin_fns.get(node.func.id) if node.func.id not in DSL else None,
    )


def _partition(node: ast.expr) -> Any:
    """A partition's entry: a bound (a string), or ``partition("bound",
    indexes=[index(...)], foreign_keys=[foreign_key(...)])`` of literal-only calls."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "partition"):
        value = _value(node)
        if not isinstance(value, str):
            raise Unreadable(f"line {getattr(node, 'lineno', '?')}: a partition that is no bound string")
        return value
    if len(node.args) != 1 or any(k.arg not in ("indexes", "foreign_keys") for k in node.keywords):
        raise Unreadable(f"line {node.lineno}: partition(bound, indexes=[...], foreign_keys=[...]) only")
    kwargs = []
    for k in node.keywords:
        if not isinstance(k.value, ast.List):
            raise Unreadable(f"line {node.lineno}: partition {k.arg} is not a list of calls")
        kwargs.append((str(k.arg), [_call(e) for e in k.value.elts]))
    return Call("partition", (_value(node.args[0]),), tuple(kwargs))


def _dict(node: ast.expr) -> list[tuple[Any, ast.expr]]:
    if not isinstance(node, ast.Dict) or any(k is None for k in node.keys):
        raise Unreadable(f"line {getattr(node, 'lineno', '?')}: not a dict literal")
    return [(_value(k), v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]


def read_back(source: str) -> tuple[Any, ...]:
    """What a generated models module says, read from its syntax tree (``ast``)
    without running a line of it: only a docstring, the import of the DSL, the
    ``UNMANAGED`` tuple of strings and model classes of literal-only DSL calls are
    accepted. The answer has the shape of ``Generated.shape``."""
    tree = ast.parse(source, "<make:models>")
    notes: list[str] = []
    models: list[tuple[Any, ...]] = []
    views: list[tuple[Any, ...]] = []
    kind_modules = {k.model_module for k in plugin_kinds() if k.model_module}
    plugin_fns: dict[str, str] = {}
    for i, node in enumerate(tree.body):
        if i == 0 and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue
        if isinstance(node, ast.ImportFrom) and node.module == "modelmig_core" and not node.level:
            if any(a.name not in DSL_NAMES or a.asname for a in node.names):
                raise Unreadable(f"line {node.lineno}: imports something else")
            continue
        if isinstance(node, ast.ImportFrom) and node.module in kind_modules and not node.level:
            if any(a.asname or a.name in DSL for a in node.names):  # a registered kind's model syntax
                raise Unreadable(f"line {node.lineno}: imports something else")
            plugin_fns.update({a.name: str(node.module) for a in node.names})
            continue
        if (
            isinstance(node, ast.Assign)
            and [t.id for t in node.targets if isinstance(t, ast.Name)] == [NOTES_NAME]
            and len(node.targets) == 1
        ):
            value = _value(node.value)
            if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
                raise Unreadable(f"line {node.lineno}: {NOTES_NAME} is not a tuple of strings")
            notes += value
            continue
        if isinstance(node, ast.ClassDef) and [getattr(b, "id", None) for b in node.bases] == ["View"]:
            views.append(_view(node))
            continue
        if isinstance(node, ast.ClassDef):
            models.append(_model(node, plugin_fns))
            continue
        raise Unreadable(f"line {node.lineno}: unexpected {type(node).__name__}")
    return (notes, models, views)


def _view(node: ast.ClassDef) -> tuple[Any, ...]:
    """A view model: ``view`` and ``select`` string literals, nothing else."""
    if node.keywords or node.decorator_list:
        raise Unreadable(f"line {node.lineno}: class {node.name} is not a plain View")
    found: dict[str, Any] = {}
    for stmt in node.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            raise Unreadable(f"line {stmt.lineno}: unexpected {type(stmt).__name__} in class {node.name}")
        found[stmt.targets[0].id] = _value(stmt.value)
    materialized = found.pop("materialized", False)
    if set(found) != {"view", "select"} or not all(isinstance(v, str) for v in found.values()):
        raise Unreadable(f"line {node.lineno}: class {node.name} is not a view and its SELECT")
    if materialized is not True and materialized is not False:
        raise Unreadable(f"line {node.lineno}: class {node.name}: materialized is not True")
    return (node.name, found["view"], found["select"], materialized)


def _model(node: ast.ClassDef, plugin_fns: dict[str, str] | None = None) -> tuple[Any, ...]:
    bases = [b.id for b in node.bases if isinstance(b, ast.Name)]
    if bases != ["Model"] or len(node.bases) != 1 or node.keywords or node.decorator_list:
        raise Unreadable(f"line {node.lineno}: class {node.name} is not a plain Model")
    found: dict[str, ast.expr] = {}
    for stmt in node.body:
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            raise Unreadable(f"line {stmt.lineno}: unexpected {type(stmt).__name__} in class {node.name}")
        found[stmt.targets[0].id] = stmt.value
    attributes = {"table", "comment", "options", "partition_by", "partitions", "schema", "database"}
    if set(found) - attributes or "table" not in found or "schema" not in found:
        raise Unreadable(f"line {node.lineno}: class {node.name} has other attributes")
    schema = [(k, _call(v)) for k, v in _dict(found["schema"])]
    database = []
    for key, value in _dict(found["database"]) if "database" in found else []:
        if key == "primary_key_name" and isinstance(value, ast.Constant) and isinstance(value.value, str):
            database.append((key, value.value))
            continue
        if not isinstance(value, ast.List):
            raise Unreadable(f"line {value.lineno}: database[{key!r}] is not a list")
        if key == "primary_key":  # the primary key's columns in key order: names, part(name, length=n)
            database.append((key, [_argument(e) for e in value.elts]))
            continue
        database.append((key, [_call(e, plugin_fns) for e in value.elts]))
    comment = _value(found["comment"]) if "comment" in found else None
    if comment is not None and not isinstance(comment, str):
        raise Unreadable(f"line {node.lineno}: class {node.name} has a comment that is not a string")
    options = _value(found["options"]) if "options" in found else {}
    if not isinstance(options, dict) or not all(isinstance(v, str) for v in options.values()):
        raise Unreadable(f"line {node.lineno}: class {node.name} has options that are not a dict of strings")
    key = _value(found["partition_by"]) if "partition_by" in found else None
    if key is not None:
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(key[1], list)):
            raise Unreadable(
                f"line {node.lineno}: class {node.name} has a partition_by that is not (method, [columns])"
            )
        key = (key[0], tuple(key[1]))
    parts = {k: _partition(v) for k, v in _dict(found["partitions"])} if "partitions" in found else {}
    if not all(isinstance(k, str) for k in parts):
        raise Unreadable(f"line {node.lineno}: class {node.name} has partitions that are not a dict of strings")
    return (node.name, _value(found["table"]), schema, database, comment, options, key, parts)


# ---------------------------------------------------------------- the command


def _selection(state: State, tables: list[str], warn: Echo) -> State:
    """The tables asked for, with the tables their foreign keys reference."""
    if not tables:
        return state
    unknown = [t for t in tables if t not in state.tables]
    if unknown:
        raise ConfigError(f"--table {shown(unknown[0])}: no such table in the database")
    chosen: list[str] = []
    todo = list(tables)
    while todo:
        name = todo.pop(0)
        if name in chosen or name not in state.tables:
            continue
        chosen.append(name)
        for fk in state.tables[name].foreign_keys:
            if fk.ref_table not in chosen and fk.ref_table not in todo:
                if fk.ref_table not in tables:
                    warn(shown(f"warning: including table {fk.ref_table}: {name}.{fk.name} references it"))
                todo.append(fk.ref_table)
    return State({n: state.tables[n] for n in sorted(chosen)})


def default_path(config: Config, target: Target | None = None) -> Path:
    """The file of the first models module (blog.models -> blog/models.py) of the
    target's chain: a declared chain's own models, else the top-level ``models``."""
    chain = target.chain if target is not None else None
    models = chain.models if chain is not None and chain.declared else config.models
    if not models:
        raise ConfigError(f"{config.path}: no models module is configured: pass --out FILE")
    return config.root / (models[0].replace(".", "/") + ".py")


def ruff_format(path: Path, cwd: Path) -> bool:
    """``ruff format`` the file when ruff is installed (the project's ruff settings
    apply); False when it is not. The path is absolute and follows ``--``: it is
    never read as an option."""
    exe = shutil.which("ruff")
    if exe is not None:
        command = [exe, "format"]
    elif importlib.util.find_spec("ruff") is not None:
        command = [sys.executable, "-m", "ruff", "format"]
    else:
        return False
    result = subprocess.run([*command, "--", str(path.absolute())], cwd=cwd, capture_output=True, text=True)
    return result.returncode == 0


def reflect_for_models(
    target: Target, warn: Echo | None = None
) -> tuple[State, dict[tuple[str, str], str], list[tuple[str, str]], list[Unmanaged]]:
    """The live schema, its expression defaults, what the reflection saw that no
    state value says (the driver's ``Reflection.unsaid``), and the objects outside
    the models (``Reflection.objects``)."""
    driver = target.driver
    if not driver.features.sql:
        raise ModelmigError(
            f"make:models reads SQL databases; connection {target.name} uses the {driver.name} driver "
            f"({driver.info.family} family)"
        )
    with driver.connect(target.url) as session, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        reflection = getattr(driver, "reflection", None)
        if reflection is not None:
            r = reflection(session)
            found = r.state(), dict(r.expression_defaults), list(getattr(r, "unsaid", ())), list(r.objects())
        else:
            found = driver.reflect(session), {}, [], []
    for message in dict.fromkeys(str(w.message) for w in caught):  # never silently: what could not be read
        if warn is not None:
            warn(shown(f"warning: reflection could not read part of the schema ({message}); the models may miss it"))
    return found


def unsaid(models: list[type[Model]], live: State, target: Target, declared: str = "") -> list[str]:
    """What the generated models (built from their description, never executed)
    say differently from the live schema (their SQL text, in the ``declared``
    dialect, compared as the database reads it)."""
    from ..schema.differences import compare_relational
    from ..schema.transpile import state_for

    compiled = compile_sql_models(models, registered_types())  # a plugin's types too
    driver = target.driver
    if declared:
        compiled = state_for(compiled, declared, getattr(driver, "sqlglot_dialect", declared))
    # the database as "expected", the models as "live": missing = not in the models
    comparison = compare_relational(driver.comparable(live), driver.comparable(compiled), set(compiled.tables))
    swap = {"in the database": "in the models", "in the migrations": "in the database"}
    out = []
    for d in comparison.differences:
        line = d.line
        for old, new in swap.items():
            line = line.replace(old, "\0" + new)
        out.append(line.replace("\0", "") + (" (not in the models)" if d.change == "missing" else ""))
    return out


def view_models(
    live: State, target: Target, source: str, taken: set[str], tables: list[str], modeled: set[str] | None = None
) -> list[ViewSource]:
    """The live views as view models: each SELECT written in the chain's
    ``sql_dialect`` (a view with no faithful form there stays an unmanaged object);
    with ``--table``, the views that read a chosen table. A view that reads a
    table no written model holds (``modeled``) stays an unmanaged object too: its
    migration would create it before, or without, what it reads."""
    from ..model.compile import compile_view
    from ..schema.transpile import NotFaithful, transpile
    from ..schema.views import tables_read

    dialect = getattr(target.driver, "sqlglot_dialect", "") or ""
    used = {*DSL_NAMES, NOTES_NAME, *taken}
    out: list[ViewSource] = []
    for name, view in sorted(live.views.items()):
        if tables and not tables_read(view.select, dialect) & set(tables):
            continue
        try:
            select = transpile(view.select, dialect, source, query=True)
        except NotFaithful:
            continue
        cls = class_name(name)
        base, n = cls, 2
        while cls in used:
            cls, n = f"{base}{n}", n + 1
        made = ViewSource(cls, name, select, view.materialized)
        try:
            compile_view(made.model())
        except ModelError:
            continue
        used.add(cls)
        out.append(made)
    if modeled is None:
        return out
    reads = {v.name: tables_read(live.views[v.name].select, dialect) for v in out}
    kept = list(out)
    while True:  # a view that reads a view left out is left out too
        names = {v.name for v in kept}
        now = [v for v in kept if reads[v.name] <= modeled | names]
        if len(now) == len(kept):
            return now
        kept = now


def checkable_defaults(state: State, declared: str, dialect: str, notes: list[str]) -> State:
    """The expression defaults make can check for the connection (written in the
    ``declared`` dialect, read by the database's ``dialect``); one it cannot (a
    function of the database's own that sqlglot does not know) is left out and
    said, as before ``default_sql``, so the models make:models writes still make."""
    from ..schema.transpile import NotFaithful, transpile

    out = {}
    for name, t in state.tables.items():
        columns = []
        for c in t.columns:
            if c.default_sql is not None:
                try:
                    transpile(c.default_sql, declared, dialect)
                except NotFaithful as exc:
                    why = f"is an SQL expression make cannot check: {exc}; left out"
                    notes.append(f"{name}.{c.name}: default {c.default_sql} {why}")
                    c = replace(c, default_sql=None)
            columns.append(c)
        out[name] = replace(t, columns=tuple(columns))
    return replace(state, tables=out)


def in_declared_dialect(state: State, source: str, target: str, notes: list[str]) -> State:
    """The live schema's SQL text (checks, generated columns, expression defaults, index predicates and
    expressions), read in the database's dialect, written in the chain's declared
    ``sql_dialect`` (``schema.transpile``). A text with no faithful form there is
    kept as the database spells it, and said."""
    from ..schema.transpile import NotFaithful, transpile

    def one(table: str, what: str, text: str) -> str:
        try:
            return transpile(text, source, target)
        except NotFaithful as exc:
            notes.append(f"{table}: {what} {text!r} is written as {source} spells it: {exc}")
            return text

    out = {}
    for name, t in state.tables.items():
        columns = tuple(
            replace(
                c,
                generated=None if c.generated is None else one(name, f"column {c.name}", c.generated),
                default_sql=None if c.default_sql is None else one(name, f"column {c.name} default", c.default_sql),
            )
            if c.generated is not None or c.default_sql is not None
            else c
            for c in t.columns
        )

        def written(table: str, owner: str, indexes: Any) -> tuple[Any, ...]:
            return tuple(
                replace(
                    ix,
                    where=None if ix.where is None else one(table, f"{owner}index {ix.name} predicate", ix.where),
                    expressions=tuple(
                        None if e is None else one(table, f"{owner}index {ix.name}", e) for e in ix.expressions
                    ),
                )
                for ix in indexes
            )

        indexes = written(name, "", t.indexes)
        partitions = tuple(
            replace(p, indexes=written(name, f"partition {p.name} ", p.indexes)) if p.indexes else p
            for p in t.partitions
        )
        checks = tuple(replace(c, expression=one(name, f"check {c.name}", c.expression)) for c in t.checks)
        out[name] = replace(t, columns=columns, indexes=indexes, checks=checks, partitions=partitions)
    return replace(state, tables=out)


def checked_source(g: Generated) -> str:
    """The module's source, parsed and read back equal to its description."""
    source = g.source()
    try:
        said = read_back(source)
    except (SyntaxError, Unreadable) as exc:
        raise ModelmigError(f"make:models wrote a module it cannot read back ({exc}); please report this") from None
    if said != g.shape():
        raise ModelmigError("make:models wrote a module that reads back differently; please report this")
    return source


def write_models(
    config: Config, target: Target, out: str | None, tables: list[str], force: bool, echo: Echo, warn: Echo
) -> Path | None:
    live, expressions, seen, objects = reflect_for_models(target, warn)
    if not live.tables:
        raise ModelmigError(f"{target.name}: the database has no table to write a model for")
    state = _selection(live, tables, warn)
    declared = config.sql_dialect_of(target.chain) if target.chain is not None else config.sql_dialect or ""
    written = getattr(target.driver, "sqlglot_dialect", declared)
    notes: list[str] = []
    if declared and declared != written:
        state = in_declared_dialect(state, written, declared, notes)
    state = checkable_defaults(state, declared or "", written, notes)
    g = describe(state, target.name, expressions, target.driver.name_scopes)
    g.left_out[:0] = notes
    g.left_out += [line for table, line in seen if table in state.tables]
    # with --table: the objects that depend on a chosen table
    g.objects = [o for o in objects if not tables or set(o.tables) & set(state.tables)]
    g.views = view_models(
        live,
        target,
        config.sql_dialect_of(target.chain),
        {m.cls for m in g.models},
        tables,
        {m.table.name for m in g.models},
    )
    written = {(v.name, "materialized view" if v.materialized else "view") for v in g.views}
    g.objects = [o for o in g.objects if (o.name, o.kind) not in written]
    if not g.models:
        raise ModelmigError(f"{target.name}: no table of the database can be written as a model: {shown(g.notes[0])}")
    for note in g.notes[: len(g.notes) - len(g.objects)]:
        warn(shown(f"warning: {note}"))
    if g.objects:
        warn(
            shown(
                f"warning: {unmanaged_summary(g.objects)}; listed in {NOTES_NAME}, left as they are "
                "(migrate:status --drift lists them as unmanaged)"
            )
        )
    source = checked_source(g)
    try:
        mismatches = unsaid(
            g.build(), State({m.table.name: m.table for m in g.models}), target, declared if declared != written else ""
        )
    except ModelError as exc:
        raise ModelmigError(
            shown(f"make:models wrote models that do not compile ({exc}); please report this")
        ) from None
    for line in mismatches:
        warn(shown(f"warning: the models differ from the database: {line}"))
    if out == "-":
        echo(source.rstrip("\n"))
        return None
    path = Path(out) if out else default_path(config, target)
    if not path.is_absolute():
        path = Path(os.getcwd()) / path
    if path.exists() and not force:
        raise ConfigError(f"{path} exists: pass --force to overwrite it (or --out FILE)")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(source, encoding="utf-8")
    tmp.replace(path)
    if ruff_format(path, config.root):
        try:
            same = read_back(path.read_text(encoding="utf-8")) == g.shape()
        except (SyntaxError, Unreadable, ValueError):
            same = False
        if not same:  # the formatter changed what the module says: keep what was checked
            path.write_text(source, encoding="utf-8")
    rel = os.path.relpath(path, Path.cwd())
    views = f" and {len(g.views)} view model(s)" if g.views else ""
    echo(f"Wrote {rel}: {len(g.models)} model(s){views} from connection {target.name}")
    return path

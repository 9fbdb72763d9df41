"""How two states of the relational family differ, named for the operator: each
difference is one ``Difference`` naming the object (missing: the expected state
has it and the other does not; extra: the other way round; changed). Drift
(``drift.py``) compares the applied migrations with the live database through it,
``make:models`` its output with the database, and the relational family
(``family.py``) offers it as its ``compare``; a family without a comparison of its
own is compared as a whole (``compare_whole``). It reads two states and nothing
else: no connection, no runner."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..vocabulary.kinds import kind_named

if TYPE_CHECKING:
    from .state import Column, ForeignKey, State, Table


@dataclass(frozen=True)
class Difference:
    """One difference between the expected and the live schema."""

    change: str  # "missing" (not in the database), "extra" (only in the database), "changed"
    kind: str  # "table", "column", "index", "unique constraint", "foreign key", "check", "enum values", ...
    name: str  # the object: "posts", "posts.title", "posts.ix_posts_user_created"
    detail: str = ""

    @property
    def line(self) -> str:
        text = f"{self.change} {self.kind} {self.name}"
        return f"{text}: {self.detail}" if self.detail else text

    def as_json(self) -> dict[str, str]:
        return {"change": self.change, "kind": self.kind, "name": self.name, "detail": self.detail, "line": self.line}


@dataclass
class Comparison:
    differences: list[Difference] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)  # names no model or migration knows
    unmanaged_kind: str = "table"


# ---------------------------------------------------------------- the relational comparison


def describe_type(col: Column) -> str:
    scalar = _describe_scalar(col)
    return f"{scalar}[]" if col.array else scalar


def _describe_scalar(col: Column) -> str:
    if col.type in ("time", "timestamp", "utcTimestamp") and col.precision is not None:
        return f"{col.type}({col.precision})" + (" with time zone" if col.use_tz else "")
    if col.type in ("varbinary", "fixedBinary") and col.length is not None:
        return f"{col.type}({col.length})"
    if col.type == "set" and col.values is not None:
        return f"set({', '.join(col.values)})"
    if col.type == "string" and col.length is not None:
        return f"string({col.length})"
    if col.type == "decimal":
        return f"decimal({col.precision}, {col.scale})"
    if col.type == "enum" and col.values is not None:
        return f"enum({', '.join(col.values)})"
    if col.use_tz:
        return f"{col.type} with time zone"
    return col.type


def describe_default(col: Column) -> str:
    if col.default_sql is not None:
        return f"({col.default_sql})"
    if col.default_now:
        return "now"
    if col.default is None:
        return "none"
    return repr(col.default)


def describe_column(col: Column) -> str:
    parts = [describe_type(col), "NULL" if col.nullable else "NOT NULL"]
    if col.default_now or col.default is not None or col.default_sql is not None:
        parts.append(f"DEFAULT {describe_default(col)}")
    if col.autoincrement:
        parts.append("auto-increment")
    return " ".join(parts)


def _columns(cols: Iterable[str]) -> str:
    return "(" + ", ".join(cols) + ")"


def describe_fk(fk: ForeignKey) -> str:
    text = f"{_columns(fk.columns)} -> {fk.ref_table}{_columns(fk.ref_columns)}"
    if fk.on_delete:
        text += f" ON DELETE {fk.on_delete}"
    if fk.on_update:
        text += f" ON UPDATE {fk.on_update}"
    if fk.deferrable:
        text += " DEFERRABLE" + (" INITIALLY DEFERRED" if fk.initially == "deferred" else "")
    return text


def _was(label: str, live: str, expected: str) -> str:
    """``<label> <live> in the database, <expected> in the migrations``."""
    return f"{label} {live} in the database, {expected} in the migrations".strip()


def _same_default(want: Column, have: Column) -> bool:
    """The same default, as the column's type compares its values (``ColumnType.same``)."""
    if want.default is None or have.default is None:
        return want.default is have.default
    from ..vocabulary.column_types import type_of

    return type_of(want.type).same(want.default, have.default)


def _compare_columns(table: str, a: Table, b: Table, out: list[Difference]) -> None:
    for col in a.columns:
        if b.column(col.name) is None:
            out.append(Difference("missing", "column", f"{table}.{col.name}", describe_column(col)))
    for col in b.columns:
        if a.column(col.name) is None:
            out.append(Difference("extra", "column", f"{table}.{col.name}", describe_column(col)))
    for want in a.columns:
        have = b.column(want.name)
        if have is None or have == want:
            continue
        name = f"{table}.{want.name}"
        if want.type == have.type == "enum" and want.values != have.values:
            values = ", ".join(have.values or ()), ", ".join(want.values or ())
            out.append(Difference("changed", "enum values", name, _was("", *values)))
        elif describe_type(want) != describe_type(have):
            out.append(Difference("changed", "column", name, _was("type", describe_type(have), describe_type(want))))
        if want.nullable != have.nullable:
            null = {True: "NULL", False: "NOT NULL"}
            out.append(Difference("changed", "column", name, _was("null", null[have.nullable], null[want.nullable])))
        if (
            want.default_now != have.default_now
            or want.default_sql != have.default_sql
            or not _same_default(want, have)
        ):
            out.append(
                Difference("changed", "column", name, _was("default", describe_default(have), describe_default(want)))
            )
        if want.autoincrement != have.autoincrement:
            yes = {True: "on", False: "off"}
            out.append(
                Difference(
                    "changed", "column", name, _was("auto-increment", yes[have.autoincrement], yes[want.autoincrement])
                )
            )
        if want.comment != have.comment:
            out.append(Difference("changed", "column", name, _was("comment", repr(have.comment), repr(want.comment))))
        for attr in ("collation", "charset", "on_update_now", "identity", "enum_name"):
            if getattr(want, attr) != getattr(have, attr):
                said = _was(attr.replace("_", " "), repr(getattr(have, attr)), repr(getattr(want, attr)))
                out.append(Difference("changed", "column", name, said))
        if want.primary_length != have.primary_length:
            lengths = (str(n) if n is not None else "whole column" for n in (have.primary_length, want.primary_length))
            out.append(Difference("changed", "column", name, _was("prefix in the primary key", *lengths)))
        if (want.generated, want.stored) != (have.generated, have.stored):
            out.append(Difference("changed", "column", name, _was("generated", _generated(have), _generated(want))))
    if a.primary_key != b.primary_key:
        out.append(
            Difference(
                "changed", "primary key", table, _was("columns", _columns(b.primary_key), _columns(a.primary_key))
            )
        )


def _generated(col: Column) -> str:
    if col.generated is None:
        return "not generated"
    return f"AS ({col.generated}) {'STORED' if col.stored else 'VIRTUAL'}"


def _compare_named(
    table: str,
    kind: str,
    a: Iterable[Any],
    b: Iterable[Any],
    describe: Callable[[Any], str],
    out: list[Difference],
) -> None:
    """Objects matched by name: missing, extra, or changed (described both ways)."""
    want = {x.name: x for x in a}
    have = {x.name: x for x in b}
    for name in sorted(set(want) | set(have)):
        w, h = want.get(name), have.get(name)
        label = f"{table}.{name}"
        if h is None:
            out.append(Difference("missing", kind, label, describe(w)))
        elif w is None:
            out.append(Difference("extra", kind, label, describe(h)))
        elif w != h:
            out.append(Difference("changed", kind, label, _was("", describe(h), describe(w))))


def _describe_index(ix: Any) -> str:
    """``unique (org, created_at DESC) using gin include (x) where <predicate>``: the
    key in order with its expressions, orders and prefixes, and each option said."""
    parts = getattr(ix, "parts", None)
    if parts is None:  # a plugin's index-like value
        return ("unique " if ix.unique else "") + _columns(ix.columns)
    lengths = iter(ix.lengths or (None,) * len(ix.columns))
    ops = iter(getattr(ix, "operator_classes", ()) or (None,) * len(ix.columns))
    key = []
    for i, (text, is_expression) in enumerate(parts):
        item = f"({text})" if is_expression else text
        if not is_expression:
            length, op = next(lengths), next(ops)
            item += (f"({length})" if length is not None else "") + (f" {op}" if op is not None else "")
        key.append(item + (" DESC" if i in ix.descending else ""))
    out = ("unique " if ix.unique else "") + (f"{ix.kind} " if ix.kind else "") + f"({', '.join(key)})"
    if ix.method:
        out += f" using {ix.method}"
    if ix.include:
        out += f" include ({', '.join(ix.include)})"
    return out + (f" where {ix.where}" if ix.where is not None else "")


def _indexes(table: str, a: Table, b: Table, out: list[Difference]) -> None:
    """Indexes (plain, and the unique indexes older migration files made)."""
    _compare_named(table, "index", a.indexes, b.indexes, _describe_index, out)


def _uniques(table: str, a: Table, b: Table, out: list[Difference]) -> None:
    """Unique constraints (``Table.uniques``)."""
    _compare_named(table, "unique constraint", a.uniques, b.uniques, lambda u: _columns(u.columns), out)


def _index_kind_changes(table: str, a: Table, b: Table, out: list[Difference]) -> None:
    """An index that became unique (or stopped being) is reported once, as changed."""
    want = {i.name: i for i in a.indexes}
    have = {i.name: i for i in b.indexes}
    for name in sorted(set(want) & set(have)):
        if want[name].unique != have[name].unique:
            kind = {True: "unique", False: "not unique"}
            out.append(
                Difference(
                    "changed", "index", f"{table}.{name}", _was("", kind[have[name].unique], kind[want[name].unique])
                )
            )


def _compare_partitions(table: str, a: Table, b: Table, out: list[Difference]) -> None:
    """The partition key and each declared partition (``a`` what the migrations
    say, ``b`` what is): a partition missing, extra, or of another bound."""
    if a.partition_by != b.partition_by:
        out.append(
            Difference("changed", "table", table, _was("partition_by", repr(b.partition_by), repr(a.partition_by)))
        )
    want = {p.name: p.bound for p in a.partitions}
    have = {p.name: p.bound for p in b.partitions}
    for name in sorted(set(have) | set(want)):
        if name not in have:
            out.append(Difference("missing", "partition", f"{table}.{name}", want[name]))
        elif name not in want:
            out.append(Difference("extra", "partition", f"{table}.{name}", have[name]))
        elif have[name] != want[name]:
            out.append(Difference("changed", "partition", f"{table}.{name}", _was("bound", have[name], want[name])))
    # a partition's own indexes and foreign keys, labelled by the partition's name
    mine = {p.name: p for p in a.partitions}
    live = {p.name: p for p in b.partitions}
    for name in sorted(set(mine) & set(live)):
        _compare_named(name, "index", mine[name].indexes, live[name].indexes, _describe_index, out)
        _compare_named(name, "foreign key", mine[name].foreign_keys, live[name].foreign_keys, describe_fk, out)


def compare_tables(table: str, a: Table, b: Table) -> list[Difference]:
    """Every difference between table ``a`` (expected) and ``b`` (live)."""
    out: list[Difference] = []
    if a.comment != b.comment:
        out.append(Difference("changed", "table", table, _was("comment", repr(b.comment), repr(a.comment))))
    if a.primary_name is not None and a.primary_name != b.primary_name:  # None: whatever the database named it
        names = (repr(n) if n is not None else "the database's own" for n in (b.primary_name, a.primary_name))
        out.append(Difference("changed", "table", table, _was("primary key name", *names)))
    for key in sorted({k for k, _ in a.options} | {k for k, _ in b.options}):
        if a.option(key) != b.option(key):
            out.append(Difference("changed", "table", table, _was(key, repr(b.option(key)), repr(a.option(key)))))
    _compare_partitions(table, a, b, out)
    _compare_columns(table, a, b, out)
    flipped = {i.name for i in a.indexes for j in b.indexes if i.name == j.name and i.unique != j.unique}
    _index_kind_changes(table, a, b, out)
    _indexes(table, _without(a, flipped), _without(b, flipped), out)
    _uniques(table, a, b, out)
    _compare_named(table, "foreign key", a.foreign_keys, b.foreign_keys, describe_fk, out)
    _compare_named(table, "check", a.checks, b.checks, lambda c: c.expression, out)
    for name in sorted({k for k, _ in a.extra_members} | {k for k, _ in b.extra_members}):
        kind = kind_named(name)  # a plugin's kind
        label = kind.title if kind is not None else name
        describe = kind.describe if kind is not None and kind.describe is not None else _describe_value
        _compare_named(table, label, a.member(name), b.member(name), describe, out)
    return out


def _describe_value(value: Any) -> str:
    """A state value by its fields other than its name."""
    return ", ".join(f"{k}={v!r}" for k, v in vars(value).items() if k != "name")


def _without(table: Table, names: set[str]) -> Table:
    from dataclasses import replace

    return replace(table, indexes=tuple(i for i in table.indexes if i.name not in names))


def compare_relational(expected: State, live: State, known: set[str]) -> Comparison:
    """The relational family's drift: ``expected`` (the applied migrations) against
    ``live`` (the database), both already comparable."""
    unmanaged = sorted(n for n in live.tables if n not in expected.tables and n not in known)
    out: list[Difference] = []
    for name in sorted(set(expected.tables) | set(live.tables)):
        if name in unmanaged:
            continue
        a, b = expected.tables.get(name), live.tables.get(name)
        if b is None:
            assert a is not None
            out.append(Difference("missing", "table", name, f"{len(a.columns)} column(s)"))
        elif a is None:
            out.append(Difference("extra", "table", name, f"{len(b.columns)} column(s)"))
        elif a != b:
            out.extend(compare_tables(name, a, b))
    out += compare_views(expected, live, known)
    return Comparison(out, unmanaged, "table")


def compare_views(expected: State, live: State, known: set[str]) -> list[Difference]:
    """The views the migrations created against the live ones (SELECTs as each side's
    driver normalized them). A live view no model or migration knows is not drift:
    the driver names it as an unmanaged object."""
    out: list[Difference] = []
    for name in sorted(set(expected.views) | set(live.views)):
        a, b = expected.views.get(name), live.views.get(name)
        if b is None:
            out.append(Difference("missing", "view", name))
        elif a is None:
            if name in known:
                out.append(Difference("extra", "view", name, b.select))
        elif a.materialized != b.materialized:
            said = {True: "materialized", False: "not materialized"}
            out.append(Difference("changed", "view", name, f"{said[a.materialized]}, now {said[b.materialized]}"))
        elif a.select != b.select:
            out.append(Difference("changed", "view", name, f"SELECT {a.select!r} is now {b.select!r}"))
    return out


def compare_whole(family: str) -> Callable[[Any, Any, set[str]], Comparison]:
    """For a family without a comparison of its own: equal or not, as a whole."""

    def compare(expected: Any, live: Any, known: set[str]) -> Comparison:
        if expected.canonical() == live.canonical():
            return Comparison()
        return Comparison([Difference("changed", "schema", family, "the live schema differs from the migrations")])

    return compare

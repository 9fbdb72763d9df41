"""Hypothesis strategies for the property tests: a random relational schema A
(states, as the models compile them), a random change B of it with the renames
and backfills the models would declare, and rows that fit A.

Everything generated is something a user could write and every database
accepts: indexes and unique keys only over columns a MySQL key can hold, no
literal defaults where MySQL refuses them (text, json, binary) or where the
server spells them back differently (time, literal timestamps), alterations
that keep the rows (widening, nullability, defaults, comments, new enum
values), unique keys added in B only over columns whose rows differ, and
foreign keys added in B only over NULLable columns.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from modelmig_core.schema.diff import DiffHints
from modelmig_core.schema.state import Check, Column, ForeignKey, Index, State, Table, Unique
from modelmig_core.vocabulary.naming import foreign_key_name, index_name

TABLES = ["alpha", "beta", "gamma", "delta"]
COLUMNS = ["c1", "c2", "c3", "c4", "c5", "c6"]
KEYABLE = ("integer", "bigInteger", "smallInteger", "string", "boolean", "decimal", "date", "timestamp", "uuid", "enum")
TYPES = (*KEYABLE, "float", "double", "time", "text", "json", "binary")
NO_DEFAULT = ("text", "json", "binary", "time", "timestamp")
ACTIONS = (None, "CASCADE", "RESTRICT")


def default_for(col: Column) -> Any:
    return {
        "integer": 3,
        "bigInteger": 5,
        "smallInteger": 2,
        "decimal": "1." + "5" * (col.scale or 1),
        "float": 1.5,
        "double": 2.5,
        "boolean": True,
        "string": "d",
        "date": "2026-01-01",
        "uuid": "6f1c6a36-2b0e-4c55-9f43-3c1f3b1f0001",
        "enum": col.values[0] if col.values else None,
    }.get(col.type)


@st.composite
def columns(draw: Any, name: str, keyable: bool = False) -> Column:
    t = draw(st.sampled_from(KEYABLE if keyable else TYPES))
    kw: dict[str, Any] = {}
    if t == "string":
        kw["length"] = draw(st.sampled_from([10, 40, 100]))
    elif t == "decimal":
        kw["precision"], kw["scale"] = draw(st.sampled_from([(8, 2), (10, 3)]))
    elif t == "enum":
        kw["values"] = draw(st.sampled_from([("a", "b"), ("x", "y", "z")]))
    elif t == "timestamp":
        kw["use_tz"] = draw(st.booleans())
        kw["default_now"] = draw(st.booleans())
    col = Column(name, t, nullable=draw(st.booleans()), **kw)
    if col.default_now:
        return replace(col, nullable=False)
    if t not in NO_DEFAULT and draw(st.booleans()):
        col = replace(col, default=default_for(col))
    if draw(st.integers(0, 3)) == 0:
        col = replace(col, comment="note")
    return col


def pk(type_: str = "integer") -> Column:
    return Column("id", type_, primary=True, autoincrement=True)


def keyable(t: Table) -> list[str]:
    return [c.name for c in t.columns if c.type in KEYABLE and not c.primary]


@st.composite
def tables(draw: Any, name: str) -> Table:
    names = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, max_size=4, unique=True))
    cols = [pk(draw(st.sampled_from(["integer", "bigInteger"])))]
    cols += [draw(columns(n)) for n in names]
    t = Table(name, tuple(cols))
    keys = keyable(t)
    if keys and draw(st.booleans()):
        ix = tuple(draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True)))
        t = replace(t, indexes=(Index(index_name(name, ix, False), ix),))
    if keys and draw(st.booleans()):
        uq = tuple(draw(st.lists(st.sampled_from(keys), min_size=1, max_size=2, unique=True)))
        t = replace(t, uniques=(Unique(index_name(name, uq, True), uq),))
    ints = [c.name for c in t.columns if c.type in ("integer", "smallInteger", "bigInteger") and not c.primary]
    if ints and draw(st.booleans()):
        c = draw(st.sampled_from(ints))
        t = replace(t, checks=(Check(f"ck_{name}_{c}", f"{c} >= 0"),))
    return t


def add_fk(t: Table, target: Table, action: str | None, nullable: bool) -> Table:
    col = f"{target.name}_id"
    if t.column(col) is not None:
        return t
    ref = target.column("id")
    assert ref is not None
    fk_col = Column(col, ref.type, nullable=nullable or action == "SET NULL")
    fk = ForeignKey(foreign_key_name(t.name, (col,), target.name), (col,), target.name, ("id",), action)
    return replace(t, columns=(*t.columns, fk_col), foreign_keys=(*t.foreign_keys, fk))


@st.composite
def schemas(draw: Any) -> State:
    names = draw(st.lists(st.sampled_from(TABLES), min_size=1, max_size=3, unique=True))
    made = {n: draw(tables(n)) for n in names}
    for n in names:  # foreign keys to tables before it (no cycles: rows go in parents first)
        earlier = [m for m in names if m < n]
        if earlier and draw(st.booleans()):
            target = draw(st.sampled_from(earlier))
            made[n] = add_fk(made[n], made[target], draw(st.sampled_from([*ACTIONS, "SET NULL"])), draw(st.booleans()))
    return State(dict(sorted(made.items())))


@dataclass
class Change:
    """Schema B, the hints the models would give, and where each B column comes from."""

    state: State
    hints: DiffHints
    origin: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (B table, col) -> (A table, col)


def widen(draw: Any, col: Column) -> Column:
    """A change that keeps every row."""
    kind = draw(st.sampled_from(["nullable", "default", "comment", "type"]))
    if kind == "nullable" and not col.default_now:
        return replace(col, nullable=not col.nullable)
    if kind == "default" and col.type not in NO_DEFAULT:
        return replace(col, default=None if col.default is not None else default_for(col))
    if kind == "comment":
        return replace(col, comment=None if col.comment else "changed")
    if col.type == "string":
        return replace(col, length=(col.length or 10) + 20)
    if col.type in ("smallInteger", "integer"):
        return replace(col, type={"smallInteger": "integer", "integer": "bigInteger"}[col.type])
    if col.type == "enum" and col.values:
        return replace(col, values=(*col.values, "new"))
    if col.type == "decimal" and col.precision:
        return replace(col, precision=col.precision + 2)
    return replace(col, nullable=not col.nullable) if not col.default_now else col


def refs_ok(t: Table) -> Table:
    """Drop members of ``t`` that name columns it no longer has."""
    names = set(t.column_names)
    return replace(
        t,
        indexes=tuple(i for i in t.indexes if set(i.columns) <= names),
        uniques=tuple(u for u in t.uniques if set(u.columns) <= names),
        foreign_keys=tuple(f for f in t.foreign_keys if set(f.columns) <= names),
        checks=tuple(c for c in t.checks if c.expression.split()[0] in names),
    )


@st.composite
def changes(draw: Any, a: State) -> Change:
    out: dict[str, Table] = {}
    table_renames: dict[str, str] = {}
    column_renames: dict[str, dict[str, str]] = {}
    backfills: dict[str, dict[str, Any]] = {}
    origin: dict[tuple[str, str], tuple[str, str]] = {}
    # what a rollback cannot give back is left out: a dropped table's rows (only
    # tables nothing references are dropped), and the values of a dropped column
    # that a unique key or a NOT NULL foreign key needs
    referenced = {f.ref_table for t in a.tables.values() for f in t.foreign_keys}
    leaves = sorted(n for n in a.tables if n not in referenced)
    dropped = (
        set(draw(st.lists(st.sampled_from(leaves), max_size=1, unique=True))) if leaves and len(a.tables) > 1 else set()
    )
    free = [n for n in TABLES if n not in a.tables]
    for name in sorted(a.tables):
        if name in dropped:
            continue
        t = a.tables[name]
        new_name = name
        if free and draw(st.integers(0, 4)) == 0:
            new_name = free.pop(0) + "_r"
            table_renames[new_name] = name
        cols: list[Column] = []
        for c in t.columns:
            if c.primary:
                cols.append(replace(c, type="bigInteger") if draw(st.integers(0, 5)) == 0 else c)
                continue
            is_fk = any(c.name in f.columns for f in t.foreign_keys)
            in_unique = any(c.name in u.columns for u in t.uniques)
            action = draw(st.sampled_from(["keep", "keep", "drop", "rename", "alter"]))
            if action == "drop" and not in_unique and not (is_fk and not c.nullable):
                continue
            col = c
            if action == "rename" and not is_fk:
                col = replace(c, name=c.name + "_n")
                column_renames.setdefault(new_name, {})[col.name] = c.name
            elif action == "alter" and not is_fk:
                col = widen(draw, c)
            cols.append(col)
            origin[(new_name, col.name)] = (name, c.name)
        origin[(new_name, "id")] = (name, "id")
        for n in draw(st.lists(st.sampled_from(COLUMNS), max_size=2, unique=True)):
            n = n + "_b"
            col = draw(columns(n))
            if not col.nullable and col.default is None and not col.default_now:
                value = default_for(col)
                if value is None:
                    col = replace(col, nullable=True)
                else:
                    backfills.setdefault(new_name, {})[n] = value
            cols.append(col)
        renamed = {old: new for new, old in column_renames.get(new_name, {}).items()}

        def ren(names: tuple[str, ...], renamed: dict[str, str] = renamed) -> tuple[str, ...]:
            return tuple(renamed.get(x, x) for x in names)

        nt = Table(
            new_name,
            tuple(cols),
            tuple(replace(i, columns=ren(i.columns)) for i in t.indexes),
            tuple(replace(f, columns=ren(f.columns)) for f in t.foreign_keys),
            tuple(c for c in t.checks if c.expression.split()[0] not in renamed),
            uniques=tuple(replace(u, columns=ren(u.columns)) for u in t.uniques),
        )
        nt = refs_ok(nt)
        old_keys = [c.name for c in nt.columns if c.type in KEYABLE and not c.primary and (new_name, c.name) in origin]
        if draw(st.booleans()):  # indexes: drop, change or add
            nt = replace(nt, indexes=())
            if old_keys and draw(st.booleans()):
                ix = tuple(draw(st.lists(st.sampled_from(old_keys), min_size=1, max_size=2, unique=True)))
                nt = replace(nt, indexes=(Index(index_name(new_name, ix, False), ix),))
        if draw(st.booleans()):  # unique keys: only over columns whose rows differ
            nt = replace(nt, uniques=())
            if old_keys and draw(st.booleans()):
                uq = tuple(draw(st.lists(st.sampled_from(old_keys), min_size=1, max_size=2, unique=True)))
                nt = replace(nt, uniques=(Unique(index_name(new_name, uq, True), uq),))
        if draw(st.booleans()):
            ints = [
                c.name
                for c in nt.columns
                if c.type in ("integer", "smallInteger", "bigInteger")
                and not c.primary
                and (new_name, c.name) in origin
                and not c.name.endswith("_id")  # MySQL refuses checks on columns of FKs with actions
            ]
            nt = replace(nt, checks=())
            if ints and draw(st.booleans()):
                c = draw(st.sampled_from(ints))
                nt = replace(nt, checks=(Check(f"ck_{new_name}_{c}_b", f"{c} >= 0"),))
        out[new_name] = nt
    # foreign keys: the types follow the referenced key; those to dropped tables go
    names = {old: new for new, old in table_renames.items()}
    for n, t in list(out.items()):
        fks = []
        cols = list(t.columns)
        for f in t.foreign_keys:
            target = names.get(f.ref_table, f.ref_table)
            if f.ref_table in dropped or target not in out:
                cols = [c for c in cols if c.name not in f.columns]
                continue
            ref_type = out[target].column("id").type  # type: ignore[union-attr]
            cols = [replace(c, type=ref_type) if c.name in f.columns else c for c in cols]
            action = draw(st.sampled_from([f.on_delete, f.on_delete, None, "CASCADE"]))
            if action is None and f.on_delete == "SET NULL":
                action = None
            fks.append(replace(f, ref_table=target, on_delete=action))
        out[n] = refs_ok(replace(t, columns=tuple(cols), foreign_keys=tuple(fks)))
    # new tables, maybe referencing a kept one
    for name in draw(st.lists(st.sampled_from([n for n in TABLES if n not in a.tables]), max_size=1, unique=True)):
        name = name + "_new"
        t = draw(tables(name))
        if out and draw(st.booleans()):
            target = out[draw(st.sampled_from(sorted(out)))]
            t = add_fk(t, target, draw(st.sampled_from(ACTIONS)), draw(st.booleans()))
        out[name] = t
    # a new nullable foreign key between kept tables
    kept = sorted(out)
    if len(kept) >= 2 and draw(st.integers(0, 3)) == 0:
        src, dst = draw(st.lists(st.sampled_from(kept), min_size=2, max_size=2, unique=True))
        out[src] = add_fk(out[src], out[dst], draw(st.sampled_from(ACTIONS)), True)
    hints = DiffHints(table_renames, column_renames, backfills, {})
    return Change(State(dict(sorted(out.items()))), hints, origin)


# ---------------------------------------------------------------- rows


def value(col: Column, r: int) -> Any:
    """Row ``r``'s value for ``col``: different in every row, fits every check."""
    return {
        "integer": r * 10,
        "bigInteger": r * 100,
        "smallInteger": r,
        "decimal": Decimal(f"{r}.5"),
        "float": r + 0.5,
        "double": r + 0.25,
        "boolean": r % 2 == 0,
        "string": f"s{r}",
        "text": f"text {r}",
        "enum": (col.values or ("a",))[r % len(col.values or ("a",))],
        "date": dt.date(2026, 1, r),
        "time": dt.time(10, r),
        "timestamp": dt.datetime(2026, 1, r, 12, 0),
        "json": {"r": r},
        "uuid": uuid.UUID(int=r),
        "binary": bytes([r, 0, r]),
    }[col.type]


def plain(v: Any) -> Any:
    """Values as comparable Python: numbers as floats, bools as ints, times as text."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, (Decimal, float)):
        return round(float(v), 6)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, memoryview):
        return bytes(v)
    if isinstance(v, str) and len(v) == 36 and v.count("-") == 4:
        return v.lower()
    if isinstance(v, str) and v.startswith("{"):
        import json

        try:
            return json.loads(v)
        except ValueError:
            return v
    return v

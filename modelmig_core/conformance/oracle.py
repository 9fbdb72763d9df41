"""The kit's own reading of a live schema: SQLAlchemy's Inspector for the
driver's dialect, walked by the kit, never by the driver.

A driver's ``reflect`` and ``comparable`` are what ``migrate:status --drift``
trusts; a driver that drops every foreign key when it renders and drops them
from ``comparable`` too would agree with itself. So the kit reads the catalogue
itself, through the SQLAlchemy dialect the driver names (``Reflection.engine_url``:
a dialect and DB-API module, no host; the session's own connection is lent to
it), and compares the facts every relational database spells the same way with
the state the migrations add up to: the tables, their columns and which of them
are NOT NULL, each column's type by its SQLAlchemy generic affinity (an integer is
an Integer, a ``string(n)`` a String of length n, never an unbounded TEXT; a
boolean may be a small integer, an enum, JSON or uuid a string where the database
has no such type), primary keys, foreign keys (columns, target, actions), unique
keys (constraints or unique indexes), indexes, and, where the driver declares
``check_constraints``, each named check constraint. Lengths enforced and
increments are checked with rows by the behaviour probes (``scenarios.py``).

Where SQLAlchemy cannot read the database (DuckDB's dialect cannot reflect over a
lent connection), ``Inspected.unavailable`` says why, and the behaviour probes
are the oracle; the table ``drivers:check`` prints says so.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from ..driver import LEDGER, Driver, Session
from ..schema.state import State, Table

#: foreign key actions that mean "refuse": the same everywhere but in their spelling
_NO_ACTION = {None, "", "NO ACTION", "RESTRICT"}


@dataclass(frozen=True)
class Shape:
    """One table as the oracle compares it."""

    columns: dict[str, bool | None]  # name -> NOT NULL (None for a primary key column: NOT NULL by being one)
    primary_key: frozenset[str]
    foreign_keys: frozenset[tuple[tuple[str, ...], str, tuple[str, ...], str, str]]
    uniques: frozenset[tuple[str, ...]]
    indexes: frozenset[tuple[str, ...]]
    #: column -> its affinity (``AFFINITIES``; None: not compared), and a string's length
    types: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    #: the names of its check constraints (None: not compared)
    checks: frozenset[str] | None = None


#: a state column type -> its generic affinity, as the oracle compares it; a type
#: not listed here (a plugin's, an array) is not compared
AFFINITIES = {
    **dict.fromkeys(
        ("integer", "bigInteger", "smallInteger", "tinyInteger", "mediumInteger", "unsignedTinyInteger"), "integer"
    ),
    **dict.fromkeys(("unsignedInteger", "unsignedBigInteger", "unsignedSmallInteger"), "integer"),
    **dict.fromkeys(("string", "char"), "string"),
    **dict.fromkeys(("text", "mediumText", "longText", "tinyText"), "text"),
    **dict.fromkeys(("float", "double", "decimal"), "number"),
    **dict.fromkeys(("timestamp", "datetime", "softDeletes"), "datetime"),
    "date": "date",
    "time": "time",
    "boolean": "boolean",
    "json": "json",
    "uuid": "uuid",
    "binary": "binary",
    "enum": "enum",
}

#: the live affinities each expected one accepts: what an honest database may hold
#: it as where it has no type of its own (MySQL's TINYINT(1) for a boolean, MariaDB's
#: LONGTEXT for JSON, a CHAR for a uuid, a VARCHAR with a CHECK for an enum)
ACCEPTED = {
    "integer": {"integer"},
    "string": {"string"},
    "text": {"text", "string"},
    "number": {"number"},
    "datetime": {"datetime"},
    "date": {"date", "datetime"},
    "time": {"time"},
    "boolean": {"boolean", "integer"},
    "json": {"json", "text", "string"},
    "uuid": {"uuid", "string"},
    "binary": {"binary"},
    "enum": {"enum", "string", "text"},
}


def live_affinity(type_: Any) -> tuple[str | None, int | None]:
    """A reflected SQLAlchemy type's generic affinity and (a bounded string's) length:
    ``("string", 10)`` for VARCHAR(10), ``("text", None)`` for TEXT or LONGTEXT,
    ``(None, None)`` for a type SQLAlchemy does not know."""
    import sqlalchemy as sa

    checks: tuple[tuple[type[Any], str], ...] = (
        (sa.Boolean, "boolean"),
        (sa.Integer, "integer"),
        (sa.Numeric, "number"),  # Float too
        (sa.Enum, "enum"),
        (sa.JSON, "json"),
        (sa.Uuid, "uuid"),
        (sa.DateTime, "datetime"),
        (sa.Date, "date"),
        (sa.Time, "time"),
        (sa.types._Binary, "binary"),
    )
    for cls, name in checks:
        if isinstance(type_, cls):
            return name, None
    if isinstance(type_, sa.String):
        length = getattr(type_, "length", None)
        return ("string", length) if length and not isinstance(type_, sa.Text) else ("text", None)
    return None, None


def _type_text(affinity: str | None, length: int | None) -> str:
    return f"{affinity}({length})" if length else str(affinity)


@dataclass
class Inspected:
    """What the oracle read: the tables' shapes, or why it could not read them."""

    tables: dict[str, Shape] = field(default_factory=dict)
    unavailable: str | None = None


def _action(value: str | None) -> str:
    text = " ".join((value or "").upper().split())
    return "NO ACTION" if text in _NO_ACTION else text


def engine_url(driver: Driver) -> str | None:
    """The SQLAlchemy URL (dialect and DB-API module) of the driver's database, as its
    reflection names it; None for a driver without one, or whose reflection names
    another dialect than the driver's own (``SqlDriver.dialect``): one that reads its
    catalogue itself (DuckDB) inherits the base's and has none."""
    spec = getattr(driver, "reflection_class", None)
    if not isinstance(spec, str) or ":" not in spec:
        return None
    module, _, cls = spec.partition(":")
    url = getattr(getattr(importlib.import_module(module), cls), "engine_url", None)
    dialect = getattr(driver, "dialect", "")
    if not isinstance(url, str) or not dialect or url.split(":", 1)[0].split("+", 1)[0] != dialect:
        return None
    return url


def expected(state: State, checks: bool = True) -> dict[str, Shape]:
    """The shapes ``state`` says; ``checks`` False: check constraints are not compared
    (the driver does not declare ``check_constraints``)."""
    return {name: _expected_table(table, checks) for name, table in state.tables.items()}


def _expected_table(table: Table, checks: bool = True) -> Shape:
    pk = frozenset(table.primary_key)
    return Shape(
        columns={c.name: None if c.name in pk else not c.nullable for c in table.columns},
        primary_key=pk,
        foreign_keys=frozenset(
            (fk.columns, fk.ref_table, fk.ref_columns, _action(fk.on_delete), _action(fk.on_update))
            for fk in table.foreign_keys
        ),
        uniques=frozenset([u.columns for u in table.uniques] + [i.columns for i in table.indexes if i.unique]),
        indexes=frozenset(i.columns for i in table.indexes if not i.unique),
        types={
            c.name: (AFFINITIES.get(c.type), c.length if AFFINITIES.get(c.type) == "string" else None)
            for c in table.columns
        },
        checks=frozenset(c.name for c in table.checks if c.name) if checks else None,
    )


def inspect(driver: Driver, session: Session) -> Inspected:
    """The live tables through SQLAlchemy's Inspector over the session's connection
    (give it a session of its own: SQLAlchemy closes a connection that failed)."""
    url = engine_url(driver)
    if not url:
        dialect = getattr(driver, "dialect", "") or "its database"
        return Inspected(unavailable=f"{driver.name}'s reflection names no SQLAlchemy dialect for {dialect}")
    try:
        import sqlalchemy as sa
        from sqlalchemy.pool import StaticPool

        raw = session.raw  # type: ignore[attr-defined]
        engine = sa.create_engine(url, creator=lambda: raw, poolclass=StaticPool, pool_reset_on_return=None)
        with engine.connect() as connection:
            insp = sa.inspect(connection)
            names = sorted(t for t in insp.get_table_names() if t != LEDGER and not t.startswith("_modelmig_"))
            out = {}
            for name in names:
                pk = frozenset(insp.get_pk_constraint(name).get("constrained_columns") or ())
                indexes = insp.get_indexes(name)

                def cols(info: dict[str, Any]) -> tuple[str, ...]:
                    exprs = list(info.get("expressions") or [])
                    names_ = list(info.get("column_names") or [])
                    return tuple(c if c is not None else str(exprs[i]) for i, c in enumerate(names_))

                columns = insp.get_columns(name)
                try:
                    checks: frozenset[str] | None = frozenset(
                        c["name"] for c in insp.get_check_constraints(name) if c.get("name")
                    )
                except NotImplementedError:  # the dialect cannot read them: not compared
                    checks = None
                out[name] = Shape(
                    columns={c["name"]: None if c["name"] in pk else not c.get("nullable", True) for c in columns},
                    primary_key=pk,
                    foreign_keys=frozenset(
                        (
                            tuple(fk["constrained_columns"]),
                            fk["referred_table"],
                            tuple(fk["referred_columns"]),
                            _action((fk.get("options") or {}).get("ondelete")),
                            _action((fk.get("options") or {}).get("onupdate")),
                        )
                        for fk in insp.get_foreign_keys(name)
                    ),
                    uniques=frozenset(
                        [tuple(u["column_names"]) for u in insp.get_unique_constraints(name)]
                        + [cols(i) for i in indexes if i.get("unique")]
                    ),
                    indexes=frozenset(cols(i) for i in indexes if not i.get("unique")),
                    types={c["name"]: live_affinity(c["type"]) for c in columns},
                    checks=checks,
                )
        return Inspected(out)  # the engine is not disposed: that would close the session's connection
    except Exception as exc:  # noqa: BLE001 - said in the table: the probes are then the oracle
        detail = " ".join(str(exc).split())[:160] or type(exc).__name__
        return Inspected(unavailable=f"SQLAlchemy's {url} dialect cannot read it ({type(exc).__name__}: {detail})")


def _cols(columns: tuple[str, ...] | frozenset[str]) -> str:
    return ", ".join(sorted(columns) if isinstance(columns, frozenset) else columns)


def _fk(table: str, fk: tuple[tuple[str, ...], str, tuple[str, ...], str, str]) -> str:
    return f"foreign key {table}({_cols(fk[0])}) -> {fk[1]}({_cols(fk[2])}) on delete {fk[3]} on update {fk[4]}"


def compare(want: dict[str, Shape], live: dict[str, Shape]) -> list[str]:
    """Each way ``live`` differs from ``want``, one line each; [] when they agree.
    An index the database made by itself (MySQL's for a foreign key) is no difference."""
    out = [f"table {t} is missing" for t in sorted(set(want) - set(live))]
    out += [f"extra table {t}" for t in sorted(set(live) - set(want))]
    for name in sorted(set(want) & set(live)):
        w, g = want[name], live[name]
        if w.primary_key != g.primary_key:
            live_pk, want_pk = _cols(g.primary_key), _cols(w.primary_key)
            out.append(f"{name}: primary key ({live_pk}) in the database, ({want_pk}) in the migrations")
        out += [f"column {name}.{c} is missing" for c in sorted(set(w.columns) - set(g.columns))]
        out += [f"extra column {name}.{c}" for c in sorted(set(g.columns) - set(w.columns))]
        for col in sorted(set(w.columns) & set(g.columns)):
            if None not in (w.columns[col], g.columns[col]) and w.columns[col] != g.columns[col]:
                have, want_ = ("NOT NULL" if x else "nullable" for x in (g.columns[col], w.columns[col]))
                out.append(f"column {name}.{col} is {have} in the database, {want_} in the migrations")
        for col in sorted(set(w.types) & set(g.types)):
            (want_affinity, want_length), (got_affinity, got_length) = w.types[col], g.types[col]
            if want_affinity is None or got_affinity is None:
                continue  # a type the oracle does not know: the driver's drift comparison judges it
            if got_affinity not in ACCEPTED[want_affinity] or (
                want_affinity == "string" and want_length and got_length and got_length != want_length
            ):
                have, want_ = _type_text(got_affinity, got_length), _type_text(want_affinity, want_length)
                out.append(f"column {name}.{col} is {have} in the database, {want_} in the migrations")
        if w.checks is not None and g.checks is not None:
            out += [f"check constraint {name}.{c} is missing" for c in sorted(w.checks - g.checks)]
        out += [f"{_fk(name, fk)} is missing" for fk in sorted(w.foreign_keys - g.foreign_keys)]
        out += [f"extra {_fk(name, fk)}" for fk in sorted(g.foreign_keys - w.foreign_keys)]
        out += [f"unique key {name}({_cols(k)}) is missing" for k in sorted(w.uniques - g.uniques)]
        out += [f"extra unique key {name}({_cols(k)})" for k in sorted(g.uniques - w.uniques)]
        out += [f"index {name}({_cols(k)}) is missing" for k in sorted(w.indexes - g.indexes - g.uniques)]
    return out

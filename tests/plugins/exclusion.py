"""PostgreSQL exclusion constraints as a new kind (and the ``tsrange`` column type
they are mostly for), added on the public api alone.

    [modelmig]
    plugins = ["exclusion"]

    from exclusion import exclude
    database = {"exclusions": [exclude(("room", "="), ("during", "&&"), name="ex_bookings_room")]}

Each element is a column and the operator its values must not share
(``EXCLUDE USING gist (room WITH =, during WITH &&)``); PostgreSQL only: any other
driver has no rendering for the kind, so make:migration refuses it there.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from modelmig_core.api import AddMember, ColumnType, DropMember, Kind, Value, hookimpl

#: an operator is one token of PostgreSQL's operator characters; a method a plain name
OPERATOR = re.compile(r"\A[-+*/<>=~!@#%^&|`?]{1,63}\Z")
METHOD = re.compile(r"\A[a-z_][a-z0-9_]{0,62}\Z")


@dataclass(frozen=True)
class Exclusion(Value):
    """``EXCLUDE USING <using> (<column> WITH <operator>, ...)``: no two rows whose
    columns all compare true under their operators."""

    name: str
    elements: tuple[tuple[str, str], ...]
    using: str = "gist"

    def __post_init__(self) -> None:
        super().__post_init__()
        problem = exclusion_problem(self)
        if problem:
            raise ValueError(f"exclusion constraint {self.name!r}: {problem}")


def exclusion_problem(value: Exclusion) -> str | None:
    if not isinstance(value.name, str) or not value.name:
        return "needs a name"
    if not value.elements:
        return "names no column"
    for element in value.elements:
        if not (isinstance(element, tuple) and len(element) == 2 and all(isinstance(e, str) for e in element)):
            return f"element {element!r} is not a (column, operator) pair"
        if not OPERATOR.match(element[1]):
            return f"operator {element[1]!r} is not an operator"
    if not isinstance(value.using, str) or not METHOD.match(value.using):
        return f"index method {value.using!r} is not a method name"
    return None


@dataclass(frozen=True)
class ExcludeSpec:
    """What a model's ``database["exclusions"]`` entry says."""

    elements: tuple[tuple[str, str], ...]
    name: str | None = None
    using: str = "gist"


def exclude(*elements: Sequence[str], name: str | None = None, using: str = "gist") -> ExcludeSpec:
    """An exclusion constraint over ``(column, operator)`` pairs."""
    return ExcludeSpec(tuple(tuple(e) for e in elements), name, using)  # type: ignore[misc]


@dataclass(frozen=True)
class AddExclusion(AddMember):
    """Add the exclusion constraint ``value`` to ``table``."""


@dataclass(frozen=True)
class DropExclusion(DropMember):
    """Drop the exclusion constraint ``value`` from ``table``."""


def _compile(entry: Any, table: str) -> Exclusion:
    if not isinstance(entry, ExcludeSpec):
        raise ValueError("entries must be exclude((column, operator), ...)")
    name = entry.name or f"{table}_{'_'.join(c for c, _ in entry.elements)}_excl"
    return Exclusion(name, entry.elements, entry.using)


def _render_postgresql(renderer: Any, op: Any, step: Any) -> list[str]:
    value, q = op.value, renderer.q
    problem = exclusion_problem(value)  # a migration file may have been edited by hand
    if problem:
        raise ValueError(f"exclusion constraint {value.name!r}: {problem}")
    if isinstance(op, DropExclusion):
        return [f"ALTER TABLE {q(op.table)} DROP CONSTRAINT {q(value.name)}"]
    elements = ", ".join(f"{q(column)} WITH {operator}" for column, operator in value.elements)
    return [f"ALTER TABLE {q(op.table)} ADD CONSTRAINT {q(value.name)} EXCLUDE USING {value.using} ({elements})"]


#: every exclusion constraint of the tables asked about: one row per element, in order
#: (an element on an expression has no column: its text is read from the index)
_QUERY = """
SELECT rel.relname, con.conname, am.amname, k.ord,
       COALESCE(att.attname, pg_get_indexdef(con.conindid, CAST(k.ord AS int), true)), opr.oprname
FROM pg_constraint con
JOIN pg_class rel ON rel.oid = con.conrelid
JOIN pg_namespace ns ON ns.oid = rel.relnamespace
JOIN pg_class idx ON idx.oid = con.conindid
JOIN pg_am am ON am.oid = idx.relam
CROSS JOIN LATERAL unnest(con.conkey, con.conexclop) WITH ORDINALITY AS k(attnum, opr, ord)
LEFT JOIN pg_attribute att ON att.attrelid = rel.oid AND att.attnum = k.attnum AND k.attnum > 0
JOIN pg_operator opr ON opr.oid = k.opr
WHERE con.contype = 'x' AND ns.nspname = current_schema() AND rel.relname = ANY(:tables)
ORDER BY rel.relname, con.conname, k.ord
"""


def _reflect_postgresql(connection: Any, tables: Sequence[str]) -> Mapping[str, list[Exclusion]]:
    import sqlalchemy as sa

    found: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]] = {}
    for table, name, method, _, element, operator in connection.execute(sa.text(_QUERY), {"tables": list(tables)}):
        found.setdefault((table, name), (method, []))[1].append((element, operator))
    out: dict[str, list[Exclusion]] = {}
    for (table, name), (method, elements) in found.items():
        out.setdefault(table, []).append(Exclusion(name, tuple(elements), method))
    return out


def _rename_column(value: Exclusion, old: str, new: str) -> Exclusion:
    """The constraint once column ``old`` is renamed ``new`` (PostgreSQL's constraint
    follows the column: a declared rename keeps it, never drops and adds it)."""
    elements = tuple((new if column == old else column, operator) for column, operator in value.elements)
    return replace(value, elements=elements)


def _model_call(value: Exclusion) -> tuple[str, list[Any], list[tuple[str, Any]]]:
    kwargs: list[tuple[str, Any]] = [("name", value.name)]
    if value.using != "gist":
        kwargs.append(("using", value.using))
    return "exclude", [tuple(e) for e in value.elements], kwargs


EXCLUSIONS = Kind(
    "exclusions",
    Exclusion,
    AddExclusion,
    DropExclusion,
    label="exclusion constraint",
    syntax="exclusions",
    compile=_compile,
    columns=lambda value: [column for column, _ in value.elements],
    render={"postgresql": _render_postgresql},
    reflect={"postgresql": _reflect_postgresql},
    describe=lambda v: f"EXCLUDE USING {v.using} ({', '.join(f'{c} WITH {o}' for c, o in v.elements)})",
    model_call=_model_call,
    model_module=__name__,
    rename_column=_rename_column,
)


def _tsrange(column: Any) -> Any:
    from sqlalchemy.dialects.postgresql import TSRANGE

    return TSRANGE()


def _read_tsrange(t: Any) -> dict[str, Any] | None:
    from sqlalchemy.dialects.postgresql import TSRANGE

    return {"type": "tsrange"} if isinstance(t, TSRANGE) else None


#: what an exclusion constraint is mostly for: a range of times (PostgreSQL TSRANGE)
TSRANGE_TYPE = ColumnType(
    "tsrange", key_size=None, ddl={"postgresql": _tsrange}, reflects={"postgresql": _read_tsrange}
)


@hookimpl
def kinds() -> list[Kind]:
    return [EXCLUSIONS]


@hookimpl
def column_types() -> list[ColumnType]:
    return [TSRANGE_TYPE]

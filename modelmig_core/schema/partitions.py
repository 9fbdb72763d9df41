"""Declarative partitioning as values: a partition key's method and a partition's
bound, read with sqlglot and written back in one canonical text.

A bound is what follows ``FOR VALUES`` (or ``DEFAULT``): ``FROM (...) TO (...)``
for RANGE, ``IN (...)`` for LIST, ``WITH (MODULUS m, REMAINDER r)`` for HASH. Only
literals are kept (strings, numbers, NULL, TRUE/FALSE, MINVALUE/MAXVALUE); the
canonical text is made here from those values, never copied from the input, so a
bound reaches SQL only as literals this module wrote. A string that is a date or
a time stamp is written in its shortest ISO form (``'2022-01-01 00:00:00+00'``,
what PostgreSQL writes back for a ``timestamptz`` bound, is ``'2022-01-01'``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

#: the partitioning methods, by the name a model gives them
METHODS = ("range", "list", "hash")
#: the bound a DEFAULT partition has
DEFAULT = "DEFAULT"


class BoundError(ValueError):
    """A bound that is not one partition bound of literals (the message says why)."""


def _date_text(text: str) -> str:
    """An ISO date or time stamp in its shortest form; any other text as it is."""
    if not (len(text) >= 10 and text[:4].isdigit() and text[4] == "-"):
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        if moment.utcoffset() != timedelta(0):
            return text
        moment = moment.replace(tzinfo=None)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.date().isoformat()
    return moment.isoformat(sep=" ")


def _literal(node: Any) -> str:
    from sqlglot import exp

    if isinstance(node, exp.Neg) and isinstance(node.this, exp.Literal) and not node.this.is_string:
        return "-" + _literal(node.this)
    if isinstance(node, exp.Literal):
        if node.is_string:
            return "'" + _date_text(str(node.this)).replace("'", "''") + "'"
        number = str(node.this)
        try:
            float(number)
        except ValueError:
            raise BoundError(f"{number!r} is not a number") from None
        return number
    if isinstance(node, exp.Null):
        return "NULL"
    if isinstance(node, exp.Boolean):
        return "TRUE" if node.this else "FALSE"
    if isinstance(node, exp.Cast):  # PostgreSQL may write '...'::date; the value is the literal
        return _literal(node.this)
    if isinstance(node, exp.Var) and str(node.this).upper() in ("MINVALUE", "MAXVALUE"):
        return str(node.this).upper()
    raise BoundError(f"{node.sql(dialect='postgres')!r} is not a literal")


def _values(nodes: Any) -> str:
    return "(" + ", ".join(_literal(n) for n in (nodes or [])) + ")"


def _spec(text: str) -> Any:
    """The parsed bound (sqlglot's ``PartitionBoundSpec``), or the word DEFAULT."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if not isinstance(text, str) or not text.strip():
        raise BoundError("a bound is a non-empty string")
    body = text.strip()
    if body.upper().startswith("FOR VALUES"):
        body = body[len("FOR VALUES") :].strip()
    sql = "CREATE TABLE _p PARTITION OF _t " + (DEFAULT if body.upper() == DEFAULT else "FOR VALUES " + body)
    try:
        parsed = sqlglot.parse(sql, read="postgres")
    except SqlglotError as exc:
        raise BoundError(f"is not one partition bound ({str(exc).splitlines()[0]})") from None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Create):
        raise BoundError("is not one partition bound")
    props = parsed[0].args.get("properties")
    found = [p for p in (props.expressions if props else []) if isinstance(p, exp.PartitionedOfProperty)]
    if len(found) != 1 or len(props.expressions) != 1 or parsed[0].expression is not None:
        raise BoundError("is not one partition bound")
    spec = found[0].expression
    if isinstance(spec, exp.Var) and str(spec.this).upper() == DEFAULT:
        return DEFAULT
    if not isinstance(spec, exp.PartitionBoundSpec):
        raise BoundError("is not one partition bound")
    return spec


def canonical_bound(text: str) -> str:
    """``text`` (with or without ``FOR VALUES``) as one canonical bound; BoundError
    for anything else (more than one statement, an expression, a subquery...)."""
    spec = _spec(text)
    if spec == DEFAULT:
        return DEFAULT
    if spec.args.get("from_expressions") is not None:
        return f"FROM {_values(spec.args['from_expressions'])} TO {_values(spec.args.get('to_expressions'))}"
    if spec.args.get("expression") is not None:
        modulus, remainder = _literal(spec.this), _literal(spec.expression)
        if not (modulus.isdigit() and remainder.isdigit()):
            raise BoundError("MODULUS and REMAINDER are whole numbers")
        return f"WITH (MODULUS {modulus}, REMAINDER {remainder})"
    values = spec.this if isinstance(spec.this, list) else [spec.this]
    return f"IN {_values(values)}"


def range_widths(bound: str) -> tuple[int, int] | None:
    """How many values a RANGE bound gives FROM and TO (one per key column); None
    for another bound."""
    spec = _spec(bound)
    if spec == DEFAULT or spec.args.get("from_expressions") is None:
        return None
    return len(spec.args["from_expressions"]), len(spec.args.get("to_expressions") or [])


def bound_method(bound: str) -> str | None:
    """The method a canonical bound belongs to (None: DEFAULT, of range or list)."""
    if bound == DEFAULT:
        return None
    return {"FROM": "range", "IN": "list", "WITH": "hash"}[bound.split(" ", 1)[0]]


def canonical_key(text: str) -> tuple[str, tuple[str, ...]] | None:
    """A partition key as PostgreSQL writes it (``RANGE (payment_date)``,
    ``pg_get_partkeydef``), read by sqlglot as the key of a CREATE TABLE, as
    (method, columns); None where it is more than plain columns (an expression, an
    operator class, a collation)."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        parsed = sqlglot.parse(f"CREATE TABLE _t (_x INT) PARTITION BY {text}", read="postgres")
    except SqlglotError:
        return None
    if len(parsed) != 1 or not isinstance(parsed[0], exp.Create):
        return None
    keys = list(parsed[0].find_all(exp.PartitionedByProperty))
    if len(keys) != 1:
        return None
    key = keys[0].this
    if isinstance(key, exp.List):
        method = "list"
    elif isinstance(key, exp.Anonymous) and str(key.this).lower() in METHODS:
        method = str(key.this).lower()
    else:
        return None
    columns = []
    for node in key.expressions:
        if not isinstance(node, exp.Column) or node.table:
            return None
        columns.append(node.name)
    return (method, tuple(columns)) if columns else None

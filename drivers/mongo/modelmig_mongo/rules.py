"""What a MongoDB server refuses that the models could say, checked at make time.

Sources (the MongoDB manual): "Partial Indexes → Create a Partial Index" (5.0:
equality, ``$exists: true``, ``$gt``/``$gte``/``$lt``/``$lte``, ``$type``, ``$and``
at the top level only; 6.0 adds ``$or`` and ``$in``, and ``$and`` at any level);
"TTL Indexes" (``expireAfterSeconds`` is at most 2147483647); the index signature
(key pattern, collation, partialFilterExpression, unique, sparse — SERVER-47657,
5.0+): two indexes that share it fail with IndexOptionsConflict (85), whatever
their other options (a TTL index and a plain index on one field do).
"""

from __future__ import annotations

from typing import Any

MIN_SERVER = (5, 0)  # the oldest server this driver supports
TTL_MAX = 2_147_483_647
COMPARISONS = frozenset({"$eq", "$gt", "$gte", "$lt", "$lte", "$type"})


def partial_problem(expr: Any, version: tuple[int, int]) -> str | None:
    """Why a server of ``version`` refuses ``expr`` as a partialFilterExpression, or None."""
    return _filter(expr, version, top=True)


def _filter(expr: Any, version: tuple[int, int], top: bool) -> str | None:
    if not isinstance(expr, dict) or not expr:
        return "a partial filter is a non-empty document"
    for key, value in expr.items():
        if key in ("$and", "$or"):
            if key == "$or" and version < (6, 0):
                return "$or in a partial filter needs MongoDB 6.0 or later"
            if key == "$and" and not top and version < (6, 0):
                return "$and below the top level of a partial filter needs MongoDB 6.0 or later"
            if not isinstance(value, list) or not value:
                return f"{key} takes a non-empty list of filters"
            for part in value:
                problem = _filter(part, version, top=False)
                if problem:
                    return problem
        elif key.startswith("$"):
            return f"{key} is not allowed at the top of a partial filter (use field conditions, $and or $or)"
        else:
            problem = _condition(key, value, version)
            if problem:
                return problem
    return None


def _condition(field: str, value: Any, version: tuple[int, int]) -> str | None:
    if not isinstance(value, dict) or not any(k.startswith("$") for k in value):
        return None  # equality with a value (or an embedded document)
    for op, arg in value.items():
        if op in COMPARISONS:
            continue
        if op == "$exists":
            if arg is not True:
                return f"{field}: only $exists: true is allowed in a partial filter"
        elif op == "$in":
            if version < (6, 0):
                return f"{field}: $in in a partial filter needs MongoDB 6.0 or later"
            if not isinstance(arg, list):
                return f"{field}: $in takes a list"
        else:
            return (
                f"{field}: {op} is not allowed in a partial filter (allowed: equality, $exists: true, "
                "$gt, $gte, $lt, $lte, $type, $and; $or and $in from 6.0)"
            )
    return None


def signature(ix: Any) -> tuple[Any, ...]:
    """What makes two indexes the same index to the server (5.0+)."""
    return (tuple(ix.keys), ix.unique, ix.sparse, repr(ix.partial))

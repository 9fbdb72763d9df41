"""The key and options of an index as a model says them (``index(...)``,
``unique(...)`` with ``part(...)`` entries), checked and turned into ``Index``
fields; and back, the key of an ``Index`` as a model writes it (make:models).
Every problem is one ``ModelProblem`` line naming the index."""

from __future__ import annotations

from typing import Any

from ..schema.sqltext import check_expression_problem
from ..schema.state import Index
from ..vocabulary.kinds import ModelProblem
from .dsl import IndexSpec, KeyPart

#: PostgreSQL's index access methods; MySQL's index kinds
INDEX_METHODS = ("btree", "hash", "gin", "gist", "brin", "spgist")
INDEX_KINDS = ("fulltext", "spatial")


def operator_class_name(text: str) -> bool:
    """An operator class is a name, or schema.name, of letters, digits and '_' (it is
    written into DDL as it is: nothing else may reach it)."""
    parts = text.split(".") if isinstance(text, str) else []
    return 0 < len(parts) <= 2 and all(
        p and (p[0].isalpha() or p[0] == "_") and p.replace("_", "").isalnum() and p.isascii() for p in parts
    )


def sql_option(label: str, what: str, text: Any) -> str:
    """A predicate or key expression: one SQL expression (no statement, comment or ';')."""
    if not isinstance(text, str) or not text.strip():
        raise ModelProblem(f"{label}: {what} must be a non-empty SQL expression")
    problem = check_expression_problem(text)
    if problem is not None:
        raise ModelProblem(f"{label}: {what} must be one SQL expression; {text!r} {problem}")
    return text


def key_parts(entry: IndexSpec, label: str, options: dict[str, Any]) -> dict[str, Any]:
    """The key of ``entry`` (column names, ``part(...)`` entries, ``expressions=``)
    as ``Index`` fields: columns, expressions, descending, lengths."""
    parts = list(entry.columns)
    extra = options.pop("expressions", None) or ()
    if isinstance(extra, str) or not isinstance(extra, (list, tuple)):
        raise ModelProblem(f"{label}: expressions must be a list of SQL expressions")
    parts += [KeyPart(sql=e) for e in extra]
    columns: list[str] = []
    expressions: list[str | None] = []
    descending: list[int] = []
    lengths: list[int | None] = []
    ops: list[str | None] = []
    for i, p in enumerate(parts):
        if isinstance(p, str):
            p = KeyPart(p)
        if not isinstance(p, KeyPart):
            raise ModelProblem(f"{label}: key entries must be column names or part(...), not {p!r}")
        if (p.column is None) == (p.sql is None):
            raise ModelProblem(f"{label}: part(...) names a column or an sql= expression, exactly one")
        if not isinstance(p.desc, bool):
            raise ModelProblem(f"{label}: part(..., desc=) must be True or False")
        if p.desc:
            descending.append(i)
        if p.sql is not None:
            if p.length is not None or p.ops is not None:
                raise ModelProblem(
                    f"{label}: a prefix length or operator class applies to a column, not to an expression"
                )
            expressions.append(sql_option(label, "a key expression", p.sql))
            continue
        if not isinstance(p.column, str) or not p.column:
            raise ModelProblem(f"{label}: a key column must be a column name, not {p.column!r}")
        if p.length is not None and (type(p.length) is not int or not 0 < p.length <= 65535):
            raise ModelProblem(f"{label}: prefix length of {p.column} must be a positive integer, not {p.length!r}")
        if p.ops is not None and not operator_class_name(p.ops):
            raise ModelProblem(f"{label}: operator class of {p.column} must be a name (schema.name), not {p.ops!r}")
        columns.append(p.column)
        expressions.append(None)
        lengths.append(p.length)
        ops.append(p.ops)
    return {
        "columns": tuple(columns),
        "expressions": tuple(expressions) if any(e is not None for e in expressions) else (),
        "descending": tuple(descending),
        "lengths": tuple(lengths) if any(n is not None for n in lengths) else (),
        "operator_classes": tuple(ops) if any(o is not None for o in ops) else (),
    }


def index_options(label: str, options: dict[str, Any]) -> dict[str, Any]:
    """``where``, ``include``, ``method``, ``kind`` of an index, checked."""
    out: dict[str, Any] = {}
    where = options.pop("where", None)
    if where is not None:
        out["where"] = sql_option(label, "where", where)
    include = options.pop("include", None)
    if include is not None:
        names = (include,) if isinstance(include, str) else include
        if not isinstance(names, (list, tuple)) or not names or not all(isinstance(n, str) and n for n in names):
            raise ModelProblem(f"{label}: include must be a list of column names")
        out["include"] = tuple(names)
    method = options.pop("method", None)
    if method is not None:
        if not isinstance(method, str) or method.lower() not in INDEX_METHODS:
            raise ModelProblem(f"{label}: method {method!r} is none of {', '.join(INDEX_METHODS)}")
        if method.lower() != "btree":
            out["method"] = method.lower()
    kind = options.pop("kind", None)
    if kind is not None:
        if not isinstance(kind, str) or kind.lower() not in INDEX_KINDS:
            raise ModelProblem(f"{label}: kind {kind!r} is none of {', '.join(INDEX_KINDS)}")
        out["kind"] = kind.lower()
    return out


def index_key(ix: Index) -> list[str | KeyPart]:
    """The key of ``ix`` as a model writes it: a column name, or ``part(...)``
    (make:models writes the call) for a descending part, a prefix or an expression."""
    lengths = iter(ix.lengths or (None,) * len(ix.columns))
    ops = iter(ix.operator_classes or (None,) * len(ix.columns))
    out: list[str | KeyPart] = []
    for i, (text, is_expression) in enumerate(ix.parts):
        desc = i in ix.descending
        if is_expression:
            out.append(KeyPart(sql=text, desc=desc))
            continue
        length, op = next(lengths), next(ops)
        plain = not desc and length is None and op is None
        out.append(text if plain else KeyPart(text, desc=desc, length=length, ops=op))
    return out

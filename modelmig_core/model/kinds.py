"""The core's kinds of keys, constraints and indexes (foreign keys, indexes, unique
constraints, checks) as ``Kind`` objects: their state values, operations and
comparators, and their model syntax, the ``database`` block keys ``foreign_keys``,
``indexes``, ``unique`` and ``checks``, compiled by each Kind's ``compile`` exactly as
a plugin kind's entries are (``compile.compile_table`` loops over the kinds).

Registered through the ``kinds`` hook (``relational.py``) as a plugin's are; in the
order their comparators run within a phase.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..schema.diff import checks, foreign_keys, indexes, uniques
from ..schema.operations import (
    AddCheck,
    AddForeignKey,
    AddUnique,
    CreateIndex,
    DropCheck,
    DropForeignKey,
    DropIndex,
    DropUnique,
)
from ..schema.sqltext import check_expression_problem
from ..schema.state import Check, ForeignKey, Index, Unique
from ..vocabulary.kinds import Kind, ModelProblem, columns_field, rename_in_columns
from ..vocabulary.naming import check_name, foreign_key_name, index_name
from .dsl import CheckSpec, ForeignKeySpec, IndexSpec
from .index_keys import index_key, index_options, key_parts

REFERENTIAL_ACTIONS = {
    "cascade": "CASCADE",
    "set null": "SET NULL",
    "set_null": "SET NULL",
    "restrict": "RESTRICT",
    "no action": "NO ACTION",
    "no_action": "NO ACTION",
    "set default": "SET DEFAULT",
    "set_default": "SET DEFAULT",
}


def _index_entry(entry: Any, table: str, key: str) -> Index | Unique:
    """An entry of ``database[key]`` (``"unique"`` or ``"indexes"``): ``unique(...)``
    anywhere, or any entry under ``"unique"``, is a unique constraint (a value of the
    ``uniques`` kind); ``index(..., unique=True)`` under ``"indexes"`` a unique index,
    and so is a unique key with a predicate, expressions, a prefix length, an order,
    a method or a kind (a partial unique index is never a constraint over every row)."""
    if not isinstance(entry, IndexSpec):
        raise ModelProblem(f"database[{key!r}] entries must be index(...) or unique(...)")
    is_unique = entry.unique or key == "unique"
    options = dict(entry.options)
    # index(..., unique=True) in "indexes": a unique index, which is not a unique constraint
    unique_index = not is_unique and options.pop("unique", False)
    if not isinstance(unique_index, bool):
        raise ModelProblem(f"index {entry.name or ''} option unique must be True or False")
    if entry.name is not None and (not isinstance(entry.name, str) or not entry.name):
        raise ModelProblem(f"index name must be a non-empty string, not {entry.name!r}")
    label = f"{'unique' if is_unique else 'index'} {entry.name or ''}".strip()
    fields = key_parts(entry, label, options)
    fields.update(index_options(label, options))
    if not fields["columns"] and not fields["expressions"]:
        raise ModelProblem(f"{label} names no column")
    if options:
        raise ModelProblem(f"index option {sorted(options)[0]!r} is not supported on SQL models")
    named = fields["columns"] or tuple(f"expr{i}" for i, e in enumerate(fields["expressions"]) if e)
    name = entry.name or index_name(table, named, is_unique or unique_index)
    if is_unique and all(not v for k, v in fields.items() if k != "columns"):
        return Unique(name, fields["columns"])
    return Index(name, unique=is_unique or unique_index, **fields)


def compile_index(entry: Any, table: str) -> Index | Unique:
    """``database["indexes"]``: ``index(...)`` (``unique(...)`` there gives a unique constraint)."""
    return _index_entry(entry, table, "indexes")


def compile_unique(entry: Any, table: str) -> Index | Unique:
    """``database["unique"]``: ``unique(...)`` or ``index(...)``, each a unique constraint."""
    return _index_entry(entry, table, "unique")


def _action(fk_name: str, value: str | None) -> str | None:
    if value is None:
        return None
    action = REFERENTIAL_ACTIONS.get(str(value).lower())
    if action is None:
        raise ModelProblem(f"foreign key {fk_name}: unknown referential action {value!r}")
    return action


def compile_foreign_key(entry: Any, table: str) -> ForeignKey:
    """``database["foreign_keys"]``: ``foreign_key(columns, ref_table, ref_columns, ...)``."""
    if not isinstance(entry, ForeignKeySpec):
        raise ModelProblem("database['foreign_keys'] entries must be foreign_key(...)")
    fk_name = entry.name or foreign_key_name(table, entry.columns, entry.ref_table)
    if not entry.columns:
        raise ModelProblem(f"foreign key {fk_name} names no column")
    if len(entry.columns) != len(entry.ref_columns):
        raise ModelProblem(
            f"foreign key {fk_name} has {len(entry.columns)} columns but references {len(entry.ref_columns)}"
        )
    on_delete, on_update = _action(fk_name, entry.on_delete), _action(fk_name, entry.on_update)
    if not isinstance(entry.deferrable, bool):
        raise ModelProblem(f"foreign key {fk_name}: deferrable must be True or False")
    initially = entry.initially
    if initially is not None:
        if not isinstance(initially, str) or initially.lower() not in ("deferred", "immediate"):
            raise ModelProblem(f"foreign key {fk_name}: initially must be 'deferred' or 'immediate', not {initially!r}")
        if not entry.deferrable:
            raise ModelProblem(f"foreign key {fk_name}: initially={initially!r} needs deferrable=True")
        initially = "deferred" if initially.lower() == "deferred" else None  # immediate is the default
    return ForeignKey(
        fk_name, entry.columns, entry.ref_table, entry.ref_columns, on_delete, on_update, entry.deferrable, initially
    )


def compile_check(entry: Any, table: str) -> Check:
    """``database["checks"]``: ``check("<one SQL expression>", name=...)``."""
    if not isinstance(entry, CheckSpec) or not isinstance(entry.expression, str) or not entry.expression.strip():
        raise ModelProblem("database['checks'] entries must be check('<sql expression>')")
    ck_name = entry.name or check_name(table, entry.expression)
    problem = check_expression_problem(entry.expression)
    if problem is not None:
        raise ModelProblem(f"a check must be one SQL expression; this one {problem}", subject=f"check {ck_name!r}")
    return Check(ck_name, entry.expression)


# ---------------------------------------------------------------- back into a model (make:models)

ModelCall = tuple[str, tuple[Any, ...], tuple[tuple[str, Any], ...]]


def _names(columns: tuple[str, ...]) -> str | list[str]:
    return columns[0] if len(columns) == 1 else list(columns)


def foreign_key_call(fk: ForeignKey) -> ModelCall:
    kw: list[tuple[str, Any]] = [("name", fk.name)]
    if fk.on_delete:
        kw.append(("on_delete", fk.on_delete.lower()))
    if fk.on_update:
        kw.append(("on_update", fk.on_update.lower()))
    if fk.deferrable:
        kw.append(("deferrable", True))
    if fk.initially:
        kw.append(("initially", fk.initially))
    return "foreign_key", (_names(fk.columns), fk.ref_table, _names(fk.ref_columns)), tuple(kw)


def index_call(ix: Index) -> ModelCall:
    """``index(...)``; a unique index stays a unique index (``unique=True``), not a
    unique constraint, and keeps its predicate, key parts and options."""
    key = index_key(ix)
    kwargs: list[tuple[str, Any]] = [("name", ix.name)]
    if ix.unique:
        kwargs.append(("unique", True))
    if ix.where is not None:
        kwargs.append(("where", ix.where))
    if ix.include:
        kwargs.append(("include", list(ix.include)))
    if ix.method is not None:
        kwargs.append(("method", ix.method))
    if ix.kind is not None:
        kwargs.append(("kind", ix.kind))
    return "index", (key[0] if len(key) == 1 else key,), tuple(kwargs)


def rename_index_column(value: Any, old: str, new: str) -> Any:
    """An index with column ``old`` renamed in its key and its INCLUDE columns (the
    database renames them itself; its SQL text names columns as the models wrote it)."""
    value = rename_in_columns(value, old, new)
    include = tuple(new if c == old else c for c in getattr(value, "include", ()) or ())
    return value if include == tuple(getattr(value, "include", ()) or ()) else replace(value, include=include)


def index_columns(value: Any) -> tuple[str, ...]:
    """The columns an index uses: its key's columns and its INCLUDE columns."""
    return (*columns_field(value), *(getattr(value, "include", ()) or ()))


def unique_call(uq: Unique) -> ModelCall:
    return "unique", (_names(uq.columns),), (("name", uq.name),)


def check_call(ck: Check) -> ModelCall:
    problem = check_expression_problem(ck.expression)
    if problem is not None:
        raise ValueError(f"check {ck.expression} cannot be written in a model ({problem})")
    return "check", (ck.expression,), (("name", ck.name),)


#: The core's kinds, registered through the ``kinds`` hook (``relational.py``) as a
#: plugin's are; in the order a model's ``database`` block is compiled and written
#: (the order their comparators run is ``diff.COMPARATORS``'). Renderers and
#: reflection know them by their values; their ``model_call`` writes the model DSL.
BUILTIN_KINDS: tuple[Kind, ...] = (
    Kind(
        "foreign_keys", ForeignKey, AddForeignKey, DropForeignKey, "foreign key", "foreign_keys",
        compile=compile_foreign_key, columns=columns_field, model_call=foreign_key_call,
        comparators=foreign_keys.COMPARATORS, requires=("add_constraint_to_existing_table",), builtin=True,
    ),
    Kind(
        "uniques", Unique, AddUnique, DropUnique, "unique constraint", "unique",
        compile=compile_unique, columns=columns_field, model_call=unique_call, comparators=uniques.COMPARATORS,
        requires=("add_unique_to_existing_table",), builtin=True,
    ),
    Kind(
        "indexes", Index, CreateIndex, DropIndex, "index", "indexes",
        compile=compile_index, columns=index_columns, model_call=index_call, comparators=indexes.COMPARATORS,
        rename_column=rename_index_column,
        builtin=True,
    ),
    Kind(
        "checks", Check, AddCheck, DropCheck, "check constraint", "checks",
        compile=compile_check, model_call=check_call, comparators=checks.COMPARATORS,
        requires=("add_constraint_to_existing_table", "check_constraints"), builtin=True,
    ),
)  # fmt: skip

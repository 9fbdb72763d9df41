"""Models -> state. Validates every model and names the file, model and field of
any problem it finds."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Iterable
from typing import Any

from .column_types import COLUMN_OPTIONS, COLUMN_TYPES, DEFAULT_DECIMAL, DEFAULT_STRING_LENGTH
from .errors import ModelError
from .model import CheckSpec, ColumnSpec, ForeignKeySpec, IndexSpec, Model, RelationSpec
from .naming import check_name, foreign_key_name, index_name, snake
from .sqltext import check_expression_problem
from .state import Check, Column, ForeignKey, Index, State, Table

RELATION_KINDS = frozenset({"belongsTo", "hasOne", "hasMany", "belongsToMany", "morphTo", "morphMany"})
DATABASE_KEYS = frozenset({"foreign_keys", "unique", "indexes", "checks"})
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


_SOURCES: weakref.WeakKeyDictionary[type, str] = weakref.WeakKeyDictionary()


def _source(model: type[Model]) -> str:
    """The model's source file (looked up once per class: this prefixes every column)."""
    path = _SOURCES.get(model)
    if path is None:
        try:
            path = inspect.getsourcefile(model) or model.__module__
        except (TypeError, OSError):
            path = model.__module__
        _SOURCES[model] = path
    return path


def where(model: type[Model], field: str | None = None) -> str:
    """'blog/models.py: model Post, field title' — the prefix of every model error."""
    text = f"{_source(model)}: model {model.__name__}"
    return f"{text}, field {field!r}" if field else text


def table_name(model: type[Model]) -> str:
    name = model.__dict__.get("table") or getattr(model, "table", "")
    if not name:
        name = snake(model.__name__) + "s"
    if not isinstance(name, str) or not name.isidentifier():
        raise ModelError(f"{where(model)}: table name {name!r} is not a valid identifier")
    return name


def compile_column(model: type[Model], name: str, spec: ColumnSpec, extra_types: Iterable[str] = ()) -> Column:
    """One ``column(...)`` -> a normalized state Column."""
    loc = where(model, name)
    if not name.isidentifier():
        raise ModelError(f"{loc}: column name is not a valid identifier")
    extra = set(extra_types)
    if spec.type in COLUMN_TYPES:
        state_type, implied = COLUMN_TYPES[spec.type]
    elif spec.type in extra:
        state_type, implied = spec.type, {}
    else:
        known = ", ".join(sorted(COLUMN_TYPES))
        raise ModelError(f"{loc}: unknown column type {spec.type!r} (known: {known})")
    unknown = sorted(set(spec.options) - COLUMN_OPTIONS)
    if unknown:
        raise ModelError(f"{loc}: unknown column option {unknown[0]!r}")
    opts: dict[str, Any] = {**implied, **spec.options}
    kw: dict[str, Any] = {}

    if state_type == "string":
        length = spec.arg if spec.arg is not None else opts.get("length", DEFAULT_STRING_LENGTH)
        if not isinstance(length, int) or isinstance(length, bool) or length <= 0:
            raise ModelError(f"{loc}: string length must be a positive integer, got {length!r}")
        kw["length"] = length
    elif state_type == "decimal":
        arg = spec.arg
        if isinstance(arg, (tuple, list)) and len(arg) == 2:
            precision, scale = arg
        elif isinstance(arg, int):
            precision, scale = arg, opts.get("scale", DEFAULT_DECIMAL[1])
        else:
            precision = opts.get("precision", DEFAULT_DECIMAL[0])
            scale = opts.get("scale", DEFAULT_DECIMAL[1])
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (precision, scale)) or not (
            0 < precision and 0 <= scale <= precision
        ):
            raise ModelError(f"{loc}: decimal needs 0 < precision and 0 <= scale <= precision")
        kw["precision"], kw["scale"] = precision, scale
    elif state_type == "enum":
        values = spec.arg if spec.arg is not None else opts.get("values")
        if not isinstance(values, (list, tuple)) or not values or not all(isinstance(v, str) for v in values):
            raise ModelError(f"{loc}: enum needs a non-empty list of string values")
        if len(set(values)) != len(values):
            raise ModelError(f"{loc}: enum values repeat")
        kw["values"] = tuple(values)
    elif spec.arg is not None:
        raise ModelError(f"{loc}: column type {spec.type!r} takes no argument (got {spec.arg!r})")

    for flag in ("nullable", "unique", "index", "primary", "use_tz", "default_now", "autoincrement"):
        if flag in opts and not isinstance(opts[flag], bool):
            raise ModelError(f"{loc}: option {flag!r} must be True or False")
    if opts.get("use_tz") and state_type not in ("timestamp", "time"):
        raise ModelError(f"{loc}: use_tz only applies to timestamp columns")
    if opts.get("autoincrement") and state_type not in ("integer", "bigInteger", "smallInteger"):
        raise ModelError(f"{loc}: autoincrement needs an integer column")

    default = opts.get("default")
    if default is not None and not isinstance(default, (str, int, float, bool)):
        raise ModelError(f"{loc}: default must be a str, int, float or bool literal")
    if default is not None and state_type == "enum" and default not in kw["values"]:
        raise ModelError(f"{loc}: default {default!r} is not one of the enum values")

    default_now = False
    nullable = bool(opts.get("nullable", False))
    if spec.type == "softDeletes":
        if opts.get("default_now"):
            raise ModelError(f"{loc}: softDeletes never defaults to the current time")
        if opts.get("nullable") is False:
            raise ModelError(f"{loc}: softDeletes is always nullable")
        nullable = True
    elif state_type == "timestamp":
        default_now = bool(opts.get("default_now", default is None))
        if default_now and default is not None:
            raise ModelError(f"{loc}: give either default or default_now, not both")
        if not default_now and "nullable" not in opts:
            nullable = True  # a business timestamp starts empty until the app sets it
    elif "default_now" in opts:
        raise ModelError(f"{loc}: default_now only applies to timestamp columns")

    primary = bool(opts.get("primary", False))
    if primary and nullable:
        raise ModelError(f"{loc}: a primary key column cannot be nullable")
    comment = opts.get("comment")
    if comment is not None and not isinstance(comment, str):
        raise ModelError(f"{loc}: comment must be a string")
    renamed_from = opts.get("renamed_from")
    if renamed_from is not None and (not isinstance(renamed_from, str) or not renamed_from.isidentifier()):
        raise ModelError(f"{loc}: renamed_from must be a column name")

    return Column(
        name=name,
        type=state_type,
        nullable=nullable,
        default=default,
        default_now=default_now,
        primary=primary,
        autoincrement=bool(opts.get("autoincrement", False)),
        use_tz=bool(opts.get("use_tz", False)),
        comment=comment,
        **kw,
    )


def _database_block(model: type[Model]) -> dict[str, list[Any]]:
    block = getattr(model, "database", {}) or {}
    if not isinstance(block, dict):
        raise ModelError(f"{where(model)}: database must be a dict")
    unknown = sorted(set(block) - DATABASE_KEYS)
    if unknown:
        raise ModelError(
            f"{where(model)}: unknown database key {unknown[0]!r} (known: {', '.join(sorted(DATABASE_KEYS))})"
        )
    out: dict[str, list[Any]] = {}
    for key in DATABASE_KEYS:
        value = block.get(key, [])
        if not isinstance(value, (list, tuple)):
            raise ModelError(f"{where(model)}: database[{key!r}] must be a list")
        out[key] = list(value)
    return out


def _action(model: type[Model], fk_name: str, value: str | None) -> str | None:
    if value is None:
        return None
    action = REFERENTIAL_ACTIONS.get(str(value).lower())
    if action is None:
        raise ModelError(f"{where(model)}: foreign key {fk_name}: unknown referential action {value!r}")
    return action


def column_specs(model: type[Model]) -> dict[str, ColumnSpec]:
    """The columns of a model's schema, validating the other entries (relations)."""
    schema = getattr(model, "schema", None)
    if not isinstance(schema, dict) or not schema:
        raise ModelError(f"{where(model)}: schema must be a non-empty dict of column(...) and relation(...)")
    cols: dict[str, ColumnSpec] = {}
    for name, spec in schema.items():
        if isinstance(spec, ColumnSpec):
            cols[name] = spec
        elif isinstance(spec, RelationSpec):
            if spec.kind not in RELATION_KINDS:
                raise ModelError(f"{where(model, name)}: unknown relation kind {spec.kind!r}")
        else:
            raise ModelError(f"{where(model, name)}: expected column(...) or relation(...), got {type(spec).__name__}")
    if not cols:
        raise ModelError(f"{where(model)}: schema declares no column")
    return cols


def compile_table(model: type[Model], extra_types: Iterable[str] = ()) -> Table:
    """One SQL model -> a state Table (checked on its own; cross-model checks follow)."""
    name = table_name(model)
    specs = column_specs(model)
    columns = tuple(compile_column(model, n, s, extra_types) for n, s in specs.items())
    colnames = {c.name for c in columns}
    if sum(1 for c in columns if c.autoincrement) > 1:
        raise ModelError(f"{where(model)}: more than one auto-increment column")
    block = _database_block(model)

    def known(cols: tuple[str, ...], what: str) -> None:
        if not cols:
            raise ModelError(f"{where(model)}: {what} names no column")
        for c in cols:
            if c not in colnames:
                raise ModelError(f"{where(model, c)}: {what} names a column the schema does not declare")

    indexes: list[Index] = []
    for col in columns:
        opts = specs[col.name].options
        if opts.get("unique"):
            indexes.append(Index(index_name(name, (col.name,), True), (col.name,), True))
        if opts.get("index"):
            indexes.append(Index(index_name(name, (col.name,), False), (col.name,), False))
    for key in ("unique", "indexes"):
        for spec in block[key]:
            if not isinstance(spec, IndexSpec):
                raise ModelError(f"{where(model)}: database[{key!r}] entries must be index(...) or unique(...)")
            is_unique = spec.unique or key == "unique"
            known(spec.columns, f"index {spec.name or ''}".strip())
            if spec.options:
                raise ModelError(
                    f"{where(model)}: index option {sorted(spec.options)[0]!r} is not supported on SQL models"
                )
            indexes.append(Index(spec.name or index_name(name, spec.columns, is_unique), spec.columns, is_unique))

    fks: list[ForeignKey] = []
    for spec in block["foreign_keys"]:
        if not isinstance(spec, ForeignKeySpec):
            raise ModelError(f"{where(model)}: database['foreign_keys'] entries must be foreign_key(...)")
        fk_name = spec.name or foreign_key_name(name, spec.columns, spec.ref_table)
        known(spec.columns, f"foreign key {fk_name}")
        if len(spec.columns) != len(spec.ref_columns):
            raise ModelError(
                f"{where(model)}: foreign key {fk_name} has {len(spec.columns)} columns "
                f"but references {len(spec.ref_columns)}"
            )
        fks.append(
            ForeignKey(
                fk_name,
                spec.columns,
                spec.ref_table,
                spec.ref_columns,
                _action(model, fk_name, spec.on_delete),
                _action(model, fk_name, spec.on_update),
            )
        )

    checks: list[Check] = []
    for spec in block["checks"]:
        if not isinstance(spec, CheckSpec) or not isinstance(spec.expression, str) or not spec.expression.strip():
            raise ModelError(f"{where(model)}: database['checks'] entries must be check('<sql expression>')")
        ck_name = spec.name or check_name(name, spec.expression)
        problem = check_expression_problem(spec.expression)
        if problem is not None:
            raise ModelError(
                f"{where(model)}, check {ck_name!r}: a check must be one SQL expression; this one {problem}"
            )
        checks.append(Check(ck_name, spec.expression))

    return Table(name, columns, tuple(indexes), tuple(fks), tuple(checks))


def check_names_unique(state: State, models: dict[str, type[Model]]) -> None:
    """Index and constraint names are schema-wide on several databases: one name, one object."""
    seen: dict[str, str] = {}
    for table in state.tables.values():
        names = [i.name for i in table.indexes] + [f.name for f in table.foreign_keys] + [c.name for c in table.checks]
        for n in names:
            if n in seen:
                other = seen[n]
                raise ModelError(
                    f"{where(models[table.name])}: two indexes or constraints are named {n!r}"
                    + (f" (also on table {other!r})" if other != table.name else "")
                )
            seen[n] = table.name


def check_references(state: State, models: dict[str, type[Model]]) -> None:
    for table in state.tables.values():
        for fk in table.foreign_keys:
            target = state.tables.get(fk.ref_table)
            if target is None:
                raise ModelError(
                    f"{where(models[table.name])}: foreign key {fk.name} references table {fk.ref_table!r}, "
                    "which no model defines"
                )
            for c in fk.ref_columns:
                if target.column(c) is None:
                    raise ModelError(
                        f"{where(models[table.name])}: foreign key {fk.name} references column "
                        f"{fk.ref_table}.{c}, which does not exist"
                    )


def check_relations(models: Iterable[type[Model]]) -> None:
    names = {m.__name__ for m in models}
    for m in models:
        for field, spec in m.schema.items():
            if isinstance(spec, RelationSpec) and spec.target not in names:
                raise ModelError(f"{where(m, field)}: relation targets model {spec.target!r}, which is not defined")


def compile_sql_models(models: list[type[Model]], extra_types: Iterable[str] = ()) -> State:
    by_table: dict[str, type[Model]] = {}
    tables: dict[str, Table] = {}
    extra = tuple(extra_types)
    for m in models:
        t = compile_table(m, extra)
        if t.name in by_table:
            raise ModelError(f"{where(m)}: table {t.name!r} is already defined by model {by_table[t.name].__name__}")
        by_table[t.name] = m
        tables[t.name] = t
    state = State(tables=dict(sorted(tables.items())))
    check_references(state, by_table)
    check_names_unique(state, by_table)
    return state


def renames(models: list[type[Model]]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Declared renames: {new_table: old_table}, {table: {new_column: old_column}}."""
    tables: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    for m in models:
        name = table_name(m)
        if m.__dict__.get("renamed_from"):
            tables[name] = m.renamed_from  # type: ignore[assignment]
        for col, spec in column_specs(m).items():
            old = spec.options.get("renamed_from")
            if old:
                columns.setdefault(name, {})[col] = old
    return tables, columns

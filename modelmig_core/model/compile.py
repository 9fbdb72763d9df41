"""Models -> state. Validates every model and names the file, model and field of
any problem it finds."""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..errors import ModelError
from ..schema.partitions import METHODS, BoundError, bound_method, canonical_bound, range_widths
from ..schema.state import Check, Column, ForeignKey, Index, Partition, State, Table, Unique, View
from ..vocabulary.column_types import BUILTIN_TYPES, COLUMN_OPTIONS, INTEGER_RANGES, ColumnType, register, type_of
from ..vocabulary.kinds import Kind, ModelProblem, plugin_kinds
from ..vocabulary.naming import foreign_key_name, index_name, snake
from .dsl import ColumnSpec, ForeignKeySpec, IndexSpec, KeyPart, Model, PartitionSpec, RelationSpec, is_view
from .kinds import BUILTIN_KINDS

RELATION_KINDS = frozenset({"belongsTo", "hasOne", "hasMany", "belongsToMany", "morphTo", "morphMany"})
#: table names modelmig keeps for itself (the ledger, the Mongo lock, rebuild scratch tables)
RESERVED_PREFIXES = ("modelmig_", "_modelmig_")


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


def name_problem(model: type[Model], name: Any) -> str | None:
    """Why ``name`` cannot name a table or column of ``model``, or None. An SQL table
    or column may hold any printable text (it is quoted wherever it reaches SQL and
    written as a literal wherever it reaches Python: a name read from a live
    database, ``a.b c'd``); a line break or control character is refused, and the
    other stores keep to identifiers."""
    if not isinstance(name, str) or not name:
        return "is not a valid identifier"
    if (getattr(model, "store", "sql") or "sql") == "sql":
        return None if name.isprintable() else "holds a line break or control character"
    return None if name.isidentifier() else "is not a valid identifier"


def table_name(model: type[Model]) -> str:
    """The table a model declares (a view model: its view's name)."""
    if is_view(model):
        return view_name(model)
    if "table" in model.__dict__:
        name = model.__dict__["table"]
        if isinstance(name, str) and not name.strip():
            raise ModelError(f"{where(model)}: table name is empty (leave 'table' out to get {snake(model.__name__)}s)")
    else:
        name = getattr(model, "table", "") or snake(model.__name__) + "s"
    problem = name_problem(model, name)
    if problem:
        raise ModelError(f"{where(model)}: table name {name!r} {problem}")
    if name.lower().startswith(RESERVED_PREFIXES):
        raise ModelError(
            f"{where(model)}: table name {name!r} is reserved: modelmig keeps names starting with "
            "'modelmig_' for its own tables (modelmig_migrations, modelmig_lock)"
        )
    return name


def view_name(model: type[Model]) -> str:
    """The name a view model gives its view (``view = ...``), checked as a table's is."""
    name = getattr(model, "view", None)
    if not isinstance(name, str) or not name.strip():
        raise ModelError(f'{where(model)}: a view model names its view: view = "active_users"')
    problem = name_problem(model, name)
    if problem:
        raise ModelError(f"{where(model)}: view name {name!r} {problem}")
    if name.lower().startswith(RESERVED_PREFIXES):
        raise ModelError(f"{where(model)}: view name {name!r} is reserved: modelmig keeps names starting 'modelmig_'")
    return name


def compile_view(model: type[Model]) -> View:
    """A view model -> a state View: its name, and its SELECT as written, which must
    read as one SELECT that writes nothing (no ';', no comment, no statement inside:
    ``schema.transpile``'s rules; the chain's dialect is checked per connection at
    make time)."""
    from ..schema.transpile import NotFaithful, _read

    name = view_name(model)
    for block in ("schema", "database"):
        if getattr(model, block, None):
            raise ModelError(f"{where(model)}: a view has no {block} block: its columns are what its SELECT gives")
    if model.__dict__.get("renamed_from"):
        raise ModelError(f"{where(model)}: a view is not renamed: drop it (remove the model) and declare the new one")
    select = getattr(model, "select", None)
    if not isinstance(select, str) or not select.strip():
        raise ModelError(f"{where(model, 'select')}: a view model gives its SELECT as a string")
    try:
        _read(select, "", True)
    except NotFaithful as exc:
        if not str(exc).startswith("cannot be read as"):  # a dialect's own syntax: make checks it per connection
            raise ModelError(f"{where(model, 'select')}: view {name}: the SELECT {exc}") from None
    materialized = getattr(model, "materialized", False)
    if not isinstance(materialized, bool):
        raise ModelError(f"{where(model, 'materialized')}: materialized must be True or False")
    return View(name, select, materialized)


def value_problem(col: Column, value: Any) -> str | None:
    """Why ``value`` cannot be stored in ``col`` (as a default or backfill), or None
    (its type object's ``value_problem``)."""
    return type_of(col.type).value_problem(col, value)


#: {the extra types' names: {a declaration's repr: its Column}}
_COLUMNS: dict[tuple[str, ...], dict[str, Column]] = {}
_CURRENT: dict[int, tuple[tuple[Any, ...], dict[str, Column]]] = {}


def _compiled_for(extra: tuple[Any, ...]) -> dict[str, Column]:
    """The columns compiled with these extra types, looked up once per tuple (a
    schema of 1,000 tables asks for them for each of its 22,000 columns)."""
    known = _CURRENT.get(id(extra))
    if known is not None and known[0] is extra:
        return known[1]
    names = tuple(getattr(t, "name", t) for t in extra)
    table = _COLUMNS.setdefault(names, {})
    _CURRENT.clear()  # one tuple is in use at a time: keep only it (and never a stale id)
    _CURRENT[id(extra)] = (extra, table)
    return table


def compile_column(
    model: type[Model], name: str, spec: ColumnSpec, extra_types: Iterable[ColumnType | str] = ()
) -> Column:
    """One ``column(...)`` -> a normalized state Column. The same declaration
    (name, type, argument, options) compiles once per process: a schema repeats its
    ``id`` and timestamp columns in every model, and the file renderer then writes
    each shared Column once. Only valid declarations are remembered, so an error
    always names the model it is in. The key is the declaration's ``repr``, which
    tells apart what ``==`` does not (``1``, ``1.0`` and ``True``; a list and a tuple)."""
    problem = name_problem(model, name)
    if problem:
        raise ModelError(f"{where(model, name)}: column name {problem}")
    extra = extra_types if type(extra_types) is tuple else tuple(extra_types)
    compiled = _compiled_for(extra)
    key = repr((name, spec.type, spec.arg, spec.options))
    known = compiled.get(key)
    if known is not None:
        return known
    col = _compile_column(model, name, spec, extra)
    compiled[key] = col
    return col


def _registry(extra_types: Iterable[ColumnType | str]) -> dict[str, ColumnType]:
    """The types a model may use: the built-in ones, and those the ``column_types``
    hook answered (``extra_types``: its entries; built-in ones among them too)."""
    return {t.name: t for t in BUILTIN_TYPES} | register([tuple(extra_types)])


def _compile_column(model: type[Model], name: str, spec: ColumnSpec, extra_types: Iterable[ColumnType | str]) -> Column:
    loc = where(model, name)
    registered = _registry(extra_types)
    ctype = registered.get(spec.type)
    if ctype is None:
        known = ", ".join(sorted(registered))
        raise ModelError(f"{loc}: unknown column type {spec.type!r} (known: {known})")
    state_type, implied = ctype.state, ctype.implied
    unknown = sorted(set(spec.options) - COLUMN_OPTIONS)
    if unknown:
        raise ModelError(f"{loc}: unknown column option {unknown[0]!r}")
    opts: dict[str, Any] = {**implied, **spec.options}
    try:
        kw: dict[str, Any] = ctype.arguments(spec.arg, opts)
    except ValueError as exc:
        raise ModelError(f"{loc}: {exc}") from None

    for flag in ("nullable", "unique", "index", "primary", "use_tz", "default_now", "autoincrement", "array"):
        if flag in opts and not isinstance(opts[flag], bool):
            raise ModelError(f"{loc}: option {flag!r} must be True or False")
    if opts.get("use_tz") and state_type not in ("timestamp", "time"):
        raise ModelError(f"{loc}: use_tz only applies to timestamp columns")
    if opts.get("autoincrement") and state_type not in INTEGER_RANGES:
        raise ModelError(f"{loc}: autoincrement needs an integer column")
    if opts.get("array") and (opts.get("autoincrement") or opts.get("primary")):
        raise ModelError(f"{loc}: an array column cannot be a primary key or auto-increment")

    default = opts.get("default")
    if default is not None and not isinstance(default, (str, int, float, bool)):
        raise ModelError(f"{loc}: default must be a str, int, float or bool literal")

    default_now = False
    nullable = bool(opts.get("nullable", False))
    if spec.type == "softDeletes":
        if opts.get("default_now"):
            raise ModelError(f"{loc}: softDeletes never defaults to the current time")
        if opts.get("nullable") is False:
            raise ModelError(f"{loc}: softDeletes is always nullable")
        nullable = True
    elif state_type in ("timestamp", "utcTimestamp"):
        default_now = bool(opts.get("default_now", default is None and opts.get("default_sql") is None))
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
    attributes = column_attributes(loc, state_type, opts, default_now)
    renamed_from = opts.get("renamed_from")
    if renamed_from is not None and (not isinstance(renamed_from, str) or not renamed_from.isidentifier()):
        raise ModelError(f"{loc}: renamed_from must be a column name")

    col = Column(
        name=name,
        type=state_type,
        nullable=nullable,
        default=default,
        default_now=default_now,
        primary=primary,
        autoincrement=bool(opts.get("autoincrement", False)),
        use_tz=bool(opts.get("use_tz", False)),
        comment=comment,
        array=bool(opts.get("array", False)),
        **attributes,
        **kw,
    )
    if "generated" in opts or "stored" in opts:
        col = generated_column(loc, col, opts)
    if opts.get("default_sql") is not None:
        col = expression_default(loc, col, opts)
    for what in ("default", "backfill"):
        value = opts.get(what)
        if value is None:
            continue
        if not isinstance(value, (str, int, float, bool)):
            raise ModelError(f"{loc}: {what} must be a str, int, float or bool literal")
        problem = ctype.value_problem(col, value)
        if problem:
            raise ModelError(f"{loc}: {what} {problem}")
    return col


#: the state types that hold text: a collation or character set applies to them
TEXT_STATES = frozenset({"string", "char", "text", "tinyText", "mediumText", "longText", "enum", "set"})
#: ``identity=`` values -> the state's (None: the driver's own numbering)
IDENTITIES = {"always": "always", "by default": None, "by_default": None, "serial": "serial"}


def column_attributes(loc: str, state_type: str, opts: dict[str, Any], default_now: bool) -> dict[str, Any]:
    """The column attributes beside its type: ``collation``, ``charset``,
    ``on_update_now`` and ``identity``, validated (one error line naming the
    field); only those given, so a column without them equals one compiled before."""
    out: dict[str, Any] = {}
    for what in ("collation", "charset"):
        value = opts.get(what)
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or not value.isprintable():
            raise ModelError(f"{loc}: {what} must be a name (printable text, not empty)")
        if state_type not in TEXT_STATES:
            raise ModelError(f"{loc}: {what} only applies to text columns (string, char, text, enum), not {state_type}")
        out[what] = value
    on_update = opts.get("on_update_now")
    if on_update is not None:
        if not isinstance(on_update, bool):
            raise ModelError(f"{loc}: option 'on_update_now' must be True or False")
        if on_update and state_type not in ("timestamp", "utcTimestamp"):
            raise ModelError(f"{loc}: on_update_now only applies to timestamp columns")
        if on_update:
            out["on_update_now"] = True
    enum_name = opts.get("enum_name")
    if enum_name is not None:
        if not isinstance(enum_name, str) or not enum_name.strip() or not enum_name.isprintable():
            raise ModelError(f"{loc}: enum_name must be a name (printable text, not empty)")
        if state_type != "enum":
            raise ModelError(f"{loc}: enum_name only applies to enum columns")
        out["enum_name"] = enum_name
    identity = opts.get("identity")
    if identity is not None:
        if not isinstance(identity, str) or identity.lower() not in IDENTITIES:
            raise ModelError(f"{loc}: identity must be one of 'always', 'by default', 'serial', not {identity!r}")
        if not opts.get("autoincrement"):
            raise ModelError(f"{loc}: identity only applies to auto-increment columns (increments, bigIncrements)")
        if IDENTITIES[identity.lower()] is not None:
            out["identity"] = IDENTITIES[identity.lower()]
    return out


def generated_column(loc: str, col: Column, opts: Mapping[str, Any]) -> Column:
    """``column("integer", generated="price * qty", stored=True)``: one SQL
    expression (the chain's ``sql_dialect``), no default, backfill, key or
    auto-increment; virtual unless ``stored``."""
    from ..schema.sqltext import check_expression_problem

    text, stored = opts.get("generated"), opts.get("stored", False)
    if not isinstance(text, str) or not text.strip():
        raise ModelError(f"{loc}: generated must be a non-empty SQL expression (stored= alone generates nothing)")
    problem = check_expression_problem(text)
    if problem is not None:
        raise ModelError(f"{loc}: generated must be one SQL expression; {text!r} {problem}")
    if not isinstance(stored, bool):
        raise ModelError(f"{loc}: stored must be True or False")
    given = [k for k in ("default", "default_now", "backfill", "primary", "autoincrement") if opts.get(k)]
    if given:
        raise ModelError(f"{loc}: a generated column takes no {given[0]} (the database computes its value)")
    return replace(col, generated=text, stored=stored, default_now=False)


def expression_default(loc: str, col: Column, opts: Mapping[str, Any]) -> Column:
    """``column("date", default_sql="CURRENT_DATE")``: a default that is one SQL
    expression (the chain's ``sql_dialect``), given instead of ``default`` or
    ``default_now``, never on a generated or auto-increment column."""
    from ..schema.sqltext import check_expression_problem

    text = opts.get("default_sql")
    if not isinstance(text, str) or not text.strip() or not text.isprintable():
        raise ModelError(f"{loc}: default_sql must be a non-empty SQL expression (printable text)")
    problem = check_expression_problem(text)
    if problem is not None:
        raise ModelError(f"{loc}: default_sql must be one SQL expression; {text!r} {problem}")
    given = [k for k in ("default", "default_now", "generated", "autoincrement") if opts.get(k)]
    if given:
        raise ModelError(f"{loc}: give either default_sql or {given[0]}, not both")
    return replace(col, default_sql=text, default_now=False)


def model_kinds() -> list[Kind]:
    """The kinds a model's ``database`` block may declare: the core's (always), then
    the plugins' registered in this process."""
    return [*BUILTIN_KINDS, *plugin_kinds()]


#: the ``database`` key that orders a composite primary key: ``"primary_key": ["b", "a"]``
PRIMARY_KEY = "primary_key"
#: the ``database`` key that names the primary key constraint: ``"primary_key_name": "pk_users"``
PRIMARY_KEY_NAME = "primary_key_name"


def primary_key_name(model: type[Model], columns: tuple[Column, ...]) -> str | None:
    """``database["primary_key_name"]``: the primary key constraint's own name."""
    block = getattr(model, "database", {}) or {}
    name = block.get(PRIMARY_KEY_NAME) if isinstance(block, dict) else None
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise ModelError(f"{where(model)}: database['primary_key_name'] must be a name (printable text, not empty)")
    if not any(c.primary for c in columns):
        raise ModelError(f"{where(model)}: database['primary_key_name'] names a primary key the model does not have")
    return name


def primary_key_order(model: type[Model], columns: tuple[Column, ...]) -> tuple[Column, ...]:
    """``database["primary_key"]``: the primary key's columns in key order (each
    one declared; those not ``primary=True`` join it). Set as ``primary_position``
    only where the order is not the columns' own."""
    block = getattr(model, "database", {}) or {}
    order = block.get(PRIMARY_KEY) if isinstance(block, dict) else None
    if order is None:
        return columns
    if isinstance(order, (str, KeyPart)):
        order = [order]
    if not isinstance(order, (list, tuple)) or not order:
        raise ModelError(f"{where(model)}: database['primary_key'] must be a list of column names")
    lengths: dict[str, int] = {}
    names_in_order: list[str] = []
    for entry in order:
        if isinstance(entry, KeyPart) and entry.column is not None and entry.sql is None and not entry.desc:
            if entry.length is not None:
                if type(entry.length) is not int or not 0 < entry.length <= 65535:
                    raise ModelError(
                        f"{where(model, entry.column)}: primary key prefix length must be a positive integer, "
                        f"not {entry.length!r}"
                    )
                lengths[entry.column] = entry.length
            names_in_order.append(entry.column)
        elif isinstance(entry, str):
            names_in_order.append(entry)
        else:
            raise ModelError(
                f"{where(model)}: database['primary_key'] entries are column names or part(column, length=n)"
            )
    order = names_in_order
    names = {c.name for c in columns}
    for c in order:
        if c not in names:
            raise ModelError(f"{where(model, c)}: database['primary_key'] names a column the schema does not declare")
    if len(set(order)) != len(order):
        raise ModelError(f"{where(model)}: database['primary_key'] names a column twice")
    stray = [c.name for c in columns if c.primary and c.name not in order]
    if stray:
        raise ModelError(f"{where(model, stray[0])}: primary=True, but database['primary_key'] leaves it out")
    joined = tuple(
        replace(c, primary=True, nullable=False, primary_length=lengths.get(c.name)) if c.name in order else c
        for c in columns
    )
    in_column_order = [c.name for c in joined if c.primary]
    if in_column_order == list(order):
        return joined
    place = {c: i + 1 for i, c in enumerate(order)}
    return tuple(replace(c, primary_position=place[c.name]) if c.name in place else c for c in joined)


def _database_block(model: type[Model], kinds: list[Kind]) -> dict[str, list[Any]]:
    block = getattr(model, "database", {}) or {}
    if not isinstance(block, dict):
        raise ModelError(f"{where(model)}: database must be a dict")
    keys = {k.syntax for k in kinds if k.syntax}
    unknown = sorted(set(block) - keys - {PRIMARY_KEY, PRIMARY_KEY_NAME}, key=str)
    if unknown:
        raise ModelError(f"{where(model)}: unknown database key {unknown[0]!r} (known: {', '.join(sorted(keys))})")
    out: dict[str, list[Any]] = {}
    for key in keys:
        value = block.get(key, [])
        if not isinstance(value, (list, tuple)):
            raise ModelError(f"{where(model)}: database[{key!r}] must be a list")
        out[key] = list(value)
    return out


_SPECS: weakref.WeakKeyDictionary[type, tuple[Any, dict[str, ColumnSpec]]] = weakref.WeakKeyDictionary()


def column_specs(model: type[Model]) -> dict[str, ColumnSpec]:
    """The columns of a model's schema, validating the other entries (relations).
    Read once per class and schema object (a make reads each model's columns for
    its table, its relations, renames and backfills)."""
    if is_view(model):
        return {}  # a view's columns are what its SELECT gives
    schema = getattr(model, "schema", None)
    known = _SPECS.get(model)
    if known is not None and known[0] is schema:
        return known[1]
    cols = _column_specs(model, schema)
    _SPECS[model] = (schema, cols)
    return cols


def _column_specs(model: type[Model], schema: Any) -> dict[str, ColumnSpec]:
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


def compile_table(model: type[Model], extra_types: Iterable[ColumnType | str] = ()) -> Table:
    """One SQL model -> a state Table (checked on its own; cross-model checks follow):
    its columns, then what each registered kind compiles from its ``database`` key."""
    name = table_name(model)
    specs = column_specs(model)
    extra = tuple(extra_types)
    columns = primary_key_order(model, tuple(compile_column(model, n, s, extra) for n, s in specs.items()))
    if sum(1 for c in columns if c.autoincrement) > 1:
        raise ModelError(f"{where(model)}: more than one auto-increment column")
    kinds = model_kinds()
    block = _database_block(model, kinds)
    members = column_members(name, columns, specs)
    given: dict[str, list[Any]] = {}  # values one kind's syntax gave another kind, after that kind's own
    by_value = {k.value: k for k in kinds}
    colnames = {c.name for c in columns}
    for kind in kinds:
        for entry in block.get(kind.syntax, ()) if kind.syntax else ():
            value = _compile_entry(model, kind, entry, name)
            target = by_value.get(type(value), kind)
            for c in target.columns(value):
                if c not in colnames:
                    what = f"{target.title} {value.name}"
                    raise ModelError(f"{where(model, c)}: {what} names a column the schema does not declare")
            (members if target is kind else given).setdefault(target.name, []).append(value)
    for kind_name, values in given.items():
        members.setdefault(kind_name, []).extend(values)
    comment = getattr(model, "comment", None)
    if comment is not None and not isinstance(comment, str):
        raise ModelError(f"{where(model)}: comment must be a string")
    options = table_options(model)
    partition_by, partitions = table_partitions(model, name, columns)
    table = Table(
        name,
        columns,
        members={k: tuple(v) for k, v in members.items()},
        comment=comment,
        options=options,
        primary_name=primary_key_name(model, columns),
        partition_by=partition_by,
        partitions=partitions,
    )
    check_partition_keys(model, table)
    check_actions_against_checks(model, table.foreign_keys, table.checks)
    return table


def table_partitions(
    model: type[Model], table: str, columns: tuple[Column, ...]
) -> tuple[tuple[str, tuple[str, ...]] | None, list[Partition]]:
    """``Model.partition_by`` and ``Model.partitions``, validated: a known method over
    the table's own columns, partition names that are names, bounds of literals that
    fit the method (``schema/partitions.py``)."""
    key = getattr(model, "partition_by", None)
    given = getattr(model, "partitions", None) or {}
    if key is None:
        if given:
            raise ModelError(f"{where(model, 'partitions')}: partitions need a partition_by key")
        return None, []
    if not (isinstance(key, (tuple, list)) and len(key) == 2 and isinstance(key[1], (tuple, list)) and key[1]):
        raise ModelError(f'{where(model, "partition_by")}: partition_by is ("range"|"list"|"hash", [columns])')
    method, names = key
    if method not in METHODS:
        raise ModelError(
            f"{where(model, 'partition_by')}: unknown partitioning method {method!r} (known: range, list, hash)"
        )
    known = {c.name for c in columns}
    for col in names:
        if not isinstance(col, str) or col not in known:
            raise ModelError(f"{where(model, 'partition_by')}: partition key column {col!r} is not a column of {table}")
    if method == "list" and len(names) != 1:
        raise ModelError(f"{where(model, 'partition_by')}: a list partition key is one column")
    if not isinstance(given, dict):
        raise ModelError(f"{where(model, 'partitions')}: partitions is a dict of name -> bound")
    out = []
    for pname, value in given.items():
        text = value.bound if isinstance(value, PartitionSpec) else value
        problem = None if isinstance(pname, str) else "is not a string"
        if problem is None:
            problem = name_problem(model, pname)
        if problem:
            raise ModelError(f"{where(model, 'partitions')}: partition name {pname!r} {problem}")
        try:
            bound = canonical_bound(text)
        except BoundError as exc:
            raise ModelError(f"{where(model, 'partitions')}: partition {pname}: bound {text!r} {exc}") from None
        kind = bound_method(bound)
        if (kind is None and method == "hash") or (kind is not None and kind != method):
            raise ModelError(f"{where(model, 'partitions')}: partition {pname}: bound {bound} is no {method} bound")
        widths = range_widths(bound)
        if widths is not None and widths != (len(names), len(names)):
            raise ModelError(
                f"{where(model, 'partitions')}: partition {pname}: bound {bound} gives {widths[0]} and {widths[1]} "
                f"value(s), the key has {len(names)} column(s)"
            )
        indexes, fks = partition_members(model, pname, value, known) if isinstance(value, PartitionSpec) else ((), ())
        out.append(Partition(pname, bound, indexes, fks))
    return (str(method), tuple(names)), out


def partition_members(
    model: type[Model], partition: str, spec: PartitionSpec, columns: set[str]
) -> tuple[tuple[Index, ...], tuple[ForeignKey, ...]]:
    """The indexes and foreign keys of a partition of its own (``partition(bound,
    indexes=[index(...)], foreign_keys=[foreign_key(...)])``), compiled as a table's
    are, named after the partition; over the table's columns only."""
    loc = where(model, "partitions")
    kinds = {k.syntax: k for k in model_kinds() if k.syntax in ("indexes", "foreign_keys")}
    found: dict[str, list[Any]] = {"indexes": [], "foreign_keys": []}
    for key, entries, spec_type in (
        ("indexes", spec.indexes, IndexSpec),
        ("foreign_keys", spec.foreign_keys, ForeignKeySpec),
    ):
        for entry in entries:
            if not isinstance(entry, spec_type) or (isinstance(entry, IndexSpec) and entry.unique):
                what = "index(...)" if key == "indexes" else "foreign_key(...)"
                raise ModelError(f"{loc}: partition {partition}: {key} holds {what} entries only, not {entry!r}")
            value = _compile_entry(model, kinds[key], entry, partition)
            expected = Index if key == "indexes" else ForeignKey
            if not isinstance(value, expected):
                raise ModelError(f"{loc}: partition {partition}: {key} entry {entry!r} is no plain {key[:-2]}")
            for col in (*value.columns, *getattr(value, "include", ())):
                if col not in columns:
                    raise ModelError(f"{loc}: partition {partition}: {value.name}: column {col!r} is not a column")
            problem = name_problem(model, value.name)
            if problem:
                raise ModelError(f"{loc}: partition {partition}: name {value.name!r} {problem}")
            found[key].append(value)
    names = [v.name for vs in found.values() for v in vs]
    if len(set(names)) != len(names):
        raise ModelError(f"{loc}: partition {partition}: a name is given twice among its indexes and foreign keys")
    return tuple(found["indexes"]), tuple(found["foreign_keys"])


def check_partition_keys(model: type[Model], table: Table) -> None:
    """PostgreSQL's rule: a primary or unique key of a partitioned table holds every
    column of the partition key."""
    if table.partition_by is None:
        return
    need = set(table.partition_by[1])
    for key in table.unique_keys():
        if not need <= set(key):
            raise ModelError(
                f"{where(model, 'partition_by')}: the key ({', '.join(key)}) of partitioned table {table.name} "
                f"must hold the partition key columns ({', '.join(table.partition_by[1])})"
            )


#: the table options a model may give (which databases have them is their drivers' to say)
TABLE_OPTIONS = ("engine", "charset", "collation")


def table_options(model: type[Model]) -> dict[str, str]:
    """``Model.options``, validated: known names, values that are plain names
    (letters, digits, underscores), charset and collation together."""
    options = getattr(model, "options", None) or {}
    if not isinstance(options, dict):
        raise ModelError(f"{where(model)}: options must be a dict")
    for key, value in options.items():
        if key not in TABLE_OPTIONS:
            raise ModelError(f"{where(model)}: unknown table option {key!r} (known: {', '.join(TABLE_OPTIONS)})")
        if not isinstance(value, str) or not value.isascii() or not value.replace("_", "").isalnum():
            raise ModelError(f"{where(model)}: table option {key} must be a name (letters, digits, _), not {value!r}")
    if ("charset" in options) != ("collation" in options):
        raise ModelError(
            f"{where(model)}: table options charset and collation go together (a charset's default collation "
            "differs between servers)"
        )
    return dict(options)


def column_members(table: str, columns: tuple[Column, ...], specs: Mapping[str, ColumnSpec]) -> dict[str, list[Any]]:
    """What a column's own options declare: ``unique=True`` a unique constraint,
    ``index=True`` an index, each over the one column."""
    out: dict[str, list[Any]] = {}
    for col in columns:
        opts = specs[col.name].options
        if opts.get("unique"):
            out.setdefault("uniques", []).append(Unique(index_name(table, (col.name,), True), (col.name,)))
        if opts.get("index"):
            out.setdefault("indexes", []).append(Index(index_name(table, (col.name,), False), (col.name,), False))
    return out


def _compile_entry(model: type[Model], kind: Kind, entry: Any, table: str) -> Any:
    """One entry of ``database[kind.syntax]`` through the kind's ``compile``; its
    problem as one error line naming the model."""
    if kind.compile is None:
        raise ModelError(f"{where(model)}: database[{kind.syntax!r}]: the kind {kind.name!r} has no model syntax")
    try:
        return kind.compile(entry, table)
    except ModelProblem as exc:
        subject = f", {exc.subject}" if exc.subject else ""
        raise ModelError(f"{where(model, exc.field)}{subject}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{where(model)}: database[{kind.syntax!r}]: {exc}") from None


def check_view_columns(
    views: dict[str, View], tables: dict[str, Table], models: Mapping[str, type[Model]], only: set[str]
) -> None:
    """The SELECT of each view in ``only`` (those a migration creates or replaces)
    names only columns the tables (and views among them) it reads have, where the
    models declare all of them: a column a rename or drop leaves out is refused,
    naming the view model, before any migration is written. (sqlglot's
    ``qualify`` costs milliseconds a view: only what a migration creates is read.)"""
    from ..schema.diff.views import view_order
    from ..schema.views import tables_read, unresolved_column

    schema = {t.name: {c.name: "int" for c in t.columns} for t in tables.values()}
    for name in view_order({n: v for n, v in views.items() if n in only}):
        missing = sorted(tables_read(views[name].select) - set(schema) - set(views))
        if missing:
            raise ModelError(
                f"{where(models[name], 'select')}: view {name} reads {', '.join(missing)}, which no model declares "
                "(a view is created after the tables it reads: declare them as models)"
            )
        problem, columns = unresolved_column(views[name].select, schema)
        if problem is not None:
            raise ModelError(
                f"{where(models[name], 'select')}: view {name}: {problem} (a column its tables do not have: "
                "change the SELECT with the rename or drop)"
            )
        if columns:
            schema[name] = {c: "int" for c in columns}


def check_actions_against_checks(model: type[Model], fks: Iterable[ForeignKey], checks: Iterable[Check]) -> None:
    """MySQL refuses a CHECK on a column whose foreign key has an ON DELETE/UPDATE
    action (the others accept it): refused here, for every database."""
    acting = {
        c: fk
        for fk in fks
        if (fk.on_delete or "NO ACTION") not in ("NO ACTION", "RESTRICT")
        or (fk.on_update or "NO ACTION") not in ("NO ACTION", "RESTRICT")
        for c in fk.columns
    }
    if not acting or not checks:
        return
    from ..schema.views import expression_columns

    for ck in checks:
        for c in sorted(expression_columns(ck.expression)):
            if c in acting:
                fk = acting[c]
                raise ModelError(
                    f"{where(model, c)}: check {ck.name} uses column {c!r}, which foreign key {fk.name} changes "
                    f"(ON DELETE {fk.on_delete or 'NO ACTION'}, ON UPDATE {fk.on_update or 'NO ACTION'}); "
                    "MySQL refuses a check on such a column: drop the check or the referential action"
                )


def check_names_unique(state: State, models: dict[str, type[Model]]) -> None:
    """Two indexes or constraints of one table never share a name. Across tables,
    each database scopes names its own way (``Driver.name_scopes``): its driver
    refuses a clash at make time, naming the connection."""
    for table in state.tables.values():
        seen: set[str] = set()
        for _, values in table.members:
            for m in values:
                if m.name in seen:
                    raise ModelError(
                        f"{_where_table(models, table.name)}: two indexes or constraints are named {m.name!r}"
                    )
                seen.add(m.name)


def _where_table(models: dict[str, Any], table: str, field: str | None = None) -> str:
    """``where`` of the model behind ``table``; a generated pivot names the relation
    that asked for it."""
    owner = models[table]
    if isinstance(owner, tuple):
        model, relation_field = owner
        return f"{where(model, relation_field)}: pivot table {table!r}" + (f", column {field!r}" if field else "")
    return where(owner, field)


def type_signature(col: Column) -> tuple[Any, ...]:
    """What must be equal between a foreign key's column and the column it
    references (MySQL refuses integers of different sizes, decimals of different
    precision; lengths of strings may differ)."""
    if col.type == "decimal":
        return (col.type, col.precision, col.scale)
    if col.type == "enum":
        return (col.type, col.values)
    return (col.type,)


def check_references(state: State, models: dict[str, Any]) -> None:
    for table in state.tables.values():
        for fk in (*table.foreign_keys, *(f for p in table.partitions for f in p.foreign_keys)):
            target = state.tables.get(fk.ref_table)
            if target is None:
                raise ModelError(
                    f"{_where_table(models, table.name)}: foreign key {fk.name} references table {fk.ref_table!r}, "
                    "which no model defines"
                )
            for c in fk.ref_columns:
                if target.column(c) is None:
                    raise ModelError(
                        f"{_where_table(models, table.name)}: foreign key {fk.name} references column "
                        f"{fk.ref_table}.{c}, which does not exist"
                    )
            for mine, theirs in zip(fk.columns, fk.ref_columns, strict=True):
                a, b = table.column(mine), target.column(theirs)
                assert a is not None and b is not None
                if type_signature(a) != type_signature(b):
                    raise ModelError(
                        f"{_where_table(models, table.name, mine)}: foreign key {fk.name}: column "
                        f"{table.name}.{mine} is {_type_text(a)} but {fk.ref_table}.{theirs} is {_type_text(b)}; "
                        "a foreign key needs the same type on both sides"
                    )
            if set(fk.ref_columns) not in [set(k) for k in target.unique_keys()]:
                raise ModelError(
                    f"{_where_table(models, table.name)}: foreign key {fk.name} references "
                    f"{fk.ref_table}({', '.join(fk.ref_columns)}), which is neither the primary key nor unique "
                    "(MySQL 8.4 and PostgreSQL refuse it): reference the primary key, or make those columns unique"
                )


def _type_text(col: Column) -> str:
    if col.type == "decimal":
        return f"decimal({col.precision}, {col.scale})"
    return col.type


def check_shared_enums(state: State, models: dict[str, Any]) -> None:
    """Columns that name the same enum type (``enum_name``) share it: their values
    must agree, in the same order."""
    seen: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for table in state.tables.values():
        for col in table.columns:
            if col.enum_name is None:
                continue
            values = tuple(col.values or ())
            first = seen.setdefault(col.enum_name, (table.name, col.name, values))
            if first[2] != values:
                raise ModelError(
                    f"{_where_table(models, table.name, col.name)}: enum type {col.enum_name!r} has values "
                    f"{list(values)} here but {list(first[2])} in {first[0]}.{first[1]}; columns that share a type "
                    "share its values"
                )


def check_relations(models: Iterable[type[Model]]) -> None:
    models = list(models)
    names = {m.__name__ for m in models}
    for m in models:
        column_specs(m)  # a schema that is not a dict is one error line, before its relations are read
        for field, spec in m.schema.items():
            if isinstance(spec, RelationSpec) and spec.target not in names:
                raise ModelError(f"{where(m, field)}: relation targets model {spec.target!r}, which is not defined")


def compile_sql_models(models: list[type[Model]], extra_types: Iterable[ColumnType | str] = ()) -> State:
    by_table: dict[str, Any] = {}
    tables: dict[str, Table] = {}
    views: dict[str, View] = {}
    view_models: dict[str, type[Model]] = {}
    extra = tuple(extra_types)
    for m in models:
        if is_view(m):
            v = compile_view(m)
            if v.name in by_table:
                raise ModelError(f"{where(m)}: {v.name!r} is already defined by model {by_table[v.name].__name__}")
            by_table[v.name] = view_models[v.name] = m
            views[v.name] = v
            continue
        t = compile_table(m, extra)
        if t.name in by_table:
            raise ModelError(f"{where(m)}: table {t.name!r} is already defined by model {by_table[t.name].__name__}")
        by_table[t.name] = m
        tables[t.name] = t
    for pivot in pivots(models, tables).values():
        tables[pivot.table.name] = pivot.table
        by_table[pivot.table.name] = (pivot.model, pivot.field)
    for name in views:
        if name in tables:
            raise ModelError(f"{where(view_models[name])}: view {name!r} has the name of a table")
    state = State(tables=dict(sorted(tables.items())), views=dict(sorted(views.items())))
    check_references(state, by_table)
    check_names_unique(state, by_table)
    check_shared_enums(state, by_table)
    check_partition_names(state, by_table)
    return state


def check_partition_names(state: State, models: dict[str, Any]) -> None:
    """A partition is a table of the schema: its name is no other table's, view's
    or partition's."""
    seen = {name: f"table {name!r}" for name in state.tables} | {name: f"view {name!r}" for name in state.views}
    for table in state.tables.values():
        for p in table.partitions:
            if p.name in seen:
                loc = _where_table(models, table.name, "partitions")
                raise ModelError(f"{loc}: partition {p.name!r} has the name of {seen[p.name]}")
            seen[p.name] = f"a partition of {table.name}"


# ---------------------------------------------------------------- pivot tables from belongsToMany


def singular(table: str) -> str:
    """posts -> post, categories -> category, boxes -> box, people -> people."""
    for plural, one in (("ies", "y"), ("sses", "ss"), ("shes", "sh"), ("ches", "ch"), ("xes", "x"), ("zes", "z")):
        if table.endswith(plural) and len(table) > len(plural):
            return table[: -len(plural)] + one
    if table.endswith("s") and not table.endswith("ss") and len(table) > 1:
        return table[:-1]
    return table


@dataclass(frozen=True)
class Pivot:
    """A pivot table generated for a belongsToMany relation (no model declares it)."""

    table: Table
    sides: tuple[str, str]  # the two tables it joins
    model: type[Model]  # the first model (by name) whose relation asks for it
    field: str


def _pk(model: type[Model], field: str, target: type[Model], table: Table) -> Column:
    pk = [c for c in table.columns if c.primary]
    if len(pk) != 1:
        raise ModelError(
            f"{where(model, field)}: belongsToMany needs model {target.__name__} to have a one-column "
            f"primary key (it has {len(pk)})"
        )
    return pk[0]


def pivots(models: list[type[Model]], tables: dict[str, Table]) -> dict[str, Pivot]:
    """{pivot table: Pivot} for every belongsToMany whose ``through`` table no model
    declares: one column per side named ``<singular table>_id`` (or
    ``foreign_pivot_key=`` / ``related_pivot_key=``), of the type of that side's
    primary key, both forming the primary key; ON DELETE CASCADE to both sides; an
    index on the second column. Sides are ordered by table name."""
    by_class = {m.__name__: m for m in models}
    wanted: dict[str, dict[str, Any]] = {}  # pivot -> {table: (key column), "origin": (model, field)}
    for m in sorted(models, key=lambda m: m.__name__):
        if is_view(m):
            continue
        schema = m.schema if isinstance(m.schema, dict) else {}
        for field, spec in schema.items():
            if not isinstance(spec, RelationSpec) or spec.kind != "belongsToMany":
                continue
            target = by_class.get(spec.target)
            if target is None:
                raise ModelError(f"{where(m, field)}: belongsToMany targets {spec.target!r}, which is not a SQL model")
            unknown = sorted(set(spec.options) - {"through", "foreign_pivot_key", "related_pivot_key", "foreign_key"})
            if unknown:
                raise ModelError(f"{where(m, field)}: unknown belongsToMany option {unknown[0]!r}")
            mine, theirs = table_name(m), table_name(target)
            through = spec.options.get("through") or "_".join(sorted((singular(mine), singular(theirs))))
            if not isinstance(through, str) or not through.isidentifier():
                raise ModelError(f"{where(m, field)}: through must be a table name")
            if through in tables:
                continue  # a declared model for the pivot wins
            my_key = spec.options.get("foreign_pivot_key") or f"{singular(mine)}_id"
            their_key = spec.options.get("related_pivot_key") or f"{singular(theirs)}_id"
            for key in (my_key, their_key):
                if not isinstance(key, str) or not key.isidentifier():
                    raise ModelError(f"{where(m, field)}: pivot key {key!r} is not a column name")
            if my_key == their_key:
                raise ModelError(
                    f"{where(m, field)}: both pivot columns of {through!r} are named {my_key!r}; "
                    "set foreign_pivot_key= and related_pivot_key="
                )
            entry = wanted.setdefault(through, {"origin": (m, field), "sides": {}})
            sides = entry["sides"]
            for side_table, side_model, key in ((mine, m, my_key), (theirs, target, their_key)):
                if mine == theirs:  # a self-referencing pivot: both columns on one table
                    continue
                if side_table in sides and sides[side_table][0] != key:
                    raise ModelError(
                        f"{where(m, field)}: pivot {through!r} names the {side_table} column {key!r} here "
                        f"but {sides[side_table][0]!r} elsewhere"
                    )
                sides[side_table] = (key, side_model)
            if mine == theirs:
                sides.setdefault(f"{mine}#1", (my_key, m))
                sides.setdefault(f"{mine}#2", (their_key, m))
            if len(sides) > 2:
                raise ModelError(f"{where(m, field)}: pivot {through!r} joins more than two tables")
    out: dict[str, Pivot] = {}
    for through, entry in sorted(wanted.items()):
        model, field = entry["origin"]
        sides = sorted(entry["sides"].items())
        columns: list[Column] = []
        fks: list[ForeignKey] = []
        for side, (key, side_model) in sides:
            ref = side.split("#")[0]
            pk = _pk(model, field, side_model, tables[ref])
            columns.append(
                replace(
                    pk,
                    name=key,
                    primary=True,
                    autoincrement=False,
                    default=None,
                    nullable=False,
                    comment=None,
                    identity=None,
                )
            )
            fks.append(ForeignKey(foreign_key_name(through, (key,), ref), (key,), ref, (pk.name,), "CASCADE"))
        second = columns[-1].name
        table = Table(through, tuple(columns), (Index(index_name(through, (second,), False), (second,)),), tuple(fks))
        out[through] = Pivot(table, (sides[0][0].split("#")[0], sides[-1][0].split("#")[0]), model, field)
    return out


def renames(models: list[type[Model]]) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Declared renames: {new_table: old_table}, {table: {new_column: old_column}}."""
    tables: dict[str, str] = {}
    columns: dict[str, dict[str, str]] = {}
    for m in models:
        if is_view(m):
            continue
        name = table_name(m)
        if m.__dict__.get("renamed_from"):
            tables[name] = m.renamed_from  # type: ignore[assignment]
        for col, spec in column_specs(m).items():
            old = spec.options.get("renamed_from")
            if old:
                columns.setdefault(name, {})[col] = old
    return tables, columns


class Origins(Mapping[str, str]):
    """{table: "file: model Name"}, each looked up when an error needs it (finding a
    model's source file costs more than the rest of a make's use of the model)."""

    def __init__(self, models: dict[str, type[Model]]) -> None:
        self.models = models

    def __getitem__(self, table: str) -> str:
        return where(self.models[table])

    def __iter__(self) -> Iterator[str]:
        return iter(self.models)

    def __len__(self) -> int:
        return len(self.models)


def diff_hints(models: list[type[Model]]) -> Any:
    """What the models tell the diff beyond the state: declared renames, one-off
    backfills, and where each table's model lives (for errors)."""
    from ..schema.diff import DiffHints

    table_renames, column_renames = renames(models)
    backfills: dict[str, dict[str, Any]] = {}
    origins = Origins({})
    for m in models:
        name = table_name(m)
        origins.models[name] = m
        if is_view(m):
            continue
        for col, spec in column_specs(m).items():
            if spec.options.get("backfill") is not None:
                backfills.setdefault(name, {})[col] = spec.options["backfill"]
    return DiffHints(table_renames, column_renames, backfills, origins)

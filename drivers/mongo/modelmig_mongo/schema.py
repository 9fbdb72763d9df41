"""Mongo models -> state: one ``Collection`` per model, with a ``$jsonSchema``
validator from ``schema`` and indexes from ``database``.

Column types map to BSON types as follows (``nullable`` adds ``"null"`` and drops
the field from ``required``; every non-nullable field is ``required``;
``additionalProperties`` is left open, so documents may carry more fields):

=================  =========================================================
integer            ``int`` (smallInteger: ``int`` within -32768..32767)
bigInteger         ``int`` or ``long`` (pymongo stores small Python ints as int32)
decimal            ``decimal`` (Decimal128; precision/scale are not enforced)
float, double      ``double``
boolean            ``bool``
date, timestamp,   ``date`` (BSON UTC datetime; never the internal ``timestamp``
softDeletes        type)
time               ``string`` matching ``HH:MM[:SS[.ffffff]]``
string             ``string`` with ``maxLength``
text               ``string``
enum               ``string`` with ``enum`` (plus ``null`` when nullable)
json               ``object`` (an embedded document)
uuid               ``string`` in the canonical 8-4-4-4-12 hex form: it needs no
                   ``uuidRepresentation`` setting in the app, unlike binData
binary             ``binData``
=================  =========================================================

A column's ``comment`` becomes the field's ``description``. What has no MongoDB
meaning is rejected with one line naming the model, never silently dropped:
foreign keys, checks, auto-increment and primary-key columns (every document is
keyed by ``_id``), and ``default=`` (the server fills no defaults).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from modelmig_core.api import (
    LEDGER,
    CheckSpec,
    Column,
    ForeignKeySpec,
    IndexSpec,
    Model,
    ModelError,
    column_specs,
    compile_column,
    index_name,
    table_name,
    type_of,
    where,
)

from .rules import TTL_MAX, partial_problem, signature
from .state import Collection, CollectionIndex, DocumentState

LOCK_COLLECTION = "modelmig_lock"
RESERVED = frozenset({LEDGER, LOCK_COLLECTION})
DATABASE_KEYS = frozenset({"indexes", "unique", "foreign_keys", "checks", "validation"})
INDEX_OPTIONS = frozenset({"partial", "expire_after_seconds", "sparse"})
VALIDATION_LEVELS = ("strict", "moderate", "off")
VALIDATION_ACTIONS = ("error", "warn")
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
TIME_PATTERN = "^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\\.[0-9]{1,6})?)?$"

# state type -> (BSON types, extra $jsonSchema keywords)
BSON_TYPES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "integer": (["int"], {}),
    "smallInteger": (["int"], {"minimum": -32768, "maximum": 32767}),
    "bigInteger": (["int", "long"], {}),
    "decimal": (["decimal"], {}),
    "float": (["double"], {}),
    "double": (["double"], {}),
    "boolean": (["bool"], {}),
    "date": (["date"], {}),
    "timestamp": (["date"], {}),
    "time": (["string"], {"pattern": TIME_PATTERN}),
    "string": (["string"], {}),
    "text": (["string"], {}),
    "char": (["string"], {}),
    "enum": (["string"], {}),
    "json": (["object"], {}),
    "uuid": (["string"], {"pattern": UUID_PATTERN}),
    "binary": (["binData"], {}),
}
DATE_TYPES = frozenset({"date", "timestamp"})


def plain(value: Any) -> Any:
    """Tuples -> lists, recursively: the form a migration file reads back, so that
    the models' state and the replayed state compare equal."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def bson_types(column: Column) -> tuple[list[str], dict[str, Any]]:
    """(BSON types, extra ``$jsonSchema`` keywords) of a field: the table above, else
    the registered type's ``ddl["mongo"]`` (a function of the column returning the same pair)."""
    known = BSON_TYPES.get(column.type)
    if known is not None:
        return known
    types, extra = type_of(column.type).ddl["mongo"](column)
    return list(types), dict(extra)


def renders(type_name: str) -> bool:
    """Whether a field of the state type ``type_name`` has a BSON type here."""
    return type_name in BSON_TYPES or "mongo" in type_of(type_name).ddl


def field_schema(column: Column) -> dict[str, Any]:
    """The ``$jsonSchema`` of one field."""
    types, extra = bson_types(column)
    types = [*types, "null"] if column.nullable else list(types)
    out: dict[str, Any] = {"bsonType": types[0] if len(types) == 1 else types}
    out.update(extra)
    if column.type in ("string", "char") and column.length is not None:
        out["maxLength"] = column.length
    if column.type == "enum" and column.values is not None:
        out["enum"] = [*column.values, None] if column.nullable else list(column.values)
    if column.comment:
        out["description"] = column.comment
    return out


def json_schema(fields: dict[str, dict[str, Any]], required: Sequence[str]) -> dict[str, Any]:
    """The validator of a collection; ``required`` is sorted and omitted when empty."""
    schema: dict[str, Any] = {"bsonType": "object"}
    if required:
        schema["required"] = sorted(required)
    schema["properties"] = fields
    return {"$jsonSchema": schema}


def _json_value(model: type[Model], value: Any, what: str) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ModelError(f"{where(model)}: {what}: keys must be strings, got {k!r}")
            _json_value(model, v, what)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _json_value(model, v, what)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise ModelError(
            f"{where(model)}: {what}: values must be str, int, float, bool, None, lists or dicts "
            f"(got {type(value).__name__})"
        )


def _database_block(model: type[Model]) -> dict[str, Any]:
    block = getattr(model, "database", {}) or {}
    if not isinstance(block, dict):
        raise ModelError(f"{where(model)}: database must be a dict")
    unknown = sorted(set(block) - DATABASE_KEYS)
    if unknown:
        known = ", ".join(sorted(DATABASE_KEYS))
        raise ModelError(f"{where(model)}: unknown database key {unknown[0]!r} for a mongo model (known: {known})")
    if block.get("foreign_keys"):
        first = block["foreign_keys"][0]
        name = f" {first.name}" if isinstance(first, ForeignKeySpec) and first.name else ""
        raise ModelError(
            f"{where(model)}: foreign key{name} has no MongoDB meaning (store = 'mongo'); "
            "remove database['foreign_keys'] and keep the reference in the application"
        )
    if block.get("checks"):
        first = block["checks"][0]
        name = f" {first.name}" if isinstance(first, CheckSpec) and first.name else ""
        raise ModelError(
            f"{where(model)}: check{name} is a SQL expression with no MongoDB meaning (store = 'mongo'); "
            "express the rule in the schema (enum, maxLength, ...) or remove it"
        )
    for key in ("indexes", "unique"):
        if not isinstance(block.get(key, []), (list, tuple)):
            raise ModelError(f"{where(model)}: database[{key!r}] must be a list")
    return block


def _validation(model: type[Model], block: dict[str, Any]) -> tuple[str, str]:
    validation = block.get("validation", {}) or {}
    if not isinstance(validation, dict) or set(validation) - {"level", "action"}:
        raise ModelError(f"{where(model)}: database['validation'] must be a dict with 'level' and/or 'action'")
    level = validation.get("level", "strict")
    action = validation.get("action", "error")
    if level not in VALIDATION_LEVELS:
        raise ModelError(f"{where(model)}: validation level {level!r} is not one of {', '.join(VALIDATION_LEVELS)}")
    if action not in VALIDATION_ACTIONS:
        raise ModelError(f"{where(model)}: validation action {action!r} is not one of {', '.join(VALIDATION_ACTIONS)}")
    return level, action


def _index(model: type[Model], coll: str, spec: IndexSpec, unique: bool, columns: dict[str, Column]) -> CollectionIndex:
    keys: list[tuple[str, int]] = []
    for raw in spec.columns:
        name, direction = (raw[1:], -1) if isinstance(raw, str) and raw.startswith("-") else (raw, 1)
        if name not in columns:
            label = f"index {spec.name}" if spec.name else "index"
            raise ModelError(f"{where(model, name)}: {label} names a field the schema does not declare")
        keys.append((name, direction))
    if not keys:
        raise ModelError(f"{where(model)}: index {spec.name or ''} names no field".replace("  ", " "))
    fields = tuple(k for k, _ in keys)
    if len(set(fields)) != len(fields):
        raise ModelError(f"{where(model)}: index {spec.name or ''} names a field twice".replace("  ", " "))
    label = spec.name or index_name(coll, fields, unique)
    unknown = sorted(set(spec.options) - INDEX_OPTIONS)
    if unknown:
        raise ModelError(
            f"{where(model)}: index {label}: option {unknown[0]!r} is not supported on mongo models "
            f"(known: {', '.join(sorted(INDEX_OPTIONS))})"
        )
    partial = spec.options.get("partial")
    if partial is not None:
        if not isinstance(partial, dict) or not partial:
            raise ModelError(f"{where(model)}: index {label}: partial must be a non-empty filter dict")
        _json_value(model, partial, f"index {label}: partial filter")
        for key in partial:
            if not key.startswith("$") and key.split(".", 1)[0] not in columns:
                raise ModelError(
                    f"{where(model, key)}: index {label}: partial filter names a field the schema does not declare"
                )
        partial = plain(partial)
        problem = partial_problem(partial, (99, 0))  # what no server version accepts
        if problem:
            raise ModelError(f"{where(model)}: index {label}: {problem}")
    ttl = spec.options.get("expire_after_seconds")
    if ttl is not None:
        if not isinstance(ttl, int) or isinstance(ttl, bool) or not 0 <= ttl <= TTL_MAX:
            raise ModelError(
                f"{where(model)}: index {label}: expire_after_seconds must be a whole number from 0 to {TTL_MAX}"
            )
        if len(keys) != 1 or columns[keys[0][0]].type not in DATE_TYPES:
            raise ModelError(
                f"{where(model)}: index {label}: a TTL index (expire_after_seconds) needs exactly one "
                "date or timestamp field"
            )
    sparse = spec.options.get("sparse", False)
    if not isinstance(sparse, bool):
        raise ModelError(f"{where(model)}: index {label}: sparse must be True or False")
    if sparse and partial is not None:
        raise ModelError(f"{where(model)}: index {label}: give either sparse or partial, not both")
    if [k for k, _ in keys] == ["_id"]:
        raise ModelError(
            f"{where(model, '_id')}: index {label}: every collection already has its unique _id index; remove this one"
        )
    if unique and partial is None:
        nullable = [k for k, _ in keys if columns[k].nullable]
        if nullable:
            field = nullable[0]
            bson = bson_types(columns[field])[0][0]
            raise ModelError(
                f"{where(model, field)}: unique index {label} on a nullable field lets only one document lack a "
                f"value; add partial={{{field!r}: {{'$type': {bson!r}}}}} (only documents with a value are "
                "indexed) or make the field required"
            )
    return CollectionIndex(label, tuple(keys), unique, sparse, partial, ttl)


def compile_collection(model: type[Model], column_types: Iterable[Any] = ()) -> Collection:
    """One mongo model -> a state Collection. A field whose type has no BSON entry
    here (and no ``ddl["mongo"]`` of its own) is refused, naming the type."""
    name = table_name(model)
    if name in RESERVED:
        raise ModelError(f"{where(model)}: collection name {name!r} is reserved for modelmig's own bookkeeping")
    block = _database_block(model)
    specs = column_specs(model)
    columns: dict[str, Column] = {}
    fields: dict[str, dict[str, Any]] = {}
    required: list[str] = []
    indexes: list[CollectionIndex] = []
    for field, spec in specs.items():
        col = compile_column(model, field, spec, column_types)
        loc = where(model, field)
        if not renders(col.type):
            raise ModelError(f"{loc}: column type {col.type!r} has no entry for driver mongo")
        if col.autoincrement:
            raise ModelError(
                f"{loc}: auto-increment has no MongoDB meaning; every document has an _id "
                "(drop this field, or declare '_id' as a uuid or string field)"
            )
        if col.primary:
            raise ModelError(
                f"{loc}: primary keys have no MongoDB meaning; every document is keyed by _id "
                "(name the field '_id', or use unique=True)"
            )
        if col.default is not None:
            raise ModelError(
                f"{loc}: default has no MongoDB meaning (the server fills no defaults); "
                "set the value in the application or make the field nullable"
            )
        if spec.options.get("backfill") is not None:
            raise ModelError(
                f"{loc}: backfill has no MongoDB meaning (documents are not rewritten when a field is added); "
                "update the documents in a RunPython migration or make the field nullable"
            )
        columns[field] = col
        fields[field] = field_schema(col)
        if not col.nullable:
            required.append(field)
        # a unique or indexed field is an index like any: every index rule holds for it
        if spec.options.get("unique"):
            indexes.append(_index(model, name, IndexSpec((field,), unique=True), True, columns))
        if spec.options.get("index"):
            indexes.append(_index(model, name, IndexSpec((field,)), False, columns))
    for key in ("unique", "indexes"):
        for spec in block.get(key, []):
            if not isinstance(spec, IndexSpec):
                raise ModelError(f"{where(model)}: database[{key!r}] entries must be index(...) or unique(...)")
            indexes.append(_index(model, name, spec, spec.unique or key == "unique", columns))
    seen: set[str] = set()
    signatures: dict[tuple[Any, ...], str] = {}
    for ix in indexes:
        if ix.name in seen or ix.name == "_id_":
            raise ModelError(f"{where(model)}: two indexes are named {ix.name!r}")
        seen.add(ix.name)
        other = signatures.setdefault(signature(ix), ix.name)
        if other != ix.name:
            raise ModelError(
                f"{where(model, ix.keys[0][0])}: indexes {other} and {ix.name} have the same keys and options; "
                "MongoDB refuses the second (IndexOptionsConflict): keep one (a TTL option goes on that one)"
            )
    level, action = _validation(model, block)
    return Collection(
        name,
        json_schema(fields, required),
        level,
        action,
        tuple(sorted(indexes, key=lambda i: i.name)),
    )


def build_collections(models: Sequence[type[Model]], column_types: Iterable[Any] = ()) -> DocumentState:
    """Every mongo model -> the document family's state (``column_types``: what the
    ``column_types`` hook registered)."""
    types = tuple(column_types)
    by_name: dict[str, type[Model]] = {}
    collections: dict[str, Collection] = {}
    for m in models:
        coll = compile_collection(m, types)
        if coll.name in by_name:
            raise ModelError(
                f"{where(m)}: collection {coll.name!r} is already defined by model {by_name[coll.name].__name__}"
            )
        by_name[coll.name] = m
        collections[coll.name] = coll
    return DocumentState(dict(sorted(collections.items())))

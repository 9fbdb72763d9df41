"""The document family's operations: collections, their ``$jsonSchema``
validators and their indexes. Document-chain migration files import this module
as ``op`` (``from modelmig_mongo import operations as op``); RunPython, which
every family shares, is re-exported here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, ClassVar

from modelmig_core.api import MigrationFileError, Operation, RunPython, has_named, replace_named

from .state import Collection, CollectionIndex, DocumentState

__all__ = [
    "AddValidatorField",
    "AlterValidatorField",
    "ChangeIndexExpiry",
    "Collection",
    "CollectionIndex",
    "CreateCollection",
    "CreateCollectionIndex",
    "DropCollection",
    "DropCollectionIndex",
    "RemoveValidatorField",
    "RenameCollection",
    "RunPython",
    "SetValidator",
]


@dataclass(frozen=True)
class CreateCollection(Operation):
    collection: Collection
    family: ClassVar[str] = "document"
    creates: ClassVar[str | None] = "collection"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        if self.collection.name in state.collections:
            raise MigrationFileError(f"CreateCollection: {self.collection.name!r} already exists")
        return state.with_collection(self.collection)

    def inverse(self) -> Operation:
        return DropCollection(self.collection)

    def describe(self) -> str:
        return f"create {self.collection.name} collection"


@dataclass(frozen=True)
class DropCollection(Operation):
    collection: Collection
    family: ClassVar[str] = "document"
    destructive: ClassVar[bool] = True

    def state_forwards(self, state: DocumentState) -> DocumentState:
        if self.collection.name not in state.collections:
            raise MigrationFileError(f"DropCollection: {self.collection.name!r} does not exist")
        return state.without_collection(self.collection.name)

    def inverse(self) -> Operation:
        return CreateCollection(self.collection)

    def describe(self) -> str:
        return f"drop {self.collection.name} collection"


@dataclass(frozen=True)
class RenameCollection(Operation):
    old: str
    new: str
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        coll = state.collections.get(self.old)
        if coll is None or self.new in state.collections:
            raise MigrationFileError(f"RenameCollection: cannot rename {self.old!r} to {self.new!r}")
        return state.without_collection(self.old).with_collection(replace(coll, name=self.new))

    def inverse(self) -> Operation:
        return RenameCollection(self.new, self.old)

    def describe(self) -> str:
        return f"rename {self.old} to {self.new}"


@dataclass(frozen=True)
class SetValidator(Operation):
    """collMod: replace a collection's validator, validation level and action."""

    collection: str
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    old_level: str = "strict"
    new_level: str = "strict"
    old_action: str = "error"
    new_action: str = "error"
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        coll = state.collections.get(self.collection)
        if coll is None:
            raise MigrationFileError(f"SetValidator: collection {self.collection!r} does not exist")
        return state.with_collection(
            replace(coll, validator=self.new, validation_level=self.new_level, validation_action=self.new_action)
        )

    def inverse(self) -> Operation:
        return SetValidator(
            self.collection, self.new, self.old, self.new_level, self.old_level, self.new_action, self.old_action
        )

    def describe(self) -> str:
        return f"set validator on {self.collection}"


@dataclass(frozen=True)
class CreateCollectionIndex(Operation):
    collection: str
    index: CollectionIndex
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        coll = state.collections.get(self.collection)
        if coll is None or has_named(coll.indexes, self.index.name):
            raise MigrationFileError(f"CreateCollectionIndex: cannot create {self.index.name!r} on {self.collection!r}")
        return state.with_collection(replace(coll, indexes=(*coll.indexes, self.index)))

    def inverse(self) -> Operation:
        return DropCollectionIndex(self.collection, self.index)

    def describe(self) -> str:
        return f"create {self.index.name} on {self.collection}"


@dataclass(frozen=True)
class DropCollectionIndex(Operation):
    collection: str
    index: CollectionIndex
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        coll = state.collections.get(self.collection)
        if coll is None:
            raise MigrationFileError(f"DropCollectionIndex: collection {self.collection!r} does not exist")
        return state.with_collection(replace(coll, indexes=replace_named(coll.indexes, self.index.name, None)))

    def inverse(self) -> Operation:
        return CreateCollectionIndex(self.collection, self.index)

    def describe(self) -> str:
        return f"drop {self.index.name} from {self.collection}"


@dataclass(frozen=True)
class ChangeIndexExpiry(Operation):
    """A TTL index's expireAfterSeconds, changed in place with collMod (no window
    without the index, as a drop and create would leave)."""

    collection: str
    index: str
    old: int
    new: int
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        coll = state.collections.get(self.collection)
        current = next((ix for ix in coll.indexes if ix.name == self.index), None) if coll else None
        if coll is None or current is None or current.expire_after_seconds is None:
            raise MigrationFileError(f"ChangeIndexExpiry: no TTL index {self.index!r} on {self.collection!r}")
        changed = replace(current, expire_after_seconds=self.new)
        return state.with_collection(replace(coll, indexes=replace_named(coll.indexes, self.index, changed)))

    def inverse(self) -> Operation:
        return ChangeIndexExpiry(self.collection, self.index, self.new, self.old)

    def describe(self) -> str:
        return f"change expiry of {self.index} on {self.collection}"


def _json_schema(state: DocumentState, collection: str, what: str) -> tuple[Collection, dict[str, Any]]:
    """The collection and a copy of its ``$jsonSchema`` (field operations need one)."""
    coll = state.collections.get(collection)
    if coll is None:
        raise MigrationFileError(f"{what}: collection {collection!r} does not exist")
    if not isinstance(coll.validator, dict) or not isinstance(coll.validator.get("$jsonSchema"), dict):
        raise MigrationFileError(f"{what}: collection {collection!r} has no $jsonSchema validator")
    return coll, dict(coll.validator["$jsonSchema"])


def _with_field(
    state: DocumentState, collection: str, name: str, schema: dict[str, Any] | None, required: bool, what: str
) -> DocumentState:
    """The state with field ``name`` of the collection's $jsonSchema set to ``schema``
    (removed when None) and listed in ``required`` or not. ``required`` stays sorted
    and is omitted when empty (MongoDB rejects an empty ``required``)."""
    coll, js = _json_schema(state, collection, what)
    props = {k: v for k, v in dict(js.get("properties") or {}).items() if k != name}
    if schema is not None:
        props[name] = schema
    req = sorted({r for r in js.get("required") or [] if r != name} | ({name} if required and schema else set()))
    js.pop("required", None)
    js.pop("properties", None)
    if req:
        js["required"] = req
    js["properties"] = props
    validator = {**coll.validator, "$jsonSchema": js}  # type: ignore[dict-item]
    return state.with_collection(replace(coll, validator=validator))


@dataclass(frozen=True)
class AddValidatorField(Operation):
    """Add a field to a collection's ``$jsonSchema`` validator (applied with collMod)."""

    collection: str
    field: str
    schema: dict[str, Any]
    required: bool = False
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        _, js = _json_schema(state, self.collection, "AddValidatorField")
        if self.field in (js.get("properties") or {}):
            raise MigrationFileError(f"AddValidatorField: {self.collection}.{self.field} already exists")
        return _with_field(state, self.collection, self.field, self.schema, self.required, "AddValidatorField")

    def inverse(self) -> Operation:
        return RemoveValidatorField(self.collection, self.field, self.schema, self.required)

    def describe(self) -> str:
        return f"add {self.field} to {self.collection} validator"


@dataclass(frozen=True)
class RemoveValidatorField(Operation):
    """Remove a field from a collection's ``$jsonSchema`` validator (the documents keep it)."""

    collection: str
    field: str
    schema: dict[str, Any]
    required: bool = False
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        _, js = _json_schema(state, self.collection, "RemoveValidatorField")
        if self.field not in (js.get("properties") or {}):
            raise MigrationFileError(f"RemoveValidatorField: {self.collection}.{self.field} does not exist")
        return _with_field(state, self.collection, self.field, None, False, "RemoveValidatorField")

    def inverse(self) -> Operation:
        return AddValidatorField(self.collection, self.field, self.schema, self.required)

    def describe(self) -> str:
        return f"remove {self.field} from {self.collection} validator"


@dataclass(frozen=True)
class AlterValidatorField(Operation):
    """Change one field's schema (type, length, enum, ...) or whether it is required."""

    collection: str
    field: str
    old: dict[str, Any]
    new: dict[str, Any]
    old_required: bool = False
    new_required: bool = False
    family: ClassVar[str] = "document"

    def state_forwards(self, state: DocumentState) -> DocumentState:
        _, js = _json_schema(state, self.collection, "AlterValidatorField")
        if self.field not in (js.get("properties") or {}):
            raise MigrationFileError(f"AlterValidatorField: {self.collection}.{self.field} does not exist")
        return _with_field(state, self.collection, self.field, self.new, self.new_required, "AlterValidatorField")

    def inverse(self) -> Operation:
        return AlterValidatorField(
            self.collection, self.field, self.new, self.old, self.new_required, self.old_required
        )

    def describe(self) -> str:
        return f"alter {self.field} in {self.collection} validator"

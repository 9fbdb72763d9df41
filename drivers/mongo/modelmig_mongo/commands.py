"""Operations -> MongoDB commands.

Each ``Command`` holds the exact command document the server receives and runs
it through the pymongo helper that sends that document:

===================  =====================================================================
create               ``db.create_collection(name, check_exists=False, validator=..., ...)``
createIndexes        ``db[coll].create_index(keys, name=..., unique=..., ...)``
collMod              ``db.command({"collMod": coll, "validator": ..., ...})``, and for a TTL
                     index's expiry ``{"collMod": coll, "index": {"name", "expireAfterSeconds"}}``
dropIndexes          ``db[coll].drop_index(name)``
renameCollection     ``db[old].rename(new)`` (an admin command on ``<db>.<old>``)
drop                 ``db.drop_collection(name)``
===================  =====================================================================

``--pretend`` prints the same documents, so what is shown is what is sent.
Consecutive validator changes of one collection are sent as one collMod.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from modelmig_core.api import MigrationFailed, RunPython, Step

from .operations import (
    AddValidatorField,
    AlterValidatorField,
    ChangeIndexExpiry,
    CreateCollection,
    CreateCollectionIndex,
    DropCollection,
    DropCollectionIndex,
    RemoveValidatorField,
    RenameCollection,
    SetValidator,
)
from .state import Collection, CollectionIndex, DocumentState

VALIDATOR_OPS = (SetValidator, AddValidatorField, RemoveValidatorField, AlterValidatorField)


@dataclass(frozen=True)
class Command:
    """One round trip to the server. ``python`` is set for a RunPython step instead."""

    document: dict[str, Any] = field(default_factory=dict)
    admin: bool = False
    python: RunPython | None = None

    @property
    def name(self) -> str:
        return next(iter(self.document), "python")

    @property
    def target(self) -> str:
        return str(self.document.get(self.name, ""))

    def render(self) -> str:
        if self.python is not None:
            return f"// {self.python.describe()} (Python code, not a server command)"
        runner = "db.adminCommand" if self.admin else "db.runCommand"
        return f"{runner}({json.dumps(self.document, ensure_ascii=False)})"

    def run(self, db: Any) -> None:
        """Send the command through pymongo's helper for it."""
        if self.python is not None:
            self.python.forward(db)
            return
        doc = self.document
        name = self.name
        if name == "create":
            options = {k: v for k, v in doc.items() if k != "create"}
            db.create_collection(doc["create"], check_exists=False, **options)
        elif name == "createIndexes":
            (spec,) = doc["indexes"]
            options = {k: v for k, v in spec.items() if k != "key"}
            db[doc["createIndexes"]].create_index(list(spec["key"].items()), **options)
        elif name == "collMod":
            db.command(doc)
        elif name == "dropIndexes":
            db[doc["dropIndexes"]].drop_index(doc["index"])
        elif name == "renameCollection":
            old = doc["renameCollection"].split(".", 1)[1]
            new = doc["to"].split(".", 1)[1]
            db[old].rename(new)
        elif name == "drop":
            db.drop_collection(doc["drop"])
        else:  # pragma: no cover - every Command is built below
            raise MigrationFailed(f"unknown mongo command {name!r}")


def create_command(coll: Collection) -> Command:
    doc: dict[str, Any] = {"create": coll.name}
    if coll.validator is not None:
        doc["validator"] = coll.validator
        doc["validationLevel"] = coll.validation_level
        doc["validationAction"] = coll.validation_action
    return Command(doc)


def index_command(collection: str, ix: CollectionIndex) -> Command:
    spec: dict[str, Any] = {"key": {k: d for k, d in ix.keys}, "name": ix.name}
    if ix.unique:
        spec["unique"] = True
    if ix.sparse:
        spec["sparse"] = True
    if ix.partial is not None:
        spec["partialFilterExpression"] = ix.partial
    if ix.expire_after_seconds is not None:
        spec["expireAfterSeconds"] = ix.expire_after_seconds
    return Command({"createIndexes": collection, "indexes": [spec]})


def coll_mod(coll: Collection) -> Command:
    """collMod to the collection's validator; an absent validator is sent as {}."""
    return Command(
        {
            "collMod": coll.name,
            "validator": coll.validator if coll.validator is not None else {},
            "validationLevel": coll.validation_level,
            "validationAction": coll.validation_action,
        }
    )


def commands_for(steps: Sequence[Step], database: str) -> list[Command]:
    """The commands that apply ``steps``; consecutive validator changes of one
    collection become one collMod to the validator after the last of them."""
    out: list[Command] = []
    pending: tuple[str, DocumentState] | None = None  # a collection whose collMod is still to be sent

    def flush() -> None:
        nonlocal pending
        if pending is not None:
            name, state = pending
            out.append(coll_mod(state.collection(name)))
            pending = None

    for step in steps:
        op = step.op
        if isinstance(op, VALIDATOR_OPS):
            if pending is not None and pending[0] != op.collection:
                flush()
            pending = (op.collection, step.after)
            continue
        flush()
        if isinstance(op, CreateCollection):
            out.append(create_command(op.collection))
            out.extend(index_command(op.collection.name, ix) for ix in op.collection.indexes)
        elif isinstance(op, DropCollection):
            out.append(Command({"drop": op.collection.name}))
        elif isinstance(op, RenameCollection):
            out.append(Command({"renameCollection": f"{database}.{op.old}", "to": f"{database}.{op.new}"}, admin=True))
        elif isinstance(op, CreateCollectionIndex):
            out.append(index_command(op.collection, op.index))
        elif isinstance(op, DropCollectionIndex):
            out.append(Command({"dropIndexes": op.collection, "index": op.index.name}))
        elif isinstance(op, ChangeIndexExpiry):
            out.append(Command({"collMod": op.collection, "index": {"name": op.index, "expireAfterSeconds": op.new}}))
        elif isinstance(op, RunPython):
            out.append(Command(python=op))
        else:
            raise MigrationFailed(
                f"{type(op).__name__} has no MongoDB meaning; a document-family migration holds only "
                "collection, validator and index operations (or RunPython)"
            )
    flush()
    return out

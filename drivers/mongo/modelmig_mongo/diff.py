"""The document diff: the operations that turn one set of collections into another.

Order: declared renames; per kept collection, dropped/changed indexes, validator
changes, new indexes; new collections; dropped collections. A changed index is a
drop plus a create (MongoDB cannot alter one), but for a TTL index whose
expiry alone changed: collMod changes that in place. A validator that differs only in
its fields becomes Add/Remove/AlterValidatorField operations; anything else
(level, action, other keywords) one SetValidator. A field rename is a validator
change: the documents themselves keep their field names.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from modelmig_core.api import DiffHints, Operation, Recorder

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


def _schema(coll: Collection) -> dict[str, Any] | None:
    v = coll.validator
    if isinstance(v, dict) and set(v) == {"$jsonSchema"} and isinstance(v["$jsonSchema"], dict):
        return v["$jsonSchema"]
    return None


def _field_ops(a: Collection, b: Collection) -> list[Operation] | None:
    """Field-level operations from ``a``'s validator to ``b``'s, or None when the
    change is more than fields (then one SetValidator says it all)."""
    if (a.validation_level, a.validation_action) != (b.validation_level, b.validation_action):
        return None
    sa, sb = _schema(a), _schema(b)
    if sa is None or sb is None:
        return None
    rest_a = {k: v for k, v in sa.items() if k not in ("properties", "required")}
    rest_b = {k: v for k, v in sb.items() if k not in ("properties", "required")}
    if rest_a != rest_b:
        return None
    pa, pb = dict(sa.get("properties") or {}), dict(sb.get("properties") or {})
    ra, rb = set(sa.get("required") or []), set(sb.get("required") or [])
    if not ra <= set(pa) or not rb <= set(pb):  # required names a field with no schema: not ours to split
        return None
    ops: list[Operation] = []
    for name in sorted(set(pa) - set(pb)):
        ops.append(RemoveValidatorField(a.name, name, pa[name], name in ra))
    for name in sorted(set(pa) & set(pb)):
        if pa[name] != pb[name] or (name in ra) != (name in rb):
            ops.append(AlterValidatorField(a.name, name, pa[name], pb[name], name in ra, name in rb))
    for name in sorted(set(pb) - set(pa)):
        ops.append(AddValidatorField(a.name, name, pb[name], name in rb))
    return ops


def _only_expiry_differs(a: CollectionIndex, b: CollectionIndex) -> bool:
    """Two TTL indexes that differ in expireAfterSeconds alone (collMod changes that)."""
    if a.expire_after_seconds is None or b.expire_after_seconds is None:
        return False
    return replace(a, expire_after_seconds=b.expire_after_seconds) == b


def _validator_changed(a: Collection, b: Collection) -> bool:
    return (a.validator, a.validation_level, a.validation_action) != (
        b.validator,
        b.validation_level,
        b.validation_action,
    )


def diff_collections(old: DocumentState, new: DocumentState, hints: DiffHints | None = None) -> list[Operation]:
    hints = hints or DiffHints()
    rec = Recorder(old)
    emit = rec.emit

    for new_name, old_name in sorted(hints.tables.items()):
        if old_name in rec.state.collections and new_name not in rec.state.collections and new_name in new.collections:
            emit(RenameCollection(old_name, new_name))

    for name in sorted(n for n in rec.state.collections if n in new.collections):
        a, b = rec.state.collections[name], new.collections[name]
        by_name = {ix.name: ix for ix in b.indexes}
        for ix in a.indexes:
            target = by_name.get(ix.name)
            if target is not None and target != ix and _only_expiry_differs(ix, target):
                emit(ChangeIndexExpiry(name, ix.name, ix.expire_after_seconds, target.expire_after_seconds))  # type: ignore[arg-type]
        a = rec.state.collections[name]
        for ix in a.indexes:
            if ix not in b.indexes:
                emit(DropCollectionIndex(name, ix))
        if _validator_changed(a, b):
            field_ops = _field_ops(a, b)
            if field_ops is None:
                emit(
                    SetValidator(
                        name,
                        a.validator,
                        b.validator,
                        a.validation_level,
                        b.validation_level,
                        a.validation_action,
                        b.validation_action,
                    )
                )
            else:
                for op in field_ops:
                    emit(op)
        for ix in b.indexes:
            if ix not in a.indexes:
                emit(CreateCollectionIndex(name, ix))

    for name in sorted(n for n in new.collections if n not in rec.state.collections):
        emit(CreateCollection(new.collections[name]))
    for name in sorted(n for n in rec.state.collections if n not in new.collections):
        emit(DropCollection(rec.state.collections[name]))
    return rec.ops

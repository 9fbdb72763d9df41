"""The document family's drift: collections, their validators field by field
(``$jsonSchema`` properties and ``required``), validation level and action, and
indexes with their options. Each difference is one ``Difference`` of the core's
drift report."""

from __future__ import annotations

import json
from typing import Any

from modelmig_core.api import Comparison, Difference

from .state import Collection, CollectionIndex, DocumentState


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def describe_index(ix: CollectionIndex) -> str:
    keys = ", ".join(f"{k}: {d}" for k, d in ix.keys)
    parts = [f"{{{keys}}}"]
    if ix.unique:
        parts.append("unique")
    if ix.sparse:
        parts.append("sparse")
    if ix.partial is not None:
        parts.append(f"partial {_text(ix.partial)}")
    if ix.expire_after_seconds is not None:
        parts.append(f"TTL {ix.expire_after_seconds}s")
    return " ".join(parts)


def _schema(coll: Collection) -> dict[str, Any] | None:
    v = coll.validator
    if isinstance(v, dict) and set(v) == {"$jsonSchema"} and isinstance(v["$jsonSchema"], dict):
        return v["$jsonSchema"]
    return None


def _was(live: str, expected: str) -> str:
    return f"{live} in the database, {expected} in the migrations"


def _validator(name: str, a: Collection, b: Collection, out: list[Difference]) -> None:
    if a.validation_level != b.validation_level:
        out.append(Difference("changed", "validation level", name, _was(b.validation_level, a.validation_level)))
    if a.validation_action != b.validation_action:
        out.append(Difference("changed", "validation action", name, _was(b.validation_action, a.validation_action)))
    if a.validator == b.validator:
        return
    sa, sb = _schema(a), _schema(b)
    if sa is None or sb is None:
        out.append(Difference("changed", "validator", name, _was(_text(b.validator), _text(a.validator))))
        return
    pa, pb = dict(sa.get("properties") or {}), dict(sb.get("properties") or {})
    ra, rb = set(sa.get("required") or []), set(sb.get("required") or [])
    for field in sorted(set(pa) | set(pb)):
        label = f"{name}.{field}"
        if field not in pb:
            out.append(Difference("missing", "validator field", label, _text(pa[field])))
        elif field not in pa:
            out.append(Difference("extra", "validator field", label, _text(pb[field])))
        elif pa[field] != pb[field]:
            out.append(Difference("changed", "validator field", label, _was(_text(pb[field]), _text(pa[field]))))
        if field in pa and field in pb and (field in ra) != (field in rb):
            req = {True: "required", False: "optional"}
            out.append(Difference("changed", "validator field", label, _was(req[field in rb], req[field in ra])))
    rest_a = {k: v for k, v in sa.items() if k not in ("properties", "required")}
    rest_b = {k: v for k, v in sb.items() if k not in ("properties", "required")}
    if rest_a != rest_b:
        out.append(Difference("changed", "validator", name, _was(_text(rest_b), _text(rest_a))))


def _indexes(name: str, a: Collection, b: Collection, out: list[Difference]) -> None:
    want = {i.name: i for i in a.indexes}
    have = {i.name: i for i in b.indexes}
    for ix in sorted(set(want) | set(have)):
        w, h = want.get(ix), have.get(ix)
        label = f"{name}.{ix}"
        if h is None:
            out.append(Difference("missing", "index", label, describe_index(w)))  # type: ignore[arg-type]
        elif w is None:
            out.append(Difference("extra", "index", label, describe_index(h)))
        elif w != h:
            out.append(Difference("changed", "index", label, _was(describe_index(h), describe_index(w))))


def compare_documents(expected: DocumentState, live: DocumentState, known: set[str]) -> Comparison:
    unmanaged = sorted(n for n in live.collections if n not in expected.collections and n not in known)
    out: list[Difference] = []
    for name in sorted(set(expected.collections) | set(live.collections)):
        if name in unmanaged:
            continue
        a, b = expected.collections.get(name), live.collections.get(name)
        if b is None:
            out.append(Difference("missing", "collection", name))
        elif a is None:
            out.append(Difference("extra", "collection", name))
        else:
            _validator(name, a, b, out)
            _indexes(name, a, b, out)
    return Comparison(out, unmanaged, "collection")

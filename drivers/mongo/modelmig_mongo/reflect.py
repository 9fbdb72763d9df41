"""The live database as the document family's state: ``listCollections`` gives
each collection's validator, ``validationLevel`` and ``validationAction`` (its
``options``), ``listIndexes`` each index with its unique, sparse, partial
(``partialFilterExpression``) and TTL (``expireAfterSeconds``) options. Views,
the server's ``system.*`` collections and modelmig's own (the ledger, the lock)
are left out; so is the ``_id_`` index every collection has."""

from __future__ import annotations

from typing import Any

from modelmig_core.api import LEDGER

from .schema import LOCK_COLLECTION, plain
from .state import Collection, CollectionIndex, DocumentState

DEFAULT_LEVEL = "strict"
DEFAULT_ACTION = "error"


def _number(value: Any) -> Any:
    """Index directions and TTLs come back as int, Int64 or float: as int."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    return int(value) if float(value).is_integer() else value


def collection_from_info(info: dict[str, Any], indexes: list[dict[str, Any]]) -> Collection:
    """One ``listCollections`` entry and its ``listIndexes`` entries -> a Collection."""
    options = dict(info.get("options") or {})
    validator = options.get("validator") or None
    return Collection(
        str(info["name"]),
        plain(dict(validator)) if validator else None,
        str(options.get("validationLevel", DEFAULT_LEVEL)),
        str(options.get("validationAction", DEFAULT_ACTION)),
        tuple(sorted((index_from_info(ix) for ix in indexes if ix.get("name") != "_id_"), key=lambda i: i.name)),
    )


def index_from_info(info: dict[str, Any]) -> CollectionIndex:
    """One ``listIndexes`` entry -> a CollectionIndex."""
    keys = tuple((str(k), _number(d)) for k, d in dict(info["key"]).items())
    partial = info.get("partialFilterExpression")
    ttl = info.get("expireAfterSeconds")
    return CollectionIndex(
        str(info["name"]),
        keys,
        bool(info.get("unique", False)),
        bool(info.get("sparse", False)),
        plain(dict(partial)) if partial is not None else None,
        _number(ttl) if ttl is not None else None,
    )


def own_collection(name: str) -> bool:
    return name in (LEDGER, LOCK_COLLECTION) or name.startswith("system.")


def reflect_database(db: Any) -> DocumentState:
    """Every user collection of ``db`` (a pymongo Database), through
    ``listCollections`` and one ``listIndexes`` per collection."""
    out: dict[str, Collection] = {}
    for info in db.list_collections():
        name = str(info["name"])
        if own_collection(name) or info.get("type", "collection") != "collection":
            continue
        out[name] = collection_from_info(info, list(db[name].list_indexes()))
    return DocumentState(dict(sorted(out.items())))

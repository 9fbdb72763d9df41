"""The document family's state: collections with their validator and indexes.
Plain, comparable, immutable values, like the relational state in the core."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from modelmig_core.api import MigrationFileError, Value


@dataclass(frozen=True)
class CollectionIndex(Value):
    """A document-store index. ``keys`` is a sequence of (field, direction)."""

    name: str
    keys: tuple[tuple[str, int], ...]
    unique: bool = False
    sparse: bool = False
    partial: dict[str, Any] | None = None
    expire_after_seconds: int | None = None


@dataclass(frozen=True)
class Collection(Value):
    name: str
    validator: dict[str, Any] | None = None
    validation_level: str = "strict"
    validation_action: str = "error"
    indexes: tuple[CollectionIndex, ...] = ()


@dataclass(frozen=True)
class DocumentState:
    """Every collection of one document chain."""

    collections: dict[str, Collection] = field(default_factory=dict)

    def with_collection(self, coll: Collection) -> DocumentState:
        return replace(self, collections={**self.collections, coll.name: coll})

    def without_collection(self, name: str) -> DocumentState:
        return replace(self, collections={k: v for k, v in self.collections.items() if k != name})

    def collection(self, name: str) -> Collection:
        try:
            return self.collections[name]
        except KeyError:
            raise MigrationFileError(f"collection {name!r} does not exist in the migration state") from None

    def canonical(self) -> DocumentState:
        """Members sorted by name: equal canonical forms mean equal schemas."""
        return DocumentState(
            {
                n: replace(c, indexes=tuple(sorted(c.indexes, key=lambda i: i.name)))
                for n, c in sorted(self.collections.items())
            }
        )

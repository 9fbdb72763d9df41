"""The document family, contributed to the core through its hooks: models with
``store = "mongo"`` become collections (``schema.py``), the diff between two
document states (``diff.py``), and the operations its migration files use
(``operations.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from modelmig_core.api import DiffHints, Family, Model, Operation, hookimpl

from .state import DocumentState


def _build(models: Sequence[type[Model]], column_types: frozenset[Any]) -> DocumentState:
    from .schema import build_collections

    return build_collections(models, column_types)


def _compare(expected: DocumentState, live: DocumentState, known: set[str]) -> Any:
    from .drift import compare_documents

    return compare_documents(expected, live, known)


DOCUMENT = Family(
    name="document",
    stores=("mongo",),
    empty=DocumentState,
    build=_build,
    operations_module="modelmig_mongo.operations",
    compare=_compare,
    names=lambda state: state.collections,
)


@hookimpl
def families() -> Iterable[Family]:
    return [DOCUMENT]


@hookimpl
def diff(old: Any, new: Any, hints: DiffHints) -> list[Operation]:
    if not isinstance(old, DocumentState) or not isinstance(new, DocumentState):
        return []
    from .diff import diff_collections

    return diff_collections(old, new, hints)

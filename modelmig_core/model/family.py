"""State families. The core knows one, the relational family (``sql``); a plugin
contributes others through the ``families`` hook (the mongo driver's
``document`` family). A family says how its models become state, what its empty
state is, and which module its migration files import as ``op``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .dsl import Model

BuildState = Callable[[Sequence[type["Model"]], frozenset[str]], Any]


@dataclass(frozen=True)
class Family:
    name: str  # the chain's folder under migrations/ and the files' ``family``
    stores: tuple[str, ...]  # the model ``store`` values it builds ("sql"; "mongo")
    empty: Callable[[], Any]  # the empty state; a state value has ``canonical()``
    build: BuildState  # models of its stores -> state (raises ModelError naming model and field)
    operations_module: str  # imported as ``op`` by the family's migration files
    #: (owner, identifier) pairs of a state, checked against drivers' identifier limits
    identifiers: Callable[[Any], Iterable[tuple[str, str]]] | None = None
    #: drift: ``compare(expected, live, known)`` -> ``differences.Comparison`` (each
    #: difference, and the objects no name in ``known`` covers); None: as a whole
    compare: Callable[[Any, Any, set[str]], Any] | None = None
    #: the names of a state's top-level objects (tables, collections), for drift
    names: Callable[[Any], Iterable[str]] | None = None


def relational_identifiers(state: Any) -> Iterable[tuple[str, str]]:
    for t in state.tables.values():
        yield t.name, t.name
        for members in (t.columns, *(values for _, values in t.members)):  # every kind's, a plugin's too
            for m in members:
                yield t.name, m.name


def relational() -> Family:
    from ..schema.differences import compare_relational
    from ..schema.state import State
    from .compile import compile_sql_models

    return Family(
        name="sql",
        stores=("sql",),
        empty=State,
        build=lambda models, types: compile_sql_models(list(models), types),
        operations_module="modelmig_core.operations",
        identifiers=relational_identifiers,
        compare=compare_relational,
        names=lambda state: [*state.tables, *state.views],
    )

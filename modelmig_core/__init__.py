"""modelmig: model-first schema migrations. The model DSL is importable from here.

The names are loaded on first use (PEP 562), so that importing a submodule
(the command line, the every-deploy path) does not load the model DSL."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model.dsl import Model, View, check, column, foreign_key, index, part, partition, relation, unique

__all__ = ["Model", "View", "check", "column", "foreign_key", "index", "part", "partition", "relation", "unique"]


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'modelmig_core' has no attribute {name!r}")
    from .model import dsl as model

    value = getattr(model, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

"""modelmig: model-first schema migrations. The model DSL is importable from here."""

from .model import Model, check, column, foreign_key, index, relation, unique

__all__ = ["Model", "check", "column", "foreign_key", "index", "relation", "unique"]

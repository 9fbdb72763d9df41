"""Logical column types of the DSL and how each normalizes into a state Column."""

from __future__ import annotations

from typing import Any

# logical type -> (state type, implied options)
COLUMN_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "increments": ("integer", {"primary": True, "autoincrement": True}),
    "bigIncrements": ("bigInteger", {"primary": True, "autoincrement": True}),
    "integer": ("integer", {}),
    "bigInteger": ("bigInteger", {}),
    "smallInteger": ("smallInteger", {}),
    "string": ("string", {}),
    "text": ("text", {}),
    "boolean": ("boolean", {}),
    "decimal": ("decimal", {}),
    "float": ("float", {}),
    "double": ("double", {}),
    "date": ("date", {}),
    "time": ("time", {}),
    "timestamp": ("timestamp", {}),
    "softDeletes": ("timestamp", {}),
    "json": ("json", {}),
    "uuid": ("uuid", {}),
    "binary": ("binary", {}),
    "enum": ("enum", {}),
}

# Types every driver must render (the state types of COLUMN_TYPES).
STATE_TYPES = frozenset(t for t, _ in COLUMN_TYPES.values())

COLUMN_OPTIONS = frozenset(
    {
        "nullable",
        "default",
        "unique",
        "index",
        "primary",
        "comment",
        "use_tz",
        "default_now",
        "renamed_from",
        "length",
        "precision",
        "scale",
        "values",
        "autoincrement",
        "backfill",  # a one-off value for the rows that exist when the column is added (never a default)
    }
)

DEFAULT_STRING_LENGTH = 255
DEFAULT_DECIMAL = (8, 2)

"""Public helpers for SQL drivers: what a driver needs to read SQL text and to run
a database's command-line tools. Public like ``modelmig_core.api`` (same
``API_VERSION``; a driver or plugin may import this module and ``api``, nothing
else of ``modelmig_core``), kept apart from the api because only a SQL driver's
reflection, rendering or backup needs them.

SQL text (read with sqlglot, never with regular expressions):

- ``function_called(sql, dialect)``: the function a default or expression calls
  (``nextval``), or None.
- ``normalize_sql(sql, dialect, compare=False)``: SQL text in one canonical
  spelling, to compare what a database reflects with what a model says.
- ``parse_default(text, type_, dialect)``: a reflected column default as a model
  value (``NOW`` for the current time, an ``Expression`` for anything else).
- ``generic_type(type, dialect)`` / ``raw_type(type, dialect)``: a reflected
  SQLAlchemy type as a modelmig type with arguments, or as its DDL text.
- ``ViewColumns`` / ``views_using(facts, table, column)``: which views use which
  columns (a renderer keeps them to carry views through a table rebuild);
  ``columns_of_view(sql, dialect)``: the (table, column) pairs a view's SQL reads.
- ``Bodies`` / ``bodies_using(facts, table, column)``: the triggers, functions and
  procedures whose bodies name a column (a session's ``live_facts`` carries
  ``bodies``; the base renderer then refuses a drop or rename of that column).

Command-line tools (a backup through ``pg_dump``, ``mariadb-dump``):
``find_tool``, ``run_tool``, ``tool_lines``, ``tool_writing``.

Names that would import SQLAlchemy or sqlglot are loaded on first use, so that a
driver module importing a few of them at module level stays cheap to import.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .schema.partitions import canonical_bound, canonical_key
    from .schema.sqltext import parse_statement
    from .schema.views import Bodies, ViewColumns, bodies_using, columns_of_view, views_using
    from .sql.reflect import (
        NOW,
        Expression,
        Partitioning,
        function_called,
        generic_type,
        normalize_sql,
        parse_default,
        raw_type,
    )
    from .sql.tools import find_tool, run_tool, tool_lines, tool_writing

# each public name -> the private module that defines it, imported on first use
_WHERE: dict[str, str] = {
    "NOW": ".sql.reflect",
    "Expression": ".sql.reflect",
    "Partitioning": ".sql.reflect",
    "function_called": ".sql.reflect",
    "generic_type": ".sql.reflect",
    "normalize_sql": ".sql.reflect",
    "parse_default": ".sql.reflect",
    "raw_type": ".sql.reflect",
    "find_tool": ".sql.tools",
    "run_tool": ".sql.tools",
    "tool_lines": ".sql.tools",
    "tool_writing": ".sql.tools",
    "ViewColumns": ".schema.views",
    "Bodies": ".schema.views",
    "bodies_using": ".schema.views",
    "views_using": ".schema.views",
    "columns_of_view": ".schema.views",
    "parse_statement": ".schema.sqltext",
    "canonical_bound": ".schema.partitions",
    "canonical_key": ".schema.partitions",
}

__all__ = [
    "NOW",
    "Bodies",
    "Expression",
    "Partitioning",
    "ViewColumns",
    "bodies_using",
    "canonical_bound",
    "canonical_key",
    "columns_of_view",
    "find_tool",
    "function_called",
    "generic_type",
    "normalize_sql",
    "parse_default",
    "parse_statement",
    "raw_type",
    "run_tool",
    "tool_lines",
    "tool_writing",
    "views_using",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'modelmig_core.api_sql' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __package__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)

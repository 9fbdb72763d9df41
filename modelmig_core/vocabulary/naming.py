"""Deterministic names for constraints and migrations."""

from __future__ import annotations

import hashlib
import re


def snake(name: str) -> str:
    """PostTag -> post_tag, RunSQL -> run_sql."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def index_name(table: str, columns: tuple[str, ...], unique: bool) -> str:
    return f"{'uq' if unique else 'ix'}_{table}_{'_'.join(columns)}"


def foreign_key_name(table: str, columns: tuple[str, ...], ref_table: str) -> str:
    return f"fk_{table}_{'_'.join(columns)}_{ref_table}"


def check_name(table: str, expression: str) -> str:
    digest = hashlib.sha1(expression.encode()).hexdigest()[:8]
    return f"ck_{table}_{digest}"


def enum_check_name(table: str, column: str) -> str:
    """The CHECK that holds an enum's values where the database has no enum type."""
    return f"ck_{table}_{column}_enum"


def slug(text: str, limit: int = 60) -> str:
    text = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return text[:limit].rstrip("_") or "migration"

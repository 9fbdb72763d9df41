"""Deterministic Python source for state values and operations (migration files)."""

from __future__ import annotations

import json
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

INDENT = "    "


def _field_default(f: Any) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _fields_of(cls: type) -> tuple[tuple[str, Any], ...] | None:
    """(name, default or MISSING) of a dataclass's fields, looked up once per class
    (a 1,000-table migration renders a quarter of a million values); None for a
    value that is not a dataclass instance."""
    known = _FIELDS.get(cls)
    if known is None:
        if not is_dataclass(cls):
            return None
        known = _FIELDS[cls] = tuple((f.name, _field_default(f)) for f in fields(cls))
    return known


def to_source(value: Any, level: int = 0, prefix: str = "op.") -> str:
    """Render ``value`` as Python source. Dataclasses render as ``op.Name(...)``,
    omitting fields equal to their default; required fields are positional."""
    pad = INDENT * (level + 1)
    end = INDENT * level
    cls = type(value)
    if cls is str:
        return json.dumps(value, ensure_ascii=False)
    spec = None if cls is type else _fields_of(cls)
    if spec is not None:
        args: list[str] = []
        for name, default in spec:
            v = getattr(value, name)
            if default is MISSING:
                args.append(to_source(v, level + 1, prefix))
            elif v != default:
                args.append(f"{name}={to_source(v, level + 1, prefix)}")
        head = f"{prefix}{type(value).__name__}("
        one_line = head + ", ".join(args) + ")"
        if len(one_line) + len(pad) <= 100 and "\n" not in one_line:
            return one_line
        return head + "\n" + "".join(f"{pad}{a},\n" for a in args) + end + ")"
    if isinstance(value, (list, tuple)):
        items = [to_source(v, level + 1, prefix) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) + len(pad) <= 100 and "\n" not in one_line:
            return one_line
        return "[\n" + "".join(f"{pad}{i},\n" for i in items) + end + "]"
    if isinstance(value, dict):
        items = [f"{to_source(k, level + 1, prefix)}: {to_source(v, level + 1, prefix)}" for k, v in value.items()]
        one_line = "{" + ", ".join(items) + "}"
        if len(one_line) + len(pad) <= 100 and "\n" not in one_line:
            return one_line
        return "{\n" + "".join(f"{pad}{i},\n" for i in items) + end + "}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    raise TypeError(f"cannot render {type(value).__name__} in a migration file")

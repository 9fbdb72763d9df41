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


def to_source(value: Any, level: int = 0, prefix: str = "op.") -> str:
    """Render ``value`` as Python source. Dataclasses render as ``op.Name(...)``,
    omitting fields equal to their default; required fields are positional."""
    pad = INDENT * (level + 1)
    end = INDENT * level
    if is_dataclass(value) and not isinstance(value, type):
        args: list[str] = []
        for f in fields(value):
            v = getattr(value, f.name)
            default = _field_default(f)
            if default is MISSING:
                args.append(to_source(v, level + 1, prefix))
            elif v != default:
                args.append(f"{f.name}={to_source(v, level + 1, prefix)}")
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

"""Deterministic Python source for state values and operations (migration files)."""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from json.encoder import encode_basestring  # json.dumps(s, ensure_ascii=False), without an encoder per call
from typing import Any

INDENT = "    "


def _field_default(f: Any) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:
        return f.default_factory()
    return MISSING


_FIELDS: dict[type, tuple[tuple[str, Any], ...] | None] = {}

#: what a render remembers: (id of a value, level) -> (the value, its source)
Memo = dict[tuple[int, int], tuple[Any, str]]


def _fields_of(cls: type) -> tuple[tuple[str, Any], ...] | None:
    """(name, default or MISSING) of a dataclass's fields, looked up once per class
    (a 1,000-table migration renders a quarter of a million values); None for a
    value that is not a dataclass instance."""
    try:
        return _FIELDS[cls]
    except KeyError:
        known = tuple((f.name, _field_default(f)) for f in fields(cls)) if is_dataclass(cls) else None
        _FIELDS[cls] = known
        return known


def to_source(value: Any, level: int = 0, prefix: str = "op.", memo: Memo | None = None) -> str:
    """Render ``value`` as Python source. Dataclasses render as ``op.Name(...)``,
    omitting fields equal to their default; required fields are positional.

    ``memo`` (one dict per file) renders a value object once per level: a table in
    ``up`` and again in ``down``, a column shared by many tables. It is keyed by the
    object itself (never by equality: ``1 == True``), which the caller keeps alive."""
    cls = type(value)
    if cls is str:
        return encode_basestring(value)
    spec = None if cls is type else _fields_of(cls)
    if spec is not None:
        key = (id(value), level)
        if memo is not None:
            hit = memo.get(key)
            if hit is not None and hit[0] is value:
                return hit[1]
        pad = INDENT * (level + 1)
        args: list[str] = []
        for name, default in spec:
            v = getattr(value, name)
            if default is MISSING:
                args.append(to_source(v, level + 1, prefix, memo))
            elif v != default:
                args.append(f"{name}={to_source(v, level + 1, prefix, memo)}")
        head = f"{prefix}{cls.__name__}("
        text = head + ", ".join(args) + ")"
        if len(text) + len(pad) > 100 or "\n" in text:
            text = head + "\n" + "".join(f"{pad}{a},\n" for a in args) + INDENT * level + ")"
        if memo is not None:
            memo[key] = (value, text)
        return text
    pad = INDENT * (level + 1)
    end = INDENT * level
    if isinstance(value, (list, tuple)):
        items = [to_source(v, level + 1, prefix, memo) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) + len(pad) <= 100 and "\n" not in one_line:
            return one_line
        return "[\n" + "".join(f"{pad}{i},\n" for i in items) + end + "]"
    if isinstance(value, dict):
        items = [
            f"{to_source(k, level + 1, prefix, memo)}: {to_source(v, level + 1, prefix, memo)}"
            for k, v in value.items()
        ]
        one_line = "{" + ", ".join(items) + "}"
        if len(one_line) + len(pad) <= 100 and "\n" not in one_line:
            return one_line
        return "{\n" + "".join(f"{pad}{i},\n" for i in items) + end + "}"
    if isinstance(value, str):
        return encode_basestring(value)
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    raise TypeError(f"cannot render {type(value).__name__} in a migration file")

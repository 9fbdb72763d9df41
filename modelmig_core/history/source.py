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


#: names a migration file defines itself: a plugin module is never imported under them
RESERVED = frozenset({"op", "id", "family", "parent", "atomic", "up", "down"})


def _prefix(cls: type, prefix: str, modules: set[str] | None = None) -> str:
    """``op.`` for the family's own operations and values; a plugin's class (a kind's
    value or operation) is written as ``module.Name``, its module imported by the
    migration file (``plugin_imports``)."""
    module = cls.__module__
    if module.startswith(("modelmig_core.", "modelmig_")) or module == "builtins":
        return prefix
    if modules is not None:
        modules.add(module)
    return f"{module_alias(module)}."


def module_alias(module: str) -> str:
    """The name a migration file imports a plugin's module under: its last part,
    ``_`` appended where a migration file's own names would shadow it."""
    last = module.rpartition(".")[2]
    return f"{last}_" if last in RESERVED else last


def import_lines(modules: set[str]) -> str:
    """``import a.b as b`` for each plugin module (``import b`` when it is top level)."""
    out = []
    for module in sorted(modules):
        alias = module_alias(module)
        out.append(f"import {module}\n" if alias == module else f"import {module} as {alias}\n")
    return "".join(out)


def to_source(
    value: Any, level: int = 0, prefix: str = "op.", memo: Memo | None = None, modules: set[str] | None = None
) -> str:
    """Render ``value`` as Python source. Dataclasses render as ``op.Name(...)``,
    omitting fields equal to their default; required fields are positional.

    ``memo`` (one dict per file) renders a value object once per level: a table in
    ``up`` and again in ``down``, a column shared by many tables. It is keyed by the
    object itself (never by equality: ``1 == True``), which the caller keeps alive.
    ``modules`` collects the modules of the plugin classes written (``import_lines``):
    give the same set with the same ``memo``."""
    cls = type(value)
    if cls is str:
        return encode_basestring(value)
    spec = None if cls is type else _fields_of(cls)
    if spec is not None:
        key = (id(value), level)
        if memo is not None:  # before anything is read of it: a shared column is written once
            hit = memo.get(key)
            if hit is not None and hit[0] is value:
                return hit[1]
        own = getattr(value, "source_fields", None)  # a value that says how it is written (Table)
        pairs = [(n, getattr(value, n), d) for n, d in spec] if own is None else own()
        pad = INDENT * (level + 1)
        args: list[str] = []
        for name, v, default in pairs:
            if default is MISSING:
                args.append(to_source(v, level + 1, prefix, memo, modules))
            elif v != default:
                args.append(f"{name}={to_source(v, level + 1, prefix, memo, modules)}")
        head = f"{_prefix(cls, prefix, modules)}{cls.__name__}("
        text = head + ", ".join(args) + ")"
        if len(text) + len(pad) > 100 or "\n" in text:
            text = head + "\n" + "".join(f"{pad}{a},\n" for a in args) + INDENT * level + ")"
        if memo is not None:
            memo[key] = (value, text)
        return text
    pad = INDENT * (level + 1)
    end = INDENT * level
    if isinstance(value, (list, tuple)):
        items = [to_source(v, level + 1, prefix, memo, modules) for v in value]
        one_line = "[" + ", ".join(items) + "]"
        if len(one_line) + len(pad) <= 100 and "\n" not in one_line:
            return one_line
        return "[\n" + "".join(f"{pad}{i},\n" for i in items) + end + "]"
    if isinstance(value, dict):
        items = [
            f"{to_source(k, level + 1, prefix, memo, modules)}: {to_source(v, level + 1, prefix, memo, modules)}"
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

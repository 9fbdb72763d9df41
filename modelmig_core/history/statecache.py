"""A cache of a chain's replayed head state, so that ``make:migration`` on an
unchanged history does not load and replay every migration file again.

The replay stays the source of truth: the cache is keyed by the chain's family,
every file's name and checksum, and the cache format, so any change to any file
(or a file added or removed) misses it. It lives in
``<migrations>/.modelmig-cache/`` (with a ``.gitignore`` of its own). It is JSON,
never pickle: decoding builds only dataclasses that are state values of modules
already imported (``Value`` subclasses and the family's state class), so a
corrupt or foreign cache is ignored, never trusted or executed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from ..driver import API_VERSION
from ..schema.state import Value
from .migrations import MigrationFile

#: 2: equal values stored once (SHARE/REF); 3: files with local imports are refused when
#: loaded; 4: a Table holds its members by kind (``Table.members``); 5: a State holds views;
#: 6: columns, keys and tables hold their attributes (collation, identity, deferrable, options, ...);
#: 7: a table holds its primary key constraint's own name; 8: a Table holds its partition key and partitions;
#: 9: a column holds an expression default (``default_sql``); 10: a Partition holds its own indexes and foreign keys
FORMAT = 10
FOLDER = ".modelmig-cache"


class CacheMiss(Exception):
    """The cache cannot be used (absent, stale, corrupt or foreign)."""


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("modelmig")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "unknown"


def key(family: str, files: list[MigrationFile]) -> str:
    digest = hashlib.sha256(f"modelmig-state-cache {FORMAT} {API_VERSION} {_version()} {family}\n".encode())
    for f in files:
        digest.update(f"{f.path.name} {f.checksum}\n".encode())
    return digest.hexdigest()


# Markers: keys no state value uses (a NUL cannot start a model's or validator's key).
TYPE, ARGS, TUPLE, SHARE, REF = "\x00t", "\x00a", "\x00u", "\x00s", "\x00r"


def encode(value: Any, types: dict[type, int], names: list[str], seen: dict[str, int] | None = None) -> Any:
    """Dataclasses as {TYPE: index, ARGS: [field values]}, tuples as {TUPLE: [...]}.

    With ``seen``, a value equal to one written before (the same encoding, so ``1``
    and ``True`` stay apart) is written as {REF: n} to the first, which carries
    {SHARE: n}: the ``id`` column of a thousand tables is decoded once."""
    if is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        index = types.get(cls)
        if index is None:
            index = types[cls] = len(names)
            names.append(f"{cls.__module__}:{cls.__qualname__}")
        out = {TYPE: index, ARGS: [encode(v, types, names, seen) for v in value.__dict__.values()]}
        if seen is not None:
            text = json.dumps(out, separators=(",", ":"))
            known = seen.get(text)
            if known is not None:
                return {REF: known}
            out[SHARE] = seen[text] = len(seen)
        return out
    if isinstance(value, tuple):
        return {TUPLE: [encode(v, types, names, seen) for v in value]}
    if isinstance(value, list):
        return [encode(v, types, names, seen) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) and not k.startswith("\x00") for k in value):
            raise TypeError("only plain string keys can be cached")
        return {k: encode(v, types, names, seen) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _class(name: str, state_class: type) -> tuple[type, tuple[str, ...]]:
    module, _, qualname = name.partition(":")
    mod = sys.modules.get(module)  # never import a module a cache file names
    cls = getattr(mod, qualname, None) if mod is not None and "." not in qualname else None
    if not isinstance(cls, type) or not is_dataclass(cls):
        raise CacheMiss(f"unknown value type {name!r}")
    if not (issubclass(cls, Value) or cls is state_class):
        raise CacheMiss(f"{name!r} is not a state value")
    return cls, tuple(f.name for f in fields(cls))


def decode(text: str, names: list[Any], state_class: type) -> Any:
    """The value ``text`` encodes. Values are rebuilt without running ``__init__``
    (they were valid when cached; the fields are checked against the class)."""
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise CacheMiss("bad type table")
    classes = [_class(n, state_class) for n in names]
    new = object.__new__
    shared: dict[int, Any] = {}

    def hook(obj: dict[str, Any]) -> Any:
        if REF in obj:
            try:
                return shared[obj[REF]]
            except (KeyError, TypeError):
                raise CacheMiss("bad reference") from None
        if TYPE in obj:
            try:
                cls, field_names = classes[obj[TYPE]]
            except (IndexError, TypeError):
                raise CacheMiss("bad type index") from None
            args = obj.get(ARGS)
            if not isinstance(args, list) or len(args) != len(field_names):
                raise CacheMiss(f"fields of {cls.__name__} do not match")
            value = new(cls)
            value.__dict__.update(zip(field_names, args, strict=True))
            if SHARE in obj:
                shared[obj[SHARE]] = value
            return value
        if TUPLE in obj:
            items = obj[TUPLE]
            if not isinstance(items, list):
                raise CacheMiss("bad tuple")
            return tuple(items)
        if any(k.startswith("\x00") for k in obj):
            raise CacheMiss("unexpected marker")
        return obj

    try:
        return json.loads(text, object_hook=hook)
    except (ValueError, TypeError, RecursionError) as exc:
        raise CacheMiss(str(exc)) from None


def path_of(migrations_dir: Path, family: str) -> Path:
    return migrations_dir / FOLDER / f"{family}.json"


def load(migrations_dir: Path, family: str, files: list[MigrationFile], state_class: type) -> tuple[Any, str | None]:
    """(head state, last migration id) from the cache; CacheMiss when it cannot serve.
    The file is a header line (JSON: key, last id, type table, checksum of the body)
    and the body (the encoded head state)."""
    path = path_of(migrations_dir, family)
    try:
        header_line, body = path.read_text(encoding="utf-8").split("\n", 1)
        header = json.loads(header_line)
    except (OSError, ValueError) as exc:
        raise CacheMiss(str(exc)) from None
    if not isinstance(header, dict) or header.get("key") != key(family, files):
        raise CacheMiss("stale")
    if header.get("sum") != hashlib.sha256(body.encode()).hexdigest():
        raise CacheMiss("corrupt")
    head = decode(body, header.get("types"), state_class)
    if type(head) is not state_class:
        raise CacheMiss("not a state")
    last = header.get("last")
    if last is not None and not isinstance(last, str):
        raise CacheMiss("bad last id")
    return head, last


def store(migrations_dir: Path, family: str, files: list[MigrationFile], head: Any, last: str | None) -> None:
    """Write the cache (atomically); failing to write it is never an error."""
    try:
        names: list[str] = []
        body = json.dumps(encode(head, {}, names, {}), separators=(",", ":"))
        header = {
            "key": key(family, files),
            "last": last,
            "types": names,
            "sum": hashlib.sha256(body.encode()).hexdigest(),
        }
        folder = migrations_dir / FOLDER
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# modelmig's cache of replayed migration states; safe to delete\n*\n")
        tmp = folder / f".{family}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(header, separators=(",", ":")) + "\n" + body, encoding="utf-8")
        tmp.replace(path_of(migrations_dir, family))
    except (OSError, TypeError, ValueError):
        pass

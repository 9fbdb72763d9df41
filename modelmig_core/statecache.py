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

from .driver import API_VERSION
from .migrations import MigrationFile
from .state import Value

FORMAT = 1
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


def encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        cls = type(value)
        return {
            "$t": f"{cls.__module__}:{cls.__qualname__}",
            "f": {f.name: encode(getattr(value, f.name)) for f in fields(value)},
        }
    if isinstance(value, tuple):
        return {"$tuple": [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise TypeError("only string keys can be cached")
        return {"$dict": {k: encode(v) for k, v in value.items()}}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot cache a {type(value).__name__}")


def _class(name: str, state_class: type) -> type:
    module, _, qualname = name.partition(":")
    mod = sys.modules.get(module)  # never import a module a cache file names
    cls = getattr(mod, qualname, None) if mod is not None and "." not in qualname else None
    if not isinstance(cls, type) or not is_dataclass(cls):
        raise CacheMiss(f"unknown value type {name!r}")
    if not (issubclass(cls, Value) or cls is state_class):
        raise CacheMiss(f"{name!r} is not a state value")
    return cls


def decode(obj: Any, state_class: type) -> Any:
    if isinstance(obj, list):
        return [decode(v, state_class) for v in obj]
    if isinstance(obj, dict):
        if "$t" in obj:
            cls = _class(str(obj["$t"]), state_class)
            values = obj.get("f")
            if not isinstance(values, dict) or set(values) != {f.name for f in fields(cls)}:
                raise CacheMiss(f"fields of {obj['$t']!r} do not match")
            return cls(**{k: decode(v, state_class) for k, v in values.items()})
        if "$tuple" in obj:
            return tuple(decode(v, state_class) for v in obj["$tuple"])
        if "$dict" in obj and isinstance(obj["$dict"], dict):
            return {k: decode(v, state_class) for k, v in obj["$dict"].items()}
        raise CacheMiss("unexpected object")
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise CacheMiss("unexpected value")


def path_of(migrations_dir: Path, family: str) -> Path:
    return migrations_dir / FOLDER / f"{family}.json"


def load(migrations_dir: Path, family: str, files: list[MigrationFile], state_class: type) -> tuple[Any, str | None]:
    """(head state, last migration id) from the cache; CacheMiss when it cannot serve."""
    path = path_of(migrations_dir, family)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CacheMiss(str(exc)) from None
    if not isinstance(data, dict) or data.get("key") != key(family, files):
        raise CacheMiss("stale")
    body = json.dumps(data.get("head"), separators=(",", ":"))
    if data.get("sum") != hashlib.sha256(body.encode()).hexdigest():
        raise CacheMiss("corrupt")
    try:
        head = decode(data.get("head"), state_class)
    except (TypeError, ValueError, RecursionError) as exc:
        raise CacheMiss(str(exc)) from None
    if type(head) is not state_class:
        raise CacheMiss("not a state")
    last = data.get("last")
    if last is not None and not isinstance(last, str):
        raise CacheMiss("bad last id")
    return head, last


def store(migrations_dir: Path, family: str, files: list[MigrationFile], head: Any, last: str | None) -> None:
    """Write the cache (atomically); failing to write it is never an error."""
    try:
        encoded = encode(head)
        body = json.dumps(encoded, separators=(",", ":"))
        payload = json.dumps(
            {
                "key": key(family, files),
                "last": last,
                "sum": hashlib.sha256(body.encode()).hexdigest(),
                "head": encoded,
            },
            separators=(",", ":"),
        )
        folder = migrations_dir / FOLDER
        folder.mkdir(exist_ok=True)
        ignore = folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# modelmig's cache of replayed migration states; safe to delete\n*\n")
        tmp = folder / f".{family}.{os.getpid()}.tmp"
        tmp.write_text(payload, encoding="utf-8")
        tmp.replace(path_of(migrations_dir, family))
    except (OSError, TypeError, ValueError):
        pass

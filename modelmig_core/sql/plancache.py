"""A cache of rendered plans, so that a run of an already planned migration (and
every database of a fleet after the first) sends its SQL without importing
SQLAlchemy or rendering again.

A plan is a pure function of what it was rendered from, and the key says all of it:

- the chain's files up to and including the migration (names and checksums: the
  migration's own steps and the state before it), the direction (``PlanSlot.base``,
  made by the runner), and the plugins loaded (their ``render_column`` hooks);
- the session's class, the driver's name and the files of its package, of the
  core's SQL layer and of SQLAlchemy and sqlglot (a version, an edit or a reinstall
  changes them), modelmig's version and the cache format;
- the session's ``render_key`` (dialect options: MySQL's charset, collation and
  sql_mode; a session whose key is None is never cached), the ``PlanContext``
  (online, timeouts, retries, the declared server, ``sql_dialect``) and the
  server version the session reads.

The live facts: while a plan is rendered the facts object is watched (its class
is swapped for a subclass that notes every attribute read or written). A plan that
never consulted them is stored with ``facts: null`` and served without reading
any; a plan that did is stored with a digest of the facts as they were read
(every field, sets sorted: all of them, not only the ones consulted, which errs on
the side of rendering again) and served only to a session whose facts, read the
same way, have that digest. Plans holding RunPython code (a callable) are never
stored.

One file per plan (``<chain folder>/../.modelmig-cache/plans/<chain>/<key>.json``):
a header line (JSON: format, key, facts digest, ``sum``) and the body (a JSON list
of statements). ``sum`` is a SHA-256 over the key, the facts digest and the body:
an entry whose body (or facts) was edited under a valid key is ignored and the
plan is rendered afresh. JSON, never pickle: only strings, booleans and lists of
strings are read back. ``MODELMIG_NO_CACHE=1`` disables it.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
import os
import sys
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from ..driver import API_VERSION, Statement

FORMAT = 1
FOLDER = ".modelmig-cache"


def enabled() -> bool:
    return os.environ.get("MODELMIG_NO_CACHE", "") in ("", "0")


@dataclass(frozen=True)
class PlanSlot:
    """Where one migration's plan is cached (``folder``), and the part of its key
    the runner knows (``base``: the chain's files up to it, the direction, the plugins)."""

    folder: Path
    base: str


def folder_of(chain_folder: Path) -> Path:
    return chain_folder.parent / FOLDER / "plans" / chain_folder.name


def base_key(family: str, files: Sequence[tuple[str, str]], direction: str, plugins: Sequence[str]) -> str:
    digest = hashlib.sha256(f"modelmig-plan {FORMAT} {API_VERSION} {family} {direction}\n".encode())
    for name, checksum in files:
        digest.update(f"file {name} {checksum}\n".encode())
    for plugin in plugins:
        digest.update(f"plugin {plugin}\n".encode())
    return digest.hexdigest()


def plugin_label(name: str, plugin: Any) -> str:
    """A loaded plugin as part of a key: its name and its module's file."""
    module = plugin if isinstance(plugin, type(sys)) else sys.modules.get(type(plugin).__module__)
    return f"{name} {_stat(getattr(module, '__file__', None))}"


def file_label(name: str, path: str) -> str:
    """A plugin known by its module's file (the core's own, registered or not)."""
    return f"{name} {_stat(path)}"


# ------------------------------------------------------------ what the code that renders is


def _stat(path: str | None) -> str:
    if not path:
        return "-"
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} missing"
    return f"{path} {st.st_size} {st.st_mtime_ns}"


def _package_files(origin: str | None) -> list[str]:
    """The .py files of the package whose ``__init__`` (or module) is ``origin``."""
    if not origin:
        return ["-"]
    folder = os.path.dirname(origin)
    try:
        names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".py"))
    except OSError:
        return [_stat(origin)]
    return [_stat(os.path.join(folder, n)) for n in names]


def _origin(module: str) -> str | None:
    """A module's file, found without importing it (its parent package is imported)."""
    loaded = sys.modules.get(module)
    if loaded is not None:
        return getattr(loaded, "__file__", None)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec is not None else None


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("modelmig")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "unknown"


@functools.cache
def code_key(modules: tuple[str, ...]) -> str:
    """A digest of the files of the packages that render: each of ``modules``'s
    package, the core's SQL and schema layers, SQLAlchemy and sqlglot; and modelmig's
    version (once per process)."""
    here = os.path.dirname(__file__)
    parts = [_version()]
    parts += _package_files(os.path.join(here, "render.py"))
    parts += _package_files(os.path.join(os.path.dirname(here), "schema", "operations", "__init__.py"))
    parts += _package_files(os.path.join(os.path.dirname(here), "schema", "state.py"))
    for name in ("sqlalchemy", "sqlglot"):
        parts.append(_stat(_origin(name)))
    for module in modules:
        parts += _package_files(_origin(module))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# ------------------------------------------------------------ the live facts


class Uncacheable(Exception):
    """A value the cache cannot key (facts of a kind it cannot encode)."""


def _canonical(value: Any, depth: int = 0) -> Any:
    if depth > 50:
        raise Uncacheable("facts nested too deep")
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_canonical(v, depth + 1) for v in value]
    if isinstance(value, (set, frozenset)):
        items = [_canonical(v, depth + 1) for v in value]
        return {"\x00set": sorted(items, key=lambda v: json.dumps(v, sort_keys=True))}
    if isinstance(value, dict):
        items = [[_canonical(k, depth + 1), _canonical(v, depth + 1)] for k, v in value.items()]
        return {"\x00dict": sorted(items, key=lambda v: json.dumps(v, sort_keys=True))}
    cls = type(value)
    if cls.__name__.startswith("_Watched"):
        cls = cls.__mro__[1]
    name = f"{cls.__module__}:{cls.__qualname__}"
    if is_dataclass(value):
        attrs = {f.name: object.__getattribute__(value, f.name) for f in fields(value)}
    else:
        try:
            attrs = dict(object.__getattribute__(value, "__dict__"))
        except AttributeError:
            raise Uncacheable(f"cannot key facts holding a {name}") from None
    return {"\x00obj": name, "attrs": {k: _canonical(v, depth + 1) for k, v in sorted(attrs.items())}}


def facts_digest(facts: Any) -> str:
    """A digest of the live facts, every field (raises ``Uncacheable``)."""
    text = json.dumps(_canonical(facts), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


_watched_lock = threading.Lock()
_watched_classes: dict[type, type] = {}
_consulted: set[int] = set()  # the ids of the watched facts objects read or written


def _watcher(cls: type) -> type:
    with _watched_lock:
        known = _watched_classes.get(cls)
        if known is not None:
            return known
        base_get, base_set, base_del = cls.__getattribute__, cls.__setattr__, cls.__delattr__

        def __getattribute__(self: Any, name: str) -> Any:
            if not (name.startswith("__") and name.endswith("__")):
                _consulted.add(id(self))
            return base_get(self, name)

        def __setattr__(self: Any, name: str, value: Any) -> None:
            _consulted.add(id(self))
            base_set(self, name, value)

        def __delattr__(self: Any, name: str) -> None:
            _consulted.add(id(self))
            base_del(self, name)

        namespace = {
            "__slots__": (),
            "__getattribute__": __getattribute__,
            "__setattr__": __setattr__,
            "__delattr__": __delattr__,
            "__module__": cls.__module__,
        }
        watcher = _watched_classes[cls] = type(f"_Watched{cls.__name__}", (cls,), namespace)
        return watcher


def watched(facts: Any, render: Iterator[Statement], outcome: dict[str, Any]) -> Iterator[Statement]:
    """``render``'s statements, with ``facts`` watched while it runs; once it is
    exhausted, ``outcome["consulted"]`` says whether the facts were read or written
    (True when they could not be watched)."""
    if facts is None:
        yield from render
        outcome["consulted"] = False
        return
    cls = type(facts)
    try:
        facts.__class__ = _watcher(cls)
    except TypeError:  # a class whose instances cannot be watched: assume they were read
        yield from render
        outcome["consulted"] = True
        return
    _consulted.discard(id(facts))
    try:
        yield from render
        outcome["consulted"] = id(facts) in _consulted
    finally:
        _consulted.discard(id(facts))
        facts.__class__ = cls


# ------------------------------------------------------------ the entries


def _path(folder: Path, key: str) -> Path:
    return folder / f"{key}.json"


def _sum(key: str, facts: str | None, body: str) -> str:
    return hashlib.sha256(f"{key}\n{facts}\n{body}".encode()).hexdigest()


def _statement(item: Any) -> Statement | None:
    if not (isinstance(item, list) and len(item) == 5):
        return None
    text, label, outside, repair, setup = item
    if not (isinstance(text, str) and isinstance(label, str) and isinstance(outside, bool)):
        return None
    if not (isinstance(setup, bool) and isinstance(repair, list) and all(isinstance(r, str) for r in repair)):
        return None
    return Statement(text, label=label, outside=outside, repair=tuple(repair), setup=setup)


def load(folder: Path, key: str) -> tuple[str | None, list[Statement]] | None:
    """(the facts digest the plan needs, or None when it consulted none; its
    statements), or None when there is no valid entry for ``key``."""
    try:
        header_line, body = _path(folder, key).read_text(encoding="utf-8").split("\n", 1)
        header = json.loads(header_line)
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key:
            return None
        facts = header.get("facts")
        if facts is not None and not isinstance(facts, str):
            return None
        if header.get("sum") != _sum(key, facts, body):
            return None  # edited under a valid key: never trusted
        items = json.loads(body)
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(items, list):
        return None
    out = []
    for item in items:
        statement = _statement(item)
        if statement is None:
            return None
        out.append(statement)
    return facts, out


def store(folder: Path, key: str, facts: str | None, statements: Sequence[Statement]) -> bool:
    """Write an entry (atomically); False (and nothing written) for a plan that
    holds code, or when the folder cannot be written: failing to cache is never an error."""
    if any(s.action is not None for s in statements):
        return False
    body = json.dumps(
        [[s.text, s.label, s.outside, list(s.repair), s.setup] for s in statements], separators=(",", ":")
    )
    header = {"format": FORMAT, "key": key, "facts": facts, "sum": _sum(key, facts, body)}
    return write_entry(folder, key, json.dumps(header, separators=(",", ":")) + "\n" + body)


def write_entry(folder: Path, key: str, text: str) -> bool:
    """``<folder>/<key>.json`` written atomically (a temporary file renamed), the
    cache's ``.gitignore`` beside the folders of its kind; False when it cannot be
    written: failing to cache is never an error."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        ignore = folder.parent.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# modelmig's cache of replayed migration states; safe to delete\n*\n")
        tmp = folder / f".{key}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(_path(folder, key))
    except OSError:
        return False
    return True

"""modelmig's entry points (drivers, URL schemes, plugins), read through
``importlib.metadata`` once per set of installed distributions and kept in an index,
so that the every-deploy path (``migrate:run`` with nothing pending) neither imports
``importlib.metadata`` nor scans every installed distribution.

Each index is keyed (and named) by the interpreter and by ``sys.path`` with the
names and times of the ``*.dist-info`` (and ``*.egg-info``) folders in each of its
folders: installing, upgrading or removing a distribution writes or removes its
folder (or adds a folder to the path), and so changes the key. The last few
indexes are kept (``KEEP``): interpreters and paths used in turn do not overwrite
each other's. An index is JSON (names and ``module:attribute`` strings, never
code), written beside the core's own bytecode (``modelmig_core/__pycache__``):
whoever can change it can change the ``.pyc`` files Python runs from the same
folder, so it asks no more trust than they do. A stale, corrupt or foreign index is
read again from ``importlib.metadata``; one that cannot be written is simply not
kept. ``MODELMIG_NO_CACHE=1`` always reads ``importlib.metadata``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
GROUPS = ("modelmig.drivers", "modelmig.schemes", "modelmig.plugins")


@dataclass(frozen=True)
class IndexedEntryPoint:
    """An entry point as ``importlib.metadata`` gave it: ``name``, ``value``
    (``module:attribute``), ``group`` and the name of its distribution."""

    name: str
    value: str
    group: str
    dist_name: str | None

    @property
    def module(self) -> str:
        return self.value.partition(":")[0].strip()

    def load(self) -> Any:
        module, _, attribute = self.value.partition(":")
        obj: Any = importlib.import_module(module.strip())
        for part in attribute.strip().split(".") if attribute.strip() else ():
            obj = getattr(obj, part)
        return obj

    @property
    def dist(self) -> Any:
        """The distribution (for messages: its name and version), read only when asked."""
        if self.dist_name is None:
            return None
        from importlib.metadata import PackageNotFoundError, distribution

        try:
            return distribution(self.dist_name)
        except PackageNotFoundError:
            return None


class Index:
    def __init__(self, entries: list[IndexedEntryPoint]) -> None:
        self.entries = entries

    def select(self, group: str) -> list[IndexedEntryPoint]:
        return [e for e in self.entries if e.group == group]


def _folder(entry: str) -> str:
    """What of one ``sys.path`` entry says which distributions it holds: the names
    and times of its ``*.dist-info``/``*.egg-info`` folders (a file: its size and
    time). Not the folder's own time: a project folder on the path changes with
    every file written in it."""
    try:
        with os.scandir(entry or ".") as found:
            infos = sorted(
                f"{e.name}\0{e.stat().st_mtime_ns}" for e in found if e.name.endswith((".dist-info", ".egg-info"))
            )
        return "\1".join(infos)
    except NotADirectoryError:
        try:
            st = os.stat(entry)
        except OSError:
            return "-"
        return f"file {st.st_size} {st.st_mtime_ns}"
    except OSError:
        return "-"


def _key() -> str:
    parts = [f"{FORMAT} {sys.executable} {sys.version}"]
    parts += [f"{entry}\0{_folder(entry)}" for entry in sys.path]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


#: the indexes kept (one per key: interpreters, and sets of sys.path folders, used in turn)
KEEP = 8


def _path(key: str) -> Path:
    return Path(__file__).resolve().parent / "__pycache__" / f"modelmig-entry-points-{key[:24]}.json"


def _read(path: Path, key: str) -> Index | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("key") != key:
        return None
    entries = data.get("entries")
    if not isinstance(entries, list):
        return None
    out = []
    for item in entries:
        if not (isinstance(item, list) and len(item) == 4 and all(isinstance(x, str) for x in item[:3])):
            return None
        if item[2] not in GROUPS or not (item[3] is None or isinstance(item[3], str)):
            return None
        out.append(IndexedEntryPoint(item[0], item[1], item[2], item[3]))
    return Index(out)


def _scan() -> list[IndexedEntryPoint]:
    from importlib.metadata import entry_points

    out = []
    for group in GROUPS:
        for ep in entry_points(group=group):
            # the distribution's name from its folder's (``_normalized_name``), not from
            # its METADATA, which would be parsed (email.parser) for every entry point
            name = getattr(getattr(ep, "dist", None), "_normalized_name", None)
            out.append(IndexedEntryPoint(ep.name, ep.value, group, name if isinstance(name, str) else None))
    return out


def _write(path: Path, key: str, entries: list[IndexedEntryPoint]) -> None:
    body = {"format": FORMAT, "key": key, "entries": [[e.name, e.value, e.group, e.dist_name] for e in entries]}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps(body), encoding="utf-8")
        tmp.replace(path)
        kept = sorted(path.parent.glob("modelmig-entry-points-*.json"), key=_age)
        for old in kept[:-KEEP]:  # the least recently written beyond the last few
            old.unlink(missing_ok=True)
    except OSError:
        pass  # a read-only installation: read importlib.metadata each time


def _age(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def installed() -> Index:
    """modelmig's installed entry points: from the index when nothing installed
    changed since it was written, else from ``importlib.metadata`` (then indexed)."""
    use_cache = os.environ.get("MODELMIG_NO_CACHE", "") in ("", "0")
    key = _key()
    path = _path(key)
    if use_cache:
        found = _read(path, key)
        if found is not None:
            return found
    entries = _scan()
    if use_cache:
        _write(path, key, entries)
    return Index(entries)

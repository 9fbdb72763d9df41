"""make:migration's memo of "no changes", so that a make on models and migrations
that agreed last time answers without compiling the models, replaying or diffing.

The models are imported as always (they are code: what they hold is only known by
running them); the memo is keyed by what make's answer is a function of:

- every model's own class attributes, as values (``schema``, ``database``, table
  name, options, relations ...: the DSL's specs, walked field by field, and plain
  values; a method or function by its code), and the modules each was found in;
- the config (every field, after ``${ENV}`` interpolation), the plugins loaded and
  the drivers of the configured connections (the files of their packages), the
  core's own files and modelmig's version;
- every migration file under the migrations folder and each chain's folder (names
  and contents).

A model holding a value the walk cannot key (an object of a class it does not
know) is never memoized: make compiles and diffs as usual. The memo is written only
after a make found no change and no refusal; it holds one digest (JSON), so an
edited or foreign file is a miss. ``make:migration --check`` and a make of named
models do not use it, and ``MODELMIG_NO_CACHE=1`` disables it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import threading
import types
from collections.abc import Sequence
from dataclasses import fields, is_dataclass
from enum import Enum
from pathlib import Path
from typing import Any

from ..config import Config
from ..driver import API_VERSION
from ..errors import ConfigError
from ..model.dsl import (
    CheckSpec,
    ColumnSpec,
    ForeignKeySpec,
    IndexSpec,
    KeyPart,
    Model,
    PartitionSpec,
    RelationSpec,
)
from ..registry import Registry
from ..targets import driver_of
from .imported import found_models

FORMAT = 1
FOLDER = ".modelmig-cache"
NAME = "nochange.json"


class Unkeyable(Exception):
    """A model holds a value the memo cannot key."""


def enabled() -> bool:
    return os.environ.get("MODELMIG_NO_CACHE", "") in ("", "0")


# ------------------------------------------------------------ the models as values

_SIMPLE = (str, int, float, bool, type(None))


def _code_digest(code: types.CodeType) -> str:
    """A digest of a code object: its bytecode, names and constants, a nested code
    object (a comprehension, a lambda) by its own digest, never by its address."""
    consts = tuple(_code_digest(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    digest = hashlib.sha256(code.co_code)
    digest.update(repr((consts, code.co_names, code.co_varnames, code.co_freevars)).encode())
    return digest.hexdigest()


def _code(fn: types.FunctionType) -> str:
    defaults = repr((fn.__defaults__, fn.__kwdefaults__))
    return f"fn {fn.__module__}:{fn.__qualname__} {_code_digest(fn.__code__)} {defaults}"


#: the DSL's specs and their fields, written field by field (``_text``)
_DSL: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in fields(cls))
    for cls in (ColumnSpec, RelationSpec, ForeignKeySpec, IndexSpec, PartitionSpec, CheckSpec, KeyPart)
}
_PLAIN = frozenset(_SIMPLE)


def _text(value: Any, depth: int = 0) -> str | None:
    """A faithful text of ``value`` when it is made of plain values, lists, tuples,
    dicts with string keys and the DSL's specs of those; None for anything else
    (then ``_walk`` takes it). Loops and ``repr`` of plain values only: a 1,000-table
    schema holds 100,000 values, and a dataclass's own ``repr`` is slower."""
    cls = type(value)
    if cls in _PLAIN:
        return repr(value)
    if depth > 64:
        return None
    parts: list[str] = []
    if cls is dict:
        for k, v in value.items():
            text = repr(v) if type(v) in _PLAIN else _text(v, depth + 1)
            if type(k) is not str or text is None:
                return None
            parts.append(f"{k!r}:{text}")
        return "{" + ",".join(parts) + "}"
    if cls is ColumnSpec:  # the bulk of a schema, written without a loop over its fields
        arg = value.arg
        arg_text = repr(arg) if type(arg) in _PLAIN else _text(arg, depth + 1)
        options = _text(value.options, depth + 1)
        if type(value.type) is not str or arg_text is None or options is None:
            return None
        return f"ColumnSpec({value.type!r},{arg_text},{options})"
    if cls is tuple or cls is list:
        items = value
        name = cls.__name__
    else:
        names = _DSL.get(cls)
        if names is None:
            return None
        items = [getattr(value, n) for n in names]
        name = cls.__qualname__
    for v in items:
        text = repr(v) if type(v) in _PLAIN else _text(v, depth + 1)
        if text is None:
            return None
        parts.append(text)
    return f"{name}(" + ",".join(parts) + ")"


def _walk(value: Any, out: list[str], depth: int = 0) -> None:
    """Append a canonical text of ``value`` to ``out`` (raises ``Unkeyable``)."""
    if depth > 64:
        raise Unkeyable("nested too deep")
    cls = type(value)
    text = _text(value, depth) if cls is dict or cls in _DSL else None  # a model's schema and database blocks
    if text is not None:
        out.append(text)
    elif cls in _SIMPLE:
        out.append(f"{cls.__name__}:{value!r}")
    elif cls is list or cls is tuple:
        out.append(f"{cls.__name__}[{len(value)}")
        for v in value:
            _walk(v, out, depth + 1)
        out.append("]")
    elif cls is dict:
        out.append(f"dict[{len(value)}")
        for k, v in value.items():
            _walk(k, out, depth + 1)
            _walk(v, out, depth + 1)
        out.append("]")
    elif cls is set or cls is frozenset:
        items: list[str] = []
        for v in value:
            part: list[str] = []
            _walk(v, part, depth + 1)
            items.append("\x1f".join(part))
        out.append(f"{cls.__name__}[{len(items)}\x1e" + "\x1e".join(sorted(items)) + "]")
    elif is_dataclass(value) and not isinstance(value, type):
        out.append(f"dc {cls.__module__}:{cls.__qualname__}[")
        for f in fields(value):
            out.append(f.name)
            _walk(getattr(value, f.name), out, depth + 1)
        out.append("]")
    elif isinstance(value, Enum):
        out.append(f"enum {cls.__module__}:{cls.__qualname__}.{value.name}")
    elif isinstance(value, type):
        out.append(f"class {value.__module__}:{value.__qualname__}")
    elif isinstance(value, types.FunctionType):
        out.append(_code(value))
    elif isinstance(value, (classmethod, staticmethod)):
        inner = value.__func__
        if not isinstance(inner, types.FunctionType):
            raise Unkeyable(f"a {cls.__name__} of a {type(inner).__name__}")
        out.append(f"{cls.__name__} {_code(inner)}")
    elif isinstance(value, property):
        out.append("property")
        for fn in (value.fget, value.fset, value.fdel):
            out.append("-" if fn is None else _code(fn) if isinstance(fn, types.FunctionType) else "?")
            if fn is not None and not isinstance(fn, types.FunctionType):
                raise Unkeyable("a property of a callable object")
    else:
        raise Unkeyable(f"a value of class {cls.__module__}.{cls.__qualname__}")


def models_text(found: dict[type[Model], set[str]]) -> str:
    """The canonical text of every model: its name, the modules it was found in, and
    the attributes of each class of its MRO above the core's own (raises ``Unkeyable``)."""
    out: list[str] = []
    for model in sorted(found, key=lambda m: (m.__module__, m.__qualname__)):
        out.append(f"model {model.__module__}:{model.__qualname__} in {sorted(found[model])}")
        for klass in model.__mro__:
            if klass is object or klass.__module__.startswith("modelmig_core."):
                continue
            out.append(f"class {klass.__module__}:{klass.__qualname__}")
            for name, value in vars(klass).items():
                if name in ("__module__", "__qualname__", "__doc__", "__dict__", "__weakref__"):
                    continue
                out.append(name)
                _walk(value, out)
    return "\n".join(out)


# ------------------------------------------------------------ what else make's answer depends on


def _stat(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return f"{path} missing"
    return f"{path} {st.st_size} {st.st_mtime_ns}"


def _package_files(module: str) -> list[str]:
    """The .py files (size, mtime) of the top-level package ``module`` is in, found
    without importing it."""
    top = module.partition(".")[0]
    loaded = sys.modules.get(top)
    origin = getattr(loaded, "__file__", None) if loaded is not None else None
    if origin is None:
        try:
            spec = importlib.util.find_spec(top)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
    if not origin or not os.path.isfile(origin):
        return [f"{module} -"]
    if os.path.basename(origin) != "__init__.py":
        return [_stat(origin)]  # a module of its own
    out = []
    for folder, dirs, files in os.walk(os.path.dirname(origin)):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "__pycache__")))
        out += [_stat(os.path.join(folder, f)) for f in sorted(files) if f.endswith(".py")]
    return out


def _config_text(config: Config) -> str:
    def plain(value: Any) -> Any:
        if is_dataclass(value) and not isinstance(value, type):
            return {f.name: plain(getattr(value, f.name)) for f in fields(value)}
        if isinstance(value, dict):
            return {str(k): plain(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, Path):
            return str(value)
        if isinstance(value, _SIMPLE):
            return value
        return repr(value)

    return json.dumps(plain(config), sort_keys=True)


def _migration_files(config: Config) -> list[str]:
    folders = {config.migrations, *(c.folder for c in config.chains.values())}
    out = []
    for top in sorted(folders):
        for folder, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d != FOLDER and not d.startswith((".", "__pycache__")))
            for f in sorted(files):
                if f.endswith(".py"):
                    path = os.path.join(folder, f)
                    try:
                        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
                    except OSError:
                        digest = "unreadable"
                    out.append(f"{path} {digest}")
    return out


def key(
    config: Config, found: dict[type[Model], set[str]], modules: list[str], drivers: Sequence[str] = ()
) -> str | None:
    """The memo's key for this make; None when a model cannot be keyed.
    ``modules``: the modules of the plugins and drivers make uses; ``drivers``: what
    each configured connection's driver declares."""
    try:
        text = models_text(found)
    except Unkeyable:
        return None
    digest = hashlib.sha256(f"modelmig-nochange {FORMAT} {API_VERSION}\n".encode())
    digest.update(text.encode())
    digest.update(b"\nconfig\n" + _config_text(config).encode())
    for module in sorted({"modelmig_core", *modules}):
        digest.update(f"\npackage {module}\n".encode() + "\n".join(_package_files(module)).encode())
    digest.update(b"\ndrivers\n" + "\n".join(drivers).encode())
    digest.update(b"\nfiles\n" + "\n".join(_migration_files(config)).encode())
    return digest.hexdigest()


def make_key(config: Config, plugins: Registry, found: dict[type[Model], set[str]]) -> str | None:
    """The key of this make (None: no memo): the packages of the plugins and of the
    installed drivers, and what each configured connection's driver declares,
    besides the models, the config and the files."""
    if not enabled():
        return None
    # the plugins the registry loaded from entry points and the config, and every
    # installed driver (a family a model's store names is loaded while compiling)
    modules = {r.name.partition(":")[0] for r in plugins.plugins}
    modules |= {ep.value.partition(":")[0].strip() for ep in plugins.entry_points().values()}
    drivers = []
    for conn in config.connections.values():
        try:
            driver = driver_of(conn, plugins)
        except ConfigError as exc:
            drivers.append(f"{conn.name}: {exc}")
            continue
        modules.add(type(driver).__module__)
        said = [getattr(driver, n, None) for n in ("features", "type_names", "operation_names", "index_options")]
        drivers.append(f"{conn.name}: {type(driver).__module__}:{type(driver).__qualname__} {_said(said)}")
    return key(config, found, sorted(modules), drivers)


def _said(values: list[Any]) -> str:
    """What a driver declares, as text (sets sorted)."""
    return repr([sorted(v) if isinstance(v, (set, frozenset)) else v for v in values])


def known(config: Config, plugins: Registry) -> tuple[dict[type[Model], set[str]], str | None, bool]:
    """The models imported, this make's key, and whether make last found no change
    under it (then nothing else need be imported, compiled or replayed)."""
    found = found_models(config)
    if not _path(config).is_file():  # no memo to match: the key is made only if make then finds no change
        return found, None, False
    memo_key = make_key(config, plugins, found)
    return found, memo_key, memo_key is not None and hit(config, memo_key)


def _path(config: Config) -> Path:
    return config.migrations / FOLDER / NAME


def hit(config: Config, memo_key: str) -> bool:
    """Whether the last make that found no change had this key."""
    try:
        data = json.loads(_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT and data.get("key") == memo_key


def remember(config: Config, memo_key: str) -> None:
    """Write the memo (atomically); failing to write it is never an error."""
    path = _path(config)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        ignore = path.parent / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# modelmig's cache of replayed migration states; safe to delete\n*\n")
        tmp = path.parent / f".{NAME}.{os.getpid()}.{threading.get_ident()}.tmp"
        tmp.write_text(json.dumps({"format": FORMAT, "key": memo_key}), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass

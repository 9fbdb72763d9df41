"""The app's models, grouped by family, and the state they ask for."""

from __future__ import annotations

import importlib
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .compile import check_relations, column_specs, diff_hints, renames, where
from .config import Config
from .diff import DiffHints
from .errors import ConfigError, ModelError
from .family import Family
from .kinds import register_kinds
from .model import Model
from .registry import Registry


def import_models(config: Config) -> list[type[Model]]:
    """Import the configured model modules afresh and collect their Model classes."""
    root = str(config.root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    found: dict[int, type[Model]] = {}
    for name in config.models:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        try:
            module = importlib.import_module(name)
        except SyntaxError as exc:
            raise ModelError(f"{exc.filename}:{exc.lineno}: syntax error in models: {exc.msg}") from None
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                raise ModelError(f"{config.path}: models module {name!r} not found under {config.root}") from None
            raise ModelError(f"models module {name!r}: {exc}") from None
        except ModelError:
            raise
        except Exception as exc:  # noqa: BLE001 - user code: one line naming where it failed
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            raise ModelError(f"{frame.filename}:{frame.lineno}: {type(exc).__name__}: {exc}") from None
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Model) and value is not Model:
                if not value.__dict__.get("abstract", False):
                    found[id(value)] = value
    models = sorted(found.values(), key=lambda m: (m.__module__, m.__name__))
    if not models:
        raise ModelError(f"{config.path}: the models module(s) {', '.join(config.models)} define no Model")
    return models


@dataclass
class Desired:
    family: Family
    state: Any
    hints: DiffHints
    models: list[type[Model]]


def desired_states(config: Config, plugins: Registry) -> dict[str, Desired]:
    """{family: what the models ask for}. Every family with a chain on disk is included."""
    models = import_models(config)
    for m in models:
        column_specs(m)  # a schema that is not a dict of columns: one line naming the model
    check_relations(models)
    by_store: dict[str, list[type[Model]]] = {}
    for m in models:
        store = getattr(m, "store", "sql") or "sql"
        if not isinstance(store, str):
            raise ModelError(f"{where(m)}: store must be a driver name such as 'mongo'")
        by_store.setdefault(store, []).append(m)
    extra = frozenset(t for types in plugins.hook.column_types() for t in types)
    register_kinds(plugins.hook.kinds())  # a plugin's kinds: their model syntax, comparators
    out: dict[str, Desired] = {}
    for store, group in sorted(by_store.items()):
        try:
            family = plugins.family_for_store(store)
        except ConfigError as exc:
            raise ModelError(f"{where(group[0])}: {exc}") from None
        if family.name in out:
            raise ModelError(f"{where(group[0])}: stores of family {family.name!r} cannot be mixed in one app")
        state = family.build(group, extra)
        hints = diff_hints(group) if family.name == "sql" else DiffHints(*renames(group))
        out[family.name] = Desired(family, state, hints, group)
    for chain in (
        sorted(p.name for p in config.migrations.glob("*") if p.is_dir()) if config.migrations.is_dir() else []
    ):
        if chain not in out and any(Path(config.migrations, chain).glob("*.py")):
            family = plugins.family(chain)
            out[chain] = Desired(family, family.empty(), DiffHints(), [])
    return out

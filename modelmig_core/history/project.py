"""The app's models, grouped by family, and the state they ask for."""

from __future__ import annotations

import importlib
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Chain, Config
from ..errors import ConfigError, ModelError
from ..model.compile import check_relations, column_specs, diff_hints, renames, where
from ..model.dsl import Model
from ..model.family import Family
from ..registry import Registry
from ..schema.diff import DiffHints
from ..targets import chain_map
from ..vocabulary.kinds import register_kinds


def import_models(config: Config) -> list[type[Model]]:
    """Import the configured model modules afresh and collect their Model classes."""
    return list(_import_models(config))


def _import_models(config: Config) -> dict[type[Model], set[str]]:
    """{Model class: the configured modules it was found in}, every models module
    (the top-level ones and each chain's) imported afresh."""
    root = str(config.root)
    if root in sys.path:
        sys.path.remove(root)
    sys.path.insert(0, root)
    importlib.invalidate_caches()
    found: dict[int, type[Model]] = {}
    seen_in: dict[int, set[str]] = {}
    modules = config.model_modules
    for name in modules:
        for loaded in [m for m in sys.modules if m == name or m.startswith(name + ".")]:
            del sys.modules[loaded]
        _forget_foreign_packages(name, config.root)
    for name in modules:
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
                    seen_in.setdefault(id(value), set()).add(name)
    models = sorted(found.values(), key=lambda m: (m.__module__, m.__name__))
    if not models:
        raise ModelError(f"{config.path}: the models module(s) {', '.join(modules)} define no Model")
    return {m: seen_in[id(m)] for m in models}


def _forget_foreign_packages(name: str, root: Path) -> None:
    """The packages above module ``name`` that this process imported from somewhere
    else than the project (another project's ``analytics`` package) are forgotten,
    so that ``name`` is found under ``root``; the project's own are kept."""
    parts = name.split(".")
    for i in range(len(parts) - 1, 0, -1):
        package = sys.modules.get(".".join(parts[:i]))
        if package is None:
            continue
        paths = [Path(p) for p in getattr(package, "__path__", None) or []]
        if not any(p == root or root in p.parents for p in paths):
            for loaded in [m for m in sys.modules if m == package.__name__ or m.startswith(package.__name__ + ".")]:
                del sys.modules[loaded]


def chain_of_model(config: Config, model: type[Model], seen_in: set[str]) -> str | None:
    """The declared chain of ``model`` (None: the default chain of its family): the
    chain whose models modules hold the module that defines it, else the one whose
    modules it was found in (imported there). Found in the modules of two chains,
    and defined in neither: one error naming the model and both."""
    if model.__module__ in config.model_modules or any(
        model.__module__.startswith(m + ".") for m in config.model_modules
    ):
        return config.chain_of_module(model.__module__)
    owners = {config.chain_of_module(m) for m in seen_in}
    if len(owners) > 1:
        names = ", ".join(f"chains.{o}" if o else "the top-level models" for o in sorted(owners, key=str))
        raise ModelError(
            f"{where(model)}: it is imported into the models of {names}: a model belongs to one chain; list the "
            f"module that defines it ({model.__module__}) in one of them"
        )
    return next(iter(owners))


@dataclass
class Desired:
    family: Family
    state: Any
    hints: DiffHints
    models: list[type[Model]]
    chain: Chain | None = None  # the chain the models are of (None: the default chain of ``family``)


def desired_states(config: Config, plugins: Registry) -> dict[str, Desired]:
    """{chain name: what its models ask for}. Without ``[chains]``, one default
    chain per family, named after it. Every chain with files on disk, and every
    declared chain, is included (a chain whose models are all gone drops their
    tables)."""
    found = _import_models(config)
    models = list(found)
    for m in models:
        column_specs(m)  # a schema that is not a dict of columns: one line naming the model
    check_relations(models)
    chains = chain_map(config, plugins) if config.chains else None
    by_group: dict[tuple[str | None, str], list[type[Model]]] = {}
    for m in models:
        store = getattr(m, "store", "sql") or "sql"
        if not isinstance(store, str):
            raise ModelError(f"{where(m)}: store must be a driver name such as 'mongo'")
        by_group.setdefault((chain_of_model(config, m, found[m]), store), []).append(m)
    extra = frozenset(t for types in plugins.hook.column_types() for t in types)
    register_kinds(plugins.hook.kinds())  # a plugin's kinds: their model syntax, comparators
    out: dict[str, Desired] = {}
    for (declared, store), group in sorted(by_group.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        try:
            family = plugins.family_for_store(store)
        except ConfigError as exc:
            raise ModelError(f"{where(group[0])}: {exc}") from None
        if declared is None:
            chain = Chain.default(config.migrations, family.name)
        else:
            assert chains is not None
            chain = chains.named(declared)
            if chain.family != family.name:
                raise ModelError(
                    f"{where(group[0])}: a model of store {store!r} ({family.name} family) is in chains.{declared}, "
                    f"whose connections are of the {chain.family} family"
                )
        known = out.get(chain.name)
        if known is not None:
            if (known.chain is None) != (declared is None):
                raise ModelError(
                    f"{where(group[0])}: chains.{chain.name} has the name of the default {chain.name} chain, which "
                    "holds the models in no chain: name the chain otherwise"
                )
            within = "one app" if declared is None else chain.label
            raise ModelError(f"{where(group[0])}: stores of family {family.name!r} cannot be mixed in {within}")
        if declared is None and chains is not None:
            taken = next((c for c in chains.declared.values() if c.folder == chain.folder), None)
            if taken is not None:
                raise ModelError(
                    f"{where(group[0])}: it is in no chain, so its migrations go to the default {family.name} chain, "
                    f"whose folder {chain.folder} is chains.{taken.name}'s: list its module in chains.{taken.name} "
                    "or name that chain otherwise"
                )
        state = family.build(group, extra)
        hints = diff_hints(group) if family.name == "sql" else DiffHints(*renames(group))
        out[chain.name] = Desired(family, state, hints, group, chain if declared is not None else None)
    for chain in chains.declared.values() if chains is not None else ():
        if chain.name not in out:
            family = plugins.family(chain.family)
            out[chain.name] = Desired(family, family.empty(), DiffHints(), [], chain)
    declared_folders = {c.folder for c in chains.declared.values()} if chains is not None else set()
    for name in sorted(p.name for p in config.migrations.glob("*") if p.is_dir()) if config.migrations.is_dir() else []:
        folder = Path(config.migrations, name)
        if name not in out and folder not in declared_folders and any(folder.glob("*.py")):
            try:
                family = plugins.family(name)
            except ConfigError as exc:
                if not config.chains:
                    raise
                raise ConfigError(
                    f"{config.migrations}: folder {name!r} holds migration files but is no chain of {config.path} "
                    "(no chains table of that name, and no installed family of that name): restore its chains "
                    "table, or move the folder away"
                ) from exc
            out[name] = Desired(family, family.empty(), DiffHints(), [])
    return out

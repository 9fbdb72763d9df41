"""The app's models, grouped by family, and the state they ask for."""

from __future__ import annotations

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
from .imported import found_models, import_models

__all__ = ["Desired", "chain_of_model", "desired_states", "found_models", "import_models"]


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


def desired_states(
    config: Config, plugins: Registry, found: dict[type[Model], set[str]] | None = None
) -> dict[str, Desired]:
    """{chain name: what its models ask for}. Without ``[chains]``, one default
    chain per family, named after it. Every chain with files on disk, and every
    declared chain, is included (a chain whose models are all gone drops their
    tables). ``found``: the models ``found_models`` imported (else imported here)."""
    if found is None:
        found = found_models(config)
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

"""make:migration — diff the models against the replayed history and write the
next migration of each chain. Needs no database; deterministic."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .compile import table_name, where
from .config import Config
from .diff import DiffHints, inverse_operations
from .errors import ConfigError, ModelError
from .history import replay
from .migrations import chain_dir, render
from .model import Model
from .naming import slug
from .operations import Operation
from .project import Desired, desired_states
from .registry import Registry
from .state import State
from .targets import driver_of

STAMP = "%Y%m%d%H%M%S"


@dataclass
class Planned:
    family: str
    id: str
    path: Path
    parent: str | None
    up: list[Operation]
    down: list[Operation]
    source: str


def now() -> datetime:
    pinned = os.environ.get("MODELMIG_NOW")
    if not pinned:
        return datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    try:
        if re.fullmatch(r"\d{14}", pinned):
            return datetime.strptime(pinned, STAMP)
        return datetime.fromisoformat(pinned).replace(tzinfo=None, microsecond=0)
    except ValueError:
        raise ConfigError(f"MODELMIG_NOW={pinned!r} is not a timestamp like 2026-01-01T12:00:00") from None


def derive_name(ops: list[Operation]) -> str:
    if len(ops) == 1:
        return slug(ops[0].name_hint())
    kinds = {o.creates for o in ops}
    if len(kinds) == 1 and None not in kinds:
        return slug("create " + " ".join(str(o.subject) for o in ops) + f" {kinds.pop()}s")
    targets = {o.subject for o in ops}
    if len(targets) == 1 and None not in targets:
        return slug(f"update {targets.pop()}")
    return "update_schema"


def check_identifiers(config: Config, plugins: Registry, desired: Desired) -> None:
    """Names longer than any configured database of this family allows are rejected now."""
    if desired.family.identifiers is None:
        return
    limits = []
    for conn in config.connections.values():
        try:
            driver = driver_of(conn, plugins)
        except ConfigError:
            continue  # that driver is not installed here; the database checks names itself
        limit = driver.features.max_identifier_length
        if driver.info.family == desired.family.name and limit:
            limits.append((limit, driver.name))
    if not limits:
        return
    limit, driver_name = min(limits)
    by_table = {table_name(m): m for m in desired.models}
    for owner, n in desired.family.identifiers(desired.state):
        if len(n) > limit:
            model = by_table.get(owner)
            prefix = where(model) if model else f"table {owner}"
            raise ModelError(f"{prefix}: name {n!r} is {len(n)} characters; {driver_name} allows at most {limit}")


def plan(
    config: Config,
    plugins: Registry,
    name: str | None = None,
    models: Sequence[str] = (),
    pivot_separate: bool = False,
) -> list[Planned]:
    """The migrations make:migration would write (one per chain with changes).

    ``models`` (class or table names) limits the SQL migration to those models'
    changes and the pivots between them; the rest stays pending. With
    ``pivot_separate`` the generated pivot tables get a migration of their own,
    after the tables they join."""
    out = []
    stamp = now()
    everything = desired_states(config, plugins)
    chosen = choose_models(everything, models) if models else None
    for family_name, desired in everything.items():
        family = desired.family
        check_identifiers(config, plugins, desired)
        history = replay(config.migrations, family_name, family.empty)
        target, hints = desired.state, desired.hints
        if chosen is not None:
            named = [m for m in desired.models if m in chosen]
            if not named:
                continue
            if family_name != "sql":
                raise ModelError(f"{where(named[0])}: make:migration MODEL... works on SQL models only")
            target, hints = only_models(history.head, desired, named)
        stages = [(target, name)]
        if pivot_separate and family_name == "sql":
            before_pivots = without_new_pivots(history.head, target, set(generated_pivots(desired)))
            if before_pivots != target:
                stages = [(before_pivots, name), (target, f"{name}_pivots" if name else None)]
        state: Any = history.head
        parent = history.last_id
        for stage, stage_name in stages:
            p = _planned(plugins, config.migrations, desired, state, stage, hints, parent, stamp, stage_name)
            if p is None:
                continue
            out.append(p)
            parent, state = p.id, stage
    return out


def generated_pivots(desired: Desired) -> dict[str, set[str]]:
    """{pivot table: the tables it joins} of the pivots no model declares."""
    declared = {table_name(m) for m in desired.models}
    return {n: {fk.ref_table for fk in t.foreign_keys} for n, t in desired.state.tables.items() if n not in declared}


def _planned(
    plugins: Registry,
    migrations: Path,
    desired: Desired,
    head: Any,
    target: Any,
    hints: Any,
    parent: str | None,
    stamp: datetime,
    name: str | None,
) -> Planned | None:
    family_name = desired.family.name
    ops = [op for result in plugins.hook.diff(old=head, new=target, hints=hints) for op in result]
    if not ops:
        return None
    state: Any = head
    for op in ops:
        state = op.state_forwards(state)
    if state.canonical() != target.canonical():  # the diff must reproduce the models exactly
        raise ModelError(f"internal error: the {family_name} diff does not reproduce the models; please report this")
    down = inverse_operations(ops)
    when = stamp
    if parent is not None:
        parent_time = datetime.strptime(parent[:14], STAMP)
        if when <= parent_time:
            when = parent_time + timedelta(seconds=1)
    mid = f"{when.strftime(STAMP)}_{slug(name) if name else derive_name(ops)}"
    path = chain_dir(migrations, family_name) / f"{mid}.py"
    source = render(mid, family_name, parent, ops, down, desired.family.operations_module)
    return Planned(family_name, mid, path, parent, ops, down, source)


def choose_models(everything: dict[str, Desired], names: Sequence[str]) -> set[type[Model]]:
    """The models named on the command line (class or table names)."""
    known: dict[str, type[Model]] = {}
    for desired in everything.values():
        for m in desired.models:
            known[m.__name__] = m
    by_table = {table_name(m): m for desired in everything.values() for m in desired.models}
    chosen = set()
    for n in names:
        model = known.get(n) or by_table.get(n)
        if model is None:
            raise ModelError(f"unknown model {n!r} (known: {', '.join(sorted(known))})")
        chosen.add(model)
    return chosen


def only_models(head: State, desired: Desired, named: list[type[Model]]) -> tuple[State, DiffHints]:
    """The state the migrations have, with only the ``named`` models' tables (and
    the pivots generated between two of them) brought to what the models say."""
    target: State = desired.state
    tables = {table_name(m) for m in named}
    tables |= {p for p, sides in generated_pivots(desired).items() if sides <= tables}
    hints: DiffHints = desired.hints
    out = dict(head.tables)
    for t in tables:
        old = hints.tables.get(t)
        if old is not None:
            out.pop(old, None)
        out[t] = target.tables[t]
    state = State(dict(sorted(out.items())))
    origins = hints.origins
    for t in sorted(tables):
        for fk in state.tables[t].foreign_keys:
            if fk.ref_table not in state.tables:
                owner = next((m for m in desired.models if table_name(m) == fk.ref_table), None)
                hint = f" (model {owner.__name__})" if owner else ""
                raise ModelError(
                    f"{origins.get(t, t)}: foreign key {fk.name} references table {fk.ref_table!r}{hint}, "
                    f"which has no migration yet: name {owner.__name__ if owner else fk.ref_table} too"
                )
    keep = tables | {hints.tables[t] for t in tables if t in hints.tables}
    narrowed = replace(
        hints,
        tables={k: v for k, v in hints.tables.items() if k in keep},
        columns={k: v for k, v in hints.columns.items() if k in keep},
        backfills={k: v for k, v in hints.backfills.items() if k in keep},
    )
    return state, narrowed


def without_new_pivots(head: State, target: State, generated: set[str]) -> State:
    """``target`` with the generated pivot tables as the migrations have them now."""
    tables = {n: t for n, t in target.tables.items() if n not in generated}
    tables |= {n: head.tables[n] for n in generated if n in head.tables}
    return State(dict(sorted(tables.items())))


def write(planned: list[Planned]) -> None:
    for p in planned:
        p.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.path.with_suffix(".tmp")
        tmp.write_text(p.source, encoding="utf-8")
        tmp.replace(p.path)

"""make:migration — diff the models against the replayed history and write the
next migration of each chain. Needs no database; deterministic."""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compile import table_name, where
from .config import Config, ConnectionConfig
from .diff import DiffHints, inverse_operations
from .errors import ConfigError, ModelError
from .history import head, replay
from .migrations import chain_dir, render
from .model import Model
from .naming import slug
from .operations import Operation
from .project import Desired, desired_states
from .registry import Registry
from .state import State
from .targets import driver_of

if TYPE_CHECKING:
    from .driver import Driver

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
    before: Any = None  # the chain's state before this migration


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


def family_drivers(config: Config, plugins: Registry, family: str) -> list[tuple[ConnectionConfig, Driver]]:
    """(connection, driver) of every configured connection of ``family`` whose driver
    loads here. make needs no database and no particular driver: one that is not
    installed, or broken, is passed over (a command that uses it says so)."""
    out = []
    for conn in config.connections.values():
        try:
            driver = driver_of(conn, plugins)
        except ConfigError:
            continue
        if driver.info.family == family:
            out.append((conn, driver))
    return out


def check_identifiers(config: Config, plugins: Registry, desired: Desired) -> None:
    """Names longer than any configured database of this family allows are rejected now."""
    if desired.family.identifiers is None:
        return
    limits = [
        (d.features.max_identifier_length, d.name)
        for _, d in family_drivers(config, plugins, desired.family.name)
        if d.features.max_identifier_length
    ]
    if not limits:
        return
    limit, driver_name = min(limits)
    by_table = {table_name(m): m for m in desired.models}
    for owner, n in desired.family.identifiers(desired.state):
        if len(n) > limit:
            model = by_table.get(owner)
            prefix = where(model) if model else f"table {owner}"
            raise ModelError(f"{prefix}: name {n!r} is {len(n)} characters; {driver_name} allows at most {limit}")


def check_servers(config: Config, plugins: Registry, desired: Desired) -> None:
    """What a configured connection's database (at the server version it declares)
    would refuse in the models is refused now, naming the model, field and connection."""
    by_table = {table_name(m): m for m in desired.models}
    for conn, driver in family_drivers(config, plugins, desired.family.name):
        for refusal in driver.refusals(desired.state, conn.server):
            model = by_table.get(refusal.table)
            prefix = where(model, refusal.field) if model else f"{refusal.table}"
            server = conn.server or f"the oldest server {driver.name} supports"
            raise ModelError(f"{prefix}: {refusal.reason} (connection {conn.name!r}, {server})")
        for table, backfills in desired.hints.backfills.items():
            for column, value in backfills.items():
                problem = driver.value_problem(value)
                if problem:
                    model = by_table.get(table)
                    prefix = where(model, column) if model else f"{table}.{column}"
                    raise ModelError(f"{prefix}: backfill {problem} (connection {conn.name!r})")


def unsupported(
    config: Config, plugins: Registry, family: str, migrations: list[tuple[str, Any, list[Operation]]]
) -> list[str]:
    """One line per operation that a configured connection's driver cannot run (its
    ``Features`` lack what ``Operation.requires`` names). ``migrations`` holds
    (id, the state before it, its up operations)."""
    drivers = family_drivers(config, plugins, family)
    out = []
    for mid, state, ops in migrations:
        for op in ops:
            needs = op.requires(state)
            for conn, driver in drivers:
                lacking = driver.features.lacking(needs)
                if lacking:
                    out.append(
                        f"{family}: {mid}: {op.describe()}: connection {conn.name!r} (driver {driver.name}) "
                        f"cannot run it ({', '.join(f'{flag}=False' for flag in lacking)})"
                    )
            state = op.state_forwards(state)
    return out


def chain_problems(config: Config, plugins: Registry, planned: list[Planned]) -> list[str]:
    """What make:migration --check reports besides differences: every operation of the
    chains on disk and of ``planned`` that a configured connection cannot run."""
    out = []
    chains = [d for d in config.migrations.iterdir() if d.is_dir()] if config.migrations.is_dir() else []
    families = {p.family for p in planned} | {d.name for d in chains if any(d.glob("*.py"))}
    for family_name in sorted(families):
        history = replay(config.migrations, family_name, plugins.family(family_name).empty)
        items = [(m.id, history.states[i], m.up) for i, m in enumerate(history.migrations)]
        items += [(p.id, history.head, p.up) for p in planned if p.family == family_name]
        out += unsupported(config, plugins, family_name, items)
    return out


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
        check_servers(config, plugins, desired)
        head_state, last_id = head(config.migrations, family_name, family.empty)
        target, hints = desired.state, desired.hints
        if chosen is not None:
            named = [m for m in desired.models if m in chosen]
            if not named:
                continue
            if family_name != "sql":
                raise ModelError(f"{where(named[0])}: make:migration MODEL... works on SQL models only")
            target, hints = only_models(head_state, desired, named)
        stages = [(target, name)]
        if pivot_separate and family_name == "sql":
            before_pivots = without_new_pivots(head_state, target, set(generated_pivots(desired)))
            if before_pivots != target:
                stages = [(before_pivots, name), (target, f"{name}_pivots" if name else None)]
        state: Any = head_state
        parent = last_id
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
    when = next_stamp(stamp, parent)
    mid = f"{when.strftime(STAMP)}_{slug(name) if name else derive_name(ops)}"
    path = chain_dir(migrations, family_name) / f"{mid}.py"
    source = render(mid, family_name, parent, ops, down, desired.family.operations_module)
    return Planned(family_name, mid, path, parent, ops, down, source, head)


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


def plan_empty(config: Config, plugins: Registry, name: str, family_name: str = "sql") -> Planned:
    """``make:migration --empty --name NAME``: the next migration of the chain with
    empty ``up`` and ``down`` lists, for hand-written RunSQL/RunPython."""
    families = plugins.families()
    if family_name not in families:
        family = plugins.family(family_name)  # loads a driver that contributes it, or says none does
    else:
        family = families[family_name]
    history = replay(config.migrations, family_name, family.empty)
    when = next_stamp(now(), history.last_id)
    mid = f"{when.strftime(STAMP)}_{slug(name)}"
    path = chain_dir(config.migrations, family_name) / f"{mid}.py"
    source = render(mid, family_name, history.last_id, [], [], family.operations_module)
    source = source.replace(
        "\nup = []\n",
        "\n# Written by hand: op.RunSQL(sql, reverse_sql) or op.RunPython(forward, backward), in order.\nup = []\n",
    )
    return Planned(family_name, mid, path, history.last_id, [], [], source)


def next_stamp(when: datetime, parent: str | None) -> datetime:
    """``when``, or one second after the parent's time if that is not later."""
    if parent is not None:
        parent_time = datetime.strptime(parent[:14], STAMP)
        if when <= parent_time:
            return parent_time + timedelta(seconds=1)
    return when


def write(planned: list[Planned]) -> None:
    for p in planned:
        p.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.path.with_suffix(".tmp")
        tmp.write_text(p.source, encoding="utf-8")
        tmp.replace(p.path)

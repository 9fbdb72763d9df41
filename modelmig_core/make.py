"""make:migration — diff the models against the replayed history and write the
next migration of each chain. Needs no database; deterministic."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .compile import table_name, where
from .config import Config
from .diff import inverse_operations
from .errors import ConfigError, ModelError
from .history import head, replay
from .migrations import chain_dir, render
from .naming import slug
from .operations import Operation
from .project import Desired, desired_states
from .registry import Registry
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


def family_drivers(config: Config, plugins: Registry, family: str) -> list[tuple[str, Driver]]:
    """(connection name, driver) of every configured connection of ``family`` whose
    driver loads here. make needs no database and no particular driver: one that is
    not installed, or broken, is passed over (a command that uses it says so)."""
    out = []
    for conn in config.connections.values():
        try:
            driver = driver_of(conn, plugins)
        except ConfigError:
            continue
        if driver.info.family == family:
            out.append((conn.name, driver))
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
    for conn in config.connections.values():
        try:
            driver = driver_of(conn, plugins)
        except ConfigError:
            continue  # not installed here: that database checks for itself
        if driver.info.family != desired.family.name:
            continue
        for refusal in driver.refusals(desired.state, conn.server):
            model = by_table.get(refusal.table)
            prefix = where(model, refusal.field) if model else f"{refusal.table}"
            server = conn.server or f"the oldest server {driver.name} supports"
            raise ModelError(f"{prefix}: {refusal.reason} (connection {conn.name!r}, {server})")


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
                        f"{family}: {mid}: {op.describe()}: connection {conn!r} (driver {driver.name}) "
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


def plan(config: Config, plugins: Registry, name: str | None = None) -> list[Planned]:
    """The migrations make:migration would write (one per chain with changes)."""
    out = []
    stamp = now()
    for family_name, desired in desired_states(config, plugins).items():
        family = desired.family
        check_identifiers(config, plugins, desired)
        check_servers(config, plugins, desired)
        head_state, parent = head(config.migrations, family_name, family.empty)
        ops = [
            op for result in plugins.hook.diff(old=head_state, new=desired.state, hints=desired.hints) for op in result
        ]
        if not ops:
            continue
        state: Any = head_state
        for op in ops:
            state = op.state_forwards(state)
        if state.canonical() != desired.state.canonical():  # the diff must reproduce the models exactly
            raise ModelError(
                f"internal error: the {family_name} diff does not reproduce the models; please report this"
            )
        down = inverse_operations(ops)
        when = next_stamp(stamp, parent)
        mid = f"{when.strftime(STAMP)}_{slug(name) if name else derive_name(ops)}"
        path = chain_dir(config.migrations, family_name) / f"{mid}.py"
        source = render(mid, family_name, parent, ops, down, family.operations_module)
        out.append(Planned(family_name, mid, path, parent, ops, down, source, head_state))
    return out


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

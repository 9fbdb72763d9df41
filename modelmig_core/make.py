"""make:migration — diff the models against the replayed history and write the
next migration of each chain. Needs no database; deterministic.

Each chain is made from its own models, in its own folder, and refused only by
what its own connections' drivers lack: a DuckDB analytics chain
(``[chains.analytics]``) does not make the main chain give up what DuckDB has not."""

from __future__ import annotations

import importlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .config import Chain, Config, ConnectionConfig
from .driver import Driver, Features, PlanContext, Refusal, Step, refusals_of
from .errors import ConfigError, ModelError
from .history import nochange
from .history.migrations import render
from .history.project import Desired, desired_states, found_models
from .history.replay import chain_head, replay_chain
from .model.compile import check_view_columns, table_name, where
from .model.dsl import Model, is_view
from .registry import Registry
from .schema.diff import DiffHints, inverse_operations
from .schema.operations import AlterColumn, CreateView, Operation, ReplaceView, RunPython
from .schema.operations.members import AddMember
from .schema.state import Column, State
from .targets import chain_map, driver_of
from .vocabulary.column_types import FRACTIONAL_TYPES
from .vocabulary.kinds import kind_of
from .vocabulary.naming import slug

STAMP = "%Y%m%d%H%M%S"
#: the package of the core's own operations (a driver's ``operation_names`` name them)
BUILTIN_OPERATIONS = "modelmig_core.schema.operations."


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
    chain: str = ""  # the chain's name (a default chain's is its family's)

    @property
    def chain_name(self) -> str:
        return self.chain or self.family


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
    # a plugin kind's member added to a table created in the same migration is part
    # of creating it (CreateTable holds the core's kinds, a plugin's follow it)
    created = {o.subject for o in ops if o.creates == "table"}
    ops = [o for o in ops if not (isinstance(o, AddMember) and o.subject in created)]
    if len(ops) == 1:
        return slug(ops[0].name_hint())
    kinds = {o.creates for o in ops}
    if len(kinds) == 1 and None not in kinds:
        return slug("create " + " ".join(str(o.subject) for o in ops) + f" {kinds.pop()}s")
    targets = {o.subject for o in ops}
    if len(targets) == 1 and None not in targets:
        return slug(f"update {targets.pop()}")
    return "update_schema"


def chain_of(config: Config, desired: Desired) -> Chain:
    """The chain ``desired`` is of: its declared chain, or its family's default."""
    return desired.chain or Chain.default(config.migrations, desired.family.name)


def chain_drivers(config: Config, plugins: Registry, chain: Chain) -> list[tuple[ConnectionConfig, Driver]]:
    """(connection, driver) of every configured connection of ``chain`` whose driver
    loads here: a declared chain's own connections; for the default chain of a
    family, the connections of that family in no declared chain. make needs no
    database and no particular driver: one that is not installed, or broken, is
    passed over (a command that uses it says so)."""
    chained = {c for spec in config.chains.values() for c in spec.connections}
    out = []
    for conn in config.connections.values():
        if (conn.name in chain.connections) if chain.declared else (conn.name not in chained):
            try:
                driver = driver_of(conn, plugins)
            except ConfigError:
                continue
            if driver.info.family == chain.family:
                out.append((conn, driver))
    return out


class Line(str):
    """One line of make's refusals, and the connection it is about (None: every one)."""

    connection: str | None = None

    @classmethod
    def on(cls, text: str, connection: str | None) -> Line:
        line = cls(text)
        line.connection = connection
        return line


class Refused(ModelError):
    """make:migration's refusals, every one of them (``lines``, one line each,
    naming the connection, the driver, the model or table and field, and what to
    do): nothing is written while there is one. The message is the first line."""

    def __init__(self, lines: list[str]) -> None:
        more = f" (and {len(lines) - 1} more refusal(s))" if len(lines) > 1 else ""
        super().__init__(lines[0] + more)
        self.lines = lines

    def summary(self, written: str = "no migration was written") -> str:
        """The closing line: how many refusals, over which connections."""
        names = sorted({c for c in (getattr(line, "connection", None) for line in self.lines) if c is not None})
        over = f" over connection(s) {', '.join(repr(n) for n in names)}" if names else ""
        return f"{len(self.lines)} refusal(s){over}: {written}; fix each line above and make again"


def check_identifiers(config: Config, plugins: Registry, desired: Desired) -> list[str]:
    """Names longer than any configured database of this family allows, one line each."""
    if desired.family.identifiers is None:
        return []
    limits = [
        (d.features.max_identifier_length, d.name)
        for _, d in chain_drivers(config, plugins, chain_of(config, desired))
        if d.features.max_identifier_length
    ]
    if not limits:
        return []
    limit, driver_name = min(limits)
    by_table = {table_name(m): m for m in desired.models}
    out = []
    for owner, n in desired.family.identifiers(desired.state):
        if len(n) > limit:
            model = by_table.get(owner)
            prefix = where(model) if model else f"table {owner}"
            out.append(f"{prefix}: name {n!r} is {len(n)} characters; {driver_name} allows at most {limit}")
    return out


def renders_type(plugins: Registry, driver: Driver, column: Column) -> bool:
    """Whether ``driver`` can write ``column``'s type: its type table or the type's
    own ``ddl`` (``Driver.renders``), else a ``render_column`` hook that answers for
    the driver's SQLAlchemy dialect. (The one place make asks.)"""
    if driver.renders(column.type):
        return True
    dialect = getattr(driver, "dialect", None)
    if not dialect:
        return True  # not a SQLAlchemy dialect: the driver's own family checks its types
    try:
        return plugins.hook.render_column(column=column, dialect=dialect) is not None
    except Exception:  # noqa: BLE001 - a plugin that fails on the column does not render it
        return False


def type_refusals(plugins: Registry, driver: Driver, state: Any) -> list[Refusal]:
    """Every column whose type ``driver`` cannot write."""
    if not isinstance(state, State):
        return []
    rendered: set[str] = set()  # the types the driver's own table answers for (asked once each)
    out = []
    for t in state.tables.values():
        for c in t.columns:
            if c.type in rendered:
                continue
            if driver.renders(c.type):
                rendered.add(c.type)
            elif not renders_type(plugins, driver, c):
                out.append(
                    Refusal(
                        t.name,
                        c.name,
                        f"column type {c.type!r} has no rendering for {driver.name}: install or configure the "
                        f"plugin that renders it for {driver.name}, or use another type",
                    )
                )
    return out


#: what makes an AlterColumn a type change
_TYPED = ("type", "length", "precision", "scale", "values", "use_tz", "array")


def _type_of(col: Column) -> str:
    args = [str(a) for a in (col.length, col.precision, col.scale) if a is not None]
    return f"{col.type}({', '.join(args)})" if args else col.type


def feature_refusals(features: Features, state: Any, steps: Sequence[Step] = ()) -> list[Refusal]:
    """What the models use (``state``) or the planned ``steps`` change that
    ``features`` says the driver lacks: foreign keys, unique keys, auto-increment
    keys, checks; type changes of existing columns."""
    if not isinstance(state, State):
        return []  # another family's state: its driver says what it refuses
    out = []
    if not features.materialized_views:
        out += [
            Refusal(
                v.name,
                "materialized",
                f"materialized view {v.name}: the database has no materialized views (materialized_views=False); "
                "make it a plain view (leave materialized out)",
            )
            for v in state.views.values()
            if v.materialized
        ]
    for t in state.tables.values():
        if not features.foreign_keys:
            out += [
                Refusal(
                    t.name,
                    fk.columns[0] if len(fk.columns) == 1 else None,
                    f"foreign key {fk.name}: the driver has no foreign keys (foreign_keys=False); "
                    'remove it from database["foreign_keys"]',
                )
                for fk in t.foreign_keys
            ]
        if not features.unique_constraints:
            keys = [(u.name, u.columns) for u in t.uniques] + [(i.name, i.columns) for i in t.indexes if i.unique]
            out += [
                Refusal(
                    t.name,
                    columns[0] if len(columns) == 1 else None,
                    f"unique key {name}: the driver has no unique constraints (unique_constraints=False); "
                    'remove unique=True or the database["unique"] entry',
                )
                for name, columns in keys
            ]
        if not features.increments:
            out += [
                Refusal(
                    t.name,
                    c.name,
                    "an auto-increment key: the driver has no auto-increment (increments=False); "
                    'declare column("integer", primary=True) and set the keys yourself',
                )
                for c in t.columns
                if c.autoincrement
            ]
        if not features.arrays:
            out += [
                Refusal(t.name, c.name, f"an array of {c.type}: the database has no array columns (arrays=False)")
                for c in t.columns
                if c.array
            ]
        if not features.fractional_seconds:
            out += [
                Refusal(
                    t.name,
                    c.name,
                    f"fractional seconds precision {c.precision}: the database keeps none of its own "
                    "(fractional_seconds=False); leave the precision out",
                )
                for c in t.columns
                if c.type in FRACTIONAL_TYPES and c.precision is not None
            ]
        if not features.check_constraints:
            out += [
                Refusal(
                    t.name,
                    None,
                    f"check {ck.name}: the driver has no check constraints (check_constraints=False); "
                    'remove it from database["checks"]',
                )
                for ck in t.checks
            ]
    if not features.alter_column_type:
        for step in steps:
            op = step.op
            if isinstance(op, AlterColumn) and any(getattr(op.old, k) != getattr(op.new, k) for k in _TYPED):
                out.append(
                    Refusal(
                        op.table,
                        op.old.name,
                        f"its type changes ({_type_of(op.old)} to {_type_of(op.new)}): the driver cannot change "
                        "a column's type (alter_column_type=False); keep the type, or add a new column and "
                        "drop the old one",
                    )
                )
    return out


def sql_text_refusals(driver: Driver, state: Any, source: str) -> list[Refusal]:
    """The models' SQL text (written in ``source``, the chain's ``sql_dialect``)
    that cannot be written faithfully in ``driver``'s dialect (``schema.transpile``)."""
    from .schema import transpile

    target = getattr(driver, "sqlglot_dialect", None)
    if target is None:
        return []  # not a SQL driver: its family reads no SQL text
    if source and not transpile.known_dialect(source):
        return [Refusal("", None, f"sql_dialect {source!r} is no SQL dialect sqlglot knows")]
    return [
        Refusal(item.table, item.field, f"{item.what} ({item.text!r}) {why}")
        for item, why in transpile.refusals(state, source, target)
    ]


def _steps(planned: Sequence[Planned]) -> list[Step]:
    """The planned migrations' up operations as steps, each with its states."""
    out = []
    for p in planned:
        state = p.before
        for op in p.up:
            after = op.state_forwards(state)
            out.append(Step(op, state, after))
            state = after
    return out


def _down_steps(p: Planned) -> list[Step]:
    """A planned migration's down operations as steps, from the state its up leaves."""
    state = p.before
    for op in p.up:
        state = op.state_forwards(state)
    out = []
    for op in p.down:
        after = op.state_forwards(state)
        out.append(Step(op, state, after))
        state = after
    return out


def check_servers(config: Config, plugins: Registry, desired: Desired, planned: Sequence[Planned] = ()) -> list[str]:
    """Every refusal of every configured connection of the family, one line each,
    naming the model, field, connection and driver: a column type the driver cannot
    write, what the models use or the ``planned`` steps change that its features
    lack, what its database (at the server version the connection declares) would
    refuse, and backfills it cannot hold."""
    by_table = {table_name(m): m for m in desired.models}
    steps = _steps(planned)
    out = []
    chain = chain_of(config, desired)
    for conn, driver in chain_drivers(config, plugins, chain):
        server = f"server {conn.server}" if conn.server else f"the oldest server {driver.name} supports"
        found = [(r, "") for r in type_refusals(plugins, driver, desired.state)]
        found += [(r, "") for r in feature_refusals(driver.features, desired.state, steps)]
        found += [(r, f", {server}") for r in refusals_of(driver, desired.state, conn.server, steps)]
        found += [(r, "") for r in sql_text_refusals(driver, desired.state, config.sql_dialect_of(chain))]
        for refusal, at in found:
            model = by_table.get(refusal.table)
            prefix = where(model, refusal.field) if model else f"table {refusal.table}"
            if not model and refusal.field:
                prefix += f", field {refusal.field!r}"
            text = f"{prefix}: {refusal.reason} (connection {conn.name!r}, driver {driver.name}{at})"
            out.append(Line.on(text, conn.name))
        for table, backfills in desired.hints.backfills.items():
            for column, value in backfills.items():
                problem = driver.value_problem(value)
                if problem:
                    model = by_table.get(table)
                    prefix = where(model, column) if model else f"{table}.{column}"
                    text = f"{prefix}: backfill {problem} (connection {conn.name!r}, driver {driver.name})"
                    out.append(Line.on(text, conn.name))
    return out


def unsupported(
    config: Config, plugins: Registry, chain: Chain, migrations: list[tuple[str, Any, list[Operation]]]
) -> list[str]:
    """One line per operation that a connection of ``chain`` cannot run (its
    driver's ``Features`` lack what ``Operation.requires`` names). ``migrations``
    holds (id, the state before it, its up operations)."""
    drivers = chain_drivers(config, plugins, chain)
    out = []
    for mid, state, ops in migrations:
        for op in ops:
            needs = op.requires(state)
            for conn, driver in drivers:
                lacking = driver.features.lacking(needs)
                if lacking:
                    text = (
                        f"{chain.name}: {mid}: {op.describe()}: connection {conn.name!r} (driver {driver.name}) "
                        f"cannot run it ({', '.join(f'{flag}=False' for flag in lacking)}): change the models "
                        "so that no such step is needed"
                    )
                    out.append(Line.on(text, conn.name))
                elif not renders_operation(driver, op):
                    why = _no_implementation(driver, op)
                    text = (
                        f"{chain.name}: {mid}: {op.describe()}: connection {conn.name!r}{why}: change the models "
                        "so that no such step is needed"
                    )
                    out.append(Line.on(text, conn.name))
            state = op.state_forwards(state)
    return out


def _no_implementation(driver: Driver, op: Operation) -> str:
    """Why ``driver`` cannot run ``op``, after the connection's name: a plugin kind's
    operation names the kind and the driver."""
    kind = kind_of(type(op))
    if kind is not None and not kind.builtin:
        return f": driver {driver.name} has no implementation of kind {kind.name!r} ({type(op).__qualname__})"
    return f" (driver {driver.name}) cannot run it (its renderer has no implementation of {type(op).__qualname__})"


def renders_operation(driver: Driver, op: Operation) -> bool:
    """Whether a SQL driver's renderer (its ``renderer_class``) has an
    implementation of ``op``'s class (``Renderer.implements``). RunPython is run
    by the session, never rendered; a driver without a renderer answers through
    its ``Features``."""
    module, _, name = str(getattr(driver, "renderer_class", "")).partition(":")
    if not module or isinstance(op, RunPython):
        return True
    declared = getattr(driver, "operation_names", None)  # said without importing the renderer
    if declared and type(op).__module__.startswith(BUILTIN_OPERATIONS) and type(op).__qualname__ in declared:
        return True
    return bool(getattr(importlib.import_module(module), name).implements(type(op)))


def chain_problems(config: Config, plugins: Registry, planned: list[Planned]) -> list[str]:
    """What make:migration --check reports besides differences and refusals: every
    operation of the chains on disk that a connection of its chain cannot run (the
    ``planned`` ones are make's refusals: ``plan_refusals``)."""
    declared = chain_map(config, plugins).declared if config.chains else {}
    folders = {c.folder for c in declared.values()}
    chains: dict[Path, Chain] = {c.folder: c for c in declared.values() if c.folder.is_dir()}
    on_disk = [d for d in config.migrations.iterdir() if d.is_dir()] if config.migrations.is_dir() else []
    for d in on_disk:
        if d not in folders and any(d.glob("*.py")):
            chains[d] = Chain.default(config.migrations, d.name)
    for p in planned:
        if p.path.parent not in chains:
            chains[p.path.parent] = declared.get(p.chain_name) or Chain.default(config.migrations, p.family)
    out = []
    for chain in sorted(chains.values(), key=lambda c: c.name):
        history = replay_chain(chain, plugins.family(chain.family).empty)
        items = [(m.id, history.states[i], m.up) for i, m in enumerate(history.migrations)]
        out += unsupported(config, plugins, chain, items)
    return out


def plan(
    config: Config,
    plugins: Registry,
    name: str | None = None,
    models: Sequence[str] = (),
    pivot_separate: bool = False,
) -> list[Planned]:
    """The migrations make:migration would write (one per chain with changes).
    Raises ``Refused`` with every refusal (``plan_refusals``) when there is one.

    ``models`` (class or table names) limits the SQL migration to those models'
    changes and the pivots between them; the rest stays pending. With
    ``pivot_separate`` the generated pivot tables get a migration of their own,
    after the tables they join."""
    planned, refusals = plan_refusals(config, plugins, name, models, pivot_separate)
    if refusals:
        raise Refused(refusals)
    return planned


def plan_refusals(
    config: Config,
    plugins: Registry,
    name: str | None = None,
    models: Sequence[str] = (),
    pivot_separate: bool = False,
    memo: bool = True,
    known: tuple[dict[type[Model], set[str]], str | None, bool] | None = None,
) -> tuple[list[Planned], list[str]]:
    """``plan``'s migrations, and every refusal of every configured connection of
    their families, one line each: names too long, types a driver cannot write,
    what the models use or the planned steps change that a driver's features
    lack, what the servers would refuse, and the planned operations a driver
    cannot run (``Operation.requires``). ``memo``: answer "no changes" from make's
    memo when nothing it depends on changed (``history/nochange.py``); ``known``:
    what ``nochange.known`` answered, when the caller asked it first."""
    out = []
    refusals: list[str] = []
    stamp = now()
    if known is None:
        if memo and not models:
            known = nochange.known(config, plugins)
        else:
            known = (found_models(config), None, False)
    found, memo_key, unchanged = known
    if unchanged:
        return [], []  # the models and migrations are as they were when make last found no change
    everything = desired_states(config, plugins, found)
    chosen = choose_models(everything, models) if models else None
    for desired in everything.values():
        family = desired.family
        family_name = family.name
        chain = chain_of(config, desired)
        refusals += check_identifiers(config, plugins, desired)
        head_state, last_id = chain_head(chain, family.empty)
        target, hints = desired.state, desired.hints
        mine: list[Planned] = []
        if chosen is not None:
            named = [m for m in desired.models if m in chosen]
            if not named:
                refusals += check_servers(config, plugins, desired)
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
            p = _planned(plugins, chain, desired, state, stage, hints, parent, stamp, stage_name)
            if p is None:
                continue
            mine.append(p)
            parent, state = p.id, stage
        refusals += check_servers(config, plugins, desired, mine)
        refusals += online_refusals(config, plugins, chain, mine)
        refusals += unsupported(config, plugins, chain, [(p.id, p.before, p.up) for p in mine])
        out += mine
    if memo and not models and not out and not refusals:
        memo_key = memo_key or nochange.make_key(config, plugins, found)
        if memo_key is not None:
            nochange.remember(config, memo_key)
    return out, refusals


def generated_pivots(desired: Desired) -> dict[str, set[str]]:
    """{pivot table: the tables it joins} of the pivots no model declares."""
    declared = {table_name(m) for m in desired.models}
    return {n: {fk.ref_table for fk in t.foreign_keys} for n, t in desired.state.tables.items() if n not in declared}


def _planned(
    plugins: Registry,
    chain: Chain,
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
    created = {op.view.name for op in ops if isinstance(op, CreateView)}
    created |= {op.new.name for op in ops if isinstance(op, ReplaceView)}
    if created:  # a view made again must read columns that exist
        models = {table_name(m): m for m in desired.models if is_view(m)}
        check_view_columns(target.views, target.tables, models, created & set(models))
    state: Any = head
    for op in ops:
        state = op.state_forwards(state)
    if state.canonical() != target.canonical():  # the diff must reproduce the models exactly
        raise ModelError(f"internal error: the {family_name} diff does not reproduce the models; please report this")
    down = inverse_operations(ops)
    when = next_stamp(stamp, parent)
    mid = f"{when.strftime(STAMP)}_{slug(name) if name else derive_name(ops)}"
    path = chain.folder / f"{mid}.py"
    source = render(mid, family_name, parent, ops, down, desired.family.operations_module)
    return Planned(family_name, mid, path, parent, ops, down, source, head, chain.name)


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
    tables = {table_name(m) for m in named if not is_view(m)}
    tables |= {p for p, sides in generated_pivots(desired).items() if sides <= tables}
    hints: DiffHints = desired.hints
    out = dict(head.tables)
    for t in tables:
        old = hints.tables.get(t)
        if old is not None:
            out.pop(old, None)
        out[t] = target.tables[t]
    views = dict(head.views)  # the named view models' views as the models say, the others as they are
    views.update({v: target.views[v] for v in (table_name(m) for m in named if is_view(m))})
    state = State(dict(sorted(out.items())), dict(sorted(views.items())))
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
    return State(dict(sorted(tables.items())), target.views)


def plan_empty(
    config: Config, plugins: Registry, name: str, family_name: str = "sql", chain_name: str | None = None
) -> Planned:
    """``make:migration --empty --name NAME``: the next migration of the chain with
    empty ``up`` and ``down`` lists, for hand-written RunSQL/RunPython: the
    declared chain ``chain_name``, else the default chain of ``family_name``."""
    if chain_name is not None:
        chain = chain_map(config, plugins).named(chain_name)
        family_name = chain.family
    else:
        chain = Chain.default(config.migrations, family_name)
    families = plugins.families()
    if family_name not in families:
        family = plugins.family(family_name)  # loads a driver that contributes it, or says none does
    else:
        family = families[family_name]
    history = replay_chain(chain, family.empty)
    when = next_stamp(now(), history.last_id)
    mid = f"{when.strftime(STAMP)}_{slug(name)}"
    path = chain.folder / f"{mid}.py"
    source = render(mid, family_name, history.last_id, [], [], family.operations_module)
    source = source.replace(
        "\nup = []\n",
        "\n# Written by hand: op.RunSQL(sql, reverse_sql) or op.RunPython(forward, backward), in order.\nup = []\n",
    )
    return Planned(family_name, mid, path, history.last_id, [], [], source, chain=chain.name)


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


def plan_context(conn: ConnectionConfig, sql_dialect: str = "") -> PlanContext:
    """The plan context a connection's configuration asks for (``online`` and its
    timeouts), with the dialect its chain's model SQL is written in."""
    return PlanContext(
        conn.online,
        conn.lock_timeout,
        conn.statement_timeout,
        conn.lock_retries,
        server=conn.server,
        sql_dialect=sql_dialect,
    )


def online_refusals(config: Config, plugins: Registry, chain: Chain, planned: Sequence[Planned]) -> list[str]:
    """The changes that have no lock-safe form on a connection with ``online =
    true`` (a type change that rewrites the table, a volatile default, a column
    drop, a MySQL change only a table copy can do): what ``run.lint.unsafe_online``
    finds in the online plan, rendered from the states alone. One line each,
    naming the model change, the rule and the statement; such a change is written
    as a migration of its own that acknowledges it (``lint_ignore``)."""
    from .errors import ModelmigError
    from .run.lint import DROP_COLUMN, unsafe_online

    out: list[str] = []
    for p in planned:
        steps = _steps([p])
        for conn, driver in chain_drivers(config, plugins, chain):
            if not conn.online:
                continue
            try:
                statements = driver.plan_offline(steps, plugins.hook, plan_context(conn, config.sql_dialect_of(chain)))
            except ModelmigError:  # what only the live database settles: said by the lint, not here
                continue
            if statements is None:
                continue
            for u in unsafe_online(driver, conn.server, conn.name, p.id, statements, before=p.before):
                f = u.lint
                if u.rule == DROP_COLUMN:
                    text = (
                        f"{u.change}: connection {conn.name!r} is online but a column drop has no "
                        "safe online form (ban-drop-column: clients that still read or write the column fail "
                        "once it is gone); stop every client using it first, then drop it in a migration of "
                        "its own (make:migration --empty) that acknowledges it with "
                        'lint_ignore = {"ban-drop-column": "<why it is acceptable>"}'
                    )
                else:
                    text = (
                        f"{u.change}: connection {conn.name!r} is online but this change has no lock-safe form on "
                        f"{driver.name} ({f.rule}: {' '.join(f.statement.split())}: {f.finding.cost.describe()}: "
                        f"{f.finding.why}); make it a migration of its own (make:migration --empty) that "
                        f'acknowledges it with lint_ignore = {{"{f.rule}": "<why it is acceptable>"}}, or '
                        f"{f.finding.safe_form}"
                    )
                out.append(Line.on(text, conn.name))
    return out


def lint_written(config: Config, plugins: Registry, planned: Sequence[Planned]) -> list[str]:
    """The lint of each written migration for every configured connection of its
    chain, without a connection: its steps rendered from the states alone by
    each driver (``Driver.plan_offline``) and costed at the server the connection
    declares (the driver's oldest when it declares none). One line per finding,
    naming the connection, the migration, the rule, the statement, the lock and
    the safe form; a driver that cannot render without a connection is passed over.
    The down plan is linted too on an online connection, its lines marked ``(down)``: on an online
    connection what has no lock-safe form there (a column drop, a rewrite) is what
    ``migrate:rollback`` will refuse unless the migration acknowledges it."""
    from .errors import ModelmigError
    from .run.lint import DROP_COLUMN, lint_statements, touches_new_table, unsafe_online

    lines: list[str] = []
    declared = chain_map(config, plugins).declared if config.chains else {}
    for p in planned:
        chain = declared.get(p.chain_name) or Chain.default(config.migrations, p.family)
        connections = chain_drivers(config, plugins, chain)
        directions = [("up", _steps([p]))]
        if any(conn.online for conn, _ in connections):  # the down plan is linted on online connections only
            directions.append(("down", _down_steps(p)))
        for direction, steps in directions:
            # the tables the migration creates are its own in both directions: empty when made, dropped when undone
            before = p.before
            existing = set(getattr(before, "tables", None) or ())
            if all(touches_new_table(s, existing) for s in steps):  # new tables only: nothing to lock, nothing rendered
                continue
            for conn, driver in connections:
                if direction == "down" and not conn.online:
                    continue  # a rollback's lint matters where rollback refuses what has no lock-safe form
                try:
                    statements = driver.plan_offline(
                        steps, plugins.hook, plan_context(conn, config.sql_dialect_of(chain))
                    )
                except ModelmigError as exc:  # what only the live database settles (a view): said, not fatal
                    lines.append(f"{conn.name}: {p.id}{' (down)' if direction == 'down' else ''}: not linted: {exc}")
                    continue
                if statements is None:
                    continue
                atomic = not (conn.online and driver.features.transactional_ddl)
                found = lint_statements(driver, conn.server, conn.name, p.id, statements, atomic=atomic, before=before)
                if direction == "down" and conn.online:
                    unsafe = unsafe_online(driver, conn.server, conn.name, p.id, statements, before=before)
                    found = [u.lint for u in unsafe if u.rule == DROP_COLUMN] + found
                for finding in found:
                    line = replace(finding, direction=direction).line()
                    if direction == "down" and conn.online and _refused_down(finding):
                        line += (
                            f"; migrate:rollback refuses it on online connection {conn.name!r} unless the migration "
                            f'acknowledges it: lint_ignore = {{"{finding.rule}": "<why it is acceptable>"}}'
                        )
                    lines.append(line)
    return lines


def _refused_down(finding: Any) -> bool:
    """Whether a down plan's finding has no lock-safe form (what rollback refuses online)."""
    from .run.lint import DROP_COLUMN

    cost = finding.finding.cost
    return bool(finding.rule == DROP_COLUMN or cost.rewrites or cost.scans)

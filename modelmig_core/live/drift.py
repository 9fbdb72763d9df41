"""Drift: how the live schema differs from the state the applied migrations add
up to (``migrate:status --drift``, and the check before ``migrate:baseline``).

The live schema is the driver's ``reflect``; the expected one is the replay of
the chain through the migrations the ledger says are applied. Both are brought
to what the database can hold (``Driver.comparable``), then compared by the
family: each difference is one ``Difference`` naming the object (missing: the
migrations have it and the database does not; extra: the other way round;
changed). Tables (or collections) that no model and no migration knows are
listed apart, as unmanaged, not as drift; modelmig's own ledger is neither. So
are the objects outside what the models hold (views, triggers, functions,
sequences..., the driver's ``Reflection.unmanaged_objects``): named, never drift.

The relational comparison is ``differences.compare_relational``; a family compares
its own states through ``Family.compare`` (the mongo driver's document family:
validators field by field). A family without one is compared as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import MigrationFileError, ModelmigError
from ..schema.differences import Comparison, Difference, compare_whole
from ..schema.views import Unmanaged, unmanaged_summary

if TYPE_CHECKING:
    from ..history.replay import History
    from ..model.family import Family
    from ..run.runner import Runner


# ---------------------------------------------------------------- drift of one connection


@dataclass
class DriftReport:
    connection: str
    driver: str
    test: bool
    through: str | None  # the last applied migration compared against
    differences: list[Difference] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    unmanaged_kind: str = "table"
    #: the objects outside what the models hold (views, triggers, functions, ...)
    objects: list[Unmanaged] = field(default_factory=list)

    @property
    def drifted(self) -> bool:
        return bool(self.differences)

    def as_json(self) -> dict[str, Any]:
        return {
            "through": self.through,
            "drift": [d.as_json() for d in self.differences],
            "unmanaged": [{"kind": self.unmanaged_kind, "name": n} for n in self.unmanaged]
            + [o.as_json() for o in self.objects],
        }

    def lines(self) -> list[str]:
        through = f" (through {self.through})" if self.through else " (no migration applied)"
        if not self.differences:
            out = [f"drift: none: the live schema matches the applied migrations{through}"]
        else:
            out = [f"drift: {len(self.differences)} difference(s) from the applied migrations{through}:"]
            out += [f"  {d.line}" for d in self.differences]
        out += [f"unmanaged {self.unmanaged_kind} {n} (no model or migration knows it)" for n in self.unmanaged]
        if self.objects:
            out.append(f"unmanaged: {unmanaged_summary(self.objects)} (not drift; the models cannot hold them)")
            out += [printable(f"unmanaged {o.line}") for o in self.objects]
        return out


def printable(text: str) -> str:
    """``text`` for one line of output: a character that is not printable (a line
    break in a name from the database) written as its escape."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def live_objects(runner: Runner) -> list[Unmanaged]:
    """The objects of the runner's live database outside what the models hold
    (its driver's ``Reflection.unmanaged_objects``); none for a driver without a
    SQL reflection."""
    return objects_of(runner.driver, runner.connection)


def objects_of(driver: Any, session: Any) -> list[Unmanaged]:
    reflection = getattr(driver, "reflection", None)
    if reflection is None or not driver.features.sql:
        return []
    return list(reflection(session).objects())


def state_through(history: History, applied: set[str]) -> Any:
    """The state the ``applied`` migrations of the chain add up to, in chain order."""
    state = history.empty()
    for i, m in enumerate(history.migrations):
        if m.id not in applied:
            continue
        if all(x.id in applied for x in history.migrations[: i + 1]):
            state = history.states[i + 1]
            continue
        for op in m.up:
            state = op.state_forwards(state)
    return state


def known_names(family: Family, expected: Any, live: Any, runner: Runner) -> set[str]:
    """Every table (collection) the expected state, any migration of the chain or
    any model knows. The chain is replayed and the models imported only when the
    live database has a name the expected state does not know."""
    names_of = family.names or (lambda s: getattr(s, "tables", {}))
    out = set(names_of(expected))
    live_names = set(names_of(live))
    if live_names - out:
        for state in runner.history().states:
            out.update(names_of(state))
    if live_names - out:
        state = models_state(runner, family)
        if state is not None:
            out.update(names_of(state))
    return out


def models_state(runner: Runner, family: Family) -> Any:
    """What the app's models of this family ask for (None when it has no models)."""
    from ..history.project import desired_states

    desired = desired_states(runner.config, runner.registry).get(runner.chain.name)
    return desired.state if desired is not None and desired.models else None


def compare_live(runner: Runner, expected: Any, family: Family) -> Comparison:
    """The runner's live schema against ``expected``, both made comparable by its driver."""
    driver = runner.driver
    try:
        live = driver.reflect(runner.connection)
    except NotImplementedError as exc:
        raise ModelmigError(f"{runner.target.name}: {exc}") from None
    compare = family.compare or compare_whole(family.name)
    known = known_names(family, expected, live, runner)
    expected = views_for(expected, runner.config.sql_dialect_of(runner.chain), driver)
    target = getattr(driver, "sqlglot_dialect", None)
    if target is not None:  # the models' SQL text as this database reads it
        from ..schema.transpile import state_for

        expected = state_for(expected, runner.config.sql_dialect_of(runner.chain), target)
    return compare(driver.comparable(expected), driver.comparable(live), known)


def views_for(state: Any, source: str, driver: Any) -> Any:
    """``state`` with its views' SELECTs written in ``driver``'s dialect (from the
    chain's ``sql_dialect``), as the driver created them; one that has no faithful
    form is left as written (make refused it)."""
    views = getattr(state, "views", None)
    target = getattr(driver, "sqlglot_dialect", None)
    if not views or target is None:
        return state
    from dataclasses import replace

    from ..schema.transpile import NotFaithful, transpile

    out = {}
    for name, view in views.items():
        try:
            out[name] = replace(view, select=transpile(view.select, source, target, query=True))
        except NotFaithful:
            out[name] = view
    return replace(state, views=out)


def managed_views(objects: list[Unmanaged], state: Any) -> list[Unmanaged]:
    """``objects`` but the views ``state`` holds (a view model's view is managed)."""
    views = getattr(state, "views", None) or {}

    def managed(o: Unmanaged) -> bool:
        view = views.get(o.name)
        return view is not None and o.kind == ("materialized view" if view.materialized else "view")

    return [o for o in objects if not managed(o)]


def drift(runner: Runner) -> DriftReport:
    """``migrate:status --drift`` of one connection. When every migration of the
    chain is applied (the usual case), the expected state is the chain's head,
    from the replay cache when the files are unchanged."""
    from ..history.replay import chain_head

    family = runner.registry.family(runner.family)
    files = [f.id for f in runner.files()]
    rows = runner.ledger()
    for r in rows:
        if r.id not in files:
            raise MigrationFileError(
                f"{runner.target.name}: applied migration {r.id} has no file: the state it adds up to is unknown"
            )
    applied = {r.id for r in rows if r.status == "applied"}
    if files and applied == set(files):
        expected, through = chain_head(runner.chain, family.empty)
    else:
        history = runner.history()
        expected = state_through(history, applied)
        through = next((m.id for m in reversed(history.migrations) if m.id in applied), None)
    comparison = compare_live(runner, expected, family)
    target = runner.target
    return DriftReport(
        target.name,
        target.driver.name,
        target.test,
        through,
        comparison.differences,
        comparison.unmanaged,
        comparison.unmanaged_kind,
        managed_views(live_objects(runner), expected),
    )

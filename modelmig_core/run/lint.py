"""``migrate:lint``: what the pending migrations' statements would cost a busy
database, named before they run.

Each statement is planned exactly as ``--pretend`` plans it (the session's
``plan``, with the live facts read once and carried from migration to
migration), and handed with the step it was rendered from to the connection's
driver (``Driver.lint_plan``, over its own cost table: the lock each statement
takes, whether it rewrites or scans the table, at the server version the
connection declares, and the safe form). The core knows no database's costs: it
only leaves out what cannot hurt (a statement on a table the same migration
creates: it holds no rows yet), and matches each finding against the
migration's ``lint_ignore = {"rule": "reason"}``.

``make:migration`` lints what it wrote the same way for every configured
connection, without one: the driver renders from the states alone
(``Driver.plan_offline``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..driver import Driver, Finding, Statement, Step

if TYPE_CHECKING:
    from .runner import Runner


@dataclass(frozen=True)
class LintFinding:
    """One finding of one statement of one migration on one connection; the reason
    its migration gave in ``lint_ignore`` when it acknowledges the rule."""

    connection: str
    migration: str
    statement: str
    finding: Finding
    acknowledged: str | None = None

    @property
    def rule(self) -> str:
        return self.finding.rule

    def line(self) -> str:
        """``pg: 2026..._add_index: require-concurrent-index-creation: CREATE INDEX ...:
        takes SHARE, scans the table: <why>; safe form: <...>``."""
        f = self.finding
        text = " ".join(self.statement.split())
        ack = f" (acknowledged: {self.acknowledged})" if self.acknowledged is not None else ""
        return (
            f"{self.connection}: {self.migration}: {f.rule}: {text}: {f.cost.describe()}: {f.why}; "
            f"safe form: {f.safe_form}{ack}"
        )

    def as_json(self) -> dict[str, Any]:
        f = self.finding
        return {
            "connection": self.connection,
            "migration": self.migration,
            "statement": self.statement,
            "rule": f.rule,
            "lock": f.cost.lock,
            "rewrites": f.cost.rewrites,
            "scans": f.cost.scans,
            "why": f.why,
            "safe_form": f.safe_form,
            "acknowledged": self.acknowledged,
        }


def touches_new_table(step: Step | None, existing: set[str] | None) -> bool:
    """Whether ``step`` works on a table the migration itself created (or creates it):
    an empty table, which no statement can keep busy."""
    if step is None or existing is None:
        return False
    table = getattr(step.op, "table", None)
    name = table if isinstance(table, str) else getattr(table, "name", None)
    return isinstance(name, str) and name not in existing


def lint_statements(
    driver: Driver,
    server: str | None,
    connection: str,
    migration: str,
    statements: Sequence[Statement],
    *,
    atomic: bool = True,
    ignore: dict[str, str] | None = None,
    before: Any = None,
) -> list[LintFinding]:
    """The findings of one migration's ``statements`` (its plan, in order) on
    ``driver`` at ``server``; ``before`` is the state the migration starts from
    (the tables it does not hold are the migration's own, and empty)."""
    tables = getattr(before, "tables", None)
    existing = set(tables) if isinstance(tables, dict) else None
    plan = [
        (s.step, s.text)
        for s in statements
        if s.action is None and s.text.strip() and not touches_new_table(s.step, existing)
    ]
    ignore = ignore or {}
    out = []
    for (_, text), findings in zip(plan, driver.lint_plan(plan, server, atomic), strict=True):
        for f in findings:
            out.append(LintFinding(connection, migration, text, f, ignore.get(f.rule)))
    return out


def lint_pending(runner: Runner) -> list[LintFinding]:
    """The findings of every pending migration of ``runner``'s connection, planned
    as ``migrate:run --pretend`` plans them (nothing is executed). A database that
    does not exist yet is linted from the states alone, every migration pending."""
    history = runner.history()
    if runner.database_missing():
        ids = [f.id for f in runner.files()]
    else:
        todo, _ = runner.pending()
        ids = [f.id for f in todo]
    migrations = [history.migration(i) for i in ids]
    steps = {m.id: history.steps(m, "up") for m in migrations}
    plans: dict[str, list[Statement]] = {}
    online: dict[str, bool] = {}
    if runner.database_missing():
        for m in migrations:
            context = runner.plan_context(m)
            plans[m.id] = runner.driver.plan_offline(steps[m.id], runner.hook, context) or []
            online[m.id] = context.online and runner.driver.features.transactional_ddl
    else:
        session = runner.connection
        session.hook = runner.hook  # render_column for custom column types
        with session.carry_facts([s for m in migrations for s in steps[m.id]]):
            for m in migrations:
                online[m.id] = runner._use_context(m)
                plans[m.id] = session.plan(steps[m.id])
    out: list[LintFinding] = []
    for m in migrations:
        first = steps[m.id][0].before if steps[m.id] else None
        out += lint_statements(
            runner.driver,
            runner.target.server,
            runner.target.name,
            m.id,
            plans[m.id],
            atomic=m.atomic and not online.get(m.id, False),
            ignore=m.lint_ignore,
            before=first,
        )
    return out

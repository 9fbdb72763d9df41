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

from ..driver import Cost, Driver, Finding, Statement, Step
from ..errors import ModelmigError
from ..schema.sqltext import parse_statement

if TYPE_CHECKING:
    from .runner import Runner

#: the rule of a column drop: no database has a lock-safe form for the clients that still read it
DROP_COLUMN = "ban-drop-column"
DROP_COLUMN_FINDING = Finding(
    DROP_COLUMN,
    Cost("the table's lock, briefly"),
    "clients that still read or write the column fail once it is gone",
    "stop every client using the column first, then drop it in a migration of its own that acknowledges it",
)


@dataclass(frozen=True)
class LintFinding:
    """One finding of one statement of one migration on one connection; the reason
    its migration gave in ``lint_ignore`` when it acknowledges the rule."""

    connection: str
    migration: str
    statement: str
    finding: Finding
    acknowledged: str | None = None
    #: the plan it was found in: "up", or "down" (the rollback's, which make:migration lints too)
    direction: str = "up"

    @property
    def rule(self) -> str:
        return self.finding.rule

    def line(self) -> str:
        """``pg: 2026..._add_index: require-concurrent-index-creation: CREATE INDEX ...:
        takes SHARE, scans the table: <why>; safe form: <...>``."""
        f = self.finding
        text = " ".join(self.statement.split())
        ack = f" (acknowledged: {self.acknowledged})" if self.acknowledged is not None else ""
        down = " (down)" if self.direction == "down" else ""
        return (
            f"{self.connection}: {self.migration}{down}: {f.rule}: {text}: {f.cost.describe()}: {f.why}; "
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


def _plans(runner: Runner, migrations: Sequence[Any], direction: str) -> dict[str, tuple[list[Statement], bool]]:
    """{migration id: (its plan in ``direction``, whether it is an online plan)},
    planned as ``--pretend`` plans them, nothing executed: with the live facts read
    once and carried from migration to migration, or from the states alone when
    the database does not exist yet."""
    history = runner.history()
    steps = {m.id: history.steps(m, direction) for m in migrations}
    out: dict[str, tuple[list[Statement], bool]] = {}
    if runner.database_missing():
        for m in migrations:
            context = runner.plan_context(m)
            plan = runner.driver.plan_offline(steps[m.id], runner.hook, context) or []
            out[m.id] = (plan, context.online)
        return out
    session = runner.connection
    session.hook = runner.hook  # render_column for custom column types
    with session.carry_facts([s for m in migrations for s in steps[m.id]]):
        for m in migrations:
            online = runner._use_context(m)
            out[m.id] = (session.plan(steps[m.id]), online)
    return out


def _starts_from(runner: Runner, migration: Any) -> Any:
    """The state whose tables a migration's plan may find rows in: the state before
    its up (the tables it creates are its own in both directions)."""
    steps = runner.history().steps(migration, "up")
    return steps[0].before if steps else None


def lint_pending(runner: Runner) -> list[LintFinding]:
    """The findings of every pending migration of ``runner``'s connection, planned
    as ``migrate:run --pretend`` plans them (nothing is executed). A database that
    does not exist yet is linted from the states alone, every migration pending.
    An online migration's column drops are findings too (``ban-drop-column``:
    no online form), as ``migrate:run`` refuses them."""
    history = runner.history()
    if runner.database_missing():
        ids = [f.id for f in runner.files()]
    else:
        todo, _ = runner.pending()
        ids = [f.id for f in todo]
    migrations = [history.migration(i) for i in ids]
    plans = _plans(runner, migrations, "up")
    transactional = runner.driver.features.transactional_ddl
    out: list[LintFinding] = []
    for m in migrations:
        plan, online = plans[m.id]
        first = _starts_from(runner, m)
        if online:
            drops = unsafe_online(
                runner.driver, runner.target.server, runner.target.name, m.id, plan, ignore=m.lint_ignore, before=first
            )
            out += [u.lint for u in drops if u.rule == DROP_COLUMN]
        out += lint_statements(
            runner.driver,
            runner.target.server,
            runner.target.name,
            m.id,
            plan,
            atomic=m.atomic and not (online and transactional),
            ignore=m.lint_ignore,
            before=first,
        )
    return out


def unsafe_pending(runner: Runner, migrations: Sequence[Any], direction: str) -> list[Unsafe]:
    """What ``migrate:run`` (``direction`` "up") or ``migrate:rollback`` ("down")
    refuses before sending anything: the changes with no lock-safe form in the
    online plans of ``migrations`` that their ``lint_ignore`` does not acknowledge."""
    plans = _plans(runner, migrations, direction)
    out: list[Unsafe] = []
    for m in migrations:
        plan, online = plans[m.id]
        if not online:
            continue
        found = unsafe_online(
            runner.driver,
            runner.target.server,
            runner.target.name,
            m.id,
            plan,
            direction=direction,
            ignore=m.lint_ignore,
            before=_starts_from(runner, m),
        )
        out += [u for u in found if u.acknowledged is None]
    return out


def drops_column(text: str) -> bool:
    """Whether ``text`` is an ``ALTER TABLE ... DROP COLUMN`` (a DropColumn's
    statement, or raw SQL), as PostgreSQL or MySQL would read it."""
    from sqlglot import exp

    for dialect in ("postgres", "mysql"):
        tree = parse_statement(text, dialect)
        if isinstance(tree, exp.Alter) and any(
            isinstance(a, exp.Drop) and str(a.args.get("kind") or "").upper() == "COLUMN"
            for a in tree.args.get("actions") or ()
        ):
            return True
    return False


class UnsafeOnline(ModelmigError):
    """``migrate:run`` or ``migrate:rollback`` refused, before any statement, an
    online plan with a change that has no lock-safe form and is not acknowledged."""


@dataclass(frozen=True)
class Unsafe:
    """A change with no lock-safe form in the online plan of a migration: what
    the driver's lint still finds there that rewrites or scans the table (a type
    change that rewrites, a volatile default, a MySQL change only a copy can do),
    or a column drop (``ban-drop-column``). ``change`` names the step's operation
    (``alter qty on items``); ``acknowledged`` is the migration's reason, when its
    ``lint_ignore`` names the rule (for both its up and its down plan)."""

    lint: LintFinding
    direction: str
    change: str

    @property
    def rule(self) -> str:
        return self.lint.rule

    @property
    def acknowledged(self) -> str | None:
        return self.lint.acknowledged

    def line(self) -> str:
        """``main: 2026..._qty: down: alter qty on items: changing-column-type: ALTER TABLE ...:
        takes ACCESS EXCLUSIVE, rewrites the table: <why>``."""
        f = self.lint.finding
        text = " ".join(self.lint.statement.split())
        return (
            f"{self.lint.connection}: {self.lint.migration}: {self.direction}: {self.change}: {f.rule}: {text}: "
            f"{f.cost.describe()}: {f.why}"
        )


def unsafe_online(
    driver: Driver,
    server: str | None,
    connection: str,
    migration: str,
    statements: Sequence[Statement],
    *,
    direction: str = "up",
    ignore: dict[str, str] | None = None,
    before: Any = None,
) -> list[Unsafe]:
    """The changes of one migration's online plan (``statements``, in order) that
    have no lock-safe form on ``driver`` at ``server``, acknowledged ones included:
    the rule set ``make:migration`` refuses at make time, ``migrate:run`` and
    ``migrate:rollback`` at plan time (a hand-written file, a down plan). A
    statement on a table the migration starts without (its own, empty) is left out."""
    found: list[Unsafe] = []
    ignore = ignore or {}
    tables = getattr(before, "tables", None)
    existing = set(tables) if isinstance(tables, dict) else None

    def change(step: Step | None) -> str:
        return step.op.describe() if step is not None else "a statement"

    for s in statements:
        if s.action is None and s.text.strip() and not touches_new_table(s.step, existing) and drops_column(s.text):
            lint = LintFinding(connection, migration, s.text, DROP_COLUMN_FINDING, ignore.get(DROP_COLUMN))
            found.append(Unsafe(lint, direction, change(s.step)))
    steps_of = {s.text: s.step for s in statements}
    for f in lint_statements(
        driver, server, connection, migration, statements, atomic=False, ignore=ignore, before=before
    ):
        if f.finding.cost.rewrites or f.finding.cost.scans:  # else a short lock, bounded by lock_timeout
            found.append(Unsafe(f, direction, change(steps_of.get(f.statement))))
    return found

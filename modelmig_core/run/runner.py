"""Running migrations on one connection: run, rollback, reset, fresh, status.

The runner calls the connection's driver and session directly: ``connect``,
``lock``/``unlock``, the ledger (through ``ledger.py``), and for each migration
the ``apply`` hook (whose core implementation performs the session's plan) and
then ``record_state``. ``--pretend`` prints the same plan instead.

``migrate:run`` and ``migrate:status`` with nothing pending read only the ledger
(one query through the driver's DB-API connection) and the migration files' names
and checksums: no migration module is imported and no SQLAlchemy is loaded. A
run, rollback or ``--pretend`` of migrations whose plans are all cached takes what
it needs of each from its kept entry (``planned.py``): no migration file is loaded
or replayed then either.

What it reports goes out as events (``report.py``) to ``emit`` (``commands.each``),
or as their lines to ``echo``: when each migration starts and when it ends (with
its duration) or fails, while it waits for another runner's lock, and warnings
(lines starting ``warning:``: a file modified or missing since it was applied,
data a drop loses). What it did is also kept as a value in
``Runner.report`` (``--json``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Chain
from ..driver import LEDGER, LedgerRow, PlanContext, Session
from ..errors import InterruptedMigration, LockError, MigrationFileError
from ..history.migrations import MigrationFile, files_of, strays_of
from .moved import moved_into_chain
from .report import (
    ConnectionReport,
    Event,
    LockWaiting,
    Loss,
    MigrationApplied,
    MigrationFailure,
    MigrationStarted,
    Progress,
    Warned,
)

if TYPE_CHECKING:  # the rest is imported where a migration is replayed or applied, off the nothing-pending path
    from ..config import Config
    from ..driver import Step
    from ..history.migrations import Migration
    from ..history.replay import History
    from ..hookspecs import HookContext
    from ..registry import Registry
    from ..sql.plancache import PlanSlot
    from ..targets import Target
    from .shared import Shared

Echo = Callable[[str], None]
#: the ledger statuses of work under way (or cut short): running, a wipe, an online migration
IN_PROGRESS = ("running", "wiping", "online", "online-down")
Emit = Callable[[Event], None]
#: the core's own plugins, by their files (``Runner._plugins``)
CORE_PLUGINS = {"modelmig.relational": "model/relational.py", "modelmig.builtin": "run/builtin.py"}


@dataclass
class StatusRow:
    id: str
    status: str  # applied, pending, modified, missing, running, interrupted (also: an interrupted migrate:fresh)
    batch: int | None = None
    applied_at: str | None = None
    duration_ms: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "batch": self.batch,
            "applied_at": self.applied_at,
            "duration_ms": self.duration_ms,
        }


def sent_note(progress: int, noun: str = "statement") -> str:
    """What a 'running' ledger row's progress (the statements sent, each recorded
    before it was sent) says, honestly."""
    if progress <= 0:
        return f"no {noun} had been sent"
    before = f"the {progress - 1} before it completed" if progress > 1 else "it was the first"
    return f"{noun} {progress} was sent and may or may not have completed ({before})"


def _interrupted_message(target: Target, row: LedgerRow, noun: str) -> str:
    return (
        f"{target.tag}: migration {row.id} was interrupted outside a transaction (started {row.applied_at}): "
        f"{sent_note(row.progress, noun)}; what it changed stays: "
        f"repair the schema by hand, then run `modelmig migrate:resolve {row.id} --applied` "
        f"or `--rolled-back` --connection {target.name}"
    )


class Runner:
    """One connection's migration work. Use as a context manager."""

    def __init__(
        self,
        config: Config,
        registry: Registry,
        target: Target,
        echo: Echo | None = None,
        shared: Shared | None = None,
        *,
        emit: Emit | None = None,
    ) -> None:
        self.config = config
        self.shared = shared  # what the connections of one command share (a fleet)
        self.registry = registry
        self.target = target
        self.driver = target.driver
        self.family = target.driver.info.family
        #: the connection's chain: a declared one ([chains.X]), or its family's default
        self.chain = target.chain or Chain.default(config.migrations, self.family)
        self._echo = echo  # the lines, when nobody takes the events
        self._emit = emit  # the events (commands.py): each carries its line
        self.session: Session | None = None
        self._history: History | None = None
        self._files: list[MigrationFile] | None = None
        self.report = ConnectionReport.of(target)
        self._backed_up = False  # one verified backup per command
        self._after_wipe = False  # migrate:fresh's run: the database is empty

    def __enter__(self) -> Runner:
        """The connection is opened on first use: a read-only command on a database
        that does not exist (a SQLite path) must not create it."""
        return self

    def __exit__(self, *exc: object) -> None:
        if self.session is not None:
            try:
                self.session.unlock()
            finally:
                self.session.close()
                self.session = None

    @property
    def hook(self) -> Any:
        from . import builtin  # the core's apply and backup hooks: the run layer's own

        # the relational family's hooks are registered where the chain is loaded or a
        # plan rendered (``Registry.hook``): a planned run needs none of them
        return self.registry.use_core(builtin, "modelmig.builtin", relational=False)

    @property
    def context(self) -> HookContext:
        """What the hooks are told of where they run (``context``)."""
        from ..hookspecs import HookContext

        return HookContext(self.target.name, self.driver.name, self.target.test, self.target.chain_name)

    # ------------------------------------------------------------ reading

    @property
    def connection(self) -> Session:
        if self.session is None:
            self.session = self.driver.connect(self.target.url)
        return self.session

    @property
    def tag(self) -> str:
        return self.target.tag

    def emit(self, event: Event) -> None:
        """Report an event: to ``emit`` when given, else its line to ``echo``."""
        if self._emit is not None:
            self._emit(event)
        elif self._echo is not None and event.text:
            self._echo(event.text)

    def echo(self, line: str) -> None:
        """A line without an event of its own: a warning (``warning: ...``) or progress."""
        if line.startswith("warning:"):
            self.emit(Warned(self.target.name, line, line[len("warning:") :].strip()))
        else:
            self.emit(Progress(self.target.name, line))

    def warn(self, message: str) -> None:
        self.report.warnings.append(message)
        self.emit(Warned(self.target.name, f"warning: {message}", message))

    def database_missing(self) -> bool:
        """The database does not exist (and can be told without creating it)."""
        return self.session is None and self.driver.exists(self.target.url) is False

    def lock_notice(self, holder: str) -> None:
        self.emit(LockWaiting(self.target.name, f"{self.tag}: waiting for the lock: {holder}", holder))

    def files(self) -> list[MigrationFile]:
        """The chain's files, listed once per runner (each checksum read once). A
        Python file there that is no migration by its name is ignored, with a warning."""
        if self._files is None:
            self._files = files_of(self.chain)
            for path in strays_of(self.chain):
                self.warn(
                    f"{self.tag}: {path} is not a migration (migration files are named like "
                    "20260101120000_create_users_table.py); ignored"
                )
        return self._files

    def ledger(self) -> list[LedgerRow]:
        """The ledger's rows; a row with an unknown status is an error naming it."""
        from .ledger import check_rows

        if self.session is None:  # nothing opened yet: the driver's lightest client for this one read
            light = self.driver.ledger_session(self.target.url)
            if light is not None:
                try:
                    return check_rows(light.ledger.rows(), f"of {self.tag}")
                finally:
                    light.close()
        return check_rows(self.connection.ledger.rows(), f"of {self.tag}")

    def history(self) -> History:
        """The chain, loaded and replayed once per runner (once per command when the
        runners share it)."""
        if self._history is None:
            from ..history.replay import replay_chain

            family = self.registry.family(self.family)

            def load() -> History:
                history = replay_chain(self.chain, family.empty)
                self._remember(history)
                return history

            self._history = load() if self.shared is None else self.shared.history(str(self.chain.folder), load)
        return self._history

    def _plugins(self) -> list[str]:
        """The plugins loaded, as part of a cache key: the core's own by their files
        whether registered yet or not (``hook``), so the key is the same at any moment."""
        from ..sql.plancache import file_label, plugin_label

        core = Path(__file__).parent.parent
        labels = [file_label(name, str(core / path)) for name, path in CORE_PLUGINS.items()]
        for name, plugin in self.registry.pm.list_name_plugin():
            if name not in CORE_PLUGINS:
                labels.append(plugin_label(name, plugin))
        return sorted(labels)

    def _remember(self, history: History) -> None:
        """Keep what the runner needs of each loaded migration besides its plan
        (``planned.py``), where no valid entry is kept yet."""
        from .planned import remember

        remember(self, history)

    def _loaded(self, mid: str) -> Migration:
        return self.history().migration(mid)

    def _migrations(self, ids: list[str], direction: str) -> list[Migration]:
        """The migrations ``ids``: planned (``_planned``), or from the loaded chain
        (every file loaded once, the chain checked)."""
        from .planned import planned_migrations

        found = planned_migrations(self, ids, direction)
        if found is not None:
            return found
        history = self.history()
        return [history.migration(i) for i in ids]

    def _steps(self, migration: Migration, direction: str) -> Sequence[Step]:
        """The steps of ``migration`` in ``direction``; of a planned migration,
        loaded only when something reads them."""
        from .planned import LazySteps, PlannedMigration

        if isinstance(migration, PlannedMigration):
            mid = migration.id
            return LazySteps(
                migration.meta[direction]["steps"],
                lambda: self.history().steps(self._loaded(mid), direction),
            )
        return self.history().steps(migration, direction)

    def _another_runner_active(self) -> bool:
        """Whether another runner holds the lock right now (tried without waiting)."""
        try:
            self.connection.lock(0)
        except LockError:
            return True
        self.connection.unlock()
        return False

    def status(self) -> list[StatusRow]:
        files = {f.id: f for f in self.files()}
        if self.database_missing():
            return [StatusRow(mid, "pending") for mid in sorted(files)]
        rows = {r.id: r for r in self.ledger()}
        moved = moved_into_chain(self.target, self.config.migrations, rows.values(), files)
        if moved:
            self.warn(moved)
        # a 'running' row is a migration at work while its runner holds the lock,
        # and an interrupted one once nobody does
        started = any(r.status in IN_PROGRESS for r in rows.values())
        running = "running" if started and self._another_runner_active() else "interrupted"
        out = []
        for mid in sorted(set(files) | set(rows)):
            f, r = files.get(mid), rows.get(mid)
            if r is None:
                out.append(StatusRow(mid, "pending"))
                continue
            if r.status in IN_PROGRESS:
                status = running
            elif f is None:
                status = "missing"
            elif f.checksum != r.checksum:
                status = "modified"
            else:
                status = "applied"
            out.append(StatusRow(mid, status, r.batch, r.applied_at, r.duration_ms))
        return out

    def _check_interrupted(self, rows: list[LedgerRow], resumes: str | None = None) -> None:
        """Stops at a migration interrupted outside a transaction (or an interrupted
        wipe); an interrupted online migration is resumed by the command that
        ``resumes`` its status, and stops every other one."""
        wiping = [r for r in rows if r.status == "wiping"]
        if wiping:
            raise InterruptedMigration(
                f"{self.tag}: migrate:fresh was interrupted while it dropped every table: the ledger still lists "
                f"{len(wiping)} migration(s) but their tables may be partly gone; run `modelmig migrate:fresh` "
                f"--connection {self.target.name} again to finish it"
            )
        noun = getattr(self.connection, "statement_noun", "statement")
        for r in rows:
            if r.status == "running":
                raise InterruptedMigration(_interrupted_message(self.target, r, noun))
            if r.status in ("online", "online-down") and r.status != resumes:
                again = "migrate:run" if r.status == "online" else "migrate:rollback"
                raise InterruptedMigration(
                    f"{self.tag}: online migration {r.id} was interrupted ({r.progress} statement(s) of its plan "
                    "had completed): "
                    f"run `modelmig {again}` --connection {self.target.name} to resume it, or settle it with "
                    f"`modelmig migrate:resolve {r.id} --applied` or `--rolled-back`"
                )

    def _warn_drift(self, rows: list[LedgerRow], files: list[MigrationFile]) -> None:
        """Every applied migration whose file is missing or changed since (checksums
        only: no migration module is imported)."""
        by_id = {f.id: f for f in files}
        for r in rows:
            if r.status in IN_PROGRESS:
                continue
            f = by_id.get(r.id)
            if f is None:
                self.warn(f"{self.tag}: applied migration {r.id} has no file (missing)")
            elif f.checksum != r.checksum:
                self.warn(f"{self.tag}: {self._rel(f)} was modified after it was applied")

    def _rel(self, f: MigrationFile) -> str:
        try:
            return str(f.path.relative_to(self.config.root))
        except ValueError:
            return str(f.path)

    def _check_modified(self, chosen: list[LedgerRow], allow: bool) -> None:
        """Rolling back a migration whose file changed since it was applied runs the
        edited down steps, which may not undo what the original did: refused,
        naming the file, unless ``allow`` (--force)."""
        files = {f.id: f for f in self.files()}
        for r in chosen:
            f = files[r.id]
            if f.checksum == r.checksum:
                continue
            if not allow:
                raise MigrationFileError(
                    f"{self.tag}: refusing to roll back {r.id}: {self._rel(f)} was modified after it was applied, "
                    "so its down steps may not undo what ran; restore the file, or pass --force to roll back "
                    "with the edited file"
                )
            self.warn(f"{self.tag}: rolling back {r.id} with its edited file {self._rel(f)} (--force)")

    # ------------------------------------------------------------ applying

    def plan_context(self, migration: Migration | None = None) -> PlanContext:
        """What the plans of ``migration`` honour: its ``online`` (or else its
        connection's), and the connection's timeouts and retries."""
        conn = self.config.connections.get(self.target.name)
        if conn is None:
            return PlanContext(
                online=bool(migration is not None and migration.online),
                sql_dialect=self.config.sql_dialect_of(self.chain),
            )
        online = conn.online if migration is None or migration.online is None else migration.online
        return PlanContext(
            online,
            conn.lock_timeout,
            conn.statement_timeout,
            conn.lock_retries,
            server=self.target.server,
            sql_dialect=self.config.sql_dialect_of(self.chain),
        )

    def _use_context(self, migration: Migration) -> bool:
        """Sets the session's plan context for ``migration``; whether its plan is an
        online plan that runs step by step."""
        session = self.connection
        session.context = self.plan_context(migration)
        return session.context.online and session.online_forms()

    def _refuse_unsafe_online(self, migrations: list[Migration], direction: str) -> None:
        """Before anything is sent (with --pretend too): the online plans of
        ``migrations`` in ``direction`` must hold no change without a lock-safe
        form that the migration does not acknowledge in ``lint_ignore`` (the rule
        set make:migration refuses; here for a hand-written file, or a down plan).
        Each refusal is a warning line; the error names the first and how many."""
        from .lint import UnsafeOnline, unsafe_pending

        if not migrations or not any(self.plan_context(m).online for m in migrations):
            return
        found = unsafe_pending(self, migrations, direction)
        if not found:
            return
        command = "migrate:run" if direction == "up" else "migrate:rollback"
        for u in found:
            self.warn(f"{self.tag}: refused: {u.line()}")
        first = found[0]
        more = f" (and {len(found) - 1} more, above)" if len(found) > 1 else ""
        path = next((m.path.name for m in migrations if m.id == first.lint.migration), first.lint.migration)
        statement, finding = " ".join(first.lint.statement.split()), first.lint.finding
        raise UnsafeOnline(
            f"{self.tag}: {command} refused on an online connection, nothing was sent: {path}: {direction}: "
            f"{first.change}: {first.rule}: {statement}: {finding.cost.describe()}: {finding.why}; "
            "this change has no lock-safe form: acknowledge it in the migration with "
            f'lint_ignore = {{"{first.rule}": "<why it is acceptable>"}} (before it is applied), or run it with '
            f"online = False{more}"
        )

    def _report_data_loss(self, migration: Migration, direction: str) -> None:
        """Before a migration that drops data runs: which tables and columns lose
        data, with the rows they hold now (counted through the session)."""
        from .planned import drops_of

        found = drops_of(migration, direction)
        if not found or self._after_wipe:
            return
        losses = []
        counts: dict[str, int | None] = {}
        for table, column, counted, new, what in found:  # counted under the name the table has now
            if counted is not None and counted not in counts:
                counts[counted] = self.connection.count_rows(counted)
            rows = counts.get(counted) if counted is not None else (0 if new else None)
            losses.append(Loss(migration.id, direction, table, column, rows, what))
        self.report.data_loss.extend(losses)
        doing = "running" if direction == "up" else "rolling back"
        self.warn(f"{self.tag}: {doing} {migration.id} drops data: {', '.join(x.describe() for x in losses)}")

    def _execute(self, migration: Migration, direction: str, batch: int) -> bool:
        from .ledger import recording

        session = self.connection
        session.hook = self.hook  # render_column for custom column types
        session.shared = self.shared  # rendered statements shared with the command's other connections
        session.plan_slot = self._plan_slot(migration, direction)  # its plan cached on disk (sql/plancache.py)
        online = self._use_context(migration)
        resumed = ""
        steps = self._steps(migration, direction)
        transactional = self.driver.features.transactional_ddl
        doing, done = ("applying", "applied") if direction == "up" else ("rolling back", "rolled back")
        self._report_data_loss(migration, direction)
        try:
            with recording(session, migration, direction, batch, transactional, online) as record:
                if record is None:
                    return False
                if record.resumed:
                    doing = "resuming" if direction == "up" else "resuming the rollback of"
                    resumed = f" (an interrupted online migration: {record.resume_from} statement(s) of its plan"
                    resumed += " had completed)"
                record.notify = self._online_notice
                text = f"{self.tag}: {doing} {migration.id}{resumed}"
                self.emit(MigrationStarted(self.target.name, text, migration.id, direction))
                started = time.perf_counter()
                self.hook.apply(
                    session=session,
                    migration=migration,
                    steps=steps,
                    direction=direction,
                    record=record,
                    context=self.context,
                )
                duration = max(1, math.ceil((time.perf_counter() - started) * 1000))  # never "0 ms": it ran
                record.finish(duration)
        except Exception as exc:
            message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            self.report.failed = {"id": migration.id, "direction": direction, "error": message}
            self.emit(MigrationFailure(self.target.name, "", migration.id, direction, message))
            raise
        self.hook.record_state(
            session=session,
            migration=migration,
            direction=direction,
            batch=batch,
            duration_ms=duration,
            context=self.context,
        )
        self.report.done(direction, migration.id, duration)
        text = f"{self.tag}: {done} {migration.id} ({duration} ms)"
        self.emit(MigrationApplied(self.target.name, text, migration.id, direction, duration))
        return True

    def _plan_slot(self, migration: Migration, direction: str) -> PlanSlot | None:
        """Where the plan of ``migration`` in ``direction`` is cached, keyed by the
        chain's files up to it and the plugins loaded (the session adds the rest)."""
        from ..sql.plancache import PlanSlot, base_key, folder_of

        prefix: list[tuple[str, str]] = []
        for f in self.files():
            prefix.append((f.path.name, f.checksum))
            if f.id == migration.id:
                break
        else:
            return None
        base = base_key(self.family, prefix, direction, self._plugins())
        return PlanSlot(folder_of(self.chain.folder), base)

    def _online_notice(self, line: str) -> None:
        """An online plan's lock not granted (a retry), or a repair, as an event."""
        self.emit(LockWaiting(self.target.name, f"{self.tag}: {line}", line))

    def _resume_online(self, rows: list[LedgerRow], direction: str) -> int:
        """Finish the online migrations an earlier run (``direction``) left cut short,
        from their last recorded step; their files must be as they were."""
        from .ledger import ONLINE

        status = ONLINE[direction]
        count = 0
        files = {f.id: f for f in self.files()}
        for r in sorted(rows, key=lambda r: r.id, reverse=direction == "down"):
            if r.status != status:
                continue
            f = files.get(r.id)
            if f is None or f.checksum != r.checksum:
                why = "its file is missing" if f is None else f"{self._rel(f)} was modified since it started"
                raise InterruptedMigration(
                    f"{self.tag}: online migration {r.id} was interrupted ({r.progress} statement(s) of its plan "
                    f"had completed) and cannot be resumed: {why}; restore it, or repair the schema by hand and run "
                    f"`modelmig migrate:resolve {r.id} --applied` or `--rolled-back` --connection {self.target.name}"
                )
            if self._execute(self.history().migration(r.id), direction, r.batch):
                count += 1
        return count

    def _locked(self, work: Callable[[], int]) -> int:
        """``work`` under the one-runner lock, with the ledger in place. The lock comes
        first: concurrent CREATE TABLE IF NOT EXISTS can collide on PostgreSQL."""
        session = self.connection
        session.lock(self.config.lock_timeout, on_wait=self.lock_notice)
        try:
            session.ledger.ensure()
            return work()
        finally:
            session.unlock()

    def _check_server(self) -> None:
        """Warn when the server is not the one the connection declares (the make-time
        rules followed the declaration)."""
        declared = self.target.server
        if not declared:
            return
        actual = self.connection.server()
        if actual is None:
            return
        product, _, version = declared.partition("-")
        a_product, _, a_version = actual.partition("-")
        if product != a_product or a_version.split(".")[: len(version.split("."))] != version.split("."):
            self.warn(
                f"{self.tag}: the connection declares server = {declared!r}, "
                f"but the server is {actual}; make:migration checked the models against {declared}"
            )

    def _before_destructive(self, command: str) -> None:
        """The before_destructive hook (backup-and-verify), once per command: fresh's
        run after the wipe takes no second, empty backup."""
        if self._backed_up:
            return
        results = self.hook.before_destructive(
            command=command, session=self.connection, target=self.target, echo=self.echo, context=self.context
        )
        self._backed_up = True
        self.report.backup = next((str(r) for r in results if r is not None), None)

    def _prepare(
        self, migrations: list[Migration], direction: str, command: str, *, pretend: bool, force: bool, yes: bool
    ) -> bool:
        """Check the production guard before anything changes; print instead with
        --pretend. True when the migrations should be executed."""
        self._check_server()
        destructive = [label for m in migrations if (label := m.destructive_label(direction))]
        if pretend:
            self._pretend_all(migrations, direction)
            return False
        self.registry.refuse_broken_vetoes(command)  # a broken plugin's veto is never skipped silently
        if destructive:
            from .guard import check_production

            check_production(f"{command} ({', '.join(destructive)})", force=force, yes=yes)
            self._before_destructive(command)
        return True

    def pending(self) -> tuple[list[MigrationFile], list[LedgerRow]]:
        rows = self.ledger()
        done = {r.id for r in rows}
        return [f for f in self.files() if f.id not in done], rows

    def run(self, *, pretend: bool = False, force: bool = False, yes: bool = False) -> int:
        """Apply every pending migration in one new batch; returns how many ran."""
        if pretend and self.database_missing() and not self._pretend_missing("migrate:run would create it and apply"):
            return 0
        todo, rows = self.pending()
        moved = moved_into_chain(self.target, self.config.migrations, rows, (f.id for f in self.files()))
        if moved:
            raise MigrationFileError(f"{moved}; nothing was run")
        self._warn_drift(rows, self.files())
        # Before the lock, a 'running' row may be another runner at work right now;
        # only under the lock (in work()) does it mean an interrupted migration.
        in_progress = any(r.status in IN_PROGRESS for r in rows)
        if pretend:
            self._check_interrupted(rows, "online")
        if not todo and not in_progress:
            self.echo(f"{self.tag}: nothing to migrate")
            return 0
        migrations = self._migrations([f.id for f in todo], "up")
        if not self._after_wipe:  # after migrate:fresh's wipe every table is empty: nothing to keep busy
            self._refuse_unsafe_online(migrations, "up")
        if pretend:
            for r in rows:
                if r.status == "online":
                    self.echo(
                        f"-- {self.tag}: would resume online migration {r.id} where it stopped "
                        f"({r.progress} statement(s) of its plan had completed)"
                    )
        if not self._prepare(migrations, "up", "migrate:run", pretend=pretend, force=force, yes=yes):
            return 0

        def work() -> int:
            # re-read under the lock: another runner may have applied some meanwhile
            current = self.ledger()
            self._check_interrupted(current, "online")
            count = self._resume_online(current, "up")
            done = {r.id for r in current}
            batch = max((r.batch for r in current), default=0) + 1
            for m in migrations:
                if m.id in done:
                    continue
                if self._execute(m, "up", batch):
                    count += 1
            return count

        count = self._locked(work)
        if count == 0:
            self.echo(f"{self.tag}: nothing to migrate (another runner applied them)")
        return count

    def _rollback_set(self, rows: list[LedgerRow], step: int | None, everything: bool) -> list[LedgerRow]:
        applied = sorted(rows, key=lambda r: (r.batch, r.id), reverse=True)
        if everything:
            return applied
        if step is not None:
            return applied[:step]
        if not applied:
            return []
        last = applied[0].batch
        return [r for r in applied if r.batch == last]

    def rollback(
        self,
        *,
        step: int | None = None,
        everything: bool = False,
        pretend: bool = False,
        force: bool = False,
        yes: bool = False,
        command: str = "migrate:rollback",
        allow_modified: bool | None = None,
    ) -> int:
        """Roll back the last batch, ``step`` migrations or ``everything``. A
        migration whose file changed since it was applied is refused unless
        ``allow_modified`` (default: ``force``)."""
        if self.database_missing():
            self.echo(f"{self.tag}: nothing to roll back (the database does not exist)")
            return 0
        rows = self.ledger()
        if pretend:  # otherwise checked under the lock: a 'running' row may be another runner at work
            self._check_interrupted(rows, "online-down")
        if any(r.status == "online-down" for r in rows) and not pretend:

            def finish() -> int:
                current = self.ledger()
                self._check_interrupted(current, "online-down")
                return self._resume_online(current, "down")

            self._prepare([], "down", command, pretend=False, force=force, yes=yes)
            resumed = self._locked(finish)
            rows = self.ledger()
            if everything is False and step is None:
                return resumed  # the interrupted rollback was the last batch's: it is finished now
        chosen = self._rollback_set(rows, step, everything)
        if not chosen:
            self.echo(f"{self.tag}: nothing to roll back")
            return 0
        files = {f.id for f in self.files()}
        for r in chosen:
            if r.id not in files:
                raise MigrationFileError(f"{self.tag}: cannot roll back {r.id}: its file is missing")
        self._check_modified(chosen, force if allow_modified is None else allow_modified)
        migrations = self._migrations([r.id for r in chosen], "down")
        if command == "migrate:rollback":  # migrate:reset takes everything down: no client is served meanwhile
            self._refuse_unsafe_online(migrations, "down")
        if not self._prepare(migrations, "down", command, pretend=pretend, force=force, yes=yes):
            return 0

        def work() -> int:
            rows = self.ledger()
            self._check_interrupted(rows, "online-down")
            if [r.id for r in self._rollback_set(rows, step, everything)] != [r.id for r in chosen]:
                raise LockError(
                    f"{self.tag}: another runner changed the ledger while this one waited for the lock; "
                    "nothing was rolled back: run the command again"
                )
            current = {r.id: r for r in rows}
            count = 0
            for m in migrations:
                row = current.get(m.id)
                if row is None:
                    continue
                if not self._execute(m, "down", row.batch):
                    # SQLite: its write lock is taken per migration, so a concurrent
                    # rollback is seen here, when the migration turns out to be gone
                    raise LockError(
                        f"{self.tag}: another runner rolled back {m.id} while this one waited for the lock; "
                        f"{count} migration(s) rolled back by this one: check migrate:status before going on"
                    )
                count += 1
            return count

        return self._locked(work)

    def fresh(self, *, pretend: bool = False, force: bool = False, yes: bool = False) -> int:
        """Drop everything in the database, then run every migration."""
        if pretend:
            if self.database_missing() and not self._pretend_missing("migrate:fresh would create it and apply"):
                return 0
            self.echo(f"{self.tag}: would drop every table, then run all migrations")
            # the plan is for the wiped database: on the driver's empty stand-in where it
            # has one (nothing the wipe drops is kept), the facts carried from the first
            scratch = self.driver.scratch(self.target.url)
            if scratch is not None:
                if self.session is not None:
                    self.session.close()
                self.session = scratch
            self._pretend_all(self.history().migrations, "up")
            return 0
        self.history()  # a broken chain fails before anything is dropped
        self.registry.refuse_broken_vetoes("migrate:fresh")
        self._before_destructive("migrate:fresh")

        def wipe() -> int:
            from .ledger import mark_wiping

            try:
                counts = self.connection.row_counts()
            except NotImplementedError:
                counts = {}
            kept = sorted((t, n) for t, n in counts.items() if n and t != LEDGER)
            losses = [Loss("", "fresh", t, None, n, f"drop {t}") for t, n in kept]
            if losses:
                self.report.data_loss.extend(losses)
                self.warn(f"{self.tag}: migrate:fresh drops data: {', '.join(x.describe() for x in losses)}")
            started = time.perf_counter()
            # the ledger says "wiping" before anything is dropped, and goes last: an
            # interrupted wipe is reported as such, never as applied migrations
            mark_wiping(self.connection.ledger)
            wiped = self.driver.wipe(self.connection)
            self.report.dropped = list(wiped)
            ms = int((time.perf_counter() - started) * 1000)
            self.echo(f"{self.tag}: dropped {len(wiped)} table(s) or collection(s) ({ms} ms)")
            return len(wiped)

        self._locked(wipe)
        self._after_wipe = True
        try:
            return self.run(force=True, yes=True)
        finally:
            self._after_wipe = False

    def plan(self, migration: Migration, direction: str) -> list[str]:
        """The statements of ``migration`` in ``direction`` as text: what ``--pretend``
        prints, taken by exactly the path that ``run`` performs."""
        from .planned import PlannedMigration

        steps = self._steps(migration, direction)
        self.connection.hook = self.hook  # render_column for custom column types
        planned = isinstance(migration, PlannedMigration)  # its plan is cached (``_planned``)
        self.connection.plan_slot = self._plan_slot(migration, direction) if planned else None
        online = self._use_context(migration)
        plan = self.connection.plan(steps)
        if not online:
            return [s.text for s in plan]
        # an online plan says which statements run outside a transaction
        return [f"-- outside a transaction\n{s.text}" if s.outside else s.text for s in plan]

    def _pretend_all(self, migrations: list[Migration], direction: str) -> None:
        """Each migration's plan, in order, with the live facts read once before the
        first and carried through each planned migration (as ``run`` finds them)."""
        from .planned import PlannedMigration

        if migrations and all(isinstance(m, PlannedMigration) for m in migrations):
            # planned without reading the live facts (``_planned``): nothing to carry
            for m in migrations:
                self._pretend(m, direction)
            return
        history = self.history()
        steps = [s for m in migrations for s in history.steps(self._loaded(m.id), direction)]
        self.connection.hook = self.hook
        with self.connection.carry_facts(steps):
            for m in migrations:
                self._pretend(m, direction)

    def _pretend_missing(self, would: str) -> bool:
        """--pretend on a database that does not exist: it is never created. With a
        stand-in empty database from the driver (SQLite: in memory), the plan is
        printed as usual (True); else what run would do is said (False)."""
        scratch = self.driver.scratch(self.target.url)
        ids = [f.id for f in self.files()]
        if scratch is not None:
            self.session = scratch
            self.warn(
                f"{self.tag}: the database does not exist yet (--pretend does not create it): "
                "the plan is for a new, empty database"
            )
            return True
        self.echo(
            f"-- {self.tag}: the database does not exist yet (--pretend does not create it); {would} "
            f"{len(ids)} migration(s): {', '.join(ids) if ids else 'none'}"
        )
        return False

    def _pretend(self, migration: Migration, direction: str) -> None:
        lines = self.plan(migration, direction)
        self.report.pretended.append({"id": migration.id, "direction": direction})
        self.echo(f"-- {self.tag}: {migration.id} ({direction})")
        for line in lines:
            self.echo(line if line.rstrip().endswith(";") else line + ";")

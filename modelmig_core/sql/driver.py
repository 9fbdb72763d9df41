"""SqlDriver and SqlSession: the base of every SQL driver, over DB-API.

A SQL driver subclasses ``SqlDriver``: it sets ``info``, ``features``, the
SQLAlchemy ``dialect`` and its ``renderer_class``, and implements ``open(url)``
(its DB-API connection, in autocommit mode) and the few catalogue queries of its
``SqlSession`` subclass (``list_tables``, ``drop_tables``, ``is_missing_table``).
The base gives the ledger store, transactions, planning and performing a
migration's statements, and row counts.

The transaction rule: every statement of a session — BEGIN, the migration's
DDL, the ledger's rows, COMMIT — goes through ``SqlSession.execute``, which runs
it on ``self.cursor()``. The default ``cursor()`` is ``raw.cursor()``, which is
right wherever cursors share their connection (sqlite3, psycopg, PyMySQL). A
driver whose ``cursor()`` opens a separate connection (DuckDB) overrides
``cursor()`` to return an object that runs on the session's own connection.

No SQLAlchemy import here: the nothing-pending path (read the ledger, compare
checksums) must stay light. The renderer is imported when a migration is planned.
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from ..driver import (
    LEDGER,
    Driver,
    Features,
    LedgerRow,
    LedgerStore,
    PlanContext,
    Refusal,
    Session,
    Statement,
    Step,
    TransactionEnded,
    ledger_int,
    name_clashes,
    redact,
)
from ..errors import ModelmigError
from ..redaction import scrub

if TYPE_CHECKING:
    from .plancache import PlanSlot
    from .render import Renderer

LEDGER_COLUMNS = ("id", "batch", "checksum", "applied_at", "duration_ms", "status", "progress")


class SqlLedgerStore(LedgerStore):
    """The ledger as a table, through the session's ``execute``."""

    def __init__(self, session: SqlSession) -> None:
        self.session = session

    def ensure(self) -> None:
        self.session.ensure_ledger_table()

    def rows(self) -> list[LedgerRow]:
        s = self.session
        try:
            rows = s.execute(f"SELECT {', '.join(LEDGER_COLUMNS)} FROM {LEDGER} ORDER BY batch, id")
        except Exception as exc:
            if s.is_missing_table(exc):
                return []
            raise
        return [self._row(r) for r in rows or []]

    @staticmethod
    def _row(r: Sequence[Any]) -> LedgerRow:
        where = f"table {LEDGER}"

        def number(i: int, field: str) -> int:
            return ledger_int(r[i], field, r[0], where)

        return LedgerRow(
            str(r[0]),
            number(1, "batch"),
            str(r[2]),
            str(r[3]),
            number(4, "duration_ms"),
            str(r[5]),
            number(6, "progress"),
        )

    def find(self, migration_id: str) -> LedgerRow | None:
        s = self.session
        rows = s.execute(f"SELECT {', '.join(LEDGER_COLUMNS)} FROM {LEDGER} WHERE id = {s.param}", [migration_id])
        return self._row(rows[0]) if rows else None

    def insert(self, row: LedgerRow) -> None:
        s = self.session
        values = [getattr(row, c) for c in LEDGER_COLUMNS]
        s.execute(
            f"INSERT INTO {LEDGER} ({', '.join(LEDGER_COLUMNS)}) VALUES ({', '.join([s.param] * len(values))})",
            values,
        )

    def update(self, migration_id: str, **values: Any) -> None:
        s = self.session
        names = [n for n in LEDGER_COLUMNS if n in values]
        if len(names) != len(values):
            raise TypeError(f"unknown ledger column(s): {sorted(set(values) - set(names))}")
        sets = ", ".join(f"{n} = {s.param}" for n in names)
        s.execute(f"UPDATE {LEDGER} SET {sets} WHERE id = {s.param}", [*(values[n] for n in names), migration_id])

    def delete(self, migration_id: str, status: str | None = None) -> None:
        s = self.session
        if status is None:
            s.execute(f"DELETE FROM {LEDGER} WHERE id = {s.param}", [migration_id])
        else:
            s.execute(f"DELETE FROM {LEDGER} WHERE id = {s.param} AND status = {s.param}", [migration_id, status])


_RENDERER_LOCK = threading.Lock()
_RENDERERS_MADE: set[str] = set()  # the renderer modules made once already (``SqlDriver.renderer``)


def follow_views(facts: Any, steps: Sequence[Step], dialect: str) -> None:
    """``--pretend`` over several migrations: the views a migration's RunSQL creates
    or drops (read with sqlglot) are carried into the facts the next one reads, as
    ``run`` would read them after performing it."""
    from ..schema.operations import RunSQL
    from ..schema.sqltext import _quiet
    from ..schema.transpile import sqlglot_name
    from ..schema.views import ViewColumns

    views = getattr(facts, "views", None)
    if not isinstance(views, ViewColumns):
        return
    import sqlglot
    from sqlglot import exp

    read = sqlglot_name(dialect) or None
    for step in steps:
        if not isinstance(step.op, RunSQL):
            continue
        for text in step.op.statements:
            try:
                with _quiet():
                    trees = sqlglot.parse(text, read=read)
            except sqlglot.errors.SqlglotError:
                continue
            for tree in trees:
                if isinstance(tree, exp.Create) and str(tree.kind).upper() == "VIEW" and tree.this is not None:
                    table = tree.this.find(exp.Table) if not isinstance(tree.this, exp.Table) else tree.this
                    name = table.name if table is not None else ""
                    views.uses = {u for u in views.uses if u[0] != name}
                    views.add_sql(name, tree.sql(dialect=read), read or "")
                elif isinstance(tree, exp.Drop) and str(tree.kind).upper() == "VIEW":
                    gone = {t.name for t in tree.args.get("tables") or []}
                    if tree.this is not None:
                        gone |= {t.name for t in tree.find_all(exp.Table)}
                    views.uses = {u for u in views.uses if u[0] not in gone}


@functools.lru_cache(maxsize=64)
def _renderer_type(spec: str) -> type[Renderer]:
    """The renderer class ``module:Class`` names, imported once (make asks for every
    column of every model whether its driver renders the column's type)."""
    module, _, cls = spec.partition(":")
    renderer: type[Renderer] = getattr(importlib.import_module(module), cls)
    return renderer


#: the state types the core's ``Renderer.types`` covers (a driver's ``type_names``
#: starts from them; a test checks they are the table's keys)
RENDERER_TYPE_NAMES: frozenset[str] = frozenset(
    {
        "integer", "bigInteger", "smallInteger", "string", "text", "char", "boolean", "decimal", "float",
        "double", "date", "time", "timestamp", "json", "uuid", "binary", "enum",
    }
)  # fmt: skip
#: the core's operations the core's ``Renderer`` implements (a test checks it); a
#: renderer with ``AlterColumn`` adds it in its driver's ``operation_names``
RENDERER_OPERATIONS: frozenset[str] = frozenset(
    {
        "AddCheck", "AddColumn", "AddForeignKey", "AddPartition", "AddUnique", "ChangePartition", "CreateIndex",
        "CreateTable", "CreateView", "DropCheck", "DropColumn", "DropForeignKey", "DropIndex", "DropPartition",
        "DropTable", "DropUnique", "DropView", "RenameColumn", "RenameTable", "ReplaceView", "RunSQL",
        "SetTableComment", "SetTableOptions",
    }
)  # fmt: skip


class TransactionControlRefused(RuntimeError):
    """RunPython code of a transactional migration tried to end its transaction."""


class GuardedConnection:
    """What RunPython code receives inside a migration's transaction: the DB-API
    connection, less what would end the transaction (``commit``, ``rollback``,
    ``close``, switching ``autocommit`` or the isolation level, ``with conn:``).
    Those raise before anything is ended, so the migration is rolled back whole.
    Everything else is the connection's own (``cursor``, ``execute``...); the
    connection itself is ``raw``."""

    _REFUSED = frozenset({"commit", "rollback", "close", "executescript", "tpc_begin", "tpc_commit", "tpc_rollback"})
    _SETTINGS = frozenset({"autocommit", "isolation_level"})

    def __init__(self, raw: Any) -> None:
        object.__setattr__(self, "raw", raw)

    @staticmethod
    def _refuse(what: str) -> TransactionControlRefused:
        return TransactionControlRefused(
            f"RunPython called {what} inside the migration's transaction (atomic = True): a migration and its "
            "ledger row commit together; remove the call, or set atomic = False"
        )

    def __getattr__(self, name: str) -> Any:
        if name in self._REFUSED:

            def refused(*args: Any, **kwargs: Any) -> Any:
                raise GuardedConnection._refuse(f"connection.{name}()")

            return refused
        return getattr(self.raw, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._SETTINGS:
            raise self._refuse(f"connection.{name} = {value!r}")
        setattr(self.raw, name, value)

    def __enter__(self) -> Any:
        raise self._refuse("`with connection:` (which commits or closes at its end)")

    def __exit__(self, *exc: object) -> None:
        return None


class SqlSession(Session):
    """One DB-API connection (``raw``, in autocommit mode)."""

    param = "%s"  # the DB-API placeholder
    #: send a transaction's statements together, in one round trip, where the
    #: DB-API driver runs several statements in one ``execute`` (psycopg does)
    batch_in_transaction = False
    #: with ``batch_in_transaction``: every this many statements, the batch so far is
    #: sent from a background thread while the next are rendered (the server works
    #: while Python renders); the DB-API connection must be usable from another
    #: thread (psycopg's is). 0: one batch, sent by ``flush``.
    overlap_every = 0

    def __init__(self, driver: SqlDriver, url: str, raw: Any) -> None:
        self.driver = driver
        self.url = url
        self.raw = raw
        self.hook: Any = None  # the plugin hooks (render_column), set by the core
        self._ledger = SqlLedgerStore(self)

    # ------------------------------------------------------------ the one way statements run

    def cursor(self) -> Any:
        """What one statement runs on. Override only when ``raw.cursor()`` opens a
        separate connection (DuckDB): return an object with ``execute`` that runs
        on this session's own connection, or transactions silently break."""
        return self.raw.cursor()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> list[Any] | None:
        """Run one statement; its rows when it returns any. Statements deferred by
        ``perform`` are sent first."""
        if getattr(self, "_deferred", None) or getattr(self, "_sending", None):
            self.flush()
        return self._execute(sql, params)

    def _execute(self, sql: str, params: Sequence[Any] | None = None) -> list[Any] | None:
        cur = self.cursor()
        try:
            result = cur.execute(sql) if params is None else cur.execute(sql, tuple(params))
            source = result if hasattr(result, "fetchall") else cur
            return list(source.fetchall()) if source.description else None
        finally:
            if cur is not self.raw:
                cur.close()

    # ------------------------------------------------------------ to override

    def is_missing_table(self, exc: Exception) -> bool:
        raise NotImplementedError

    def list_tables(self) -> list[str]:
        raise NotImplementedError

    def list_types(self) -> list[str]:
        """The schema's named types that are objects of their own (PostgreSQL's enum
        types), sorted: the conformance kit checks that none outlives its column.
        Default: none (the database has no such types)."""
        return []

    def drop_tables(self, tables: list[str]) -> None:
        raise NotImplementedError

    def ledger_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {LEDGER} ("
            "id VARCHAR(255) NOT NULL PRIMARY KEY, "
            "batch INTEGER NOT NULL, "
            "checksum VARCHAR(64) NOT NULL, "
            "applied_at VARCHAR(40) NOT NULL, "
            "duration_ms INTEGER NOT NULL DEFAULT 0, "
            "status VARCHAR(16) NOT NULL DEFAULT 'applied', "
            "progress INTEGER NOT NULL DEFAULT 0)"
        )

    def ensure_ledger_table(self) -> None:
        self.execute(self.ledger_ddl())

    def begin(self) -> None:
        self.execute("BEGIN")

    def commit(self) -> None:
        self.execute("COMMIT")

    def rollback(self) -> None:
        self.execute("ROLLBACK")

    def quote(self, name: str) -> str:
        """An identifier quoted the standard SQL way (drivers override where needed)."""
        return '"' + name.replace('"', '""') + '"'

    def live_facts(self, steps: Sequence[Step]) -> Any:
        """What the renderer must know of the live database that the states do not
        say (objects made outside the models). Read once per migration, before
        rendering; ``--pretend`` reads it the same way. Default: nothing."""
        return None

    # ------------------------------------------------------------ the Session contract

    @property
    def ledger(self) -> LedgerStore:
        return self._ledger

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN ... COMMIT. When the transaction was ended before COMMIT (a COMMIT
        or ROLLBACK among the statements, or the server), ``TransactionEnded``:
        neither a COMMIT that would commit nothing nor a rollback that undid nothing
        is claimed."""
        self.begin()
        self._in_transaction = True
        try:
            yield
            if self.transaction_open() is False:
                raise TransactionEnded(
                    "its transaction was ended before the migration finished (a COMMIT, ROLLBACK or the like "
                    "among its statements): what ran before that may or may not have taken effect"
                )
            self.commit()
        except BaseException as exc:
            self._deferred = []  # never sent: the transaction goes
            self._settle()  # a batch still on its way is waited for, never left to land after the ROLLBACK
            if self.transaction_open() is False:
                if isinstance(exc, TransactionEnded):
                    raise
                cause = exc.__cause__ or exc
                detail = " ".join(str(cause).split()) or type(cause).__name__
                raise TransactionEnded(
                    f"{detail}; by then its transaction had already been ended (a COMMIT, ROLLBACK or the like among "
                    "its statements, or the server): what ran before that may or may not have taken effect"
                ) from exc
            self.rollback()
            raise
        finally:
            self._in_transaction = False

    def online_forms(self) -> bool:
        return self.renderer().online_forms

    def _facts(self, steps: Sequence[Step]) -> Any:
        """``live_facts``, once the renderer's modules are imported (a driver's facts
        are its renderer's: ``SqlDriver.renderer`` imports them under its lock)."""
        self.driver.renderer(self.hook)
        return self.live_facts(steps)

    def renderer(self) -> Renderer:
        renderer = self.driver.renderer(self.hook)
        renderer.context = self.context
        return renderer

    def plan(self, steps: Sequence[Step]) -> list[Statement]:
        return list(self.statements(steps))

    def render_key(self) -> Hashable | None:
        """What this session's rendering depends on besides the steps and the live
        facts, when that is all: the sessions of one command with equal keys (a fleet
        of databases of one driver, configured alike) render each migration once and
        share the statements. None (the default): never shared."""
        return None

    @contextmanager
    def carry_facts(self, steps: Sequence[Step]) -> Iterator[None]:
        self._carried = self._facts(steps) if steps else None
        self._carrying = True
        try:
            yield
        finally:
            self._carrying = False
            self._carried = None

    def next_migration_facts(self, facts: Any) -> Any:
        """The facts carried into the next migration's rendering (``carry_facts``):
        what a renderer keeps only within one migration is reset here. Default: as
        they are."""
        return facts

    def statements(self, steps: Sequence[Step]) -> Iterator[Statement]:
        if not steps:
            return
        if getattr(self, "_carrying", False):
            facts = self._carried = self.next_migration_facts(self._carried)
            yield from self._render(steps, facts)
            follow_views(facts, steps, self.driver.dialect)
            return
        slot = getattr(self, "plan_slot", None)
        if slot is not None:
            yield from self._through_cache(slot, steps)
            return
        yield from self._fresh(steps, self._facts(steps))

    def _fresh(self, steps: Sequence[Step], facts: Any, outcome: dict[str, Any] | None = None) -> Iterator[Statement]:
        """The statements rendered now (or taken from a fleet's session that rendered
        them for equal facts); with ``outcome``, the facts are watched while rendering
        (``plancache.watched``)."""

        def render() -> Iterator[Statement]:
            if outcome is None:
                return self._render(steps, facts)
            from .plancache import watched

            return watched(facts, self._render(steps, facts), outcome)

        key = self.render_key()
        if self.shared is None or key is None:
            yield from render()
        else:
            key = (type(self), key, id(self.hook), self.context)
            yield from self.shared.statements(key, steps, facts, render)

    def server_version(self) -> str:
        """``server()``, read once per session (part of a cached plan's key)."""
        known = getattr(self, "_server_version", None)
        if known is None:
            try:
                known = repr(self.server())
            except Exception as exc:  # noqa: BLE001 - a server that cannot say: keyed as such
                known = f"unknown ({type(exc).__name__})"
            self._server_version: str | None = known
        return known

    def plan_key(self, slot: PlanSlot) -> str | None:
        """The key of this session's plan of the migration ``slot`` names: everything
        it is rendered from but the live facts (``plancache``). None: never cached (a
        session whose ``render_key`` is None renders from more than it says)."""
        import hashlib

        from .plancache import code_key

        render_key = self.render_key()
        if render_key is None:
            return None
        modules = (type(self.driver).__module__, type(self).__module__, self.driver.renderer_class.partition(":")[0])
        parts = [
            slot.base,
            code_key(modules),
            f"{type(self).__module__}:{type(self).__qualname__} {self.driver.name}",
            repr(render_key),
            repr(self.context),
            self.server_version(),
        ]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()

    def _through_cache(self, slot: PlanSlot, steps: Sequence[Step]) -> Iterator[Statement]:
        """The plan from the plan cache when an entry for this key (and, when the plan
        consulted the live facts, for facts with the same digest) is there; else
        rendered, and stored once it was rendered whole."""
        from . import plancache

        key = self.plan_key(slot) if plancache.enabled() else None
        if key is None:
            yield from self._fresh(steps, self._facts(steps))
            return
        hit = plancache.load(slot.folder, key)
        facts: Any = None
        read = False
        if hit is not None:
            needs, statements = hit
            if needs is not None:
                facts, read = self._facts(steps), True
            if needs is None or _digest(facts) == needs:
                self.plans_cached = getattr(self, "plans_cached", 0) + 1
                yield from statements
                return
        if not read:
            facts = self._facts(steps)
        digest = _digest(facts)  # before rendering: a renderer may update the facts as it goes
        outcome: dict[str, Any] = {}
        out: list[Statement] = []
        for statement in self._fresh(steps, facts, outcome):
            out.append(statement)
            yield statement
        consulted = outcome.get("consulted")
        if consulted is not None and (digest is not None or not consulted):
            plancache.store(slot.folder, key, digest if consulted else None, out)

    def _render(self, steps: Sequence[Step], facts: Any) -> Iterator[Statement]:
        return render_steps(self.renderer(), steps, facts)

    def perform(self, statement: Statement) -> None:
        """One statement of a migration. Inside a transaction of a session that
        batches, a SQL statement is deferred and sent with the next ones (``flush``,
        or before anything else runs): a migration's DDL in one round trip, or in
        batches of ``overlap_every`` sent while the rest is rendered."""
        if statement.action is None and self.batch_in_transaction and getattr(self, "_in_transaction", False):
            deferred: list[str] = getattr(self, "_deferred", None) or []
            deferred.append(statement.text)
            self._deferred = deferred
            # one database: the server works while Python renders. In a fleet the
            # rendering is shared and the threads of the other connections keep the
            # cores busy: background sends there only contend (measured), so one batch
            if self.overlap_every and self.shared is None and len(deferred) >= self.overlap_every:
                self._deferred = []
                self._send_behind(deferred)
            return
        in_transaction = getattr(self, "_in_transaction", False)
        if statement.action is not None:
            self.flush()
            statement.action(GuardedConnection(self.raw) if in_transaction else self.raw)
        else:
            self.execute(statement.text)
        if in_transaction and self.transaction_open() is False:
            label = statement.label or statement.text.splitlines()[0][:120]
            raise TransactionEnded(
                f"{label}: ended the migration's transaction (a COMMIT, ROLLBACK or the like): what ran before it "
                "may or may not have taken effect"
            )

    @staticmethod
    def _batch(texts: list[str]) -> str:
        # a newline before each separator: a statement may end in a -- comment
        return "\n;\n".join(text.rstrip().rstrip(";") for text in texts)

    def _send_behind(self, texts: list[str]) -> None:
        """Send ``texts`` as one batch from a background thread, after the batch
        before it. Once a batch failed, nothing more is sent: ``flush`` raises."""
        import threading

        previous = getattr(self, "_sending", None)
        if previous is not None:
            previous[0].join()
            if "error" in previous[1]:
                return  # the transaction is lost: keep the first error, send nothing more
        box: dict[str, BaseException] = {}

        def send() -> None:
            try:
                self._execute(self._batch(texts))
            except BaseException as exc:  # noqa: BLE001 - raised by flush, in the caller's thread
                box["error"] = exc

        thread = threading.Thread(target=send, name="modelmig-send", daemon=True)
        self._sending: tuple[Any, dict[str, BaseException]] | None = (thread, box)
        thread.start()

    def _settle(self) -> BaseException | None:
        """Wait for the batch on its way, if any; its error, if it failed."""
        sending, self._sending = getattr(self, "_sending", None), None
        if sending is None:
            return None
        sending[0].join()
        return sending[1].get("error")

    def flush(self) -> None:
        error = self._settle()
        deferred, self._deferred = getattr(self, "_deferred", None) or [], []
        if error is not None:
            raise error
        if deferred:
            self._execute(self._batch(deferred))

    def count_rows(self, table: str) -> int | None:
        try:
            rows = self.execute(f"SELECT COUNT(*) FROM {self.quote(table)}")
        except Exception:  # noqa: BLE001 - no such table (yet): nothing to count
            return None
        return int(rows[0][0]) if rows else 0

    def row_counts(self) -> dict[str, int]:
        out = {}
        for table in self.list_tables():
            rows = self.execute(f"SELECT COUNT(*) FROM {self.quote(table)}")
            out[table] = int(rows[0][0]) if rows else 0
        return out

    def close(self) -> None:
        self.raw.close()


def _digest(facts: Any) -> str | None:
    """The live facts' digest (``plancache.facts_digest``); None when they cannot be keyed."""
    from .plancache import Uncacheable, facts_digest

    try:
        return facts_digest(facts)
    except Uncacheable:
        return None


def render_steps(renderer: Renderer, steps: Sequence[Step], facts: Any) -> Iterator[Statement]:
    """The statements of ``steps`` through ``renderer``, each naming its step, with
    the checks that a narrowed column's rows fit its new type before them. An
    online plan starts with its session settings (the timeouts) and ends by
    resetting them; a statement the renderer marks ``Outside`` runs outside any
    transaction."""
    from ..schema.operations import RunPython
    from .dataloss import fit_checks
    from .render import Outside

    if renderer.online and steps:
        for sql in renderer.settings():
            yield Statement(sql, setup=True)
    first, before = fit_checks(steps, renderer)  # a narrowed column's rows must fit its new type
    yield from first
    for i, step in enumerate(steps):
        yield from before.get(i, ())
        if isinstance(step.op, RunPython):
            yield Statement(f"-- {step.op.describe()}", action=step.op.forward, step=step)
        else:
            for sql in renderer.statements(step, facts):
                if isinstance(sql, Outside):
                    yield Statement(str(sql), step=step, outside=True, repair=sql.repair)
                else:
                    yield Statement(sql, step=step)
    if renderer.online and steps:
        for sql in renderer.settings_reset():
            yield Statement(sql, setup=True)


class SqlDriver(Driver):
    """The base of the SQL drivers."""

    features: ClassVar[Features] = Features(sql=True, transactional_ddl=True)
    dialect: ClassVar[str] = ""  # the SQLAlchemy dialect name

    @property
    def sqlglot_dialect(self) -> str:
        """The sqlglot dialect the driver's database reads (its model SQL is written in it)."""
        from ..schema.transpile import sqlglot_name  # off the nothing-pending path

        return sqlglot_name(self.dialect)

    renderer_class: ClassVar[str] = "modelmig_core.sql.render:Renderer"
    #: the state types the renderer's own table (``Renderer.types``) covers, declared
    #: here so that make, which asks for every column whether its driver renders the
    #: type, needs neither the renderer nor SQLAlchemy (``RENDERER_TYPE_NAMES | {...}``).
    #: None: the renderer is imported and asked. The conformance kit checks that a
    #: declared set is the renderer's table.
    type_names: ClassVar[frozenset[str] | None] = None
    #: the core's operations (their class names) the renderer implements, declared for
    #: the same reason (``RENDERER_OPERATIONS | {"AlterColumn"}``): make asks of every
    #: planned operation. None, or an operation not named: the renderer is asked.
    operation_names: ClassVar[frozenset[str] | None] = None
    #: the driver's ``Reflection`` subclass ("module:Class"), loaded for reflect and drift
    reflection_class: ClassVar[str] = "modelmig_core.sql.reflect:Reflection"
    session_class: ClassVar[type[SqlSession]] = SqlSession

    def open(self, url: str) -> Any:
        """The driver's DB-API connection for ``url``, in autocommit mode."""
        raise NotImplementedError

    #: whether the database's text (and its SQL) holds NUL characters
    text_holds_nul: ClassVar[bool] = False

    def value_problem(self, value: Any) -> str | None:
        if isinstance(value, str) and "\x00" in value and not self.text_holds_nul:
            return f"holds a NUL character, which {self.name} cannot store"
        return None

    #: the column and table attributes the database holds (a model that uses one
    #: it lacks is refused at make time, naming the connection): a column's own
    #: character set, MySQL's ON UPDATE CURRENT_TIMESTAMP, deferrable foreign keys,
    #: table and column comments, and the ways of numbering an auto-increment column beside
    #: the driver's own (``"always"``, ``"serial"``)
    column_charsets: ClassVar[bool] = False
    column_collations: ClassVar[bool] = False
    on_update_now: ClassVar[bool] = False
    deferrable_keys: ClassVar[bool] = False
    table_comments: ClassVar[bool] = False
    column_comments: ClassVar[bool] = False
    #: a primary key constraint of its own name (``database["primary_key_name"]``)
    named_primary_keys: ClassVar[bool] = False
    identities: ClassVar[frozenset[str]] = frozenset()
    #: the table options (``Model.options``) the database has
    table_options: ClassVar[frozenset[str]] = frozenset()
    #: declarative partitioning (``Model.partition_by``, ``Model.partitions``)
    partitioning: ClassVar[bool] = False

    def attribute_refusals(self, state: Any) -> list[Refusal]:
        """The column and table attributes of ``state`` this database does not hold."""
        out = []
        lacks = f"{self.name} has no"
        for table in state.tables.values():
            if table.comment is not None and not self.table_comments:
                out.append(Refusal(table.name, None, f"table comment: {lacks} table comments"))
            if table.primary_name is not None and not self.named_primary_keys:
                out.append(
                    Refusal(table.name, None, f"primary key name {table.primary_name!r}: {lacks} named primary keys")
                )
            if table.partition_by is not None and not self.partitioning:
                out.append(
                    Refusal(table.name, None, f"partition_by {table.partition_by[0]}: {lacks} declarative partitioning")
                )
            for key, value in table.options:
                if key not in self.table_options:
                    out.append(Refusal(table.name, None, f"table option {key}={value!r}: {lacks} table {key}"))
            for c in table.columns:
                if c.comment is not None and not self.column_comments:
                    out.append(Refusal(table.name, c.name, f"comment: {lacks} column comments"))
                if c.charset is not None and not self.column_charsets:
                    out.append(Refusal(table.name, c.name, f"charset {c.charset!r}: {lacks} column character sets"))
                if c.collation is not None and not self.column_collations:
                    out.append(Refusal(table.name, c.name, f"collation {c.collation!r}: {lacks} column collations"))
                if c.on_update_now and not self.on_update_now:
                    out.append(Refusal(table.name, c.name, f"on_update_now: {lacks} ON UPDATE CURRENT_TIMESTAMP"))
                if c.identity is not None and c.identity not in self.identities:
                    out.append(Refusal(table.name, c.name, f"identity {c.identity!r}: {lacks} such column numbering"))
            for fk in table.foreign_keys:
                if fk.deferrable and not self.deferrable_keys:
                    out.append(Refusal(table.name, fk.columns[0], f"foreign key {fk.name}: {lacks} deferrable keys"))
        return out

    def refusals(self, state: Any, server: str | None, steps: Sequence[Step] = ()) -> list[Refusal]:
        """Defaults, comments, enum values and checks the database cannot hold, and
        names of indexes and constraints its namespaces cannot (``name_scopes``)."""
        out = name_clashes(state, self.name_scopes) + self.attribute_refusals(state)
        for table in state.tables.values():
            # a comment the database has no place for is refused as such (attribute_refusals), once
            texts: list[tuple[str | None, str, Any]] = [(None, "comment", table.comment)] if self.table_comments else []
            for c in table.columns:
                texts += [(c.name, "default", c.default)]
                texts += [(c.name, "comment", c.comment)] if self.column_comments else []
                texts += [(c.name, "enum value", v) for v in c.values or ()]
            texts += [(None, f"check {ck.name}", ck.expression) for ck in table.checks]
            for field, what, value in texts:
                problem = self.value_problem(value)
                if problem:
                    out.append(Refusal(table.name, field, f"{what} {problem}"))
            own = [ix for p in getattr(table, "partitions", ()) for ix in p.indexes]  # a partition's, as a table's
            out += [Refusal(table.name, None, why) for ix in (*table.indexes, *own) for why in self.index_refusals(ix)]
            for c in table.columns:
                if c.primary_length is not None and "lengths" not in self.index_options:
                    out.append(
                        Refusal(
                            table.name,
                            c.name,
                            f"the primary key's prefix of {c.name}: {self.info.name} has no prefix keys",
                        )
                    )
                if c.generated is not None and ("stored" if c.stored else "virtual") not in self.generated_columns:
                    how = "stored" if c.stored else "virtual"
                    hint = " (it has stored ones: stored=True)" if "stored" in self.generated_columns else ""
                    out.append(Refusal(table.name, c.name, f"{self.info.name} has no {how} generated column{hint}"))
                elif c.generated is not None and not c.nullable and not self.generated_not_null:
                    why = f"{self.info.name} cannot declare a generated column NOT NULL{self.generated_not_null_why}"
                    out.append(Refusal(table.name, c.name, f"{why}: give it nullable=True"))
        return out

    #: the generated columns this database has: "stored", "virtual"
    generated_columns: ClassVar[tuple[str, ...]] = ()
    #: whether a generated column may be NOT NULL (and why not, for the refusal)
    generated_not_null: ClassVar[bool] = True
    generated_not_null_why: ClassVar[str] = ""

    #: the index options this database has (``Index`` fields: where, expressions,
    #: descending, include, method, kind, lengths); the others are refused at make time
    index_options: ClassVar[frozenset[str]] = frozenset()
    #: the access methods (``Index.method``) and kinds (``Index.kind``) it has
    index_methods: ClassVar[tuple[str, ...]] = ()
    index_kinds: ClassVar[tuple[str, ...]] = ()

    def index_refusals(self, ix: Any) -> list[str]:
        """Why this database cannot make index ``ix`` as the models say it (one line each)."""
        said = {
            "where": ("a predicate (a partial index)", ix.where is not None),
            "expressions": ("expressions in its key", bool(ix.expressions)),
            "descending": ("a descending key part", bool(ix.descending)),
            "include": ("INCLUDE columns", bool(ix.include)),
            "method": ("an access method", ix.method is not None),
            "kind": ("a kind", ix.kind is not None),
            "lengths": ("prefix lengths", bool(ix.lengths)),
            "operator_classes": ("operator classes", bool(ix.operator_classes)),
        }
        out = [
            f"index {ix.name} has {what}, which {self.info.name} cannot make"
            for option, (what, given) in said.items()
            if given and option not in self.index_options
        ]
        if ix.method is not None and "method" in self.index_options and ix.method not in self.index_methods:
            out.append(f"index {ix.name}: {self.info.name} has no index method {ix.method!r}")
        if ix.kind is not None and "kind" in self.index_options and ix.kind not in self.index_kinds:
            out.append(f"index {ix.name}: {self.info.name} has no {ix.kind} index")
        return out

    def renders(self, type_name: str) -> bool:
        """Whether this driver has a DDL type for the state type ``type_name``: its
        renderer's type table, or the registered type's own ``ddl`` for its dialect."""
        if self.type_names is None:
            return _renderer_type(self.renderer_class).renders(type_name)
        if type_name in self.type_names:
            return True
        from ..vocabulary.column_types import type_of  # off the nothing-pending path

        return self.dialect in type_of(type_name).ddl

    def connect(self, url: str) -> SqlSession:
        return self.session_class(self, url, self._opened(self.open, url))

    def open_for_ledger(self, url: str) -> Any | None:
        """A DB-API connection (autocommit) only for reading the ledger, through a
        lighter client than ``open``'s with the same URL semantics; None (the
        default): none, ``open`` serves (``Driver.ledger_session``)."""
        return None

    def ledger_session(self, url: str) -> SqlSession | None:
        raw = self._opened(self.open_for_ledger, url)
        return None if raw is None else self.session_class(self, url, raw)

    @staticmethod
    def _opened(open_: Any, url: str) -> Any:
        try:
            return open_(url)
        except ModelmigError:
            raise
        except Exception as exc:  # noqa: BLE001 - one line naming the (redacted) URL
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise ModelmigError(scrub(f"cannot connect to {redact(url)}: {detail}", url)) from None

    def renderer(self, hook: Any = None) -> Renderer:
        """A renderer. The first of each renderer module is made under one lock of the
        process: threads (``--jobs``) that render at once never import SQLAlchemy and
        the dialect at the same time (its lazy imports race); a fleet whose plans
        are all cached imports neither."""
        module, _, cls = self.renderer_class.partition(":")
        if module in _RENDERERS_MADE:
            return self._make_renderer(module, cls, hook)
        with _RENDERER_LOCK:
            renderer = self._make_renderer(module, cls, hook)
            _RENDERERS_MADE.add(module)
            return renderer

    def _make_renderer(self, module: str, cls: str, hook: Any) -> Renderer:
        renderer = getattr(importlib.import_module(module), cls)(hook=hook)
        renderer.native_enum = self.features.native_enum  # enums without a type get a CHECK of their values
        return renderer

    def plan_offline(
        self, steps: Sequence[Step], hook: Any = None, context: PlanContext | None = None
    ) -> list[Statement]:
        """The statements of ``steps`` from the states alone (no live facts): what
        ``make:migration`` lints for a connection it does not open."""
        renderer = self.renderer(hook)
        if context is not None:
            renderer.context = context
        return list(render_steps(renderer, steps, None))

    # ------------------------------------------------------------ the live schema (drift, make:models, baseline)

    def reflection(self, session: Session | None = None) -> Any:
        """The driver's ``Reflection``; the types the session's plugins register
        read back through their ``reflects``."""
        hook = getattr(session, "hook", None)
        if hook is not None:
            from ..vocabulary.column_types import register
            from ..vocabulary.kinds import register_kinds

            register(hook.column_types())
            register_kinds(hook.kinds())
        module, _, cls = self.reflection_class.partition(":")
        return getattr(importlib.import_module(module), cls)(session)

    def reflect(self, session: Session) -> Any:
        """The live schema as a relational ``State``, through SQLAlchemy's batched
        Inspector (``sql/reflect.py`` and the driver's ``Reflection`` subclass)."""
        return self.reflection(session).state()

    def comparable(self, state: Any) -> Any:
        """The ``Reflection``'s ``comparable``; where the database does not keep
        constraint names (``features.constraint_names`` false), foreign keys and
        checks are then named by what they are."""
        state = self.reflection().comparable(state)
        if not self.features.constraint_names:
            from .reflect import named_by_content

            state = named_by_content(state)
        return state

    def wipe(self, session: Session) -> list[str]:
        """Every table, the ledger last: until the last table is gone, the ledger (its
        rows marked ``wiping`` by the runner) says a wipe is under way."""
        assert isinstance(session, SqlSession)
        tables = session.list_tables()
        session.drop_tables([t for t in tables if t != LEDGER] + [t for t in tables if t == LEDGER])
        return tables

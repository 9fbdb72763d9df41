"""The migrate commands from Python, with results as values — what an app calls
to migrate at start-up, what the pytest plugin uses (like ``alembic.command`` or
Django's ``call_command``), and what the command line calls for every command::

    from modelmig_core import api

    project = api.open_project("pyproject.toml")
    for result in api.run(project, connections=["main"]):
        print(result.connection, result.count)

Each command takes the same targets as the CLI (``connections``, ``drivers``,
``all_connections``, ``test``) and returns one ``MigrationResult`` per target;
errors are raised as ``ModelmigError`` (one clear line, as the CLI prints them).
Opening a project makes its folder the working directory, as the CLI does, so
relative SQLite paths and model modules resolve the same way.

**One loop over connections** (``each``) serves every command, here and on the
command line: ``jobs`` connections at once (threads, each with its own session),
one connection's failure isolated from the others (unless ``fail_fast``: then no
more are started), each connection's ``ConnectionReport`` kept. Each target
carries its chain (``Target.chain``: a ``[chains.<name>]`` of the config, or the
default chain of its driver's family), so one command may run several chains:
each connection runs, reports and compares its own.

**Events.** What a command does is reported as it happens, as ``Event`` values
(``report.py``: ``ConnectionStarted``, ``MigrationStarted``, ``MigrationApplied``,
``MigrationFailure``, ``Warned``, ``LockWaiting``, ``Progress``,
``ConnectionFinished``), each naming its connection and carrying the line the
command line prints for it. A command's ``on_event`` takes them, and so does every
subscriber added with ``subscribe`` (a pytest plugin, a web hook, a metrics
exporter), and every installed plugin's ``on_event`` hook (``hookspecs.py``)::

    unsubscribe = commands.subscribe(lambda event: print(event))

Under ``jobs`` > 1 events arrive from several threads at once; a subscriber that
keeps state guards it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Generic, TypeVar

from .config import Config
from .errors import ModelmigError
from .registry import Registry
from .run.report import (
    ConnectionFinished,
    ConnectionReport,
    ConnectionStarted,
    Event,
    LockWaiting,
    MigrationApplied,
    MigrationFailure,
    MigrationStarted,
    Progress,
    Warned,
)
from .run.runner import Runner, StatusRow
from .targets import Target, select_targets

__all__ = [
    "ConnectionFinished",
    "ConnectionStarted",
    "Event",
    "LintResult",
    "LockWaiting",
    "MigrationApplied",
    "MigrationFailure",
    "MigrationResult",
    "MigrationStarted",
    "Outcome",
    "Progress",
    "Project",
    "StatusResult",
    "StatusRow",
    "Warned",
    "each",
    "fresh",
    "lint",
    "open_project",
    "reset",
    "rollback",
    "run",
    "status",
    "subscribe",
]

T = TypeVar("T")
Subscriber = Callable[[Event], None]
NOT_STARTED = "not started (--fail-fast after a failure)"

_subscribers: list[Subscriber] = []
_subscribers_lock = threading.Lock()


def subscribe(subscriber: Subscriber) -> Callable[[], None]:
    """Send every event of every command of this process to ``subscriber`` (after
    the command's own ``on_event``); returns the function that unsubscribes it."""
    with _subscribers_lock:
        _subscribers.append(subscriber)

    def unsubscribe() -> None:
        with _subscribers_lock:
            if subscriber in _subscribers:
                _subscribers.remove(subscriber)

    return unsubscribe


def _dispatcher(on_event: Subscriber | None, registry: Registry) -> Subscriber:
    def dispatch(event: Event) -> None:
        if on_event is not None:
            on_event(event)
        with _subscribers_lock:
            subscribers = list(_subscribers)
        for subscriber in subscribers:
            subscriber(event)
        registry.broadcast_event(event)  # the plugins' on_event hook

    return dispatch


def one_line(exc: BaseException) -> str:
    """An error as the one line the command line prints for it."""
    text = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, ModelmigError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


@dataclass
class Outcome(Generic[T]):
    """What ``each`` did on one connection: its report (``report.error`` set when
    it failed or was never started), what the work returned, the exception."""

    target: Target
    report: ConnectionReport
    result: T | None = None
    exception: BaseException | None = None
    started: bool = False

    @property
    def ok(self) -> bool:
        return self.report.error is None


def prepare_threads(
    registry: Registry, targets: list[Target], render: bool, reflect: bool = False, *, renderers: bool = True
) -> None:
    """Import, in the calling thread, what the threads of ``each`` will need, so
    that no two threads import the same modules at once (SQLAlchemy's lazy imports
    raced: an ImportError on every connection). The core's hooks are registered;
    with ``render`` (the work may apply or roll back migrations) and ``renderers``,
    each driver's renderer is made once: SQLAlchemy and the dialect are imported
    only then (threads leave it to the first that renders: ``SqlDriver.renderer``
    makes the first renderer under a lock, and a fleet whose plans are all cached
    imports no SQLAlchemy; forked workers find it imported); with ``reflect``
    (drift, baseline), each driver's reflection likewise. A read-only command
    (status) imports neither: its threads read the ledger only."""
    from .run import ledger  # noqa: F401 - each thread records its migrations through it

    registry.hook  # noqa: B018 - the core's hooks registered once, before any thread uses them
    if not (render or reflect):
        return
    from .history import replay as history  # noqa: F401 - each thread replays and counts through them
    from .sql import dataloss  # noqa: F401 - each thread replays and counts through them

    seen: set[int] = set()
    for target in targets:
        driver = target.driver
        if id(driver) in seen:
            continue
        seen.add(id(driver))
        for wanted, method in ((render and renderers, "renderer"), (reflect, "reflection")):
            make = getattr(driver, method, None)
            if wanted and callable(make):
                make()


def each(
    config: Config,
    registry: Registry,
    targets: list[Target],
    work: Callable[[Runner], T],
    *,
    jobs: int = 1,
    fail_fast: bool = False,
    on_event: Subscriber | None = None,
    render: bool = True,
    reflect: bool = False,
) -> list[Outcome[T]]:
    """Run ``work`` on each target's ``Runner``, timing it: the one loop over
    connections of every command. One connection's failure is kept in its outcome
    and the others still run (unless ``fail_fast``: then no more are started);
    ``jobs`` > 1 works on that many connections at once, in threads, each with its
    own session, after ``prepare_threads``. Outcomes come in the targets' order.
    ``render`` False: the work renders nothing (status, drift); ``reflect``: it
    reads the live schema (drift, baseline)."""
    dispatch = _dispatcher(on_event, registry)
    chain_of = {t.name: t.chain_name for t in targets}

    def emit(event: Event) -> None:
        """Every event names its connection's chain."""
        if not event.chain and event.connection in chain_of:
            event = replace(event, chain=chain_of[event.connection])
        dispatch(event)

    shared = None
    if len(targets) > 1:  # a fleet: the chain replayed once, each migration rendered once
        from .run.shared import Shared

        shared = Shared()
    threaded = jobs > 1 and len(targets) > 1
    processes = False
    if threaded:
        from . import jobs as workers

        processes = workers.wanted(jobs, len(targets), render)  # rendering on several cores: forked workers
        prepare_threads(registry, targets, render, reflect, renderers=processes)
    runners = [Runner(config, registry, target, shared=shared, emit=emit) for target in targets]
    outcomes: list[Outcome[T]] = [Outcome(r.target, r.report) for r in runners]
    failed = threading.Event()

    def one(i: int) -> None:
        runner, outcome = runners[i], outcomes[i]
        outcome.started = True
        name = runner.target.name
        emit(ConnectionStarted(name, "", runner.driver.name))
        started = time.perf_counter()
        try:
            with runner:
                outcome.result = work(runner)
        except Exception as exc:  # noqa: BLE001 - kept in the outcome; the caller decides
            runner.report.error = one_line(exc)
            outcome.exception = exc
            failed.set()
        finally:
            runner.report.duration_ms = int((time.perf_counter() - started) * 1000)
            emit(
                ConnectionFinished(
                    name, "", runner.report.error, runner.report.duration_ms, exception=outcome.exception
                )
            )

    def skip(i: int) -> None:
        runners[i].report.error = NOT_STARTED
        emit(ConnectionFinished(runners[i].target.name, "", NOT_STARTED, 0, started=False))

    if processes:
        workers.run_in_processes(
            runners,
            outcomes,
            work,
            jobs=jobs,
            fail_fast=fail_fast,
            emit=emit,
            skip=skip,
            failed=failed,
            one_line=one_line,
        )
        return outcomes

    if not threaded:
        for i in range(len(runners)):
            if failed.is_set() and fail_fast:
                skip(i)
                continue
            one(i)
        return outcomes
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="modelmig") as pool:
        pending: dict[Future[None], int] = {}
        queue = list(range(len(runners)))
        while queue or pending:
            # the free slots are filled as one batch, decided before any of it starts:
            # a connection that fails at once never keeps its batch-mates from starting
            stop = failed.is_set() and fail_fast
            while queue and len(pending) < jobs and not stop:
                i = queue.pop(0)
                pending[pool.submit(one, i)] = i
            if failed.is_set() and fail_fast:
                for i in queue:
                    skip(i)
                queue = []
            if pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    pending.pop(future)
    return outcomes


@dataclass
class Project:
    """An app's config and its plugins and drivers."""

    config: Config
    registry: Registry

    def targets(
        self,
        connections: Iterable[str] = (),
        drivers: Iterable[str] = (),
        all_connections: bool = False,
        test: bool = False,
    ) -> list[Target]:
        return select_targets(
            self.config,
            self.registry,
            connections=connections,
            drivers=drivers,
            all_connections=all_connections,
            test=test,
        )


@dataclass
class MigrationResult:
    connection: str
    driver: str
    url: str
    test: bool
    count: int  # migrations applied or rolled back
    lines: list[str] = field(default_factory=list)  # what the command printed
    chain: str = ""  # the chain it ran: a declared chain's name, or its family's (``sql``)


@dataclass
class StatusResult:
    connection: str
    driver: str
    test: bool
    migrations: list[StatusRow]
    chain: str = ""  # the chain it reads: a declared chain's name, or its family's (``sql``)


@dataclass
class LintResult:
    """``migrate:lint`` on one connection: every finding of its pending migrations
    (``LintFinding``), acknowledged ones included; ``error`` when it could not be linted."""

    connection: str
    driver: str
    test: bool
    findings: list[Any]
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False)

    @property
    def unacknowledged(self) -> list[Any]:
        return [f for f in self.findings if f.acknowledged is None]

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "driver": self.driver,
            "test": self.test,
            "ok": self.error is None,
            "error": self.error,
            "findings": [f.as_json() for f in self.findings],
        }


def lint_outcomes(
    config: Config,
    registry: Registry,
    targets: list[Target],
    *,
    on_event: Subscriber | None = None,
    jobs: int = 1,
    fail_fast: bool = False,
) -> list[LintResult]:
    """``migrate:lint`` through the one loop: each target's pending migrations planned
    as ``--pretend`` plans them (nothing executed) and linted by its driver; a
    connection that fails is kept in its result (``error``)."""
    from .run.lint import lint_pending

    outcomes = each(config, registry, targets, lint_pending, jobs=jobs, fail_fast=fail_fast, on_event=on_event)
    return [
        LintResult(
            o.target.name, o.target.driver.name, o.target.test, list(o.result or []), o.report.error, o.exception
        )
        for o in outcomes
    ]


def lint(
    project: Project, *, on_event: Subscriber | None = None, jobs: int = 1, fail_fast: bool = False, **targets: Any
) -> list[LintResult]:
    """The lint findings of each target's pending migrations (``migrate:lint``);
    the first failure is raised once every connection has been linted."""
    results = lint_outcomes(
        project.config, project.registry, project.targets(**targets), on_event=on_event, jobs=jobs, fail_fast=fail_fast
    )
    for r in results:
        if r.exception is not None:
            raise r.exception
    return results


def open_project(config_path: str | Path | None = None) -> Project:
    """Load ``[tool.modelmig]`` from ``config_path`` (or found from the working
    directory upward) with its plugins."""
    from .app import open_app

    config, registry = open_app(Path(config_path) if config_path is not None else None)
    return Project(config, registry)


def _each(
    project: Project,
    targets: list[Target],
    work: Callable[[Runner], int],
    echo: Callable[[str], None] | None,
    on_event: Subscriber | None = None,
    jobs: int = 1,
    fail_fast: bool = False,
) -> list[MigrationResult]:
    """``each`` with a ``MigrationResult`` per target; the first failure is raised
    once every connection has been worked on (or, ``fail_fast``, after it)."""
    lines: dict[str, list[str]] = {t.name: [] for t in targets}
    lock = threading.Lock()

    def seen(event: Event) -> None:
        if event.text:
            with lock:
                lines[event.connection].append(event.text)
            if echo is not None:
                echo(event.text)
        if on_event is not None:
            on_event(event)

    outcomes = each(project.config, project.registry, targets, work, jobs=jobs, fail_fast=fail_fast, on_event=seen)
    for o in outcomes:
        if o.exception is not None:
            raise o.exception
    return [
        MigrationResult(t.name, t.driver.name, t.url, t.test, o.result or 0, lines[t.name], t.chain_name)
        for t, o in zip(targets, outcomes, strict=True)
    ]


def run(
    project: Project,
    *,
    pretend: bool = False,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    on_event: Subscriber | None = None,
    jobs: int = 1,
    fail_fast: bool = False,
    **targets: Any,
) -> list[MigrationResult]:
    """Apply every pending migration on each target."""
    return _each(
        project,
        project.targets(**targets),
        lambda r: r.run(pretend=pretend, force=force, yes=yes),
        echo,
        on_event,
        jobs,
        fail_fast,
    )


def rollback(
    project: Project,
    *,
    step: int | None = None,
    pretend: bool = False,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    on_event: Subscriber | None = None,
    jobs: int = 1,
    fail_fast: bool = False,
    **targets: Any,
) -> list[MigrationResult]:
    """Roll back the last batch (or ``step`` migrations) on each target."""
    return _each(
        project,
        project.targets(**targets),
        lambda r: r.rollback(step=step, pretend=pretend, force=force, yes=yes),
        echo,
        on_event,
        jobs,
        fail_fast,
    )


def reset(
    project: Project,
    *,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    on_event: Subscriber | None = None,
    jobs: int = 1,
    fail_fast: bool = False,
    **targets: Any,
) -> list[MigrationResult]:
    """Roll back every migration on each target (guarded as ``migrate:reset``)."""
    from .run.guard import check_production

    check_production("migrate:reset", force=force, yes=yes)
    return _each(
        project,
        project.targets(**targets),
        lambda r: r.rollback(everything=True, force=True, yes=True, command="migrate:reset", allow_modified=force),
        echo,
        on_event,
        jobs,
        fail_fast,
    )


def fresh(
    project: Project,
    *,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    on_event: Subscriber | None = None,
    jobs: int = 1,
    fail_fast: bool = False,
    **targets: Any,
) -> list[MigrationResult]:
    """Drop everything, then run every migration, on each target (guarded as
    ``migrate:fresh``)."""
    from .run.guard import check_production

    check_production("migrate:fresh", force=force, yes=yes)
    return _each(project, project.targets(**targets), lambda r: r.fresh(), echo, on_event, jobs, fail_fast)


def status(
    project: Project, *, on_event: Subscriber | None = None, jobs: int = 1, **targets: Any
) -> list[StatusResult]:
    """Each target's migrations and their status (the first failure is raised
    once every connection has been read)."""
    chosen = project.targets(**targets)
    outcomes = each(
        project.config, project.registry, chosen, lambda r: r.status(), jobs=jobs, on_event=on_event, render=False
    )
    for o in outcomes:
        if o.exception is not None:
            raise o.exception
    return [
        StatusResult(t.name, t.driver.name, t.test, o.result or [], t.chain_name)
        for t, o in zip(chosen, outcomes, strict=True)
    ]

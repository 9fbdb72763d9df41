"""What a command did on one connection, as a value: the migrations applied and
rolled back (with their durations), the one that failed, the data a drop lost,
the warnings, the total time. ``--json`` prints it; the closing summary line is
made from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..driver import redact

if TYPE_CHECKING:
    from ..targets import Target


@dataclass
class Loss:
    """Data a destructive operation drops: a table (``column`` None), a column,
    or something only the operation can name (``what``, e.g. raw SQL)."""

    migration: str
    direction: str
    table: str | None
    column: str | None
    rows: int | None
    what: str

    def describe(self) -> str:
        if self.table is None:
            return self.what
        thing = f"column {self.table}.{self.column}" if self.column else f"table {self.table}"
        return f"{thing} ({'?' if self.rows is None else self.rows} row(s))"

    def as_json(self) -> dict[str, Any]:
        return {
            "migration": self.migration,
            "direction": self.direction,
            "table": self.table,
            "column": self.column,
            "rows": self.rows,
            "operation": self.what,
        }


@dataclass
class ConnectionReport:
    connection: str
    driver: str
    url: str  # redacted
    test: bool
    applied: list[dict[str, Any]] = field(default_factory=list)
    rolled_back: list[dict[str, Any]] = field(default_factory=list)
    failed: dict[str, Any] | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    data_loss: list[Loss] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # migrate:fresh: what was wiped
    pretended: list[dict[str, Any]] = field(default_factory=list)  # --pretend: what would run (id, direction)
    backup: str | None = None
    duration_ms: int = 0
    chain: str = ""  # the chain it runs: a declared chain's name, or its family's (``sql``)

    @classmethod
    def of(cls, target: Target) -> ConnectionReport:
        return cls(target.name, target.driver.name, redact(target.url), target.test, chain=target.chain_name)

    def done(self, direction: str, migration: str, duration_ms: int) -> None:
        entry = {"id": migration, "duration_ms": duration_ms}
        (self.applied if direction == "up" else self.rolled_back).append(entry)

    @property
    def ok(self) -> bool:
        return self.error is None

    def summary(self) -> str:
        """``2 applied, 1 rolled back in 140 ms`` (or ``nothing to do``); under
        --pretend, ``would roll back 1 (--pretend: nothing was changed)``."""
        if self.pretended and not (self.applied or self.rolled_back or self.dropped):
            ups = sum(1 for p in self.pretended if p["direction"] == "up")
            downs = len(self.pretended) - ups
            would = [f"would roll back {downs}"] if downs else []
            would += [f"would apply {ups}"] if ups else []
            return f"{', '.join(would)} (--pretend: nothing was changed)"
        parts = []
        if self.dropped:
            parts.append(f"{len(self.dropped)} table(s) or collection(s) dropped")
        if self.rolled_back:
            parts.append(f"{len(self.rolled_back)} rolled back")
        if self.applied:
            parts.append(f"{len(self.applied)} applied")
        return f"{', '.join(parts) or 'nothing to do'} in {self.duration_ms} ms"

    def as_json(self) -> dict[str, Any]:
        return {
            "connection": self.connection,
            "chain": self.chain,
            "driver": self.driver,
            "url": self.url,
            "test": self.test,
            "ok": self.ok,
            "applied": self.applied,
            "rolled_back": self.rolled_back,
            "failed": self.failed,
            "error": self.error,
            "dropped": self.dropped,
            "pretend": self.pretended,
            "data_loss": [loss.as_json() for loss in self.data_loss],
            "backup": self.backup,
            "warnings": self.warnings,
            "duration_ms": self.duration_ms,
        }


# ---------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    """Something a command did on one connection, reported as it happens (like
    Django's ``progress_callback``). ``connection`` is the configured name;
    ``text`` is the line the command line prints for it (empty: it prints none).
    Subscribe through ``modelmig_core.commands.subscribe`` (``api.subscribe``), a
    command's ``on_event``, or a plugin's ``on_event`` hook. Fields are stable: new
    ones are only ever added. ``chain`` names the chain the connection runs (a
    declared ``[chains.<name>]``'s name, or its family's: ``sql``), set by the
    command loop on every event it reports (a keyword-only field)."""

    connection: str
    text: str
    chain: str = field(default="", kw_only=True)


@dataclass(frozen=True)
class ConnectionStarted(Event):
    """Work on a connection begins (its session is opened on first use)."""

    driver: str


@dataclass(frozen=True)
class MigrationStarted(Event):
    """A migration starts: ``direction`` "up" (applying) or "down" (rolling back)."""

    migration: str
    direction: str


@dataclass(frozen=True)
class MigrationApplied(Event):
    """A migration ran to its end and is recorded in the ledger ("down": rolled back)."""

    migration: str
    direction: str
    duration_ms: int


@dataclass(frozen=True)
class MigrationFailure(Event):
    """A migration failed; ``error`` is its one-line cause."""

    migration: str
    direction: str
    error: str


@dataclass(frozen=True)
class Warned(Event):
    """A warning (a modified file, data a drop loses, ...): ``message`` has no prefix."""

    message: str


@dataclass(frozen=True)
class LockWaiting(Event):
    """Waiting for another runner's lock, held by ``holder``."""

    holder: str


@dataclass(frozen=True)
class Progress(Event):
    """Any other line: nothing to migrate, a --pretend statement, a backup's note."""


@dataclass(frozen=True)
class ConnectionFinished(Event):
    """Work on a connection ended: ``error`` None when it succeeded; a connection
    that ``--fail-fast`` never started has ``started`` False."""

    error: str | None
    duration_ms: int
    started: bool = True
    exception: BaseException | None = field(default=None, compare=False, repr=False)

"""The state of a chain is the replay of its migration files, in order.

A command replays a chain once: each migration file is loaded once, and the
states before and after every operation of a migration come from that replay
(``History.steps``), for the diff, the renderers and the runner alike.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Chain
from ..driver import Step
from ..errors import MigrationFileError
from .migrations import Migration, MigrationFile, files_of, load


@dataclass
class History:
    family: str
    empty: Callable[[], Any]
    migrations: list[Migration] = field(default_factory=list)
    states: list[Any] = field(default_factory=list)  # states[i] = state before migrations[i]; last = head
    #: (migration id, direction) -> its steps, made once (the same list for every
    #: connection of a command, so their rendering can be shared: ``shared.py``)
    _steps: dict[tuple[str, str], list[Step]] = field(default_factory=dict, repr=False, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    chain: str = ""  # the chain's name (a default chain's is its family's)

    @property
    def head(self) -> Any:
        return self.states[-1] if self.states else self.empty()

    @property
    def last_id(self) -> str | None:
        return self.migrations[-1].id if self.migrations else None

    def index(self, mid: str) -> int:
        for i, m in enumerate(self.migrations):
            if m.id == mid:
                return i
        raise MigrationFileError(f"migration {mid} has no file in the {self.chain or self.family} chain")

    def migration(self, mid: str) -> Migration:
        return self.migrations[self.index(mid)]

    def state_before(self, mid: str) -> Any:
        return self.states[self.index(mid)]

    def state_after(self, mid: str) -> Any:
        return self.states[self.index(mid) + 1]

    def steps(self, migration: Migration, direction: str) -> list[Step]:
        """Each operation of ``migration`` in ``direction`` with the states just
        before and after it."""
        with self._lock:
            known = self._steps.get((migration.id, direction))
            if known is None:
                known = self._steps[(migration.id, direction)] = self._make_steps(migration, direction)
            return known

    def _make_steps(self, migration: Migration, direction: str) -> list[Step]:
        if direction == "up":
            state, ops = self.state_before(migration.id), migration.up
        else:
            state, ops = self.state_after(migration.id), migration.down
        out = []
        for i, op in enumerate(ops):
            try:
                after = op.state_forwards(state)
            except MigrationFileError as exc:
                raise MigrationFileError(f"{migration.path}: {direction}[{i}]: {exc}") from None
            out.append(Step(op, state, after))
            state = after
        return out


def check_chain(migrations: list[Migration]) -> None:
    """Each migration's parent is the one before it (files run in name order). When
    not, one error that says what is wrong, naming the files: a parent that is no
    migration of the chain, a migration that is its own ancestor (a cycle), a parent
    newer than its child, or two migrations made from the same parent."""
    by_id = {m.id: m for m in migrations}
    previous: str | None = None
    for m in migrations:
        if m.parent != previous:
            raise MigrationFileError(_chain_problem(m, migrations, by_id, previous))
        previous = m.id


def _chain_problem(m: Migration, migrations: list[Migration], by_id: dict[str, Migration], previous: str | None) -> str:
    parent = m.parent
    if parent is not None and parent not in by_id:
        return (
            f"{m.path}: its parent {parent!r} is not a migration of this chain (no file {parent}.py in "
            f"{m.path.parent}): restore that file, or set parent = {previous!r} (the migration before it)"
        )
    seen = [m.id]
    cursor = parent
    while cursor is not None and cursor in by_id:
        if cursor in seen:
            loop = [*seen[seen.index(cursor) :], cursor]
            files = " -> ".join(by_id[i].path.name for i in loop)
            return f"{m.path}: its parents form a cycle ({files}): each migration's parent must be the one before it"
        seen.append(cursor)
        cursor = by_id[cursor].parent
    if parent is not None and parent >= m.id:
        return (
            f"{m.path}: its parent {parent!r} comes after it (migrations run in file-name order): "
            f"set parent = {previous!r}, or rename the files so that the parent comes first"
        )
    siblings = [o for o in migrations if o.parent == parent and o is not m]
    if siblings:
        names = ", ".join(o.path.name for o in siblings)
        return (
            f"{m.path}: parent is {parent!r}, the same as {names}: two migrations were made from the same parent; "
            "delete the newer one and run make:migration again"
        )
    return (
        f"{m.path}: parent is {parent!r} but the migration before it is {previous!r}: "
        f"set parent = {previous!r}, or restore the migrations in between"
    )


def replay(
    migrations_dir: Path,
    family: str,
    empty: Callable[[], Any] | None = None,
    files: list[MigrationFile] | None = None,
) -> History:
    """``replay_chain`` of the default chain of ``family``."""
    return replay_chain(Chain.default(migrations_dir, family), empty, files)


def replay_chain(
    chain: Chain, empty: Callable[[], Any] | None = None, files: list[MigrationFile] | None = None
) -> History:
    """Load every file of the chain once and replay it from ``empty()`` (default:
    the empty relational state)."""
    if empty is None:
        from ..schema.state import State

        empty = State
    files = files_of(chain) if files is None else files
    migrations = [load(f) for f in files]
    check_chain(migrations)
    state = empty()
    history = History(chain.family, empty, migrations, [state], chain=chain.name)
    for m in migrations:
        for i, op in enumerate(m.up):
            try:
                state = op.state_forwards(state)
            except MigrationFileError as exc:
                raise MigrationFileError(f"{m.path}: up[{i}]: {exc}") from None
        history.states.append(state)
    return history


def head(migrations_dir: Path, family: str, empty: Callable[[], Any]) -> tuple[Any, str | None]:
    """``chain_head`` of the default chain of ``family``."""
    return chain_head(Chain.default(migrations_dir, family), empty)


def chain_head(chain: Chain, empty: Callable[[], Any]) -> tuple[Any, str | None]:
    """The chain's head state and last migration id: from the replay cache when the
    chain's files are unchanged (``statecache.py``), else from a replay (which then
    refreshes the cache). ``MODELMIG_NO_CACHE=1`` always replays. The cache of a
    chain sits beside its folder, named after it (``migrations/.modelmig-cache/sql.json``)."""
    from . import statecache

    files = files_of(chain)
    cacheable = isinstance(empty, type) and os.environ.get("MODELMIG_NO_CACHE", "") in ("", "0")
    where, name = chain.folder.parent, chain.folder.name
    if cacheable and files:
        try:
            return statecache.load(where, name, files, empty)  # type: ignore[arg-type]
        except statecache.CacheMiss:
            pass
    history = replay_chain(chain, empty, files)
    if cacheable and files:
        statecache.store(where, name, files, history.head, history.last_id)
    return history.head, history.last_id

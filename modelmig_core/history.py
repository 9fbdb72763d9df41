"""The state of a chain is the replay of its migration files, in order."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import MigrationFileError
from .migrations import Migration, MigrationFile, list_files, load
from .state import State


@dataclass
class History:
    family: str
    migrations: list[Migration] = field(default_factory=list)
    states: list[State] = field(default_factory=list)  # states[i] = state before migrations[i]; last = head

    @property
    def head(self) -> State:
        return self.states[-1] if self.states else State()

    @property
    def last_id(self) -> str | None:
        return self.migrations[-1].id if self.migrations else None

    def index(self, mid: str) -> int:
        for i, m in enumerate(self.migrations):
            if m.id == mid:
                return i
        raise MigrationFileError(f"migration {mid} has no file in the {self.family} chain")

    def state_before(self, mid: str) -> State:
        return self.states[self.index(mid)]

    def state_after(self, mid: str) -> State:
        return self.states[self.index(mid) + 1]


def check_chain(files: list[MigrationFile], migrations: list[Migration]) -> None:
    previous: str | None = None
    for m in migrations:
        if m.parent != previous:
            raise MigrationFileError(
                f"{m.path}: parent is {m.parent!r} but the migration before it is {previous!r}; "
                "two migrations were made from the same parent: delete the newer one and run make:migration again"
            )
        previous = m.id


def replay(migrations_dir: Path, family: str) -> History:
    files = list_files(migrations_dir, family)
    migrations = [load(f) for f in files]
    check_chain(files, migrations)
    history = History(family, migrations, [State()])
    state = State()
    for m in migrations:
        for i, op in enumerate(m.up):
            try:
                state = op.state_forwards(state)
            except MigrationFileError as exc:
                raise MigrationFileError(f"{m.path}: up[{i}]: {exc}") from None
        history.states.append(state)
    return history

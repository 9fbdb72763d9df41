"""Operations on the views the models declare: create, drop, replace (a changed SELECT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ...errors import MigrationFileError
from ..state import State, View
from .base import Operation


def _kind(view: View) -> str:
    return "materialized view" if view.materialized else "view"


def _view_of(state: State, name: str) -> View:
    view = state.views.get(name)
    if view is None:
        raise MigrationFileError(f"view {name!r} does not exist in the migration state")
    return view


@dataclass(frozen=True)
class CreateView(Operation):
    """Create ``view`` (its name and SELECT)."""

    view: View
    creates = "view"

    def state_forwards(self, state: State) -> State:
        if self.view.name in state.views or self.view.name in state.tables:
            raise MigrationFileError(f"CreateView: {self.view.name!r} already exists in the migration state")
        return state.with_view(self.view)

    def inverse(self) -> Operation:
        return DropView(self.view)

    def describe(self) -> str:
        return f"create {_kind(self.view)} {self.view.name}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("materialized_views",) if self.view.materialized else ()

    @property
    def subject(self) -> str | None:
        return self.view.name


@dataclass(frozen=True)
class DropView(Operation):
    """Drop ``view`` (kept whole, so that the inverse creates it again)."""

    view: View

    def state_forwards(self, state: State) -> State:
        _view_of(state, self.view.name)
        return state.without_view(self.view.name)

    def inverse(self) -> Operation:
        return CreateView(self.view)

    def describe(self) -> str:
        return f"drop {_kind(self.view)} {self.view.name}"

    @property
    def subject(self) -> str | None:
        return self.view.name


@dataclass(frozen=True)
class ReplaceView(Operation):
    """Give view ``old.name`` the SELECT of ``new`` (the same name)."""

    old: View
    new: View

    def state_forwards(self, state: State) -> State:
        if _view_of(state, self.old.name) != self.old:
            raise MigrationFileError(f"ReplaceView: view {self.old.name!r} is not as this migration expects")
        if self.new.name != self.old.name:
            raise MigrationFileError(f"ReplaceView: {self.old.name!r} and {self.new.name!r} are not one view")
        return state.with_view(self.new)

    def inverse(self) -> Operation:
        return ReplaceView(self.new, self.old)

    def describe(self) -> str:
        return f"replace {_kind(self.new)} {self.new.name}"

    def requires(self, before: Any) -> tuple[str, ...]:
        return ("materialized_views",) if self.new.materialized else ()

    @property
    def subject(self) -> str | None:
        return self.new.name

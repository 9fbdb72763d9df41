"""The migrate commands from Python, with results as values — what an app calls
to migrate at start-up, and what the pytest plugin uses (like ``alembic.command``
or Django's ``call_command``)::

    from modelmig_core import api

    project = api.open_project("pyproject.toml")
    for result in api.run(project, connections=["main"]):
        print(result.connection, result.count)

Each command takes the same targets as the CLI (``connections``, ``drivers``,
``all_connections``, ``test``) and returns one ``MigrationResult`` per target;
errors are raised as ``ModelmigError`` (one clear line, as the CLI prints them).
Opening a project makes its folder the working directory, as the CLI does, so
relative SQLite paths and model modules resolve the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Config
from .registry import Registry
from .runner import Runner, StatusRow
from .targets import Target, select_targets

__all__ = ["MigrationResult", "Project", "StatusRow", "fresh", "open_project", "reset", "rollback", "run", "status"]


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


@dataclass
class StatusResult:
    connection: str
    driver: str
    test: bool
    migrations: list[StatusRow]


def open_project(config_path: str | Path | None = None) -> Project:
    """Load ``[tool.modelmig]`` from ``config_path`` (or found from the working
    directory upward) with its plugins."""
    from .app import open_app

    config, registry = open_app(Path(config_path) if config_path is not None else None)
    return Project(config, registry)


def _each(
    project: Project, targets: list[Target], work: Callable[[Runner], int], echo: Callable[[str], None] | None
) -> list[MigrationResult]:
    out = []
    for target in targets:
        lines: list[str] = []

        def say(line: str, lines: list[str] = lines) -> None:
            lines.append(line)
            if echo is not None:
                echo(line)

        with Runner(project.config, project.registry, target, say) as runner:
            count = work(runner)
        out.append(MigrationResult(target.name, target.driver.name, target.url, target.test, count, lines))
    return out


def run(
    project: Project,
    *,
    pretend: bool = False,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    **targets: Any,
) -> list[MigrationResult]:
    """Apply every pending migration on each target."""
    return _each(project, project.targets(**targets), lambda r: r.run(pretend=pretend, force=force, yes=yes), echo)


def rollback(
    project: Project,
    *,
    step: int | None = None,
    pretend: bool = False,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    **targets: Any,
) -> list[MigrationResult]:
    """Roll back the last batch (or ``step`` migrations) on each target."""
    return _each(
        project,
        project.targets(**targets),
        lambda r: r.rollback(step=step, pretend=pretend, force=force, yes=yes),
        echo,
    )


def reset(
    project: Project,
    *,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    **targets: Any,
) -> list[MigrationResult]:
    """Roll back every migration on each target (guarded as ``migrate:reset``)."""
    from .guard import check_production

    check_production("migrate:reset", force=force, yes=yes)
    return _each(
        project,
        project.targets(**targets),
        lambda r: r.rollback(everything=True, force=True, yes=True, command="migrate:reset", allow_modified=force),
        echo,
    )


def fresh(
    project: Project,
    *,
    force: bool = False,
    yes: bool = False,
    echo: Callable[[str], None] | None = None,
    **targets: Any,
) -> list[MigrationResult]:
    """Drop everything, then run every migration, on each target (guarded as
    ``migrate:fresh``)."""
    from .guard import check_production

    check_production("migrate:fresh", force=force, yes=yes)
    return _each(project, project.targets(**targets), lambda r: r.fresh(), echo)


def status(project: Project, **targets: Any) -> list[StatusResult]:
    """Each target's migrations and their status."""
    out = []
    for target in project.targets(**targets):
        with Runner(project.config, project.registry, target, lambda line: None) as runner:
            rows = runner.status()
        out.append(StatusResult(target.name, target.driver.name, target.test, rows))
    return out

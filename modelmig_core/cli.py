"""The ``modelmig`` command line (click). Imports no driver and no SQLAlchemy until
a command needs them."""

from __future__ import annotations

import json
import os
import sys
import traceback
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any

import click

from .errors import ModelmigError

DRIVER_FLAGS = ("sqlite", "pg", "mysql", "mongo")


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One line and a non-zero exit for every error; a traceback only with MODELMIG_DEBUG=1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ModelmigError as exc:
            if os.environ.get("MODELMIG_DEBUG"):
                traceback.print_exc()
            _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, exc.exit_code)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - never a traceback for the user
            if os.environ.get("MODELMIG_DEBUG"):
                traceback.print_exc()
            first = (str(exc).strip().splitlines() or [""])[0]
            _fail(f"{type(exc).__name__}: {first}", 1)

    return wrapper


def target_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--connection", "connections", multiple=True, metavar="NAME", help="A configured connection (repeatable)."
        ),
        click.option("--sqlite", is_flag=True, help="Every configured SQLite connection."),
        click.option("--pg", is_flag=True, help="Every configured PostgreSQL connection."),
        click.option("--mysql", is_flag=True, help="Every configured MySQL/MariaDB connection."),
        click.option("--mongo", is_flag=True, help="Every configured MongoDB connection (only when asked for)."),
        click.option(
            "--driver", "driver_names", multiple=True, metavar="NAME", help="Every connection of this driver."
        ),
        click.option("--all-connections", is_flag=True, help="Every connection whose driver declares the sql feature."),
        click.option("--test", is_flag=True, help="Use each connection's test_url."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def destructive_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--pretend, --force, --yes: the options of every command that may drop data."""
    options = [
        click.option("--pretend", is_flag=True, help="Print what would run; change nothing."),
        click.option(
            "--force",
            is_flag=True,
            help="Needed in production to drop data (with --yes and MODELMIG_ALLOW_PROD_DESTRUCTIVE=true).",
        ),
        click.option("--yes", is_flag=True, help="Confirm without asking."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _targets(ctx_obj: dict[str, Any], kw: dict[str, Any]) -> tuple[Any, Any, list[Any]]:
    from .app import open_app
    from .targets import select_targets

    config, plugins = open_app(ctx_obj.get("config"))
    drivers = [d for d in DRIVER_FLAGS if kw.pop(d)] + list(kw.pop("driver_names"))
    targets = select_targets(
        config,
        plugins,
        connections=kw.pop("connections"),
        drivers=drivers,
        all_connections=kw.pop("all_connections"),
        test=kw.pop("test"),
    )
    return config, plugins, targets


def _each(config: Any, plugins: Any, targets: list[Any], work: Callable[[Any], str | None]) -> None:
    """Run ``work`` on each target in turn; with several, print a summary and fail if any did."""
    from .runner import Runner

    if len(targets) == 1:
        with Runner(config, plugins, targets[0], click.echo) as runner:
            work(runner)
        return
    failures = 0
    summary = []
    for target in targets:
        try:
            with Runner(config, plugins, target, click.echo) as runner:
                result = work(runner) or "ok"
            summary.append(f"  {target.label}: {result}")
        except ModelmigError as exc:
            failures += 1
            summary.append(f"  {target.label}: FAILED: {str(exc).splitlines()[0]}")
        except Exception as exc:  # noqa: BLE001
            failures += 1
            summary.append(
                f"  {target.label}: FAILED: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            )
    click.echo("summary:")
    for line in summary:
        click.echo(line)
    if failures:
        _fail(f"{failures} of {len(targets)} connection(s) failed", 1)


_NO_ARGS_IS_HELP: type[Exception] | tuple[()] = getattr(click.exceptions, "NoArgsIsHelpError", ())


class OneLineErrors(click.Group):
    """Usage errors (an unknown flag or command, a bad value) as one ``error:`` line
    naming the command and pointing at its --help, instead of click's usage block."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        try:
            return super().main(*args, standalone_mode=False, **kwargs)
        except _NO_ARGS_IS_HELP as exc:  # plain `modelmig`: the help, as click prints it
            click.echo(exc.format_message(), err=True)
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx else "modelmig"
            click.echo(f"error: {where}: {exc.format_message()} (see {where} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("error: aborted, nothing was changed", err=True)
            sys.exit(1)


@click.group("modelmig", cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="modelmig.toml or pyproject.toml to use."
)
@click.version_option(package_name="modelmig")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """modelmig: model-first schema migrations for SQLite, PostgreSQL, MySQL/MariaDB and MongoDB."""
    ctx.obj = {"config": config_path}


@cli.command("make:migration")
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option("--name", help="Name of the migration (default: derived from the change).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the models and migrations differ.")
@click.option("--pivot-separate", is_flag=True, help="Write generated pivot tables in a migration of their own.")
@click.pass_obj
@handle_errors
def make_migration(
    obj: dict[str, Any], models: tuple[str, ...], name: str | None, check: bool, pivot_separate: bool
) -> None:
    """Diff the models against the migrations and write the next migration
    (only the named MODELs' changes, and the pivots between them, when given)."""
    from .app import open_app
    from .make import plan, write

    config, plugins = open_app(obj.get("config"))
    planned = plan(config, plugins, name, models, pivot_separate)
    if check:
        if planned:
            for p in planned:
                ops = ", ".join(op.describe() for op in p.up)
                click.echo(f"{p.family}: models and migrations differ: {ops}")
            sys.exit(1)
        click.echo("models and migrations agree")
        return
    if not planned:
        click.echo("No changes: the models match the migrations.")
        return
    write(planned)
    for p in planned:
        rel = os.path.relpath(p.path, Path.cwd())
        click.echo(f"Created {rel} ({len(p.up)} operation(s))")


@cli.command("migrate:run")
@target_options
@destructive_options
@click.pass_obj
@handle_errors
def migrate_run(obj: dict[str, Any], pretend: bool, force: bool, yes: bool, **kw: Any) -> None:
    """Apply every pending migration."""
    config, plugins, targets = _targets(obj, kw)
    _each(config, plugins, targets, lambda r: f"{r.run(pretend=pretend, force=force, yes=yes)} applied")


def _positive(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter("must be 1 or more")
    return value


@cli.command("migrate:rollback")
@target_options
@click.option("--step", type=int, callback=_positive, help="Roll back this many migrations (default: the last batch).")
@destructive_options
@click.pass_obj
@handle_errors
def migrate_rollback(obj: dict[str, Any], step: int | None, pretend: bool, force: bool, yes: bool, **kw: Any) -> None:
    """Roll back the last batch (or --step N migrations)."""
    config, plugins, targets = _targets(obj, kw)
    _each(
        config,
        plugins,
        targets,
        lambda r: f"{r.rollback(step=step, pretend=pretend, force=force, yes=yes)} rolled back",
    )


def _confirm(what: str, force: bool, yes: bool, pretend: bool) -> None:
    from .guard import confirm_destructive

    if pretend:
        return
    confirm_destructive(what, force=force, yes=yes, ask=lambda q: click.confirm(q, default=False))


@cli.command("migrate:reset")
@target_options
@destructive_options
@click.pass_obj
@handle_errors
def migrate_reset(obj: dict[str, Any], pretend: bool, force: bool, yes: bool, **kw: Any) -> None:
    """Roll back every migration."""
    config, plugins, targets = _targets(obj, kw)
    _confirm("migrate:reset", force, yes, pretend)
    _each(
        config,
        plugins,
        targets,
        lambda r: (
            f"{r.rollback(everything=True, pretend=pretend, force=True, yes=True, command='migrate:reset')} rolled back"
        ),
    )


@cli.command("migrate:fresh")
@target_options
@destructive_options
@click.pass_obj
@handle_errors
def migrate_fresh(obj: dict[str, Any], pretend: bool, force: bool, yes: bool, **kw: Any) -> None:
    """Drop every table, then run every migration."""
    config, plugins, targets = _targets(obj, kw)
    _confirm("migrate:fresh", force, yes, pretend)
    _each(config, plugins, targets, lambda r: f"{r.fresh(pretend=pretend)} applied")


@cli.command("migrate:status")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
@handle_errors
def migrate_status(obj: dict[str, Any], as_json: bool, **kw: Any) -> None:
    """Show each migration: applied (batch, time), pending, modified, missing,
    running (another runner is applying it now) or interrupted."""
    from .runner import Runner

    config, plugins, targets = _targets(obj, kw)
    report = []
    for target in targets:
        with Runner(config, plugins, target, click.echo) as runner:
            rows = runner.status()
        report.append((target, rows))
    if as_json:
        out = [
            {"connection": t.name, "driver": t.driver.name, "test": t.test, "migrations": [r.as_json() for r in rows]}
            for t, rows in report
        ]
        click.echo(json.dumps({"connections": out}, indent=2))
        return
    for target, rows in report:
        click.echo(f"{target.label}")
        if not rows:
            click.echo("  no migrations")
        width = max((len(r.id) for r in rows), default=0)
        for r in rows:
            extra = f"  batch {r.batch}  {r.applied_at}" if r.batch is not None else ""
            click.echo(f"  {r.id.ljust(width)}  {r.status}{extra}")


def main() -> None:
    cli(prog_name="modelmig")


@cli.command("migrate:resolve")
@click.argument("migration_id")
@click.option("--applied", "outcome", flag_value="applied", help="Its changes are all in place.")
@click.option("--rolled-back", "outcome", flag_value="rolled-back", help="None of its changes are in place.")
@target_options
@click.pass_obj
@handle_errors
def migrate_resolve(obj: dict[str, Any], migration_id: str, outcome: str | None, **kw: Any) -> None:
    """Settle a migration interrupted on a database without transactional DDL,
    after repairing the schema by hand."""
    from .resolve import resolve

    if outcome is None:
        raise click.UsageError("say how the interrupted migration ended: --applied or --rolled-back")
    config, plugins, targets = _targets(obj, kw)
    _each(config, plugins, targets, lambda runner: resolve(runner, migration_id, outcome == "applied"))

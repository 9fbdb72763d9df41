"""The ``modelmig`` command line (click). Imports no driver and no SQLAlchemy until
a command needs them."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .errors import ModelmigError
from .output import Output, silence_stdout

if TYPE_CHECKING:
    from .run.report import ConnectionReport

DRIVER_FLAGS = ("sqlite", "pg", "mysql", "mongo")


def _debug() -> bool:
    """MODELMIG_DEBUG set to anything but empty, 0, false, no or off."""
    return os.environ.get("MODELMIG_DEBUG", "").strip().lower() not in ("", "0", "false", "no", "off")


def _print_traceback(exc: BaseException | None = None, tag: str | None = None) -> None:
    """With MODELMIG_DEBUG=1: the exception's whole traceback (the one being handled
    by default; with its causes) on stderr, scrubbed of every known secret like
    any other output (traceback is imported only then)."""
    if not _debug():
        return
    import traceback

    if exc is None:
        exc = sys.exc_info()[1]
    if exc is None:
        return
    text = "".join(traceback.format_exception(exc)).rstrip("\n")
    out = Output()
    if tag:
        out.raw_err(f"{tag}: traceback (MODELMIG_DEBUG):")
    for line in text.splitlines():
        out.raw_err(line)


def _fail(message: str, code: int) -> None:
    Output().error(message)
    sys.exit(code)


def _one_line(exc: BaseException) -> str:
    text = (str(exc).strip().splitlines() or [""])[0]
    if isinstance(exc, ModelmigError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}"


def handle_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """One line and a non-zero exit for every error; a traceback only with MODELMIG_DEBUG=1."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ModelmigError as exc:
            _print_traceback()
            _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, exc.exit_code)
        except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # noqa: BLE001 - never a traceback for the user
            _print_traceback()
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
        click.option(
            "--jobs",
            type=int,
            default=1,
            callback=lambda ctx, param, value: _positive(ctx, param, value),
            metavar="N",
            help="Work on up to N connections at once (a fleet of databases).",
        ),
        click.option("--fail-fast", is_flag=True, help="With several connections: stop starting more after a failure."),
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
    _warn_app_env()
    ctx_obj["jobs"] = kw.pop("jobs", 1) or 1
    ctx_obj["fail_fast"] = kw.pop("fail_fast", False)
    flags = {d: f"--{d}" for d in DRIVER_FLAGS if kw.pop(d)}  # how each driver was asked for, for its errors
    for name in kw.pop("driver_names"):
        flags.setdefault(name, f"--driver {name}")
    drivers = list(flags)
    targets = select_targets(
        config,
        plugins,
        connections=kw.pop("connections"),
        drivers=drivers,
        all_connections=kw.pop("all_connections"),
        test=kw.pop("test"),
        flags=flags,
    )
    return config, plugins, targets


def _warn_app_env() -> None:
    """One line on stderr when APP_ENV looks like production but is not taken as it."""
    from .run.guard import lookalike_warning

    warning = lookalike_warning()
    if warning:
        Output().warn(warning)


json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print what was done as JSON on stdout (progress goes to stderr)."
)


@contextmanager
def _json_result(command: str, out: Output) -> Iterator[list[ConnectionReport]]:
    """Collects each connection's report; under --json prints them as one JSON
    document on stdout, whatever happened (the error line follows on stderr)."""
    reports: list[ConnectionReport] = []
    error: str | None = None
    try:
        yield reports
    except Exception as exc:
        error = _one_line(exc)
        raise
    finally:
        if out.json_mode:
            out.json(
                {
                    "command": command,
                    "ok": error is None and all(r.ok for r in reports),
                    "error": error,
                    "connections": [r.as_json() for r in reports],
                }
            )


def _parallel(obj: dict[str, Any]) -> dict[str, Any]:
    """The --jobs and --fail-fast a command was given (read by _targets)."""
    return {"jobs": obj.get("jobs", 1), "fail_fast": obj.get("fail_fast", False)}


def _renderer(out: Output, several: bool) -> Callable[[Any], None]:
    """The command line's subscriber: each event's line, as the runner always
    printed it (warnings on stderr); with several connections, a failed one's
    traceback under MODELMIG_DEBUG=1 (one connection's is printed by handle_errors)."""
    from .run.report import ConnectionFinished

    def render(event: Any) -> None:
        if event.text:
            out.echo(event.text)
        if several and isinstance(event, ConnectionFinished) and event.exception is not None:
            _print_traceback(event.exception, event.connection)

    return render


def _loop(
    config: Any,
    plugins: Any,
    targets: list[Any],
    work: Callable[[Any], Any],
    out: Output,
    *,
    jobs: int = 1,
    fail_fast: bool = False,
    render: bool = True,
    reflect: bool = False,
    also: Callable[[Any], None] | None = None,
) -> list[Any]:
    """``commands.each`` with its events printed (and given to ``also``: the fleet report)."""
    from .commands import each

    printed = _renderer(out, len(targets) > 1)

    def on_event(event: Any) -> None:
        printed(event)
        if also is not None:
            also(event)

    return each(
        config,
        plugins,
        targets,
        work,
        jobs=jobs,
        fail_fast=fail_fast,
        on_event=on_event,
        render=render,
        reflect=reflect,
    )


def _each(
    config: Any,
    plugins: Any,
    targets: list[Any],
    work: Callable[[Any], object],
    out: Output,
    reports: list[ConnectionReport] | None = None,
    jobs: int = 1,
    fail_fast: bool = False,
    reflect: bool = False,
    also: Callable[[Any], None] | None = None,
) -> None:
    """Run ``work`` on each target through the one loop (``commands.each``) and close
    with a summary: one line for one connection (when it did something), a block
    for several. One connection's failure is raised as it is; with several, the
    others still run (unless ``fail_fast``: then no more are started) and the
    command fails at the end."""
    outcomes = _loop(config, plugins, targets, work, out, jobs=jobs, fail_fast=fail_fast, reflect=reflect, also=also)
    if reports is not None:
        reports.extend(o.report for o in outcomes)
    summary = []
    for o in outcomes:
        report, target = o.report, o.target
        text = o.result if isinstance(o.result, str) else report.summary()
        if report.error is not None:
            summary.append(f"  {target.label}: FAILED: {report.error} ({report.duration_ms} ms)")
        else:
            summary.append(f"  {target.label}: {text}")
            if len(targets) == 1 and (report.applied or report.rolled_back or report.dropped or report.pretended):
                out.info(f"{target.tag}: {text}")
    if len(targets) == 1:
        if outcomes[0].exception is not None:
            raise outcomes[0].exception
        return
    out.info("summary:")
    for line in summary:
        out.info(line)
    failed = sum(1 for o in outcomes if not o.ok)
    if failed:
        _fail(f"{failed} of {len(targets)} connection(s) failed", 1)


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
            Output().error(f"{where}: {exc.format_message()} (see {where} --help)")
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            Output().error(exc.format_message())
            sys.exit(exc.exit_code)
        except click.Abort:
            Output().error("aborted, nothing was changed")
            sys.exit(1)


@click.group("modelmig", cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="modelmig.toml or pyproject.toml to use."
)
@click.version_option(package_name="modelmig")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """modelmig: model-first schema migrations for SQLite, PostgreSQL, MySQL/MariaDB and MongoDB."""
    from .redaction import forget

    forget()  # the secrets of this command's config and URLs are learnt afresh
    ctx.obj = {"config": config_path}


@cli.command("init")
@click.option(
    "--url", metavar="URL", help="The main connection's URL (default: sqlite:///app.sqlite3); a password as ${VAR}."
)
@click.option("--driver", metavar="NAME", help="The driver of the connection (default: chosen by the URL's scheme).")
@click.option("--pyproject", "where", flag_value="pyproject", help="Write [tool.modelmig] into pyproject.toml.")
@click.option("--toml", "where", flag_value="toml", help="Write modelmig.toml (even beside a pyproject.toml).")
@handle_errors
def init(url: str | None, driver: str | None, where: str | None) -> None:
    """Start a project here: the configuration, a models module with an example model,
    and the migrations folder. Never overwrites anything."""
    from .init import init as run_init

    out = Output()
    run_init(Path.cwd(), url, driver, where, out.data)


@cli.command("make:migration")
@click.argument("models", nargs=-1, metavar="[MODEL]...")
@click.option("--name", help="Name of the migration (default: derived from the change).")
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if the models and migrations differ.")
@click.option(
    "--empty", is_flag=True, help="Write an empty migration (needs --name) for hand-written RunSQL/RunPython."
)
@click.option("--family", default="sql", show_default=True, metavar="FAMILY", help="The chain of an --empty migration.")
@click.option("--chain", "chain", metavar="NAME", help="The declared chain ([chains.NAME]) of an --empty migration.")
@click.option("--pivot-separate", is_flag=True, help="Write generated pivot tables in a migration of their own.")
@click.pass_obj
@handle_errors
def make_migration(
    obj: dict[str, Any],
    models: tuple[str, ...],
    name: str | None,
    check: bool,
    empty: bool,
    family: str,
    chain: str | None,
    pivot_separate: bool,
) -> None:
    """Diff the models against the migrations and write the next migration
    (only the named MODELs' changes, and the pivots between them, when given)."""
    from .app import open_app

    out = Output()
    if empty and check:
        raise click.UsageError("--empty and --check cannot be combined")
    if chain is not None and not empty:
        raise click.UsageError("--chain names the chain of an --empty migration (make writes each chain's own)")
    config, plugins = open_app(obj.get("config"))
    known = None
    if not empty and not models and not check:  # make's memo: "no changes" without the compiler and the diff
        from .history import nochange

        known = nochange.known(config, plugins)
        if known[2]:
            out.data("No changes: the models match the migrations.")
            return
    from .make import Refused, chain_problems, lint_written, plan_empty, plan_refusals, write
    from .sql.dataloss import destructive_ops, what

    if empty:
        if not name:
            raise click.UsageError("--empty needs --name NAME (what the hand-written migration does)")
        planned, refusals = [plan_empty(config, plugins, name, family, chain)], []
    else:
        planned, refusals = plan_refusals(config, plugins, name, models, pivot_separate, memo=not check, known=known)
    if refusals and not check:  # every refusal at once, and nothing written
        for line in refusals:
            out.error(line)
        if len(refusals) > 1:
            out.error(Refused(refusals).summary())
        sys.exit(Refused.exit_code)
    if check:
        problems = refusals + chain_problems(config, plugins, planned)
        for p in planned:
            ops = ", ".join(op.describe() for op in p.up)
            out.data(f"{p.chain_name}: models and migrations differ: {ops}")
        for line in problems:
            out.error(line)
        if len(problems) > 1:
            out.error(Refused(problems).summary("the models cannot be migrated on every configured connection"))
        if planned or problems:
            sys.exit(1)
        out.data("models and migrations agree")
        return
    if not planned:
        out.data("No changes: the models match the migrations.")
        return
    write(planned)
    for p in planned:
        rel = os.path.relpath(p.path, Path.cwd())
        if empty:
            out.data(f"Created {rel} (empty: write its up and down operations by hand)")
        else:
            out.data(f"Created {rel} ({len(p.up)} operation(s))")
        for op in destructive_ops(p.up):
            out.warn(f"{rel} drops data when it runs: {what(op)}")
    if not empty:
        _print_lint(out, lint_written(config, plugins, planned))


def _print_lint(out: Output, lines: list[str]) -> None:
    """make:migration's lint of what it wrote: each finding on stderr, then how to
    acknowledge one (``migrate:lint`` exits 1 on those not acknowledged)."""
    for line in lines:
        out.warn(f"lint: {line}")
    down = sum(1 for line in lines if " (down): " in line)
    if lines:
        of_down = f" ({down} in the rollback's plan, marked (down))" if down else ""
        out.warn(
            f"lint: {len(lines)} finding(s) on a busy database{of_down}; acknowledge each rule you accept with "
            'lint_ignore = {"rule": "reason"} in the migration file (modelmig migrate:lint checks them)'
        )


@cli.command("migrate:run")
@target_options
@destructive_options
@json_option
@click.pass_obj
@handle_errors
def migrate_run(obj: dict[str, Any], pretend: bool, force: bool, yes: bool, as_json: bool, **kw: Any) -> None:
    """Apply every pending migration."""
    out = Output(json_mode=as_json)
    with _json_result("migrate:run", out) as reports:
        config, plugins, targets = _targets(obj, kw)
        fleet = None
        if len(targets) > 1 and not pretend:  # which databases are done, kept as each finishes
            from .run.fleet import FleetReport

            fleet = FleetReport(config.migrations, "migrate:run", [t.name for t in targets])
        interrupted = False
        try:
            _each(
                config,
                plugins,
                targets,
                lambda r: r.run(pretend=pretend, force=force, yes=yes),
                out,
                reports,
                **_parallel(obj),
                also=fleet.event if fleet is not None else None,
            )
        except KeyboardInterrupt:
            interrupted = True
            raise
        finally:
            if fleet is not None and not interrupted:  # the loop went through every database
                fleet.finish()


@cli.command("migrate:lint")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print the findings as one JSON document.")
@click.pass_obj
@handle_errors
def migrate_lint(obj: dict[str, Any], as_json: bool, **kw: Any) -> None:
    """Name what the pending migrations would cost a busy database: each statement
    that locks, rewrites or scans a table with rows, with its safe form (nothing is
    executed). Exit 1 on a finding no migration acknowledges in its
    ``lint_ignore = {"rule": "reason"}``."""
    from .commands import lint_outcomes

    out = Output(json_mode=as_json)
    config, plugins, targets = _targets(obj, kw)
    results = lint_outcomes(config, plugins, targets, on_event=_renderer(out, len(targets) > 1), **_parallel(obj))
    if len(results) == 1 and results[0].exception is not None:
        raise results[0].exception
    open_findings = sum(len(r.unacknowledged) for r in results)
    acknowledged = sum(len(r.findings) for r in results) - open_findings
    failed = [r for r in results if r.error is not None]
    if as_json:
        out.json(
            {
                "command": "migrate:lint",
                "ok": not failed and open_findings == 0,
                "findings": open_findings,
                "acknowledged": acknowledged,
                "connections": [r.as_json() for r in results],
            }
        )
    else:
        for r in results:
            if r.error is not None:
                out.error(f"{r.connection}: FAILED: {r.error}")
            for f in r.findings:
                out.data(f.line())
        out.info(
            f"{open_findings} finding(s) not acknowledged, {acknowledged} acknowledged (lint_ignore), "
            f"over {len(results)} connection(s)"
        )
    if failed:
        _fail(f"{len(failed)} of {len(results)} connection(s) failed", 1)
    if open_findings:
        sys.exit(1)


def _positive(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    if value is not None and value < 1:
        raise click.BadParameter("must be 1 or more")
    return value


@cli.command("migrate:rollback")
@target_options
@click.option("--step", type=int, callback=_positive, help="Roll back this many migrations (default: the last batch).")
@destructive_options
@json_option
@click.pass_obj
@handle_errors
def migrate_rollback(
    obj: dict[str, Any], step: int | None, pretend: bool, force: bool, yes: bool, as_json: bool, **kw: Any
) -> None:
    """Roll back the last batch (or --step N migrations). A migration whose file
    was modified after it was applied is refused unless --force."""
    out = Output(json_mode=as_json)
    with _json_result("migrate:rollback", out) as reports:
        config, plugins, targets = _targets(obj, kw)
        _each(
            config,
            plugins,
            targets,
            lambda r: r.rollback(step=step, pretend=pretend, force=force, yes=yes),
            out,
            reports,
            **_parallel(obj),
        )


def _confirm(what: str, force: bool, yes: bool, pretend: bool) -> None:
    from .run.guard import confirm_destructive

    if pretend:
        return
    confirm_destructive(what, force=force, yes=yes, ask=lambda q: click.confirm(q, default=False, err=True))


@cli.command("migrate:reset")
@target_options
@destructive_options
@json_option
@click.pass_obj
@handle_errors
def migrate_reset(obj: dict[str, Any], pretend: bool, force: bool, yes: bool, as_json: bool, **kw: Any) -> None:
    """Roll back every migration (a modified migration file is refused unless --force)."""
    out = Output(json_mode=as_json)
    with _json_result("migrate:reset", out) as reports:
        config, plugins, targets = _targets(obj, kw)
        _confirm("migrate:reset", force, yes, pretend)
        _each(
            config,
            plugins,
            targets,
            lambda r: r.rollback(
                everything=True, pretend=pretend, force=True, yes=True, command="migrate:reset", allow_modified=force
            ),
            out,
            reports,
            **_parallel(obj),
        )


@cli.command("migrate:fresh")
@target_options
@destructive_options
@json_option
@click.pass_obj
@handle_errors
def migrate_fresh(obj: dict[str, Any], pretend: bool, force: bool, yes: bool, as_json: bool, **kw: Any) -> None:
    """Drop every table, then run every migration."""
    out = Output(json_mode=as_json)
    with _json_result("migrate:fresh", out) as reports:
        config, plugins, targets = _targets(obj, kw)
        _confirm("migrate:fresh", force, yes, pretend)
        _each(config, plugins, targets, lambda r: r.fresh(pretend=pretend), out, reports, **_parallel(obj))


@cli.command("migrate:status")
@target_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option(
    "--drift",
    is_flag=True,
    help="Also compare the live schema with the applied migrations; exit 0: no drift, 1: drift, 2: error.",
)
@click.pass_obj
@handle_errors
def migrate_status(obj: dict[str, Any], as_json: bool, drift: bool, **kw: Any) -> None:
    """Show each migration: applied (batch, time, duration), pending, modified,
    missing, running (another runner is applying it now) or interrupted; with
    --drift, how the live schema differs from what the applied migrations made."""
    from .driver import redact

    if drift:
        _status_with_drift(obj, as_json, kw)
        return
    out = Output(json_mode=as_json)
    config, plugins, targets = _targets(obj, kw)
    outcomes = _loop(
        config,
        plugins,
        targets,
        lambda runner: (runner.status(), not runner.database_missing()),
        out,
        **_parallel(obj),
        render=False,
    )
    if len(outcomes) == 1 and outcomes[0].exception is not None:
        raise outcomes[0].exception
    fleet = None
    if len(targets) > 1:  # how far the last fleet run got, at a glance
        from .run.fleet import glance, read

        fleet = read(config.migrations)
    if as_json:
        out.json(
            {
                "ok": all(o.ok for o in outcomes),
                "fleet": fleet,
                "connections": [
                    {
                        "connection": o.target.name,
                        "chain": _chain_name(o.target),
                        "driver": o.target.driver.name,
                        "url": redact(o.target.url),
                        "test": o.target.test,
                        "ok": o.ok,
                        "error": o.report.error,
                        "database_exists": o.result[1] if o.ok else None,
                        "migrations": [r.as_json() for r in o.result[0]] if o.ok else [],
                    }
                    for o in outcomes
                ],
            }
        )
    else:
        for o in outcomes:
            out.data(f"{o.target.label}")
            if not o.ok:
                out.data(f"  FAILED: {o.report.error}")
                continue
            rows, exists = o.result
            if not exists:
                out.data("  the database does not exist yet (migrate:run creates it)")
            if not rows:
                out.data("  no migrations")
            width = max((len(r.id) for r in rows), default=0)
            for r in rows:
                out.data(f"  {r.id.ljust(width)}  {_status_text(out, r)}")
        if fleet is not None:
            from .run.fleet import glance

            out.info(glance(fleet))  # after the table, on stderr: how far the last fleet run got
    _fail_some(outcomes)


def _chain_name(target: Any) -> str:
    """The name of the target's chain (a default chain's is its family's)."""
    return target.chain.name if target.chain is not None else target.driver.info.family


def _fail_some(outcomes: list[Any], code: int = 1) -> None:
    """Several connections, some failed: one error line counting them, exit ``code``."""
    failed = sum(1 for o in outcomes if not o.ok)
    if failed:
        _fail(f"{failed} of {len(outcomes)} connection(s) failed", code)


_STATUS_COLOURS = {"applied": "green", "pending": "yellow", "running": "cyan"}


def _status_text(out: Output, r: Any) -> str:
    """``applied      batch 1  2026-...Z  38 ms``: the status coloured on a terminal."""
    word = out.style(r.status, fg=_STATUS_COLOURS.get(r.status, "red"))
    if r.batch is None:
        return word
    duration = f"  {r.duration_ms} ms" if r.duration_ms is not None else ""
    return f"{word}{' ' * (11 - len(r.status))}  batch {r.batch}  {r.applied_at}{duration}"


def main() -> None:
    _collect_less()
    _skip_the_last_collections()
    _scrub_library_warnings()
    try:
        cli(prog_name="modelmig")
    except BrokenPipeError:  # the reader went away (| head): end quietly
        silence_stdout()
        sys.exit(0)


def _scrub_library_warnings() -> None:
    """Python warnings and last-resort log records of the client libraries reach
    stderr as one scrubbed ``warning:`` line each: they may quote a URL."""
    import logging
    import warnings

    def show(message: Any, category: type[Warning], *where: Any, **more: Any) -> None:
        Output().warn(f"{category.__name__}: {' '.join(str(message).split())}")

    warnings.showwarning = show

    class Scrubbed(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            try:
                Output().warn(f"{record.name}: {' '.join(record.getMessage().split())}")
            except Exception:  # noqa: BLE001 - logging must never fail the command
                pass

    logging.lastResort = Scrubbed(logging.WARNING)


def _collect_less() -> None:
    """The command line is one short process that builds many small objects that
    live to its end (a 1,000-table schema is some 30,000 state values): the cyclic
    garbage collector runs its youngest generation every 100,000 allocations
    instead of every 700, which took ~0.1 s off a 1,000-table make. Memory held in
    reference cycles is still collected, less often."""
    import gc

    gc.set_threshold(100_000, 50, 1000)


def _skip_the_last_collections() -> None:
    """When the process exits, first move every object to the garbage collector's
    permanent generation, so that the interpreter's last collections do not walk
    them all: some 30 ms of a no-op ``migrate:run`` once psycopg's modules are
    loaded. Exit is otherwise as before (atexit handlers, flushing, releasing what
    nothing refers to); an app that calls ``main()`` and goes on is not affected
    until it exits."""
    import atexit
    import gc

    atexit.register(gc.freeze)


@cli.command("drivers")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON: drivers (with a features object), plugins, scheme conflicts."
)
@handle_errors
def drivers(as_json: bool) -> None:
    """Every installed driver: name, distribution, URL schemes, family, features,
    and whether it loads (ok) or not (broken, with the cause); then the plugins
    (entry points and the config's ``plugins``), ok or broken with the cause, and
    any URL scheme two distributions declare."""
    from .config import find_config
    from .errors import ConfigError
    from .registry import Registry

    out = Output()

    try:
        find_config()
    except ConfigError:  # no project here: the installed drivers and plugins only
        registry = Registry()
    else:
        from .app import open_app

        registry = open_app()[1]
    report = registry.report()
    plugins = registry.plugins
    conflicts = registry.scheme_conflicts()
    if as_json:
        out.json(
            {
                "drivers": [r.as_json() for r in report],
                "plugins": [p.as_json() for p in plugins],
                "scheme_conflicts": conflicts,
            }
        )
        return
    if not report:
        out.data("no driver is installed; try pip install 'modelmig[all]'")
    for r in report:
        if r.status != "ok":
            out.data(f"{r.name}  broken  ({r.distribution})")
            out.data(f"  cause: {r.cause}")
            continue
        out.data(f"{r.name}  ok  ({r.distribution})  family {r.family}  schemes {', '.join(r.schemes)}")
        if r.description:
            out.data(f"  {r.description}")
        flags = [f"{k}={v}" for k, v in r.features.items()]
        out.data(f"  features: {' '.join(flags)}")
    for scheme, owners in sorted(conflicts.items()):
        out.data(f"scheme {scheme}  conflict  (declared by {' and '.join(owners)})")
    for p in plugins:
        out.data(f"plugin {p.name}  {p.status}  ({'; '.join(p.sources)})")
        if p.status != "ok":
            out.data(f"  cause: {p.cause}")
            if p.may_veto:
                out.data("  blocks: migrate:run, rollback, reset, fresh, resolve, baseline (it may veto them)")
        elif p.hooks:
            out.data(f"  hooks: {', '.join(p.hooks)}")


@cli.command("drivers:check")
@click.argument("url")
@click.option("--scenario", "names", multiple=True, metavar="NAME", help="Run only this scenario (repeatable).")
@click.option("--plugin", metavar="MODULE:OBJECT", help="Check this driver (not installed yet), not the installed one.")
@click.option("--json", "as_json", is_flag=True, help="The table as one JSON document.")
@handle_errors
def drivers_check(url: str, names: tuple[str, ...], plugin: str | None, as_json: bool) -> None:
    """Run the conformance scenarios against the EMPTY scratch database at URL and
    print a table (scenario, result, time, what was found). A scenario is "n/a" when
    the driver declares a feature that makes it not apply (the table says which).
    Exit 0 only when no scenario fails. A database that holds any table is refused,
    untouched."""
    import json

    from . import conformance
    from .driver import redact
    from .redaction import remember_url

    remember_url(url)  # before anything can fail: no error shows the URL's secrets
    out = Output()

    driver = conformance.plugin_driver(plugin) if plugin else conformance.driver_for(url)
    conformance.refuse_non_empty(url, driver)  # one line, before anything is printed or changed
    notes = conformance.notes(url, driver)
    width = max(len(s.name) for s in conformance.SCENARIOS)
    if not as_json:
        out.data(f"drivers:check {redact(url)} (driver {driver.name})")
        for note in notes:
            out.data(f"  {note}")

    def line(o: Any) -> None:
        if not as_json:
            note = f"  {o.detail}" if o.detail else ""
            out.data(f"  {o.scenario.ljust(width)}  {o.result:<4}  {o.seconds:6.2f}s{note}")

    outcomes = conformance.check(url, names, on_outcome=line, plugin=plugin, driver=driver)
    failed = [o for o in outcomes if o.result == "fail"]
    passed = sum(1 for o in outcomes if o.result == "pass")
    absent = len(outcomes) - passed - len(failed)
    summary = f"{passed} passed, {absent} not applicable (declared features), {len(failed)} failed"
    if as_json:
        document = {
            "url": redact(url),
            "driver": driver.name,
            "notes": notes,
            "scenarios": [o.as_json() for o in outcomes],
            "summary": {"passed": passed, "not_applicable": absent, "failed": len(failed)},
        }
        out.data(json.dumps(document, indent=2))
    else:
        out.data(summary)
    if failed:
        _fail(f"{len(failed)} conformance scenario(s) failed on driver {driver.name}", 1)


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
    from .run.resolve import resolve

    if outcome is None:
        raise click.UsageError("say how the interrupted migration ended: --applied or --rolled-back")
    config, plugins, targets = _targets(obj, kw)
    _each(
        config,
        plugins,
        targets,
        lambda runner: resolve(runner, migration_id, outcome == "applied"),
        Output(),
        **_parallel(obj),
    )


# ---------------------------------------------------------------- the live database as an input


def _status_with_drift(obj: dict[str, Any], as_json: bool, kw: dict[str, Any]) -> None:
    """``migrate:status --drift``: the status of each migration and how the live
    schema differs from the applied ones. Exit 0: no drift; 1: drift; 2: error."""
    from .driver import redact
    from .live.drift import drift

    out = Output(json_mode=as_json)
    try:
        config, plugins, targets = _targets(obj, kw)
        outcomes = _loop(
            config,
            plugins,
            targets,
            lambda runner: (runner.status(), drift(runner)),
            out,
            **_parallel(obj),
            render=False,
            reflect=True,
        )
        if len(outcomes) == 1 and outcomes[0].exception is not None:
            raise outcomes[0].exception
    except ModelmigError as exc:
        _print_traceback()
        _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 2)
    except (KeyboardInterrupt, click.exceptions.Exit, click.ClickException, SystemExit):
        raise
    except Exception as exc:  # noqa: BLE001 - never a traceback for the user
        _print_traceback()
        _fail(f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0]}", 2)
    drifted = any(o.result[1].drifted for o in outcomes if o.ok)
    if as_json:
        connections = []
        for o in outcomes:
            t = o.target
            entry: dict[str, Any] = {
                "connection": t.name,
                "chain": _chain_name(t),
                "driver": t.driver.name,
                "test": t.test,
            }
            if o.ok:
                rows, d = o.result
                entry.update({"ok": True, "error": None, "migrations": [r.as_json() for r in rows], **d.as_json()})
            else:
                entry.update({"url": redact(t.url), "ok": False, "error": o.report.error, "migrations": []})
            connections.append(entry)
        out.json({"ok": all(o.ok for o in outcomes), "connections": connections, "drift": drifted})
    else:
        for o in outcomes:
            out.data(f"{o.target.label}")
            if not o.ok:
                out.data(f"  FAILED: {o.report.error}")
                continue
            rows, d = o.result
            width = max((len(r.id) for r in rows), default=0)
            for r in rows:
                out.data(f"  {r.id.ljust(width)}  {_status_text(out, r)}")
            for line in d.lines():
                out.data(f"  {line}")
    _fail_some(outcomes, 2)
    sys.exit(1 if drifted else 0)


@cli.command("migrate:baseline")
@target_options
@click.option("--to", "to", metavar="ID", help="The last migration to mark as applied (default: every migration).")
@click.pass_obj
@handle_errors
def migrate_baseline(obj: dict[str, Any], to: str | None, **kw: Any) -> None:
    """Adopt an existing database: mark the migrations up to --to (default: all)
    as applied without running them, once the live schema is what they add up to.
    Refuses, listing the drift, otherwise. Only the ledger changes."""
    from .live.baseline import baseline

    config, plugins, targets = _targets(obj, kw)
    _each(
        config,
        plugins,
        targets,
        lambda runner: f"{baseline(runner, to)} marked as applied",
        Output(),
        **_parallel(obj),
        reflect=True,
    )


@cli.command("make:models")
@click.option("--connection", "connection", metavar="NAME", help="The configured connection to read.")
@click.option("--test", is_flag=True, help="Read the connection's test_url.")
@click.option(
    "--out",
    "out",
    metavar="FILE",
    help="Where to write the models module (default: the configured models module's file; - for stdout).",
)
@click.option("--table", "tables", multiple=True, metavar="T", help="Only this table (repeatable).")
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.pass_obj
@handle_errors
def make_models(
    obj: dict[str, Any], connection: str | None, test: bool, out: str | None, tables: tuple[str, ...], force: bool
) -> None:
    """Write a models module (Model classes with schema and database blocks) from a
    live database, in the style a person would write it."""
    from .live.modelgen import write_models

    config, _, targets = _targets(
        obj,
        {
            "connections": (connection,) if connection else (),
            "sqlite": False,
            "pg": False,
            "mysql": False,
            "mongo": False,
            "driver_names": (),
            "all_connections": False,
            "test": test,
        },
    )
    printer = Output()
    write_models(config, targets[0], out, list(tables), force, printer.data, printer.raw_err)

"""The conformance kit: the scenarios every SQL driver must pass, parametrised by
a database URL, with skips declared from the driver's ``Features``.

From a shell, against an empty scratch database::

    modelmig drivers:check duckdb:///tmp/scratch.duckdb

From Python (a driver's own test suite)::

    from modelmig_core import conformance

    for outcome in conformance.check("postgresql://localhost/scratch"):
        assert outcome.result != "fail", outcome.detail

or one scenario per test: ``conformance.SCENARIOS`` and ``conformance.run_one``.
Each scenario starts from an empty database and drops everything it made when it
ends. ``check`` refuses a database that holds any table (or collection), touching
nothing.
"""

from __future__ import annotations

import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..driver import Driver, redact
from ..errors import ConfigError
from ..registry import Registry, refuse_other_api
from .scenarios import SCENARIOS, Scenario
from .workspace import Workspace

__all__ = ["SCENARIOS", "Outcome", "Scenario", "check", "driver_for", "plugin_driver", "refuse_non_empty", "run_one"]


@dataclass(frozen=True)
class Outcome:
    scenario: str
    result: str  # "pass", "fail" or "skip"
    seconds: float
    detail: str = ""  # why it failed, or which declared feature it skipped on


def driver_for(url: str, registry: Registry | None = None) -> Driver:
    """The installed driver that handles ``url``'s scheme."""
    if "://" not in url:
        raise ConfigError(f"{url!r} is not a database URL like scheme://...")
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    return (registry or Registry()).driver_for_scheme(scheme)


def refuse_non_empty(url: str, driver: Driver) -> None:
    """A ConfigError, before anything is changed, when the database holds a table or collection."""
    session = driver.connect(url)
    try:
        found = sorted(session.row_counts())
    finally:
        session.close()
    if found:
        shown = ", ".join(found[:5]) + (", ..." if len(found) > 5 else "")
        raise ConfigError(
            f"refused: {redact(url)} holds {len(found)} table(s) or collection(s) ({shown}); "
            "drivers:check needs an empty scratch database; nothing was touched"
        )


def plugin_driver(spec: str) -> Driver:
    """The driver object (or class) ``module:object`` names: a driver not installed yet."""
    obj = Registry._import(spec)
    obj = obj() if isinstance(obj, type) else obj
    if not isinstance(obj, Driver):
        raise ConfigError(f"{spec!r} is not a modelmig Driver (object or class)")
    refuse_other_api(obj, f"plugin {spec}")
    return obj


def run_one(scenario: Scenario, url: str, driver: Driver | None = None, plugin: str | None = None) -> Outcome:
    """Run one scenario on the (empty) database at ``url``; a driver that declares a
    feature the scenario needs false skips it. ``plugin`` ("module:object") tests a
    driver that is not installed: every command of the scenario uses it."""
    driver = plugin_driver(plugin) if plugin else driver or driver_for(url)
    lacking = driver.features.lacking(scenario.requires)
    if lacking:
        return Outcome(scenario.name, "skip", 0.0, f"{driver.name} declares {lacking[0]}=False")
    started = time.perf_counter()
    cwd = os.getcwd()
    failure: Exception | None = None
    workspace = Workspace(url, driver, plugin)
    try:
        scenario.run(workspace)
    except Exception as exc:  # noqa: BLE001 - a failing scenario is a result
        failure = exc
    finally:
        os.chdir(cwd)  # opening the scratch app made its folder the working directory
    try:
        workspace.close()
    except Exception as exc:  # noqa: BLE001 - the scenario's own failure comes first
        failure = failure or exc
    if failure is not None:
        exc = failure
        detail = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, AssertionError):
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            detail = f"{type(exc).__name__}: {detail} ({frame.filename}:{frame.lineno})"
        return Outcome(scenario.name, "fail", time.perf_counter() - started, detail)
    return Outcome(scenario.name, "pass", time.perf_counter() - started)


def check(
    url: str,
    names: Iterable[str] = (),
    on_outcome: Callable[[Outcome], None] | None = None,
    registry: Registry | None = None,
    plugin: str | None = None,
) -> list[Outcome]:
    """Every scenario (or those ``names``) on the empty database at ``url``."""
    driver = plugin_driver(plugin) if plugin else driver_for(url, registry)
    refuse_non_empty(url, driver)
    wanted = set(names)
    unknown = sorted(wanted - {s.name for s in SCENARIOS})
    if unknown:
        known = ", ".join(s.name for s in SCENARIOS)
        raise ConfigError(f"no conformance scenario named {unknown[0]!r} (known: {known})")
    out = []
    for scenario in SCENARIOS:
        if wanted and scenario.name not in wanted:
            continue
        outcome = run_one(scenario, url, driver, plugin)
        out.append(outcome)
        if on_outcome is not None:
            on_outcome(outcome)
    return out

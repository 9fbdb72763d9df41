"""The conformance kit: the scenarios every SQL driver must pass, parametrised by
a database URL; which of them apply follows the driver's declared ``Features``.

From a shell, against an empty scratch database::

    modelmig drivers:check duckdb:///tmp/scratch.duckdb [--json]

From Python (a driver's own test suite), through the public API::

    from modelmig_core import api

    for outcome in api.check_driver("postgresql://localhost/scratch"):
        assert outcome.result != "fail", outcome.detail

or one scenario per test: ``api.conformance_scenarios()`` and ``api.run_scenario``.

How it cannot be fooled: the live schema is read by the kit itself, through
SQLAlchemy's Inspector for the driver's dialect (``oracle.py``), not through the
driver's ``reflect``/``comparable``; and the behaviour probes check with rows what
the driver promises (increments number rows, NOT NULL, lengths, unique and foreign
keys refuse, defaults fill, a narrowing change never rewrites a value). Where the
driver declares it lacks something (``foreign_keys=False``...), the fixtures leave
it out and its probes are "n/a", with the flag that says why. Each scenario starts
from an empty database and drops everything it made when it ends; ``check``
refuses a database that holds any table (or collection), touching nothing. The
kit runs with the driver under test alone: no plugin from entry points is loaded.
"""

from __future__ import annotations

import contextlib
import os
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ..driver import Driver, redact
from ..errors import ConfigError
from ..registry import Registry, drivers_only, refuse_other_api
from . import fixtures, oracle
from .scenarios import SCENARIOS, Scenario
from .workspace import Workspace

__all__ = [
    "SCENARIOS",
    "Outcome",
    "Scenario",
    "check",
    "check_driver",
    "conformance_scenarios",
    "driver_for",
    "notes",
    "plugin_driver",
    "refuse_non_empty",
    "run_one",
    "run_scenario",
]


@dataclass(frozen=True)
class Outcome:
    """One scenario's result: "pass", "fail" (``detail``: what was found) or "n/a"
    (``detail``: the declared feature that makes it not apply, and what it means)."""

    scenario: str
    result: str  # "pass", "fail" or "n/a"
    seconds: float
    detail: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "scenario": self.scenario,
            "result": self.result,
            "seconds": round(self.seconds, 3),
            "detail": self.detail,
        }


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
    why = scenario.why_not(driver.features)
    if why:
        return Outcome(scenario.name, "n/a", 0.0, why)
    started = time.perf_counter()
    cwd = os.getcwd()
    failure: Exception | None = None
    workspace = Workspace(url, driver, plugin)
    try:
        with drivers_only():  # the driver under test alone: no user plugin vetoes or wraps the kit's commands
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
    driver: Driver | None = None,
) -> list[Outcome]:
    """Every scenario (or those ``names``) on the empty database at ``url``."""
    if driver is None:
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


def notes(url: str, driver: Driver) -> list[str]:
    """What the table must say besides the outcomes: how the live schema is read
    (or that the behaviour probes are the oracle, and why), and what the fixtures
    leave out for this driver's declared features."""
    session = driver.connect(url)
    try:
        seen = oracle.inspect(driver, session)
    finally:
        with contextlib.suppress(Exception):  # SQLAlchemy may have closed it already
            session.close()
    url_of = oracle.engine_url(driver)
    if seen.unavailable:
        out = [f"schema: not compared by the kit: {seen.unavailable}; the behaviour probes are the oracle"]
    else:
        out = [f"schema: compared through SQLAlchemy's Inspector ({url_of}), not the driver's reflection"]
    left = fixtures.left_out(driver.features, getattr(driver, "column_comments", True))
    if left:
        out.append("left out of the fixtures (declared lacking): " + ", ".join(left))
    return out


def conformance_scenarios() -> list[Scenario]:
    """Every scenario of the kit, in order (``Scenario.name``, ``.doc``, ``.why_not(features)``)."""
    return list(SCENARIOS)


def run_scenario(
    scenario: Scenario | str, url: str, driver: Driver | None = None, plugin: str | None = None
) -> Outcome:
    """One scenario (or its name) on the empty database at ``url``: ``run_one``."""
    if isinstance(scenario, str):
        found = [s for s in SCENARIOS if s.name == scenario]
        if not found:
            raise ConfigError(f"no conformance scenario named {scenario!r}")
        scenario = found[0]
    return run_one(scenario, url, driver, plugin)


def check_driver(
    url: str,
    driver: Driver | None = None,
    plugin: str | None = None,
    scenarios: Iterable[str] = (),
    on_outcome: Callable[[Outcome], None] | None = None,
) -> list[Outcome]:
    """The kit on the empty scratch database at ``url``: every scenario (or those
    named), with ``driver`` (an object), ``plugin`` ("module:object", a driver not
    installed yet) or the installed driver of the URL's scheme."""
    return check(url, scenarios, on_outcome, plugin=plugin, driver=driver)

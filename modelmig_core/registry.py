"""Drivers by name from entry points, plugins from the config, and the plugin
manager that holds the hooks.

A driver is loaded only when a command needs it (a connection that uses it, a
model store it builds, a chain of its family). Its entry point names an object
or a class (instantiated without arguments). A driver written for another
version of the driver API, or one whose import fails, is reported in one line
with its name, its distribution and the cause — and only by a command that
needs it.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .driver import API_VERSION, Driver
from .errors import ConfigError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    import pluggy

    from .model.family import Family

DRIVER_GROUP = "modelmig.drivers"
#: URL schemes declared in entry-point metadata, so that finding the driver of a
#: URL imports that one driver only: ``<scheme> = <the driver's entry point value>``
SCHEME_GROUP = "modelmig.schemes"
PLUGIN_GROUP = "modelmig.plugins"

#: how many ``drivers_only()`` blocks are open: while any is, a new Registry loads no
#: plugin from entry points (the conformance kit runs the driver under test alone, so
#: that a user's policy plugin cannot veto the kit's rollbacks). In-process only: no
#: environment variable can switch a production run's plugins off.
_DRIVERS_ONLY = 0
_DRIVERS_ONLY_LOCK = threading.Lock()


@contextmanager
def drivers_only() -> Iterator[None]:
    """Registries made inside this block load drivers, and the plugins their config
    names, but no plugin from the ``modelmig.plugins`` entry points."""
    global _DRIVERS_ONLY
    with _DRIVERS_ONLY_LOCK:
        _DRIVERS_ONLY += 1
    try:
        yield
    finally:
        with _DRIVERS_ONLY_LOCK:
            _DRIVERS_ONLY -= 1


#: URL schemes of modelmig's own drivers -> the extra of ``pip install 'modelmig[...]'``
#: that installs one (suggested when no installed driver handles a scheme)
EXTRAS = {
    "sqlite": "sqlite",
    "postgresql": "pg",
    "postgres": "pg",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mongodb": "mongo",
    "duckdb": "duckdb",
}


def _distribution(ep: EntryPoint) -> str:
    """``name version`` of the distribution that declares ``ep`` (read from its
    metadata: only for messages, so only when one is printed)."""
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"


def _dist_name(ep: EntryPoint) -> str:
    name = getattr(ep, "dist_name", None)  # an indexed entry point knows it without reading metadata
    if name:
        return str(name)
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else ep.value


def _installed_entry_points() -> Any:
    """modelmig's installed entry points (``entry_index.py``: read through
    ``importlib.metadata`` once per set of installed distributions; only a command
    that needs a driver or a plugin asks); ``.select(group=...)`` picks a group."""
    from .entry_index import installed

    return installed()


class DriverLoadError(ConfigError):
    """A driver is installed but cannot be loaded: its import raised, its entry point
    names no Driver, or it was written for another driver API version."""

    def __init__(self, name: str, distribution: str, cause: str) -> None:
        super().__init__(f"driver {name!r} ({distribution}) cannot be loaded: {cause}")
        self.name = name
        self.distribution = distribution
        self.cause = cause


@dataclass
class DriverReport:
    """One installed driver as ``modelmig drivers`` lists it."""

    name: str
    distribution: str
    status: str  # "ok" or "broken"
    cause: str = ""
    schemes: tuple[str, ...] = ()
    family: str = ""
    description: str = ""
    features: dict[str, bool | int | None] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "status": self.status,
            "cause": self.cause or None,
            "schemes": list(self.schemes),
            "family": self.family or None,
            "description": self.description,
            "features": self.features,
        }


@dataclass
class PluginReport:
    """One plugin (not a driver) as ``modelmig drivers`` lists it: where it comes
    from (an entry point and its distribution, the config's ``plugins``, or both:
    one plugin), and whether it loaded (``ok``) or not (``broken``, with the cause).
    ``hooks`` are the hooks it implements; None when its import failed (unknown)."""

    name: str
    sources: list[str]
    status: str = "ok"
    cause: str = ""
    hooks: tuple[str, ...] | None = ()

    @property
    def may_veto(self) -> bool:
        """A broken plugin that may have vetoed applying or dropping (``apply``,
        ``before_destructive``): one whose import failed (it cannot be inspected), or
        one with such a hook, or a hook named close to one (a misspelling)."""
        if self.hooks is None:
            return True
        import difflib  # a misspelled hook's check only: off the every-deploy path

        return any(h in VETO_HOOKS or difflib.get_close_matches(h, VETO_HOOKS, n=1, cutoff=0.75) for h in self.hooks)

    @property
    def label(self) -> str:
        return f"{self.name!r} ({', '.join(self.sources)})"

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sources": list(self.sources),
            "status": self.status,
            "cause": self.cause or None,
            "hooks": None if self.hooks is None else list(self.hooks),
        }


#: the hooks through which a plugin can refuse to apply or drop: a broken plugin that
#: may implement one blocks every migrate command that applies, drops or marks
VETO_HOOKS = ("apply", "before_destructive")


class Registry:
    def __init__(self, extra_plugins: list[str] | None = None) -> None:
        self._pm: pluggy.PluginManager | None = None
        self._core_registered = False
        # the lazy loading below (plugin manager, the core's hooks, drivers) may be
        # reached from several connections' threads at once (--jobs): one at a time
        self._loading = threading.RLock()
        self._drivers: dict[str, Driver] = {}
        self._installed: Any = None
        self._entry_points: dict[str, EntryPoint] | None = None
        self._driver_conflicts: dict[str, list[str]] = {}
        self._schemes: dict[str, str] | None = None
        self._scheme_conflicts: dict[str, list[str]] = {}
        #: every plugin (not a driver), by what loads it; one object from two sources is one plugin
        self.plugins: list[PluginReport] = []
        self._by_spec: dict[str, PluginReport] = {}
        self._by_object: dict[int, PluginReport] = {}
        for ep in self._group(PLUGIN_GROUP) if not _DRIVERS_ONLY else ():
            self._load_plugin(ep.value, f"entry point {ep.name} of {_distribution(ep)}", ep.load)
        for spec in extra_plugins or []:
            self._load_plugin(spec, "config plugins", lambda spec=spec: self._import(spec))

    def _load_plugin(self, spec: str, source: str, load: Callable[[], Any]) -> None:
        """Load and register one plugin; a broken one is recorded (``plugins``), never raised
        (a driver given as a plugin is a driver: its errors are raised)."""
        key = "".join(spec.split())
        known = self._by_spec.get(key)
        if known is not None:
            known.sources.append(source)
            return
        try:
            plugin = load()
        except Exception as exc:  # noqa: BLE001 - listed with its cause, fails closed where it may veto
            cause = str(exc) if isinstance(exc, ConfigError) else _cause(exc)
            self._record(PluginReport(key, [source], "broken", cause, None), key)
            return
        if isinstance(plugin, Driver) or (isinstance(plugin, type) and issubclass(plugin, Driver)):
            self.register(plugin, name=f"plugin:{key}")
            return
        same = self._by_object.get(id(plugin))
        if same is not None:  # the same module or object named another way
            same.sources.append(source)
            self._by_spec[key] = same
            return
        report = PluginReport(key, [source], hooks=self._hooks_of(plugin))
        self._record(report, key, plugin)
        try:
            self.register(plugin, name=f"plugin:{key}")
        except ConfigError as exc:
            report.status, report.cause = "broken", str(exc)

    def _record(self, report: PluginReport, key: str, plugin: Any = None) -> None:
        self.plugins.append(report)
        self._by_spec[key] = report
        if plugin is not None:
            self._by_object[id(plugin)] = report

    def _hooks_of(self, plugin: Any) -> tuple[str, ...]:
        """The names ``plugin`` marks as hook implementations, known hooks or not."""
        names = []
        for attr in dir(plugin):
            try:
                if self.pm.parse_hookimpl_opts(plugin, attr) is not None:
                    names.append(attr)
            except Exception:  # noqa: BLE001 - an attribute that cannot be read is no hook
                continue
        return tuple(names)

    def broken_plugins(self) -> list[PluginReport]:
        return [p for p in self.plugins if p.status != "ok"]

    def refuse_broken_vetoes(self, command: str) -> None:
        """One ConfigError line when a broken plugin may have vetoed what ``command``
        applies, drops or marks (see ``PluginReport.may_veto``): without it the command
        would silently skip its veto."""
        for p in self.broken_plugins():
            if p.may_veto:
                raise ConfigError(
                    f"{command} refuses to run: plugin {p.label} is broken ({p.cause}) and may veto "
                    "applying or dropping (apply, before_destructive); fix or uninstall it "
                    "(modelmig drivers lists it)"
                )

    def _group(self, group: str) -> list[EntryPoint]:
        """The entry points of ``group``; the installed ones are read once per registry."""
        if self._installed is None:
            self._installed = _installed_entry_points()
        return list(self._installed.select(group=group))

    @property
    def pm(self) -> pluggy.PluginManager:
        """The plugin manager with modelmig's hook specifications, made on first use:
        the nothing-pending path of an app without plugins never needs it."""
        if self._pm is None:
            with self._loading:
                if self._pm is None:
                    import pluggy

                    from . import hookspecs

                    pm = pluggy.PluginManager("modelmig")
                    pm.add_hookspecs(hookspecs)
                    self._pm = pm
        return self._pm

    @property
    def hook(self) -> Any:
        """The hooks, with the core's own relational family and diff (``relational.py``)
        registered on first use: the nothing-pending path calls no hook and imports
        none of them. (What applies a migration is the run layer's: ``use_core``.)"""
        if not self._core_registered:
            with self._loading:
                if not self._core_registered:
                    from .model import relational

                    self.pm.register(relational, name="modelmig.relational")
                    self._core_registered = True  # only once the hooks are there to call
        return self.pm.hook

    def broadcast_event(self, event: Any) -> None:
        """Give a command's ``event`` to every plugin's ``on_event`` hook. Only a
        plugin manager that exists is asked (one is made when a plugin or a driver's
        hooks are registered): without plugins, the nothing-pending path stays
        without pluggy."""
        if self._pm is not None:
            self._pm.hook.on_event(event=event)

    def use_core(self, plugin: Any, name: str, *, relational: bool = True) -> Any:
        """The hooks, with ``plugin`` (one of the core's own, from a layer above this
        one: the runner's ``builtin``) registered once under ``name``. Without
        ``relational``, the relational family is left to be registered on first use of
        ``hook``: applying a planned migration calls none of its hooks."""
        hook = self.hook if relational else self.pm.hook
        if self.pm.get_plugin(name) is None:
            with self._loading:
                if self.pm.get_plugin(name) is None:
                    self.pm.register(plugin, name=name)
        return hook

    @staticmethod
    def _import(spec: str) -> Any:
        module, _, attr = spec.partition(":")
        try:
            obj = importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"plugin {spec!r} cannot be imported: {exc}") from None
        try:
            return getattr(obj, attr) if attr else obj
        except AttributeError:
            raise ConfigError(f"plugin {spec!r}: module {module!r} has no {attr!r}") from None

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a plugin object with the hooks. A Driver (object or class) given
        as a plugin is registered as a driver under its own name. The same object
        registered again (under any name) is one plugin; a plugin whose hooks do not
        match the specifications is unregistered again and one ConfigError line."""
        if isinstance(plugin, type) and issubclass(plugin, Driver):
            plugin = plugin()
        if isinstance(plugin, Driver):
            self.add_driver(plugin, source=name or "a plugin")
            return
        if self.pm.is_registered(plugin):
            return
        if name and self.pm.get_plugin(name) is not None:
            raise ConfigError(f"plugin {name!r}: another plugin is registered under that name")
        import pluggy

        try:
            self.pm.register(plugin, name=name)
        except pluggy.PluginValidationError as exc:
            raise ConfigError(f"{name or plugin!r}: {' '.join(str(exc).split())}") from None
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            self.pm.unregister(plugin)
            raise ConfigError(f"{name or plugin!r}: {' '.join(str(exc).split())}") from None

    def add_driver(self, driver: Driver, source: str | Callable[[], str]) -> None:
        """Register ``driver``; ``source`` (where it came from, or a function that
        says it) is only read for the error of a driver of another API version."""
        refuse_other_api(driver, source)
        self._drivers[driver.info.name] = driver
        if driver.hooks is not None and self.pm.get_plugin(f"driver:{driver.info.name}") is None:
            self.pm.register(driver.hooks, name=f"driver:{driver.info.name}")
            self.pm.check_pending()

    def entry_points(self) -> dict[str, EntryPoint]:
        """{driver name: entry point}; a name two distributions declare is remembered
        as a conflict (``driver`` refuses it, naming both)."""
        if self._entry_points is None:
            found: dict[str, EntryPoint] = {}
            for ep in self._group(DRIVER_GROUP):
                if ep.name in found and _dist_name(found[ep.name]) != _dist_name(ep):
                    self._driver_conflicts.setdefault(ep.name, [_distribution(found[ep.name])])
                    self._driver_conflicts[ep.name].append(_distribution(ep))
                    continue
                found[ep.name] = ep
            self._entry_points = found
        return self._entry_points

    def declared_schemes(self) -> dict[str, str]:
        """{URL scheme: driver name} from entry-point metadata: nothing is imported.
        A scheme that two distributions declare is a conflict (``scheme_conflicts``),
        in neither."""
        if self._schemes is None:
            by_value = {ep.value: name for name, ep in self.entry_points().items()}
            claims: dict[str, list[EntryPoint]] = {}
            for ep in self._group(SCHEME_GROUP):
                owners = claims.setdefault(ep.name, [])
                if all(_dist_name(o) != _dist_name(ep) for o in owners):
                    owners.append(ep)
            self._schemes = {}
            for scheme, owners in claims.items():
                if len(owners) > 1:
                    self._scheme_conflicts[scheme] = sorted(_distribution(o) for o in owners)
                elif owners[0].value in by_value:
                    self._schemes[scheme] = by_value[owners[0].value]
        return self._schemes

    def scheme_conflicts(self) -> dict[str, list[str]]:
        """{URL scheme: the distributions that each declare it}, from metadata only."""
        self.declared_schemes()
        return dict(self._scheme_conflicts)

    def _refuse_scheme_conflict(self, scheme: str) -> None:
        owners = self.scheme_conflicts().get(scheme)
        if owners:
            raise ConfigError(
                f"URL scheme {scheme!r} is declared by {len(owners)} distributions: {' and '.join(owners)} "
                f"(entry-point group {SCHEME_GROUP}); uninstall one, or name the driver of the connection "
                "(driver = ...)"
            )

    def installed(self) -> list[str]:
        return sorted(set(self.entry_points()) | set(self._drivers))

    def driver(self, name: str) -> Driver:
        """Driver ``name``, loaded once. A driver that is not installed, or cannot be
        loaded, is one ConfigError line naming it (and its distribution and cause)."""
        if name in self._drivers:
            return self._drivers[name]
        with self._loading:
            return self._load_driver(name)

    def _load_driver(self, name: str) -> Driver:
        if name in self._drivers:
            return self._drivers[name]
        ep = self.entry_points().get(name)
        if name in self._driver_conflicts:
            raise ConfigError(
                f"driver name {name!r} is declared by {len(self._driver_conflicts[name])} distributions: "
                f"{' and '.join(sorted(self._driver_conflicts[name]))} (entry-point group {DRIVER_GROUP}); "
                "uninstall one"
            )
        if ep is None:
            known = ", ".join(self.installed()) or "none"
            hint = f"; try pip install 'modelmig[{name}]'" if name in EXTRAS.values() else ""
            raise ConfigError(f"no driver named {name!r} is installed (installed: {known}){hint}")
        try:
            obj = ep.load()
            if isinstance(obj, type):
                obj = obj()
        except Exception as exc:  # noqa: BLE001 - a broken driver is reported, not raised through
            raise DriverLoadError(name, _distribution(ep), _cause(exc)) from None
        if not isinstance(obj, Driver):
            raise DriverLoadError(name, _distribution(ep), f"its entry point {ep.value!r} is not a modelmig Driver")
        self.add_driver(obj, source=lambda: _distribution(ep))
        return obj

    def driver_name_for_scheme(self, scheme: str) -> str | None:
        """The driver that handles URL ``scheme`` as far as known without importing any:
        a driver already loaded, the entry-point metadata, or the driver named like it.
        A scheme two distributions declare is refused, naming both."""
        self._refuse_scheme_conflict(scheme)
        for driver in self._drivers.values():
            if scheme in driver.info.schemes:
                return driver.name
        declared = self.declared_schemes().get(scheme)
        if declared is not None:
            return declared
        return scheme if scheme in self.entry_points() else None

    def driver_for_scheme(self, scheme: str) -> Driver:
        """The driver whose info lists URL ``scheme``. Only that driver is imported when
        its distribution declares its schemes (or it is named like the scheme); else the
        drivers that declare none are tried, and broken ones are passed over."""
        name = self.driver_name_for_scheme(scheme)
        if name is not None:
            driver = self.driver(name)  # needed: a broken one is reported
            if scheme in driver.info.schemes:
                return driver
        declaring = set(self.declared_schemes().values())
        broken: list[str] = []
        for other in sorted(set(self.entry_points()) - declaring - {name}):
            try:
                driver = self.driver(other)
            except DriverLoadError as exc:
                broken.append(f"{exc.name} ({exc.distribution})")
                continue
            if scheme in driver.info.schemes:
                return driver
        hint = f"; try pip install 'modelmig[{EXTRAS[scheme]}]'" if scheme in EXTRAS else ""
        unchecked = f" (broken, not checked: {', '.join(broken)})" if broken else ""
        raise ConfigError(f"no installed driver handles URL scheme {scheme!r}{hint}{unchecked}")

    def report(self) -> list[DriverReport]:
        """Every installed driver, loaded: ``ok`` with what it declares, or ``broken``
        with its distribution and the cause. A broken driver never stops the report."""
        out = []
        for name in self.installed():
            ep = self.entry_points().get(name)
            distribution = _distribution(ep) if ep is not None else "a plugin"
            try:
                d = self.driver(name)
            except DriverLoadError as exc:
                out.append(DriverReport(name, exc.distribution, "broken", exc.cause))
                continue
            info = d.info
            features = d.features.as_dict()
            out.append(
                DriverReport(name, distribution, "ok", "", info.schemes, info.family, info.description, features)
            )
        return out

    # ------------------------------------------------------------ families

    def families(self) -> dict[str, Family]:
        """{family name: Family} of the core and the loaded plugins and drivers."""
        out: dict[str, Family] = {}
        for contributed in self.hook.families():
            for fam in contributed:
                out.setdefault(fam.name, fam)
        return out

    def family_for_store(self, store: str) -> Family:
        """The family that builds models of ``store`` ("sql", or a driver's name)."""
        for fam in self.families().values():
            if store in fam.stores:
                return fam
        self.driver(store)  # a driver named like the store may contribute its family
        for fam in self.families().values():
            if store in fam.stores:
                return fam
        raise ConfigError(f"no installed driver builds models of store {store!r}")

    def family(self, name: str) -> Family:
        """Family ``name``; loads the drivers that may contribute it if needed."""
        found = self.families().get(name)
        if found is not None:
            return found
        for driver_name in sorted(self.entry_points()):
            try:
                driver = self.driver(driver_name)
            except DriverLoadError:
                continue
            if driver.info.family == name:
                found = self.families().get(name)
                if found is not None:
                    return found
        raise ConfigError(f"no installed driver provides the {name!r} migration family")


def refuse_other_api(driver: Driver, source: str | Callable[[], str]) -> None:
    """A DriverLoadError naming ``driver`` and ``source`` (its distribution) unless it
    declares ``api_version`` (required: there is no default) equal to this
    modelmig's ``API_VERSION``."""
    declared = getattr(driver, "api_version", None)
    if declared == API_VERSION and type(declared) is int:
        return
    name = getattr(getattr(driver, "info", None), "name", None) or type(driver).__name__
    where = source if isinstance(source, str) else source()
    if declared is None:
        cause = (
            f"its class {type(driver).__name__} declares no api_version (the driver API version it was "
            f"written for): set api_version = {API_VERSION} (modelmig_core.api.API_VERSION) if it was "
            f"written for this modelmig"
        )
    else:
        cause = (
            f"it was written for driver API version {declared!r}; "
            f"this modelmig has version {API_VERSION}: install a matching version of either"
        )
    raise DriverLoadError(name, where, cause)


def _cause(exc: BaseException) -> str:
    detail = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__

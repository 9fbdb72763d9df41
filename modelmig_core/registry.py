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
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import hookspecs
from .driver import API_VERSION, Driver
from .errors import ConfigError
from .family import Family

DRIVER_GROUP = "modelmig.drivers"
PLUGIN_GROUP = "modelmig.plugins"


def _distribution(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"


class Registry:
    def __init__(self, extra_plugins: list[str] | None = None) -> None:
        self.pm = pluggy.PluginManager("modelmig")
        self.pm.add_hookspecs(hookspecs)
        self._core_registered = False
        self._drivers: dict[str, Driver] = {}
        self._entry_points: dict[str, EntryPoint] | None = None
        for ep in entry_points(group=PLUGIN_GROUP):
            self.register(ep.load(), name=f"plugin:{ep.name}")
        for spec in extra_plugins or []:
            self.register(self._import(spec), name=f"plugin:{spec}")

    @property
    def hook(self) -> Any:
        """The hooks, with the core's own implementations (``builtin.py``) registered
        on first use: the nothing-pending path calls no hook and imports none of them."""
        if not self._core_registered:
            from . import builtin

            self._core_registered = True
            self.pm.register(builtin, name="modelmig.builtin")
        return self.pm.hook

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
        as a plugin is registered as a driver under its own name."""
        if isinstance(plugin, type) and issubclass(plugin, Driver):
            plugin = plugin()
        if isinstance(plugin, Driver):
            self.add_driver(plugin, source=name or "a plugin")
            return
        if name and self.pm.get_plugin(name) is not None:
            return
        try:
            self.pm.register(plugin, name=name)
            self.pm.check_pending()
        except pluggy.PluginValidationError as exc:
            raise ConfigError(f"{name or plugin!r}: {exc}") from None

    def add_driver(self, driver: Driver, source: str) -> None:
        if getattr(driver, "api_version", None) != API_VERSION:
            raise ConfigError(
                f"driver {getattr(getattr(driver, 'info', None), 'name', type(driver).__name__)} ({source}) "
                f"was written for driver API version {getattr(driver, 'api_version', None)!r}; "
                f"this modelmig has version {API_VERSION}: install a matching version of either"
            )
        self._drivers[driver.info.name] = driver
        if driver.hooks is not None and self.pm.get_plugin(f"driver:{driver.info.name}") is None:
            self.pm.register(driver.hooks, name=f"driver:{driver.info.name}")
            self.pm.check_pending()

    def entry_points(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            self._entry_points = {ep.name: ep for ep in entry_points(group=DRIVER_GROUP)}
        return self._entry_points

    def installed(self) -> list[str]:
        return sorted(set(self.entry_points()) | set(self._drivers))

    def driver(self, name: str) -> Driver:
        """Driver ``name``, loaded once."""
        if name in self._drivers:
            return self._drivers[name]
        ep = self.entry_points().get(name)
        if ep is None:
            known = ", ".join(self.installed()) or "none"
            raise ConfigError(
                f"no driver named {name!r} is installed (installed: {known}); "
                f"if it is one of modelmig's, try pip install 'modelmig[{name}]'"
            )
        try:
            obj = ep.load()
            if isinstance(obj, type):
                obj = obj()
        except Exception as exc:  # noqa: BLE001 - a broken driver is reported, not raised through
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise ConfigError(
                f"driver {name!r} ({_distribution(ep)}) cannot be loaded: {type(exc).__name__}: {detail}"
            ) from None
        if not isinstance(obj, Driver):
            raise ConfigError(
                f"driver {name!r} ({_distribution(ep)}): its entry point {ep.value!r} is not a modelmig Driver"
            )
        self.add_driver(obj, source=_distribution(ep))
        return obj

    def driver_for_scheme(self, scheme: str) -> Driver:
        """The driver whose info lists URL ``scheme``. The driver named like the
        scheme is tried first, so the common case loads one driver module."""
        for driver in self._drivers.values():
            if scheme in driver.info.schemes:
                return driver
        failures: list[str] = []
        for name in sorted(self.entry_points(), key=lambda n: (n != scheme, n)):
            try:
                driver = self.driver(name)
            except ConfigError as exc:
                failures.append(str(exc))
                continue
            if scheme in driver.info.schemes:
                return driver
        if failures:
            raise ConfigError(f"no loadable driver handles URL scheme {scheme!r}; {failures[0]}")
        raise ConfigError(f"no installed driver handles URL scheme {scheme!r}")

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
            except ConfigError:
                continue
            if driver.info.family == name:
                found = self.families().get(name)
                if found is not None:
                    return found
        raise ConfigError(f"no installed driver provides the {name!r} migration family")

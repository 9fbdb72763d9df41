"""The plugin manager: the core's own hooks plus drivers loaded lazily by name
from the ``modelmig.drivers`` entry points (and plugins named in the config)."""

from __future__ import annotations

import importlib
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from . import hookspecs
from .driver import DriverInfo
from .errors import ConfigError

DRIVER_GROUP = "modelmig.drivers"
PLUGIN_GROUP = "modelmig.plugins"


class Plugins:
    def __init__(self, extra_plugins: list[str] | None = None) -> None:
        self.pm = pluggy.PluginManager("modelmig")
        self.pm.add_hookspecs(hookspecs)
        from . import builtin

        self.pm.register(builtin, name="modelmig.builtin")
        self._drivers: dict[str, DriverInfo] = {}
        self._entry_points: dict[str, EntryPoint] | None = None
        for ep in entry_points(group=PLUGIN_GROUP):
            self.pm.register(ep.load(), name=f"plugin:{ep.name}")
        for spec in extra_plugins or []:
            self.register(self._import(spec), name=f"plugin:{spec}")

    @property
    def hook(self) -> Any:
        return self.pm.hook

    @staticmethod
    def _import(spec: str) -> Any:
        module, _, attr = spec.partition(":")
        try:
            obj = importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"plugin {spec!r} cannot be imported: {exc}") from None
        return getattr(obj, attr) if attr else obj

    def register(self, plugin: Any, name: str | None = None) -> None:
        """Register a plugin object; if it answers ``driver_info`` it is a driver."""
        if name and self.pm.get_plugin(name) is not None:
            return
        self.pm.register(plugin, name=name)
        info_fn = getattr(plugin, "driver_info", None)
        if info_fn is not None:
            info = info_fn()
            self._drivers[info.name] = info

    def entry_points(self) -> dict[str, EntryPoint]:
        if self._entry_points is None:
            self._entry_points = {ep.name: ep for ep in entry_points(group=DRIVER_GROUP)}
        return self._entry_points

    def driver(self, name: str) -> DriverInfo:
        """Load driver ``name`` (once) and return its info."""
        if name in self._drivers:
            return self._drivers[name]
        ep = self.entry_points().get(name)
        if ep is None:
            known = ", ".join(sorted(set(self.entry_points()) | set(self._drivers))) or "none installed"
            raise ConfigError(
                f"no driver named {name!r} is installed (installed: {known}); try pip install 'modelmig[{name}]'"
            )
        self.register(ep.load(), name=f"driver:{name}")
        return self._drivers[name]

    def driver_for_scheme(self, scheme: str) -> DriverInfo:
        """The driver whose info lists URL ``scheme`` (loads installed drivers' infos)."""
        for info in self._drivers.values():
            if scheme in info.schemes:
                return info
        # the driver named like the scheme first (sqlite, mysql, mongo...), so that
        # the common case loads one driver module and not every installed one
        for name in sorted(self.entry_points(), key=lambda n: (n != scheme, n)):
            info = self.driver(name)
            if scheme in info.schemes:
                return info
        raise ConfigError(f"no installed driver handles URL scheme {scheme!r}")

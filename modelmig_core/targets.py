"""Which connections a command acts on, from --connection, --sqlite/--pg/--mysql,
--mongo, --all-connections and --test, and the chain of each (``chain_map``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .config import Chain, ChainMap, Config, ConnectionConfig, resolve_chains
from .driver import Driver, redact
from .errors import ConfigError
from .redaction import remember_url
from .registry import Registry


@dataclass(frozen=True)
class Target:
    name: str
    url: str
    driver: Driver
    test: bool = False
    server: str | None = None  # what the connection declares it targets ("mysql-8.4")
    chain: Chain | None = None  # its chain; None: the default chain of its driver's family
    #: the project declares ``[chains]``: every line a command prints names the chain
    chains_declared: bool = False

    def __post_init__(self) -> None:
        remember_url(self.url)  # whatever the driver or its client library says of it, no output shows its secrets

    @property
    def chain_name(self) -> str:
        """The name of its chain: a declared chain's (``analytics``), or a default
        chain's, which is its family's (``sql``)."""
        return self.chain.name if self.chain is not None else self.driver.info.family

    @property
    def tag(self) -> str:
        """The name on every line a command prints: ``main``, or ``main (test)``;
        in a project that declares chains, with its chain: ``warehouse (chain analytics)``."""
        chain = f" (chain {self.chain_name})" if self.chains_declared else ""
        return f"{self.name}{' (test)' if self.test else ''}{chain}"

    @property
    def label(self) -> str:
        return f"{self.tag} [{self.driver.name} {redact(self.url)}]"


def driver_of(conn: ConnectionConfig, plugins: Registry) -> Driver:
    return plugins.driver(conn.driver) if conn.driver else plugins.driver_for_scheme(conn.scheme)


def family_of(conn: ConnectionConfig, plugins: Registry) -> str | None:
    """The family of the connection's driver; None when no installed driver loads for it."""
    try:
        return driver_of(conn, plugins).info.family
    except ConfigError:
        return None


def chain_map(config: Config, plugins: Registry) -> ChainMap:
    """The project's chains resolved (``config.resolve_chains``). Without
    ``[chains]`` no driver is loaded for it; with them, the drivers of the
    configured connections are (to know each one's family)."""
    return resolve_chains(config, lambda conn: family_of(conn, plugins))


def driver_name_of(conn: ConnectionConfig, plugins: Registry) -> str | None:
    """The name of the connection's driver, importing none when the entry-point
    metadata says it (None: no installed driver handles it, or only a broken one
    could tell)."""
    if conn.driver:
        return conn.driver
    name = plugins.driver_name_for_scheme(conn.scheme)
    if name is not None:
        return name
    try:
        return driver_of(conn, plugins).name
    except ConfigError:
        return None


def select_targets(
    config: Config,
    plugins: Registry,
    *,
    connections: Iterable[str] = (),
    drivers: Iterable[str] = (),
    all_connections: bool = False,
    test: bool = False,
    flags: Mapping[str, str] | None = None,
) -> list[Target]:
    """The targets of a command. ``flags``: how the user asked for each driver of
    ``drivers`` (``--mongo``; default ``--driver NAME``), for the error that names it."""
    chosen: list[str] = []

    def add(name: str) -> None:
        if name not in chosen:
            chosen.append(name)

    for name in connections:
        if name not in config.connections:
            known = ", ".join(sorted(config.connections))
            raise ConfigError(f"{config.path}: unknown connection {name!r} (configured: {known})")
        add(name)
    for driver in drivers:
        if driver not in plugins.installed():
            plugins.driver(driver)  # one line: no driver of that name is installed, and which are
        matched = [n for n, c in config.connections.items() if driver_name_of(c, plugins) == driver]
        if not matched:
            how = (flags or {}).get(driver, f"--driver {driver}")
            raise ConfigError(f"{config.path}: {how} given but no {driver} connection is configured")
        for n in matched:
            add(n)
    if all_connections:
        matched = [n for n, c in config.connections.items() if driver_of(c, plugins).features.sql]
        if not matched:
            raise ConfigError(
                f"{config.path}: --all-connections found no connection whose driver declares the sql feature"
            )
        for n in matched:
            add(n)
    if not chosen:
        if config.default:
            add(config.default)
        elif len(config.connections) == 1:
            add(next(iter(config.connections)))
        else:
            raise ConfigError(
                f"{config.path}: several connections are configured; set 'default' or pass --connection NAME"
            )
    chains = chain_map(config, plugins)
    out = []
    for name in chosen:
        conn = config.connections[name]
        if test and not conn.test_url:
            raise ConfigError(f"{config.path}: connection {name!r} has no test_url for --test")
        url = conn.resolved_url(test)
        driver = driver_of(conn, plugins)
        chain = chains.of_connection(name, driver.info.family)
        out.append(Target(name, url, driver, test, conn.server, chain, bool(config.chains)))
    return out

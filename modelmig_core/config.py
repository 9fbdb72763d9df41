"""Configuration from ``[tool.modelmig]`` in pyproject.toml, or a modelmig.toml.

```toml
[tool.modelmig]
models = ["blog.models"]          # modules that define the models
migrations = "migrations"         # folder; the sql chain lives in migrations/sql
default = "main"                  # connection used when no target is given
sql_dialect = "postgres"          # the dialect the models' SQL text is written in (default: standard SQL)
[tool.modelmig.connections.main]
url = "sqlite:///${BLOG_DB:-blog.sqlite3}"
test_url = "sqlite:///blog_test.sqlite3"

[tool.modelmig.chains.analytics]  # a chain of its own: its models, its connections, its folder
models = ["analytics.models"]     # (migrations/analytics); every other model and connection
connections = ["warehouse"]       # stays in the default chain of its family (migrations/sql)
```
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .redaction import remember, remember_url, split_url

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
CONNECTION_KEYS = frozenset(
    {"url", "test_url", "driver", "server", "online", "lock_timeout", "statement_timeout", "lock_retries"}
)
#: a duration the server reads (``lock_timeout = "2s"``): digits and a unit
DURATION_RE = re.compile(r"^[0-9]{1,9}(ms|s|min|h)$")
SERVER_RE = re.compile(r"^[a-z]+-\d+(\.\d+)?$")
TOP_KEYS = frozenset(
    {
        "models",
        "migrations",
        "default",
        "connections",
        "plugins",
        "lock_timeout",
        "production_envs",
        "chains",
        "sql_dialect",
    }
)
CHAIN_KEYS = frozenset({"models", "connections", "family", "folder", "sql_dialect"})
#: a sqlglot dialect's name (``postgres``, ``mysql``, ``sqlite``); checked against
#: sqlglot's dialects when make first reads model SQL in it
SQL_DIALECT_RE = re.compile(r"^[a-z][a-z0-9_]{0,30}$")
#: a chain's name is the name of its folder (and of its state cache file): nothing
#: a file system, a shell or a URL could read as anything else
CHAIN_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
#: each part of a chain's ``folder``
FOLDER_PART_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]{0,127}$")
MODULE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


@dataclass(frozen=True)
class ConnectionConfig:
    """One connection. A ``${VAR}`` that is not set does not fail loading: the
    URL keeps its placeholder and ``url_error``/``test_url_error`` say why, and
    only a command that uses this connection (``resolved_url``) fails, naming
    the variable and the connection."""

    name: str
    url: str
    test_url: str | None = None
    driver: str | None = None  # explicit driver name; else chosen by URL scheme
    url_error: str | None = None
    test_url_error: str | None = None
    server: str | None = None  # the server it targets, e.g. "mysql-8.4", "mongodb-6.0" (make-time rules)
    #: render the lock-safe forms of every migration (one may say otherwise: ``online = False``)
    online: bool = False
    lock_timeout: str = "2s"  # online plans: how long a statement waits for its lock ("2s", "500ms")
    statement_timeout: str = "30min"  # online plans: how long one statement may run
    lock_retries: int = 5  # online plans: how often a statement whose lock was not granted is tried again

    @property
    def scheme(self) -> str:
        head = self.url.split(":", 1)[0]
        if self.url_error and "${" in head:  # the scheme itself comes from the unset variable
            raise ConfigError(self.url_error)
        return head.split("+", 1)[0].lower()

    def resolved_url(self, test: bool = False) -> str:
        """The URL (or test URL) with its variables, or the error naming the unset one."""
        error = self.test_url_error if test else self.url_error
        if error:
            raise ConfigError(error)
        url = self.test_url if test else self.url
        assert url is not None
        return url


@dataclass(frozen=True)
class ChainConfig:
    """A ``[chains.<name>]`` table as declared: the model modules and the
    connections of a chain of its own, its folder, and its family when declared
    (else the family of its connections' drivers, ``resolve_chains``)."""

    name: str
    models: tuple[str, ...]
    connections: tuple[str, ...]
    folder: Path
    family: str | None = None
    sql_dialect: str | None = None  # the dialect its models' SQL text is written in; None: the project's


@dataclass(frozen=True)
class Chain:
    """A chain of migration files: its name, the family its files are of, its
    folder, and (a declared chain) the connections and model modules it serves.

    A project without ``[chains]`` has one default chain per family, named after
    the family, in ``<migrations>/<family>`` (``migrations/sql``): each
    connection's chain is the default chain of its driver's family."""

    name: str
    family: str
    folder: Path
    connections: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    declared: bool = False

    @classmethod
    def default(cls, migrations: Path, family: str) -> Chain:
        """The default chain of ``family`` under the ``migrations`` folder."""
        return cls(family, family, migrations / family)

    @property
    def label(self) -> str:
        """How messages name it: ``chain 'analytics'``, or ``the sql chain``."""
        return f"chain {self.name!r}" if self.declared else f"the {self.family} chain"


@dataclass(frozen=True)
class Config:
    path: Path
    root: Path
    models: tuple[str, ...]
    migrations: Path
    connections: dict[str, ConnectionConfig] = field(default_factory=dict)
    default: str | None = None
    plugins: tuple[str, ...] = ()
    lock_timeout: float = 60.0
    production_envs: tuple[str, ...] = ()  # APP_ENV values that mean production, besides production and prod
    chains: dict[str, ChainConfig] = field(default_factory=dict)  # [chains.<name>]; none: one chain per family
    #: the sqlglot dialect the models' SQL text is written in (checks, generated
    #: columns, index predicates, views); None: standard SQL
    sql_dialect: str | None = None

    def sql_dialect_of(self, chain: Any) -> str:
        """The dialect the SQL text of ``chain``'s models is written in (a declared
        chain's own, else the project's; ``""``: standard SQL)."""
        spec = self.chains.get(getattr(chain, "name", "")) if getattr(chain, "declared", False) else None
        own = spec.sql_dialect if spec is not None else None
        return own or self.sql_dialect or ""

    def chain_of_module(self, module: str) -> str | None:
        """The declared chain whose ``models`` list ``module`` (or a package above
        it); None: the top-level ``models`` (the default chains) or none."""
        for chain in self.chains.values():
            if any(module == m or module.startswith(m + ".") for m in chain.models):
                return chain.name
        return None

    @property
    def model_modules(self) -> tuple[str, ...]:
        """Every models module: the top-level ``models``, then each chain's."""
        return (*self.models, *(m for c in self.chains.values() for m in c.models))


#: the longest wait for another runner's lock that a config may ask for (a day)
MAX_LOCK_TIMEOUT = 86_400.0


def seconds(value: object, where: str, maximum: float) -> float:
    """A number of seconds from a config file: an int or float (not a bool, not a
    string), finite, from 0 to ``maximum``; else one error naming the file and key."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{where} must be a number of seconds, got {value!r}")
    if (isinstance(value, float) and not math.isfinite(value)) or not 0 <= value <= maximum:
        raise ConfigError(f"{where} must be a number of seconds from 0 to {maximum:g}, got {value!r}")
    return float(value)


def interpolate(value: str, where: str) -> str:
    def sub(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"{where}: environment variable {name} is not set (use ${{{name}:-default}} for a default)")

    return _VAR.sub(sub, value)


def _deferred(value: str, where: str) -> tuple[str, str | None]:
    """(the interpolated value, None), or (the raw value, why it cannot be) when a
    variable is not set: the error is raised only by a command that needs it.
    The URL's secrets are remembered, so that no output shows them (redaction.py)."""
    _remember_secrets(value)
    try:
        url = interpolate(value, where)
    except ConfigError as exc:
        return value, str(exc)
    remember_url(url)
    return url, None


_MARK = re.compile(r"\x00(\d+)\x00")


def _remember_secrets(template: str) -> None:
    """The value of every ``${VAR}`` that sits where the URL template has a
    password (or a secret query option) is a secret, whatever it holds: a raw
    ``/ ? # @`` in it would otherwise move the URL's structure and hide it from
    the parsed URL's password."""
    values: list[str | None] = []

    def mark(m: re.Match[str]) -> str:
        values.append(os.environ.get(m.group(1), m.group(2)))
        return f"\x00{len(values) - 1}\x00"

    parts = split_url(_VAR.sub(mark, template))
    if parts is None:
        return
    for text in [*parts.secret_query(), *([parts.password] if parts.password is not None else [])]:
        for m in _MARK.finditer(text):
            value = values[int(m.group(1))]
            if value:
                remember(value)


def find_config(start: Path | None = None) -> Path:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "modelmig.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "modelmig" in _read(pyproject).get("tool", {}):
            return pyproject
    raise ConfigError(f"no modelmig.toml or pyproject.toml with [tool.modelmig] in {here} or above")


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _connection(name: str, conn: Any, where: str) -> ConnectionConfig:
    """One ``[connections.<name>]`` table, validated: one error naming the connection
    and the key."""
    if not isinstance(conn, dict):
        raise ConfigError(f"{where}: must be a table with a url")
    unknown = sorted(set(conn) - CONNECTION_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r}")
    if not isinstance(conn.get("url"), str) or not conn["url"]:
        raise ConfigError(f"{where}: 'url' is missing")
    url, url_error = _deferred(conn["url"], f"{where} url")
    if url_error is None and "://" not in url:
        raise ConfigError(f"{where}: url is not a URL like scheme://... (it has no '://')")
    test_url = conn.get("test_url")
    test_url_error = None
    if test_url is not None:
        if not isinstance(test_url, str) or "://" not in test_url:
            raise ConfigError(f"{where}: 'test_url' is not a URL")
        test_url, test_url_error = _deferred(test_url, f"{where} test_url")
    driver = conn.get("driver")
    if driver is not None and not isinstance(driver, str):
        raise ConfigError(f"{where}: 'driver' must be a driver name")
    server = conn.get("server")
    if server is not None and (not isinstance(server, str) or not SERVER_RE.match(server)):
        raise ConfigError(f'{where}: \'server\' must look like "mysql-8.4" or "mongodb-6.0", got {server!r}')
    online = conn.get("online", False)
    if not isinstance(online, bool):
        raise ConfigError(f"{where}: 'online' must be true or false, got {online!r}")
    durations = {}
    for key, fallback in (("lock_timeout", "2s"), ("statement_timeout", "30min")):
        value = conn.get(key, fallback)
        if not isinstance(value, str) or not DURATION_RE.match(value):
            raise ConfigError(f'{where}: {key!r} must be a duration like "2s", "500ms" or "5min", got {value!r}')
        durations[key] = value
    retries = conn.get("lock_retries", 5)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 100:
        raise ConfigError(f"{where}: 'lock_retries' must be a whole number from 0 to 100, got {retries!r}")
    return ConnectionConfig(
        name,
        url,
        test_url,
        driver,
        url_error,
        test_url_error,
        server,
        online,
        durations["lock_timeout"],
        durations["statement_timeout"],
        retries,
    )


def load_config(path: Path | None = None) -> Config:
    path = path.resolve() if path else find_config()
    if not path.is_file():
        raise ConfigError(f"{path}: no such config file")
    data = _read(path)
    section = data if path.name == "modelmig.toml" else data.get("tool", {}).get("modelmig")
    if path.name == "modelmig.toml" and "tool" in data:
        section = data["tool"].get("modelmig", data)
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: no [tool.modelmig] section")
    unknown = sorted(set(section) - TOP_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r} in modelmig config (known: {', '.join(sorted(TOP_KEYS))})"
        )

    models = section.get("models")
    if isinstance(models, str):
        models = [models]
    if models is None and section.get("chains"):
        models = []  # every model is in a chain of its own
    elif not models or not all(isinstance(m, str) and m for m in models):
        raise ConfigError(f"{path}: 'models' must name the module(s) that define the models")
    migrations = section.get("migrations", "migrations")
    if not isinstance(migrations, str) or not migrations:
        raise ConfigError(f"{path}: 'migrations' must be a folder path")

    raw_connections = section.get("connections")
    if not isinstance(raw_connections, dict) or not raw_connections:
        raise ConfigError(f"{path}: no connection configured; add [tool.modelmig.connections.<name>] with a url")
    connections: dict[str, ConnectionConfig] = {
        name: _connection(name, conn, f"{path}: connection {name!r}") for name, conn in raw_connections.items()
    }

    default = section.get("default")
    if default is not None and default not in connections:
        raise ConfigError(f"{path}: default connection {default!r} is not configured")
    plugins = section.get("plugins", [])
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"{path}: 'plugins' must be a list of module names")
    lock_timeout = seconds(section.get("lock_timeout", 60.0), f"{path}: 'lock_timeout'", MAX_LOCK_TIMEOUT)
    production_envs = section.get("production_envs", [])
    if not isinstance(production_envs, list) or not all(isinstance(e, str) and e.strip() for e in production_envs):
        raise ConfigError(f"{path}: 'production_envs' must be a list of APP_ENV names, e.g. [\"live\"]")
    sql_dialect = _sql_dialect(section.get("sql_dialect"), f"{path}: 'sql_dialect'")
    root = path.parent
    migrations_dir = (root / migrations).resolve()
    chains = _chains(path, root, migrations_dir, section.get("chains"), tuple(models), connections)
    return Config(
        path=path,
        root=root,
        models=tuple(models),
        migrations=migrations_dir,
        connections=connections,
        default=default,
        plugins=tuple(plugins),
        lock_timeout=float(lock_timeout),
        production_envs=tuple(production_envs),
        chains=chains,
        sql_dialect=sql_dialect,
    )


def _sql_dialect(value: object, where: str) -> str | None:
    """A declared ``sql_dialect``: a sqlglot dialect's name, or absent."""
    if value is None:
        return None
    if not isinstance(value, str) or not SQL_DIALECT_RE.match(value):
        raise ConfigError(f'{where} must name a SQL dialect as sqlglot spells it ("postgres", "mysql", "sqlite")')
    return value


def _chain_key(name: str) -> str:
    """``chains.analytics``; a name that is no safe chain name is quoted (escaped)."""
    return f"chains.{name}" if CHAIN_NAME_RE.match(name) else f"chains.{name!r}"


def _nested(a: str, b: str) -> bool:
    """Module ``a`` is ``b``, or one is a package holding the other."""
    return a == b or a.startswith(b + ".") or b.startswith(a + ".")


def _within(a: Path, b: Path) -> bool:
    """Folder ``a`` is ``b`` or inside it."""
    return a == b or b in a.parents


def _chains(
    path: Path,
    root: Path,
    migrations: Path,
    raw: object,
    top_models: tuple[str, ...],
    connections: dict[str, ConnectionConfig],
) -> dict[str, ChainConfig]:
    """The ``[chains.<name>]`` tables, each checked alone and against the others:
    one error line naming the file and the key for the first problem."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: 'chains' must be tables like [tool.modelmig.chains.analytics]")
    out: dict[str, ChainConfig] = {}
    owner_of_connection: dict[str, str] = {}
    owner_of_module: dict[str, str] = {m: "the top-level 'models' (the default chains)" for m in top_models}
    for name, table in raw.items():
        where = f"{path}: {_chain_key(name)}"
        if not CHAIN_NAME_RE.match(name):
            raise ConfigError(
                f"{where}: a chain's name is the name of its folder: use lower-case letters, digits and _, "
                "starting with a letter (at most 63 characters)"
            )
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: must be a table with models and connections")
        unknown = sorted(set(table) - CHAIN_KEYS)
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(CHAIN_KEYS))})")
        models = table.get("models")
        if isinstance(models, str):
            models = [models]
        if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
            raise ConfigError(
                f"{where}: 'models' must list the module(s) of the chain's models, e.g. [\"analytics.models\"]"
            )
        for m in models:
            if not MODULE_RE.match(m):
                raise ConfigError(f'{where}: models: {m!r} is not a module name like "analytics.models"')
            for other, owner in owner_of_module.items():
                if _nested(m, other):
                    raise ConfigError(
                        f"{where}: models: module {m!r} is also in {owner} (as {other!r}): a model belongs to one chain"
                    )
            owner_of_module[m] = _chain_key(name)
        names = table.get("connections")
        if not isinstance(names, list) or not names or not all(isinstance(c, str) for c in names):
            raise ConfigError(f"{where}: 'connections' must list the names of the chain's connections")
        for c in names:
            if c not in connections:
                known = ", ".join(sorted(connections))
                raise ConfigError(f"{where}: connections: unknown connection {c!r} (configured: {known})")
            if c in owner_of_connection:
                raise ConfigError(
                    f"{where}: connections: {c!r} is in {owner_of_connection[c]} too: a connection belongs to one chain"
                )
            owner_of_connection[c] = _chain_key(name)
        family = table.get("family")
        if family is not None and (not isinstance(family, str) or not CHAIN_NAME_RE.match(family)):
            raise ConfigError(f"{where}: 'family' must name a migration family such as \"sql\", got {family!r}")
        folder = migrations / name
        if "folder" in table:
            folder = _folder(where, root, table["folder"])
        if _within(migrations, folder):
            raise ConfigError(f"{where}: folder {folder} holds the migrations folder itself: give the chain its own")
        for other in out.values():
            if _within(folder, other.folder) or _within(other.folder, folder):
                raise ConfigError(
                    f"{where}: folder {folder} overlaps the folder of {_chain_key(other.name)}: "
                    "each chain has a folder of its own"
                )
        dialect = _sql_dialect(table.get("sql_dialect"), f"{where}: 'sql_dialect'")
        out[name] = ChainConfig(name, tuple(models), tuple(dict.fromkeys(names)), folder, family, dialect)
    _refuse_shared_databases(path, out, connections)
    return out


def _folder(where: str, root: Path, value: object) -> Path:
    """A chain's ``folder``: a relative path of plain folder names, under the project."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: 'folder' must be a relative path like \"db/analytics\", got {value!r}")
    parts = value.replace("\\", "/").split("/")
    if value.startswith(("/", "\\")) or not all(FOLDER_PART_RE.match(p) for p in parts):
        raise ConfigError(
            f"{where}: 'folder' must be a relative path of plain folder names under the project "
            f'(letters, digits, _ and -), like "db/analytics", got {value!r}'
        )
    return root.resolve().joinpath(*parts)


def _refuse_shared_databases(
    path: Path, chains: dict[str, ChainConfig], connections: dict[str, ConnectionConfig]
) -> None:
    """Two connections of two chains with the same URL would share one database,
    and so one ledger that each chain reads as its own: refused."""
    owner = {c: name for name, chain in chains.items() for c in chain.connections}
    seen: dict[str, str] = {}
    for conn in connections.values():
        for url, error in ((conn.url, conn.url_error), (conn.test_url, conn.test_url_error)):
            if url is None or error is not None:
                continue
            other = seen.get(url)
            if other is not None and owner.get(other) != owner.get(conn.name):
                mine = owner.get(conn.name)
                where = f"{path}: {_chain_key(mine)}" if mine else f"{path}: {_chain_key(owner[other])}"
                raise ConfigError(
                    f"{where}: connections {other!r} and {conn.name!r} are in two chains but have the same database "
                    "URL: a database's ledger serves one chain; give each chain its own database"
                )
            seen.setdefault(url, conn.name)


@dataclass(frozen=True)
class ChainMap:
    """Every chain of a project, resolved: the declared ones with their family,
    and the default chain of a family for every connection in no declared chain."""

    path: Path
    migrations: Path
    declared: dict[str, Chain]
    #: {declared chain: (why its family is unknown, its connections)}: no family
    #: declared and no driver of its connections loads; raised only by a command
    #: that needs that chain
    unresolved: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)

    def named(self, name: str) -> Chain:
        """The declared chain ``name`` (``make:migration --empty --chain NAME``)."""
        if name in self.unresolved:
            raise ConfigError(self.unresolved[name][0])
        chain = self.declared.get(name)
        if chain is None:
            known = ", ".join(sorted([*self.declared, *self.unresolved])) or "none"
            raise ConfigError(f"{self.path}: no chain {name!r} is configured (chains: {known})")
        return chain

    def of_connection(self, name: str, family: str) -> Chain:
        """The chain of connection ``name`` (whose driver is of ``family``)."""
        for why, connections in self.unresolved.values():
            if name in connections:
                raise ConfigError(why)
        for chain in self.declared.values():
            if name in chain.connections:
                return chain
        return Chain.default(self.migrations, family)


def resolve_chains(config: Config, family_of: Callable[[ConnectionConfig], str | None]) -> ChainMap:
    """The project's chains. ``family_of`` gives a connection's driver's family
    (None when its driver cannot be loaded here). A declared chain's family is the
    one it declares, else its connections'; a connection of another family, or a
    chain whose folder is the folder of a default chain still in use, is one
    error naming the file and the chain."""
    declared: dict[str, Chain] = {}
    unresolved: dict[str, tuple[str, tuple[str, ...]]] = {}
    if not config.chains:
        return ChainMap(config.path, config.migrations, declared)
    chained = {c for chain in config.chains.values() for c in chain.connections}
    defaults: dict[Path, list[str]] = {}
    for conn in config.connections.values():
        if conn.name not in chained:
            family = family_of(conn)
            if family is not None:
                defaults.setdefault(config.migrations / family, []).append(conn.name)
    for spec in config.chains.values():
        where = f"{config.path}: {_chain_key(spec.name)}"
        families = {c: family_of(config.connections[c]) for c in spec.connections}
        known = {c: f for c, f in families.items() if f is not None}
        family = spec.family
        if family is not None:
            for c, f in known.items():
                if f != family:
                    raise ConfigError(
                        f"{where}: connection {c!r} is of the {f!r} family, but the chain's family is {family!r}: "
                        "a chain's connections are all of its family"
                    )
        elif len(set(known.values())) > 1:
            found = ", ".join(f"{c!r}: {f}" for c, f in sorted(known.items()))
            raise ConfigError(
                f"{where}: its connections are of different families ({found}): a chain's connections share "
                "one family; put them in two chains"
            )
        elif known:
            family = next(iter(known.values()))
        else:
            why = (
                f"{where}: no driver of its connections can be loaded here, so its family is unknown: "
                'install the driver, or declare family = "..."'
            )
            unresolved[spec.name] = (why, spec.connections)
            continue
        users = defaults.get(spec.folder)
        if users:
            raise ConfigError(
                f"{where}: its folder {spec.folder} is the default {spec.folder.name} chain's, which serves "
                f"connection(s) {', '.join(repr(u) for u in users)} (in no chain): name the chain otherwise, or "
                "list those connections in it"
            )
        declared[spec.name] = Chain(spec.name, family, spec.folder, spec.connections, spec.models, True)
    return ChainMap(config.path, config.migrations, declared, unresolved)

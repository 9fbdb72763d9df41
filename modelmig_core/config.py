"""Configuration from ``[tool.modelmig]`` in pyproject.toml, or a modelmig.toml.

```toml
[tool.modelmig]
models = ["blog.models"]          # modules that define the models
migrations = "migrations"         # folder; the sql chain lives in migrations/sql
default = "main"                  # connection used when no target is given
[tool.modelmig.connections.main]
url = "sqlite:///${BLOG_DB:-blog.sqlite3}"
test_url = "sqlite:///blog_test.sqlite3"
```
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .redaction import remember, remember_url, split_url

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
CONNECTION_KEYS = frozenset({"url", "test_url", "driver", "server"})
SERVER_RE = re.compile(r"^[a-z]+-\d+(\.\d+)?$")
TOP_KEYS = frozenset({"models", "migrations", "default", "connections", "plugins", "lock_timeout", "production_envs"})


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
    if not models or not all(isinstance(m, str) and m for m in models):
        raise ConfigError(f"{path}: 'models' must name the module(s) that define the models")
    migrations = section.get("migrations", "migrations")
    if not isinstance(migrations, str) or not migrations:
        raise ConfigError(f"{path}: 'migrations' must be a folder path")

    raw_connections = section.get("connections")
    if not isinstance(raw_connections, dict) or not raw_connections:
        raise ConfigError(f"{path}: no connection configured; add [tool.modelmig.connections.<name>] with a url")
    connections: dict[str, ConnectionConfig] = {}
    for name, conn in raw_connections.items():
        where = f"{path}: connection {name!r}"
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
        connections[name] = ConnectionConfig(name, url, test_url, driver, url_error, test_url_error, server)

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
    root = path.parent
    return Config(
        path=path,
        root=root,
        models=tuple(models),
        migrations=(root / migrations).resolve(),
        connections=connections,
        default=default,
        plugins=tuple(plugins),
        lock_timeout=float(lock_timeout),
        production_envs=tuple(production_envs),
    )

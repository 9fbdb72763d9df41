"""``modelmig init``: a new project's configuration, models module and migrations
folder, written in one go and never over anything that exists.

The configuration goes into pyproject.toml's ``[tool.modelmig]`` when the folder
has a pyproject.toml (appended: the user's text is left as it is), else into a
modelmig.toml. Every value reaches the TOML file as an escaped basic string, and
the file is parsed back before anything is written."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .redaction import split_url

DEFAULT_URL = "sqlite:///app.sqlite3"
#: a whole ``${VAR}`` (or ``${VAR:-default}``), the way config.py interpolates
_VAR = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")
_PACKAGE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

MODELS_SOURCE = '''"""The models of this project: modelmig's source of truth.

Edit them, then `modelmig make:migration` writes the migration and
`modelmig migrate:run` applies it. The example below is a starting point:
rename it, change it or delete it before your first make:migration.
"""

from modelmig_core import Model, column


class Note(Model):
    # the table this model is stored in
    table = "notes"
    # its columns: column(type, *arguments, nullable=..., default=..., unique=...)
    schema = {
        "id": column("increments"),  # an auto-incrementing primary key
        "title": column("string", 200),  # VARCHAR(200) NOT NULL
        "body": column("text", nullable=True),
        "created_at": column("timestamp"),  # defaults to the current time
    }
    # physical DDL beyond the columns: foreign keys, composite indexes, checks
    # database = {"indexes": [index(["title"], name="ix_notes_title")]}
'''


def toml_string(value: str) -> str:
    """``value`` as a TOML basic string: quotes, backslashes and every control
    character escaped, so that no text can end the string or the line."""
    out = ['"']
    for ch in value:
        code = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\b\t\n\f\r":
            out.append({"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def check_url(url: str) -> None:
    """A URL ``scheme://...`` without control characters and without a literal
    password (a password comes from the environment: ``${VAR}``)."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        raise ConfigError("init: --url has a control character (a line break?); give the URL on one line")
    scheme, sep, _ = url.partition("://")
    if not sep or not _SCHEME.match(scheme):
        raise ConfigError(f"init: --url {url!r} is not a URL like scheme://... (sqlite:///app.sqlite3)")
    parts = split_url(url)
    password = parts.password if parts is not None else None
    if password and _VAR.sub("", password):
        raise ConfigError(
            "init: --url holds a password; keep it out of the config file: write it as a variable, "
            "e.g. postgresql://user:${DB_PASSWORD}@host/db, and set DB_PASSWORD in the environment"
        )


def check_driver(name: str) -> None:
    """``name`` must be an installed driver (entry-point metadata: nothing imported)."""
    from .registry import Registry

    installed = Registry().installed()
    if name not in installed:
        raise ConfigError(f"init: no driver named {name!r} is installed (installed: {', '.join(installed) or 'none'})")


@dataclass(frozen=True)
class Plan:
    """What init writes: the config file (and whether it is appended to), the
    models module, the migrations folder."""

    config: Path
    config_text: str
    append: bool
    models_file: Path
    models_module: str
    migrations: Path


def _package(root: Path, pyproject: dict[str, Any] | None) -> str | None:
    """The import package of an existing project at ``root``: the project's name
    (normalised) when a folder of that name with an ``__init__.py`` sits there."""
    name = (pyproject or {}).get("project", {}).get("name")
    if not isinstance(name, str):
        return None
    candidate = re.sub(r"[-.]+", "_", name).lower()
    if _PACKAGE.match(candidate) and (root / candidate / "__init__.py").is_file():
        return candidate
    return None


def _config_body(prefix: str, models_module: str, url: str, driver: str | None) -> str:
    lines = [
        f"[{prefix}]" if prefix else "",
        f"models = [{toml_string(models_module)}]",
        'migrations = "migrations"',
        'default = "main"',
        "",
        f"[{prefix + '.' if prefix else ''}connections.main]",
        f"url = {toml_string(url)}",
    ]
    if driver:
        lines.append(f"driver = {toml_string(driver)}")
    return "\n".join(line for i, line in enumerate(lines) if i or line) + "\n"


def plan(root: Path, url: str, driver: str | None, where: str | None) -> Plan:
    """What ``init`` would write in ``root``; a ConfigError naming what exists (or
    what is wrong) when it cannot write it all."""
    check_url(url)
    if driver is not None:
        check_driver(driver)
    pyproject_path = root / "pyproject.toml"
    pyproject: dict[str, Any] | None = None
    original = ""
    if pyproject_path.is_file():
        original = pyproject_path.read_text(encoding="utf-8")
        try:
            pyproject = tomllib.loads(original)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"init: {pyproject_path}: invalid TOML: {exc}") from None
    use_pyproject = where == "pyproject" or (where is None and pyproject is not None)
    existing = [root / "modelmig.toml"] if (root / "modelmig.toml").exists() else []
    if pyproject is not None and "modelmig" in pyproject.get("tool", {}):
        existing.append(pyproject_path)
    package = _package(root, pyproject)
    models_file = root / package / "models.py" if package else root / "models.py"
    models_module = f"{package}.models" if package else "models"
    migrations = root / "migrations"
    existing += [p for p in (models_file, migrations) if p.exists()]
    if existing:
        names = ", ".join(str(p.relative_to(root)) + ("/" if p.is_dir() else "") for p in existing)
        raise ConfigError(f"init: {names} already exist{'s' if len(existing) == 1 else ''} in {root}; nothing written")
    if use_pyproject:
        separator = "" if not original or original.endswith("\n\n") else ("\n" if original.endswith("\n") else "\n\n")
        text = original + separator + _config_body("tool.modelmig", models_module, url, driver)
        config = pyproject_path
    else:
        text = _config_body("", models_module, url, driver)
        config = root / "modelmig.toml"
    _verify(config, text, pyproject if use_pyproject else None, models_module, url, driver)
    append = config == pyproject_path and pyproject is not None
    return Plan(config, text, append, models_file, models_module, migrations)


def _verify(config: Path, text: str, before: dict[str, Any] | None, models: str, url: str, driver: str | None) -> None:
    """The text to write, parsed back: the user's tables as they were, and ours
    holding exactly the values given (else the file's shape keeps us out of it)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"init: {config.name} cannot take a [tool.modelmig] table appended ({exc}); add it by hand or use --toml"
        ) from None
    section = data.get("tool", {}).get("modelmig") if config.name == "pyproject.toml" else data
    expected_conn = {"url": url, **({"driver": driver} if driver else {})}
    expected = {
        "models": [models],
        "migrations": "migrations",
        "default": "main",
        "connections": {"main": expected_conn},
    }
    if section != expected:
        raise ConfigError(f"init: {config.name} would not read back as written; add [tool.modelmig] by hand")
    if before is not None:
        rest = {**data, "tool": {k: v for k, v in data.get("tool", {}).items() if k != "modelmig"}}
        if not rest["tool"] and "tool" not in before:
            del rest["tool"]
        if rest != before:
            raise ConfigError(f"init: appending to {config.name} would change its other tables; add it by hand")


def write(p: Plan) -> list[str]:
    """Write what ``p`` holds; the paths written, relative to the config's folder."""
    root = p.config.parent
    if p.append:
        with p.config.open("a", encoding="utf-8") as fh:
            fh.write(p.config_text[len(p.config.read_text(encoding="utf-8")) :])
    else:
        with p.config.open("x", encoding="utf-8") as fh:
            fh.write(p.config_text)
    with p.models_file.open("x", encoding="utf-8") as fh:
        fh.write(MODELS_SOURCE)
    p.migrations.mkdir()
    return [str(p.config.relative_to(root)), str(p.models_file.relative_to(root)), "migrations/"]


def existing_tables(url: str, driver: str | None) -> list[str] | None:
    """The tables (or collections) of the database at ``url`` when it exists and
    can be read now; None when it cannot be told (a variable not set, a server
    not reachable). A database file that does not exist is never created."""
    from .config import interpolate
    from .registry import Registry

    try:
        real = interpolate(url, "init --url")
        registry = Registry()
        drv = registry.driver(driver) if driver else registry.driver_for_scheme(real.split(":", 1)[0].split("+")[0])
        if drv.exists(real) is False:
            return []
        with drv.connect(real) as session:
            state = drv.reflect(session)
    except Exception:  # noqa: BLE001 - only an offer of the adoption path depends on it
        return None
    names = getattr(state, "tables", None) or getattr(state, "collections", None) or {}
    return sorted(n for n in names if n != "modelmig_migrations")


def init(root: Path, url: str | None, driver: str | None, where: str | None, say: Callable[[str], None]) -> list[str]:
    """Write a new project's configuration, models module and migrations folder in
    ``root``; ``say`` gets the closing lines. The paths written."""
    p = plan(root, DEFAULT_URL if url is None else url, driver, where)
    written = write(p)
    for path in written:
        say(f"wrote {path}")
    tables = existing_tables(url, driver) if url is not None else []
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        say(f"the database already has {len(tables)} table(s) ({shown}):")
        say("  to adopt it: modelmig make:models --force     (the models, from the live tables, over the example)")
        say("               modelmig make:migration          (the first migration, from those models)")
        say("               modelmig migrate:baseline        (marked as applied, not run: the tables exist)")
        say("               modelmig migrate:status --drift  (drift: none)")
    else:
        say(f"next: edit {p.models_file.relative_to(root)}, then modelmig make:migration and modelmig migrate:run")
    return written

"""The production guard and confirmation of destructive commands."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable

from .errors import GuardError

ALLOW_VAR = "MODELMIG_ALLOW_PROD_DESTRUCTIVE"
PRODUCTION_ENVS = frozenset({"production", "prod"})
_configured_envs: frozenset[str] = frozenset()


def set_production_envs(names: Iterable[str]) -> None:
    """More APP_ENV values that mean production, besides ``production`` and ``prod``:
    the config's ``production_envs``, set by ``app.open_app`` for the process."""
    global _configured_envs
    _configured_envs = frozenset(n.strip().lower() for n in names if n.strip())


def app_env() -> str:
    return os.environ.get("APP_ENV", "").strip()


def in_production() -> bool:
    """APP_ENV names production: trimmed, any case, ``production``, ``prod`` or a
    configured name. A typo of one space or a capital never switches the guard off."""
    return app_env().lower() in PRODUCTION_ENVS | _configured_envs


def check_production(what: str, *, force: bool, yes: bool) -> None:
    """In production, dropping data needs all three of the env var, --force and --yes."""
    if not in_production():
        return
    missing = []
    if os.environ.get(ALLOW_VAR, "").lower() != "true":
        missing.append(f"{ALLOW_VAR}=true")
    if not force:
        missing.append("--force")
    if not yes:
        missing.append("--yes")
    if missing:
        env = app_env()
        shown = "production" if env.lower() == "production" else f"{env} (production)"
        raise GuardError(f"refused: {what} drops data and APP_ENV={shown}; it also needs {', '.join(missing)}")


def confirm_destructive(
    what: str, *, force: bool, yes: bool, ask: Callable[[str], bool], interactive: bool | None = None
) -> None:
    """Production: the three-part guard. Elsewhere: ask on a terminal, else need --yes."""
    check_production(what, force=force, yes=yes)
    if yes:
        return
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise GuardError(f"refused: {what} drops data; pass --yes to confirm (there is no terminal to ask on)")
    if not ask(f"{what} drops data. Continue?"):
        raise GuardError(f"{what}: not confirmed, nothing was changed")

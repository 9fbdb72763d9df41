"""The production guard and confirmation of destructive commands."""

from __future__ import annotations

import os
import sys
import unicodedata
from collections.abc import Callable, Iterable

from ..errors import GuardError

ALLOW_VAR = "MODELMIG_ALLOW_PROD_DESTRUCTIVE"
PRODUCTION_PREFIX = "prod"  # production, prod, prod_us, production-eu, PROD ...
#: APP_ENV values that often mean production but are not taken as it: a warning
#: says so (add them to ``production_envs`` if they are)
LOOKALIKES = frozenset({"prd", "prdn", "prdctn", "live", "main", "master", "release"})
#: letters of other scripts that look like those of "prod"/"production" (Cyrillic, Greek, Armenian)
_CONFUSABLES = str.maketrans(
    {
        "\u0440": "p",
        "\u03c1": "p",
        "\u0433": "r",
        "\u043e": "o",
        "\u03bf": "o",
        "\u0501": "d",
        "\u057d": "u",
        "\u0441": "c",
    }
)
_configured_envs: frozenset[str] = frozenset()


def _normal(value: str) -> str:
    """How APP_ENV is compared: compatibility forms folded (full-width letters),
    trimmed, case-folded."""
    return unicodedata.normalize("NFKC", value).strip().casefold()


def set_production_envs(names: Iterable[str]) -> None:
    """More APP_ENV values that mean production, besides every value that starts
    with ``prod``: the config's ``production_envs``, set by ``app.open_app`` for
    the process."""
    global _configured_envs
    _configured_envs = frozenset(_normal(n) for n in names if n.strip())


def app_env() -> str:
    return os.environ.get("APP_ENV", "").strip()


def in_production() -> bool:
    """APP_ENV names production: trimmed and case-folded, any value that starts
    with ``prod`` (``production``, ``prod_us``, ``production-eu``), or one of the
    configured ``production_envs``. A space, a capital or a region suffix never
    switches the guard off."""
    env = _normal(app_env())
    return env.startswith(PRODUCTION_PREFIX) or env in _configured_envs


def _distance(a: str, b: str) -> int:
    """Edit distance with transpositions (optimal string alignment), for short strings."""
    d = [[i + j if i * j == 0 else 0 for j in range(len(b) + 1)] for i in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[-1][-1]


def lookalike_warning() -> str | None:
    """One line when APP_ENV looks like production but is not taken as it
    (``prd``, ``live``, ``_prod``, ``prodution``, a Cyrillic letter p); None otherwise."""
    raw = os.environ.get("APP_ENV", "")
    if not raw.strip() or in_production():
        return None
    env = _normal(raw).translate(_CONFUSABLES)
    letters = "".join(c for c in env if c.isalnum())
    looks = (
        letters.startswith((PRODUCTION_PREFIX, "prd", "live"))
        or letters in LOOKALIKES
        or (len(letters) >= 3 and _distance(letters, "prod") <= 1)
        or (len(letters) >= 6 and _distance(letters[:10], "production") <= 2)
    )
    if not looks:
        return None
    return (
        f"APP_ENV={raw.strip()!r} looks like production but is not taken as production (only values that start "
        "with 'prod' and the config's production_envs are); the production guard is off. If it is production, "
        "add it to production_envs"
    )


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
        shown = env if env.isprintable() else repr(env)  # one line, whatever APP_ENV holds
        shown = "production" if env.lower() == "production" else f"{shown} (production)"
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

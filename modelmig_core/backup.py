"""Backup-and-verify before anything is dropped in production.

When ``APP_ENV`` names production (see ``guard.in_production``; or with
``MODELMIG_BACKUP=always``), every command that drops data — ``migrate:reset``,
``migrate:fresh``, a run or rollback with a destructive operation (a DropTable,
a DropColumn, a RunSQL that drops...) — first asks the connection's driver for a
backup of the whole database (``Driver.backup``). The driver reads its backup
back and returns the rows per table it found there; this module alone compares
them with the live counts and decides. No backup, no drop: a driver that cannot
back up, or a backup that does not verify, refuses the command.
``MODELMIG_SKIP_BACKUP=true`` goes on without one (said on the output).

Backups go to ``MODELMIG_BACKUP_DIR`` (default ``modelmig-backups/`` beside the
config file).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .driver import Backup, Session
from .errors import GuardError, MigrationFailed, ModelmigError
from .guard import in_production

DEFAULT_DIR = "modelmig-backups"


def wanted() -> bool:
    return in_production() or os.environ.get("MODELMIG_BACKUP", "").lower() == "always"


def verify(backup: Backup, live: dict[str, int]) -> None:
    """Every live table must be in the backup with its live row count."""
    wrong = sorted(t for t, n in live.items() if backup.rows.get(t) != n)
    if wrong:
        t = wrong[0]
        raise MigrationFailed(
            f"backup {backup.path} does not verify: {t} has {live[t]} rows, the backup "
            f"{backup.rows.get(t, 'none')}; nothing was dropped"
        )


def backup_before_drop(command: str, session: Session, target: Any, echo: Callable[[str], None]) -> None:
    if not wanted():
        return
    if os.environ.get("MODELMIG_SKIP_BACKUP", "").lower() == "true":
        echo(f"warning: {target.name}: {command} drops data WITHOUT a backup (MODELMIG_SKIP_BACKUP=true)")
        return
    directory = Path(os.environ.get("MODELMIG_BACKUP_DIR") or DEFAULT_DIR).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    label = f"{target.name}-{stamp}-{command.replace(':', '-')}"
    try:
        result = session.driver.backup(session, directory, label)
    except NotImplementedError:
        raise GuardError(
            f"refused: {command} drops data and driver {session.driver.name} cannot take a backup; "
            "set MODELMIG_SKIP_BACKUP=true to go on without one"
        ) from None
    except ModelmigError:
        raise
    except Exception as exc:
        raise MigrationFailed(
            f"cannot take a backup: {type(exc).__name__}: {' '.join(str(exc).split())}; nothing was dropped"
        ) from exc
    verify(result, session.row_counts())
    total = sum(result.rows.values())
    echo(
        f"{target.name}: backed up and verified {len(result.rows)} table(s), {total} row(s) "
        f"before {command}: {result.path}"
    )

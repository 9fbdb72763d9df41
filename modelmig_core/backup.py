"""Backup-and-verify before anything is dropped in production.

When ``APP_ENV`` names production (see ``guard.in_production``; or with
``MODELMIG_BACKUP=always``), every command that drops data — ``migrate:reset``,
``migrate:fresh``, a run or rollback with a DropTable/DropColumn/DropCollection or
a RunSQL that drops — first asks the connection's driver for a backup of the
whole database (the ``backup`` hook), which the driver reads back to verify
before anything is dropped. No backup, no drop: a driver that cannot
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

from .driver import Connection
from .errors import GuardError
from .guard import in_production

DEFAULT_DIR = "modelmig-backups"


def wanted() -> bool:
    return in_production() or os.environ.get("MODELMIG_BACKUP", "").lower() == "always"


def backup_before_drop(command: str, connection: Connection, target: Any, echo: Callable[[str], None]) -> None:
    if not wanted():
        return
    if os.environ.get("MODELMIG_SKIP_BACKUP", "").lower() == "true":
        echo(f"warning: {target.name}: {command} drops data WITHOUT a backup (MODELMIG_SKIP_BACKUP=true)")
        return
    directory = Path(os.environ.get("MODELMIG_BACKUP_DIR") or DEFAULT_DIR).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    label = f"{target.name}-{stamp}-{command.replace(':', '-')}"
    result = connection.hook.backup(connection=connection, directory=directory, label=label)
    if result is None:
        raise GuardError(
            f"refused: {command} drops data and driver {target.driver.name} cannot take a backup; "
            "set MODELMIG_SKIP_BACKUP=true to go on without one"
        )
    total = sum(result.rows.values())
    echo(
        f"{target.name}: backed up and verified {len(result.rows)} table(s), {total} row(s) "
        f"before {command}: {result.path}"
    )

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
config file). They hold every row of the database: the folder is created 0700
and every file in it is written 0600 (the driver writes under a 0077 umask, and
what it wrote is made 0600/0700 afterwards, whatever tool wrote it).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


@contextmanager
def private_files() -> Iterator[None]:
    """What is created meanwhile (by this process or the tools it starts) is
    readable by its owner only."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def make_private(path: Path) -> None:
    """``path`` and, for a folder, everything under it: files 0600, folders 0700."""
    if path.is_dir():
        path.chmod(0o700)
        for inner in path.rglob("*"):
            inner.chmod(0o700 if inner.is_dir() else 0o600)
    elif path.exists():
        path.chmod(0o600)


def backup_folder() -> Path:
    """The backup folder, created 0700 if it does not exist; one error line if it
    cannot be created or written to."""
    directory = Path(os.environ.get("MODELMIG_BACKUP_DIR") or DEFAULT_DIR).resolve()
    try:
        if not directory.is_dir():
            with private_files():
                directory.mkdir(parents=True)
        probe = directory / f".modelmig-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise MigrationFailed(
            f"cannot write backups to {directory}: {reason}; nothing was dropped "
            "(set MODELMIG_BACKUP_DIR to a writable folder)"
        ) from None
    return directory


def backup_before_drop(command: str, session: Session, target: Any, echo: Callable[[str], None]) -> Path | None:
    """Take, verify and report a backup when one is wanted; its path."""
    if not wanted():
        return None
    name = getattr(target, "tag", target.name)
    if os.environ.get("MODELMIG_SKIP_BACKUP", "").lower() == "true":
        echo(f"warning: {name}: {command} drops data WITHOUT a backup (MODELMIG_SKIP_BACKUP=true)")
        return None
    directory = backup_folder()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    label = f"{target.name}-{stamp}-{command.replace(':', '-')}"
    try:
        with private_files():
            result = session.driver.backup(session, directory, label)
        make_private(result.path)
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
    echo(f"{name}: backed up and verified {len(result.rows)} table(s), {total} row(s) before {command}: {result.path}")
    return result.path

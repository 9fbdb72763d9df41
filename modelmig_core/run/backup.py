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

The counts compared are those of one snapshot: the driver counts the live rows
in the same snapshot its dump read (PostgreSQL: an exported snapshot; MariaDB:
a consistent snapshot started while commits are held; SQLite: one read
transaction), so writers elsewhere cannot make a good backup fail. Tables are
keyed by ``(schema, table)``. A driver writes into a scratch folder
``<label>.partial`` inside the backup folder; only a verified backup is renamed
to its final name beside it, and the scratch folder is removed whatever
happens (a run killed outright leaves it, named ``.partial``, and the next
backup on this machine removes it once its process is gone). The file names
come from a slug of the connection's name, and every path is checked to be
inside the backup folder.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..driver import Backup, Session, TableKey
from ..errors import GuardError, MigrationFailed, ModelmigError
from .guard import in_production

DEFAULT_DIR = "modelmig-backups"
PARTIAL = ".partial"  # the suffix of a scratch folder a driver writes into
OWNER = ".owner"  # in a scratch folder: "<host> <pid>" of the process writing it
SLUG_MAX = 64


def wanted() -> bool:
    return in_production() or os.environ.get("MODELMIG_BACKUP", "").lower() == "always"


def slug(name: str) -> str:
    """``name`` as one safe file-name component: letters, digits, ``-`` and ``_``
    kept, anything else (separators, dots, NUL, spaces...) made ``_``, at most
    ``SLUG_MAX`` characters; a name that had to change gets a short hash of the
    original, so two different names never share a slug."""
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", name)[:SLUG_MAX]
    if safe == name and safe:
        return safe
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe.strip('_')[: SLUG_MAX - 9] or 'connection'}-{digest}"


def inside(folder: Path, path: Path) -> Path:
    """``path`` resolved, refused unless it is inside ``folder`` (resolved)."""
    resolved, root = path.resolve(), folder.resolve()
    if resolved == root or root not in resolved.parents:
        raise MigrationFailed(f"refused: backup path {path} is outside the backup folder {root}; nothing was dropped")
    return resolved


def _key(key: TableKey) -> tuple[str, str]:
    return key if isinstance(key, tuple) else ("", key)


def _name(key: tuple[str, str]) -> str:
    return f"{key[0]}.{key[1]}" if key[0] else key[1]


def verify(backup: Backup, live: Mapping[TableKey, int]) -> None:
    """Every live table must be in the backup with its live row count (tables
    keyed by schema: a same-named table elsewhere is another table)."""
    rows = {_key(k): n for k, n in backup.rows.items()}
    counted = {_key(k): n for k, n in live.items()}
    wrong = sorted(t for t, n in counted.items() if rows.get(t) != n)
    if wrong:
        t = wrong[0]
        raise MigrationFailed(
            f"backup {backup.path} does not verify: {_name(t)} has {counted[t]} rows, the backup "
            f"{rows.get(t, 'none')}; nothing was dropped"
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


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def sweep(directory: Path) -> None:
    """Remove the scratch folders of runs on this machine whose process is gone
    (killed outright, they could not clean up)."""
    host = socket.gethostname()
    for entry in directory.glob(f"*{PARTIAL}"):
        try:
            owner_host, _, pid = (entry / OWNER).read_text(encoding="utf-8").rpartition(" ")
            mine = entry.is_dir() and not entry.is_symlink() and owner_host == host
            if mine and not _alive(int(pid)):
                shutil.rmtree(entry)
        except (OSError, ValueError):
            continue  # not ours to judge: left alone


@contextmanager
def scratch(directory: Path, label: str) -> Iterator[Path]:
    """A private scratch folder ``<label>.partial`` for the driver to write into,
    removed on the way out whatever happened."""
    folder = inside(directory, directory / f"{label}{PARTIAL}")
    try:
        with private_files():
            folder.mkdir()
    except OSError as exc:
        raise MigrationFailed(f"cannot write a backup to {folder}: {exc.strerror}; nothing was dropped") from None
    try:
        (folder / OWNER).write_text(f"{socket.gethostname()} {os.getpid()}", encoding="utf-8")
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def settle(directory: Path, folder: Path, taken: Path, label: str) -> Path:
    """Rename the verified backup ``taken`` from the scratch ``folder`` to its final
    name in ``directory``; never over an existing file."""
    source = inside(folder, taken)
    if source.parent != folder.resolve() or not source.name.startswith(label) or not source.exists():
        raise MigrationFailed(
            f"the driver wrote its backup to {taken}, not a name starting with {label} in {folder}; nothing was dropped"
        )
    final = inside(directory, directory / source.name)
    if final.exists() or final.is_symlink():
        raise MigrationFailed(f"refused: {final} exists already; nothing was dropped")
    make_private(source)
    source.rename(final)
    return final


def backup_before_drop(command: str, session: Session, target: Any, echo: Callable[[str], None]) -> Path | None:
    """Take, verify and report a backup when one is wanted; its path."""
    if not wanted():
        return None
    name = getattr(target, "tag", target.name)
    if os.environ.get("MODELMIG_SKIP_BACKUP", "").lower() == "true":
        echo(f"warning: {name}: {command} drops data WITHOUT a backup (MODELMIG_SKIP_BACKUP=true)")
        return None
    directory = backup_folder()
    sweep(directory)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    label = f"{slug(str(target.name))}-{stamp}-{slug(command.replace(':', '-'))}"
    with scratch(directory, label) as folder:
        try:
            with private_files():
                result = session.driver.backup(session, folder, label)
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
        verify(result, session.row_counts() if result.live is None else result.live)
        path = settle(directory, folder, result.path, label)
    total = sum(result.rows.values())
    echo(f"{name}: backed up and verified {len(result.rows)} table(s), {total} row(s) before {command}: {path}")
    return path

"""The fleet report: which databases a fleet command (``migrate:run`` over several
connections) has finished, kept in the project's cache folder
(``<migrations>/.modelmig-cache/fleet.json``) and rewritten atomically as each
database finishes, so that after a crash (kill -9, a lost machine) it says at a
glance how far the run got (``migrate:status`` prints it; ``--json`` carries it).

The ledgers stay the truth: a re-run reads every database's ledger and applies
only what each one lacks. The report only shows (done, failed, not finished) and
orders nothing. It is JSON, read back only as plain values; a broken or foreign
file is ignored.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from .report import ConnectionFinished, Event, MigrationApplied

FOLDER = ".modelmig-cache"
NAME = "fleet.json"


def path_of(migrations: Path) -> Path:
    return migrations / FOLDER / NAME


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _alive(pid: Any) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # someone else's process: alive
    return True


class FleetReport:
    """The report of one fleet command, as it goes: ``event`` takes the command's
    events (from any thread) and writes the file when a database finishes."""

    def __init__(self, migrations: Path, command: str, connections: list[str]) -> None:
        self.path = path_of(migrations)
        self._lock = threading.Lock()
        self._applied: dict[str, list[str]] = {name: [] for name in connections}
        self.data: dict[str, Any] = {
            "command": command,
            "pid": os.getpid(),
            "started_at": _now(),
            "finished_at": None,
            "databases": {name: {"state": "pending"} for name in connections},
        }
        self._write()

    def event(self, event: Event) -> None:
        if isinstance(event, MigrationApplied):
            with self._lock:
                self._applied.setdefault(event.connection, []).append(event.migration)
        elif isinstance(event, ConnectionFinished):
            with self._lock:
                entry: dict[str, Any] = {
                    "state": "done" if event.error is None else ("failed" if event.started else "not started"),
                    "applied": list(self._applied.get(event.connection, [])),
                    "finished_at": _now(),
                    "duration_ms": event.duration_ms,
                }
                if event.error is not None:
                    entry["error"] = event.error
                self.data["databases"][event.connection] = entry
                self._write()

    def finish(self) -> None:
        with self._lock:
            self.data["finished_at"] = _now()
            self._write()

    def _write(self) -> None:
        """Atomically (a temporary file renamed over it); failing to write is no error."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            ignore = self.path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# modelmig's cache of replayed migration states; safe to delete\n*\n")
            tmp = self.path.with_name(f".{NAME}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
            tmp.replace(self.path)
        except OSError:
            pass


def read(migrations: Path) -> dict[str, Any] | None:
    """The last fleet report, with ``state``: ``finished``, ``running`` (its process
    is alive) or ``interrupted``; None when there is none (or it is not one)."""
    try:
        data = json.loads(path_of(migrations).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("databases"), dict):
        return None
    databases = data["databases"]
    if not all(isinstance(v, dict) for v in databases.values()):
        return None
    if data.get("finished_at"):
        data["state"] = "finished"
    else:
        data["state"] = "running" if _alive(data.get("pid")) else "interrupted"
    counts: dict[str, int] = {}
    for entry in databases.values():
        state = str(entry.get("state"))
        counts[state] = counts.get(state, 0) + 1
    data["counts"] = counts
    return data


def glance(data: dict[str, Any]) -> str:
    """One line: how far the last fleet run got."""
    counts = data["counts"]
    total = sum(counts.values())
    done, failed = counts.get("done", 0), counts.get("failed", 0)
    left = total - done - failed
    words = {"finished": "finished", "running": "still running", "interrupted": "was interrupted"}[data["state"]]
    text = f"last fleet run ({data.get('command')}, started {data.get('started_at')}) {words}: {done} of {total} done"
    if failed:
        text += f", {failed} failed"
    if left:
        text += f", {left} not finished"
    if data["state"] == "interrupted" and left:
        text += " (run it again: each database's ledger says what is left)"
    return text

"""Values shared between the core and the drivers."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEDGER = "modelmig_migrations"


@dataclass(frozen=True)
class DriverInfo:
    name: str
    schemes: tuple[str, ...]
    family: str  # "sql" or "document"
    capabilities: frozenset[str] = frozenset()
    max_identifier_length: int | None = None
    description: str = ""


@dataclass
class LedgerRow:
    id: str
    batch: int
    checksum: str
    applied_at: str
    duration_ms: int = 0
    status: str = "applied"  # "applied", or "running" for an interrupted migration
    progress: int = 0  # statements done, for databases without transactional DDL


@dataclass(frozen=True)
class Backup:
    """A verified backup: where it is and the rows it holds per table/collection."""

    path: Path
    rows: dict[str, int]


@dataclass
class Connection:
    """A live connection of one driver. ``raw`` is the driver's DB-API (or pymongo)
    connection; drivers subclass this to keep what they need."""

    driver: str
    url: str
    raw: Any = None
    hook: Any = None  # the plugin manager's hook relay, set by the runner
    extra: dict[str, Any] = field(default_factory=dict)


def redact(url: str) -> str:
    """The URL with any password replaced by ***."""
    import re

    return re.sub(r"(//[^:/@]+:)([^@]*)@", r"\1***@", url)

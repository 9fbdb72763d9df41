"""A connection moved into a declared chain while its ledger still holds the
default chain's migrations: said in one line, with what to do, by
``migrate:status`` (a warning) and before ``migrate:run`` (refused), never read
as "missing" rows and a chain to apply from scratch."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import Chain
from ..history.migrations import files_of

if TYPE_CHECKING:
    from ..driver import LedgerRow
    from ..targets import Target


def moved_into_chain(target: Target, migrations: Path, rows: Iterable[LedgerRow], own: Iterable[str]) -> str | None:
    """The line that says ``target`` was moved into its declared chain, or None.
    ``rows`` are its ledger's rows, ``own`` the ids of its chain's files: a ledger
    that lists migrations of the default chain of the family and none of its own
    chain's is one that the default chain wrote."""
    chain = target.chain
    if chain is None or not chain.declared:
        return None
    ids = {r.id for r in rows}
    if not ids or ids & set(own):
        return None
    default = Chain.default(migrations, chain.family)
    theirs = sorted(ids & {f.id for f in files_of(default)})
    if not theirs:
        return None
    try:
        folder = default.folder.relative_to(migrations.parent)
    except ValueError:
        folder = default.folder
    more = f" and {len(theirs) - 1} more" if len(theirs) > 1 else ""
    return (
        f"{target.tag}: its ledger lists {len(theirs)} migration(s) of the default {chain.family} chain "
        f"({folder}: {theirs[-1]}{more}), but the connection is now in chain {chain.name!r}: it was moved there "
        f"with its database; run `modelmig migrate:baseline --connection {target.name}` once its schema is what "
        f"chain {chain.name!r}'s migrations make, or keep it in the default chain (take {target.name!r} out of "
        f"chains.{chain.name}.connections)"
    )

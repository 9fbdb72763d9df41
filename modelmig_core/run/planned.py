"""What the runner needs of a migration besides its statements, kept so that a run
(or ``--pretend``) of migrations whose plans are all cached (``sql/plancache.py``)
neither imports nor replays a migration file.

One entry per migration file (``<chain folder>/../.modelmig-cache/meta/<chain>/<key>.json``),
written once the chain was loaded: its id, family, parent (the chain is checked
from these), ``atomic``, ``online``, ``lint_ignore``, and per direction the number
of steps, the production guard's label (``Migration.destructive_label``) and what
it drops (table, column, the table counted, whether the migration made it, the
operation's description: the data-loss warning). The key covers the file's name
and checksum, the chain's family, the code that answers for the operations (the
core's operations and SQL layers, modelmig's version: ``plancache.code_key``) and
the plugins loaded: an edited file, an upgrade or another plugin is a new key.

An entry is served only when valid: a header line (format, key, ``sum``) and a
JSON body whose every field has its type; ``sum`` is a SHA-256 over the key and
the body, so a body edited under a valid key (a data-loss list emptied, a label
removed) is ignored and the file is loaded as before. JSON, never pickle.

``PlannedMigration`` stands for a migration from its entry; anything that asks for
its operations (``up``, ``down``: a plugin's hook, a plan that turned out not to
be cached) gets them from the chain loaded then (``Runner.history``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from ..history.migrations import Migration, MigrationFile

if TYPE_CHECKING:
    from ..driver import Step

FORMAT = 1
DIRECTIONS = ("up", "down")
FIELDS = {"id", "family", "parent", "atomic", "online", "lint_ignore", *DIRECTIONS}
#: what a drop is told with: (table, column, counted, new, the operation's description)
Drop = tuple[str | None, str | None, str | None, bool, str]


def folder_of(chain_folder: Path) -> Path:
    return chain_folder.parent / ".modelmig-cache" / "meta" / chain_folder.name


def key_of(file: MigrationFile, plugins: Sequence[str]) -> str:
    from ..sql.plancache import code_key

    digest = hashlib.sha256(f"modelmig-meta {FORMAT} {file.family} {file.path.name} {file.checksum}\n".encode())
    digest.update(f"code {code_key(())}\n".encode())
    for plugin in plugins:
        digest.update(f"plugin {plugin}\n".encode())
    return digest.hexdigest()


def drops_of(migration: Migration, direction: str) -> list[Drop]:
    """What running ``migration`` in ``direction`` drops, as the runner tells it."""
    if isinstance(migration, PlannedMigration):
        return list(migration.meta[direction]["drops"])
    from ..sql.dataloss import drops

    found = drops(migration.up if direction == "up" else migration.down)
    return [(d.table, d.column, d.counted, d.new, d.op.describe()) for d in found]


def entry_of(migration: Migration) -> dict[str, Any]:
    """The entry of a loaded migration."""
    out: dict[str, Any] = {
        "id": migration.id,
        "family": migration.family,
        "parent": migration.parent,
        "atomic": migration.atomic,
        "online": migration.online,
        "lint_ignore": dict(migration.lint_ignore),
    }
    for direction in DIRECTIONS:
        out[direction] = {
            "steps": len(migration.up if direction == "up" else migration.down),
            "destructive": migration.destructive_label(direction),
            "drops": [list(d) for d in drops_of(migration, direction)],
        }
    return out


# ------------------------------------------------------------ the entries


def _sum(key: str, body: str) -> str:
    return hashlib.sha256(f"{key}\n{body}".encode()).hexdigest()


def store(folder: Path, key: str, entry: dict[str, Any]) -> bool:
    """Write an entry (atomically); failing to is never an error."""
    from ..sql.plancache import write_entry

    body = json.dumps(entry, sort_keys=True, separators=(",", ":"))
    header = {"format": FORMAT, "key": key, "sum": _sum(key, body)}
    return write_entry(folder, key, json.dumps(header, separators=(",", ":")) + "\n" + body)


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)


def _valid_direction(value: Any) -> bool:
    if not isinstance(value, dict) or set(value) != {"steps", "destructive", "drops"}:
        return False
    steps, label, drops = value["steps"], value["destructive"], value["drops"]
    if not (isinstance(steps, int) and not isinstance(steps, bool) and steps >= 0 and _optional_str(label)):
        return False
    if not isinstance(drops, list):
        return False
    for d in drops:
        if not (isinstance(d, list) and len(d) == 5 and all(_optional_str(x) for x in d[:3])):
            return False
        if not (isinstance(d[3], bool) and isinstance(d[4], str)):
            return False
    # whatever drops data is destructive, and the guard's label says so
    return not drops or label is not None


def _valid(entry: Any, file: MigrationFile) -> bool:
    if not isinstance(entry, dict) or set(entry) != FIELDS:
        return False
    if entry["id"] != file.id or entry["family"] != file.family or not _optional_str(entry["parent"]):
        return False
    if not isinstance(entry["atomic"], bool) or not (entry["online"] is None or isinstance(entry["online"], bool)):
        return False
    ignore = entry["lint_ignore"]
    if not (isinstance(ignore, dict) and all(isinstance(v, str) for v in ignore.values())):
        return False
    return all(_valid_direction(entry[d]) for d in DIRECTIONS)


def load(folder: Path, key: str, file: MigrationFile) -> dict[str, Any] | None:
    """The entry of ``file`` under ``key``, or None when there is no valid one."""
    try:
        header_line, body = (folder / f"{key}.json").read_text(encoding="utf-8").split("\n", 1)
        header = json.loads(header_line)
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key:
            return None
        if header.get("sum") != _sum(key, body):
            return None  # edited under a valid key: never trusted
        entry = json.loads(body)
    except (OSError, ValueError, RecursionError):
        return None
    return entry if _valid(entry, file) else None


# ------------------------------------------------------------ a migration from its entry


class PlannedMigration(Migration):
    """A migration as its entry tells it; its operations are loaded on demand
    (``full``: the migration from the loaded chain)."""

    def __init__(self, file: MigrationFile, entry: dict[str, Any], full: Callable[[], Migration]) -> None:
        # the dataclass's fields, but up and down: those are the loaded migration's
        self.id, self.family, self.parent = file.id, file.family, entry["parent"]
        self.path, self.checksum = file.path, file.checksum
        self.atomic, self.online = entry["atomic"], entry["online"]
        self.lint_ignore = dict(entry["lint_ignore"])
        self.extra = {}
        self.meta = entry
        self._full = full

    @property  # type: ignore[override]
    def up(self) -> list[Any]:
        return self._full().up

    @up.setter
    def up(self, value: list[Any]) -> None:
        self._full().up = value

    @property  # type: ignore[override]
    def down(self) -> list[Any]:
        return self._full().down

    @down.setter
    def down(self, value: list[Any]) -> None:
        self._full().down = value

    @property
    def destructive_up(self) -> bool:
        return self.meta["up"]["destructive"] is not None

    @property
    def destructive_down(self) -> bool:
        return self.meta["down"]["destructive"] is not None

    def destructive_label(self, direction: str) -> str | None:
        label = self.meta[direction]["destructive"]
        return label if isinstance(label, str) else None

    def __repr__(self) -> str:
        return f"PlannedMigration({self.id!r})"


class LazySteps(Sequence["Step"]):
    """A planned migration's steps: their number from its entry, the steps
    themselves from the loaded chain when something reads them (a plan that
    turned out not to be cached: rendered as before)."""

    def __init__(self, count: int, steps: Callable[[], list[Step]]) -> None:
        self._count = count
        self._steps = steps

    def __len__(self) -> int:
        return self._count

    @overload
    def __getitem__(self, index: int) -> Step: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Step]: ...

    def __getitem__(self, index: int | slice) -> Step | Sequence[Step]:
        return self._steps()[index]

    def __iter__(self) -> Iterator[Step]:
        return iter(self._steps())


# ------------------------------------------------------------ the runner's use of them


def remember(runner: Any, history: Any) -> None:
    """Keep an entry for each migration of ``runner``'s loaded chain (``history``)
    that has no valid one yet."""
    from ..sql import plancache

    if not plancache.enabled():
        return
    plugins = runner._plugins()
    folder = folder_of(runner.chain.folder)
    files = {f.id: f for f in runner.files()}
    for m in history.migrations:
        f = files.get(m.id)
        if f is None or f.checksum != m.checksum:
            continue
        key = key_of(f, plugins)
        if load(folder, key, f) is None:
            store(folder, key, entry_of(m))


def planned_migrations(runner: Any, ids: list[str], direction: str) -> list[Migration] | None:
    """The migrations ``ids`` of ``runner``'s chain from their entries when the
    chain's every file has a valid one, the chain is in order, and the plan of each
    in ``direction`` is cached for the runner's session without reading live facts
    (and is no online plan: those are checked against the lint rules, which read
    the operations): then no migration file is loaded or replayed. Else None: the
    chain is loaded as before."""
    from functools import partial

    from ..errors import MigrationFileError
    from ..history.replay import check_chain
    from ..sql import plancache

    if not ids or runner._history is not None or not plancache.enabled():
        return None
    plan_key = getattr(runner.connection, "plan_key", None)
    if plan_key is None:
        return None
    plugins = runner._plugins()
    folder = folder_of(runner.chain.folder)
    chain: list[PlannedMigration] = []
    for f in runner.files():
        entry = load(folder, key_of(f, plugins), f)
        if entry is None:
            return None
        chain.append(PlannedMigration(f, entry, partial(runner._loaded, f.id)))
    try:
        check_chain(chain)  # type: ignore[arg-type]
    except MigrationFileError:
        return None  # the chain's load says what is wrong
    by_id = {m.id: m for m in chain}
    if any(i not in by_id for i in ids):
        return None
    wanted = [by_id[i] for i in ids]
    session = runner.connection
    for m in wanted:
        if m.meta[direction]["steps"] == 0:
            continue  # nothing to plan
        context = runner.plan_context(m)
        if context.online:
            return None
        session.context = context
        slot = runner._plan_slot(m, direction)
        key = plan_key(slot) if slot is not None else None
        hit = plancache.load(slot.folder, key) if slot is not None and key is not None else None
        if hit is None or hit[0] is not None:
            return None
    return list(wanted)

"""What the connections of one command share: a fleet of databases (one per
tenant or shard) migrated by ``--all-connections`` needs the chain replayed once
and each migration rendered once, not once per database.

- ``history``: the replayed chain (keyed by its folder: the connections of a
  command may be of several chains), made by the first runner that asks.
- ``statements``: the rendered statements of one migration's steps, for sessions
  whose ``render_key`` is equal (the same driver, configured alike) and whose live
  facts, as read before rendering, are equal. The first session renders (and
  performs as it goes); the others wait for it and take the same statements.

Threads (``--jobs``) may ask at once: each entry is made by one of them under a lock.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..driver import Statement, Step
from ..history.replay import History


@dataclass
class _Rendered:
    steps: Sequence[Step]  # kept alive: the entry is keyed by its id
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: list[tuple[Any, list[Statement]]] = field(default_factory=list)  # (facts before, statements)


class Shared:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._histories: dict[str, History] = {}
        self._rendered: dict[tuple[Hashable, int], _Rendered] = {}

    def history(self, chain: str, replay: Callable[[], History]) -> History:
        with self._lock:  # the other runners wait for the first one's replay
            known = self._histories.get(chain)
            if known is None:
                known = self._histories[chain] = replay()
            return known

    def statements(
        self, key: Hashable, steps: Sequence[Step], facts: Any, render: Callable[[], Iterator[Statement]]
    ) -> Iterator[Statement]:
        """The statements ``render()`` gives for ``steps`` — rendered by the first
        session with this ``key`` and these ``facts``, taken from it by the others."""
        with self._lock:
            entry = self._rendered.get((key, id(steps)))
            if entry is None or entry.steps is not steps:
                entry = self._rendered[(key, id(steps))] = _Rendered(steps)
        with entry.lock:
            for before, statements in entry.done:
                if before == facts:
                    yield from statements
                    return
            before = copy.deepcopy(facts)  # a renderer may update the facts as it goes
            out: list[Statement] = []
            for statement in render():
                out.append(statement)
                yield statement
            entry.done.append((before, out))

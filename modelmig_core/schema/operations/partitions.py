"""Operations on the declared partitions of a partitioned table (PostgreSQL's
``CREATE TABLE ... PARTITION OF``): add one, drop one."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import ClassVar

from ...errors import MigrationFileError
from ..state import Partition, State
from .base import Operation


@dataclass(frozen=True)
class AddPartition(Operation):
    """Add ``partition`` to the partitioned table ``table``. Inverse: DropPartition."""

    table: str
    partition: Partition

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        if t.partition_by is None:
            raise MigrationFileError(f"AddPartition: table {self.table!r} has no partition key")
        if any(p.name == self.partition.name for p in t.partitions):
            raise MigrationFileError(f"AddPartition: {self.table!r} already has partition {self.partition.name!r}")
        return state.with_table(replace(t, partitions=(*t.partitions, self.partition)))

    def inverse(self) -> Operation:
        return DropPartition(self.table, self.partition)

    def describe(self) -> str:
        return f"add partition {self.partition.name} of {self.table}"


@dataclass(frozen=True)
class DropPartition(Operation):
    """Drop ``partition`` of ``table`` with its rows: destructive (the rows of the
    other partitions stay)."""

    table: str
    partition: Partition
    destructive: ClassVar[bool] = True

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        if not any(p.name == self.partition.name for p in t.partitions):
            raise MigrationFileError(f"DropPartition: {self.table!r} has no partition {self.partition.name!r}")
        kept = tuple(p for p in t.partitions if p.name != self.partition.name)
        return state.with_table(replace(t, partitions=kept))

    def inverse(self) -> Operation:
        return AddPartition(self.table, self.partition)

    def drops(self) -> list[tuple[str, None]]:
        """The rows it drops are the partition's own (a table of its own name)."""
        return [(self.partition.name, None)]

    def describe(self) -> str:
        return f"drop partition {self.partition.name} of {self.table}"


@dataclass(frozen=True)
class ChangePartition(Operation):
    """Give partition ``was`` of ``table`` the indexes and foreign keys of
    ``partition`` (same name and bound): those gone are dropped, the new ones made;
    no rows are touched. Inverse: the change back."""

    table: str
    was: Partition
    partition: Partition

    def state_forwards(self, state: State) -> State:
        t = state.table(self.table)
        if (self.was.name, self.was.bound) != (self.partition.name, self.partition.bound):
            raise MigrationFileError(f"ChangePartition: {self.was.name!r} and {self.partition.name!r} differ in bound")
        if self.was not in t.partitions:
            raise MigrationFileError(f"ChangePartition: {self.table!r} has no partition {self.was.name!r} as given")
        kept = tuple(self.partition if p.name == self.partition.name else p for p in t.partitions)
        return state.with_table(replace(t, partitions=kept))

    def inverse(self) -> Operation:
        return ChangePartition(self.table, self.partition, self.was)

    def describe(self) -> str:
        return f"change keys of partition {self.partition.name} of {self.table}"

    def name_hint(self) -> str:
        return f"change_partition_{self.partition.name}"

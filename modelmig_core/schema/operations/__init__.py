"""Relational operations, a module per kind: tables, columns, indexes, uniques
(unique constraints), foreign_keys, checks, views, members (a plugin's kind: AddMember,
DropMember) and raw (RunSQL, RunPython).

Migration files use them as ``op.CreateTable(...)`` after ``from modelmig_core
import operations as op``; the state values they hold are re-exported here for
that reason.
"""

from ..state import Check, Column, ForeignKey, Index, Partition, Table, Unique, View
from .base import Operation
from .checks import AddCheck, DropCheck
from .columns import AddColumn, AlterColumn, DropColumn, RenameColumn
from .foreign_keys import AddForeignKey, DropForeignKey
from .indexes import CreateIndex, DropIndex
from .partitions import AddPartition, ChangePartition, DropPartition
from .raw import RunPython, RunSQL
from .tables import CreateTable, DropTable, RenameTable, SetTableComment, SetTableOptions
from .uniques import AddUnique, DropUnique
from .views import CreateView, DropView, ReplaceView

__all__ = [
    "AddCheck",
    "AddColumn",
    "AddForeignKey",
    "AddPartition",
    "AddUnique",
    "AlterColumn",
    "ChangePartition",
    "Check",
    "Column",
    "CreateIndex",
    "CreateTable",
    "CreateView",
    "DropCheck",
    "DropColumn",
    "DropForeignKey",
    "DropIndex",
    "DropPartition",
    "DropTable",
    "DropUnique",
    "DropView",
    "ForeignKey",
    "Index",
    "Operation",
    "Partition",
    "RenameColumn",
    "RenameTable",
    "ReplaceView",
    "RunPython",
    "RunSQL",
    "SetTableComment",
    "SetTableOptions",
    "Table",
    "Unique",
    "View",
]

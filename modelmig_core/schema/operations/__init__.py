"""Relational operations, a module per kind: tables, columns, constraints
(indexes, unique constraints, foreign keys, checks) and raw (RunSQL, RunPython).

Migration files use them as ``op.CreateTable(...)`` after ``from modelmig_core
import operations as op``; the state values they hold are re-exported here for
that reason.
"""

from ..state import Check, Column, ForeignKey, Index, Table, Unique
from .base import Operation
from .columns import AddColumn, AlterColumn, DropColumn, RenameColumn
from .constraints import (
    AddCheck,
    AddForeignKey,
    AddUnique,
    CreateIndex,
    DropCheck,
    DropForeignKey,
    DropIndex,
    DropUnique,
)
from .raw import RunPython, RunSQL
from .tables import CreateTable, DropTable, RenameTable

__all__ = [
    "AddCheck",
    "AddColumn",
    "AddForeignKey",
    "AddUnique",
    "AlterColumn",
    "Check",
    "Column",
    "CreateIndex",
    "CreateTable",
    "DropCheck",
    "DropColumn",
    "DropForeignKey",
    "DropIndex",
    "DropTable",
    "DropUnique",
    "ForeignKey",
    "Index",
    "Operation",
    "RenameColumn",
    "RenameTable",
    "RunPython",
    "RunSQL",
    "Table",
    "Unique",
]

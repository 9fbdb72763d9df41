"""What a statement of an online plan leaves in place, to tell from the live
database whether it completed (``MysqlSession.completed``).

MySQL and MariaDB have no transactional DDL: a resumed online migration's first
statement may have completed after its runner died, before the ledger recorded
it; sent again, the server refuses it (a duplicate column or index). Each
statement is read with sqlglot into the effects it has (a column, an index or a
named constraint that exists, or no longer does); a statement whose effects
cannot all be named (a MODIFY COLUMN, raw SQL of another kind) is not judged and
is sent again, as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.tokens import TokenType

from modelmig_core.api_sql import parse_statement

#: the information_schema query that counts each kind of object on a table of the current database
COUNTS = {
    "column": "SELECT COUNT(*) FROM information_schema.columns "
    "WHERE table_schema = DATABASE() AND table_name = %s AND column_name = %s",
    "index": "SELECT COUNT(*) FROM information_schema.statistics "
    "WHERE table_schema = DATABASE() AND table_name = %s AND index_name = %s",
    "constraint": "SELECT COUNT(*) FROM information_schema.table_constraints "
    "WHERE constraint_schema = DATABASE() AND table_name = %s AND constraint_name = %s",
}


@dataclass(frozen=True)
class Effect:
    """``kind`` ("column", "index", "constraint") ``name`` on ``table`` exists
    (``present``) or does not once the statement completed."""

    kind: str
    table: str
    name: str
    present: bool = True

    def describe(self) -> str:
        return f"{self.kind} {self.table}.{self.name} {'exists' if self.present else 'is gone'}"


def _name(node: exp.Expression | None) -> str | None:
    return node.name if isinstance(node, exp.Expression) and node.name else None


def _create_index(statement: str) -> list[Effect] | None:
    """``CREATE [UNIQUE] INDEX name ON table (...) ALGORITHM=...`` (sqlglot reads it as
    a command): its tokens give the name and the table."""
    from sqlglot.dialects.mysql import MySQL

    tokens = [t for t in MySQL().tokenize(statement) if t.token_type != TokenType.SEMICOLON]
    words = [t.text.upper() for t in tokens]
    if not words or words[0] != "CREATE" or "INDEX" not in words[:3]:
        return None
    at = words.index("INDEX")
    if len(tokens) < at + 4 or words[at + 2] != "ON":
        return None
    return [Effect("index", tokens[at + 3].text, tokens[at + 1].text)]


def _action(table: str, action: exp.Expression) -> list[Effect] | None:
    if isinstance(action, exp.ColumnDef) and (name := _name(action.this)):
        return [Effect("column", table, name)]
    if isinstance(action, exp.RenameColumn):
        old, new = _name(action.this), _name(action.args.get("to"))
        return [Effect("column", table, old, False), Effect("column", table, new)] if old and new else None
    if isinstance(action, exp.Drop):
        kind = str(action.args.get("kind") or "").upper()
        names = [_name(t) for t in action.args.get("tables") or ()]
        what = {"COLUMN": "column", "INDEX": "index", "KEY": "index", "FOREIGN KEY": "constraint"}.get(kind)
        what = what or ("constraint" if kind in ("CONSTRAINT", "CHECK") else None)
        if what is None or not names or not all(names):
            return None
        return [Effect(what, table, n, False) for n in names if n]
    if isinstance(action, exp.AddConstraint):
        out = []
        for c in action.expressions:
            if isinstance(c, exp.IndexColumnConstraint) and (name := _name(c.this)):
                out.append(Effect("index", table, name))
            elif isinstance(c, exp.Constraint) and (name := _name(c.this)):
                out.append(Effect("constraint", table, name))
            else:
                return None
        return out or None
    return None


def effects(statement: str) -> list[Effect] | None:
    """What ``statement`` leaves in place once it completed, or None when that
    cannot all be named (the statement is then sent again)."""
    tree = parse_statement(statement, "mysql")
    if isinstance(tree, exp.Command):
        return _create_index(statement)
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "INDEX":
        index = tree.this
        table = _name(index.args.get("table")) if isinstance(index, exp.Index) else None
        name = _name(index.this) if isinstance(index, exp.Index) else None
        return [Effect("index", table, name)] if table and name else None
    if not isinstance(tree, exp.Alter) or str(tree.args.get("kind") or "").upper() != "TABLE":
        return None
    table = _name(tree.this)
    actions = tree.args.get("actions") or []
    if not table or not actions:
        return None
    out: list[Effect] = []
    for action in actions:
        found = _action(table, action)
        if found is None:
            return None
        out += found
    return out

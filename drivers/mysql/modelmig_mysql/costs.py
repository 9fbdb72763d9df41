"""What each statement costs a busy MySQL/MariaDB table (``MysqlDriver.cost`` and
``lint_plan``): the algorithm InnoDB uses (INSTANT, INPLACE or COPY), the lock it
holds (LOCK=NONE lets writes go on; a COPY holds LOCK=SHARED: writes wait),
whether it rebuilds the table, per declared server version, and the safe form.

Every statement is read with sqlglot (what the renderer writes for each
operation class, and RunSQL alike), with the step it was rendered from where a
statement alone cannot tell (``MODIFY COLUMN`` restates the whole column: the
step says whether the type, the nullability or only the default changed).
Rule names are squawk's where one maps. Sources: the MySQL 8.0/8.4 Reference
Manual, "Online DDL Operations" (INSTANT ADD COLUMN from 8.0.12, DROP COLUMN
from 8.0.29; a foreign key is added INPLACE only with foreign_key_checks off),
and MariaDB's "InnoDB Online DDL Operations" (INSTANT ADD COLUMN from 10.3, DROP
COLUMN from 10.4); what MariaDB 10.11 refuses with ALGORITHM=INPLACE is pinned
by tests/test_lint.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlglot import exp

from modelmig_core.api import Cost, Finding, Step, server_version
from modelmig_core.api_sql import parse_statement

#: the oldest server of each product the driver supports; undeclared: MySQL 8.0
OLDEST = {"mysql": (8, 0), "mariadb": (10, 11)}

COPY = "ALGORITHM=COPY, LOCK=SHARED"
REBUILD = "ALGORITHM=INPLACE, LOCK=NONE"

EXPAND_CONTRACT = (
    "pt-online-schema-change or gh-ost, or expand/contract: add a new column, backfill it in batches, "
    "switch the application over, then drop the old one"
)

#: rule, cost, why, safe form of each kind of statement that hurts (``kind`` reads it)
COSTS: dict[str, tuple[str, Cost, str, str]] = {
    "change_type": (
        "changing-column-type",
        Cost(COPY, rewrites=True),
        "a new type is made by copying the table row by row while every write waits",
        EXPAND_CONTRACT,
    ),
    "set_not_null": (
        "adding-not-nullable-field",
        Cost(REBUILD, rewrites=True),
        "the table is rebuilt to make the column NOT NULL (writes go on, but a NULL row fails it at the end)",
        "backfill the NULL rows first, then MODIFY COLUMN ... NOT NULL, ALGORITHM=INPLACE, LOCK=NONE",
    ),
    "add_foreign_key": (
        "adding-foreign-key-constraint",
        Cost(COPY, rewrites=True),
        "with foreign_key_checks on, the table is copied and every row checked while every write waits",
        "check the rows first, then add it with SET foreign_key_checks = 0 (ALGORITHM=INPLACE, LOCK=NONE)",
    ),
    "add_check": (
        "constraint-missing-not-valid",
        Cost(COPY, rewrites=True),
        "there is no NOT VALID here: the table is copied and every row checked while every write waits",
        "pt-online-schema-change or gh-ost, or enforce the check in the application first",
    ),
    "add_volatile_default": (
        "adding-field-with-default",
        Cost(COPY, rewrites=True),
        "a default computed per row (UUID(), UUID_SHORT(), SYSDATE()) is written into every row by copying the "
        "table while every write waits: the server has no INSTANT or INPLACE form for it",
        "add the column without that default (nullable), backfill it in batches, then set the default",
    ),
    "add_column": (
        "adding-column-rebuilds-table",
        Cost(REBUILD, rewrites=True),
        "the table is rebuilt to add the column",
        "a server with INSTANT ADD COLUMN (MySQL 8.0.12+, MariaDB 10.3+)",
    ),
    "drop_column": (
        "dropping-column-rebuilds-table",
        Cost(REBUILD, rewrites=True),
        "the table is rebuilt to drop the column",
        "a server with INSTANT DROP COLUMN (MySQL 8.0.29+, MariaDB 10.4+), or leave the column unused",
    ),
}

TIMEOUT = (
    "require-lock-timeout",
    "while it waits for its metadata lock behind a long transaction, every query of the table queues behind it "
    "(lock_wait_timeout defaults to a year)",
    "SET SESSION lock_wait_timeout (e.g. 5) at the start of the migration, and retry when it fires",
)


#: functions whose default makes an added column COPY-only (MariaDB 10.11 refuses INSTANT
#: and INPLACE for them, measured; RAND() and NOW() it adds instantly)
VOLATILE = frozenset({"UUID", "UUID_SHORT", "SYSDATE"})


def _volatile_default(column: exp.ColumnDef) -> bool:
    for c in column.args.get("constraints") or ():
        kind = c.args.get("kind")
        if isinstance(kind, exp.DefaultColumnConstraint) and isinstance(kind.this, exp.Expression):
            if kind.this.find(exp.Uuid) or any(f.name.upper() in VOLATILE for f in kind.this.find_all(exp.Anonymous)):
                return True
    return False


def _finding(kind: str, why: str | None = None) -> Finding:
    rule, cost, default_why, safe = COSTS[kind]
    return Finding(rule, cost, why or default_why, safe)


def parse(statement: str) -> exp.Expression | None:
    """The statement read with sqlglot (MySQL), or None when it cannot be."""
    found: exp.Expression | None = parse_statement(statement, "mysql")
    return found


def product_version(server: str | None) -> tuple[str, tuple[int, int]]:
    """("mariadb", (10, 11)) from ``"mariadb-10.11"``; MySQL 8.0 when undeclared."""
    product = "mariadb" if server and server.startswith("mariadb-") else "mysql"
    return product, server_version(server, product, OLDEST[product])


def server_name(server: str | None) -> str:
    product, (major, minor) = product_version(server)
    return f"{'MariaDB' if product == 'mariadb' else 'MySQL'} {major}.{minor}"


def instant_add(server: str | None) -> bool:
    product, version = product_version(server)
    return version >= ((10, 3) if product == "mariadb" else (8, 0))  # MySQL 8.0.12+: the 8.0 the driver supports


def instant_drop(server: str | None) -> bool:
    product, version = product_version(server)
    return version >= ((10, 4) if product == "mariadb" else (8, 1))  # MySQL 8.0.29+: 8.1 and later for sure


def _same_length_class(old: Any, new: Any) -> bool:
    """A longer VARCHAR whose length still fits the same length prefix (1 byte up
    to 255 bytes, utf8mb4: 4 bytes a character) is changed in place."""
    before, after = getattr(old, "length", None), getattr(new, "length", None)
    if before is None or after is None or after < before:
        return False
    return (before * 4 < 256) == (after * 4 < 256)


def _modify(step: Step | None, server: str | None) -> list[Finding]:
    op = getattr(step, "op", None)
    old, new = getattr(op, "old", None), getattr(op, "new", None)
    where = f" (on {server_name(server)})"
    if getattr(op, "column", None) is not None and old is None:  # an added column's backfill, then NOT NULL
        return [_finding("set_not_null")]
    if old is None or new is None or not hasattr(old, "type"):  # raw SQL: the statement alone cannot tell
        return [_finding("change_type", "MODIFY COLUMN may change the type: then the table is copied" + where)]
    typed = (old.type, getattr(old, "length", None), getattr(old, "precision", None), getattr(old, "scale", None))
    retyped = (new.type, getattr(new, "length", None), getattr(new, "precision", None), getattr(new, "scale", None))
    if typed != retyped or getattr(old, "values", None) != getattr(new, "values", None):
        if old.type == new.type == "string" and _same_length_class(old, new):
            return []
        return [_finding("change_type", COSTS["change_type"][2] + where)]
    if old.nullable and not new.nullable:
        return [_finding("set_not_null")]
    return []


def _asks_online(tree: exp.Alter) -> bool:
    """``ALGORITHM=INSTANT`` or ``LOCK=NONE`` said explicitly: the server runs the
    statement without blocking writes, or refuses it."""
    for option in tree.args.get("options") or ():
        value = option.name.upper() if isinstance(option, exp.Expression) else ""
        if (isinstance(option, exp.AlgorithmProperty) and value == "INSTANT") or (
            isinstance(option, exp.LockProperty) and value == "NONE"
        ):
            return True
    return False


def cost(step: Step | None, statement: str, server: str | None) -> list[Finding]:
    """The findings of one statement on a table with rows (timeouts aside: see ``lint_plan``)."""
    tree = parse(statement)
    if not isinstance(tree, exp.Alter) or str(tree.args.get("kind") or "").upper() != "TABLE":
        return []
    if _asks_online(tree):
        return []
    out: list[Finding] = []
    for action in tree.args.get("actions") or ():
        if isinstance(action, exp.ModifyColumn) or (isinstance(action, exp.AlterColumn) and action.args.get("dtype")):
            out += _modify(step, server)
        elif isinstance(action, exp.ColumnDef) and _volatile_default(action):
            out.append(_finding("add_volatile_default"))
        elif isinstance(action, exp.ColumnDef) and not instant_add(server):
            out.append(_finding("add_column", f"{server_name(server)} has no INSTANT ADD COLUMN: the table is rebuilt"))
        elif isinstance(action, exp.Drop) and str(action.args.get("kind") or "").upper() == "COLUMN":
            if not instant_drop(server):
                why = f"{server_name(server)} has no INSTANT DROP COLUMN: the table is rebuilt"
                out.append(_finding("drop_column", why))
        elif isinstance(action, exp.AddConstraint):
            for constraint in action.expressions:
                if constraint.find(exp.ForeignKey, exp.Reference):
                    out.append(_finding("add_foreign_key"))
                elif constraint.find(exp.CheckColumnConstraint):
                    out.append(_finding("add_check"))
    return out


def _is_ddl(tree: exp.Expression | None) -> bool:
    if tree is None:
        return False
    if isinstance(tree, exp.Create):
        return str(tree.args.get("kind") or "").upper() == "INDEX"
    return isinstance(tree, (exp.Alter, exp.Drop))


def _sets_lock_wait(tree: exp.Expression | None) -> bool:
    if not isinstance(tree, exp.Set):
        return False
    return "lock_wait_timeout" in tree.sql(dialect="mysql").lower()


def lint_plan(plan: Sequence[tuple[Step | None, str]], server: str | None, atomic: bool) -> list[list[Finding]]:
    """Each statement's findings, and require-lock-timeout on each DDL statement
    that no ``SET lock_wait_timeout`` earlier in the migration bounds."""
    bounded = False
    out = []
    for step, text in plan:
        tree = parse(text)
        bounded = bounded or _sets_lock_wait(tree)
        found = cost(step, text, server)
        if _is_ddl(tree) and not bounded:
            found.append(Finding(TIMEOUT[0], Cost("an exclusive metadata lock"), TIMEOUT[1], TIMEOUT[2]))
        out.append(found)
    return out


INPLACE = "ALGORITHM=INPLACE, LOCK=NONE"


def online_form(statement: str, step: Step | None, server: str | None) -> str:
    """``statement`` asking the server explicitly for the form that lets writes go
    on, where the declared server has one: ``ALGORITHM=INSTANT`` for an added (or
    dropped) column it adds instantly, ``ALGORITHM=INPLACE, LOCK=NONE`` for the
    rest; a change only a copy can do is left as it is (make refuses it on an
    online connection unless its migration acknowledges it)."""
    tree = parse(statement)
    if isinstance(tree, exp.Command) and "INDEX" in _words(tree)[:3] and str(tree.this).upper() == "CREATE":
        return f"{statement} {INPLACE.replace(',', '')}"
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "INDEX":
        return f"{statement} {INPLACE.replace(',', '')}"
    if not isinstance(tree, exp.Alter) or str(tree.args.get("kind") or "").upper() != "TABLE":
        return statement
    actions = tree.args.get("actions") or []
    if not actions or any(isinstance(a, exp.AlterRename) for a in actions) or tree.args.get("options"):
        return statement
    if any(f.cost.lock == COPY for f in cost(step, statement, server)):
        return statement
    if all(isinstance(a, exp.ColumnDef) for a in actions) and instant_add(server):
        return f"{statement}, ALGORITHM=INSTANT"
    dropping = all(isinstance(a, exp.Drop) and str(a.args.get("kind") or "").upper() == "COLUMN" for a in actions)
    dropped = {c.name for a in actions for c in a.args.get("tables") or ()}
    if dropping and instant_drop(server) and not _indexed(step, dropped):
        return f"{statement}, ALGORITHM=INSTANT"
    return f"{statement}, {INPLACE}"


def _indexed(step: Step | None, columns: set[str]) -> bool:
    """Whether one of ``columns`` is in a key or index of its table before ``step``:
    dropping such a column drops the index with it, which the server cannot do
    INSTANT (MariaDB: "ALGORITHM=INSTANT is not supported. Reason: DROP INDEX")."""
    table = getattr(getattr(step, "op", None), "table", None)
    tables = getattr(getattr(step, "before", None), "tables", None)
    found = tables.get(table) if isinstance(tables, dict) and isinstance(table, str) else None
    if found is None:
        return False
    keyed = [set(k.columns) for k in (*found.indexes, *found.uniques, *found.foreign_keys)]
    keyed.append(set(found.primary_key))
    unique = {c.name for c in found.columns if getattr(c, "unique", False)}
    return bool(columns & unique) or any(columns & k for k in keyed)


def _words(tree: exp.Command) -> list[str]:
    rest = tree.expression if isinstance(tree.expression, str) else tree.text("expression")
    return rest.upper().split()

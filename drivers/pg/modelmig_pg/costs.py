"""What each statement costs a busy PostgreSQL table (``PgDriver.cost`` and
``lint_plan``): the lock it takes, whether it rewrites or scans the table, per
declared server version, and the safe form to write instead.

Every statement is read with sqlglot (what the renderer writes for each
operation class, and RunSQL alike) and looked up in ``COSTS``, keyed by what the
statement does. The rule names are squawk's (https://squawkhq.com/docs/rules),
so a finding here and one of squawk's say the same thing in the same words.
Sources: the PostgreSQL manual, "Explicit Locking" (13.3.1: the lock each
command takes) and "ALTER TABLE" (Notes: which forms rewrite or scan the table;
ADD COLUMN with a non-volatile default is metadata only from PostgreSQL 11;
SET NOT NULL uses a validated ``CHECK (col IS NOT NULL)`` from 12).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from modelmig_core.api import Cost, Finding, Step, server_version
from modelmig_core.api_sql import parse_statement

#: the oldest server the driver supports, for a connection that declares none
OLDEST = (12, 0)


@dataclass(frozen=True)
class Entry:
    """One line of the cost table: the rule, the cost, why it hurts, the safe form."""

    rule: str
    cost: Cost
    why: str
    safe_form: str

    def finding(self, **changes: Any) -> Finding:
        return Finding(
            changes.get("rule", self.rule),
            changes.get("cost", self.cost),
            changes.get("why", self.why),
            changes.get("safe_form", self.safe_form),
        )


AX = "ACCESS EXCLUSIVE"

#: what each kind of statement costs on a table with rows (the kinds ``kind_of`` reads)
COSTS: dict[str, Entry] = {
    "create_index": Entry(
        "require-concurrent-index-creation",
        Cost("SHARE", scans=True),
        "writes to the table wait until the whole index is built",
        "CREATE INDEX CONCURRENTLY, outside the migration's transaction (atomic = False)",
    ),
    "drop_index": Entry(
        "require-concurrent-index-deletion",
        Cost(AX),
        "every read and write of the table waits for the drop, and the drop waits for every open transaction",
        "DROP INDEX CONCURRENTLY, outside the migration's transaction (atomic = False)",
    ),
    "concurrently_in_transaction": Entry(
        "ban-concurrent-index-creation-in-transaction",
        Cost("SHARE UPDATE EXCLUSIVE", scans=True),
        "PostgreSQL refuses CONCURRENTLY inside a transaction block",
        "set atomic = False in the migration so that it runs outside a transaction",
    ),
    "add_unique": Entry(
        "disallowed-unique-constraint",
        Cost(AX, scans=True),
        "the unique index is built while every read and write of the table waits",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX",
    ),
    "unique_not_valid": Entry(
        "constraint-missing-not-valid",
        Cost(AX, scans=True),
        "a UNIQUE constraint cannot be NOT VALID: every row is checked while the table is locked",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD CONSTRAINT ... UNIQUE USING INDEX",
    ),
    "add_check": Entry(
        "constraint-missing-not-valid",
        Cost(AX, scans=True),
        "every row is checked while every read and write of the table waits",
        "ADD CONSTRAINT ... CHECK (...) NOT VALID, then VALIDATE CONSTRAINT in its own transaction",
    ),
    "add_foreign_key": Entry(
        "adding-foreign-key-constraint",
        Cost("SHARE ROW EXCLUSIVE", scans=True),
        "writes to both tables wait while every row is checked against the referenced table",
        "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in its own transaction",
    ),
    "foreign_key_not_valid": Entry(
        "constraint-missing-not-valid",
        Cost("SHARE ROW EXCLUSIVE", scans=True),
        "the existing rows are validated under the lock",
        "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID, then VALIDATE CONSTRAINT in its own transaction",
    ),
    "add_primary_key": Entry(
        "constraint-missing-not-valid",
        Cost(AX, scans=True),
        "the primary key's index is built while every read and write of the table waits",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ALTER TABLE ... ADD PRIMARY KEY USING INDEX",
    ),
    "set_not_null": Entry(
        "adding-not-nullable-field",
        Cost(AX, scans=True),
        "every row is read to check it while every read and write of the table waits",
        "ADD CONSTRAINT ... CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT, then SET NOT NULL "
        "(PostgreSQL 12+ skips the scan) and drop the check",
    ),
    "change_type": Entry(
        "changing-column-type",
        Cost(AX, rewrites=True),
        "the table and its indexes are rewritten while every read and write waits",
        "add a new column, backfill it in batches, switch the application over, then drop the old one",
    ),
    "add_required_field": Entry(
        "adding-required-field",
        Cost(AX),
        "a NOT NULL column without a default fails on a table with rows, and breaks inserts that do not name it",
        "add the column with a default (metadata only on PostgreSQL 11+), or nullable and backfill it",
    ),
    "add_field_with_default": Entry(
        "adding-field-with-default",
        Cost(AX, rewrites=True),
        "the column's default is written into every row while every read and write of the table waits",
        "add the column without a default, set the default, then backfill the rows in batches",
    ),
}

#: what a DDL statement takes when nothing heavier applies (the lock a timeout should bound)
TIMEOUTS = (
    Entry(
        "require-lock-timeout",
        Cost(AX),
        "while it waits for its lock behind a long transaction, every query of the table queues behind it",
        "SET lock_timeout (e.g. '2s') at the start of the migration, and retry when it fires",
    ),
    Entry(
        "require-statement-timeout",
        Cost(AX),
        "nothing bounds how long it holds its lock",
        "SET statement_timeout at the start of the migration",
    ),
)

#: functions whose value changes per row: a default calling one is written into every row
VOLATILE = frozenset({"random", "clock_timestamp", "gen_random_uuid", "uuid_generate_v4", "timeofday", "nextval"})


def parse(statement: str) -> exp.Expression | None:
    """The statement read with sqlglot (PostgreSQL), or None when it cannot be."""
    found: exp.Expression | None = parse_statement(statement, "postgres")
    return found


def _command_words(tree: exp.Expression) -> list[str]:
    """What sqlglot left unparsed (``exp.Command``), as upper-case words."""
    text = f"{tree.this} {tree.expression if isinstance(tree.expression, str) else tree.text('expression')}"
    return text.upper().split()


def is_ddl(tree: exp.Expression | None) -> bool:
    """A statement that locks a table or a type (squawk's require-*-timeout): every
    ALTER, DROP, COMMENT and CREATE but CREATE TABLE (a new table nobody uses)."""
    if tree is None:
        return False
    if isinstance(tree, exp.Create):
        return str(tree.args.get("kind") or "").upper() not in ("TABLE", "")
    if isinstance(tree, (exp.Alter, exp.Drop, exp.Comment)):
        return True
    if isinstance(tree, exp.Command):
        words = _command_words(tree)
        if words[:2] == ["CREATE", "TABLE"]:
            return False
        return bool(words) and words[0] in ("ALTER", "CREATE", "DROP", "COMMENT", "REINDEX", "CLUSTER", "VACUUM")
    return False


def set_timeouts(tree: exp.Expression | None) -> set[str]:
    """The timeouts a ``SET [LOCAL] lock_timeout/statement_timeout`` sets."""
    if not isinstance(tree, exp.Set):
        return set()
    out = set()
    for item in tree.expressions:
        target = item.this.this if isinstance(item.this, exp.EQ) else item.this
        name = target.name if isinstance(target, exp.Expression) else str(target)
        if name.lower() in ("lock_timeout", "statement_timeout"):
            out.add(name.lower())
    return out


def _lock_of(tree: exp.Expression) -> str:
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "INDEX":
        return "SHARE UPDATE EXCLUSIVE" if tree.args.get("concurrently") else "SHARE"
    if isinstance(tree, exp.Drop) and str(tree.args.get("kind") or "").upper() == "INDEX":
        return "SHARE UPDATE EXCLUSIVE" if tree.args.get("concurrently") else AX
    if isinstance(tree, exp.Alter) and tree.args.get("actions"):
        if all(isinstance(a, exp.AddConstraint) and _foreign_key(a) for a in tree.args["actions"]):
            return "SHARE ROW EXCLUSIVE"
    if isinstance(tree, exp.Command) and "VALIDATE" in _command_words(tree):
        return "SHARE UPDATE EXCLUSIVE"
    return AX


def _foreign_key(action: exp.AddConstraint) -> bool:
    return any(action.find_all(exp.ForeignKey, exp.Reference))


def _rewrites_type(step: Step | None) -> bool:
    """Whether a type change rewrites the table: not for a longer varchar or varchar
    to text (the manual's "binary coercible" changes), else yes."""
    op = getattr(step, "op", None)
    old, new = getattr(op, "old", None), getattr(op, "new", None)
    if old is None or new is None or not hasattr(old, "type"):
        return True
    if old.type == "string" and new.type == "text":
        return False
    if old.type == new.type == "string":
        before, after = getattr(old, "length", None), getattr(new, "length", None)
        return not (before is not None and (after is None or after >= before))
    return True


def _default_of(column: exp.ColumnDef) -> exp.Expression | None:
    for c in column.args.get("constraints") or ():
        if isinstance(c.args.get("kind"), exp.DefaultColumnConstraint):
            return c.args["kind"].this
    return None


def _not_null(column: exp.ColumnDef) -> bool:
    return any(
        isinstance(c.args.get("kind"), exp.NotNullColumnConstraint) and not c.args["kind"].args.get("allow_null")
        for c in column.args.get("constraints") or ()
    )


def _add_column(column: exp.ColumnDef, version: tuple[int, int]) -> list[Finding]:
    default = _default_of(column)
    if default is None:
        return [COSTS["add_required_field"].finding()] if _not_null(column) else []
    calls = {f.name.lower() for f in default.find_all(exp.Anonymous)}
    if calls & VOLATILE or default.find(exp.Rand, exp.Uuid):
        return [
            COSTS["add_field_with_default"].finding(why="a volatile default is computed and written into every row")
        ]
    if version < (11, 0):
        return [
            COSTS["add_field_with_default"].finding(
                why=f"before PostgreSQL 11 (the connection declares {version[0]}.{version[1]}) any default is "
                "written into every row while every read and write of the table waits"
            )
        ]
    return []


def _alter_action(action: exp.Expression, step: Step | None, version: tuple[int, int]) -> list[Finding]:
    if isinstance(action, exp.ColumnDef):
        return _add_column(action, version)
    if isinstance(action, exp.AlterColumn):
        if action.args.get("dtype") is not None:
            finding = COSTS["change_type"].finding()
            if not _rewrites_type(step):
                finding = COSTS["change_type"].finding(
                    cost=Cost(AX), why="metadata only (a binary-coercible change), but under ACCESS EXCLUSIVE"
                )
            return [finding]
        if action.args.get("allow_null") is False and not action.args.get("drop"):
            if version >= (12, 0):
                return [COSTS["set_not_null"].finding()]
            return [
                COSTS["set_not_null"].finding(
                    safe_form="none before PostgreSQL 12 (the scan cannot be skipped): a validated "
                    "CHECK (col IS NOT NULL) NOT VALID constraint instead of SET NOT NULL"
                )
            ]
        return []
    if isinstance(action, exp.AddConstraint):
        parent = action.parent
        not_valid = bool(parent.args.get("not_valid")) if parent is not None else False
        out: list[Finding] = []
        for constraint in action.expressions:
            if constraint.find(exp.PrimaryKey, exp.PrimaryKeyColumnConstraint):
                out.append(COSTS["add_primary_key"].finding())
            elif constraint.find(exp.UniqueColumnConstraint):
                out += [COSTS["add_unique"].finding(), COSTS["unique_not_valid"].finding()]
            elif constraint.find(exp.ForeignKey, exp.Reference):
                if not not_valid:
                    out += [COSTS["add_foreign_key"].finding(), COSTS["foreign_key_not_valid"].finding()]
            elif constraint.find(exp.CheckColumnConstraint) and not not_valid:
                out.append(COSTS["add_check"].finding())
        return out
    return []


def cost(step: Step | None, statement: str, server: str | None, *, atomic: bool = False) -> list[Finding]:
    """The findings of one statement on a table with rows (timeouts aside: see ``lint_plan``)."""
    tree = parse(statement)
    if tree is None:
        return []
    version = server_version(server, "postgresql", OLDEST)
    kind = str(tree.args.get("kind") or "").upper()
    if isinstance(tree, exp.Create) and kind == "INDEX":
        if tree.args.get("concurrently"):
            return [COSTS["concurrently_in_transaction"].finding()] if atomic else []
        return [COSTS["create_index"].finding()]
    if isinstance(tree, exp.Drop) and kind == "INDEX":
        if tree.args.get("concurrently"):
            return [COSTS["concurrently_in_transaction"].finding(cost=Cost("SHARE UPDATE EXCLUSIVE"))] if atomic else []
        return [COSTS["drop_index"].finding()]
    if isinstance(tree, exp.Alter) and kind == "TABLE":
        return [f for action in tree.args.get("actions") or () for f in _alter_action(action, step, version)]
    return []


def _validated(tree: exp.Expression | None) -> tuple[str, str] | None:
    """(table, constraint) of ``ALTER TABLE t VALIDATE CONSTRAINT c`` (which sqlglot
    leaves a Command), read from its tokens."""
    if not isinstance(tree, exp.Command) or str(tree.this).upper() != "ALTER":
        return None
    rest = tree.expression if isinstance(tree.expression, str) else tree.text("expression")
    try:
        tokens = sqlglot.tokenize(rest, read="postgres")
    except sqlglot.errors.SqlglotError:
        return None
    words = [t.text for t in tokens]
    upper = [w.upper() if t.token_type != TokenType.IDENTIFIER else "" for w, t in zip(words, tokens, strict=True)]
    if len(words) == 5 and upper[0] == "TABLE" and upper[2:4] == ["VALIDATE", "CONSTRAINT"]:
        return words[1], words[4]
    return None


def _not_null_checks(tree: exp.Expression | None) -> dict[tuple[str, str], str]:
    """{(table, constraint): column} of ``ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID``."""
    if not isinstance(tree, exp.Alter) or not tree.args.get("not_valid") or not isinstance(tree.this, exp.Table):
        return {}
    out = {}
    for action in tree.args.get("actions") or ():
        for constraint in action.expressions if isinstance(action, exp.AddConstraint) else ():
            check = constraint.find(exp.CheckColumnConstraint)
            test = check.this if check is not None else None
            if isinstance(test, exp.Is) and test.args.get("negate") and isinstance(test.expression, exp.Null):
                if isinstance(test.this, exp.Column) and isinstance(constraint, exp.Constraint):
                    out[(tree.this.name, constraint.this.name)] = test.this.name
    return out


def _set_not_null_columns(tree: exp.Expression | None) -> set[tuple[str, str]] | None:
    """(table, column) of each SET NOT NULL when that is all the statement does."""
    if not isinstance(tree, exp.Alter) or not isinstance(tree.this, exp.Table):
        return None
    actions = tree.args.get("actions") or []
    if not actions or not all(
        isinstance(a, exp.AlterColumn) and a.args.get("allow_null") is False and not a.args.get("drop") for a in actions
    ):
        return None
    return {(tree.this.name, a.this.name) for a in actions}


def lint_plan(plan: Sequence[tuple[Step | None, str]], server: str | None, atomic: bool) -> list[list[Finding]]:
    """Each statement's findings, and squawk's require-lock-timeout /
    require-statement-timeout on each DDL statement that no ``SET lock_timeout``
    / ``SET statement_timeout`` earlier in the migration bounds. A SET NOT NULL
    that a validated ``CHECK (col IS NOT NULL)`` earlier in the migration proves
    skips its scan (PostgreSQL 12+): no finding."""
    timeouts: set[str] = set()
    checks: dict[tuple[str, str], str] = {}
    proven: set[tuple[str, str]] = set()
    version = server_version(server, "postgresql", OLDEST)
    out = []
    for step, text in plan:
        tree = parse(text)
        timeouts |= set_timeouts(tree)
        checks.update(_not_null_checks(tree))
        validated = _validated(tree)
        if validated in checks:
            proven.add((validated[0], checks[validated]))
        found = cost(step, text, server, atomic=atomic)
        columns = _set_not_null_columns(tree)
        if columns and columns <= proven and version >= (12, 0):
            found = [f for f in found if f.rule != COSTS["set_not_null"].rule]
        if is_ddl(tree):
            assert tree is not None
            lock = _lock_of(tree)
            for entry, name in zip(TIMEOUTS, ("lock_timeout", "statement_timeout"), strict=True):
                if name not in timeouts:
                    found.append(entry.finding(cost=Cost(lock)))
        out.append(found)
    return out

"""SQLite DDL. What SQLite cannot alter in place is done by rebuilding the table
(create the new table, copy every row, drop the old one, rename), keeping every
index, trigger, view and named check constraint that the models do not declare.

Pure: what the models do not declare comes from ``SqliteFacts``, read from
sqlite_master once before the migration (``SqliteSession.live_facts``); the
renderer keeps it up to date as tables are renamed and dropped.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

import sqlalchemy as sa

from modelmig_core import api
from modelmig_core.api import Check, Column, MigrationFailed, Renderer, Step, Table, enum_check_name, renders_operation
from modelmig_core.api_sql import Bodies, ViewColumns


def named_checks(create_sql: str) -> list[Check]:
    """The named CHECK constraints of a ``CREATE TABLE`` statement (of the table or
    of a column), each with its expression as written: sqlglot's SQLite tokenizer
    finds ``CONSTRAINT name CHECK (`` and the parenthesis that closes it (one in a
    string or a quoted name is no parenthesis; a name may be quoted any way
    SQLite allows)."""
    from sqlglot.dialects.sqlite import SQLite
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    try:
        tokens = SQLite().tokenize(create_sql)
    except (SqlglotError, ValueError) as exc:
        raise MigrationFailed(f"cannot read the table's SQL in sqlite_master: {exc}") from None
    literal = (TokenType.IDENTIFIER, TokenType.STRING)
    out = []
    i = 0
    while i + 3 < len(tokens):
        constraint, name, check, opening = tokens[i : i + 4]
        if not (
            constraint.token_type == TokenType.CONSTRAINT
            and check.token_type not in literal
            and check.text.upper() == "CHECK"
            and opening.token_type == TokenType.L_PAREN
        ):
            i += 1
            continue
        depth = 0
        for j in range(i + 3, len(tokens)):
            depth += {TokenType.L_PAREN: 1, TokenType.R_PAREN: -1}.get(tokens[j].token_type, 0)
            if depth == 0:
                break
        else:
            break  # unbalanced: SQLite would not have kept it
        out.append(Check(name.text, create_sql[opening.end + 1 : tokens[j].start].strip()))
        i = j + 1
    return out


def index_uses(create_sql: str, columns: Iterable[str]) -> list[str]:
    """Those of ``columns`` that a ``CREATE INDEX`` statement uses (in its
    columns, expressions or WHERE), parsed by sqlglot; SQLite's names are
    case-insensitive. [] when sqlglot cannot read the statement."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(create_sql, read="sqlite")
    except (SqlglotError, ValueError):
        return []
    params = tree.this.args.get("params") if isinstance(tree, exp.Create) and isinstance(tree.this, exp.Index) else None
    if params is None:
        return []
    used = {c.name.lower() for c in params.find_all(exp.Column)}
    return [c for c in columns if c.lower() in used]


@dataclass
class SqliteFacts:
    """What the models do not declare, from sqlite_master as (type, name, tbl_name,
    sql) rows: indexes and triggers made by hand, views, and each table's own SQL
    (for named checks made by hand). Declared indexes are left out: the states say
    everything about them."""

    objects: list[tuple[str, str, str, str]] = field(default_factory=list)
    checks: dict[str, list[Check]] = field(default_factory=dict)  # named checks made by hand, per table
    moved: set[str] = field(default_factory=set)  # tables renamed earlier in this migration
    views: ViewColumns = field(default_factory=ViewColumns)  # the columns each view uses
    bodies: Bodies = field(default_factory=lambda: Bodies(dialect="sqlite"))  # the triggers' SQL

    @classmethod
    def from_rows(cls, rows: Iterable[Any], before: Any) -> SqliteFacts:
        """``before`` is the state the live database is in (before the migration)."""
        tables = before.tables
        objects, checks = [], {}
        views = ViewColumns()
        bodies = Bodies(dialect="sqlite")
        for t, n, tb, sql in rows:
            declared = tables.get(tb)
            if t == "index" and declared is not None and any(ix.name == n for ix in declared.indexes):
                continue
            if t == "table":
                names = declared_checks(declared) if declared is not None else set()
                checks[str(n)] = [c for c in named_checks(str(sql)) if c.name not in names]
            if t == "view":
                views.add_sql(str(n), str(sql), "sqlite")
            if t == "trigger":
                bodies.add("trigger", str(n), str(tb), str(sql))
            objects.append((str(t), str(n), str(tb), str(sql)))
        return cls(objects, checks, views=views, bodies=bodies)

    def of_table(self, table: str, kinds: tuple[str, ...]) -> list[tuple[str, str, str]]:
        return [(k, n, sql) for k, n, tb, sql in self.objects if tb == table and k in kinds]

    def all_views(self) -> list[tuple[str, str]]:
        return [(n, sql) for k, n, _, sql in self.objects if k == "view"]

    def triggers_elsewhere(self, table: str) -> list[tuple[str, str]]:
        """Triggers on other tables: their bodies may name ``table``, and SQLite checks
        every trigger when a table is renamed, so a rebuild drops and re-creates them."""
        return [(n, sql) for k, n, tb, sql in self.objects if k == "trigger" and tb != table]

    def rename_table(self, old: str, new: str) -> None:
        """SQLite moves a table's indexes and triggers with it (and rewrites their
        SQL, which this copy cannot follow: see ``SqliteRenderer.rebuild``)."""
        self.objects = [
            (k, new if k == "table" and n == old else n, new if tb == old else tb, sql)
            for k, n, tb, sql in self.objects
        ]
        if old in self.checks:
            self.checks[new] = self.checks.pop(old)
        self.views.rename_table(old, new)
        self.moved.add(new)

    def drop_table(self, table: str) -> None:
        self.objects = [o for o in self.objects if o[2] != table]
        self.checks.pop(table, None)

    def drop_view(self, name: str) -> None:
        self.objects = [o for o in self.objects if not (o[0] == "view" and o[1] == name)]

    def create_view(self, name: str, sql: str) -> None:
        self.drop_view(name)
        self.objects.append(("view", name, name, sql))


def declared_checks(table: Table) -> set[str]:
    """Names of the checks the state accounts for: declared ones and enum checks."""
    names = {c.name for c in table.checks}
    return names | {enum_check_name(table.name, c.name) for c in table.columns if c.type == "enum"}


class SqliteRenderer(Renderer):
    dialect_name = "sqlite"
    #: ALTER TABLE RENAME COLUMN rewrites the triggers that name the column
    renames_rewrite_bodies = True
    #: a default other than a literal or CURRENT_* is written in parentheses
    parenthesized_defaults = True

    def index_kwargs(self, table: sa.Table, ix: Any) -> dict[str, Any]:
        """A partial index's WHERE."""
        return {} if ix.where is None else {"sqlite_where": self.index_where(ix)}

    def string_literal(self, value: str) -> str:
        """Standard strings (SQLite reads no backslash escapes); SQL text holds no
        NUL character (refused at make time, ``SqliteDriver.refusals``)."""
        if "\0" in value:
            raise MigrationFailed(f"{value!r}: a SQLite statement cannot hold a NUL character")
        return super().string_literal(value)

    def column_type(self, col: Column) -> Any:
        if col.autoincrement and col.primary and col.type in ("bigInteger", "smallInteger"):
            return sa.Integer()  # only INTEGER PRIMARY KEY is SQLite's auto-increment rowid
        return super().column_type(col)

    def view_created(self, name: str, sql: str) -> None:
        super().view_created(name, sql)
        self.live.create_view(name, sql)  # a later rebuild drops and creates it again

    def view_dropped(self, name: str) -> None:
        super().view_dropped(name)
        self.live.drop_view(name)

    # ------------------------------------------------------------ rebuild

    @property
    def live(self) -> SqliteFacts:
        if not isinstance(self.facts, SqliteFacts):
            self.facts = SqliteFacts()
        return self.facts

    def rebuild(
        self, old: Table, new: Table, sources: dict[str, str], fills: dict[str, str] | None = None
    ) -> list[str]:
        """Statements that turn table ``old`` into ``new``. ``sources`` maps each new
        column to the old column it is copied from; ``fills`` maps new columns to the
        SQL literal their rows get (a backfill); other new columns take their default."""
        fills = fills or {}
        computed = {c.name for c in new.columns if c.generated is not None}  # SQLite computes them: never copied
        sources = {k: v for k, v in sources.items() if k not in computed}
        name = new.name
        temp = f"_modelmig_new_{name}"
        declared_indexes = {i.name for i in old.indexes} | {i.name for i in new.indexes}
        extras: list[tuple[str, str, str]] = []  # (type, name, sql) of objects the models do not declare
        for kind, obj, sql in self.live.of_table(old.name, ("index", "trigger")):
            if kind == "trigger" or obj not in declared_indexes:
                extras.append((kind, obj, sql))
        if extras and old.name in self.live.moved:
            kind, obj, _ = extras[0]
            raise MigrationFailed(
                f"{kind} {obj} on {name} is not declared in the models, and {name} was renamed earlier in this "
                "migration: SQLite cannot rebuild it in the same migration; make the rename a migration of its own"
            )
        views = self.live.all_views()
        triggers = self.live.triggers_elsewhere(old.name)
        known_checks = declared_checks(old) | declared_checks(new)
        kept_checks = [c for c in self.live.checks.get(old.name, []) if c.name not in known_checks]
        dropped = {c.name for c in old.columns} - set(sources.values())
        for kind, obj, sql in extras:
            if kind == "index":
                used = index_uses(sql, sorted(dropped))
                if used:
                    raise MigrationFailed(
                        f"index {obj} on {name} (not declared in the models) uses column {used[0]!r}, "
                        "which this migration drops; drop the index first (RunSQL)"
                    )

        target = replace(new, checks=(*new.checks, *kept_checks), indexes=())
        out = [f"DROP VIEW {self.q(v)}" for v, _ in views]
        out += [f"DROP TRIGGER {self.q(tr)}" for tr, _ in triggers]
        out += self.create_table(target, name=temp)
        cols = [c.name for c in new.columns if c.name in sources or c.name in fills]
        values = [self.q(sources[c]) if c in sources else fills[c] for c in cols]
        out.append(
            f"INSERT INTO {self.q(temp)} ({', '.join(self.q(c) for c in cols)}) "
            f"SELECT {', '.join(values)} FROM {self.q(old.name)}"
        )
        out.append(f"DROP TABLE {self.q(old.name)}")
        out.append(f"ALTER TABLE {self.q(temp)} RENAME TO {self.q(name)}")
        t = self.sa_table(new)
        out += [self.compile(sa.schema.CreateIndex(self.sa_index(t, ix))) for ix in new.indexes]
        out += [sql for _, _, sql in extras]
        out += [sql for _, sql in triggers]
        out += [sql for _, sql in views]
        return out

    def _rebuild_after(
        self, op: Any, step: Step, sources: dict[str, str] | None = None, fills: dict[str, str] | None = None
    ) -> list[str]:
        old = step.before.table(op.table)
        new = step.after.table(op.table)
        if sources is None:
            sources = {c.name: c.name for c in new.columns if old.column(c.name)}
        return self.rebuild(old, new, sources, fills)

    # ------------------------------------------------------------ operations

    @renders_operation(api.AddColumn)
    def op_add_column(self, op: Any, step: Step) -> list[str]:
        col: Column = op.column
        # ADD COLUMN cannot add a key, a UNIQUE column, a NOT NULL column without a
        # default, a non-constant default (CURRENT_TIMESTAMP) or a named enum CHECK:
        # rebuild for those
        if self.backfilled(op):
            return self._rebuild_after(op, step, fills={col.name: self.literal(op.backfill)})
        if col.generated is not None:  # ADD COLUMN takes a virtual one, never a stored one
            return super().op_add_column(op, step) if not col.stored else self._rebuild_after(op, step)
        expression = col.default_now or col.default_sql is not None
        if col.primary or expression or col.type == "enum" or (not col.nullable and col.default is None):
            return self._rebuild_after(op, step)
        return super().op_add_column(op, step)

    @renders_operation(api.DropColumn)
    def op_drop_column(self, op: Any, step: Step) -> list[str]:
        self.refuse_view_dependents(op.table, op.column.name)
        return self._rebuild_after(op, step)

    @renders_operation(api.AddUnique)
    def op_add_unique(self, op: Any, step: Step) -> list[str]:
        return self._rebuild_after(op, step)

    @renders_operation(api.DropUnique)
    def op_drop_unique(self, op: Any, step: Step) -> list[str]:
        return self._rebuild_after(op, step)

    @renders_operation(api.AlterColumn)
    def op_alter_column(self, op: Any, step: Step) -> list[str]:
        return self._rebuild_after(op, step)

    @renders_operation(api.AddForeignKey)
    def op_add_foreign_key(self, op: Any, step: Step) -> list[str]:
        return self._rebuild_after(op, step)

    @renders_operation(api.DropForeignKey)
    def op_drop_foreign_key(self, op: Any, step: Step) -> list[str]:
        return self._rebuild_after(op, step)

    @renders_operation(api.AddCheck)
    def op_add_check(self, op: Any, step: Step) -> list[str]:
        return self._rebuild_after(op, step)

    @renders_operation(api.DropCheck)
    def op_drop_check(self, op: Any, step: Step) -> list[str]:
        return self._rebuild_after(op, step)

    @renders_operation(api.RenameTable)
    def op_rename_table(self, op: Any, step: Step) -> list[str]:
        """SQLite renames the table and rewrites the foreign keys that point at it;
        a table with enum columns is then rebuilt, since its enum checks are named
        after the table."""
        self.live.rename_table(op.old, op.new)
        out = super().op_rename_table(op, step)
        after = step.after.table(op.new)
        if any(c.type == "enum" for c in after.columns):
            renamed = replace(step.before.table(op.old), name=op.new)
            out += self.rebuild(renamed, after, {c.name: c.name for c in after.columns})
        return out

    @renders_operation(api.RenameColumn)
    def op_rename_column(self, op: Any, step: Step) -> list[str]:
        """Likewise for a renamed enum column (its check is named after the column)."""
        out = super().op_rename_column(op, step)
        col = step.before.table(op.table).column(op.old)
        if col is not None and col.type == "enum":
            after = step.after.table(op.table)
            out += self.rebuild(after, after, {c.name: c.name for c in after.columns})
        return out

    @renders_operation(api.DropTable)
    def op_drop_table(self, op: Any, step: Step) -> list[str]:
        self.live.drop_table(op.table.name)
        return super().op_drop_table(op, step)

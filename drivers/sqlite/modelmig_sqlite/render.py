"""SQLite DDL. What SQLite cannot alter in place is done by rebuilding the table
(create the new table, copy every row, drop the old one, rename), keeping every
index, trigger, view and named check constraint that the models do not declare.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from modelmig_core.errors import MigrationFailed
from modelmig_core.sql.render import Renderer
from modelmig_core.state import Check, Column, State, Table

_CHECK = re.compile(r'CONSTRAINT\s+(?:"([^"]+)"|`([^`]+)`|\[([^\]]+)\]|(\w+))\s+CHECK\s*\(', re.IGNORECASE)


def _balanced(sql: str, start: int) -> str:
    """The text inside the parenthesis that opens at ``start``."""
    depth = 0
    for i in range(start, len(sql)):
        ch = sql[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return sql[start + 1 : i]
    return sql[start + 1 :]


def named_checks(create_sql: str) -> list[Check]:
    out = []
    for m in _CHECK.finditer(create_sql):
        name = next(g for g in m.groups() if g)
        out.append(Check(name, _balanced(create_sql, m.end() - 1).strip()))
    return out


class SqliteRenderer(Renderer):
    dialect_name = "sqlite"

    def column_type(self, col: Column) -> Any:
        if col.autoincrement and col.primary and col.type in ("bigInteger", "smallInteger"):
            return sa.Integer()  # only INTEGER PRIMARY KEY is SQLite's auto-increment rowid
        return super().column_type(col)

    # ------------------------------------------------------------ rebuild

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.raw is None:
            return []
        return list(self.raw.execute(sql, params).fetchall())

    def rebuild(self, old: Table, new: Table, sources: dict[str, str]) -> list[str]:
        """Statements that turn table ``old`` into ``new``. ``sources`` maps each new
        column to the old column it is copied from (new columns take their default)."""
        name = new.name
        temp = f"_modelmig_new_{name}"
        declared_indexes = {i.name for i in old.indexes} | {i.name for i in new.indexes}
        extras: list[tuple[str, str, str]] = []  # (type, name, sql) of objects the models do not declare
        for kind, obj, sql in self._query(
            "SELECT type, name, sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger') "
            "AND sql IS NOT NULL ORDER BY type, name",
            (old.name,),
        ):
            if kind == "trigger" or obj not in declared_indexes:
                extras.append((kind, obj, sql))
        views = self._query("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY name")
        live = self._query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (old.name,))
        declared_checks = {c.name for c in old.checks} | {c.name for c in new.checks}
        kept_checks = [c for c in named_checks(live[0][0]) if c.name not in declared_checks] if live else []
        dropped = {c.name for c in old.columns} - set(sources.values())
        for kind, obj, sql in extras:
            if kind == "index":
                used = [c for c in dropped if re.search(rf'\b"?{re.escape(c)}"?\b', sql.split("(", 1)[-1])]
                if used:
                    raise MigrationFailed(
                        f"index {obj} on {name} (not declared in the models) uses column {used[0]!r}, "
                        "which this migration drops; drop the index first (RunSQL)"
                    )

        target = replace(new, checks=(*new.checks, *kept_checks), indexes=())
        out = [f"DROP VIEW {self.q(v)}" for v, _ in views]
        out += self.create_table(target, name=temp)
        cols = [c.name for c in new.columns if c.name in sources]
        out.append(
            f"INSERT INTO {self.q(temp)} ({', '.join(self.q(c) for c in cols)}) "
            f"SELECT {', '.join(self.q(sources[c]) for c in cols)} FROM {self.q(old.name)}"
        )
        out.append(f"DROP TABLE {self.q(old.name)}")
        out.append(f"ALTER TABLE {self.q(temp)} RENAME TO {self.q(name)}")
        t = self.sa_table(new)
        out += [self.compile(sa.schema.CreateIndex(self.sa_index(t, ix))) for ix in new.indexes]
        out += [sql for _, _, sql in extras]
        out += [sql for _, sql in views]
        return out

    def _rebuild_after(self, op: Any, state: State, sources: dict[str, str] | None = None) -> list[str]:
        old = state.table(op.table)
        new = op.state_forwards(state).table(op.table)
        if sources is None:
            sources = {c.name: c.name for c in new.columns if old.column(c.name)}
        return self.rebuild(old, new, sources)

    # ------------------------------------------------------------ operations

    def op_add_column(self, op: Any, state: State) -> list[str]:
        col: Column = op.column
        # ADD COLUMN cannot add a key, a UNIQUE column, a NOT NULL column without a
        # default, or a non-constant default (CURRENT_TIMESTAMP): rebuild for those
        if col.primary or col.default_now or (not col.nullable and col.default is None):
            return self._rebuild_after(op, state)
        return super().op_add_column(op, state)

    def op_drop_column(self, op: Any, state: State) -> list[str]:
        return self._rebuild_after(op, state)

    def op_alter_column(self, op: Any, state: State) -> list[str]:
        return self._rebuild_after(op, state)

    def op_add_foreign_key(self, op: Any, state: State) -> list[str]:
        return self._rebuild_after(op, state)

    def op_drop_foreign_key(self, op: Any, state: State) -> list[str]:
        return self._rebuild_after(op, state)

    def op_add_check(self, op: Any, state: State) -> list[str]:
        return self._rebuild_after(op, state)

    def op_drop_check(self, op: Any, state: State) -> list[str]:
        return self._rebuild_after(op, state)

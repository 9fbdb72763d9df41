"""SQLite's declared types, read back into the relational state (the walk
itself is the core's ``Reflection``).

SQLite keeps the type a table was declared with: ``VARCHAR(n)`` -> string(n),
``INTEGER``, ``BIGINT``, ``SMALLINT``, ``TEXT``, ``BOOLEAN``, ``NUMERIC(p, s)`` ->
decimal, ``FLOAT``/``REAL`` -> float, ``DOUBLE``, ``DATE``, ``TIME``, ``DATETIME``
-> timestamp, ``JSON``, ``CHAR(32)`` -> uuid (SQLAlchemy's UUID on SQLite),
``BLOB`` -> binary. A single-column ``INTEGER`` primary key is SQLite's rowid,
which numbers itself: auto-increment.

An enum is a VARCHAR with a named CHECK of its values (``ck_<table>_<column>_enum``,
``column IN (...)``, what the renderer makes where there is no enum type): read
back as the enum, and that check is the type's, not a check of the models.
``CREATE UNIQUE INDEX`` stays a unique index; a table's UNIQUE constraint (named
or column-level) is a unique constraint.

What SQLite does not keep is not compared (``comparable``): an auto-increment
key is always INTEGER, time zones and comments are dropped.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import sqlalchemy as sa

from modelmig_core.api import Column, Reflection, Table, Unique, Unmanaged
from modelmig_core.api_sql import columns_of_view


def column_collations(tables: Iterable[tuple[str, str | None]]) -> dict[tuple[str, str], str]:
    """{(table, column): collation} of the columns declared with COLLATE, from each
    table's CREATE TABLE text, read by sqlglot."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    out: dict[tuple[str, str], str] = {}
    for table, sql in tables:
        try:
            tree = sqlglot.parse_one(sql or "", read="sqlite")
        except (SqlglotError, ValueError):
            continue
        for column in tree.find_all(exp.ColumnDef):
            for constraint in column.args.get("constraints") or ():
                kind = constraint.args.get("kind")
                if isinstance(kind, exp.CollateColumnConstraint) and kind.this is not None:
                    out[(table, column.name)] = kind.this.name
    return out


def fk_deferral(options: Iterable[Any]) -> dict[str, Any]:
    """``deferrable``/``initially`` of a foreign key from the options sqlglot
    parsed after its REFERENCES (``DEFERRABLE``, ``INITIALLY DEFERRED``)."""
    said = {" ".join(str(o).upper().split()) for o in options}
    if "DEFERRABLE" not in said:
        return {}
    return {"deferrable": True, "initially": "DEFERRED" if "INITIALLY DEFERRED" in said else None}


class SqliteReflection(Reflection):
    engine_url = "sqlite://"
    sqlglot_dialect = "sqlite"
    enum_checks = True

    def virtual_tables(self, connection: sa.Connection) -> dict[str, str | None]:
        """{name: None} of the virtual tables (FTS, R*Tree...) and {name: its virtual
        table} of their shadow tables (``docs_content`` of ``docs``), from
        ``pragma_table_list`` (SQLite 3.37+; older: none known)."""
        try:
            listed = connection.exec_driver_sql("SELECT name, type FROM pragma_table_list WHERE schema = 'main'").all()
        except sa.exc.DBAPIError:
            return {}
        virtual = sorted((str(n) for n, t in listed if t == "virtual"), key=len, reverse=True)
        out: dict[str, str | None] = dict.fromkeys(virtual)
        for name, kind in listed:
            if kind == "shadow":
                out[str(name)] = next((v for v in virtual if str(name).startswith(v + "_")), None)
        return out

    def unmanaged_objects(self, connection: sa.Connection) -> list[Unmanaged]:
        """Views (the tables each reads, through sqlglot), triggers, virtual tables
        and their shadow tables."""
        out = []
        for kind, name, table, sql in connection.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('view', 'trigger')"
        ):
            if kind == "view":
                tables = tuple(sorted({t for t, _c in columns_of_view(str(sql or ""), "sqlite")}))
                out.append(Unmanaged("view", str(name), tables))
            else:
                out.append(Unmanaged("trigger", str(name), (str(table),)))
        for name, owner in self.virtual_tables(connection).items():
            if owner is None:
                out.append(Unmanaged("virtual table", name, (), "the models cannot hold a virtual table"))
            else:
                out.append(Unmanaged("shadow table", name, (owner,), f"kept by virtual table {owner} itself"))
        return out

    def read(self, tables: Any = None) -> Any:
        with self.engine().connect() as connection:
            self._outside = set(self.virtual_tables(connection))
        with warnings.catch_warnings():  # an expression index it skips is read here (index_infos)
            warnings.filterwarnings("ignore", "Skipped unsupported reflection of expression-based index")
            found = super().read(tables)
        if found.tables:
            self.names_from_sql(found)
            self.index_infos(found)
        return found

    def index_infos(self, found: Any) -> None:
        """Every index made by a CREATE INDEX, in the Inspector's shape, from its
        SQL parsed by sqlglot: the Inspector skips expression indexes and gives
        neither the order of a key part nor a partial index's WHERE. Comments in
        the stored text are no part of the index and are not kept; an index whose
        SQL sqlglot cannot read is left out and named, never guessed."""
        import sqlglot
        from sqlglot import exp

        with self.engine().connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            ).all()
        wanted = set(found.tables)
        for table, name, sql in rows:
            if table not in wanted:
                continue
            try:
                tree = sqlglot.parse_one(sql, read="sqlite")
            except (sqlglot.errors.SqlglotError, ValueError):
                tree = None
            index = tree.this if isinstance(tree, exp.Create) else None
            params = index.args.get("params") if isinstance(index, exp.Index) else None
            if tree is None or params is None:
                found.indexes[table] = [i for i in found.indexes.get(table, []) if i.get("name") != name]
                self.unsaid.append((table, f"{table}.{name}: an index whose SQL cannot be read; left out"))
                continue
            info: dict[str, Any] = {"name": name, "unique": bool(tree.args.get("unique"))}
            names: list[str | None] = []
            expressions: list[str] = []
            sorting: dict[str, tuple[str, ...]] = {}
            for part in params.args.get("columns") or []:
                node = part.this if isinstance(part, exp.Ordered) else part
                if isinstance(node, exp.Paren):
                    node = node.this
                text = node.name if isinstance(node, exp.Column) else node.sql(dialect="sqlite", comments=False)
                names.append(node.name if isinstance(node, exp.Column) else None)
                expressions.append(text)
                if isinstance(part, exp.Ordered) and part.args.get("desc"):
                    sorting[text] = ("desc",)
            info.update(column_names=names, expressions=expressions, column_sorting=sorting)
            where = params.args.get("where")
            if where is not None:
                info["dialect_options"] = {"sqlite_where": where.this.sql(dialect="sqlite", comments=False)}
            infos = [i for i in found.indexes.get(table, []) if i.get("name") != name]
            found.indexes[table] = [*infos, info]

    def index_options(self, table: str, info: dict[str, Any], columns: tuple[str, ...]) -> dict[str, Any]:
        """A partial index's WHERE."""
        where = (info.get("dialect_options") or {}).get("sqlite_where")
        return {} if where is None else {"where": str(where)}

    def names_from_sql(self, found: Any) -> None:
        """SQLAlchemy finds the names of checks, foreign keys and unique constraints
        in SQLite's CREATE TABLE text with regular expressions, which keep a doubled
        quote doubled (``"a""b"`` -> ``a""b``) or miss a name with a quote in it. The
        same text parsed by sqlglot gives them exactly: checks are read from it
        whole, foreign keys and unique constraints get their names by what they
        are (columns and target)."""
        import sqlglot
        from sqlglot import exp

        with self.engine().connect() as connection:
            rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
        wanted = set(found.tables)
        for table, sql in rows:
            if table not in wanted or not sql:
                continue
            try:
                tree = sqlglot.parse_one(sql, read="sqlite")
            except (sqlglot.errors.SqlglotError, ValueError):
                continue
            computed = {}
            for cd in tree.find_all(exp.ColumnDef):
                for constraint in cd.args.get("constraints") or []:
                    kind = constraint.kind
                    if isinstance(kind, exp.ComputedColumnConstraint):
                        text = kind.this.sql(dialect="sqlite", comments=False)
                        computed[cd.name] = {"sqltext": text, "persisted": bool(kind.args.get("persisted"))}
            for info in found.columns.get(table, []):  # the Inspector's regular expression misreads them
                if info["name"] in computed:
                    info["computed"] = computed[info["name"]]
                else:
                    info.pop("computed", None)
            checks, fks, uniques = [], {}, {}
            deferral: dict[tuple[Any, ...], dict[str, Any]] = {}
            for kind in tree.find_all(
                exp.CheckColumnConstraint, exp.ForeignKey, exp.Reference, exp.UniqueColumnConstraint
            ):
                parent = kind.parent
                named = isinstance(parent, (exp.Constraint, exp.ColumnConstraint))
                name = parent.this.name if named and isinstance(parent.this, exp.Identifier) else None
                if isinstance(kind, exp.CheckColumnConstraint):
                    checks.append({"name": name, "sqltext": kind.this.sql(dialect="sqlite")})
                elif isinstance(kind, exp.ForeignKey):
                    ref = kind.args.get("reference")
                    target = ref.this if ref is not None else None
                    if isinstance(target, exp.Schema) and isinstance(target.this, exp.Table):
                        local = tuple(e.name for e in kind.expressions)
                        key = (local, target.this.name, tuple(e.name for e in target.expressions))
                        if name is not None:
                            fks[key] = name
                        deferral[key] = fk_deferral(ref.args.get("options") or ())
                elif isinstance(kind, exp.Reference):  # the column form: author_id INTEGER REFERENCES authors (id)
                    target = kind.this
                    column = kind.find_ancestor(exp.ColumnDef)
                    if (
                        isinstance(kind.parent, exp.ColumnConstraint)
                        and column is not None
                        and isinstance(target, exp.Schema)
                        and isinstance(target.this, exp.Table)
                    ):
                        key = ((column.name,), target.this.name, tuple(e.name for e in target.expressions))
                        if name is not None:
                            fks[key] = name
                        deferral[key] = fk_deferral(kind.args.get("options") or ())
                elif isinstance(kind, exp.UniqueColumnConstraint) and name is not None:
                    if isinstance(kind.this, exp.Schema):
                        uniques[tuple(e.name for e in kind.this.expressions)] = name
            found.checks[table] = checks
            for info in found.foreign_keys.get(table, []):
                key = (tuple(info["constrained_columns"]), info["referred_table"], tuple(info["referred_columns"]))
                if key in fks:
                    info["name"] = fks[key]
                info["options"] = {**(info.get("options") or {}), **deferral.get(key, {})}
            for info in found.uniques.get(table, []):
                if tuple(info["column_names"]) in uniques:
                    info["name"] = uniques[tuple(info["column_names"])]

    def skip_table(self, name: str) -> bool:
        return super().skip_table(name) or name.startswith("sqlite_") or name in getattr(self, "_outside", ())

    def read_extra(self, connection: sa.Connection, tables: Sequence[str]) -> Any:
        """The column sets of the UNIQUE constraints written without a name
        (``email VARCHAR(191) UNIQUE``), which the Inspector does not report: the
        indexes SQLite made for them (``origin = 'u'``), in one query."""
        wanted = set(tables)
        rows = connection.exec_driver_sql(
            "SELECT m.name, il.name, ii.name FROM sqlite_master AS m, pragma_index_list(m.name) AS il, "
            "pragma_index_info(il.name) AS ii WHERE m.type = 'table' AND il.origin = 'u' "
            "ORDER BY m.name, il.name, ii.seqno"
        )
        found: dict[tuple[str, str], list[str]] = {}
        for table, index, column in rows:
            if table in wanted:
                found.setdefault((table, index), []).append(column)
        self._constraint_keys: dict[str, list[tuple[str, ...]]] = {}
        for (table, _index), columns in found.items():
            self._constraint_keys.setdefault(table, []).append(tuple(columns))
        self._collations = column_collations(
            (name, sql)
            for name, sql in connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
            if name in wanted
        )
        return None

    def logical_type(self, table: str, info: dict[str, Any], extra: Any) -> dict[str, Any]:
        """The Inspector drops a column's COLLATE; it is put back on the type (read
        from the table's SQL) so that a type made with one (``TEXT COLLATE NOCASE``)
        reads back as itself."""
        collation = getattr(self, "_collations", {}).get((table, info["name"]))
        t = info["type"]
        if collation and isinstance(t, sa.String) and not t.collation:
            t = copy.copy(t)
            t.collation = collation
            info = {**info, "type": t}
        return super().logical_type(table, info, extra)

    def unique_constraints(self, table: str, infos: list[dict[str, Any]]) -> list[Unique]:
        """The Inspector's (named or table-level) UNIQUE constraints, and the
        unnamed column-level ones it leaves out, named as modelmig would name them."""
        found = {tuple(i["column_names"]) for i in infos}
        extra = [
            {"name": None, "column_names": list(cols)}
            for cols in getattr(self, "_constraint_keys", {}).get(table, [])
            if cols not in found
        ]
        return super().unique_constraints(table, [*infos, *extra])

    #: SQLite's own entries of the table back (before the generic ones): CHAR(32),
    #: what SQLAlchemy's Uuid is on SQLite
    type_table = ((sa.CHAR, lambda t, seen: {"type": "uuid"} if t.length == 32 else None),)

    def autoincrement(self, table: str, info: dict[str, Any], pk: tuple[str, ...], type_: str) -> bool:
        # only a column declared exactly INTEGER is the rowid
        return pk == (info["name"],) and type(info["type"]) is sa.INTEGER

    def comparable_table(self, table: Table) -> Table:
        """SQLite keeps no comments (a model's table comment is refused at make time)."""
        return replace(super().comparable_table(table), comment=None)

    def attributes(
        self, table: str, info: dict[str, Any], extra: Any, type_: str, autoincrement: bool
    ) -> dict[str, Any]:
        """A column's COLLATE, read from the table's SQL by sqlglot (the Inspector drops it)."""
        collation = getattr(self, "_collations", {}).get((table, info["name"]))
        return {"collation": str(collation)} if collation else {}

    def comparable_column(self, table: Table, col: Column) -> Column:
        col = super().comparable_column(table, col)
        # no comments; an enum is a CHECK of its values, whatever its type's name
        changes: dict[str, Any] = {"use_tz": False, "comment": None, "enum_name": None}
        if table.primary_key == (col.name,):
            if col.autoincrement and col.type in ("bigInteger", "smallInteger"):
                changes["type"] = "integer"
            if changes.get("type", col.type) == "integer":
                changes["autoincrement"] = True
        return replace(col, **changes)

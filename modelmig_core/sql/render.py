"""The generic SQL renderer: steps -> DDL strings through SQLAlchemy Core.

Rendering is pure: a renderer turns a ``Step(op, before, after)`` into statements
from the two states alone, plus the live facts its driver's session read once
before the migration (``SqlSession.live_facts``); it never queries a database.
Drivers subclass ``Renderer`` for their quirks (AlterColumn has no generic
form). A renderer method marked ``@renders_operation(SomeOperation)`` returns the
statements of one operation, ``method(op, step)``: the class's
``implementations`` map operation classes to those methods (a subclass inherits
its bases' and overrides one by marking its own method for the same class), and
``statements`` looks an operation up along its class's MRO, never by name.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import registry
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.schema import (
    AddConstraint,
    CreateIndex,
    CreateTable,
    DropConstraint,
    DropIndex,
    DropTable,
    DropTableComment,
    SetColumnComment,
    SetTableComment,
)

from ..driver import PlanContext, Step
from ..errors import MigrationFailed
from ..schema import operations as ops
from ..schema.operations import AddColumn, AlterColumn, Operation
from ..schema.state import Check, Column, ForeignKey, Index, State, Table, Unique
from ..schema.transpile import NotFaithful, sqlglot_name, transpile
from ..schema.views import bodies_using, views_reading, views_using
from ..vocabulary.column_types import type_of
from ..vocabulary.kinds import kind_named, kind_of, register_kinds
from ..vocabulary.naming import enum_check_name


class Outside(str):
    """A statement a renderer returns that must run outside any transaction (an
    online plan's ``CREATE INDEX CONCURRENTLY``), with what to send before it is run
    again after an interruption left it half done (``repair``)."""

    repair: tuple[str, ...] = ()

    def __new__(cls, text: str, repair: tuple[str, ...] | list[str] = ()) -> Outside:
        made = super().__new__(cls, text)
        made.repair = tuple(repair)
        return made


def standard_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _decimal_text(col: Column) -> str | None:
    """A decimal column's default given as text (``"4.99"``) as a numeric literal,
    or None when it is no finite number written plainly."""
    if not isinstance(col.default, str):
        return None
    try:
        number = Decimal(col.default.strip())
    except InvalidOperation:
        return None
    return str(number) if number.is_finite() and "E" not in str(number) else None


def literal_compiler(base: type, renderer: Renderer) -> type:
    """The dialect's statement compiler, with every string literal SQLAlchemy
    writes (column comments, ``COMMENT ON``) made by ``renderer.literal``."""

    class LiteralCompiler(base):  # type: ignore[valid-type,misc]
        def render_literal_value(self, value: Any, type_: Any) -> str:
            if isinstance(value, str):
                return renderer.string_literal(value)
            return str(super().render_literal_value(value, type_))

    return LiteralCompiler


#: an implementation of one operation: ``method(renderer, op, step) -> statements``
Implementation = Callable[[Any, Any, Step], list[str]]
F = TypeVar("F", bound=Callable[..., list[str]])


def renders_operation(*op_classes: type[Operation]) -> Callable[[F], F]:
    """Mark a ``Renderer`` method as the implementation of ``op_classes`` (and of
    their subclasses that have none of their own): ``@renders_operation(AddColumn)``. The
    method is called as ``method(op, step)`` and returns the operation's
    statements. A subclass overrides an operation by marking its own method for
    the same class (calling the base's method with ``super()`` if it likes)."""
    for op_class in op_classes:
        if not (isinstance(op_class, type) and issubclass(op_class, Operation)):
            raise TypeError(f"@renders_operation takes operation classes, not {op_class!r}")

    def mark(method: F) -> F:
        marked: tuple[type[Operation], ...] = getattr(method, "_renders", ())
        method._renders = marked + op_classes  # type: ignore[attr-defined]
        return method

    return mark


class Renderer:
    dialect_name = "sqlite"
    #: operation class -> the method that renders it, built per class from its
    #: ``@renders_operation`` methods on top of its bases' (``__init_subclass__``)
    implementations: ClassVar[dict[type[Operation], Implementation]] = {}
    #: False: enums are strings with a named CHECK over their values (the driver's
    #: ``features.native_enum``, set by ``SqlDriver.renderer``)
    native_enum = False

    #: whether this renderer has lock-safe forms for ``context.online`` (a driver's
    #: renderer that has sets it; the default forms are rendered otherwise)
    online_forms: ClassVar[bool] = False

    def __init__(self, hook: Any = None) -> None:
        self.hook = hook
        self.facts: Any = None
        #: the plan's context (``PlanContext``), set by the session before rendering
        self.context = PlanContext()
        self.table_options: dict[str, Any] = {}  # SQLAlchemy Table kwargs (mysql_engine, mysql_collate...)
        # qmark: statements run without parameters, so a '%' in a literal stays one
        # '%' (the format paramstyles would double it in every literal SQLAlchemy writes)
        self.dialect: Dialect = registry.load(self.dialect_name)(paramstyle="qmark")
        self.dialect.statement_compiler = literal_compiler(type(self.dialect).statement_compiler, self)  # type: ignore[misc]
        # SQLAlchemy leaves a name bare when it matches ``^[A-Z0-9_$]+$``, and ``$``
        # matches before a trailing newline: "k\n" would be written bare, read as "k"
        self.dialect.identifier_preparer.legal_characters = re.compile(r"\A[A-Z0-9_$]+\Z", re.I)
        # the server's own keyword list: a name it reserves is always quoted
        preparer = self.dialect.identifier_preparer
        preparer.reserved_words = frozenset(preparer.reserved_words) | self.reserved_words  # type: ignore[misc]
        self._types: dict[Any, Any] = {}

    #: words the database reserves beyond SQLAlchemy's list for its dialect (lower
    #: case): a table, column, index or constraint so named is quoted (a driver's
    #: renderer extends it from its server's own keyword list)
    reserved_words: ClassVar[frozenset[str]] = frozenset()
    #: a rename of a column or table leaves the views that use it broken (MySQL and
    #: MariaDB keep the old name in a view's text): such a rename is refused from the
    #: live facts, naming the view; PostgreSQL and SQLite carry their views through
    renames_break_views: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._collect_implementations()

    @classmethod
    def _collect_implementations(cls) -> None:
        table: dict[type[Operation], Implementation] = {}
        for base in reversed(cls.__mro__[1:]):
            table.update(getattr(base, "implementations", {}))
        inherited = set(table.values())
        for attr, value in vars(cls).items():
            marked = getattr(value, "_renders", ())
            for op_class in marked:
                table[op_class] = value
            if not marked and callable(value):
                # a plain method that replaces a base's implementation would be
                # silently ignored by the dispatch: say so where it is written
                for base in cls.__mro__[1:]:
                    if getattr(base, attr, None) in inherited:
                        raise TypeError(
                            f"{cls.__qualname__}.{attr} overrides an operation's implementation: "
                            f"mark it @renders_operation(...) with the operation class(es) it renders"
                        )
        cls.implementations = table

    @classmethod
    def implementation(cls, op_class: type[Operation]) -> Implementation | None:
        """The method that renders ``op_class``: its own, else its nearest base
        class's along the MRO, else (the operation of a plugin's kind) the kind's
        ``render`` for this renderer's dialect; None when there is none."""
        for klass in op_class.__mro__:
            found = cls.implementations.get(klass)
            if found is not None:
                return found
        kind = kind_of(op_class)
        if kind is not None and not kind.builtin:
            return kind.render.get(cls.dialect_name)
        return None

    @classmethod
    def implements(cls, op_class: type[Operation]) -> bool:
        """Whether this renderer can render operations of ``op_class``."""
        return cls.implementation(op_class) is not None

    # ------------------------------------------------------------ names and types

    def q(self, name: str) -> str:
        return self.dialect.identifier_preparer.quote(name)

    def compile(self, ddl: Any) -> str:
        return str(ddl.compile(dialect=self.dialect)).strip()

    #: the driver's table from a state type to its DDL type: a function of the state
    #: Column that returns a SQLAlchemy type. A driver subclass extends it
    #: (``types = {**Renderer.types, "json": ...}``); a type it has no entry for
    #: renders through the type's own ``ddl`` for this dialect, else is refused at
    #: make time (``SqlDriver.type_refusal``).
    types: dict[str, Callable[[Column], Any]] = {
        "integer": lambda c: sa.Integer(),
        "bigInteger": lambda c: sa.BigInteger(),
        "smallInteger": lambda c: sa.SmallInteger(),
        "string": lambda c: sa.String(c.length),
        "text": lambda c: sa.Text(),
        "char": lambda c: sa.CHAR(c.length),
        "boolean": lambda c: sa.Boolean(create_constraint=False),
        "decimal": lambda c: sa.Numeric(c.precision, c.scale),
        "float": lambda c: sa.Float(),
        "double": lambda c: sa.Double(),
        "date": lambda c: sa.Date(),
        "time": lambda c: sa.Time(timezone=c.use_tz),
        "timestamp": lambda c: sa.DateTime(timezone=c.use_tz),
        "json": lambda c: sa.JSON(),
        "uuid": lambda c: sa.Uuid(),
        "binary": lambda c: sa.LargeBinary(),
        "enum": lambda c: sa.String(max(len(v) for v in c.values or ("",))),
    }

    @classmethod
    def renders(cls, type_name: str) -> bool:
        """Whether this renderer has a DDL type for ``type_name``: its own table or
        the registered type's ``ddl`` for this dialect (a type registered by name
        alone is a ``render_column`` hook's to answer, asked by make)."""
        return type_name in cls.types or cls.dialect_name in type_of(type_name).ddl

    def column_type(self, col: Column) -> Any:
        """The DDL type of ``col``: a ``render_column`` hook's answer, else the
        driver's table, else the registered type's own ``ddl`` for this dialect."""
        if self.hook is not None:
            answered = self.hook.render_column(column=col, dialect=self.dialect_name)
            if answered is not None:
                answered = answered.type if isinstance(answered, sa.Column) else answered
                return answered() if isinstance(answered, type) else answered
        make = self.types.get(col.type) or type_of(col.type).ddl.get(self.dialect_name)
        if make is None:
            raise MigrationFailed(f"column {col.name}: type {col.type!r} has no rendering for {self.dialect_name}")
        return self.collated(make(col), col)

    def collated(self, t: Any, col: Column) -> Any:
        """``t`` with the column's own collation (SQLAlchemy's string types carry one
        and quote it as the dialect does). A dialect with character sets, or whose
        compiler leaves the name bare (MySQL's), overrides it."""
        if col.collation is not None and hasattr(t, "collation"):
            t = t.copy() if hasattr(t, "copy") else t
            t.collation = col.collation
        return t

    def type_key(self, col: Column) -> Any:
        """What ``column_type`` may depend on: the whole column but its name and
        comment (the default with its Python type, so ``1`` and ``True`` differ).
        One type object then serves every column alike, and SQLAlchemy adapts it to
        the dialect once. None: made afresh for each column (enums and booleans are
        schema types, bound to one table). A renderer whose ``column_type`` reads
        the column's name or its own state returns None for those columns."""
        if col.type in ("enum", "boolean"):
            return None
        return (
            col.type,
            col.length,
            col.precision,
            col.scale,
            col.values,
            col.nullable,
            col.primary,
            col.autoincrement,
            col.use_tz,
            col.array,
            col.default_now,
            type(col.default),
            col.default,
            col.default_sql,
            col.collation,
            col.charset,
        )

    def sa_type(self, col: Column) -> Any:
        """``column_type(col)``, made once per ``type_key``."""
        key = self.type_key(col)
        if key is None:
            return self.column_type(col)
        known = self._types.get(key)
        if known is None:
            known = self._types[key] = self.column_type(col)
        return known

    def literal(self, value: str | int | float | bool) -> str:
        """``value`` as a SQL literal, written the way this renderer's session reads
        it. Every literal of every statement comes from here: defaults, backfills,
        enum values, comments (SQLAlchemy's too, through ``literal_compiler``) and
        the string constants of checks (``check_sql``). A dialect whose strings
        read backslashes (MySQL's default sql_mode) or cannot hold a character
        overrides ``string_literal``."""
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            if not math.isfinite(value):
                raise MigrationFailed(f"{value!r} has no SQL literal (a default or backfill must be a finite number)")
            return repr(value)
        return self.string_literal(value)

    def string_literal(self, value: str) -> str:
        """A standard SQL string: quotes doubled, every other character as it is."""
        return standard_string(value)

    def check_sql(self, expression: str) -> str:
        """A check's expression (dialect-neutral SQL: standard strings, double-quoted
        names) as this dialect reads it: each string constant is written again
        through ``string_literal`` and each double-quoted name through ``q``
        (``requote_names``); everything else is kept as written. sqlglot's
        generic tokenizer finds them."""
        from sqlglot.errors import SqlglotError
        from sqlglot.tokens import Tokenizer, TokenType

        try:
            tokens = Tokenizer().tokenize(expression)
        except (SqlglotError, ValueError) as exc:
            raise MigrationFailed(f"check expression {expression!r} cannot be read as SQL: {exc}") from None
        out: list[str] = []
        position = 0
        for token in tokens:
            if token.token_type == TokenType.STRING:
                text = self.string_literal(token.text)
            elif token.token_type == TokenType.NATIONAL_STRING:
                text = "N" + self.string_literal(token.text)
            elif token.token_type == TokenType.IDENTIFIER and self.requote_names:
                text = self.q(token.text)
            else:
                continue
            out.append(expression[position : token.start])
            out.append(text)
            position = token.end + 1
        out.append(expression[position:])
        return "".join(out)

    def model_sql(self, text: str, *, query: bool = False) -> str:
        """SQL text from the models (a generated column's expression, an index's
        predicate or expression, a view's SELECT; ``query``: a SELECT), written in
        the chain's ``sql_dialect`` (``context.sql_dialect``), as this dialect
        reads it (``schema.transpile``); make refuses what has no faithful form,
        so this fails only for a file edited by hand."""
        try:
            return transpile(text, self.context.sql_dialect, sqlglot_name(self.dialect_name), query=query)
        except NotFaithful as exc:
            raise MigrationFailed(f"model SQL {text!r}: {exc}") from None

    #: whether ``check_sql`` writes double-quoted names again with ``q`` (MySQL:
    #: a double-quoted word is a string there unless the sql_mode has ANSI_QUOTES)
    requote_names = False

    def now_default(self, col: Column) -> str:
        return "CURRENT_TIMESTAMP"

    #: whether an expression default is written in parentheses, ``DEFAULT (uuid())``
    #: (MySQL 8, MariaDB and SQLite take a function call only so)
    parenthesized_defaults = False

    def expression_default(self, col: Column) -> str:
        """A column's ``default_sql`` written for this dialect (``model_sql``)."""
        text = self.model_sql(str(col.default_sql))
        return f"({text})" if self.parenthesized_defaults else text

    def server_default(self, col: Column) -> Any:
        if col.default_sql is not None:
            return sa.text(self.expression_default(col))
        if col.default_now:
            return sa.text(self.now_default(col))
        if col.default is None:
            return None
        number = _decimal_text(col) if type_of(col.type).state == "decimal" else None
        if number is not None:  # a decimal's default is a number, not a string the database converts
            return sa.literal_column(number)
        return sa.literal_column(self.literal(col.default))

    def sa_column(self, col: Column) -> sa.Column[Any]:
        """A state Column as a SQLAlchemy Column (the driver's render_column)."""
        computed = [] if col.generated is None else [self.computed(col)]
        return sa.Column(
            col.name,
            self.sa_type(col),
            *computed,
            nullable=col.nullable,
            primary_key=col.primary,
            autoincrement=col.autoincrement if col.primary else False,
            server_default=self.server_default(col),
            comment=col.comment,
        )

    def computed(self, col: Column) -> sa.Computed:
        """A generated column's ``GENERATED ALWAYS AS (...) STORED|VIRTUAL``, its
        expression written for this dialect (``model_sql``)."""
        return sa.Computed(sa.text(self.model_sql(str(col.generated))), persisted=col.stored)

    def column(self, col: Column) -> sa.Column[Any]:
        """The column the core builds on every path: its type from ``column_type``
        (where a plugin's ``render_column`` answers), nullability, default and
        comment from the state."""
        return self.sa_column(col)

    # ------------------------------------------------------------ tables

    def _stub(self, md: sa.MetaData, name: str, columns: tuple[str, ...]) -> sa.Table:
        if name in md.tables:
            t = md.tables[name]
            for c in columns:
                if c not in t.c:
                    t.append_column(sa.Column(c, sa.Integer()))
            return t
        return sa.Table(name, md, *[sa.Column(c, sa.Integer()) for c in columns])

    def fk_constraint(self, fk: ForeignKey) -> sa.ForeignKeyConstraint:
        return sa.ForeignKeyConstraint(
            list(fk.columns),
            [f"{fk.ref_table}.{c}" for c in fk.ref_columns],
            name=fk.name,
            ondelete=fk.on_delete,
            onupdate=fk.on_update,
            deferrable=True if fk.deferrable else None,
            initially="DEFERRED" if fk.initially == "deferred" else None,
        )

    def check_constraint(self, ck: Check, own: bool = False) -> sa.CheckConstraint:
        """A check of the models: written in the chain's declared ``sql_dialect``,
        transpiled for this dialect (``model_sql``); undeclared (standard SQL) or
        ``own`` (a check the renderer makes, an enum's), through ``check_sql``."""
        text = self.model_sql(ck.expression) if self.context.sql_dialect and not own else self.check_sql(ck.expression)
        return sa.CheckConstraint(sa.literal_column(text), name=ck.name)

    def unique_constraint(self, uq: Unique) -> sa.UniqueConstraint:
        return sa.UniqueConstraint(*uq.columns, name=uq.name)

    def enum_checks(self, table: Table) -> list[Check]:
        """The CHECKs that hold enum values where the database has no enum type."""
        if self.native_enum:
            return []
        out = []
        for c in table.columns:
            if c.type == "enum" and c.values:
                values = ", ".join(standard_string(v) for v in c.values)  # check_sql renders them
                out.append(Check(enum_check_name(table.name, c.name), f"{self.q(c.name)} IN ({values})"))
        return out

    def sa_table(self, table: Table, md: sa.MetaData | None = None, name: str | None = None) -> sa.Table:
        md = md or sa.MetaData()
        for fk in table.foreign_keys:
            if fk.ref_table != (name or table.name):  # a rebuild's copy references the table it replaces
                self._stub(md, fk.ref_table, fk.ref_columns)
        items: list[Any] = [self.column(c) for c in table.columns]
        items += [self.unique_constraint(uq) for uq in table.uniques]
        items += [self.fk_constraint(fk) for fk in table.foreign_keys]
        items += [self.check_constraint(ck) for ck in table.checks]
        # an enum's check is named after the table, not a temp name
        items += [self.check_constraint(ck, own=True) for ck in self.enum_checks(table)]
        if table.primary_name is not None or any(
            c.primary_position is not None or c.primary_length is not None for c in table.columns
        ):
            # PRIMARY KEY (b, a) over columns a, b; a prefix's length for the dialect's compiler (MySQL's);
            # CONSTRAINT pk_users PRIMARY KEY (...)
            lengths = {c.name: c.primary_length for c in table.columns if c.primary_length is not None}
            items.append(
                sa.PrimaryKeyConstraint(*table.primary_key, name=table.primary_name, info={"lengths": lengths})
            )
        return sa.Table(name or table.name, md, *items, comment=table.comment, **self.table_options)

    def sa_index(self, table: sa.Table, ix: Index) -> sa.Index:
        """The index: its key parts in order (a column, or a model SQL expression
        written for this dialect, in parentheses; DESC where said), with the
        dialect's own options (``index_kwargs``)."""
        key: list[Any] = []
        columns = 0
        for i, (text, is_expression) in enumerate(ix.parts):
            if is_expression:
                part: Any = sa.text(f"({self.model_sql(text)})")
            else:
                length = ix.lengths[columns] if ix.lengths else None
                part = self.index_column(table.c[text], length)
                columns += 1
            key.append(sa.desc(part) if i in ix.descending else part)
        return sa.Index(ix.name, *key, unique=ix.unique, _table=table, **self.index_kwargs(table, ix))

    def index_column(self, column: sa.Column[Any], length: int | None) -> Any:
        """One column of an index's key, with its prefix length (refused at make time
        where the driver has none, ``SqlDriver.index_options``)."""
        return column

    def index_kwargs(self, table: sa.Table, ix: Index) -> dict[str, Any]:
        """The dialect's keyword arguments of ``sa.Index`` for ``ix``'s options
        (``postgresql_where``, ``mysql_length``...). The driver refuses at make time
        what it has not (``SqlDriver.index_options``); default: none."""
        return {}

    def index_where(self, ix: Index) -> Any:
        """A partial index's predicate written for this dialect (None: none)."""
        return None if ix.where is None else sa.text(self.model_sql(ix.where))

    def comment_statements(self, t: sa.Table) -> list[str]:
        if not self.dialect.supports_comments or self.dialect.inline_comments:
            return []
        table = [self.compile(SetTableComment(t))] if t.comment else []
        return table + [self.compile(SetColumnComment(c)) for c in t.columns if c.comment]

    def table_comment(self, table: str, comment: str | None) -> list[str]:
        """The statements that set (or, with None, remove) a table's comment."""
        if not self.dialect.supports_comments:
            return []
        t = sa.Table(table, sa.MetaData(), comment=comment)
        return [self.compile(SetTableComment(t) if comment is not None else DropTableComment(t))]

    def create_table(self, table: Table, name: str | None = None) -> list[str]:
        t = self.sa_table(table, name=name)
        out = [self.compile(CreateTable(t))]
        out += [self.compile(CreateIndex(self.sa_index(t, ix))) for ix in table.indexes]
        return out + self.comment_statements(t) + self.member_statements(table, name)

    def member_statements(self, table: Table, name: str | None = None) -> list[str]:
        """The statements that add a created table's values of a plugin's kinds (a
        table made again by a rollback or a rebuild holds them): each through its
        kind's add operation, rendered as that operation is."""
        out: list[str] = []
        for kind_name, values in table.extra_members:
            kind = kind_named(kind_name)
            if kind is None and self.hook is not None:
                register_kinds(self.hook.kinds())
                kind = kind_named(kind_name)
            if kind is None:
                raise MigrationFailed(
                    f"{self.dialect_name}: table {table.name!r} holds {kind_name!r} values, a kind no plugin "
                    "of this process registers"
                )
            for value in values:
                op = kind.add(name or table.name, value)
                out += self.render(op, Step(op, State(), State()))
        return out

    # ------------------------------------------------------------ operations

    @property
    def online(self) -> bool:
        """Whether the lock-safe forms are rendered (the context asks, and this renderer has them)."""
        return self.online_forms and self.context.online

    def settings(self) -> list[str]:
        """The session settings an online plan starts with (the timeouts of
        ``context``), rendered for the server. Default: none."""
        return []

    def settings_reset(self) -> list[str]:
        """What an online plan ends with: the session's settings as they were, so a
        migration after it in the same run is not bound by them. Default: none."""
        return []

    def statements(self, step: Step, facts: Any = None) -> list[str]:
        """The statements of one step. ``facts`` is what the session read of the live
        database before the migration; a renderer may keep it up to date as it goes."""
        self.facts = facts
        return self.render(step.op, step)

    def render(self, op: Any, step: Step) -> list[str]:
        """The statements of ``op`` (the step's operation, or one a renderer builds
        on the way), through this renderer's implementation of its class."""
        op_class = type(op)
        method = self.implementation(op_class)
        if method is None:
            raise MigrationFailed(
                f"{self.dialect_name}: renderer {type(self).__module__}.{type(self).__qualname__} has no "
                f"implementation of operation {op_class.__module__}.{op_class.__qualname__}"
            )
        return method(self, op, step)

    @renders_operation(ops.CreateTable)
    def op_create_table(self, op: Any, step: Step) -> list[str]:
        return self.create_table(op.table)

    @renders_operation(ops.DropTable)
    def op_drop_table(self, op: Any, step: Step) -> list[str]:
        views = views_reading(self.facts, op.table.name)
        if views:  # the same refusal on every database, from the live facts
            raise MigrationFailed(
                f"cannot drop table {op.table.name}: view {views[0]} uses it; drop or change the view first "
                "(RunSQL in an earlier migration), then drop the table"
            )
        return [self.compile(DropTable(sa.Table(op.table.name, sa.MetaData())))]

    @renders_operation(ops.RenameTable)
    def op_rename_table(self, op: Any, step: Step) -> list[str]:
        self.refuse_breaking_rename(op.old, None, op.new)
        return [f"ALTER TABLE {self.q(op.old)} RENAME TO {self.q(op.new)}"]

    def column_spec(self, table: str, col: Column) -> str:
        t = sa.Table(table, sa.MetaData(), self.column(col))
        return self.dialect.ddl_compiler(self.dialect, None).get_column_specification(t.c[col.name])

    @renders_operation(ops.AddColumn)
    def op_add_column(self, op: Any, step: Step) -> list[str]:
        if self.backfilled(op):
            return self.add_with_backfill(op, step)
        out = [f"ALTER TABLE {self.q(op.table)} ADD COLUMN {self.column_spec(op.table, op.column)}"]
        if op.column.comment:
            t = sa.Table(op.table, sa.MetaData(), self.column(op.column))
            out += self.comment_statements(t)
        return out

    @staticmethod
    def backfilled(op: Any) -> bool:
        """An AddColumn that fills the existing rows with its one-off ``backfill``."""
        return getattr(op, "backfill", None) is not None and not op.column.nullable

    def add_with_backfill(self, op: Any, step: Step) -> list[str]:
        """Add the column as NULL, fill every row with the backfill, then make it NOT
        NULL (through the driver's own AlterColumn): the column keeps no default."""
        loose = replace(op.column, nullable=True)
        add = AddColumn(op.table, loose)
        middle = add.state_forwards(step.before)
        out = self.render(add, Step(add, step.before, middle))
        out.append(f"UPDATE {self.q(op.table)} SET {self.q(loose.name)} = {self.literal(op.backfill)}")
        alter = AlterColumn(op.table, loose, op.column)
        return out + self.render(alter, Step(alter, middle, step.after))

    def refuse_view_dependents(self, table: str, column: str) -> None:
        """A column that a view uses is never dropped (the view would break): the
        same refusal on every database, from the live facts."""
        views = views_using(self.facts, table, column)
        if views:
            raise MigrationFailed(
                f"cannot drop column {table}.{column}: view {views[0]} uses it; drop or change the view first "
                "(RunSQL in an earlier migration), then drop the column"
            )
        users = bodies_using(self.facts, table, column)
        if users:
            raise MigrationFailed(
                f"cannot drop column {table}.{column}: {users[0]} uses it in its body; change or drop it first "
                "(RunSQL in an earlier migration), then drop the column"
            )

    #: whether the database rewrites trigger bodies when a column is renamed (SQLite
    #: does); otherwise a rename of a column a trigger or function body uses is refused
    renames_rewrite_bodies = False

    def refuse_breaking_body_rename(self, table: str, column: str, new: str) -> None:
        """A column a trigger's or function's body names is not renamed under it
        (the body keeps the old name): refused before any statement, naming it."""
        if self.renames_rewrite_bodies:
            return
        users = bodies_using(self.facts, table, column)
        if users:
            raise MigrationFailed(
                f"cannot rename column {table}.{column} to {new}: {users[0]} uses it in its body, which the "
                "database does not rewrite; drop it (RunSQL) before the rename and create it again after, "
                "in the same migration"
            )

    @renders_operation(ops.DropColumn)
    def op_drop_column(self, op: Any, step: Step) -> list[str]:
        self.refuse_view_dependents(op.table, op.column.name)
        return [f"ALTER TABLE {self.q(op.table)} DROP COLUMN {self.q(op.column.name)}"]

    def refuse_breaking_rename(self, table: str, column: str | None, new: str) -> None:
        """A rename that would leave a view broken (``renames_break_views``) is
        refused before any statement is sent, naming the view (from the live facts)."""
        if not self.renames_break_views:
            return
        views = views_using(self.facts, table, column) if column is not None else views_reading(self.facts, table)
        if views:
            what = f"column {table}.{column}" if column is not None else f"table {table}"
            raise MigrationFailed(
                f"cannot rename {what} to {new}: view {views[0]} uses it and the database would leave the view "
                "broken; drop the view (RunSQL) before the rename and create it again after, in the same migration"
            )

    @renders_operation(ops.RenameColumn)
    def op_rename_column(self, op: Any, step: Step) -> list[str]:
        self.refuse_breaking_rename(op.table, op.old, op.new)
        self.refuse_breaking_body_rename(op.table, op.old, op.new)
        return [f"ALTER TABLE {self.q(op.table)} RENAME COLUMN {self.q(op.old)} TO {self.q(op.new)}"]

    def _bound_index(self, table: str, ix: Index) -> sa.Index:
        t = self._stub(sa.MetaData(), table, tuple(dict.fromkeys((*ix.columns, *ix.include))))
        return self.sa_index(t, ix)

    @renders_operation(ops.CreateIndex)
    def op_create_index(self, op: Any, step: Step) -> list[str]:
        return [self.compile(CreateIndex(self._bound_index(op.table, op.index)))]

    @renders_operation(ops.DropIndex)
    def op_drop_index(self, op: Any, step: Step) -> list[str]:
        return [self.compile(DropIndex(self._bound_index(op.table, op.index)))]

    def _bound_fk(self, table: str, fk: ForeignKey) -> sa.ForeignKeyConstraint:
        md = sa.MetaData()
        self._stub(md, fk.ref_table, fk.ref_columns)
        t = self._stub(md, table, fk.columns)
        c = self.fk_constraint(fk)
        t.append_constraint(c)
        return c

    @renders_operation(ops.AddForeignKey)
    def op_add_foreign_key(self, op: Any, step: Step) -> list[str]:
        return [self.compile(AddConstraint(self._bound_fk(op.table, op.foreign_key)))]

    @renders_operation(ops.DropForeignKey)
    def op_drop_foreign_key(self, op: Any, step: Step) -> list[str]:
        return [self.compile(DropConstraint(self._bound_fk(op.table, op.foreign_key)))]

    def _bound_check(self, table: str, ck: Check) -> sa.CheckConstraint:
        t = sa.Table(table, sa.MetaData())
        c = self.check_constraint(ck)
        t.append_constraint(c)
        return c

    @renders_operation(ops.AddCheck)
    def op_add_check(self, op: Any, step: Step) -> list[str]:
        return [self.compile(AddConstraint(self._bound_check(op.table, op.check)))]

    @renders_operation(ops.DropCheck)
    def op_drop_check(self, op: Any, step: Step) -> list[str]:
        return [self.compile(DropConstraint(self._bound_check(op.table, op.check)))]

    def _bound_unique(self, table: str, uq: Unique) -> sa.UniqueConstraint:
        t = self._stub(sa.MetaData(), table, uq.columns)
        c = self.unique_constraint(uq)
        t.append_constraint(c)
        return c

    @renders_operation(ops.AddUnique)
    def op_add_unique(self, op: Any, step: Step) -> list[str]:
        return [self.compile(AddConstraint(self._bound_unique(op.table, op.unique)))]

    @renders_operation(ops.DropUnique)
    def op_drop_unique(self, op: Any, step: Step) -> list[str]:
        return [self.compile(DropConstraint(self._bound_unique(op.table, op.unique)))]

    # ------------------------------------------------------------ views the models declare

    def view_sql(self, view: Any) -> str:
        """``CREATE [MATERIALIZED] VIEW name AS <the SELECT in this dialect>``."""
        kind = "MATERIALIZED VIEW" if view.materialized else "VIEW"
        return f"CREATE {kind} {self.q(view.name)} AS {self.model_sql(view.select, query=True)}"

    def drop_view_sql(self, view: Any) -> str:
        return f"DROP {'MATERIALIZED VIEW' if view.materialized else 'VIEW'} {self.q(view.name)}"

    def view_created(self, name: str, sql: str) -> None:
        """Keep the live facts up to date: view ``name`` now exists (``sql`` creates it)."""
        views = getattr(self.facts, "views", None)
        if views is not None and hasattr(views, "add_sql"):
            views.uses = {u for u in views.uses if u[0] != name}
            views.add_sql(name, sql, sqlglot_name(self.dialect_name))

    def view_dropped(self, name: str) -> None:
        """Keep the live facts up to date: view ``name`` is gone (a later drop of a
        column it used is no longer refused)."""
        views = getattr(self.facts, "views", None)
        if views is not None and hasattr(views, "uses"):
            views.uses = {u for u in views.uses if u[0] != name}

    @renders_operation(ops.CreateView)
    def op_create_view(self, op: Any, step: Step) -> list[str]:
        sql = self.view_sql(op.view)
        self.view_created(op.view.name, sql)
        return [sql]

    @renders_operation(ops.DropView)
    def op_drop_view(self, op: Any, step: Step) -> list[str]:
        self.view_dropped(op.view.name)
        return [self.drop_view_sql(op.view)]

    @renders_operation(ops.ReplaceView)
    def op_replace_view(self, op: Any, step: Step) -> list[str]:
        """Dropped and created again (CREATE OR REPLACE cannot change a view's columns
        on PostgreSQL; the diff drops the views that read this one first)."""
        sql = self.view_sql(op.new)
        self.view_dropped(op.old.name)
        self.view_created(op.new.name, sql)
        return [self.drop_view_sql(op.old), sql]

    @renders_operation(ops.SetTableComment)
    def op_set_table_comment(self, op: Any, step: Step) -> list[str]:
        return self.table_comment(op.table, op.new)

    @renders_operation(ops.SetTableOptions)
    def op_set_table_options(self, op: Any, step: Step) -> list[str]:
        """Options are a dialect's own (refused at make time where it has none)."""
        if op.old == op.new:
            return []
        raise MigrationFailed(f"{self.dialect_name}: table {op.table} has options {dict(op.new)} it cannot hold")

    @renders_operation(ops.AddPartition)
    def op_add_partition(self, op: Any, step: Step) -> list[str]:
        """Partitions are a dialect's own (refused at make time where it has none)."""
        raise MigrationFailed(f"{self.dialect_name}: table {op.table} is partitioned, which it cannot hold")

    @renders_operation(ops.DropPartition)
    def op_drop_partition(self, op: Any, step: Step) -> list[str]:
        raise MigrationFailed(f"{self.dialect_name}: table {op.table} is partitioned, which it cannot hold")

    @renders_operation(ops.ChangePartition)
    def op_change_partition(self, op: Any, step: Step) -> list[str]:
        raise MigrationFailed(f"{self.dialect_name}: table {op.table} is partitioned, which it cannot hold")

    def partition_members_sql(self, partition: str, indexes: Any = (), foreign_keys: Any = ()) -> list[str]:
        """CREATE INDEX on, and ALTER TABLE ADD CONSTRAINT (foreign key) of, a
        partition (a table of its own name): for a dialect that has partitions."""
        out = [self.compile(CreateIndex(self._bound_index(partition, ix))) for ix in indexes]
        return out + [self.compile(AddConstraint(self._bound_fk(partition, fk))) for fk in foreign_keys]

    def partition_members_dropped(self, partition: str, indexes: Any = (), foreign_keys: Any = ()) -> list[str]:
        """The foreign keys of a partition dropped, then its indexes."""
        out = [self.compile(DropConstraint(self._bound_fk(partition, fk))) for fk in foreign_keys]
        return out + [self.compile(DropIndex(self._bound_index(partition, ix))) for ix in indexes]

    @renders_operation(ops.RunSQL)
    def op_run_sql(self, op: Any, step: Step) -> list[str]:
        return op.statements


Renderer._collect_implementations()  # the base's own: a subclass builds on them as it is defined

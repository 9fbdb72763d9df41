"""The models the conformance scenarios migrate, as the source of a models module.

``V1``/``V2``: the full fixture schema (every column type and option, composite
and unique indexes, named foreign keys with actions, checks) and its rework (a
table rename, a column rename, alterations of every kind, added and dropped
columns, indexes, foreign keys and checks). ``GADGETS`` and its variants: one
kind of change at a time, so that a driver lacking a feature skips only the
scenario that needs it.
"""

from __future__ import annotations

import ast

from ..driver import Features

IMPORTS = "from modelmig_core import Model, check, column, foreign_key, index, relation, unique\n\n"

V1 = """
class Author(Model):
    table = "authors"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "name": column("string", 100, comment="display name"),
        "is_active": column("boolean", default=True),
        "is_admin": column("boolean", default=False),
        "score": column("decimal", (10, 3), default="1.500"),
        "rating": column("float", nullable=True),
        "weight": column("double", nullable=True),
        "born": column("date", nullable=True),
        "wakes": column("time", nullable=True),
        "age": column("smallInteger", nullable=True),
        "views": column("bigInteger", default=0),
        "counter": column("integer", default=0),
        "bio": column("text", nullable=True),
        "meta": column("json", nullable=True),
        "token": column("uuid"),
        "avatar": column("binary", nullable=True),
        "role": column("enum", ["admin", "editor", "viewer"], default="viewer"),
        "legacy_code": column("string", 20, nullable=True),
        "nickname": column("string", 50, nullable=True, index=True),
        "created_at": column("timestamp", use_tz=True),
        "updated_at": column("timestamp"),
        "published_at": column("timestamp", use_tz=True, default_now=False),
        "deleted_at": column("softDeletes", use_tz=True),
        "posts": relation("hasMany", "Post", foreign_key="author_id"),
    }
    database = {"checks": [check("views >= 0", name="ck_authors_views")]}


class Post(Model):
    table = "posts"
    schema = {
        "id": column("bigIncrements"),
        "author_id": column("integer"),
        "editor_id": column("integer", nullable=True),
        "title": column("string", 200),
        "slug": column("string", 64),
        "body": column("text", nullable=True),
        "status": column("enum", ["draft", "published"], default="draft"),
    }
    database = {
        "foreign_keys": [
            foreign_key("author_id", "authors", "id", name="fk_posts_author", on_delete="cascade", on_update="cascade"),
            foreign_key("editor_id", "authors", "id", name="fk_posts_editor", on_delete="set null"),
        ],
        "unique": [unique(["author_id", "slug"], name="uq_posts_author_slug")],
        "indexes": [index(["author_id", "title"], name="ix_posts_author_title")],
        "checks": [check("length(title) > 0", name="ck_posts_title")],
    }


class Tag(Model):
    table = "tags"
    schema = {"id": column("increments"), "label": column("string", 50, unique=True)}


class PostTag(Model):
    table = "post_tag"
    schema = {
        "post_id": column("bigInteger", primary=True),
        "tag_id": column("integer", primary=True),
    }
    database = {
        "foreign_keys": [
            foreign_key("post_id", "posts", "id", name="fk_post_tag_post", on_delete="cascade"),
            foreign_key("tag_id", "tags", "id", name="fk_post_tag_tag", on_delete="restrict"),
        ],
        "indexes": [index("tag_id", name="ix_post_tag_tag")],
    }
"""

# v2: a table rename, a column rename, alterations of every kind, added and
# dropped columns, indexes, foreign keys and checks
V2 = """
class Writer(Model):
    table = "writers"
    renamed_from = "authors"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "name": column("string", 150, comment="full name"),
        "is_active": column("boolean", default=False),
        "is_admin": column("boolean", default=False),
        "score": column("decimal", (12, 4), nullable=True),
        "rating": column("float", nullable=True),
        "weight": column("double", nullable=True),
        "born": column("date", nullable=True),
        "wakes": column("time", nullable=True),
        "age": column("integer", nullable=True),
        "views": column("bigInteger", default=0),
        "counter": column("bigInteger", default=5),
        "bio": column("text"),
        "meta": column("json", nullable=True),
        "token": column("uuid"),
        "role": column("enum", ["admin", "editor", "viewer", "guest"], default="guest"),
        "legacy_code": column("integer", nullable=True),
        "nickname": column("string", 50, nullable=True),
        "website": column("string", 200, nullable=True),
        "level": column("integer", default=1),
        "created_at": column("timestamp", use_tz=True),
        "updated_at": column("timestamp", use_tz=True),
        "published_at": column("timestamp", use_tz=True, default_now=False),
        "deleted_at": column("softDeletes", use_tz=True),
    }
    database = {"checks": [check("counter >= 0", name="ck_writers_counter")]}


class Post(Model):
    table = "posts"
    schema = {
        "id": column("bigIncrements"),
        "author_id": column("integer"),
        "editor_id": column("integer", nullable=True),
        "title": column("string", 200),
        "slug": column("string", 64),
        "content": column("text", nullable=True, renamed_from="body"),
        "status": column("string", 20, default="draft"),
    }
    database = {
        "foreign_keys": [
            foreign_key("author_id", "writers", "id", name="fk_posts_author", on_delete="cascade", on_update="cascade"),
            foreign_key("editor_id", "writers", "id", name="fk_posts_editor", on_delete="cascade"),
        ],
        "unique": [
            unique(["author_id", "slug"], name="uq_posts_author_slug"),
            unique("slug", name="uq_posts_slug"),
        ],
        "indexes": [index("title", name="ix_posts_title")],
        "checks": [check("length(title) > 1", name="ck_posts_title")],
    }


class Tag(Model):
    table = "tags"
    schema = {
        "id": column("increments"),
        "label": column("string", 50, unique=True),
        "color": column("enum", ["red", "green"], nullable=True),
    }


class PostTag(Model):
    table = "post_tag"
    schema = {
        "post_id": column("bigInteger", primary=True),
        "tag_id": column("integer", primary=True),
    }
    database = {
        "foreign_keys": [
            foreign_key("post_id", "posts", "id", name="fk_post_tag_post", on_delete="cascade"),
            foreign_key("tag_id", "tags", "id", name="fk_post_tag_tag", on_delete="restrict"),
        ],
        "indexes": [index("tag_id", name="ix_post_tag_tag")],
    }
"""

GADGETS = """
class Gadget(Model):
    table = "gadgets"
    schema = {
        "id": column("increments"),
        "code": column("string", 20, unique=True),
        "name": column("string", 100, comment="display name"),
        "price": column("decimal", (10, 2), default="1.50"),
        "legacy_code": column("string", 20, nullable=True),
        "kind": column("enum", ["a", "b"], default="a"),
        "flag": column("boolean", default=False),
        "notes": column("text", nullable=True),
        "weight": column("float", nullable=True),
        "size": column("smallInteger", nullable=True, index=True),
        "obsolete": column("string", 10, nullable=True),
    }


class Widget(Model):
    table = "widgets"
    schema = {"id": column("increments"), "gadget_id": column("integer", nullable=True), "label": column("string", 50)}


class Scrap(Model):
    table = "scraps"
    schema = {"id": column("increments"), "note": column("string", 50, nullable=True)}
"""

# added and dropped columns, tables and indexes
GADGETS_ADD_DROP = """
class Gadget(Model):
    table = "gadgets"
    schema = {
        "id": column("increments"),
        "code": column("string", 20, unique=True),
        "name": column("string", 100, comment="display name"),
        "price": column("decimal", (10, 2), default="1.50"),
        "legacy_code": column("string", 20, nullable=True),
        "kind": column("enum", ["a", "b"], default="a"),
        "flag": column("boolean", default=False),
        "notes": column("text", nullable=True),
        "weight": column("float", nullable=True),
        "size": column("smallInteger", nullable=True),
        "extra": column("string", 30, nullable=True),
        "rank": column("integer", nullable=True, default=7),
    }
    database = {"indexes": [index(["name", "code"], name="ix_gadgets_name_code")]}


class Widget(Model):
    table = "widgets"
    schema = {
        "id": column("increments"),
        "gadget_id": column("integer", nullable=True),
        "label": column("string", 50),
        "level": column("integer", nullable=True, default=1),
        "stamp": column("timestamp", nullable=True),
    }


class Part(Model):
    table = "parts"
    schema = {
        "id": column("bigIncrements"),
        "label": column("string", 50, unique=True),
        "qty": column("integer", default=0),
    }
"""

# NOT NULL columns (with defaults) added to tables with a primary key and indexes
GADGETS_NOT_NULL = GADGETS.replace(
    '"obsolete": column("string", 10, nullable=True),',
    '"obsolete": column("string", 10, nullable=True),\n        "rank": column("integer", default=7),',
).replace(
    '"label": column("string", 50)}',
    '"label": column("string", 50), "level": column("integer", default=1), "stamp": column("timestamp")}',
)

# a table rename and a column rename
GADGETS_RENAMED = GADGETS.replace('table = "gadgets"', 'table = "devices"\n    renamed_from = "gadgets"').replace(
    '"name": column("string", 100, comment="display name")',
    '"title": column("string", 100, comment="display name", renamed_from="name")',
)

# alterations of type, length, precision, nullability, default, enum values and comment
GADGETS_ALTERED = """
class Gadget(Model):
    table = "gadgets"
    schema = {
        "id": column("increments"),
        "code": column("string", 20, unique=True),
        "name": column("string", 150, comment="full name"),
        "price": column("decimal", (12, 4), nullable=True),
        "legacy_code": column("integer", nullable=True),
        "kind": column("enum", ["a", "b", "c"], default="c"),
        "flag": column("boolean", default=True),
        "notes": column("text"),
        "weight": column("double", nullable=True),
        "size": column("smallInteger", nullable=True, index=True),
        "obsolete": column("string", 10, nullable=True),
    }


class Widget(Model):
    table = "widgets"
    schema = {"id": column("increments"), "gadget_id": column("integer", nullable=True), "label": column("string", 50)}


class Scrap(Model):
    table = "scraps"
    schema = {"id": column("increments"), "note": column("string", 50, nullable=True)}
"""

# a foreign key and a check added to existing tables
GADGETS_CONSTRAINED = GADGETS.replace(
    '"obsolete": column("string", 10, nullable=True),\n    }',
    '"obsolete": column("string", 10, nullable=True),\n    }\n'
    '    database = {"checks": [check("price >= 0", name="ck_gadgets_price")]}',
).replace(
    '"label": column("string", 50)}',
    '"label": column("string", 50)}\n'
    '    database = {"foreign_keys": [foreign_key("gadget_id", "gadgets", "id", name="fk_widgets_gadget")]}',
)

# one more table: a second migration that every driver can run
EXTRA_TABLE = """
class Note(Model):
    table = "notes"
    schema = {"id": column("increments"), "body": column("text", nullable=True), "at": column("timestamp")}
    database = {"indexes": [index("at", name="ix_notes_at")]}
"""

# the behaviour probes' tables: what a driver promises is checked with rows
PROBES = """
class Probe(Model):
    table = "probes"
    schema = {
        "id": column("increments"),
        "code": column("string", 20, unique=True),
        "label": column("string", 10),
        "qty": column("integer", default=7),
        "kind": column("string", 10, default="plain"),
        "flag": column("boolean", default=False),
        "amount": column("integer", nullable=True),
    }


class ProbeChild(Model):
    table = "probe_children"
    schema = {"id": column("increments"), "probe_id": column("integer")}
    database = {"foreign_keys": [foreign_key("probe_id", "probes", "id", name="fk_probe_children_probe")]}
"""

# an integer narrowed to a small integer: 70000 does not fit
PROBES_NARROWED = PROBES.replace(
    '"amount": column("integer", nullable=True)', '"amount": column("smallInteger", nullable=True)'
)

#: what the fixtures use that a driver may declare it lacks, and what is then left out of them
LEFT_OUT = {
    "foreign_keys": "foreign keys",
    "unique_constraints": "unique keys",
    "increments": "auto-increment keys (plain integer keys instead)",
    "check_constraints": "checks",
    "fk_actions": "foreign key actions",
}


def left_out(features: Features, column_comments: bool = True) -> list[str]:
    """What the fixtures leave out for a driver with ``features`` (and, with
    ``column_comments`` false, a database without column comments), in words."""
    out = [f"{words} ({flag}=False)" for flag, words in LEFT_OUT.items() if not getattr(features, flag)]
    return out + ([] if column_comments else ["column comments (column_comments=False)"])


class _Adapt(ast.NodeTransformer):
    """The fixture models without what a driver declares it lacks."""

    def __init__(self, features: Features, column_comments: bool) -> None:
        self.f = features
        self.column_comments = column_comments

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        drop: set[str] = set()
        if name == "column":
            first = node.args[0] if node.args else None
            kind = first.value if isinstance(first, ast.Constant) else None
            if not self.f.increments and kind in ("increments", "bigIncrements"):
                node.args[0] = ast.Constant("integer" if kind == "increments" else "bigInteger")
                node.keywords.append(ast.keyword("primary", ast.Constant(True)))
            if not self.f.unique_constraints:
                drop.add("unique")
            if not self.column_comments:
                drop.add("comment")
        elif name == "foreign_key" and not self.f.fk_actions:
            drop |= {"on_delete", "on_update"}
        node.keywords = [k for k in node.keywords if k.arg not in drop]
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        lacking = {
            "foreign_keys": not self.f.foreign_keys,
            "unique": not self.f.unique_constraints,
            "checks": not self.f.check_constraints,
        }
        kept = [
            (k, v)
            for k, v in zip(node.keys, node.values, strict=True)
            if not (isinstance(k, ast.Constant) and lacking.get(k.value, False))
        ]
        node.keys = [k for k, _ in kept]
        node.values = [v for _, v in kept]
        return node


def adapted(source: str, features: Features, column_comments: bool = True) -> str:
    """``source`` as a models module a driver can create: without the foreign keys,
    unique keys, checks, foreign key actions and column comments it declares it
    lacks, and with plain integer keys where it has no auto-increment keys
    (``left_out`` says which)."""
    tree = _Adapt(features, column_comments).visit(ast.parse(IMPORTS + source))
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"

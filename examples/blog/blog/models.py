"""The blog's models: users, posts, comments, tags and the post_tag pivot table (SQL),
and the activity log (MongoDB)."""

from modelmig_core import Model, check, column, foreign_key, index, relation, unique


class User(Model):
    table = "users"
    schema = {
        "id": column("increments"),
        "email": column("string", 191, unique=True),
        "name": column("string", 100),
        "is_admin": column("boolean", default=False),
        "created_at": column("timestamp", use_tz=True),
        "updated_at": column("timestamp", use_tz=True),
        "posts": relation("hasMany", "Post", foreign_key="user_id"),
    }


class Post(Model):
    table = "posts"
    schema = {
        "id": column("increments"),
        "user_id": column("integer"),
        "title": column("string", 200),
        "body": column("text", nullable=True),
        "status": column("enum", ["draft", "published", "archived"], default="draft"),
        "created_at": column("timestamp", use_tz=True),
        "updated_at": column("timestamp", use_tz=True),
        "published_at": column("timestamp", use_tz=True, default_now=False),
        "deleted_at": column("softDeletes", use_tz=True),
        "author": relation("belongsTo", "User", foreign_key="user_id"),
        "comments": relation("hasMany", "Comment", foreign_key="post_id"),
        "tags": relation("belongsToMany", "Tag", through="post_tag"),
    }
    database = {
        "foreign_keys": [foreign_key(["user_id"], "users", ["id"], name="fk_posts_user", on_delete="cascade")],
        "unique": [unique(["user_id", "title"], name="uq_posts_user_title")],
        "indexes": [index(["user_id", "created_at"], name="ix_posts_user_created")],
        "checks": [check("length(title) > 0", name="ck_posts_title")],
    }


class Comment(Model):
    table = "comments"
    schema = {
        "id": column("bigIncrements"),
        "post_id": column("integer"),
        "user_id": column("integer", nullable=True),
        "body": column("text"),
        "created_at": column("timestamp", use_tz=True),
        "deleted_at": column("softDeletes", use_tz=True),
        "post": relation("belongsTo", "Post", foreign_key="post_id"),
    }
    database = {
        "foreign_keys": [
            foreign_key("post_id", "posts", "id", name="fk_comments_post", on_delete="cascade"),
            foreign_key("user_id", "users", "id", name="fk_comments_user", on_delete="set null"),
        ],
        "indexes": [index(["post_id", "created_at"], name="ix_comments_post_created")],
    }


class Tag(Model):
    table = "tags"
    schema = {
        "id": column("increments"),
        "slug": column("string", 64, unique=True),
        "label": column("string", 100),
        "posts": relation("belongsToMany", "Post", through="post_tag"),
    }


class PostTag(Model):
    table = "post_tag"
    schema = {
        "post_id": column("integer", primary=True),
        "tag_id": column("integer", primary=True),
        "created_at": column("timestamp", use_tz=True),
    }
    database = {
        "foreign_keys": [
            foreign_key("post_id", "posts", "id", name="fk_post_tag_post", on_delete="cascade"),
            foreign_key("tag_id", "tags", "id", name="fk_post_tag_tag", on_delete="cascade"),
        ],
        "indexes": [index("tag_id", name="ix_post_tag_tag")],
    }


class ActivityLog(Model):
    """What users did, kept for 30 days. Lives in MongoDB (``store = "mongo"``): its
    migrations form their own chain in migrations/document/ and run only when Mongo
    is asked for (``modelmig migrate:run --mongo``)."""

    table = "activity_log"
    store = "mongo"
    schema = {
        "user_id": column("integer"),
        "action": column("enum", ["login", "logout", "post_published", "comment_posted"]),
        "post_id": column("integer", nullable=True),
        "ip": column("string", 45, nullable=True),
        "meta": column("json", nullable=True),
        "created_at": column("timestamp", use_tz=True),
    }
    database = {
        "indexes": [
            index(["user_id", "-created_at"], name="ix_activity_log_user_recent"),
            index("created_at", name="ttl_activity_log_created", expire_after_seconds=30 * 24 * 3600),
        ],
    }

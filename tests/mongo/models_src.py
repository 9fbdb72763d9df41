"""Model sources shared by the MongoDB tests (written to a throwaway project's models.py)."""

USERS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 100, unique=True)}
"""

V1 = (
    USERS
    + """
class Activity(Model):
    table = "activity"
    store = "mongo"
    schema = {
        "user_id": column("bigInteger"),
        "kind": column("enum", ["login", "post"]),
        "detail": column("string", 200, nullable=True),
        "created_at": column("timestamp"),
    }
    database = {
        "indexes": [
            index(["user_id", "-created_at"], name="ix_activity_user_recent"),
            index("created_at", name="ttl_activity_created", expire_after_seconds=3600),
        ],
        "unique": [unique(["user_id", "kind"], name="uq_activity_user_kind", partial={"kind": "login"})],
    }


class Note(Model):
    table = "notes"
    store = "mongo"
    schema = {"body": column("text"), "pinned": column("boolean", nullable=True)}
"""
)

# v2: a field added, one removed, one changed; the TTL changed; notes renamed to
# memos with a moderate validation level.
V2 = (
    USERS
    + """
class Activity(Model):
    table = "activity"
    store = "mongo"
    schema = {
        "user_id": column("bigInteger"),
        "kind": column("enum", ["login", "logout", "post"]),
        "ip": column("string", 45, nullable=True),
        "created_at": column("timestamp"),
    }
    database = {
        "indexes": [
            index(["user_id", "-created_at"], name="ix_activity_user_recent"),
            index("created_at", name="ttl_activity_created", expire_after_seconds=7200),
        ],
        "unique": [unique(["user_id", "kind"], name="uq_activity_user_kind", partial={"kind": "login"})],
    }


class Memo(Model):
    table = "memos"
    renamed_from = "notes"
    store = "mongo"
    schema = {"body": column("text"), "pinned": column("boolean", nullable=True)}
    database = {"validation": {"level": "moderate"}}
"""
)

ACTIVITY_V1_SCHEMA = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["created_at", "kind", "user_id"],
        "properties": {
            "user_id": {"bsonType": ["int", "long"]},
            "kind": {"bsonType": "string", "enum": ["login", "post"]},
            "detail": {"bsonType": ["string", "null"], "maxLength": 200},
            "created_at": {"bsonType": "date"},
        },
    }
}

ACTIVITY_V2_SCHEMA = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["created_at", "kind", "user_id"],
        "properties": {
            "user_id": {"bsonType": ["int", "long"]},
            "kind": {"bsonType": "string", "enum": ["login", "logout", "post"]},
            "ip": {"bsonType": ["string", "null"], "maxLength": 45},
            "created_at": {"bsonType": "date"},
        },
    }
}

NOTES_SCHEMA = {
    "$jsonSchema": {
        "bsonType": "object",
        "required": ["body"],
        "properties": {"body": {"bsonType": "string"}, "pinned": {"bsonType": ["bool", "null"]}},
    }
}

ACTIVITY_V1_INDEXES = {
    "ix_activity_user_recent": {"key": [("user_id", 1), ("created_at", -1)]},
    "ttl_activity_created": {"key": [("created_at", 1)], "expireAfterSeconds": 3600},
    "uq_activity_user_kind": {
        "key": [("user_id", 1), ("kind", 1)],
        "unique": True,
        "partialFilterExpression": {"kind": "login"},
    },
}

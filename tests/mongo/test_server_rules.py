"""What a MongoDB server refuses that mongomock accepts, refused at make time
(issue: MySQL 8.0/8.4 and real MongoDB servers). Each rule is checked against the
MongoDB manual (see modelmig_mongo/rules.py for the sections), not a server: none
runs here. The exact command documents and options the driver sends are pinned."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Backend

from modelmig_core import Model, column, index
from modelmig_core.errors import ModelError

LOG = """
class Log(Model):
    table = "log"
    store = "mongo"
    schema = {{
        "_id": column("uuid"),
        "email": column("string", 100, nullable={nullable}),
        "kind": column("string", 20),
        "at": column("timestamp"),
    }}
    database = {{"indexes": [{indexes}], "unique": [{uniques}]}}
"""


def project(make_project: Any, server: str | None = None) -> Any:
    docs: dict[str, str] = {"url": "mongodb://127.0.0.1:27017/app"}
    if server:
        docs["server"] = server
    return make_project({"main": {"url": "sqlite:///app.sqlite3"}, "docs": docs}, extra_config='default = "main"')


def make(p: Any, indexes: str = "", uniques: str = "", nullable: bool = False) -> Any:
    p.models(LOG.format(indexes=indexes, uniques=uniques, nullable=nullable))
    return p.run("make:migration")


def refused(result: Any, *words: str) -> str:
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert result.exit_code != 0 and len(lines) == 1, result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_two_indexes_with_one_key_pattern_and_options_are_refused(make_project: Any) -> None:
    p = project(make_project)
    line = refused(
        make(p, indexes='index("at", name="ix_at"), index("at", name="ttl_at", expire_after_seconds=60)'),
        "model Log, field 'at'",
        "ix_at and ttl_at",
        "IndexOptionsConflict",
    )
    assert "models.py" in line
    assert not p.migration_files("document")


def test_variants_the_server_tells_apart_are_allowed(make_project: Any) -> None:
    p = project(make_project)
    result = make(
        p,
        indexes='index("kind", name="ix_kind"), index("kind", name="ix_kind_recent", partial={"at": {"$gt": 0}})',
        uniques='unique("kind", name="ux_kind_login", partial={"kind": "login"})',
    )
    assert result.exit_code == 0, result.output


def test_an_index_on_id_is_refused(make_project: Any) -> None:
    refused(make(project(make_project), uniques='unique("_id", name="ux_id")'), "field '_id'", "_id index")


def test_ttl_above_the_server_limit_is_refused(make_project: Any) -> None:
    refused(
        make(project(make_project), indexes='index("at", name="ttl_at", expire_after_seconds=2147483648)'),
        "ttl_at",
        "from 0 to 2147483647",
    )


def test_a_unique_index_on_a_nullable_field_needs_a_partial_filter(make_project: Any) -> None:
    p = project(make_project)
    refused(
        make(p, uniques='unique("email", name="ux_email")', nullable=True),
        "field 'email'",
        "only one document lack a value",
        "partial={'email': {'$type': 'string'}}",
    )
    ok = make(p, uniques='unique("email", name="ux_email", partial={"email": {"$type": "string"}})', nullable=True)
    assert ok.exit_code == 0, ok.output


@pytest.mark.parametrize(
    "partial",
    [
        '{"kind": {"$ne": "x"}}',
        '{"kind": {"$exists": False}}',
        '{"kind": {"$regex": "^a"}}',
        '{"$nor": [{"kind": "a"}]}',
    ],
)
def test_partial_filters_no_server_accepts_are_refused(make_project: Any, partial: str) -> None:
    refused(make(project(make_project), indexes=f'index("kind", name="ix_kind", partial={partial})'), "ix_kind")


@pytest.mark.parametrize(
    "partial",
    [
        '{"$or": [{"kind": "a"}, {"kind": "b"}]}',
        '{"kind": {"$in": ["a", "b"]}}',
        '{"$and": [{"kind": "a"}, {"$and": [{"at": {"$gt": 0}}]}]}',
    ],
)
def test_partial_filters_follow_the_declared_server_version(make_project: Any, partial: str) -> None:
    index_ = f'index("kind", name="ix_kind", partial={partial})'
    line = refused(make(project(make_project), indexes=index_), "6.0 or later", "connection 'docs'")
    assert "oldest server mongo supports" in line
    refused(make(project(make_project, "mongodb-5.0"), indexes=index_), "6.0 or later", "mongodb-5.0")
    assert make(project(make_project, "mongodb-6.0"), indexes=index_).exit_code == 0


def test_a_server_declaration_is_checked(make_project: Any) -> None:
    p = project(make_project, "mongo six")
    result = p.run("make:migration")
    refused(result, "'server' must look like")


def test_the_rules_hold_for_the_model_compiler_alone() -> None:
    from modelmig_mongo.schema import compile_collection

    class Twice(Model):
        table = "twice"
        store = "mongo"
        schema = {"at": column("timestamp", index=True)}
        database = {"indexes": [index("at", name="ttl_twice_at", expire_after_seconds=5)]}

    with pytest.raises(ModelError, match="IndexOptionsConflict"):
        compile_collection(Twice)


# ---------------------------------------------------------------- what the driver sends


def test_ledger_and_lock_are_written_with_majority_and_read_from_the_primary(
    make_project: Any, mock_backend: Backend
) -> None:
    from pymongo import ReadPreference

    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "docs": {"url": mock_backend.url}}, extra_config='default = "main"'
    )
    p.models(LOG.format(indexes="", uniques="", nullable=False))
    p.ok("make:migration")
    p.ok("migrate:run", "--mongo")
    opened = {name: kw for name, kw in mock_backend.opened_collections}
    for name in ("modelmig_migrations", "modelmig_lock"):
        assert opened[name]["write_concern"].document == {"w": "majority"}, name
        assert opened[name]["read_preference"] == ReadPreference.PRIMARY, name


def test_a_backup_keeps_view_definitions_and_skips_their_indexes(make_project: Any, mock_backend: Backend) -> None:
    from bson import json_util

    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "docs": {"url": mock_backend.url}}, extra_config='default = "main"'
    )
    p.models(LOG.format(indexes="", uniques="", nullable=False))
    p.ok("make:migration")
    p.ok("migrate:run", "--mongo")
    db = mock_backend.client(mock_backend.url).get_database(mock_backend.dbname)
    db.create_collection("recent", viewOn="log", pipeline=[{"$match": {"kind": "a"}}])
    db["log"].insert_one({"_id": "00000000-0000-0000-0000-000000000001", "kind": "a", "at": 1})
    result = p.ok("migrate:fresh", "--mongo", "--yes", env={"MODELMIG_BACKUP": "always"})
    assert "backed up and verified" in result.output
    [folder] = (p.root / "modelmig-backups").iterdir()
    meta = json_util.loads((folder / "_collections.json").read_text())
    assert meta["recent"] == {"view": {"viewOn": "log", "pipeline": [{"$match": {"kind": "a"}}]}}
    assert not (folder / "recent.jsonl").exists()
    assert len((folder / "log.jsonl").read_text().splitlines()) == 1
    assert "recent" not in mock_backend.collections()  # fresh dropped the view too

"""Online plans (issue 20, item 3): scratch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.support.servers import ServerDb
from tests.test_lint import BEFORE, fill

ONLINE_AFTER = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}

class Item(Model):
    table = "items"
    schema = {
        "id": column("increments"),
        "owner_id": column("integer"),
        "code": column("string", 20, unique=True),
        "qty": column("integer", nullable=True),
        "note": column("string", 100),
        "renamed": column("string", 20, nullable=True, renamed_from="old"),
        "label": column("string", 20, nullable=True, default="none"),
        "price": column("integer"),
        "tag": column("string", 20, nullable=True),
        "flag": column("boolean", default=False),
        "extra": column("string", 10, nullable=True),
        "due": column("date", backfill="2026-01-01"),
    }
    database = {
        "indexes": [index(["price"], name="ix_items_price")],
        "foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_items_owner")],
        "checks": [check("price >= 0", name="ck_items_price")],
    }
"""


def test_scratch(make_project: Any, pg_db: ServerDb, tmp_path: Path) -> None:
    p = make_project({"main": {"url": pg_db.url, "online": True}})
    p.models(BEFORE)
    p.ok("make:migration", "--name", "start")
    p.ok("migrate:run")
    fill(pg_db)
    p.models(ONLINE_AFTER)
    made = p.ok("make:migration", "--name", "catalogue", env={"MODELMIG_NOW": "2026-01-02T00:00:00"})
    print(made.output)
    print(p.ok("migrate:run", "--pretend").output)
    print(p.run("migrate:lint").output)
    print(p.ok("migrate:run").output)
    print(p.run("migrate:status", "--drift").output)
    print(p.ok("migrate:rollback", "--pretend").output)
    print(p.ok("migrate:rollback").output)
    assert 0

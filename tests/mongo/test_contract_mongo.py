"""The driver contract on MongoDB: a plugin (not a driver) wraps ``apply`` and
observes ``record_state`` for every document migration, up and down, as it does
on the SQL drivers (tests/test_contract.py)."""

from __future__ import annotations

import json
import sys
from typing import Any

from conftest import Backend
from models_src import V1, V2

from tests.test_contract import AUDIT, audit_log


def test_a_plugin_wraps_apply_and_observes_record_state(make_project: Any, backend: Backend) -> None:
    sys.modules.pop("audit", None)
    p = make_project(
        {"main": {"url": "sqlite:///app.sqlite3"}, "docs": {"url": backend.url}},
        extra_config='default = "main"\nplugins = ["audit"]',
    )
    (p.root / "audit.py").write_text(AUDIT)
    p.models(V1)
    p.ok("make:migration")
    p.models(V2)
    p.ok("make:migration", env={"MODELMIG_NOW": "2026-01-01T00:00:01"})
    first, second = (f.stem for f in p.migration_files("document"))
    p.ok("migrate:run", "--mongo")
    events = audit_log(p.root)
    assert [e[:3] for e in events] == [
        ["apply", first, "up"],
        ["applied", first, "up"],
        ["recorded", first, "up"],
        ["apply", second, "up"],
        ["applied", second, "up"],
        ["recorded", second, "up"],
    ]
    assert {e[3] for e in events if e[0] == "apply"} == {"mongo"}
    assert [e[3] for e in events if e[0] == "recorded"] == [1, 1]
    p.ok("migrate:rollback", "--mongo", "--step", "1")
    assert [e[:3] for e in audit_log(p.root)] == [
        ["apply", second, "down"],
        ["applied", second, "down"],
        ["recorded", second, "down"],
    ]
    out = json.loads(p.ok("migrate:status", "--mongo", "--json").output)
    assert [m["status"] for m in out["connections"][0]["migrations"]] == ["applied", "pending"]

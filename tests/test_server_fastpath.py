"""The every-deploy path on the server drivers: ``migrate:run`` and
``migrate:status`` with nothing pending read the ledger through the driver's own
DB-API connection, without importing SQLAlchemy or any migration module."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

from tests.support.servers import ServerDb

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191, unique=True)}
"""

PROBE = """
import sys
from modelmig_core.cli import cli
for args in (["migrate:run"], ["migrate:status"]):
    try:
        cli(args, standalone_mode=False)
    except SystemExit as exc:
        assert not exc.code, exc.code
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "sqlalchemy" or m.startswith("_modelmig_migration_"))
print("LOADED:", loaded)
"""


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_nothing_pending_imports_no_sqlalchemy(make_project: Any, driver: str, request: pytest.FixtureRequest) -> None:
    db: ServerDb = request.getfixturevalue(f"{driver}_db")
    p = make_project({"main": {"url": db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=p.root, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "nothing to migrate" in result.stdout
    assert "applied" in result.stdout  # the status line
    assert "LOADED: []" in result.stdout, result.stdout

"""The nothing-pending read of PostgreSQL's ledger goes through psycopg2 (libpq,
like psycopg, at about a quarter of its import): psycopg is loaded only when
something is to be done, and the read keeps the driver's guarantees (a missing
ledger is no error, a failed connection is one line naming the redacted URL)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from tests.support.servers import ServerDb, with_database

MODELS = """
class User(Model):
    table = "users"
    schema = {"id": column("increments"), "email": column("string", 191, unique=True)}
"""

PROBE = """
import sys
from modelmig_core.cli import cli
try:
    cli(sys.argv[1:], standalone_mode=False)
except SystemExit as exc:
    assert not exc.code, exc.code
print("LOADED:", sorted({m.split(".")[0] for m in sys.modules} & {"psycopg", "psycopg2", "sqlalchemy"}))
print("SCHEMA:", sorted(m for m in sys.modules if m.startswith(("modelmig_core.schema", "modelmig_core.vocabulary"))))
"""


def probe(root: Any, *args: str) -> str:
    result = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_nothing_pending_reads_the_ledger_through_psycopg2(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    out = probe(p.root, "migrate:status")  # no ledger table yet: every migration pending
    assert "pending" in out and "LOADED: ['psycopg2']" in out, out
    p.ok("migrate:run")
    assert pg_db.scalar("SELECT count(*) FROM modelmig_migrations WHERE status = 'applied'") == 1
    for command in ("migrate:run", "migrate:status"):
        out = probe(p.root, command)
        assert "LOADED: ['psycopg2']" in out, out
        assert "SCHEMA: []" in out, out  # no operation, state or SQL-text module either
    assert "nothing to migrate" in probe(p.root, "migrate:run")


def test_pending_work_still_runs_through_psycopg(make_project: Any, pg_db: ServerDb) -> None:
    p = make_project({"main": {"url": pg_db.url}})
    p.models(MODELS)
    p.ok("make:migration")
    out = probe(p.root, "migrate:run")
    assert "applied" in out and "psycopg'" in out, out
    assert pg_db.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'") == 1


def test_a_failed_connection_is_one_line_naming_the_redacted_url(make_project: Any, pg_db: ServerDb) -> None:
    url = with_database(pg_db.url, "modelmig_no_such_database").replace("postgres@", "postgres:s3cret@")
    p = make_project({"main": {"url": url}})
    p.models(MODELS)
    p.ok("make:migration")
    result = p.sh("migrate:run")
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert (
        len(lines) == 1 and lines[0].startswith("error: cannot connect to ") and "modelmig_no_such_database" in lines[0]
    )
    assert "s3cret" not in result.stderr + result.stdout

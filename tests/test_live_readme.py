"""The guide's pages "Adopting an existing database" (docs/adopting-a-database.md)
and "Drift in CI" (docs/drift-in-ci.md): their commands run as written in a
project of the test servers, and the sample output is what modelmig prints on
PostgreSQL for those hand changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Project
from tests.support.servers import ServerDb
from tests.test_live_drift import blog_project, sql
from tests.test_live_roundtrip import SCHEMAS, run_sql

ROOT = Path(__file__).resolve().parent.parent


#: the guide's pages, by their title
PAGES = {"Adopting an existing database": "adopting-a-database.md", "Checking for drift in CI": "drift-in-ci.md"}


def block(heading: str, language: str) -> str:
    """The page's first block in ``language``."""
    page = (ROOT / "docs" / PAGES[heading]).read_text()
    return page.split(f"```{language}\n", 1)[1].split("```", 1)[0]


def commands(heading: str) -> list[str]:
    return [line.split("  #", 1)[0].strip() for line in block(heading, "bash").splitlines() if line.strip()]


def shell(p: Project, command: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}", **p.env}
    env["MODELMIG_NOW"] = "2026-01-01T00:00:00"
    return subprocess.run(["bash", "-c", command], cwd=p.root, env=env, capture_output=True, text=True)


def test_the_adoption_and_ci_commands_run_as_written(make_project: Any, sqlite_db: ServerDb) -> None:
    p: Project = make_project({"main": {"url": sqlite_db.url}})
    run_sql(sqlite_db, SCHEMAS["sqlite"])
    adopt = commands("Adopting an existing database")
    assert [c.split()[1] for c in adopt] == ["make:models", "make:migration", "migrate:baseline", "migrate:status"]
    for command in adopt:
        result = shell(p, command)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    assert "drift: none" in result.stdout
    for command in commands("Checking for drift in CI"):
        result = shell(p, command)
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    report = json.loads((p.root / "drift.json").read_text())
    assert report["drift"] is False and report["connections"][0]["drift"] == []
    # and with a hand change, the same CI command fails
    run_sql(sqlite_db, ["ALTER TABLE books ADD COLUMN isbn VARCHAR(20)"])
    result = shell(p, commands("Checking for drift in CI")[1])
    assert result.returncode == 1 and "extra column books.isbn: string(20) NULL" in result.stdout


def test_the_sample_drift_report_is_what_postgresql_gives(make_project: Any, pg_db: ServerDb) -> None:
    p = blog_project(make_project, pg_db)
    p.ok("migrate:run")
    sql(
        pg_db,
        "ALTER TABLE posts ADD COLUMN summary TEXT",
        "DROP INDEX ix_posts_user_created",
        "ALTER TYPE posts_status_enum ADD VALUE 'hidden'",
        "CREATE TABLE audit_log (id INTEGER PRIMARY KEY)",
    )
    result = p.run("migrate:status", "--drift")
    assert result.exit_code == 1
    sample = block("Checking for drift in CI", "text").splitlines()
    printed = result.output.splitlines()
    assert printed[2:] == sample[2:]  # after the header lines (URL, time of application)
    assert sample[0].startswith("main [pg ") and printed[0].startswith("main [pg ")

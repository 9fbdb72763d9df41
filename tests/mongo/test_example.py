"""The example blog's activity log: its committed document migration matches the
models byte for byte, runs with --mongo, and the default and SQL targets never
touch Mongo."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import Backend

from modelmig_core.cli import cli

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "blog"
DOC = "20261125120000_create_activity_log_collection"


@pytest.fixture
def blog(tmp_path: Path, mock_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Any:
    app = tmp_path / "blog"
    shutil.copytree(EXAMPLE, app, ignore=shutil.ignore_patterns("*.sqlite3", "__pycache__"))
    monkeypatch.setenv("BLOG_DB", str(app / "blog.sqlite3"))
    monkeypatch.setenv("BLOG_MONGO_URL", mock_backend.url)
    monkeypatch.setenv("MODELMIG_NOW", "2026-11-25T12:00:00")

    def run(*args: str) -> str:
        cwd = os.getcwd()
        try:
            os.chdir(app)
            result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
        finally:
            os.chdir(cwd)
        assert result.exit_code == 0, result.output
        return result.output

    run.app = app  # type: ignore[attr-defined]
    return run


def test_committed_document_migration_is_what_make_writes(blog: Any) -> None:
    assert "models and migrations agree" in blog("make:migration", "--check")
    folder = blog.app / "migrations" / "document"
    committed = (folder / f"{DOC}.py").read_bytes()
    sql = {p.name: p.read_bytes() for p in (blog.app / "migrations" / "sql").glob("*.py")}
    (folder / f"{DOC}.py").unlink()
    assert blog("make:migration").strip() == f"Created migrations/document/{DOC}.py (1 operation(s))"
    assert (folder / f"{DOC}.py").read_bytes() == committed
    assert {p.name: p.read_bytes() for p in (blog.app / "migrations" / "sql").glob("*.py")} == sql


def test_activity_log_runs_with_mongo_only(blog: Any, mock_backend: Backend) -> None:
    blog("migrate:run")  # the default: SQLite
    blog("migrate:status", "--sqlite")
    assert mock_backend.opened == 0
    assert f"mongo: applied {DOC}" in blog("migrate:run", "--mongo")
    assert mock_backend.indexes("activity_log") == {
        "ix_activity_log_user_recent": {"key": [("user_id", 1), ("created_at", -1)]},
        "ttl_activity_log_created": {"key": [("created_at", 1)], "expireAfterSeconds": 30 * 24 * 3600},
    }
    validator = mock_backend.collection_options("activity_log")["validator"]["$jsonSchema"]
    assert validator["required"] == ["action", "created_at", "user_id"]
    assert f"{DOC}  applied" in blog("migrate:status", "--mongo")
    blog("migrate:rollback", "--mongo", "--yes")
    assert "activity_log" not in mock_backend.collections()

"""Shared fixtures: throwaway projects driven through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from modelmig_core.cli import cli
from tests.support.servers import any_db, duckdb_db, mysql_db, pg_db, sqlite_db  # noqa: F401 - fixtures for every test

sys.dont_write_bytecode = True  # models.py is rewritten within one second; never reuse stale bytecode

NOW = "2026-01-01T00:00:00"


@dataclass
class Project:
    root: Path
    connections: dict[str, dict[str, str]]
    extra_config: str = ""
    env: dict[str, str] = field(default_factory=dict)

    def write_config(self) -> None:
        lines = ["[tool.modelmig]", 'models = ["models"]', 'migrations = "migrations"']
        if self.extra_config:
            lines.append(self.extra_config)
        for name, conn in self.connections.items():
            lines.append(f"[tool.modelmig.connections.{name}]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in conn.items()]
        (self.root / "pyproject.toml").write_text("\n".join(lines) + "\n")

    def models(self, source: str) -> None:
        (self.root / "models.py").write_text(
            "from modelmig_core import Model, column, relation, foreign_key, index, unique, check\n\n"
            + textwrap.dedent(source)
        )

    def run(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        """The CLI in-process (click's CliRunner)."""
        merged = {"MODELMIG_NOW": NOW, **self.env, **(env or {})}
        cwd = os.getcwd()
        try:
            os.chdir(self.root)
            return CliRunner().invoke(cli, list(args), env=merged, input=input, catch_exceptions=False)
        finally:
            os.chdir(cwd)

    def ok(self, *args: str, **kw: Any) -> Result:
        result = self.run(*args, **kw)
        assert result.exit_code == 0, f"modelmig {' '.join(args)} exited {result.exit_code}:\n{result.output}"
        return result

    def sh(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """The installed ``modelmig`` command in a subprocess."""
        full_env = {**os.environ, "MODELMIG_NOW": NOW, "PYTHONDONTWRITEBYTECODE": "1", **self.env, **(env or {})}
        exe = Path(sys.executable).parent / "modelmig"
        return subprocess.run([str(exe), *args], cwd=self.root, env=full_env, capture_output=True, text=True)

    def migration_files(self, family: str = "sql") -> list[Path]:
        folder = self.root / "migrations" / family
        return sorted(folder.glob("*.py")) if folder.is_dir() else []


@pytest.fixture(scope="session", autouse=True)
def scratch_in_basetemp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every scratch folder of the run (``tempfile.mkdtemp`` in a test, a fixture,
    the conformance workspace, ``dev.py example``, and the commands a test starts,
    through TMPDIR) goes under pytest's own temporary folder, which pytest prunes:
    a folder a test forgets to remove is not left in /tmp."""
    folder = tmp_path_factory.mktemp("scratch")
    before, env_before = tempfile.tempdir, os.environ.get("TMPDIR")
    tempfile.tempdir = str(folder)
    os.environ["TMPDIR"] = str(folder)
    try:
        yield folder
    finally:
        tempfile.tempdir = before
        if env_before is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = env_before


@pytest.fixture
def make_project(tmp_path: Path) -> Iterator[Callable[..., Project]]:
    counter = iter(range(1000))

    def make(connections: dict[str, dict[str, str]] | None = None, extra_config: str = "") -> Project:
        root = tmp_path / f"app{next(counter)}"
        root.mkdir()
        conns = connections or {"main": {"url": "sqlite:///app.sqlite3", "test_url": "sqlite:///app_test.sqlite3"}}
        project = Project(root, conns, extra_config)
        project.write_config()
        return project

    cwd = os.getcwd()
    yield make
    os.chdir(cwd)

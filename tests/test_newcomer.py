"""A newcomer's first ten minutes: ``dev.py example`` shows a migration generated
from a model change, applied with its duration, and the status; the test
databases are created when the servers answer, and a reachable server without
one says so; every distribution carries the MIT licence, its readme and a
py.typed marker, and drivers follow the core's driver-API release line; the
example ignores its backups; the CI log shows each nox step once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from tests.support import databases, servers

ROOT = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = {
    ".": "modelmig_core",
    "drivers/sqlite": "modelmig_sqlite",
    "drivers/pg": "modelmig_pg",
    "drivers/mysql": "modelmig_mysql",
    "drivers/mongo": "modelmig_mongo",
    "plugins/pytest": "pytest_modelmig",
}


def test_dev_example_generates_applies_and_shows_a_migration(capfd: pytest.CaptureFixture[str]) -> None:
    sys.path.insert(0, str(ROOT))
    try:
        import dev
    finally:
        sys.path.remove(str(ROOT))
    assert dev.example(Path(sys.executable).parent / "modelmig") == 0
    out = capfd.readouterr().out
    before, after = out.split("# a model change: blog/models.py, class Tag gets", 1)
    assert "No changes: the models match the migrations." in before
    assert re.search(r"^main: applied 20261125120000_\w+ \(\d+ ms\)$", before, re.M)
    created = re.search(r"^Created migrations/sql/(\d{14}_add_color_to_tags)\.py \(1 operation\(s\)\)$", after, re.M)
    assert created, after
    mid = created.group(1)
    assert re.search(rf"^main: applying {mid}$", after, re.M)
    assert re.search(rf"^main: applied {mid} \(\d+ ms\)$", after, re.M)
    assert re.search(rf"^  {mid}\s+applied\s+batch 2  \S+Z  \d+ ms$", after, re.M)


# ---------------------------------------------------------------- test databases


def test_ensure_creates_a_missing_test_database(monkeypatch: pytest.MonkeyPatch) -> None:
    name = servers.scratch_name("mm_ensure")
    pg = servers.with_database(servers.PG_URL, name)
    mysql = servers.with_database(servers.MYSQL_URL, name)
    monkeypatch.setattr(databases, "PG_URL", pg)
    monkeypatch.setattr(databases, "MYSQL_URL", mysql)
    try:
        assert databases.ensure() == 0
        databases.pg_connect(pg).close()  # both exist now
        databases.mysql_connect(mysql).close()
        assert databases.ensure() == 0  # and again: nothing to do
    finally:
        databases.drop("pg", pg, name)
        databases.drop("mysql", mysql, name)


@pytest.mark.parametrize("driver", ["pg", "mysql"])
def test_a_reachable_server_without_the_database_says_so(driver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    attr = "PG_URL" if driver == "pg" else "MYSQL_URL"
    monkeypatch.setattr(servers, attr, servers.with_database(getattr(servers, attr), "mm_no_such_database"))
    admin = servers.pg_admin if driver == "pg" else servers.mysql_admin
    with pytest.raises(pytest.skip.Exception, match="is reachable but has no database mm_no_such_database"):
        admin()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true: server tests must run"):
        admin()


def test_an_unreachable_server_says_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(servers, "PG_URL", "postgresql://postgres@127.0.0.1:9/modelmig_test")
    with pytest.raises(pytest.skip.Exception, match="is unreachable"):
        servers.pg_admin()


# ---------------------------------------------------------------- distributions


def project_of(folder: str) -> dict[str, Any]:
    return tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["project"]


@pytest.mark.parametrize("folder", sorted(DISTRIBUTIONS))
def test_every_distribution_has_licence_readme_and_py_typed(folder: str) -> None:
    project = project_of(folder)
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (ROOT / folder / "LICENSE").read_text() == (ROOT / "LICENSE").read_text()
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    assert (ROOT / folder / project["readme"]).is_file()
    package = DISTRIBUTIONS[folder]
    package_dir = ROOT / folder / package
    assert (package_dir / "py.typed").is_file()
    setuptools = tomllib.loads((ROOT / folder / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-data"][package] == ["py.typed"]


def test_drivers_follow_the_core_release_line_of_the_driver_api() -> None:
    from modelmig_core.driver import API_VERSION

    core = project_of(".")
    major, minor, _ = core["version"].split(".")
    line = f">={major}.{minor},<{major}.{int(minor) + 1}"
    for folder in DISTRIBUTIONS:
        if folder == ".":
            continue
        project = project_of(folder)
        assert project["version"] == core["version"]
        assert f"modelmig{line}" in project["dependencies"], (folder, project["dependencies"])
    for extra, deps in core["optional-dependencies"].items():
        for dep in deps:
            if dep.startswith(("modelmig-", "pytest-modelmig")):
                assert dep.endswith(line), (extra, dep)
    guide = (ROOT / "docs" / "writing-a-plugin.md").read_text()  # the guide's page on versions
    assert f"API_VERSION = {API_VERSION}" in guide and f"modelmig{line}" in guide


def test_the_example_ignores_its_backups() -> None:
    ignored = (ROOT / "examples" / "blog" / ".gitignore").read_text().splitlines()
    assert "modelmig-backups/" in ignored and "*.sqlite3" in ignored


def test_the_ci_log_shows_each_nox_step_once() -> None:
    """The scratch database is made and dropped by a script file, so nox echoes one
    short command line per step instead of the script's source."""
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [str(bin_dir / "nox"), "--no-venv", "-s", "migrations(driver='pg')"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    steps = [line for line in log.splitlines() if line.startswith("nox > ")]
    assert len([s for s in steps if "databases.py create pg" in s]) == 1
    assert len([s for s in steps if "databases.py drop pg" in s]) == 1
    assert not [line for line in log.splitlines() if "import " in line or "CREATE DATABASE" in line]
    assert max(len(s) for s in steps) < 200

"""``modelmig drivers``, robust loading with a broken driver distribution on the
path, --driver/scheme errors, make's feature checks, and the rule that drivers and
plugins import nothing from the core but ``modelmig_core.api``."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from modelmig_core.registry import Registry

ROOT = Path(__file__).resolve().parent.parent


def broken_distribution(folder: Path) -> Path:
    """A distribution ``broken-driver 1.0`` whose driver's import raises; it declares
    the URL scheme ``brokendb``."""
    pkg = folder / "brokenpkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "driver.py").write_text("import fancydb_client_that_is_not_installed\n")
    info = folder / "broken_driver-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-driver\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[modelmig.drivers]\nbroken = brokenpkg.driver:driver\n\n[modelmig.schemes]\nbrokendb = brokenpkg.driver:driver\n"
    )
    return folder


@pytest.fixture
def broken_path(tmp_path: Path) -> dict[str, str]:
    folder = broken_distribution(tmp_path / "site")
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}


def modelmig(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "modelmig"
    full = {**os.environ, "MODELMIG_NOW": "2026-01-01T00:00:00", "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run([str(exe), *args], cwd=cwd, env=full, capture_output=True, text=True)


def test_drivers_lists_every_installed_driver(tmp_path: Path) -> None:
    result = modelmig("drivers", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if not line.startswith(" ")]
    assert names == ["duckdb", "mongo", "mysql", "pg", "sqlite"]
    assert "duckdb  ok  (modelmig-duckdb 0.2.0)  family sql  schemes duckdb" in result.stdout
    assert "schemes mongodb, mongodb+srv" in result.stdout
    report = json.loads(modelmig("drivers", "--json", cwd=tmp_path).stdout)["drivers"]
    by_name = {d["name"]: d for d in report}
    assert by_name["pg"]["schemes"] == ["postgresql", "postgres"] and by_name["pg"]["distribution"].startswith(
        "modelmig-pg "
    )
    assert by_name["duckdb"]["features"]["add_constraint_to_existing_table"] is False
    assert by_name["pg"]["features"]["max_identifier_length"] == 63
    assert by_name["mongo"]["family"] == "document" and by_name["mongo"]["status"] == "ok"
    assert all(isinstance(v, (bool, int, type(None))) for d in report for v in d["features"].values())


def test_a_broken_driver_breaks_only_what_needs_it(make_project: Any, broken_path: dict[str, str]) -> None:
    p = make_project(
        {
            "main": {"url": "sqlite:///app.sqlite3"},
            "ducks": {"url": "duckdb:///ducks.duckdb"},
            "legacy": {"url": "brokendb://somewhere/db"},
        },
        extra_config='default = "main"',
    )
    p.models(
        'class Note(Model):\n    table = "notes"\n    schema = {"id": column("increments"), "body": column("text")}\n'
    )
    env = broken_path

    listing = modelmig("drivers", cwd=p.root, env=env)
    assert listing.returncode == 0, listing.stderr
    assert "broken  broken  (broken-driver 1.0)" in listing.stdout
    assert "cause: ModuleNotFoundError: No module named 'fancydb_client_that_is_not_installed'" in listing.stdout
    assert "sqlite  ok" in listing.stdout and "duckdb  ok" in listing.stdout
    broken = next(
        d
        for d in json.loads(modelmig("drivers", "--json", cwd=p.root, env=env).stdout)["drivers"]
        if d["name"] == "broken"
    )
    assert broken["status"] == "broken" and broken["distribution"] == "broken-driver 1.0"
    assert "fancydb_client_that_is_not_installed" in broken["cause"]

    for args in (["make:migration"], ["make:migration", "--check"], ["migrate:run", "--connection", "main"]):
        result = modelmig(*args, cwd=p.root, env=env)
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
    for args in (["migrate:status", "--sqlite"], ["migrate:run", "--driver", "duckdb"], ["migrate:status"]):
        result = modelmig(*args, cwd=p.root, env=env)
        assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
        assert "broken" not in result.stdout + result.stderr
    assert "applied" in modelmig("migrate:status", "--sqlite", cwd=p.root, env=env).stdout

    needed = modelmig("migrate:status", "--connection", "legacy", cwd=p.root, env=env)
    assert needed.returncode == 2
    assert needed.stderr.strip().splitlines() == [
        "error: driver 'broken' (broken-driver 1.0) cannot be loaded: ModuleNotFoundError: "
        "No module named 'fancydb_client_that_is_not_installed'"
    ]


def test_a_driver_of_another_api_version_names_its_distribution(make_project: Any, tmp_path: Path) -> None:
    """The distribution is read from its metadata only for the error: one line naming
    the driver, its distribution and version, and the API versions."""
    site = tmp_path / "site"
    (site / "olddriver").mkdir(parents=True)
    (site / "olddriver" / "__init__.py").write_text(
        "from modelmig_core.api import DriverInfo\n"
        "from modelmig_sqlite.driver import SqliteDriver\n\n\n"
        "class OldDriver(SqliteDriver):\n"
        '    info = DriverInfo("olddb", ("olddb",), "sql")\n'
        "    api_version = 0\n\n\n"
        "driver = OldDriver()\n"
    )
    info = site / "old_driver-2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: old-driver\nVersion: 2.0\n")
    (info / "entry_points.txt").write_text(
        "[modelmig.drivers]\nolddb = olddriver:driver\n\n[modelmig.schemes]\nolddb = olddriver:driver\n"
    )
    p = make_project({"main": {"url": "olddb:///app.db"}})
    result = modelmig("migrate:status", cwd=p.root, env={"PYTHONPATH": str(site)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: driver 'olddb' (old-driver 2.0) cannot be loaded: it was written for driver API version 0; "
        "this modelmig has version 1: install a matching version of either"
    ]


def test_unknown_driver_and_unknown_scheme_say_what_is_installed(make_project: Any) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}, "odd": {"url": "cockroach://h/db"}})
    result = p.run("migrate:status", "--driver", "nosuch")
    assert result.exit_code == 2
    assert "no driver named 'nosuch' is installed (installed: duckdb, mongo, mysql, pg, sqlite)" in result.output
    result = p.run("migrate:status", "--connection", "odd")
    assert result.exit_code == 2 and "no installed driver handles URL scheme 'cockroach'" in result.output
    assert "pip install" not in result.output  # modelmig has no extra for it

    registry = Registry()
    registry._entry_points, registry._schemes = {}, {}  # as on a machine with no driver installed
    with pytest.raises(Exception, match=r"scheme 'postgres'; try pip install 'modelmig\[pg\]'"):
        registry.driver_for_scheme("postgres")
    with pytest.raises(
        Exception,
        match=r"no driver named 'duckdb' is installed \(installed: none\); try pip install 'modelmig\[duckdb\]'",
    ):
        registry.driver("duckdb")


def test_scheme_lookup_imports_only_the_driver_that_declares_it(tmp_path: Path) -> None:
    code = (
        "import sys; from modelmig_core.registry import Registry; r = Registry(); "
        "print(r.driver_for_scheme('postgres').name, r.driver_for_scheme('mariadb').name, "
        "sorted(m for m in sys.modules if m.startswith(('modelmig_duckdb', 'modelmig_mongo', 'modelmig_sqlite'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "pg mysql []"


V1 = """
class Owner(Model):
    table = "owners"
    schema = {"id": column("increments"), "name": column("string", 50)}


class Pet(Model):
    table = "pets"
    schema = {"id": column("increments"), "owner_id": column("integer")}
"""


def test_make_names_operations_a_configured_connection_cannot_run(make_project: Any) -> None:
    p = make_project({"main": {"url": "sqlite:///app.sqlite3"}, "analytics": {"url": "duckdb:///a.duckdb"}})
    p.models(V1)
    p.ok("make:migration")
    assert "cannot run" not in p.ok("make:migration", "--check").output
    p.models(V1 + '    database = {"foreign_keys": [foreign_key("owner_id", "owners", "id", name="fk_pets_owner")]}\n')
    made = p.run("make:migration")  # refused: no deploy finds out first, and nothing is written
    line = (
        "sql: 20260101000001_add_fk_pets_owner_to_pets: add fk_pets_owner to pets: connection 'analytics' "
        "(driver duckdb) cannot run it (add_constraint_to_existing_table=False)"
    )
    assert made.exit_code == 2 and f"error: {line}" in made.output
    assert len(p.migration_files()) == 1
    check = p.run("make:migration", "--check")
    assert check.exit_code == 1 and f"error: {line}" in check.output
    assert "models and migrations agree" not in check.output
    # only SQLite configured: SQLite rebuilds the table, nothing to say
    p.connections = {"main": {"url": "sqlite:///app.sqlite3"}}
    p.write_config()
    assert "cannot run" not in p.ok("make:migration").output
    assert "models and migrations agree" in p.ok("make:migration", "--check").output


def imports_from_core(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "modelmig_core"]
            found += [n for n in names if n.startswith("modelmig_core")]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("modelmig_core")]
    return found


def test_drivers_and_plugins_use_the_public_api_only() -> None:
    allowed = {"modelmig_core", "modelmig_core.api", "modelmig_core.api_sql"}  # api_sql: SQL drivers' helpers
    dsl = {"Model", "column", "relation", "foreign_key", "index", "unique", "check", "api", "api_sql"}
    files = [f for d in ("drivers", "plugins") for f in sorted((ROOT / d).glob("*/*/*.py"))]
    assert any("modelmig_duckdb" in str(f) for f in files) and any("pytest_modelmig" in str(f) for f in files)
    for f in files:
        for name in imports_from_core(f):
            _, _, leaf = name.partition("modelmig_core.")
            assert name in allowed or (name.startswith("modelmig_core.") and leaf in dsl), (
                f"{f.relative_to(ROOT)} imports {name}"
            )

"""``api_version`` is required on a Driver subclass: there is no default, so a
driver that does not say which driver API it was written for is refused when it
is loaded, in one line naming the driver and its distribution. Every driver in
this repository (and every test driver) declares it."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from modelmig_core import conformance
from modelmig_core.api import API_VERSION, DriverInfo, SqlDriver
from modelmig_core.registry import DriverLoadError, Registry
from tests.test_drivers_command import modelmig

ROOT = Path(__file__).resolve().parent.parent


def undeclared_distribution(site: Path) -> Path:
    """A distribution ``silent-driver 3.1`` whose driver subclasses SqlDriver (through
    the public api only) and declares no api_version."""
    (site / "silentdriver").mkdir(parents=True)
    (site / "silentdriver" / "__init__.py").write_text(
        "from modelmig_core.api import DriverInfo, SqlDriver\n\n\n"
        "class SilentDriver(SqlDriver):\n"
        '    info = DriverInfo("silentdb", ("silentdb",), "sql")\n\n\n'
        "driver = SilentDriver()\n"
    )
    info = site / "silent_driver-3.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: silent-driver\nVersion: 3.1\n")
    (info / "entry_points.txt").write_text(
        "[modelmig.drivers]\nsilentdb = silentdriver:driver\n\n[modelmig.schemes]\nsilentdb = silentdriver:driver\n"
    )
    return site


def test_a_driver_that_declares_no_api_version_is_refused_naming_its_distribution(
    make_project: Any, tmp_path: Path
) -> None:
    site = undeclared_distribution(tmp_path / "site")
    p = make_project({"main": {"url": "silentdb:///app.db"}})
    result = modelmig("migrate:status", cwd=p.root, env={"PYTHONPATH": str(site)})
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: driver 'silentdb' (silent-driver 3.1) cannot be loaded: its class SilentDriver declares no "
        f"api_version (the driver API version it was written for): set api_version = {API_VERSION} "
        "(modelmig_core.api.API_VERSION) if it was written for this modelmig"
    ]
    assert result.stdout == ""
    assert not (p.root / "app.db").exists()  # nothing was connected to
    listed = modelmig("drivers", cwd=p.root, env={"PYTHONPATH": str(site)})
    assert listed.returncode == 0, listed.stderr
    assert "silentdb  broken  (silent-driver 3.1)" in listed.stdout
    assert "declares no api_version" in listed.stdout


class Undeclared(SqlDriver):
    info = DriverInfo("undeclared", ("undeclared",), "sql")


class Declared(Undeclared):
    api_version = API_VERSION


class WrongType(Undeclared):
    api_version = str(API_VERSION)  # type: ignore[assignment]


def test_the_registry_refuses_an_undeclared_driver_given_as_a_plugin() -> None:
    registry = Registry()
    with pytest.raises(DriverLoadError) as caught:
        registry.register(Undeclared, name="plugin:tests:Undeclared")
    assert str(caught.value).splitlines() == [str(caught.value)]
    assert str(caught.value).startswith("driver 'undeclared' (plugin:tests:Undeclared) cannot be loaded: ")
    assert "declares no api_version" in str(caught.value)
    assert "undeclared" not in registry.installed()
    with pytest.raises(DriverLoadError, match=r"written for driver API version '1'"):
        registry.register(WrongType, name="plugin:tests:WrongType")
    registry.register(Declared, name="plugin:tests:Declared")  # a subclass of one that declares
    assert registry.driver("undeclared").api_version == API_VERSION


def test_drivers_check_refuses_an_undeclared_plugin_driver() -> None:
    with pytest.raises(DriverLoadError, match=r"driver 'undeclared' \(plugin tests.*\) cannot be loaded: its class"):
        conformance.plugin_driver("tests.test_driver_api_version:Undeclared")
    declared = conformance.plugin_driver("tests.test_driver_api_version:Declared")
    assert (type(declared).__name__, declared.api_version) == ("Declared", API_VERSION)


def _driver_classes(folder: Path) -> list[tuple[str, ast.ClassDef]]:
    """Every class under ``folder`` whose bases name a driver class (``...Driver``)."""
    out = []
    for path in sorted(folder.rglob("*.py")):
        if ".venv" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ClassDef) and any(ast.unparse(b).endswith("Driver") for b in node.bases):
                out.append((f"{path.relative_to(ROOT)}::{node.name}", node))
    return out


def _declares(node: ast.ClassDef) -> bool:
    for stmt in node.body:
        targets = (
            stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target] if isinstance(stmt, ast.AnnAssign) else []
        )
        if any(isinstance(t, ast.Name) and t.id == "api_version" for t in targets):
            return True
    return False


@pytest.mark.parametrize("folder", ["drivers", "plugins", "tests"])
def test_every_driver_in_the_repository_declares_its_api_version(folder: str) -> None:
    """A class that derives from the core's Driver or SqlDriver declares api_version
    in its own body; a subclass of a declaring driver inherits it."""
    classes = _driver_classes(ROOT / folder)
    direct = [
        (where, node) for where, node in classes if {ast.unparse(b) for b in node.bases} & {"Driver", "SqlDriver"}
    ]
    assert direct, f"no driver class found under {folder}/"
    expected = ["tests/test_driver_api_version.py::Undeclared"] if folder == "tests" else []  # refused above
    assert [where for where, node in direct if not _declares(node)] == expected

"""docs/writing-a-driver.md is executed: its Python blocks are one module (the
guide's example driver), its entry points are installed from its TOML block, and
drivers:check reports on that driver exactly what the guide says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from click.testing import CliRunner

from modelmig_core.cli import cli

DOC = Path(__file__).resolve().parent.parent / "docs" / "writing-a-driver.md"


#: the guide's two-chain example is a project, not the driver: tests/test_chains.py runs it
PROJECT_EXAMPLE = "## Beside the main database: a chain of its own\n"


def blocks(kind: str) -> list[str]:
    text = DOC.read_text()
    before, _, after = text.partition(PROJECT_EXAMPLE)
    text = before + ("\n## " + after.split("\n## ", 1)[1] if after else "")
    return re.findall(rf"^```{kind}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


@pytest.fixture
def guide(tmp_path: Path) -> Path:
    """The guide's driver as module ``litesql_driver``, and its entry points as an
    installed distribution ``litesql-driver 1.0``, in one folder."""
    folder = tmp_path / "site"
    folder.mkdir()
    files: dict[str, list[str]] = {}
    for block in blocks("python"):  # a block that starts "# file: NAME" is module NAME; the rest is the driver
        name = block[len("# file: ") :].split("\n", 1)[0] if block.startswith("# file: ") else "litesql_driver.py"
        files.setdefault(name, []).append(block)
    assert set(files) == {"litesql_driver.py", "litesql_render.py", "litesql_reflect.py"}
    for name, parts in files.items():
        (folder / name).write_text("\n\n".join(parts))
    entry_points = tomllib.loads("\n".join(blocks("toml")))["project"]["entry-points"]
    info = folder / "litesql_driver-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: litesql-driver\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) for group, eps in entry_points.items())
    )
    sys.path.insert(0, str(folder))
    yield folder
    sys.path.remove(str(folder))
    sys.modules.pop("litesql_driver", None)
    sys.modules.pop("litesql_render", None)
    sys.modules.pop("litesql_reflect", None)


def test_the_guides_code_runs_and_its_driver_passes_the_kit(guide: Path, tmp_path: Path) -> None:
    import litesql_driver  # the asserts in the guide's blocks run here

    result = CliRunner().invoke(
        cli, ["drivers:check", f"litesql:///{tmp_path / 'scratch.db'}", "--plugin", "litesql_driver:LiteDriver"]
    )
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split(None, 3)[1:] for line in result.output.splitlines() if line.startswith("  ")}
    assert rows.pop("schema:")[0] == "compared"  # through SQLAlchemy's Inspector, as the guide says
    rows.pop("left")  # the fixtures leave out what the guide's driver declares it lacks:
    assert "left out of the fixtures (declared lacking): column comments (column_comments=False)" in result.output
    absent = {name: row[2] for name, row in rows.items() if row[0] == "n/a"}
    assert absent == {  # each with the flag the guide's driver declares, as the guide says
        "rename_columns_and_tables": "declared rename_table=False",
        "alter_columns": "declared alter_column=False",
        "constraints_on_existing_tables": "declared add_constraint_to_existing_table=False",
        "full_chain": "declared rename_table=False",
        "length_enforced": "not enforced by this database (enforces_length=False)",
        "narrowing_keeps_values": "declared alter_column=False",
        "interrupted_migration_is_reported": "for drivers without transactional DDL (transactional_ddl=True)",
    }
    assert {row[0] for name, row in rows.items() if name not in absent} == {"pass"}, result.output
    assert f"{len(rows) - len(absent)} passed, {len(absent)} not applicable (declared features), 0 failed" in (
        result.output
    )
    assert litesql_driver.LiteDriver.info.schemes == ("litesql",)


def test_the_guides_python_imports_only_the_api(guide: Path) -> None:
    """The guide's code imports nothing of modelmig_core but its api (and the DSL)."""
    import ast

    for path in guide.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("modelmig_core"):
                assert node.module == "modelmig_core.api" or (
                    node.module == "modelmig_core" and {a.name for a in node.names} <= {"api", "Model", "column"}
                ), f"{path.name}: from {node.module} import ..."
            if isinstance(node, ast.Import):
                assert all(not a.name.startswith("modelmig_core.") for a in node.names), path.name


def test_the_guides_entry_points_install_the_driver(guide: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(guide), os.environ.get("PYTHONPATH", "")])}
    exe = str(Path(sys.executable).parent / "modelmig")
    listing = subprocess.run([exe, "drivers"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert "litesql  ok  (litesql-driver 1.0)  family sql  schemes litesql" in listing.stdout, listing.stderr
    # the guide's CI test, as a driver author runs it once the driver is installed
    code = (
        "import pathlib, sys, tempfile, litesql_driver; from modelmig_core import api; "
        "s = next(s for s in api.conformance_scenarios() if s.name == 'fixture_schema'); "
        "litesql_driver.test_conformance(s, pathlib.Path(tempfile.mkdtemp())); print('ok')"
    )
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert run.stdout.strip() == "ok", run.stderr[-2000:]

"""Plugins (custom column types through render_column, drivers from entry points)
and the speed rules: --help and a no-op migrate:run load no SQLAlchemy."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from modelmig_core.registry import Registry

MODELS = """
class Account(Model):
    table = "accounts"
    schema = {"id": column("increments"), "balance": column("money", default=0)}
"""

PLUGIN = """
import sqlalchemy as sa
from modelmig_core.hookspecs import hookimpl


@hookimpl
def column_types():
    return ["money"]


@hookimpl
def render_column(column, dialect):
    if column.type != "money":
        return None
    return sa.Column(column.name, sa.Numeric(14, 4), nullable=column.nullable, server_default=sa.text("0"))
"""


def test_custom_column_type_plugin(make_project) -> None:
    p = make_project(extra_config='plugins = ["moneytype"]')
    (p.root / "moneytype.py").write_text(PLUGIN)
    p.models(MODELS)
    p.ok("make:migration")
    p.ok("migrate:run")
    import sqlite3

    c = sqlite3.connect(p.root / "app.sqlite3")
    ddl = c.execute("SELECT sql FROM sqlite_master WHERE name = 'accounts'").fetchone()[0]
    c.close()
    assert "balance NUMERIC(14, 4) DEFAULT 0" in ddl


def test_unknown_custom_type_without_plugin(make_project) -> None:
    p = make_project()
    p.models(MODELS)
    result = p.run("make:migration")
    assert result.exit_code != 0 and "unknown column type 'money'" in result.output


def test_drivers_come_from_entry_points() -> None:
    registry = Registry()
    assert "sqlite" in registry.entry_points()
    driver = registry.driver("sqlite")
    assert driver.info.family == "sql" and driver.features.sql and driver.features.transactional_ddl
    assert registry.driver_for_scheme("sqlite").name == "sqlite"


PROBE = textwrap.dedent(
    """
    import json, sys
    import modelmig_core.history.migrations as migrations
    loaded = []
    real_load = migrations.load
    def spy(f):
        loaded.append(f.id)
        return real_load(f)
    migrations.load = spy
    import modelmig_core.history.replay as history
    history.load = spy
    from modelmig_core.cli import cli
    try:
        cli(sys.argv[1:], prog_name="modelmig")
    except SystemExit:
        pass
    mods = sorted(m for m in sys.modules if m.split(".")[0] in ("sqlalchemy", "modelmig_sqlite", "pymysql", "psycopg", "pymongo"))
    sys.stderr.write("PROBE " + json.dumps({"modules": mods, "loaded": loaded}) + "\\n")
    """
)


def probe(project, *args: str) -> dict[str, list[str]]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=project.root, capture_output=True, text=True, check=True
    )
    line = next(x for x in result.stderr.splitlines() if x.startswith("PROBE "))
    return json.loads(line[len("PROBE ") :])


def test_help_imports_no_driver_and_no_sqlalchemy(make_project) -> None:
    p = make_project()
    assert probe(p, "--help")["modules"] == []
    assert probe(p, "migrate:run", "--help")["modules"] == []


def test_nothing_pending_reads_only_the_ledger(make_project) -> None:
    p = make_project()
    p.models(MODELS.replace('column("money", default=0)', 'column("decimal", default=0)'))
    p.ok("make:migration")
    p.ok("migrate:run")
    for command in ("migrate:run", "migrate:status"):
        seen = probe(p, command)
        assert not [m for m in seen["modules"] if m.startswith("sqlalchemy")], seen
        assert seen["loaded"] == []  # no migration module imported
        assert "modelmig_sqlite.driver" in seen["modules"]


#: what the every-deploy path (nothing pending) must not load: the model DSL, the
#: operations, diff, make and replay machinery, the core's hook implementations,
#: the plugin manager (no plugin is configured), SQL text and DDL libraries, and
#: the e-mail parser importlib.metadata uses to read a distribution's METADATA
#: (the name of a driver's distribution is read only for an error message)
NOT_ON_THE_NOTHING_PENDING_PATH = (
    "modelmig_core.model.dsl",
    "modelmig_core.schema.operations",
    "modelmig_core.schema.diff",
    "modelmig_core.make",
    "modelmig_core.model.compile",
    "modelmig_core.history.replay",
    "modelmig_core.history.statecache",
    "modelmig_core.run.builtin",
    "modelmig_core.hookspecs",
    "pluggy",
    "sqlglot",
    "sqlalchemy",
    "email.parser",
    "importlib.metadata",  # the entry points come from modelmig's index (entry_index.py)
)


def test_nothing_pending_loads_no_operation_diff_or_hook_implementation(make_project) -> None:
    """The every-deploy path stays small: ``migrate:run`` and ``migrate:status`` with
    nothing pending load only the config, the ledger, the files' checksums and the
    driver: no operations, no diff, no core hook implementations, no sqlglot."""
    p = make_project()
    p.models(MODELS.replace('column("money", default=0)', 'column("decimal", default=0)'))
    p.ok("make:migration")
    p.ok("migrate:run")
    for command in ("migrate:run", "migrate:status"):
        code = (
            "import sys\nfrom modelmig_core.cli import cli\n"
            f"cli([{command!r}], prog_name='modelmig', standalone_mode=False)\n"
            f"heavy = {NOT_ON_THE_NOTHING_PENDING_PATH!r}\n"
            "print('LOADED', sorted(m for m in sys.modules if any(m == h or m.startswith(h + '.') for h in heavy)))\n"
        )
        # twice: the first run of a command indexes the entry points, as on any deploy but the first
        subprocess.run([sys.executable, "-c", code], cwd=p.root, capture_output=True, text=True)
        result = subprocess.run([sys.executable, "-c", code], cwd=p.root, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        assert ("nothing to migrate" if command == "migrate:run" else "applied") in result.stdout
        assert result.stdout.strip().splitlines()[-1] == "LOADED []", f"{command}: {result.stdout}{result.stderr}"


def test_the_model_dsl_is_importable_from_the_package_and_loaded_on_first_use() -> None:
    code = (
        "import sys, modelmig_core\n"
        "print('modelmig_core.model.dsl' in sys.modules)\n"
        "from modelmig_core import Model, check, column, foreign_key, index, relation, unique\n"
        "from modelmig_core.model import dsl as model\n"
        "print(all(a is b for a, b in zip((Model, check, column, foreign_key, index, relation, unique), "
        "(model.Model, model.check, model.column, model.foreign_key, model.index, model.relation, model.unique))))\n"
        "print(sorted(set(modelmig_core.__all__) - set(dir(modelmig_core))))\n"
        "try:\n    from modelmig_core import Modle\nexcept ImportError as exc:\n    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    lines = out.strip().splitlines()
    assert lines[:3] == ["False", "True", "[]"]
    assert lines[3].startswith("cannot import name 'Modle' from 'modelmig_core'")
